/* Unit test of growing blocks with realloc. A huge block that grows past its
 * mapping while a freed mapping sits in the cache takes that mapping's pages
 * (moved, resident) for its new end instead of fresh ones, so writing the new
 * end faults no page in; what is left of the cached mapping stays a valid huge
 * mapping, and the segment map follows both. A large run that realloc grows to
 * 256 KiB or more becomes a huge block (a mapping of its own, below the mmap
 * threshold too), grows as one, and goes back to the arena when it shrinks.
 * Pages of a new end that no cached mapping gave are faulted in by the realloc
 * (the program grew the block to write there), up to a segment's worth that
 * ends on a huge-page boundary (a huge page there would be resident whole). */
#include <sys/mman.h>
#include <sys/resource.h>

#include "lxt.h"
#include "os.h"
#include "segment.h"

#define MIB ((size_t)1 << 20)

static long minor_faults(void)
{
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage");
    return ru.ru_minflt;
}

static void cache_fill(void)
{
    /* A block to grow, and a bigger one freed into the cache, both written. */
    uint8_t *grow = lx_malloc(2 * MIB);
    uint8_t *gone = lx_malloc(5 * MIB);
    CHECK(grow != NULL && gone != NULL, "allocations");
    memset(grow, 0x5a, 2 * MIB);
    memset(gone, 0xa5, 5 * MIB);
    struct segment *cs = segment_huge_containing(gone);
    CHECK(cs != NULL && segment_valid(cs), "huge header of the block to free");
    size_t cached_size = cs->huge_map_size;
    lx_free(gone);
    CHECK(cs->huge_cached == 1, "freed huge block not cached");

    /* 4 MiB: the block's mapping grows to the next huge-page boundary, 6 MiB,
     * more than the cached mapping holds, so no copy into it; the block grows
     * (in place or moved) and its new end comes from the cached pages. */
    struct segment *old = segment_huge_containing(grow);
    CHECK(old != NULL, "huge header of the block to grow");
    size_t old_map = old->huge_map_size;
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

    /* The cached mapping gave its last pages, as many as the new end needed,
     * and stays cached, smaller. */
    struct segment *gs = segment_huge_containing(grown + 4 * MIB - 1);
    CHECK(gs != NULL && segment_valid(gs) && (uint8_t *)gs + gs->huge_offset == grown,
          "grown block's header from its end");
    CHECK(gs->huge_map_size == 6 * MIB, "grown mapping is %zu bytes, not 6 MiB", gs->huge_map_size);
    size_t given = gs->huge_map_size - old_map;
    CHECK(segment_valid(cs) && cs->huge_cached == 1, "cached mapping's header after the move");
    CHECK(cs->huge_map_size == cached_size - given, "cached mapping is %zu bytes, not %zu",
          cs->huge_map_size, cached_size - given);
    CHECK(segmap_get((uintptr_t)cs) == SEGMAP_HUGE, "cached mapping's chunk left the map");
    CHECK(lx_malloc_usable_size(grown) >= 4 * MIB, "grown block's usable size");

    lx_free(grown);
    lx_malloc_trim(0);
    CHECK(segmap_get((uintptr_t)cs) == SEGMAP_NONE, "trimmed cached mapping still mapped");
    CHECK(segmap_get((uintptr_t)gs) == SEGMAP_NONE, "trimmed grown block still mapped");
}

/* Fill `n` bytes with a pattern that depends on the offset; check it back. */
static void pattern_put(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 12));
}

static void pattern_check(const uint8_t *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        CHECK(p[i] == (uint8_t)(i * 7 + (i >> 12)), "%s: byte %zu changed", what, i);
}

