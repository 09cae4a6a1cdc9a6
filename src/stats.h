/* SPDX-License-Identifier: MIT */
/*
 * stats.h — counters. Small blocks are counted per class in the owner heap with
 * plain increments (two instructions on a fast path), large runs in the heap
 * too; huge blocks, and the runs of first-class heaps and of threads with no
 * heap, in process-wide relaxed atomics. Live bytes of a heap's blocks reach
 * the process sum when it takes a slow path (or its large runs moved by more
 * than LX_STATS_LARGE_SLACK), so the peak is sampled, within a few slabs and
 * a MiB of runs per thread. With LX_STATS == 0 the fast-path counters
 * compile to nothing.
 */
#ifndef LX_STATS_H
#define LX_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "lxmalloc.h"
#include "sizeclass.h"
#include "types.h"

struct lx_global_stats {
    _Atomic int64_t small_live;          /* flushed small live bytes, all heaps */
    _Atomic uint64_t large_alloc_count;
    _Atomic uint64_t large_free_count;
    _Atomic uint64_t large_alloc_bytes;
    _Atomic int64_t large_live_bytes;
    _Atomic uint64_t huge_alloc_count;
    _Atomic uint64_t huge_free_count;
    _Atomic uint64_t huge_alloc_bytes;
    _Atomic int64_t huge_live_bytes;     /* usable bytes of live huge blocks */
    _Atomic int64_t huge_live_count;
    _Atomic int64_t huge_mapped_bytes;   /* mapped bytes of live huge blocks */
    _Atomic uint64_t peak_live;
    _Atomic uint64_t heap_count;
    _Atomic uint64_t stray_free[LX_CLASS_COUNT]; /* frees by threads without a heap */
    _Atomic uint64_t holes_purged;       /* bytes of slab pages given back as holes */
};

extern struct lx_global_stats lx_gstats;
extern struct heap lx_empty_heap;

/* A heap counts its small allocations by direct-table entry: the malloc fast
 * path has the entry's index at hand, not the class. The slow paths count a
 * class's allocations on its first entry. */
LX_INLINE void stats_direct_alloc(struct heap *h, size_t d)
{
#if LX_STATS
    h->alloc_count[d]++;
#else
    (void)h;
    (void)d;
#endif
}

LX_INLINE void stats_small_alloc(struct heap *h, unsigned cls)
{
    stats_direct_alloc(h, lx_classes[cls].direct_lo);
}

/* The small blocks of class `cls` heap `h` allocated. */
LX_INLINE uint64_t stats_class_allocs(const struct heap *h, unsigned cls)
{
    uint64_t n = 0;
    for (unsigned d = lx_classes[cls].direct_lo; d <= lx_classes[cls].direct_hi; d++)
        n += h->alloc_count[d];
    return n;
}

LX_INLINE void stats_small_free(struct heap *h, unsigned cls)
{
#if LX_STATS
    if (LX_UNLIKELY(h == &lx_empty_heap))
        atomic_fetch_add_explicit(&lx_gstats.stray_free[cls], 1, memory_order_relaxed);
    else
        h->free_count[cls]++;
#else
    (void)h;
    (void)cls;
#endif
}

/* Free pages inside slabs given back (slab_purge); counted in purged_bytes. */
LX_INLINE void stats_holes_purged(size_t bytes)
{
    if (bytes != 0)
        atomic_fetch_add_explicit(&lx_gstats.holes_purged, bytes, memory_order_relaxed);
}

void stats_heap_created(void);
void stats_live_add(int64_t delta);
/* A large run of `bytes` allocated (alloc) or freed, counted in `lc`, a heap's
 * counters (its owner calling), or with NULL in the process-wide atomics. */
void stats_large(struct large_counts *lc, size_t bytes, int alloc);
/* A live large block got `delta` bytes longer or (negative) shorter: realloc
 * resized it in place. */
void stats_large_resize(struct large_counts *lc, int64_t delta);
/* Has heap counter `lc` moved by more than LX_STATS_LARGE_SLACK bytes of live
 * large runs since the heap last published its live bytes (heap_flush_stats)? */
LX_INLINE bool stats_large_unflushed(const struct large_counts *lc)
{
    int64_t live = (int64_t)(lc->alloc_bytes - lc->free_bytes);
    int64_t d = live - lc->live_flushed;
    return d > LX_STATS_LARGE_SLACK || d < -LX_STATS_LARGE_SLACK;
}
void stats_huge(int64_t usable, int64_t mapped, int alloc);
void stats_huge_resize(int64_t usable_delta, int64_t mapped_delta);

/* Everything in one snapshot, for lx_stats_get, mallinfo, malloc_stats. */
struct stats_snapshot {
    lx_stats_t pub;
    uint64_t class_alloc[LX_CLASS_COUNT];
    uint64_t class_live[LX_CLASS_COUNT];  /* blocks */
    uint64_t segment_bytes;               /* normal segments mapped */
    uint64_t used_page_bytes;             /* in allocated runs (metadata included) */
    uint64_t free_runs;                   /* free buddy blocks */
    uint64_t large_live;                  /* bytes */
    uint64_t huge_mapped;                 /* live huge blocks */
    unsigned arenas;
};
void stats_snapshot(struct stats_snapshot *s);

/* glibc's malloc_stats(): a table on stderr. */
void stats_print(int fd);
/* malloc_info(): XML into buf; returns the length (cut at cap). */
size_t stats_xml(char *buf, size_t cap);
/* At exit: LXMALLOC_STATS and LXMALLOC_STATS_FILE. */
void stats_at_exit(void);

#endif /* LX_STATS_H */
