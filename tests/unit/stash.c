/* Unit test of the stash: a thread's free of a block whose slab is full keeps
 * the block for the class's next malloc instead of taking the slab off the
 * full list (heap.c). A cache or pool that replaces random entries of a full
 * heap then frees and reuses the same few blocks: malloc must return the block
 * just freed, the slab must stay marked full, no new memory may be mapped,
 * and a trim must give the stashed blocks back to their slabs. */
#include "lxt.h"
#include "config.h"
#include "heap.h"
#include "segment.h"

#define SIZE 64
#define MIB 16
#define MAX ((MIB << 20) / SIZE + 4096)
#define ROUNDS 200000

static void *blocks[MAX];
static unsigned count;

static struct page *slab_of(const void *p)
{
    return segment_page_of(segment_of(p), p);
}

int main(void)
{
    /* 16 MiB of blocks, then on until the last block's slab has every block
     * handed out: no slab of the class has a free block left. */
    do {
        CHECK(count < MAX, "the slab of the class never filled");
        void *p = lx_malloc(SIZE);
        CHECK(p != NULL, "malloc %u", count);
        memset(p, (int)(count & 0xff), SIZE);
        blocks[count++] = p;
    } while (count < (MIB << 20) / SIZE ||
             slab_of(blocks[count - 1])->used < slab_of(blocks[count - 1])->reserved);
    lx_stats_t before;
    lx_stats_get(&before);

    /* Free the first block: its slab is full, and stays marked so. */
    struct heap *h = (struct heap *)(slab_of(blocks[0])->local_key & ~LX_KEY_FLAGS);
    void *first = blocks[0];
    unsigned cls = slab_of(first)->class_idx;
    lx_free(first);
    CHECK(heap_stash_contains(h, cls, first), "the free of a full slab's block was not stashed");
    CHECK((slab_of(first)->local_key & LX_KEY_FULL) != 0, "the slab was taken off the full list");
    CHECK(lx_heap_check() == 0, "heap check with a stashed block");
    blocks[0] = lx_malloc(SIZE);
    memset(blocks[0], 0, SIZE);


    CHECK(blocks[0] == first, "malloc did not return the stashed block");

    /* Replace random entries: each malloc returns the block freed just before. */
    lxt_rng rng = {11};
    unsigned reused = 0;
    for (unsigned r = 0; r < ROUNDS; r++) {
        unsigned i = (unsigned)lxt_range(&rng, 0, count - 1);
        uint8_t *old = blocks[i];
        CHECK(old[0] == old[SIZE - 1], "block %u changed while live", i);
        lx_free(old);
        blocks[i] = lx_malloc(SIZE);
        CHECK(blocks[i] != NULL, "malloc in round %u", r);
        memset(blocks[i], (int)(r & 0xff), SIZE);
        reused += blocks[i] == old;
    }
    CHECK(reused == ROUNDS, "only %u of %u mallocs reused the block just freed", reused, ROUNDS);
    lx_stats_t after;
    lx_stats_get(&after);
    CHECK(after.segment_count <= before.segment_count, "segments grew from %llu to %llu",
          (unsigned long long)before.segment_count, (unsigned long long)after.segment_count);
    CHECK(lx_heap_check() == 0, "heap check after the rounds");

    /* A trim gives stashed blocks back: freeing everything empties every slab. */
    lx_free(blocks[0]);
    for (unsigned i = 1; i < count; i++)
        lx_free(blocks[i]);
    lx_malloc_trim(0);
    CHECK(!heap_stash_contains(h, cls, first), "the trim left a block in the stash");
    lx_stats_t end;
    lx_stats_get(&end);
    CHECK(end.live_bytes < 4096, "live bytes %llu after freeing everything",
          (unsigned long long)end.live_bytes);
    CHECK(end.segment_count <= 2, "%llu segments kept after freeing everything and a trim",
          (unsigned long long)end.segment_count);
    CHECK(lx_heap_check() == 0, "heap check after the trim");
    printf("stash: ok (%u blocks, %u replacements)\n", count, ROUNDS);
    return 0;
}
