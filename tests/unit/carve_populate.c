/* Unit test of carving from untouched pages: every carve faults its new pages
 * in with one call (os_populate) instead of a page fault each. A class's first
 * slab carves a page's worth of blocks at a time and populates only that page,
 * never ahead (a class of a few blocks would leave the pages unused); once the
 * class needs a second slab of never-touched pages, its carves grow up to
 * LX_CARVE_MAX, and every block handed out is still a distinct, writable block
 * of the slab. Only the pages the carve writes links on are populated: of a
 * block longer than a page, its first; the rest stays out of memory until the
 * program writes it. */
#include <string.h>
#include <sys/mman.h>

#include "lxt.h"
#include "config.h"
#include "options.h"
#include "os.h"

#define SIZE 1024
#define PER_SLAB 64 /* blocks of 1 KiB in a 64 KiB slab */

static void *blocks[2 * PER_SLAB];

static uint64_t populates(void)
{
    return atomic_load(&lx_os_counters.populate_count);
}

static uint64_t populated(void)
{
    return atomic_load(&lx_os_counters.populate_bytes);
}

int main(void)
{
    lx_opt.medium = 0; /* the sizes here are the slabs' (medium.c takes them otherwise) */
    uint64_t p0 = populates(), b0 = populated();
    for (int i = 0; i < PER_SLAB; i++) {
        blocks[i] = lx_malloc(SIZE);
        CHECK(blocks[i] != NULL, "malloc %d", i);
        /* Blocks 0-3 are the first page, 4-7 the second, ...: a carve (and a
         * call) at every fourth, a page each, none ahead of the blocks. A
         * kernel without MADV_POPULATE_WRITE (before 5.14) refuses the first
         * call, and no other is made. */
        uint64_t calls = populates() - p0;
        CHECK(calls == (uint64_t)i / 4 + 1 || calls == 1, "block %d: %llu populate calls", i,
              (unsigned long long)calls);
        CHECK(populated() - b0 == calls * LX_PAGE_SIZE, "block %d: %llu bytes populated", i,
              (unsigned long long)(populated() - b0));
    }
    uint64_t first = populates() - p0;
    p0 = populates();

    /* The second slab, from pages never touched: its carves after the first
     * fault their pages in ahead. */
    blocks[PER_SLAB] = lx_malloc(SIZE);
    CHECK(blocks[PER_SLAB] != NULL, "malloc");
    uintptr_t base = (uintptr_t)blocks[PER_SLAB];
    for (int i = PER_SLAB + 1; i < 2 * PER_SLAB; i++) {
        blocks[i] = lx_malloc(SIZE);
        CHECK(blocks[i] != NULL, "malloc %d", i);
    }
    uint64_t calls = populates() - p0;
    /* 64 KiB carved as 4 + 4 + 8 + 16 + 16 + 16 KiB: six calls (none after a
     * refusal). */
    CHECK(calls == 6 || (first == 1 && calls == 0), "%llu populate calls for the second slab",
          (unsigned long long)calls);

    /* Every block distinct, in its slab, and writable. */
    for (int i = 0; i < 2 * PER_SLAB; i++) {
        memset(blocks[i], i, SIZE);
        if (i >= PER_SLAB) {
            uintptr_t a = (uintptr_t)blocks[i];
            CHECK(a - (base & ~(uintptr_t)(LX_SLAB_MIN_PAGES * LX_PAGE_SIZE - 1)) <
                      LX_SLAB_MIN_PAGES * LX_PAGE_SIZE,
                  "block %d outside the second slab", i);
        }
    }
    for (int i = 0; i < 2 * PER_SLAB; i++) {
        CHECK(((unsigned char *)blocks[i])[SIZE - 1] == (unsigned char)i, "block %d overwritten", i);
        lx_free(blocks[i]);
    }
    /* A 12 KiB block of a class's first slab: its first page only. */
    uint64_t b1 = populated();
    unsigned char *big = lx_malloc(3 * LX_PAGE_SIZE);
    CHECK(big != NULL && ((uintptr_t)big & (LX_PAGE_SIZE - 1)) == 0, "12 KiB block");
    uint64_t pop = populated() - b1;
    CHECK(pop == LX_PAGE_SIZE || (first == 1 && pop == 0), "%llu bytes populated for a 12 KiB block",
          (unsigned long long)pop);
    unsigned char vec[3];
    CHECK(mincore(big, 3 * LX_PAGE_SIZE, vec) == 0, "mincore");
    CHECK((vec[1] & 1) == 0 && (vec[2] & 1) == 0, "the block's last pages are resident");
    memset(big, 7, 3 * LX_PAGE_SIZE);
    lx_free(big);
    printf("carve_populate: ok (%llu populate calls)\n", (unsigned long long)calls);
    return 0;
}
