/* Pages lxmalloc knows are not resident (struct segment's gone_map) are faulted
 * in with one call (os_populate) by whatever is about to write them, instead of
 * a page fault each:
 *  1. the map helpers: marks set over a range that crosses elements, the first
 *     marked page of a range found, the range cleared, other marks kept;
 *  2. a slab's free pages given back (malloc_trim makes them holes) are marked,
 *     and carving the first hole again populates that page alone and clears its
 *     mark;
 *  3. a slab with holes, emptied, waits in its heap's run cache as a whole run
 *     that counts as touched; a large block that calloc takes from it (and
 *     zeroes) populates exactly its pages that were given back, which the
 *     run's `touched` cannot tell. */
#include "lxt.h"
#include "options.h"
#include "os.h"
#include "segment.h"

#define SIZE 1024
#define PER_SLAB 64 /* blocks of 1 KiB in a 16-page slab: four to a page */
#define PAGES 16

static unsigned char *blocks[2 * PER_SLAB];

static uint64_t populated(void)
{
    return atomic_load(&lx_os_counters.populate_bytes);
}

static bool gone(struct segment *seg, size_t i)
{
    return (atomic_load(&seg->gone_map[i / 16]) >> (i % 16)) & 1;
}

static void helpers(void)
{
    /* A scratch header: only gone_map is used. */
    static struct segment s;
    seg_gone_set(&s, 13, 40);
    for (size_t i = 0; i < 64; i++)
        CHECK(gone(&s, i) == (i >= 13 && i < 40), "page %zu after set 13..39", i);
    CHECK(seg_gone_take(&s, 0, 13) == 13, "no mark below 13");
    CHECK(seg_gone_take(&s, 20, 35) == 20, "first mark of 20..34");
    for (size_t i = 0; i < 64; i++)
        CHECK(gone(&s, i) == ((i >= 13 && i < 20) || (i >= 35 && i < 40)), "page %zu after take",
              i);
    CHECK(seg_gone_take(&s, 16, 48) == 16, "first mark of 16..47");
    CHECK(seg_gone_take(&s, 0, 64) == 13, "first mark left");
    CHECK(seg_gone_take(&s, 0, 64) == 64, "nothing left");
}

/* b[0] starts a 16-page slab whose first page holds b[0..keep-1]: free
 * b[keep..n-1], none of which is on the first page, give the free pages back
 * (malloc_trim makes them holes) and check that exactly the other 15 are
 * marked. Returns the slab's first page index in *seg. */
static size_t keep_first_page(unsigned char **b, int keep, int n, struct segment **seg)
{
    uint8_t *slab = b[0];
    CHECK(((uintptr_t)slab & (PAGES * LX_PAGE_SIZE - 1)) == 0, "the slab starts a group");
    *seg = segment_of(slab);
    size_t base = segment_page_idx(*seg, slab);
    for (int i = keep; i < n; i++)
        lx_free(b[i]);
    lx_malloc_trim(0);
    for (size_t p = 0; p < PAGES; p++)
        CHECK(gone(*seg, base + p) == (p != 0), "page %zu after malloc_trim", p);
    return base;
}

/* Part 2: a slab of 2 KiB blocks (two to a page) keeps its first page's
 * blocks; the other pages are given back, and the next block is carved from
 * the first hole. Returns whether this kernel populates (5.14 and later). */
static bool hole_carved_again(void)
{
    enum { BIG_SIZE = 2048, N = 32 };
    static unsigned char *b[N];
    for (int i = 0; i < N; i++) {
        b[i] = lx_malloc(BIG_SIZE);
        CHECK(b[i] != NULL, "malloc %d", i);
    }
    uint8_t *slab = b[0];
    struct segment *seg;
    size_t base = keep_first_page(b, 2, N, &seg);
    uint64_t b0 = populated();
    unsigned char *again = lx_malloc(BIG_SIZE);
    CHECK(again == slab + LX_PAGE_SIZE, "the next block %p is not page 1 of the slab at %p",
          (void *)again, (void *)slab);
    uint64_t pop = populated() - b0;
    CHECK(pop == LX_PAGE_SIZE || pop == 0, "%llu bytes populated for one hole",
          (unsigned long long)pop);
    CHECK(!gone(seg, base + 1) && gone(seg, base + 2), "marks after the hole was carved");
    memset(again, 0xab, BIG_SIZE);
    lx_free(again);
    lx_free(b[0]);
    lx_free(b[1]);
    return pop != 0;
}

int main(void)
{
    lx_opt.medium = 0; /* the sizes here are the slabs' (medium.c takes them otherwise) */
    helpers();
    bool populating = hole_carved_again();

    /* Two slabs of the class: blocks 0-63 (the first), 64-127 (the second,
     * which the class allocates from next). */
    for (int i = 0; i < 2 * PER_SLAB; i++) {
        blocks[i] = lx_malloc(SIZE);
        CHECK(blocks[i] != NULL, "malloc %d", i);
        memset(blocks[i], i, SIZE);
    }
    uint8_t *slab = blocks[0];
    for (int i = 1; i < PER_SLAB; i++)
        CHECK(blocks[i] == slab + (size_t)i * SIZE, "block %d in address order", i);

    /* Keep the first page's blocks; the other 15 pages hold no live block, and
     * malloc_trim gives them back as holes. */
    struct segment *seg;
    size_t base = keep_first_page(blocks, 4, PER_SLAB, &seg);

    /* Empty the first slab: it is not the one its class allocates from, so it
     * goes whole into the heap's run cache, its pages 1-15 still given back. */
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < SIZE; k++)
            CHECK(blocks[i][k] == (unsigned char)i, "survivor %d byte %d", i, k);
        lx_free(blocks[i]);
    }

    /* A large block of 15 pages takes a cached run of 16 (a whole group): this
     * one. calloc zeroes it: page 0 is resident, 1-14 are populated first in
     * one call. */
    uint64_t b0 = populated();
    uint64_t c0 = atomic_load(&lx_os_counters.populate_count);
    unsigned char *big = lx_calloc(1, 15 * LX_PAGE_SIZE - 64);
    CHECK(big == slab, "the large block %p did not take the cached run %p", (void *)big,
          (void *)slab);
    uint64_t pop = populated() - b0;
    if (populating) {
        CHECK(pop == 14 * LX_PAGE_SIZE, "%llu bytes populated for the large block",
              (unsigned long long)pop);
        CHECK(atomic_load(&lx_os_counters.populate_count) - c0 == 1, "one call");
    }
    for (size_t p = 0; p < 15; p++)
        CHECK(!gone(seg, base + p), "page %zu still marked under the large block", p);
    for (size_t i = 0; i < 15 * LX_PAGE_SIZE - 64; i++)
        CHECK(big[i] == 0, "byte %zu of the calloc block is %#x", i, big[i]);
    memset(big, 0x5a, 15 * LX_PAGE_SIZE - 64);
    lx_free(big);
    for (int i = PER_SLAB; i < 2 * PER_SLAB; i++)
        lx_free(blocks[i]);
    printf("gone_pages: ok (%s)\n", populating ? "populated" : "no MADV_POPULATE_WRITE");
    return 0;
}
