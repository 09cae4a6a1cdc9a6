/* SPDX-License-Identifier: MIT */
/*
 * xheap.c — first-class heaps (lx_heap_new ... lx_heap_destroy). Layer: beside
 * alloc, on heap, large and pages.
 *
 * A first-class heap is a struct heap (heap.c) that is no thread's TLS heap
 * (owned == HEAP_FIRST_CLASS), plus a large_owner list of its large runs and huge
 * blocks. Its slabs carry the heap's address in local_key like any slab, so
 * every existing path stays correct: lx_free from any thread sees a slab that is
 * not its own heap's and frees remotely (xthread_free, or the heap's delayed
 * list when the slab is full); the heap takes those blocks back when it refills.
 * lx_heap_free is the local free for the thread using the heap.
 *
 * Who writes what: the thread using the heap (one at a time, by contract) owns
 * its plain fields; other threads touch it only through the remote-free lists
 * and the large_owner lock. Wrappers (struct lx_heap) and their heaps are never
 * unmapped: a destroyed heap's wrapper goes on a free list, keeping its heap and
 * its place in the heap registry, and lx_heap_new takes it again. Lock order:
 * xheaps_lock and the large_owner locks are never held together with another
 * allocator lock (lx_heap_new releases xheaps_lock before lx_heaps_lock).
 */
#include "xheap.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "heap.h"
#include "init.h"
#include "large.h"
#include "lxmalloc.h"
#include "os.h"
#include "pages.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"
#include "stats.h"

struct lx_heap {
    struct heap *heap;         /* its slabs' local_key; made once, kept when recycled */
    struct large_owner large;  /* its large runs and huge blocks */
    uintptr_t cookie;          /* own address ^ lx_secret while live, 0 once destroyed */
    struct lx_heap *next_free; /* destroyed wrappers for reuse; xheaps_lock */
    struct lx_heap *next_all;  /* every wrapper ever made (fork handlers); xheaps_lock */
} __attribute__((aligned(64)));

static lx_lock_t xheaps_lock;
static struct lx_heap *xheaps_all;
static struct lx_heap *xheaps_free;
static uint8_t *xmeta_cursor; /* wrappers come from a bump region of their own */
static size_t xmeta_left;

LX_RARE static struct lx_heap *xheap_new_locked(void)
{
    size_t size = sizeof(struct lx_heap);
    if (xmeta_left < size) {
        size_t chunk = 16 * 1024;
        uint8_t *p = os_map(chunk);
        if (p == NULL)
            return NULL;
        xmeta_cursor = p;
        xmeta_left = chunk;
    }
    struct lx_heap *x = (struct lx_heap *)(void *)xmeta_cursor;
    xmeta_cursor += size;
    xmeta_left -= size;
    x->next_all = xheaps_all;
    xheaps_all = x;
    return x;
}

LX_RARE LX_INLINE bool xheap_live(const struct lx_heap *x)
{
    return x != NULL && x->cookie == ((uintptr_t)x ^ lx_secret);
}

/* A call on something that is not a live heap: a heap error. */
LX_RARE static bool xheap_usable(struct lx_heap *x, const char *func)
{
    if (LX_LIKELY(xheap_live(x)))
        return true;
    check_bad_pointer(func, x, "not a live heap (destroyed, or not from lx_heap_new)");
    return false;
}

