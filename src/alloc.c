/* SPDX-License-Identifier: MIT */
/*
 * alloc.c — the api layer: lx_malloc, lx_free and the rest of the family, with
 * glibc's semantics. The only layer that sets errno.
 *
 * malloc fast path (sizes up to LX_SMALL_MAX): the thread's heap -> its direct
 * table entry for (size+15)/16 (up to LX_DIRECT_MAX), or for the size class
 * (above) -> that slab's free list -> decode and check the
 * link -> pop, clear the block's first word. A thread with no heap yet points at
 * lx_empty_heap, whose entries all lead to a slab with no free block, so the
 * first malloc falls into the slow path without a test.
 *
 * free fast path: one byte of the segment map says the pointer is in a normal
 * segment -> mask to the segment -> head[] to the run's descriptor -> if the run
 * is a slab owned by this thread's heap, not full and without holes, the
 * pointer starts one of its carved blocks and that block does not look free
 * already (slab.h), push it on local_free. Everything else (remote frees, full
 * slabs, large and huge blocks, pointers that are not live blocks of ours,
 * hooks) goes to the slow path, which reports what is wrong with a bad pointer.
 *
 * Debug mode (lx_opt.debug, fixed at start-up) wraps every block in debug.c's
 * layout here: the raw block comes from the ordinary paths, the program gets
 * the user pointer inside it, and free goes through the quarantine.
 *
 * The leak report and heap profile (LX_HOOK_PROF, prof.c) see the blocks the
 * program sees (user pointers in debug mode): every path that hands out a block
 * reports it with prof_hook_alloc, and every free calls prof_free before the
 * block goes back.
 */
#include "alloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "debug.h"
#include "heap.h"
#include "init.h"
#include "large.h"
#include "lxmalloc.h"
#include "medium.h"
#include "options.h"
#include "pages.h"
#include "prof.h"
#include "report.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"
#include "stats.h"
#include "trace.h"
#include "track.h"

/* ---- lookup of a block we may own --------------------------------------- */

enum block_kind { BLOCK_BAD = 0, BLOCK_SMALL, BLOCK_LARGE, BLOCK_HUGE, BLOCK_MEDIUM };

/* The block containing an address, whatever its state. */
struct block_info {
    enum block_kind kind; /* BLOCK_BAD: p lies in no block (problem says why) */
    struct segment *seg;
    struct page *pg;
    uint8_t *base;        /* start of the block */
    size_t usable;        /* its usable bytes */
    const char *problem;  /* for BLOCK_BAD */
    bool freed_run;       /* BLOCK_BAD: p starts a page in free pages, a large block's double free */
    bool freed_huge;      /* BLOCK_BAD: p is a huge block kept in the cache after its free */
};

/* Huge blocks leave the segment map when they are freed; the addresses of the
 * last few are kept so that freeing one again reads "double free", not "not
 * ours". A racy ring of relaxed words: a lost entry only costs that wording. */
#define LX_HUGE_FREED_RING 64
static _Atomic uintptr_t lx_huge_freed[LX_HUGE_FREED_RING];
static _Atomic unsigned lx_huge_freed_next;

static void huge_freed_note(const void *p)
{
    unsigned i = atomic_fetch_add_explicit(&lx_huge_freed_next, 1, memory_order_relaxed);
    atomic_store_explicit(&lx_huge_freed[i % LX_HUGE_FREED_RING], (uintptr_t)p,
                          memory_order_relaxed);
}

static bool huge_freed_recently(const void *p)
{
    for (unsigned i = 0; i < LX_HUGE_FREED_RING; i++) {
        if (atomic_load_explicit(&lx_huge_freed[i], memory_order_relaxed) == (uintptr_t)p)
            return true;
    }
    return false;
}

static struct block_info block_find(const void *p)
{
    struct block_info bi = {BLOCK_BAD, NULL, NULL, NULL, 0, NULL, false, false};
    unsigned m = segmap_get((uintptr_t)p);
    if (m == SEGMAP_NORMAL) {
        struct segment *seg = segment_of(p);
        struct page *pg = segment_page_of(seg, p);
        bi.seg = seg;
        bi.pg = pg;
        if (pg->kind == RUN_SLAB) {
            size_t off = (size_t)((const uint8_t *)p - pg->start);
            size_t idx = off / pg->block_size;
            if ((const uint8_t *)p < pg->start || idx >= pg->capacity) {
                bi.problem = "not a block (the unused end of a slab)";
                return bi;
            }
            bi.kind = BLOCK_SMALL;
            bi.base = pg->start + idx * pg->block_size;
            bi.usable = pg->block_size;
        } else if (pg->kind == RUN_MEDIUM) {
            bool live;
            if (!medium_find(pg, p, &bi.base, &bi.usable, &live)) {
                bi.problem = "not a block (a medium run's header, or past a damaged one)";
                return bi;
            }
            bi.kind = BLOCK_MEDIUM;
        } else if (pg->kind == RUN_LARGE) {
            if ((const uint8_t *)p < pg->start) {
                bi.problem = "not a block (the alignment padding before a large block)";
                return bi;
            }
            bi.kind = BLOCK_LARGE;
            bi.base = pg->start;
            bi.usable = pg->block_size;
        } else if (pg->kind == RUN_META) {
            bi.problem = "not a block (lxmalloc's own metadata)";
        } else if (pg->kind == RUN_PAGES) {
            bi.problem = "not a malloc block (pages of lx_pages_alloc: free them with lx_pages_free)";
        } else if (((uintptr_t)p & (LX_PAGE_SIZE - 1)) == 0) {
            bi.freed_run = true;
        } else {
            bi.problem = "not a block (free pages of a segment; a large block freed before?)";
        }
    } else if (m == SEGMAP_HUGE || m == SEGMAP_HUGE_TAIL) {
        struct segment *seg = segment_huge_containing(p);
        if (seg == NULL || !segment_valid(seg)) {
            bi.problem = "not a block (a huge mapping with a damaged header)";
            return bi;
        }
        if (seg->huge_cached) {
            /* Its start, or (debug mode) the user pointer just past a debug header. */
            const uint8_t *start = (uint8_t *)seg + seg->huge_offset;
            bi.freed_huge = (const uint8_t *)p >= start && (const uint8_t *)p < start + 64;
            if (!bi.freed_huge)
                bi.problem = "not a block (inside a freed huge block)";
            return bi;
        }
        uint8_t *base = (uint8_t *)seg + seg->huge_offset;
        if ((const uint8_t *)p < base) {
            bi.problem = "not a block (the header page of a huge block)";
            return bi;
        }
        bi.kind = BLOCK_HUGE;
        bi.seg = seg;
        bi.base = base;
        bi.usable = huge_usable(seg);
    }
    return bi;
}

