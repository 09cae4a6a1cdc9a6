/* SPDX-License-Identifier: MIT */
/*
 * large.c — large runs and huge blocks. Layer: beside heap, above pages and
 * segment. A large run is one block: its descriptor's start is the block and
 * block_size its usable length, so free needs no header. A huge block is a
 * segment-aligned mapping whose first page is its header (struct segment); the
 * block starts at huge_offset (a page, or the requested alignment), so the
 * header never sits right before user data on the same page.
 */
#include "large.h"

#include "config.h"
#include "pages.h"
#include "segment.h"
#include "stats.h"

void *large_alloc(struct arena *a, size_t size, size_t alignment)
{
    size_t extra = alignment > LX_PAGE_SIZE ? alignment - LX_PAGE_SIZE : 0;
    size_t npages = (size + extra + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    struct page *pg = arena_alloc_run(a, npages, RUN_LARGE);
    if (pg == NULL)
        return NULL;
    struct segment *seg = page_segment(pg);
    uint8_t *run = page_address(seg, pg);
    uintptr_t user = ((uintptr_t)run + alignment - 1) & ~(uintptr_t)(alignment - 1);
    pg->start = (uint8_t *)user;
    pg->block_size = (uint32_t)((uintptr_t)run + (npages << LX_PAGE_SHIFT) - user);
    pg->local_key = 0;
    pg->used = 1;
    stats_large((int64_t)pg->block_size, 1);
    return (void *)user;
}

void large_free(struct page *pg)
{
    stats_large((int64_t)pg->block_size, 0);
    pg->used = 0;
    pg->start = NULL;
    arena_free_run(pg);
}

void *huge_alloc(size_t size, size_t alignment)
{
    size_t offset = alignment > LX_HUGE_HEADER ? alignment : LX_HUGE_HEADER;
    if (size > SIZE_MAX / 2 - offset - LX_SEGMENT_SIZE)
        return NULL;
    size_t map_size = (offset + size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    size_t map_align = alignment > LX_SEGMENT_SIZE ? alignment : LX_SEGMENT_SIZE;
    struct segment *seg = segment_create_huge(map_size, map_align);
    if (seg == NULL)
        return NULL;
    seg->huge_offset = offset;
    stats_huge((int64_t)huge_usable(seg), (int64_t)map_size, 1);
    return (uint8_t *)seg + offset;
}

void huge_free(struct segment *seg)
{
    stats_huge((int64_t)huge_usable(seg), (int64_t)seg->huge_map_size, 0);
    segment_destroy_huge(seg);
}

void *huge_realloc(struct segment *seg, size_t size)
{
    size_t offset = seg->huge_offset;
    if (size > SIZE_MAX / 2 - offset - LX_SEGMENT_SIZE)
        return NULL;
    size_t old_map = seg->huge_map_size;
    size_t old_usable = huge_usable(seg);
    size_t map_size = (offset + size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    struct segment *moved = segment_resize_huge(seg, map_size);
    if (moved == NULL)
        return NULL;
    stats_huge_resize((int64_t)huge_usable(moved) - (int64_t)old_usable,
                      (int64_t)map_size - (int64_t)old_map);
    return (uint8_t *)moved + offset;
}
