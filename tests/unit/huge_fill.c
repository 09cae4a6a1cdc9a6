/* Unit test of growing a huge block into the pages of the huge cache: a block
 * that grows past its mapping while a freed mapping sits in the cache takes that
 * mapping's pages (moved, resident) for its new end instead of fresh ones, so
 * writing the new end faults no page in; what is left of the cached mapping stays
 * a valid huge mapping, and the segment map follows both. */
#include <sys/resource.h>

#include "lxt.h"
#include "segment.h"

#define MIB ((size_t)1 << 20)

static long minor_faults(void)
{
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage");
    return ru.ru_minflt;
}

int main(void)
{
    /* A block to grow, and a bigger one freed into the cache, both written. */
    uint8_t *grow = lx_malloc(2 * MIB);
    uint8_t *gone = lx_malloc(3 * MIB);
    CHECK(grow != NULL && gone != NULL, "allocations");
    memset(grow, 0x5a, 2 * MIB);
    memset(gone, 0xa5, 3 * MIB);
    struct segment *cs = segment_huge_containing(gone);
    CHECK(cs != NULL && segment_valid(cs), "huge header of the block to free");
    size_t cached_size = cs->huge_map_size;
    lx_free(gone);
    CHECK(cs->huge_cached == 1, "freed huge block not cached");

    /* 4 MiB: more than the cached mapping holds, so no copy into it; the block
     * grows (in place or moved) and its new 2 MiB come from the cached pages. */
    long before = minor_faults();
    uint8_t *grown = lx_realloc(grow, 4 * MIB);
    CHECK(grown != NULL, "realloc to 4 MiB");
    for (size_t i = 0; i < 2 * MIB; i += 4096)
        CHECK(grown[i] == 0x5a && grown[i + 4095] == 0x5a, "byte %zu lost by the move", i);
    memset(grown + 2 * MIB, 0x33, 2 * MIB);
    long faults = minor_faults() - before;
    /* Fresh pages would fault 512 times (4 KiB pages); moved ones not at all.
     * Allow for the odd fault of the test's own pages. */
    CHECK(faults < 64, "growing faulted in %ld pages: the cached pages were not used", faults);

    /* The cached mapping gave its last 2 MiB and stays cached, smaller. */
    CHECK(segment_valid(cs) && cs->huge_cached == 1, "cached mapping's header after the move");
    CHECK(cs->huge_map_size == cached_size - 2 * MIB, "cached mapping is %zu bytes, not %zu",
          cs->huge_map_size, cached_size - 2 * MIB);
    CHECK(segmap_get((uintptr_t)cs) == SEGMAP_HUGE, "cached mapping's chunk left the map");
    struct segment *gs = segment_huge_containing(grown + 4 * MIB - 1);
    CHECK(gs != NULL && segment_valid(gs) && (uint8_t *)gs + gs->huge_offset == grown,
          "grown block's header from its end");
    CHECK(lx_malloc_usable_size(grown) >= 4 * MIB, "grown block's usable size");

    lx_free(grown);
    lx_malloc_trim(0);
    CHECK(segmap_get((uintptr_t)cs) == SEGMAP_NONE, "trimmed cached mapping still mapped");
    CHECK(segmap_get((uintptr_t)gs) == SEGMAP_NONE, "trimmed grown block still mapped");
    printf("huge_fill: ok\n");
    return 0;
}