/* Report a pointer `func` cannot take: p is not a live block of ours. */
LX_COLD static void report_bad(const char *func, const void *p, const struct block_info *bi)
{
    /* A bad free may be the process's first call: MALLOC_CHECK_ must be read. */
    lx_process_init();
    if (bi->kind != BLOCK_BAD) {
        size_t into = (size_t)((const uint8_t *)p - bi->base);
        if (into == 0) {
            if (strcmp(func, "free") == 0)
                check_double_free(func, p, bi->usable);
            else
                check_error(NULL, "%s() of %p (%zu-byte block), which is already free", func, p,
                            bi->usable);
        } else {
            check_error(NULL, "%s() of %p, %zu bytes inside the %zu-byte block at %p", func, p,
                        into, bi->usable, (void *)bi->base);
        }
        return;
    }
    const char *what = NULL;
    if (bi->freed_run)
        what = "a large block; its pages are already free";
    else if (bi->freed_huge || huge_freed_recently(p))
        what = "a huge block, already freed";
    if (what != NULL) {
        if (strcmp(func, "free") == 0)
            check_error(NULL, "double free of %p (%s)", p, what);
        else
            check_error(NULL, "%s() of %p (%s), which is already free", func, p, what);
        return;
    }
    if (bi->problem != NULL) {
        check_bad_pointer(func, p, bi->problem);
        return;
    }
    check_foreign_pointer(func, p);
}

/* Is the small block at `b` free? A block in a hole is; else its owner heap knows
 * for sure (the block is on one of its lists); any other thread goes by the
 * block's first word (slab.h). */
static bool small_block_is_free(struct page *pg, struct block *b)
{
    if (slab_block_in_hole(pg, b))
        return true;
    if (!block_word_looks_free(b, track_read_word(b)))
        return false;
    struct heap *h = lx_tls_heap;
    if ((pg->local_key & ~LX_KEY_FLAGS) != (uintptr_t)h)
        return true;
    return slab_lists_contain(pg, b) || heap_delayed_contains(h, b) ||
           heap_stash_contains(h, pg->class_idx, b);
}

/* The live block that starts at p, or BLOCK_BAD after reporting why not. */
static struct block_info block_lookup(void *p, const char *func)
{
    struct block_info bi = block_find(p);
    if (bi.kind != BLOCK_BAD && bi.base == p &&
        (bi.kind != BLOCK_SMALL || !small_block_is_free(bi.pg, p)) &&
        (bi.kind != BLOCK_MEDIUM || medium_usable(bi.pg, p) != 0))
        return bi;
    report_bad(func, p, &bi);
    bi.kind = BLOCK_BAD;
    return bi;
}

/* ---- allocation ------------------------------------------------------------ */

LX_INLINE struct heap *heap_get(void)
{
    struct heap *h = lx_tls_heap;
    if (LX_UNLIKELY(h == &lx_empty_heap))
        h = lx_thread_init(NULL);
    return h;
}

static void *alloc_small(struct heap *h, unsigned cls)
{
    struct page *pg = h->queues[cls].head;
    if (pg != NULL && !list_end(pg->free)) {
        struct block *b = slab_pop(pg);
        stats_small_alloc(h, cls);
        return b;
    }
    return heap_alloc_small(h, cls);
}

/* The smallest class at least `size` whose block size is a multiple of
 * `alignment` (<= one page): slabs start page-aligned, so every block of such a
 * class is aligned. LX_CLASS_COUNT if there is none. */
static unsigned class_for_alignment(size_t size, size_t alignment)
{
    unsigned cls = size_to_class(size < alignment ? alignment : size);
    while (cls < LX_CLASS_COUNT && lx_classes[cls].size % alignment != 0)
        cls++;
    return cls;
}

/* Medium runs serve a thread heap's blocks of LX_MEDIUM_MIN+1 .. LX_MEDIUM_MAX
 * bytes (16-byte aligned) while no hook is on; the size classes' slabs serve
 * them otherwise (a first-class heap's, a hook's, a bigger alignment's). */
LX_INLINE bool medium_serves(const struct heap *h)
{
    return lx_opt.medium && h->stealable &&
           atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) == 0;
}

static void *alloc_any_once(size_t size, size_t alignment, size_t write, bool *fresh)
{
    *fresh = false;
    if (size > PTRDIFF_MAX || alignment > PTRDIFF_MAX / 2)
        return NULL;
    /* A zero-byte block still gets a byte of its own. Sized 0, an aligned large run
     * (memalign(8192, 0)) had one page, the aligned start past it; a huge block
     * (memalign(4 MiB, 0)) started just past the end of its mapping. Either way
     * the pointer was not ours, and free() aborted. */
    if (size == 0)
        size = 1;
    struct heap *h = heap_get();
    if (h == NULL)
        return NULL;
    size_t threshold = atomic_load_explicit(&lx_opt.mmap_threshold, memory_order_relaxed);
    if (size < threshold || size <= LX_DIRECT_MAX) {
        if (alignment <= LX_ALIGN && size > LX_MEDIUM_MIN && size <= LX_MEDIUM_MAX &&
            medium_serves(h))
            return medium_alloc(h, size);
        if (alignment <= LX_ALIGN && size <= LX_SMALL_MAX)
            return alloc_small(h, size_to_class(size));
        if (alignment <= LX_PAGE_SIZE && size <= LX_SMALL_MAX) {
            unsigned cls = class_for_alignment(size, alignment);
            if (cls < LX_CLASS_COUNT)
                return alloc_small(h, cls);
        }
        size_t extra = alignment > LX_PAGE_SIZE ? alignment - LX_PAGE_SIZE : 0;
        if (size <= LX_LARGE_MAX && extra <= LX_LARGE_MAX - size) {
            void *p = large_alloc(h->arena, &h->runs, &h->large, size,
                                  alignment < LX_ALIGN ? LX_ALIGN : alignment, write, fresh);
            if (LX_UNLIKELY(stats_large_unflushed(&h->large)))
                heap_flush_stats(h);
            trace_tick();
            return p;
        }
    }
    void *p = huge_alloc(size, alignment, fresh);
    trace_tick();
    return p;
}

