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
    unsigned long long run_cached_bytes;  /* freed slabs and large runs threads keep for reuse */
} lx_stats_t;

/* Fill *out with the current counters. Returns 0. */
int lx_stats_get(lx_stats_t *out);

/* Write the one-line summary that `lxmalloc run --stats` reads to a file descriptor. */
void lx_stats_print_summary(int fd);

/* Write every counter of lx_stats_t, and per size class the allocations, live
 * blocks and live bytes, as one JSON object (followed by a newline) to fd. */
void lx_stats_json(int fd);

/* Walk every arena, segment, page run, the calling thread's heap and the heaps of
 * exited threads waiting for adoption, checking the invariants docs/ARCHITECTURE.md
 * lists (heaps other running threads own are not walked); each problem is reported on stderr.
 * Returns the number of problems found (0: consistent). For tests and debugging;
 * it takes the arena locks, so it is not for hot paths. */
size_t lx_heap_check(void);

/* ---- Aligned and zeroing variants ----------------------------------------------
 *
 * lx_zalloc(size)        a block of `size` bytes reading as zero up to its usable size.
 * lx_recalloc(p, n, sz)  resize to n * sz bytes (NULL + ENOMEM if that overflows);
 *                        every byte past the old block's contents reads as zero. The
 *                        guarantee needs p to come from lx_zalloc or lx_recalloc
 *                        (which keep a block zero past its requested size), or NULL.
 * lx_realloc_aligned(p, size, alignment)
 *                        lx_realloc keeping `alignment` (a power of two; otherwise
 *                        NULL + EINVAL and p untouched). size 0 frees p, returns NULL.
 * lx_malloc_size(p)      the same as lx_malloc_usable_size(p).
 * lx_good_size(n)        the usable size lx_malloc(n) gives: lx_malloc_usable_size(
 *                        lx_malloc(n)) == lx_good_size(n), except that a block at or
 *                        above the mmap threshold may reuse a cached mapping up to
 *                        twice as large (then it is larger). n itself if lx_malloc(n)
 *                        would fail.
 */
