/* SPDX-License-Identifier: MIT */
/*
 * lxmalloc — a general-purpose memory allocator for Linux.
 *
 * Two ways to use it:
 *  - as a drop-in replacement: LD_PRELOAD=liblxmalloc.so, or link liblxmalloc.a;
 *    then malloc, free, posix_memalign, ... are lxmalloc's;
 *  - beside the system malloc, through the lx_ prefixed functions below
 *    (link liblxmalloc_api.a, which defines no standard names).
 *
 * Every lx_ function has the semantics of the standard or glibc function of the
 * same name without the prefix: NULL with errno == ENOMEM on failure, EINVAL as a
 * return value of lx_posix_memalign, every block aligned to at least 16 bytes.
 */
#ifndef LXMALLOC_H
#define LXMALLOC_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LXMALLOC_VERSION_MAJOR 0
#define LXMALLOC_VERSION_MINOR 1
#define LXMALLOC_VERSION_PATCH 0
#define LXMALLOC_VERSION "0.1.0"

#if defined(__GNUC__)
#define LX_ATTR_MALLOC __attribute__((malloc))
#define LX_ATTR_ALLOC_SIZE(n) __attribute__((alloc_size(n)))
#define LX_ATTR_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#else
#define LX_ATTR_MALLOC
#define LX_ATTR_ALLOC_SIZE(n)
#define LX_ATTR_ALLOC_SIZE2(n, m)
#endif

/* The standard family, prefixed. */
void *lx_malloc(size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(1);
void *lx_calloc(size_t count, size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE2(1, 2);
void *lx_realloc(void *ptr, size_t size) LX_ATTR_ALLOC_SIZE(2);
void *lx_reallocarray(void *ptr, size_t count, size_t size) LX_ATTR_ALLOC_SIZE2(2, 3);
void lx_free(void *ptr);
void lx_free_sized(void *ptr, size_t size);
void lx_free_aligned_sized(void *ptr, size_t alignment, size_t size);
int lx_posix_memalign(void **out, size_t alignment, size_t size);
void *lx_aligned_alloc(size_t alignment, size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(2);
void *lx_memalign(size_t alignment, size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(2);
void *lx_valloc(size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(1);
void *lx_pvalloc(size_t size) LX_ATTR_MALLOC;
size_t lx_malloc_usable_size(void *ptr);

/* glibc's tuning and statistics surface, prefixed (same parameters as <malloc.h>). */
int lx_mallopt(int param, int value);
int lx_malloc_trim(size_t pad);
void lx_malloc_stats(void);
int lx_malloc_info(int options, FILE *stream);

/* Process-wide counters, summed over every thread. All byte counts are bytes. */
typedef struct lx_stats {
    unsigned long long malloc_count;     /* successful allocations of any kind */
    unsigned long long free_count;       /* blocks freed */
    unsigned long long alloc_bytes;      /* bytes handed out (usable sizes), cumulative */
    unsigned long long live_bytes;       /* bytes in blocks not yet freed */
    unsigned long long peak_live_bytes;  /* highest live_bytes seen (sampled on slow paths) */
    unsigned long long mapped_bytes;     /* address space mapped from the kernel */
    unsigned long long peak_mapped_bytes;
    unsigned long long segment_count;    /* segments currently mapped */
    unsigned long long huge_count;       /* blocks mapped directly, live */
    unsigned long long huge_bytes;       /* their mapped size */
    unsigned long long heap_count;       /* thread heaps ever created (live + orphaned) */
    unsigned long long os_mmap_count;    /* mmap calls made */
    unsigned long long os_munmap_count;  /* munmap calls made */
    unsigned long long os_madvise_count; /* madvise calls made (purging) */
    unsigned long long committed_bytes;  /* mapped read-write: segments and huge blocks */
    unsigned long long resident_bytes;   /* estimate: pages in use + dirty free pages + huge */
    unsigned long long dirty_bytes;      /* free pages not yet given back (an upper bound) */
    unsigned long long purged_bytes;     /* free pages given back with madvise, cumulative */
    unsigned long long unmapped_bytes;   /* empty segments and cached huge blocks unmapped */
    unsigned long long huge_cached_bytes; /* freed huge blocks kept mapped for reuse */
} lx_stats_t;

/* Fill *out with the current counters. Returns 0. */
int lx_stats_get(lx_stats_t *out);

/* Write the one-line summary that `lxmalloc run --stats` reads to a file descriptor. */
void lx_stats_print_summary(int fd);

/* Walk every arena, segment, page run, the calling thread's heap and the heaps of
 * exited threads waiting for adoption, checking the invariants docs/ARCHITECTURE.md
 * lists (heaps other running threads own are not walked); each problem is reported on stderr.
 * Returns the number of problems found (0: consistent). For tests and debugging;
 * it takes the arena locks, so it is not for hot paths. */
size_t lx_heap_check(void);

#ifdef __cplusplus
}
#endif

#endif /* LXMALLOC_H */