static void grow_into_mapping(void)
{
    size_t threshold = 1 * MIB;
    CHECK(lx_mallopt(M_MMAP_THRESHOLD, (int)threshold) == 1, "mallopt(M_MMAP_THRESHOLD)");
    uint8_t *p = lx_malloc(100 << 10);
    CHECK(p != NULL && segmap_get((uintptr_t)p) == SEGMAP_NORMAL, "100 KiB is a large run");
    pattern_put(p, 100 << 10);
    /* Grown to 200 KiB: still a run (below LX_REALLOC_MAP_MIN). */
    p = lx_realloc(p, 200 << 10);
    CHECK(p != NULL && segmap_get((uintptr_t)p) == SEGMAP_NORMAL, "200 KiB left the arena");
    pattern_check(p, 100 << 10, "grown to 200 KiB");
    pattern_put(p, 200 << 10);
    /* Grown to 300 KiB: a huge block, though below the 1 MiB threshold. */
    p = lx_realloc(p, 300 << 10);
    CHECK(p != NULL, "realloc to 300 KiB");
    struct segment *s = segment_huge_containing(p);
    CHECK(s != NULL && segment_valid(s) && (uint8_t *)s + s->huge_offset == p,
          "a large run grown to 300 KiB is not a huge block");
    pattern_check(p, 200 << 10, "grown to 300 KiB");
    pattern_put(p, 300 << 10);
    /* Growing on stays huge (resized, not copied into a run). */
    p = lx_realloc(p, 700 << 10);
    CHECK(p != NULL && segment_huge_containing(p) != NULL, "700 KiB is not a huge block");
    pattern_check(p, 300 << 10, "grown to 700 KiB");
    pattern_put(p, 700 << 10);
    CHECK(lx_malloc_usable_size(p) >= (700 << 10), "usable size after growing");
    /* Shrinking below the threshold (by more than half) goes back to the arena. */
    p = lx_realloc(p, 64 << 10);
    CHECK(p != NULL && segmap_get((uintptr_t)p) == SEGMAP_NORMAL, "64 KiB is not back in the arena");
    pattern_check(p, 64 << 10, "shrunk to 64 KiB");
    lx_free(p);
    /* A huge block allocated below the threshold by realloc does not stop a
     * later malloc of that size from being a run. */
    void *r = lx_malloc(300 << 10);
    CHECK(r != NULL && segmap_get((uintptr_t)r) == SEGMAP_NORMAL, "malloc(300 KiB) is not a run");
    lx_free(r);
}

/* Resident pages of [p, p + len), both page aligned. */
static size_t resident(const uint8_t *p, size_t len)
{
    static unsigned char vec[(16 * MIB) / 4096];
    CHECK(len <= sizeof vec * 4096 && mincore((void *)p, len, vec) == 0, "mincore");
    size_t n = 0;
    for (size_t i = 0; i < len / 4096; i++)
        n += vec[i] & 1;
    return n;
}

static void populate_on_growth(void)
{
    lx_malloc_trim(0); /* no cached mapping to fill from */
    uint8_t *p = lx_malloc(2 * MIB);
    CHECK(p != NULL && segment_huge_containing(p) != NULL, "2 MiB is a huge block");
    memset(p, 0x11, 2 * MIB);
    uint64_t calls = atomic_load(&lx_os_counters.populate_count);
    p = lx_realloc(p, 12 * MIB);
    CHECK(p != NULL, "realloc to 12 MiB");
    CHECK(atomic_load(&lx_os_counters.populate_count) > calls, "the realloc faulted nothing in");
    /* Whether this kernel knows MADV_POPULATE_WRITE (Linux 5.14). */
    void *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(probe != MAP_FAILED, "mmap");
    bool populated = madvise(probe, 4096, 23 /* MADV_POPULATE_WRITE */) == 0;
    munmap(probe, 4096);
    /* The block starts a page into its mapping: its new end starts at 2 MiB. */
    size_t first = resident(p + 2 * MIB, LX_SEGMENT_SIZE);
    size_t beyond = resident(p + 2 * MIB + LX_SEGMENT_SIZE + 4096, 4 * MIB);
    /* A kernel without MADV_POPULATE_WRITE leaves the new end to page faults. */
    CHECK(!populated || first >= LX_SEGMENT_SIZE / 4096 - 1,
          "%zu of the first %zu new pages resident after the realloc", first,
          (size_t)LX_SEGMENT_SIZE / 4096);
    CHECK(beyond == 0, "%zu pages resident beyond the segment's worth faulted in", beyond);
    for (size_t i = 0; i < 2 * MIB; i += 4096)
        CHECK(p[i] == 0x11, "byte %zu lost by the growth", i);
    memset(p, 0x22, 12 * MIB);
    lx_free(p);
    lx_malloc_trim(0);
}

int main(void)
{
    cache_fill();
    populate_on_growth();
    grow_into_mapping();
    CHECK(lx_heap_check() == 0, "heap check");
    printf("huge_grow: ok\n");
    return 0;
}