void *lx_zalloc(size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(1);
void *lx_recalloc(void *ptr, size_t count, size_t size) LX_ATTR_ALLOC_SIZE2(2, 3);
void *lx_realloc_aligned(void *ptr, size_t size, size_t alignment) LX_ATTR_ALLOC_SIZE(2);
size_t lx_malloc_size(void *ptr);
size_t lx_good_size(size_t size);

/* ---- First-class heaps ------------------------------------------------------------
 *
 * A heap of its own, built like a thread's heap (size-class slabs, large runs,
 * huge blocks) but belonging to no thread, so that all its blocks can be freed
 * at once with lx_heap_destroy (region style).
 *
 * Threads: a heap is used (lx_heap_malloc, _calloc, _realloc, _free, _destroy) by
 * one thread at a time; hand it to another thread only with synchronisation (a
 * mutex, a join). Any thread may lx_free a block of any heap at any time before
 * the heap is destroyed, as with blocks of other threads.
 *
 * Freeing: lx_free works on every lxmalloc pointer, heap blocks included. It
 * treats a heap block as a block of another thread's (one atomic push, taken
 * back by the heap on its next refill). lx_heap_free(h, p) is the faster local
 * free for the thread using h; given a block that is not h's, it does lx_free.
 * lx_realloc of a heap block that has to move gives a block of the calling
 * thread's heap; lx_heap_realloc keeps it in h.
 *
 * lx_heap_destroy(h) releases every slab, large run and huge block of h, with
 * the blocks still allocated in them: pointers to those become invalid. Freeing
 * one afterwards is a heap error that is detected (and handled as MALLOC_CHECK_
 * says) while its memory has not been handed out again. All frees of a heap's
 * blocks by other threads must happen before lx_heap_destroy starts. Blocks of
 * up to 2 MiB come from page runs whatever the mmap threshold.
 */
typedef struct lx_heap lx_heap_t;

lx_heap_t *lx_heap_new(void);                      /* NULL + ENOMEM on failure */
void *lx_heap_malloc(lx_heap_t *heap, size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(2);
void *lx_heap_calloc(lx_heap_t *heap, size_t count, size_t size) LX_ATTR_MALLOC
    LX_ATTR_ALLOC_SIZE2(2, 3);
void *lx_heap_realloc(lx_heap_t *heap, void *ptr, size_t size) LX_ATTR_ALLOC_SIZE(3);
void lx_heap_free(lx_heap_t *heap, void *ptr);
void lx_heap_destroy(lx_heap_t *heap);

/* ---- Object caches -----------------------------------------------------------------
 *
 * A cache hands out objects of one size and alignment from slabs of its own, as
 * the kernel's kmem_cache does. `ctor` (optional) runs once per object, when the
 * object is first carved out of a slab; a freed object keeps its constructed
 * state and comes back as it was left, so lx_cache_free must get an object in
 * its constructed state. `dtor` (optional) runs on every object of a slab when
 * the slab goes back to the system (lx_cache_shrink, lx_cache_destroy, or a
 * cache with more than a few empty slabs). ctor and dtor run with the cache's
 * lock held: they may call any lxmalloc function except those of object caches.
 *
 * lx_cache_create: `name` is copied (31 characters kept) and shown by
 * malloc_stats; `align` is 0 (16) or a power of two up to 4096; objects up to
 * 256 KiB. NULL + EINVAL for bad arguments, NULL + ENOMEM without memory.
 * Each object carries a 16-byte (or `align`-byte) header, which lets a free into
 * the wrong cache, a double free or a pointer that is no object be detected and
 * reported as MALLOC_CHECK_ says (default: message and abort). Objects go back
 * with lx_cache_free only, never lx_free.
 * lx_cache_shrink gives every empty slab back and returns how many it freed.
 * lx_cache_destroy releases every slab, dtor running on every constructed
 * object; objects still allocated become invalid.
 * Threads: every function may be called from any thread (each cache has a lock).
 */
typedef struct lx_cache lx_cache_t;

lx_cache_t *lx_cache_create(const char *name, size_t size, size_t align, void (*ctor)(void *),
                            void (*dtor)(void *));
void *lx_cache_alloc(lx_cache_t *cache) LX_ATTR_MALLOC;
void lx_cache_free(lx_cache_t *cache, void *obj);
size_t lx_cache_shrink(lx_cache_t *cache);
void lx_cache_destroy(lx_cache_t *cache);

/* Counters of one cache (also printed by malloc_stats). Returns 0, or -1 with
 * errno EINVAL for a pointer that is no live cache. */
typedef struct lx_cache_stats {
    const char *name;                /* as given to lx_cache_create (cut at 31) */
    size_t object_size;              /* bytes usable per object */
    size_t block_size;               /* bytes taken per object, header included */
    unsigned long long live;         /* objects allocated, not yet freed */
    unsigned long long constructed;  /* objects carved (ctor ran), in all slabs */
    unsigned long long slabs;        /* slabs held */
    unsigned long long empty_slabs;  /* of which hold no live object */
    unsigned long long alloc_count;  /* allocations ever */
} lx_cache_stats_t;
int lx_cache_stats_get(lx_cache_t *cache, lx_cache_stats_t *out);

/* ---- The page allocator --------------------------------------------------------------
 *
 * Blocks of whole 4 KiB pages, for programs that manage buffers themselves.
 * lx_pages_alloc(order): 2^order pages. Orders 0..9 (up to 2 MiB) come from the
 * buddy allocator and are aligned to their own size, as the kernel's
 * alloc_pages; larger orders (up to 2^30 pages) get a mapping of their own and
 * are page-aligned. lx_pages_alloc_exact(npages): npages pages (page-aligned;
 * up to 512 from the buddy allocator with the unused tail given back, more from
 * a mapping). Contents are unspecified. NULL + EINVAL for an order above 30 or 0
 * pages, NULL + ENOMEM without memory.
 * A block goes back with the free function of its kind and the same order or
 * page count; anything else (wrong order, not a page block, lx_free on a page
 * block, a second free) is a heap error, reported as MALLOC_CHECK_ says, where
 * it can be told (lx_free of a mapped page block of order >= 10 frees it).
 * Threads: any thread may free a block that any other allocated.
 */
void *lx_pages_alloc(unsigned order);
void lx_pages_free(void *ptr, unsigned order);
void *lx_pages_alloc_exact(size_t npages);
void lx_pages_free_exact(void *ptr, size_t npages);

/* ---- Secure memory -----------------------------------------------------------------
 *
 * For keys and passwords. Each block has a mapping of its own: its pages are
 * locked in RAM (mlock), left out of core dumps (MADV_DONTDUMP) and fenced by an
 * inaccessible guard page on each side. The block ends as close to the trailing
 * guard page as 16-byte alignment allows, so a write past it faults; the bytes
 * around it hold a canary, checked by lx_secure_free (a mismatch is a heap error,
 * reported as MALLOC_CHECK_ says). lx_secure_free wipes the block in a way the
 * compiler cannot drop, then unlocks and unmaps it. A second free of a block
 * faults (its mapping is gone) unless the address was mapped again meanwhile.
 * lx_secure_malloc returns NULL with errno ENOMEM when the RLIMIT_MEMLOCK limit
 * (or memory) is exhausted, EPERM when the limit is 0; it works again once enough
 * secure blocks are freed. Each block costs at least one locked page and two
 * guard pages of address space. lx_secure_free(NULL) does nothing.
 * Threads: all thread-safe.
 */
void *lx_secure_malloc(size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(1);
void lx_secure_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* LXMALLOC_H */
