/* SPDX-License-Identifier: MIT */
/*
 * alloc.c — the api layer: lx_malloc, lx_free and the rest of the family, with
 * glibc's semantics. The only layer that sets errno.
 *
 * malloc fast path (sizes up to LX_DIRECT_MAX): the thread's heap -> its direct
 * table entry for (size+15)/16 -> that slab's free list -> pop. A thread with no
 * heap yet points at lx_empty_heap, whose entries all lead to a slab with no
 * free block, so the first malloc falls into the slow path without a test.
 *
 * free fast path: one byte of the segment map says the pointer is in a normal
 * segment -> mask to the segment -> head[] to the run's descriptor -> if the run
 * is a slab owned by this thread's heap and not full, push on local_free.
 * Everything else (remote frees, full slabs, large and huge blocks, pointers that
 * are not ours, perturb mode) goes to the slow path.
 */
#include "alloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "heap.h"
#include "init.h"
#include "large.h"
#include "lxmalloc.h"
#include "options.h"
#include "pages.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"
#include "stats.h"
#include "track.h"

/* ---- lookup of a block we may own --------------------------------------- */

enum block_kind { BLOCK_BAD = 0, BLOCK_SMALL, BLOCK_LARGE, BLOCK_HUGE };

struct block_info {
    enum block_kind kind;
    struct segment *seg;
    struct page *pg;
    size_t usable;
    const char *problem; /* for BLOCK_BAD */
};

static struct block_info block_lookup(void *p)
{
    struct block_info bi = {BLOCK_BAD, NULL, NULL, 0, "invalid pointer (not allocated by lxmalloc)"};
    unsigned m = segmap_get((uintptr_t)p);
    if (m == SEGMAP_NORMAL) {
        struct segment *seg = segment_of(p);
        struct page *pg = segment_page_of(seg, p);
        bi.seg = seg;
        bi.pg = pg;
        if (pg->kind == RUN_SLAB) {
            size_t off = (size_t)((uint8_t *)p - pg->start);
            if ((uint8_t *)p < pg->start || off % pg->block_size != 0) {
                bi.problem = "invalid pointer (inside a block, not at its start)";
                return bi;
            }
            bi.kind = BLOCK_SMALL;
            bi.usable = pg->block_size;
        } else if (pg->kind == RUN_LARGE) {
            if ((uint8_t *)p != pg->start) {
                bi.problem = "invalid pointer (inside a block, not at its start)";
                return bi;
            }
            bi.kind = BLOCK_LARGE;
            bi.usable = pg->block_size;
        } else {
            bi.problem = "double free or invalid pointer (memory not allocated)";
        }
    } else if (m == SEGMAP_HUGE || m == SEGMAP_HUGE_TAIL) {
        struct segment *seg = segment_huge_containing(p);
        if (seg == NULL || !segment_valid(seg)) {
            bi.problem = "double free or invalid pointer (memory not allocated)";
            return bi;
        }
        if ((uint8_t *)p != (uint8_t *)seg + seg->huge_offset) {
            bi.problem = "invalid pointer (inside a block, not at its start)";
            return bi;
        }
        bi.kind = BLOCK_HUGE;
        bi.seg = seg;
        bi.usable = huge_usable(seg);
    }
    return bi;
}

/* ---- allocation ------------------------------------------------------------ */

LX_INLINE struct heap *heap_get(void)
{
    struct heap *h = lx_tls_heap;
    if (LX_UNLIKELY(h == &lx_empty_heap))
        h = lx_thread_init();
    return h;
}

static void *alloc_small(struct heap *h, unsigned cls)
{
    struct page *pg = h->queues[cls].head;
    if (pg != NULL && pg->free != NULL) {
        struct block *b = pg->free;
        pg->free = block_next(b);
        pg->used++;
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

/* Any size and alignment (a power of two); NULL without touching errno. `*fresh`
 * says the memory is a new mapping and reads as zero. */
static void *alloc_any(size_t size, size_t alignment, bool *fresh)
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
        if (alignment <= LX_ALIGN && size <= LX_SMALL_MAX)
            return alloc_small(h, size_to_class(size));
        if (alignment <= LX_PAGE_SIZE && size <= LX_SMALL_MAX) {
            unsigned cls = class_for_alignment(size, alignment);
            if (cls < LX_CLASS_COUNT)
                return alloc_small(h, cls);
        }
        size_t extra = alignment > LX_PAGE_SIZE ? alignment - LX_PAGE_SIZE : 0;
        if (size <= LX_LARGE_MAX && extra <= LX_LARGE_MAX - size)
            return large_alloc(h->arena, size, alignment < LX_ALIGN ? LX_ALIGN : alignment);
    }
    *fresh = true;
    return huge_alloc(size, alignment);
}