/* Any size and alignment (a power of two); NULL without touching errno. `*fresh`
 * says the memory reads as zero (a new mapping, or a large run's untouched
 * pages). `write`: the bytes the caller is about to write from the start itself
 * (calloc's zeroing, realloc's copy), which a large block faults in with one
 * call (large_alloc). The runs the heap keeps
 * for reuse hold address space and memory the kernel may need: on a failure
 * they go back to their arenas, and the request is tried once more. */
static void *alloc_any(size_t size, size_t alignment, size_t write, bool *fresh)
{
    void *p = alloc_any_once(size, alignment, write, fresh);
    struct heap *h = lx_tls_heap;
    if (LX_UNLIKELY(p == NULL) && h != &lx_empty_heap && h->runs.count != 0) {
        run_cache_flush(&h->runs, true);
        p = alloc_any_once(size, alignment, write, fresh);
    }
    return p;
}

static void perturb_alloc(void *p, size_t size)
{
    int byte = atomic_load_explicit(&lx_opt.perturb, memory_order_relaxed);
    if (byte != 0 && p != NULL)
        memset(p, byte ^ 0xff, size);
}

/* Under valgrind: p is a block from now on (src/track.h). Not in debug mode,
 * whose blocks carry a header memcheck is not told about. */
static void track_alloc(void *p, bool zeroed)
{
    if (p != NULL && !lx_opt.debug)
        track_malloc(p, block_find(p).usable, zeroed);
}

/* The hooks of a new block: described to memcheck first, so that perturb's
 * writes land in a block it knows. Debug mode fills its blocks itself. */
static void hooks_alloc(void *p, size_t size, bool fresh)
{
    if (lx_opt.debug)
        return;
    if (atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_TRACK)
        track_alloc(p, fresh);
    perturb_alloc(p, size);
}

/* The profiler's view of a new block of `size` requested bytes. */
static void prof_hook_alloc(void *p, size_t size)
{
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_PROF))
        prof_alloc(p, size);
}

/* ---- debug mode -------------------------------------------------------------- */

static bool debug_on(void)
{
    lx_process_init();
    return lx_opt.debug != 0;
}

/* The byte freed memory is filled with: zero-on-free wins, then M_PERTURB's byte,
 * then debug mode's own poison. */
static uint8_t free_fill_byte(void)
{
    if (lx_opt.zero_on_free)
        return 0;
    int byte = atomic_load_explicit(&lx_opt.perturb, memory_order_relaxed);
    return byte != 0 ? (uint8_t)byte : 0xdf;
}

LX_RARE static void *debug_alloc(size_t size, size_t alignment, bool zero, const void *site)
{
    size_t raw_size;
    if (!debug_raw_size(size, alignment, &raw_size))
        return NULL;
    bool fresh;
    uint8_t *raw = alloc_any(raw_size, alignment < LX_ALIGN ? LX_ALIGN : alignment, 0, &fresh);
    if (raw == NULL)
        return NULL;
    struct block_info bi = block_find(raw);
    lx_assert(bi.kind != BLOCK_BAD && bi.base == raw);
    uint8_t *user = debug_block_init(raw, bi.usable, size, alignment, site);
    if (zero)
        memset(user, 0, size);
    else
        perturb_alloc(user, size);
    return user;
}

/* The debug block the program calls `p`, live; BLOCK_BAD after a report if p is
 * not one. */
LX_RARE static struct block_info debug_lookup(void *p, const char *func, struct debug_block *d)
{
    struct block_info bi = block_find(p);
    if (bi.kind == BLOCK_BAD) {
        report_bad(func, p, &bi);
        return bi;
    }
    bool parsed = debug_block_parse(bi.base, bi.usable, p, d);
    if (bi.kind == BLOCK_SMALL && small_block_is_free(bi.pg, (struct block *)bi.base)) {
        /* Freed, out of the quarantine and back in its slab (maybe reused). */
        struct check_sites sites = {parsed ? d->alloc_site : NULL, parsed ? d->free_site : NULL};
        size_t size = parsed ? d->size : bi.usable;
        if (strcmp(func, "free") == 0)
            check_error(&sites, "double free of %p (%zu-byte block)", p, size);
        else
            check_error(&sites, "%s() of %p (%zu-byte block), which is already free", func, p,
                        size);
        bi.kind = BLOCK_BAD;
        return bi;
    }
    if (!parsed) {
        struct debug_block outer;
        uint8_t *start = bi.base + LX_DEBUG_HEADER;
        if (debug_block_parse(bi.base, bi.usable, start, &outer) && (uint8_t *)p > start)
            check_error(&(struct check_sites){outer.alloc_site, outer.free_site},
                        "%s() of %p, %zu bytes inside the %zu-byte block at %p", func, p,
                        (size_t)((uint8_t *)p - start), outer.size, (void *)start);
        else
            check_error(NULL, "%s() of %p, which is not the start of a block (inside the "
                              "%zu-byte block at %p)",
                        func, p, bi.usable, (void *)bi.base);
        bi.kind = BLOCK_BAD;
        return bi;
    }
    struct check_sites sites = {d->alloc_site, d->free_site};
    if (d->state == DEBUG_FREED) {
        if (strcmp(func, "free") == 0)
            check_error(&sites, "double free of %p (%zu-byte block)", p, d->size);
        else
            check_error(&sites, "%s() of %p (%zu-byte block), which is already free", func, p,
                        d->size);
        bi.kind = BLOCK_BAD;
        return bi;
    }
    bool to_end;
    size_t over = debug_canary_damage(d, &to_end);
    if (over != 0) {
        check_error(&sites, "heap overflow by %zu%s byte%s past a %zu-byte block at %p (found in "
                            "%s())",
                    over, to_end ? " or more" : "", over == 1 && !to_end ? "" : "s", d->size, p,
                    func);
        /* The block is damaged beyond our header's promise: never reuse it. */
        bi.kind = BLOCK_BAD;
        return bi;
    }
    return bi;
}

