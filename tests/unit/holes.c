/* Slabs pinned by a few survivors give their free pages back (holes, slab.c).
 *
 * 48 MiB of 256-byte blocks are allocated, then all but one in 32 are freed at
 * random: the slabs stay (each keeps survivors), but most of their pages hold
 * no live block. Then:
 *  1. the program grows in another size class; the heap's sweeps must give back
 *     the free pages of the pinned slabs, so RSS ends well below the sum of the
 *     two (without holes it is that sum);
 *  2. the survivors keep their contents, and allocating the first class again
 *     (which carves the holes anew) hands out blocks that hold data;
 *  3. the same pattern again, then malloc_trim(0): RSS must fall at once.
 * The heap must check clean throughout. And marking the holes touches no page
 * descriptor past the heads of the 16-page groups (the marks live in the segment
 * header): the descriptor pages beyond the first 8 KiB stay untouched. */
#include <sys/mman.h>

#include "lxt.h"
#include "lxt_desc.h"
#include "options.h"
#include "os.h"
#include "segment.h"

#define SMALL 256
#define SMALL_BYTES ((size_t)48 << 20)
#define COUNT (SMALL_BYTES / SMALL)
#define KEEP 32 /* one survivor in KEEP */
#define BIG 3072
#define BIG_BYTES ((size_t)48 << 20)

static unsigned char *small[COUNT];
static unsigned char *big[BIG_BYTES / BIG];

/* Fill the small class, then free all but one block in KEEP, at random. */
static void pin_slabs(lxt_rng *r)
{
    for (size_t i = 0; i < COUNT; i++) {
        small[i] = lx_malloc(SMALL);
        CHECK(small[i] != NULL, "malloc");
        memset(small[i], (int)(i & 0xff), SMALL);
    }
    for (size_t i = 0; i < COUNT; i++) {
        if (lxt_range(r, 0, KEEP - 1) != 0) {
            lx_free(small[i]);
            small[i] = NULL;
        }
    }
}

static void check_survivors(void)
{
    for (size_t i = 0; i < COUNT; i++) {
        if (small[i] == NULL)
            continue;
        for (size_t k = 0; k < SMALL; k++)
            CHECK(small[i][k] == (unsigned char)(i & 0xff), "survivor %zu byte %zu changed", i, k);
    }
}

static void free_all(void)
{
    for (size_t i = 0; i < COUNT; i++) {
        lx_free(small[i]);
        small[i] = NULL;
    }
    for (size_t i = 0; i < BIG_BYTES / BIG; i++) {
        lx_free(big[i]);
        big[i] = NULL;
    }
}

int main(void)
{
    lx_opt.medium = 0; /* the sizes here are the slabs' (medium.c takes them otherwise) */
    lxt_rng r = {7};
    size_t base = lxt_rss_bytes();
    uint64_t madv0 = atomic_load(&lx_os_counters.madvise_count);
    lx_stats_t st0, st1;
    lx_stats_get(&st0);

    /* 1. Growth in another class sweeps the pinned slabs. */
    pin_slabs(&r);
    size_t pinned = lxt_rss_bytes() - base;
    for (size_t i = 0; i < BIG_BYTES / BIG; i++) {
        big[i] = lx_malloc(BIG);
        CHECK(big[i] != NULL, "malloc");
        memset(big[i], 3, BIG);
    }
    size_t grown = lxt_rss_bytes() - base;
    uint64_t madv = atomic_load(&lx_os_counters.madvise_count) - madv0;
    printf("holes: pinned slabs %zu MiB, after 48 MiB more %zu MiB, %llu madvise calls\n",
           pinned >> 20, grown >> 20, (unsigned long long)madv);
    CHECK(pinned >= SMALL_BYTES * 9 / 10, "the pinned slabs hold only %zu MiB", pinned >> 20);
    /* Without holes: pinned + 48 MiB. With them, about 40% of the pinned pages
     * are free at one survivor in 32 (16 blocks a page: (31/32)^16 = 60% stay). */
    CHECK(grown < pinned + BIG_BYTES + BIG_BYTES / 100 - pinned / 4,
          "RSS %zu MiB: the free pages of the pinned slabs were not given back", grown >> 20);
    lx_stats_get(&st1);
    CHECK(st1.purged_bytes - st0.purged_bytes >= pinned / 4,
          "purged_bytes grew by %llu only", st1.purged_bytes - st0.purged_bytes);
    CHECK(lx_heap_check() == 0, "heap check after purging");
    for (size_t i = 0; i < COUNT; i += COUNT / 64) {
        size_t j = i;
        while (small[j] == NULL)
            j++;
        size_t n = lxt_spread_descriptor_pages(segment_of(small[j]));
        CHECK(n == 0, "%zu descriptor pages past the group heads are resident", n);
    }

    /* 2. Survivors intact; the holes are carved again and hold data. */
    check_survivors();
    for (size_t i = 0; i < COUNT; i++) {
        if (small[i] != NULL)
            continue;
        small[i] = lx_malloc(SMALL);
        CHECK(small[i] != NULL, "malloc");
        memset(small[i], (int)(i & 0xff), SMALL);
    }
    check_survivors();
    CHECK(lx_heap_check() == 0, "heap check after refilling the holes");
    free_all();

    /* 3. malloc_trim gives the free pages of pinned slabs back at once. */
    CHECK(lx_malloc_trim(0) == 1, "malloc_trim released nothing");
    base = lxt_rss_bytes();
    pin_slabs(&r);
    pinned = lxt_rss_bytes();
    lx_malloc_trim(0);
    size_t trimmed = lxt_rss_bytes();
    printf("holes: pinned %zu MiB, after malloc_trim %zu MiB\n", (pinned - base) >> 20,
           (trimmed - base) >> 20);
    CHECK(trimmed + (pinned - base) / 4 < pinned, "malloc_trim left RSS at %zu of %zu MiB",
          trimmed >> 20, pinned >> 20);
    check_survivors();
    CHECK(lx_heap_check() == 0, "heap check after malloc_trim");
    free_all();
    return 0;
}
