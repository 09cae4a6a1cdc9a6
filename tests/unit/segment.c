/* Unit test of segment lookup: the segment map says which 4 MiB chunks are
 * ours, masking finds the header, head[] finds the run, and a pointer anywhere
 * inside a huge block finds its mapping; freed huge blocks leave the map once
 * the cache of freed huge blocks is trimmed. */
#include "lxt.h"
#include "init.h"
#include "segment.h"

static int global_object;

int main(void)
{
    int local = 0;
    void *small = lx_malloc(100);
    void *large = lx_malloc(100000);
    size_t huge_size = (size_t)9 << 20;
    uint8_t *huge = lx_malloc(huge_size);
    CHECK(small && large && huge, "allocations");

    CHECK(segmap_get((uintptr_t)small) == SEGMAP_NORMAL, "small block not in a normal segment");
    CHECK(segmap_get((uintptr_t)large) == SEGMAP_NORMAL, "large block not in a normal segment");
    struct segment *seg = segment_of(small);
    CHECK(segment_valid(seg) && seg->kind == SEGMENT_NORMAL, "small block's segment header");
    struct page *pg = segment_page_of(seg, small);
    CHECK(pg->kind == RUN_SLAB && pg->block_size >= 100, "small block's run");
    struct page *lp = segment_page_of(segment_of(large), (uint8_t *)large + 50000);
    CHECK(lp->kind == RUN_LARGE && lp->start == large, "interior page of a large run -> head");

    CHECK(segmap_get((uintptr_t)huge) == SEGMAP_HUGE, "huge block's first chunk");
    CHECK(segmap_get((uintptr_t)huge + (5u << 20)) == SEGMAP_HUGE_TAIL, "huge block's tail");
    struct segment *hs = segment_huge_containing(huge + huge_size - 1);
    CHECK(hs != NULL && segment_valid(hs) && hs->kind == SEGMENT_HUGE, "huge header from its end");
    CHECK((uint8_t *)hs + hs->huge_offset == huge, "huge header's offset");

    CHECK(segmap_get((uintptr_t)&local) == SEGMAP_NONE, "stack address looks ours");
    CHECK(segmap_get((uintptr_t)&global_object) == SEGMAP_NONE, "global looks ours");
    CHECK(segmap_get(UINTPTR_MAX - 4095) == SEGMAP_NONE, "address above the map looks ours");
    CHECK(segmap_get(0) == SEGMAP_NONE, "NULL looks ours");

    lx_free(huge);
    /* A freed huge block stays mapped in the cache, marked, until trimmed. */
    struct segment *cached = segment_huge_containing(huge);
    CHECK(cached == NULL || cached->huge_cached == 1, "freed huge block not marked cached");
    lx_malloc_trim(0);
    CHECK(segmap_get((uintptr_t)huge) == SEGMAP_NONE, "trimmed huge block still mapped");
    CHECK(segmap_get((uintptr_t)huge + (5u << 20)) == SEGMAP_NONE, "freed huge tail still ours");
    lx_free(large);
    lx_free(small);
    CHECK(lx_heap_check() == 0, "heap check");
    printf("segment: ok\n");
    return 0;
}