static void free_known_block(void *p, const struct block_info *bi);

/* A block leaves the quarantine: check it was not written, then free it for real. */
LX_RARE static void debug_release(void *user, bool free_it)
{
    struct block_info bi = block_find(user);
    struct debug_block d;
    if (bi.kind == BLOCK_BAD || !debug_block_parse(bi.base, bi.usable, user, &d))
        return; /* cannot happen unless the heap is corrupt; leak the block */
    size_t at = debug_poison_damage(&d, free_fill_byte());
    if (at != SIZE_MAX) {
        check_error(&(struct check_sites){d.alloc_site, d.free_site},
                    "write after free at offset %zu of a %zu-byte block at %p", at, d.size, user);
        return; /* leak it: whoever wrote may write again */
    }
    if (free_it)
        free_known_block(bi.base, &bi);
}

LX_RARE static void debug_free(void *p, const char *func, const void *site)
{
    struct debug_block d;
    struct block_info bi = debug_lookup(p, func, &d);
    if (bi.kind == BLOCK_BAD)
        return;
    debug_block_free(&d, site, free_fill_byte());
    if (bi.kind == BLOCK_HUGE || d.size > LX_QUARANTINE_BLOCK_MAX) {
        if (bi.kind == BLOCK_HUGE)
            huge_freed_note(p);
        free_known_block(bi.base, &bi);
        return;
    }
    void *out = debug_quarantine_push(p, d.size, bi.usable);
    if (out != NULL)
        debug_release(out, true);
}

/* At exit: every block still in quarantine is checked for writes after free. */
void alloc_debug_exit(void)
{
    if (!lx_opt.debug)
        return;
    void *p;
    while ((p = debug_quarantine_pop()) != NULL)
        debug_release(p, false);
}

/* ---- malloc ------------------------------------------------------------------ */

/* Slow-path calls of this thread: every 64th gives the huge cache a chance to
 * unmap expired mappings, the heap's run cache to give its expired runs to
 * their arenas, and the arenas to purge the runs free for longer than the purge
 * delay, so a program that stops using big blocks, or allocates only from its
 * slabs for a while, gets that memory back without a background thread (each
 * check is a load or two when there is nothing to do). */
static LX_TLS unsigned lx_tls_slow_calls;

LX_COLD static void *malloc_slow(size_t size, const void *caller)
{
    check_set_caller(caller);
    if (LX_UNLIKELY((++lx_tls_slow_calls & 63) == 0)) {
        (void)huge_cache_expire(false);
        if (lx_tls_heap != &lx_empty_heap)
            run_cache_flush(&lx_tls_heap->runs, false);
        arenas_purge_expired();
    }
    bool fresh = false;
    void *p;
    if (LX_UNLIKELY(debug_on()))
        p = debug_alloc(size, LX_ALIGN, false, caller);
    else
        p = alloc_any(size, LX_ALIGN, 0, &fresh);
    if (LX_UNLIKELY(p == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed)))
        hooks_alloc(p, size, fresh);
    prof_hook_alloc(p, size);
    return p;
}

/* The fast path's slab has no free block. When the blocks this thread freed into
 * it wait on local_free, make them the free list and pop one: what the slow path
 * would do first (slab_take_local), for a few dozen instructions instead of a few
 * hundred. With none, and no remote frees waiting either, carve the next blocks
 * of the slab, as the slow path would then do (slab_take_fresh); with nothing to
 * take or carve, call the class's slow path (heap_alloc_small) directly. Every
 * 64th time, and on the empty slab, malloc_slow runs instead, so its periodic
 * work (cache expiry, arena purges) keeps its pace. */
LX_NOINLINE static void *malloc_refill(size_t size, struct heap *h, struct page *pg, size_t d,
                                       const void *caller)
{
    /* The slow path counts lx_tls_slow_calls itself and works on every 64th. */
    if (list_end(pg->free) && LX_LIKELY(((lx_tls_slow_calls + 1) & 63) != 0)) {
        /* Blocks of full slabs that other threads freed (delayed_free) come
         * back through the class's slow path, before fresh ones are carved. */
        if (slab_take_local(pg) ||
            (atomic_load_explicit(&h->delayed_free, memory_order_relaxed) == NULL &&
             slab_take_fresh(pg))) {
            lx_tls_slow_calls++;
            struct block *b = slab_pop(pg);
            stats_direct_alloc(h, d);
            return b;
        }
        /* A slab of this heap (no hook is on, or the direct table would lead
         * to the empty slab): its class's slow path, without the checks of
         * malloc_slow and alloc_any for what cannot be the case here. */
        if (pg != &lx_empty_page) {
            lx_tls_slow_calls++;
            check_set_caller(caller);
            void *b = heap_alloc_small(h, pg->class_idx);
            if (LX_LIKELY(b != NULL))
                return b;
        }
    }
    return malloc_slow(size, caller);
}

/* A block of LX_MEDIUM_MIN+1 .. LX_MEDIUM_MAX bytes: from the heap's medium runs
 * when they serve it, every 64th call through malloc_slow for its periodic work. */
