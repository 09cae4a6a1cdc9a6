/* SPDX-License-Identifier: MIT */
/*
 * xpages.c — the page allocator: blocks of whole pages for programs that manage
 * buffers themselves (lx_pages_alloc, lx_pages_alloc_exact and their frees).
 * Layer: beside alloc, on pages and large.
 *
 * Up to 512 pages a block is a run of the buddy allocator (arena_alloc_run) of
 * kind RUN_PAGES, from the calling thread's arena. A run of 2^k pages is a whole
 * buddy block, so it is aligned to its size, as the kernel's alloc_pages blocks
 * are; an exact run gives its unused tail back at once. Its descriptor keeps the
 * block address in `start`, its length in run_pages: the free functions check
 * both, and lx_free refuses RUN_PAGES runs (they are no malloc block).
 * Larger blocks are huge mappings (huge_alloc, page-aligned, exact length) put
 * on lx_pages_huge, whose mark (segment.owner) tells them from malloc's.
 * Any thread may free any block; the arena and large_owner locks do the rest.
 */
#include "xpages.h"

#include <errno.h>

#include "check.h"
#include "heap.h"
#include "init.h"
#include "lxmalloc.h"
#include "pages.h"
#include "report.h"
#include "segment.h"
#include "stats.h"

#define LX_PAGES_MAX_ORDER 30 /* 2^30 pages: 4 TiB, far above any mapping that succeeds */
#define LX_PAGES_RUN_MAX (LX_LARGE_MAX >> LX_PAGE_SHIFT)

struct large_owner lx_pages_huge;

LX_RARE static void *pages_alloc(size_t npages)
{
    struct heap *h = lx_tls_heap;
    if (h == &lx_empty_heap)
        h = lx_thread_init(NULL);
    if (h == NULL)
        return NULL;
    if (npages <= LX_PAGES_RUN_MAX) {
        struct page *pg = arena_alloc_run(h->arena, npages, RUN_PAGES);
        if (pg == NULL)
            return NULL;
        pg->start = page_address(page_segment(pg), pg);
        pg->block_size = (uint32_t)(npages << LX_PAGE_SHIFT);
        pg->local_key = 0;
        pg->used = 1;
        stats_large(NULL, pg->block_size, 1);
        return pg->start;
    }
    if (npages > (PTRDIFF_MAX >> LX_PAGE_SHIFT))
        return NULL;
    size_t size = npages << LX_PAGE_SHIFT;
    bool zeroed;
    void *p = huge_alloc_owned(&lx_pages_huge, size, LX_PAGE_SIZE, &zeroed);
    if (p == NULL)
        return NULL;
    struct segment *seg = segment_of(p);
    if (huge_usable(seg) != size) { /* a larger cached mapping: cut it to the length */
        void *q = huge_realloc(seg, size, true);
        if (q == NULL) {
            huge_free(seg);
            return NULL;
        }
        p = q;
    }
    return p;
}

LX_RARE static void pages_free(void *p, size_t npages, const char *func)
{
    if (p == NULL)
        return;
    char buf[96];
    const char *problem = "not a block of the page allocator (or already freed)";
    unsigned m = segmap_get((uintptr_t)p);
    if (m == SEGMAP_NORMAL) {
        struct page *pg = segment_page_of(segment_of(p), p);
        if (pg->kind == RUN_PAGES && pg->start == (uint8_t *)p) {
            if (pg->run_pages == npages) {
                stats_large(NULL, pg->block_size, 0);
                pg->start = NULL;
                pg->used = 0;
                arena_free_run(pg);
                return;
            }
            lx_format(buf, sizeof buf, "wrong size: the block has %u pages, not %zu",
                      (unsigned)pg->run_pages, npages);
            problem = buf;
        }
    } else if (m == SEGMAP_HUGE || m == SEGMAP_HUGE_TAIL) {
        struct segment *seg = segment_huge_containing(p);
        if (seg != NULL && segment_valid(seg) && !seg->huge_cached &&
            seg->owner == &lx_pages_huge && (uint8_t *)p == (uint8_t *)seg + seg->huge_offset) {
            size_t have = huge_usable(seg) >> LX_PAGE_SHIFT;
            if (have == npages) {
                huge_free(seg);
                return;
            }
            lx_format(buf, sizeof buf, "wrong size: the block has %zu pages, not %zu", have,
                      npages);
            problem = buf;
        }
    }
    check_bad_pointer(func, p, problem);
}

LX_RARE LX_EXPORT void *lx_pages_alloc(unsigned order)
{
    if (order > LX_PAGES_MAX_ORDER) {
        errno = EINVAL;
        return NULL;
    }
    void *p = pages_alloc((size_t)1 << order);
    if (p == NULL)
        errno = ENOMEM;
    return p;
}

LX_RARE LX_EXPORT void lx_pages_free(void *p, unsigned order)
{
    if (order > LX_PAGES_MAX_ORDER) {
        if (p != NULL)
            check_bad_pointer("lx_pages_free", p, "wrong size: order out of range");
        return;
    }
    pages_free(p, (size_t)1 << order, "lx_pages_free");
}

LX_RARE LX_EXPORT void *lx_pages_alloc_exact(size_t npages)
{
    if (npages == 0) {
        errno = EINVAL;
        return NULL;
    }
    void *p = pages_alloc(npages);
    if (p == NULL)
        errno = ENOMEM;
    return p;
}

LX_RARE LX_EXPORT void lx_pages_free_exact(void *p, size_t npages)
{
    pages_free(p, npages, "lx_pages_free_exact");
}