LX_RARE LX_EXPORT lx_heap_t *lx_heap_new(void)
{
    lx_process_init();
    lx_lock(&xheaps_lock);
    struct lx_heap *x = xheaps_free;
    if (x != NULL)
        xheaps_free = x->next_free;
    else
        x = xheap_new_locked();
    lx_unlock(&xheaps_lock);
    if (x == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (x->heap == NULL) {
        x->heap = heap_new_first_class();
        if (x->heap == NULL) {
            lx_lock(&xheaps_lock);
            x->next_free = xheaps_free;
            xheaps_free = x;
            lx_unlock(&xheaps_lock);
            errno = ENOMEM;
            return NULL;
        }
    }
    x->next_free = NULL;
    x->cookie = (uintptr_t)x ^ lx_secret;
    return x;
}

/* Any size; NULL without touching errno. Sizes up to LX_LARGE_MAX are slabs and
 * runs whatever the mmap threshold, so that the heap owns them. `write`: the
 * bytes the caller writes at once (large_alloc). */
LX_RARE static void *xheap_alloc(struct lx_heap *x, size_t size, size_t write, bool *zeroed)
{
    struct heap *h = x->heap;
    *zeroed = false;
    if (size <= LX_SMALL_MAX) {
        unsigned cls = size_to_class(size);
        struct page *pg = h->queues[cls].head;
        if (LX_LIKELY(pg != NULL && !list_end(pg->free))) {
            struct block *b = slab_pop(pg); /* checks the link, marks the block live */
            stats_small_alloc(h, cls);
            return b;
        }
        return heap_alloc_small(h, cls);
    }
    if (size > PTRDIFF_MAX)
        return NULL;
    if (size <= LX_LARGE_MAX)
        return large_alloc_owned(&x->large, h->arena, size, LX_ALIGN, write, zeroed);
    return huge_alloc_owned(&x->large, size, LX_ALIGN, zeroed);
}

LX_RARE LX_EXPORT void *lx_heap_malloc(lx_heap_t *x, size_t size)
{
    if (!xheap_usable(x, "lx_heap_malloc")) {
        errno = EINVAL;
        return NULL;
    }
    bool zeroed;
    void *p = xheap_alloc(x, size, 0, &zeroed);
    if (p == NULL)
        errno = ENOMEM;
    return p;
}

LX_RARE LX_EXPORT void *lx_heap_calloc(lx_heap_t *x, size_t count, size_t size)
{
    if (!xheap_usable(x, "lx_heap_calloc")) {
        errno = EINVAL;
        return NULL;
    }
    size_t total;
    bool zeroed = false;
    void *p = NULL;
    if (!LX_MUL_OVERFLOW(count, size, &total))
        p = xheap_alloc(x, total, total, &zeroed);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (!zeroed)
        memset(p, 0, total);
    return p;
}

/* The slab descriptor of `p` if it is the start of a block of a slab of `h`. */
LX_RARE static struct page *xheap_slab_of(struct heap *h, void *p)
{
    if (segmap_get((uintptr_t)p) != SEGMAP_NORMAL)
        return NULL;
    struct page *pg = segment_page_of(segment_of(p), p);
    if (pg->kind != RUN_SLAB || (pg->local_key & ~LX_KEY_FLAGS) != (uintptr_t)h)
        return NULL;
    uint8_t *b = p;
    if (b < pg->start || (size_t)(b - pg->start) % pg->block_size != 0)
        return NULL;
    return pg;
}

/* Does `p` (a valid block) belong to heap `x`? */
LX_RARE static bool xheap_owns(struct lx_heap *x, void *p)
{
    unsigned m = segmap_get((uintptr_t)p);
    if (m == SEGMAP_NORMAL) {
        struct page *pg = segment_page_of(segment_of(p), p);
        if (pg->kind == RUN_SLAB)
            return (pg->local_key & ~LX_KEY_FLAGS) == (uintptr_t)x->heap;
        return pg->kind == RUN_LARGE && pg->local_key == (uintptr_t)&x->large;
    }
    if (m == SEGMAP_HUGE || m == SEGMAP_HUGE_TAIL) {
        struct segment *seg = segment_huge_containing(p);
        return seg != NULL && seg->owner == &x->large;
    }
    return false;
}

LX_RARE LX_EXPORT void lx_heap_free(lx_heap_t *x, void *p)
{
    if (p == NULL)
        return;
    if (xheap_live(x)) {
        struct page *pg = xheap_slab_of(x->heap, p);
        if (pg != NULL) {
            heap_free_slab_slow(x->heap, pg, p); /* the owner's local free */
            return;
        }
    }
    lx_free(p);
}

LX_RARE LX_EXPORT void *lx_heap_realloc(lx_heap_t *x, void *p, size_t size)
{
    if (p == NULL)
        return lx_heap_malloc(x, size);
    if (!xheap_usable(x, "lx_heap_realloc")) {
        errno = EINVAL;
        return NULL;
    }
    if (size == 0) { /* as lx_realloc: free, return NULL */
        lx_heap_free(x, p);
        return NULL;
    }
    size_t usable = lx_malloc_usable_size(p); /* reports a bad pointer */
    if (usable == 0) {
        errno = EINVAL;
        return NULL;
    }
    bool mine = xheap_owns(x, p);
    if (mine && size <= usable && (size > usable / 2 || usable <= 64))
        return p;
    if (mine && size > LX_LARGE_MAX && usable > LX_LARGE_MAX)
        return lx_realloc(p, size); /* a huge block of the heap: mremap keeps it listed */
    bool zeroed;
    size_t keep = size < usable ? size : usable;
    void *q = xheap_alloc(x, size, keep, &zeroed);
    if (q == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(q, p, keep);
    lx_heap_free(x, p);
    return q;
}

/* The slab dies with its heap: blocks still in use die with it. Remote frees
 * were counted by the threads that made them; local frees already by `h`. */
LX_RARE static void xheap_release_slab(struct heap *h, struct page *pg)
{
    (void)slab_collect_thread(pg);
    h->free_count[pg->class_idx] += pg->used;
    pg->local_key = 0;
    pg->free = pg->local_free = NULL;
    pg->used = 0;
    pg->next = pg->prev = NULL;
    arena_free_run(pg);
}

LX_RARE LX_EXPORT void lx_heap_destroy(lx_heap_t *x)
{
    if (x == NULL)
        return;
    if (!xheap_usable(x, "lx_heap_destroy"))
        return;
    x->cookie = 0;
    struct heap *h = x->heap;
    /* Delayed frees are blocks of full slabs that other threads freed: still
     * counted in their slab's `used`, already counted as freed. */
    struct block *b = atomic_exchange_explicit(&h->delayed_free, NULL, memory_order_acquire);
    while (!list_end(b)) {
        struct block *next = block_next(delayed_link(b));
        segment_page_of(segment_of(b), b)->used--;
        b = next;
    }
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        struct page *pg = h->queues[c].head;
        while (pg != NULL) {
            struct page *next = pg->next;
            xheap_release_slab(h, pg);
            pg = next;
        }
        h->queues[c].head = h->queues[c].tail = NULL;
    }
    struct page *pg = h->full;
    while (pg != NULL) {
        struct page *next = pg->next;
        xheap_release_slab(h, pg);
        pg = next;
    }
    h->full = NULL;
    run_cache_flush(&h->runs, true);
    for (unsigned d = 0; d < LX_DIRECT_COUNT; d++)
        atomic_store_explicit(&h->direct[d], &lx_empty_page, memory_order_relaxed);
    h->slab_pages = h->sweep_pages = 0; /* a recycled heap starts its sweep count anew */
    heap_flush_stats(h);
    large_owner_release_all(&x->large);
    lx_lock(&xheaps_lock);
    x->next_free = xheaps_free;
    xheaps_free = x;
    lx_unlock(&xheaps_lock);
}

/* ---- fork ---------------------------------------------------------------- */

void xheaps_fork_prepare(void)
{
    lx_lock(&xheaps_lock);
    for (struct lx_heap *x = xheaps_all; x != NULL; x = x->next_all)
        lx_lock(&x->large.lock);
}

void xheaps_fork_parent(void)
{
    for (struct lx_heap *x = xheaps_all; x != NULL; x = x->next_all)
        lx_unlock(&x->large.lock);
    lx_unlock(&xheaps_lock);
}

void xheaps_fork_child(void)
{
    for (struct lx_heap *x = xheaps_all; x != NULL; x = x->next_all)
        lx_lock_reset(&x->large.lock);
    lx_lock_reset(&xheaps_lock);
}