LX_NOINLINE static void *malloc_medium(size_t size, struct heap *h, const void *caller)
{
    if (LX_LIKELY(((lx_tls_slow_calls + 1) & 63) != 0) && LX_LIKELY(medium_serves(h)) &&
        LX_LIKELY(size < atomic_load_explicit(&lx_opt.mmap_threshold, memory_order_relaxed))) {
        lx_tls_slow_calls++;
        check_set_caller(caller);
        void *p = medium_alloc(h, size);
        if (LX_LIKELY(p != NULL))
            return p;
    }
    return malloc_slow(size, caller);
}

LX_EXPORT void *lx_malloc(size_t size)
{
    struct heap *h = lx_tls_heap;
    size_t d;
    if (LX_LIKELY(size <= LX_MEDIUM_MIN))
        d = (size + LX_ALIGN - 1) / LX_ALIGN;
    else if (size <= LX_MEDIUM_MAX && lx_opt.medium)
        return malloc_medium(size, h, __builtin_return_address(0));
    else if (size <= LX_DIRECT_MAX)
        d = (size + LX_ALIGN - 1) / LX_ALIGN;
    else if (size <= LX_SMALL_MAX)
        d = direct_index_medium(size_to_class_medium(size));
    else
        return malloc_slow(size, __builtin_return_address(0));
    struct page *pg = atomic_load_explicit(&h->direct[d], memory_order_relaxed);
    struct block *b = pg->free;
    if (LX_LIKELY(!list_end(b))) {
        struct block *next = block_next(b);
        /* A bad link goes to the slow path, which pops the same block and reports. */
        if (LX_LIKELY(block_link_ok(b, next))) {
            slab_pop_checked(pg, next);
            stats_direct_alloc(h, d);
            return b;
        }
    }
    return malloc_refill(size, h, pg, d, __builtin_return_address(0));
}

LX_EXPORT void *lx_calloc(size_t count, size_t size)
{
    size_t total;
    if (LX_MUL_OVERFLOW(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    bool fresh;
    void *p;
    check_set_caller(__builtin_return_address(0));
    /* debug_on() initialises first: the process's first allocation may be this one. */
    if (LX_UNLIKELY(debug_on())) {
        p = debug_alloc(total, LX_ALIGN, true, __builtin_return_address(0));
        fresh = true;
    } else {
        p = alloc_any(total, LX_ALIGN, total, &fresh);
    }
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    unsigned hooks = atomic_load_explicit(&lx_hooks_active, memory_order_relaxed);
    if (LX_UNLIKELY(hooks & LX_HOOK_TRACK))
        track_alloc(p, fresh);
    if (!fresh)
        memset(p, 0, total);
    if (LX_UNLIKELY(hooks & LX_HOOK_PROF))
        prof_alloc(p, total);
    return p;
}

/* ---- free -------------------------------------------------------------------- */

/* Tell memcheck the block is free (all but the two words that hold its links:
 * the free-list link, and a delayed-list link, heap.c; the allocator writes them). */
static void track_block_free(void *p, const struct block_info *bi)
{
    track_free(p);
    if (bi->kind == BLOCK_SMALL)
        track_undefined(p, 2 * sizeof(struct block));
}

static void free_known_block(void *p, const struct block_info *bi)
{
    unsigned hooks = atomic_load_explicit(&lx_hooks_active, memory_order_relaxed);
    switch (bi->kind) {
    case BLOCK_SMALL:
    case BLOCK_MEDIUM:
    case BLOCK_LARGE:
        if (hooks != 0 && !lx_opt.debug) {
            int byte = atomic_load_explicit(&lx_opt.perturb, memory_order_relaxed);
            if (lx_opt.zero_on_free)
                memset(p, 0, bi->usable);
            else if (byte != 0)
                memset(p, byte, bi->usable);
        }
        if (LX_UNLIKELY(hooks & LX_HOOK_TRACK))
            track_block_free(p, bi);
        struct heap *h = lx_thread_heap_for_free(
            bi->kind != BLOCK_LARGE ? (const struct heap *)(bi->pg->local_key & ~LX_KEY_FLAGS)
                                    : NULL);
        if (bi->kind == BLOCK_SMALL) {
            heap_free_slab_slow(h, bi->pg, p);
        } else if (bi->kind == BLOCK_MEDIUM) {
            (void)medium_free(h, bi->pg, p); /* block_lookup found it live */
        } else {
            if (h != &lx_empty_heap) {
                large_free(bi->pg, &h->runs, &h->large);
                if (LX_UNLIKELY(stats_large_unflushed(&h->large)))
                    heap_flush_stats(h);
            } else {
                large_free(bi->pg, NULL, NULL);
            }
            trace_tick();
        }
        break;
    case BLOCK_HUGE:
        if (LX_UNLIKELY(hooks & LX_HOOK_TRACK))
            track_block_free(p, bi);
        huge_freed_note(p);
        huge_free(bi->seg);
        trace_tick();
        break;
    case BLOCK_BAD:
        break;
    }
}

LX_COLD static void free_slow(void *p, const void *caller)
{
    if (p == NULL)
        return;
    check_set_caller(caller);
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_PROF))
        prof_free(p);
    if (LX_UNLIKELY(lx_opt.debug)) {
        debug_free(p, "free", caller);
        return;
    }
    struct block_info bi = block_lookup(p, "free");
    if (bi.kind == BLOCK_BAD)
        return;
    free_known_block(p, &bi);
}

/* A free of a small block of this heap's slab `pg`, which passed the checks:
 * onto local_free. */
LX_INLINE void free_local(struct heap *h, struct page *pg, struct block *b)
{
    block_set_link(b, pg->local_free); /* a block of pg, or its list end */
    pg->local_free = b;
#if LX_STATS
    h->free_count[pg->class_idx]++;
#endif
    /* A slab alone in its queue is kept when it empties (heap_page_empty would
     * return at once): test that here, without the call. */
    if (LX_UNLIKELY(--pg->used == 0) && (pg->next != NULL || pg->prev != NULL))
        heap_page_empty(h, pg);
}