static void perturb_alloc(void *p, size_t size)
{
    int byte = atomic_load_explicit(&lx_opt.perturb, memory_order_relaxed);
    if (byte != 0 && p != NULL)
        memset(p, byte ^ 0xff, size);
}

/* Under valgrind: p is a block from now on (src/track.h). */
static void track_alloc(void *p, bool zeroed)
{
    if (p != NULL)
        track_malloc(p, block_lookup(p).usable, zeroed);
}

/* The hooks of a new block: described to memcheck first, so that perturb's
 * writes land in a block it knows. */
static void hooks_alloc(void *p, size_t size, bool fresh)
{
    if (atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_TRACK)
        track_alloc(p, fresh);
    perturb_alloc(p, size);
}

LX_COLD static void *malloc_slow(size_t size)
{
    bool fresh;
    void *p = alloc_any(size, LX_ALIGN, &fresh);
    if (LX_UNLIKELY(p == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed)))
        hooks_alloc(p, size, fresh);
    return p;
}

LX_EXPORT void *lx_malloc(size_t size)
{
    struct heap *h = lx_tls_heap;
    if (LX_LIKELY(size <= LX_DIRECT_MAX)) {
        struct page *pg = h->direct[(size + LX_ALIGN - 1) / LX_ALIGN];
        struct block *b = pg->free;
        if (LX_LIKELY(b != NULL) &&
            LX_LIKELY(!atomic_load_explicit(&lx_hooks_active, memory_order_relaxed))) {
            pg->free = block_next(b);
            pg->used++;
            stats_small_alloc(h, pg->class_idx);
            return b;
        }
    }
    return malloc_slow(size);
}

LX_EXPORT void *lx_calloc(size_t count, size_t size)
{
    size_t total;
    if (LX_MUL_OVERFLOW(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    bool fresh;
    void *p = alloc_any(total, LX_ALIGN, &fresh);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_TRACK))
        track_alloc(p, fresh);
    if (!fresh)
        memset(p, 0, total);
    return p;
}

/* ---- free -------------------------------------------------------------------- */

/* Perturb a small block, then tell memcheck it is free (all but the word that
 * will hold its free-list link: the allocator writes it next). */
static void hooks_free(void *p, const struct block_info *bi, unsigned hooks)
{
    int byte = atomic_load_explicit(&lx_opt.perturb, memory_order_relaxed);
    if (byte != 0 && bi->kind == BLOCK_SMALL)
        memset(p, byte, bi->usable);
    if (hooks & LX_HOOK_TRACK) {
        track_free(p);
        if (bi->kind == BLOCK_SMALL)
            track_undefined(p, sizeof(struct block));
    }
}

static void free_known_block(void *p, const struct block_info *bi)
{
    unsigned hooks = atomic_load_explicit(&lx_hooks_active, memory_order_relaxed);
    if (LX_UNLIKELY(hooks != 0))
        hooks_free(p, bi, hooks);
    switch (bi->kind) {
    case BLOCK_SMALL:
        heap_free_slab_slow(lx_tls_heap, bi->pg, p);
        break;
    case BLOCK_LARGE:
        large_free(bi->pg);
        break;
    case BLOCK_HUGE:
        huge_free(bi->seg);
        break;
    case BLOCK_BAD:
        break;
    }
}

LX_COLD static void free_slow(void *p, const char *func)
{
    if (p == NULL)
        return;
    struct block_info bi = block_lookup(p);
    if (bi.kind == BLOCK_BAD) {
        check_bad_pointer(func, p, bi.problem);
        return;
    }
    free_known_block(p, &bi);
}

