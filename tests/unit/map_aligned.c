/* Segments lie side by side (segment.c: seg_map; os.c: os_map_aligned).
 *
 * free() finds a block's segment through a per-thread cache of 64 slots
 * indexed by segment number (the address / 4 MiB; segment.h). Segments must
 * therefore get consecutive numbers, not every other one: 48 segments mapped
 * in a row must fall in (nearly) 48 different slots. A mapping that always
 * reserved `size + alignment` bytes and cut the ends off left 4 MiB unmapped
 * beside each segment, a gap no later reservation fitted, so the segments lay
 * 8 MiB apart and used half the slots: 40 segments of frag made 389,000 of its
 * 6.7 million frees take the slow path, each evicting another segment's slot.
 *
 * Then 300 times one of them, picked at random, is unmapped and a new one
 * mapped: the new one takes the gap (the kernel alone would not: it wants room
 * to align a mapping of 2 MiB or more to a huge page), and the segment numbers
 * stay within the 48 slots' span. Every segment must be aligned and writable. */
#include "lxt.h"
#include "segment.h"

#define LIVE 48
#define ROUNDS 300

static struct segment *live[LIVE];

static unsigned distinct_slots(void)
{
    bool used[LX_SEG_SEEN] = {false};
    unsigned n = 0;
    for (int k = 0; k < LIVE; k++) {
        unsigned slot = (unsigned)((uintptr_t)live[k] >> LX_SEGMENT_SHIFT) & (LX_SEG_SEEN - 1);
        n += !used[slot];
        used[slot] = true;
    }
    return n;
}

static struct segment *map_one(int round)
{
    const size_t size = LX_SEGMENT_SIZE;
    struct segment *seg = segment_create(NULL);
    CHECK(seg != NULL, "segment_create failed at round %d", round);
    CHECK(((uintptr_t)seg & (size - 1)) == 0, "%p is not aligned to %zu", (void *)seg, size);
    uint8_t *last = (uint8_t *)seg + size - 1;
    *last = 2;
    CHECK(segment_of(last) == seg, "the segment map does not know segment %p", (void *)seg);
    return seg;
}

int main(void)
{
    lx_free(lx_malloc(1)); /* start-up: the segment map */
    for (int k = 0; k < LIVE; k++)
        live[k] = map_one(-1);
    unsigned first = distinct_slots();
    CHECK(first >= LIVE - 4, "%d segments mapped in a row use only %u of the %d cache slots",
          LIVE, first, LX_SEG_SEEN);

    lxt_rng rng = {7};
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int k = (int)lxt_range(&rng, 0, LIVE - 1);
        segment_destroy(live[k]);
        live[k] = map_one(round);
        uintptr_t n = (uintptr_t)live[k] >> LX_SEGMENT_SHIFT;
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
    }
    unsigned after = distinct_slots();
    uintptr_t span = hi - lo + 1;
    CHECK(after >= LIVE - 4, "after %d rounds the segments use only %u slots", ROUNDS, after);
    CHECK(span <= LIVE + 8, "the remapped segments spread over %lu segment numbers",
          (unsigned long)span);
    for (int k = 0; k < LIVE; k++)
        segment_destroy(live[k]);
    printf("map_aligned: ok (%u then %u slots for %d segments; remapped over %lu numbers)\n",
           first, after, LIVE, (unsigned long)span);
    return 0;
}