/*
 * The checks of a small block's free, in the slab `pg` that a descriptor named:
 * a pointer that does not start a carved block of this slab (inside a block,
 * misaligned, past the carved end), or a block that looks free already, fails
 * them; the slow path then says which. (A slab with holes also needs the hole
 * mark of the block's page: a block on a purged page reads as zeroes, not as
 * free. Its key carries LX_KEY_HOLES, so the fast path leaves it to
 * free_not_fast.)
 */
LX_INLINE bool free_block_ok(const struct page *pg, const struct block *b)
{
    return LX_LIKELY(slab_block_start(pg, (uintptr_t)b - (uintptr_t)pg->start)) &&
           LX_LIKELY(!block_looks_free(b));
}

/* A free the fast path did not take, of a pointer in a normal segment with no
 * hook on: a block past the first group of a long slab of this heap, a block of
 * a full slab or of a slab with holes (not in a hole: that would be a double
 * free, its first word reads zero) of this heap, or a free into another heap's
 * slab (a remote free, pushed onto the slab's remote list). Anything else, and
 * a thread with no heap yet (whose first free makes one), take the slow path. */
LX_NOINLINE static void free_not_fast(void *p, struct heap *h, const void *caller)
{
    struct segment *seg = segment_of(p);
    struct page *pg = segment_page_of(seg, p);
    struct block *b = p;
    uintptr_t key = pg->local_key;
    uintptr_t owner = key & ~LX_KEY_FLAGS;
    if (LX_LIKELY(pg->kind == RUN_SLAB) && LX_LIKELY(owner != 0) &&
        LX_LIKELY(h != &lx_empty_heap) && free_block_ok(pg, b) &&
        ((key & LX_KEY_HOLES) == 0 || !slab_block_in_hole(pg, b))) {
        if (key == (uintptr_t)h)
            free_local(h, pg, b);
        else /* another heap's slab, or one of h's that is full or has holes */
            heap_free_slab_slow(h, pg, b);
        return;
    }
    if (pg->kind == RUN_MEDIUM && h != &lx_empty_heap) {
        check_set_caller(caller);
        if (LX_LIKELY(medium_free(h, pg, p)))
            return;
    }
    free_slow(p, caller);
}

/* p's segment is not in h's cache: with no hook on, learn it if it is a normal
 * segment (a heap of a thread's own only: a thread with none yet takes the slow
 * paths, which make one). The hooks are read again after seg_cache_learn's
 * fence: heaps_fast_paths_changed sets them first and clears every cache after,
 * so a slot learnt while a hook comes on is forgotten by one side or the other. */
LX_NOINLINE static bool heap_learn_segment(struct heap *h, const void *p)
{
    if (h == &lx_empty_heap || atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) ||
        !seg_cache_learn(&h->segs, p))
        return false;
    if (LX_LIKELY(!atomic_load_explicit(&lx_hooks_active, memory_order_relaxed)))
        return true;
    seg_caches_clear();
    return false;
}

/* Is p in a normal segment that h may trust, with no hook on? */
LX_INLINE bool heap_segment_normal(struct heap *h, const void *p)
{
    return seg_cache_holds(&h->segs, p) || heap_learn_segment(h, p);
}

/* A free of a pointer whose segment is not in the heap's cache. */
LX_NOINLINE static void free_uncached(void *p, struct heap *h, const void *caller)
{
    if (heap_learn_segment(h, p))
        free_not_fast(p, h, caller);
    else
        free_slow(p, caller);
}

/* The fast path reads one descriptor, found with one compare and an add: its
 * group's, from the heap's segment cache, which is the slab's own when the
 * slab is this heap's. */
LX_EXPORT void lx_free(void *p)
{
    struct heap *h = lx_tls_heap;
    if (LX_LIKELY(seg_cache_holds(&h->segs, p))) {
        struct page *pg = seg_cache_group_page(&h->segs, p);
        if (LX_LIKELY(pg->local_key == (uintptr_t)h) && free_block_ok(pg, p)) {
            free_local(h, pg, p);
            return;
        }
        free_not_fast(p, h, __builtin_return_address(0));
        return;
    }
    free_uncached(p, h, __builtin_return_address(0));
}

LX_EXPORT void lx_free_sized(void *p, size_t size)
{
    (void)size;
    lx_free(p);
}

LX_EXPORT void lx_free_aligned_sized(void *p, size_t alignment, size_t size)
{
    (void)alignment;
    (void)size;
    lx_free(p);
}

/* ---- realloc ------------------------------------------------------------------ */