LX_EXPORT void lx_free(void *p)
{
    if (LX_LIKELY(segmap_get((uintptr_t)p) == SEGMAP_NORMAL)) {
        struct segment *seg = segment_of(p);
        struct page *pg = segment_page_of(seg, p);
        struct heap *h = lx_tls_heap;
        if (LX_LIKELY(pg->local_key == (uintptr_t)h) &&
            LX_LIKELY(!atomic_load_explicit(&lx_hooks_active, memory_order_relaxed))) {
            struct block *b = p;
            block_set_next(b, pg->local_free);
            pg->local_free = b;
#if LX_STATS
            h->free_count[pg->class_idx]++;
#endif
            if (LX_UNLIKELY(--pg->used == 0))
                heap_page_empty(h, pg);
            return;
        }
    }
    free_slow(p, "free");
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

LX_EXPORT void *lx_realloc(void *p, size_t size)
{
    if (p == NULL)
        return lx_malloc(size);
    if (size == 0) { /* glibc frees and returns NULL */
        lx_free(p);
        return NULL;
    }
    struct block_info bi = block_lookup(p);
    if (bi.kind == BLOCK_BAD) {
        check_bad_pointer("realloc", p, bi.problem);
        errno = EINVAL;
        return NULL;
    }
    size_t threshold = atomic_load_explicit(&lx_opt.mmap_threshold, memory_order_relaxed);
    /* Keep the block when the new size fits and would not fit a block half as big. */
    if (size <= bi.usable && (size > bi.usable / 2 || bi.usable <= 64) && bi.kind != BLOCK_HUGE)
        return p;
    /* Under valgrind, huge blocks move by copying too: memcheck then copies the
     * definedness of every byte, which mremap would make it lose. */
    bool tracking = atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) & LX_HOOK_TRACK;
    if (bi.kind == BLOCK_HUGE && size >= threshold && size > LX_SMALL_MAX && !tracking) {
        if (size > PTRDIFF_MAX) {
            errno = ENOMEM;
            return NULL;
        }
        void *q = huge_realloc(bi.seg, size);
        if (q != NULL)
            return q;
        /* The mapping could not grow or move; copying needs as much memory. */
        errno = ENOMEM;
        return NULL;
    }
    bool fresh;
    void *q = alloc_any(size, LX_ALIGN, &fresh);
    if (q == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(tracking))
        track_alloc(q, fresh);
    memcpy(q, p, size < bi.usable ? size : bi.usable);
    free_known_block(p, &bi);
    return q;
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

static void *aligned_alloc_internal(size_t alignment, size_t size)
{
    if (alignment <= LX_ALIGN)
        return lx_malloc(size);
    bool fresh;
    void *p = alloc_any(size, alignment, &fresh);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (LX_UNLIKELY(atomic_load_explicit(&lx_hooks_active, memory_order_relaxed)))
        hooks_alloc(p, size, fresh);
    return p;
}

LX_EXPORT int lx_posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || !is_power_of_two(alignment))
        return EINVAL;
    int saved = errno;
    void *p = aligned_alloc_internal(alignment, size);
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
    return aligned_alloc_internal(alignment, size);
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
    return aligned_alloc_internal(alignment, size);
}

LX_EXPORT void *lx_valloc(size_t size)
{
    return aligned_alloc_internal(LX_PAGE_SIZE, size);
}

LX_EXPORT void *lx_pvalloc(size_t size)
{
    if (size > SIZE_MAX - LX_PAGE_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    size_t rounded = (size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    return aligned_alloc_internal(LX_PAGE_SIZE, rounded == 0 ? LX_PAGE_SIZE : rounded);
}

LX_EXPORT size_t lx_malloc_usable_size(void *p)
{
    if (p == NULL)
        return 0;
    struct block_info bi = block_lookup(p);
    if (bi.kind == BLOCK_BAD) {
        check_bad_pointer("malloc_usable_size", p, bi.problem);
        return 0;
    }
    return bi.usable;
}

/* ---- tuning and statistics ------------------------------------------------- */

LX_EXPORT int lx_mallopt(int param, int value)
{
    lx_process_init();
    return options_mallopt(param, value);
}

LX_EXPORT int lx_malloc_trim(size_t pad)
{
    (void)pad; /* every free byte goes back; there is no top chunk to pad */
    lx_process_init();
    heaps_collect(lx_tls_heap);
    return arenas_trim() > 0 ? 1 : 0;
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
