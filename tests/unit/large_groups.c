/* Large blocks take runs of whole 16-page groups (large.c).
 *
 * Blocks of 9-60 pages (awkward lengths, never a power of two) are allocated,
 * freed at random, shrunk and grown by realloc, for many rounds. Then:
 *  1. every block's usable size is its size rounded up to a page, and it keeps
 *     its contents through the churn;
 *  2. no descriptor past the group heads (the first 64 slots, segment.h) was
 *     ever written: the spread descriptor pages of every segment used stay
 *     untouched. With exact runs, each free fragment of 1-8 pages cut off a run
 *     wrote its descriptor on one of them;
 *  3. the pages of a fresh run past its block are never touched: a 9-page block,
 *     written whole, leaves pages 9-15 of its run non-resident;
 *  4. the heap checks clean. */
#include <sys/mman.h>

#include "lxt.h"
#include "lxt_desc.h"
#include "os.h"
#include "segment.h"

#define SLOTS 64
#define ROUNDS 4000
#define PAGE ((size_t)LX_PAGE_SIZE)

static unsigned char *blk[SLOTS];
static size_t len[SLOTS];
static size_t usable_was[SLOTS]; /* 0: the usable size is the length in pages */

static size_t awkward_size(lxt_rng *r)
{
    size_t pages = lxt_range(r, 9, 60);
    if ((pages & (pages - 1)) == 0)
        pages++;
    return pages * PAGE - lxt_range(r, 0, PAGE - 1);
}

static void fill(size_t i)
{
    for (size_t k = 0; k < len[i]; k += 256)
        blk[i][k] = (unsigned char)(i + k / 256);
}

/* A block realloc resized in place has the new length in pages as its usable
 * size, or keeps the one it had: a shrink that gives no pages back to the arena
 * (large_shrink), or a new size within the usable one, changes nothing. */
static void check_block(size_t i)
{
    size_t usable = lx_malloc_usable_size(blk[i]);
    size_t pages = (len[i] + PAGE - 1) & ~(PAGE - 1);
    CHECK(usable == pages || usable == usable_was[i], "block of %zu bytes has %zu usable", len[i],
          usable);
    for (size_t k = 0; k < len[i]; k += 256)
        CHECK(blk[i][k] == (unsigned char)(i + k / 256), "block %zu byte %zu changed", i, k);
}

int main(void)
{
    lxt_rng r = {11};

    /* 3. A fresh 9-page block, written whole: the rest of its run stays untouched. */
    unsigned char *nine = lx_malloc(9 * PAGE);
    CHECK(nine != NULL, "malloc 9 pages");
    CHECK(lx_malloc_usable_size(nine) == 9 * PAGE, "9-page block has %zu usable",
          lx_malloc_usable_size(nine));
    memset(nine, 7, 9 * PAGE);
    unsigned char vec[7];
    CHECK(mincore(nine + 9 * PAGE, 7 * PAGE, vec) == 0, "mincore past the block");
    for (int k = 0; k < 7; k++)
        CHECK((vec[k] & 1) == 0, "page %d of the 9-page block's run is resident", 9 + k);
    /* Growing within the run keeps the block where it is. */
    unsigned char *grown = lx_realloc(nine, 15 * PAGE);
    CHECK(grown == nine, "9 -> 15 pages moved the block");
    CHECK(lx_malloc_usable_size(grown) == 15 * PAGE, "15-page block has %zu usable",
          lx_malloc_usable_size(grown));
    CHECK(grown[9 * PAGE - 1] == 7, "9 -> 15 pages lost the contents");

    /* 1, 2. Churn of awkward lengths. */
    for (size_t round = 0; round < ROUNDS; round++) {
        size_t i = lxt_range(&r, 0, SLOTS - 1);
        if (blk[i] == NULL) {
            len[i] = awkward_size(&r);
            blk[i] = lx_malloc(len[i]);
            usable_was[i] = 0;
            CHECK(blk[i] != NULL, "malloc %zu", len[i]);
            fill(i);
        } else if (lxt_range(&r, 0, 3) == 0) {
            /* Resize: the contents up to the smaller size stay. */
            size_t n = awkward_size(&r);
            size_t before = lx_malloc_usable_size(blk[i]);
            unsigned char *q = lx_realloc(blk[i], n);
            CHECK(q != NULL, "realloc to %zu", n);
            usable_was[i] = q == blk[i] ? before : 0;
            blk[i] = q;
            if (n < len[i]) {
                len[i] = n;
                check_block(i);
            } else {
                size_t was = len[i];
                len[i] = n;
                for (size_t k = 0; k < was; k += 256)
                    CHECK(q[k] == (unsigned char)(i + k / 256), "block %zu byte %zu changed", i,
                          k);
                fill(i);
            }
        } else {
            check_block(i);
            lx_free(blk[i]);
            blk[i] = NULL;
        }
    }
    /* Every segment a block lies in, once. */
    struct segment *segs[SLOTS + 1];
    size_t nsegs = 0, spread = 0;
    segs[nsegs++] = segment_of(grown);
    for (size_t i = 0; i < SLOTS; i++) {
        if (blk[i] == NULL)
            continue;
        check_block(i);
        struct segment *seg = segment_of(blk[i]);
        size_t k = 0;
        while (k < nsegs && segs[k] != seg)
            k++;
        if (k == nsegs)
            segs[nsegs++] = seg;
    }
    for (size_t k = 0; k < nsegs; k++)
        spread += lxt_spread_descriptor_pages(segs[k]);
    printf("large_groups: %zu segments, %zu spread descriptor pages resident\n", nsegs, spread);
    CHECK(spread == 0, "%zu descriptor pages past the group heads are resident", spread);
    /* (The checker reads descriptors, which maps their pages: after the count.) */
    CHECK(lx_heap_check() == 0, "heap inconsistent after the churn");
    for (size_t i = 0; i < SLOTS; i++)
        lx_free(blk[i]);
    lx_free(grown);
    CHECK(lx_heap_check() == 0, "heap inconsistent at the end");
    printf("large_groups: ok\n");
    return 0;
}