LX_RARE static void *debug_realloc(void *p, size_t size, const void *site)
{
    struct debug_block d;
    struct block_info bi = debug_lookup(p, "realloc", &d);
    if (bi.kind == BLOCK_BAD) {
        errno = EINVAL;
        return NULL;
    }
    /* Always move: a stale pointer to the old block then shows up as a write
     * after free. */
    void *q = debug_alloc(size, LX_ALIGN, false, site);
    if (q == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(q, p, size < d.size ? size : d.size);
    debug_free(p, "realloc", site);
    return q;
}

/* realloc resizes a large block in place (large_shrink, large_grow), counted as
 * its frees are: in the heap of the calling thread. False if it cannot grow. */
static bool large_resize_here(struct page *pg, size_t size)
{
    struct heap *h = lx_thread_heap_for_free(NULL);
    struct large_counts *lc = h != &lx_empty_heap ? &h->large : NULL;
    bool done = true;
    if (size > pg->block_size)
        done = large_grow(pg, size, lc);
    else
        large_shrink(pg, size, lc);
    if (lc != NULL && LX_UNLIKELY(stats_large_unflushed(lc)))
        heap_flush_stats(h);
    trace_tick();
    return done;
}

/* A small block made smaller keeps its place unless the new size would fit a
 * block half as big (the smallest classes always keep theirs). */
LX_INLINE bool small_block_stays(size_t size, size_t usable)
{
    return size <= usable && (size > usable / 2 || usable <= 64);
}

/* realloc of a live block p (not NULL). */
static void *realloc_block(void *p, size_t size, const void *caller)
{
    if (size == 0) { /* glibc frees and returns NULL */
        if (LX_UNLIKELY(lx_opt.debug))
            debug_free(p, "realloc", caller);
        else
            lx_free(p);
        return NULL;
    }
    if (LX_UNLIKELY(lx_opt.debug))
        return debug_realloc(p, size, caller);
    struct block_info bi = block_lookup(p, "realloc");
    if (bi.kind == BLOCK_BAD) {
        errno = EINVAL;
        return NULL;
    }
    size_t threshold = atomic_load_explicit(&lx_opt.mmap_threshold, memory_order_relaxed);
    /* Shrinking. A small block stays when the new size would not fit a block half
     * as big. A large block stays where it is and gives the whole pages past its
     * new end back to the arena (unless the new size is small and at most half:
     * a slab's block then holds it), with no hook on. A huge block stays as it
     * is when it grows into the slack of its mapping, and when it stays huge and
     * shrinks by less than a segment and an eighth (huge_resize_here); a bigger
     * shrink gives back what lies past its new end (huge_realloc). */
    unsigned hooks = atomic_load_explicit(&lx_hooks_active, memory_order_relaxed);
    if (size <= bi.usable) {
        bool half = size > bi.usable / 2;
        if ((bi.kind == BLOCK_SMALL || bi.kind == BLOCK_MEDIUM) && small_block_stays(size, bi.usable))
            return p;
        if (bi.kind == BLOCK_LARGE && (half || (size > LX_SMALL_MAX && hooks == 0))) {
            if (hooks == 0)
                (void)large_resize_here(bi.pg, size);
            return p;
        }
        if (bi.kind == BLOCK_HUGE && (size >= threshold || size >= bi.seg->huge_asked) &&
            huge_resize_here(bi.seg, size))
            return p;
    }
    /* A medium block of this thread's heap grows into the free chunk after it
     * (no hook on: a hook's block comes from a slab). */
    if (bi.kind == BLOCK_MEDIUM && size > bi.usable && size <= LX_MEDIUM_MAX && hooks == 0 &&
        medium_grow(lx_tls_heap, bi.pg, p, size))
        return p;
    /* Under valgrind, huge blocks move by copying too: memcheck then copies the
     * definedness of every byte, which mremap would make it lose. */
    bool tracking = (hooks & LX_HOOK_TRACK) != 0;
    /* A buffer that keeps growing is cheaper in a mapping of its own: mremap
     * moves its pages where the arena would copy them into a new run (and fault
     * in that run). So a large run that grows to LX_REALLOC_MAP_MIN or more
     * becomes a huge block, below the threshold too, and a huge block grows as
     * a huge block; a huge block shrinking below the threshold goes back to the
     * arena. */
    bool grow = size > bi.usable;
    bool map = grow && size >= LX_REALLOC_MAP_MIN && size >= threshold / 4;
    /* A large block that stays below the threshold and short of a mapping of its
     * own grows in place when the pages after its run are free: no copy, and
     * the pages it has stay. */
    if (grow && bi.kind == BLOCK_LARGE && !map && size < threshold && hooks == 0 &&
        large_resize_here(bi.pg, size))
        return p;
    if (bi.kind == BLOCK_HUGE && (size >= threshold || map) && size > LX_SMALL_MAX && !tracking) {
        if (size > PTRDIFF_MAX) {
            errno = ENOMEM;
            return NULL;
        }
        /* Shrinking: whole segments past the new end go to the huge cache, and
         * the rest of the mapping past it is unmapped. */
        void *q = huge_realloc(bi.seg, size, !grow);
        trace_tick();
        if (q != NULL)
            return q;
        /* The mapping could not be resized (no address space, or it spans two
         * kernel mappings after a join): copy, as for any other block. */
    }
    bool fresh;
    void *q = NULL;
    if (map && bi.kind != BLOCK_SMALL && !tracking) {
        q = huge_alloc_growing(size, &fresh);
        trace_tick();
    }
    size_t keep = size < bi.usable ? size : bi.usable;
    if (q == NULL)
        q = alloc_any(size, LX_ALIGN, keep, &fresh);
    if (q == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(tracking))
        track_alloc(q, fresh);
    memcpy(q, p, keep);
    free_known_block(p, &bi);
    return q;
}

/* realloc under the profiler: p's record leaves the table before p can be
 * freed (and its address reused by another thread), and comes back if the
 * realloc fails; the result is a new block of the realloc's caller. */
static void *realloc_profiled(void *p, size_t size, const void *caller)
{
    struct prof_record rec;
    bool had = prof_take(p, &rec);
    void *q = realloc_block(p, size, caller);
    if (q != NULL)
        prof_alloc(q, size);
    else if (had && size != 0)
        prof_restore(p, &rec);
    return q;
}

/* realloc's fast path: p is a small block of h's slab pg that passed free's
 * fast-path checks (so no hook is on), and the new size is small too. A new
 * block comes from malloc's fast path and p goes onto local_free, unless that
 * malloc made pg full (then free's slow path takes it). What realloc_block
 * does for such a block, for about a hundred instructions fewer. */
LX_NOINLINE static void *realloc_local(struct heap *h, struct page *pg, void *p, size_t size,
                                       const void *caller)
{
    size_t usable = pg->block_size;
    if (small_block_stays(size, usable))
        return p;
    void *q = lx_malloc(size); /* sets errno when it fails */
    if (LX_UNLIKELY(q == NULL))
        return NULL;
    memcpy(q, p, size < usable ? size : usable);
    if (LX_LIKELY(pg->local_key == (uintptr_t)h))
        free_local(h, pg, p);
    else
        free_not_fast(p, h, caller);
    return q;
}

LX_EXPORT void *lx_realloc(void *p, size_t size)
{
    const void *caller = __builtin_return_address(0);
    struct heap *h = lx_tls_heap;
    /* NULL is in no cached segment; size 0 (which frees) wraps past the bound. */
    if (LX_LIKELY(seg_cache_holds(&h->segs, p)) && size - 1 < LX_SMALL_MAX) {
        struct page *pg = seg_cache_group_page(&h->segs, p);
        if (LX_LIKELY(pg->local_key == (uintptr_t)h) && free_block_ok(pg, p))
            return realloc_local(h, pg, p, size, caller);
    }
    if (p == NULL) {
        if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed)))
            return malloc_slow(size, caller);
        return lx_malloc(size);
    }
    check_set_caller(caller);
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_PROF))
        return realloc_profiled(p, size, caller);
    return realloc_block(p, size, caller);
}

LX_EXPORT void *lx_reallocarray(void *p, size_t count, size_t size)
{
    size_t total;
    if (LX_MUL_OVERFLOW(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return lx_realloc(p, total);
}

/* ---- aligned allocation ----------------------------------------------------- */

static bool is_power_of_two(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

static void *aligned_alloc_internal(size_t alignment, size_t size, const void *caller)
{
    if (alignment <= LX_ALIGN && !atomic_load_explicit(&lx_hooks_active, memory_order_relaxed))
        return lx_malloc(size);
    check_set_caller(caller);
    bool fresh;
    void *p;
    if (debug_on()) {
        p = debug_alloc(size, alignment, false, caller);
        if (p == NULL)
            errno = ENOMEM;
        prof_hook_alloc(p, size);
        return p;
    }
    p = alloc_any(size, alignment, 0, &fresh);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed)))
        hooks_alloc(p, size, fresh);
    prof_hook_alloc(p, size);
    return p;
}

LX_EXPORT int lx_posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || !is_power_of_two(alignment))
        return EINVAL;
    int saved = errno;
    void *p = aligned_alloc_internal(alignment, size, __builtin_return_address(0));
    if (p == NULL) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

LX_EXPORT void *lx_aligned_alloc(size_t alignment, size_t size)
{
    if (!is_power_of_two(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_alloc_internal(alignment, size, __builtin_return_address(0));
}

LX_EXPORT void *lx_memalign(size_t alignment, size_t size)
{
    if (alignment > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (!is_power_of_two(alignment)) { /* glibc rounds up to a power of two */
        size_t a = 1;
        while (a < alignment)
            a <<= 1;
        alignment = a;
    }
    return aligned_alloc_internal(alignment, size, __builtin_return_address(0));
}

LX_EXPORT void *lx_valloc(size_t size)
{
    return aligned_alloc_internal(LX_PAGE_SIZE, size, __builtin_return_address(0));
}

LX_EXPORT void *lx_pvalloc(size_t size)
{
    if (size > SIZE_MAX - LX_PAGE_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    size_t rounded = (size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    return aligned_alloc_internal(LX_PAGE_SIZE, rounded == 0 ? LX_PAGE_SIZE : rounded,
                                  __builtin_return_address(0));
}

LX_EXPORT size_t lx_malloc_usable_size(void *p)
{
    /* Programs that keep count of their memory (redis) ask after every malloc
     * and before every free: the start of a live small or large block is
     * answered here, with free's checks; anything else takes the full lookup,
     * which reports a bad pointer. */
    if (heap_segment_normal(lx_tls_heap, p)) {
        struct segment *seg = segment_of(p);
        struct page *pg = segment_page_of(seg, p);
        struct block *b = p;
        if (pg->kind == RUN_SLAB) {
            if (LX_LIKELY(slab_block_start(pg, (uintptr_t)b - (uintptr_t)pg->start)) &&
                LX_LIKELY(!block_looks_free(b)) && !slab_block_in_hole(pg, b))
                return pg->block_size;
        } else if (pg->kind == RUN_LARGE && (uint8_t *)p == pg->start) {
            return pg->block_size;
        } else if (pg->kind == RUN_MEDIUM) {
            size_t usable = medium_usable(pg, p);
            if (usable != 0)
                return usable;
        }
    }
    if (p == NULL)
        return 0;
    check_set_caller(__builtin_return_address(0));
    if (LX_UNLIKELY(lx_opt.debug)) {
        struct debug_block d;
        struct block_info bi = debug_lookup(p, "malloc_usable_size", &d);
        return bi.kind == BLOCK_BAD ? 0 : d.size;
    }
    struct block_info bi = block_lookup(p, "malloc_usable_size");
    return bi.kind == BLOCK_BAD ? 0 : bi.usable;
}

/* ---- tuning and statistics ------------------------------------------------- */

LX_EXPORT int lx_mallopt(int param, int value)
{
    lx_process_init();
    if (param <= -1000) /* lxmalloc's own parameters come from the environment only */
        return 0;
    unsigned char hooks = atomic_load(&lx_hooks_active);
    size_t threshold = atomic_load(&lx_opt.mmap_threshold);
    int ok = options_mallopt(param, value);
    if (atomic_load(&lx_hooks_active) != hooks || atomic_load(&lx_opt.mmap_threshold) != threshold)
        heaps_fast_paths_changed();
    return ok;
}

LX_EXPORT int lx_malloc_trim(size_t pad)
{
    (void)pad; /* every free byte goes back; there is no top chunk to pad */
    lx_process_init();
    heaps_collect(lx_tls_heap);
    size_t released = huge_cache_expire(true);
    released += arenas_trim();
    return released > 0 ? 1 : 0;
}

LX_EXPORT void lx_malloc_stats(void)
{
    lx_process_init();
    stats_print(2);
}

size_t alloc_info_xml(char *buf, size_t cap)
{
    lx_process_init();
    return stats_xml(buf, cap);
}

LX_EXPORT int lx_malloc_info(int options, FILE *stream)
{
    if (options != 0 || stream == NULL) {
        errno = EINVAL;
        return -1;
    }
    size_t cap = 64 * 1024;
    char *buf = os_map(cap);
    if (buf == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = alloc_info_xml(buf, cap);
    /* malloc_info's contract is a stdio stream; the text is built without the heap
     * and handed over in one call. */
    size_t written = fwrite(buf, 1, n, stream);
    (void)os_unmap(buf, cap);
    return written == n ? 0 : -1;
}
