/* SPDX-License-Identifier: MIT */
/*
 * xalloc.c — aligned and zeroing variants of the standard family. Layer: on top
 * of alloc (they call the public lx_ functions), beside override.
 *
 * Zeroing: lx_zalloc and lx_recalloc keep a block zero from its requested size to
 * its usable size, so growing it again only has to clear what lies past the old
 * usable size; lx_recalloc also clears what a shrink cut off, which keeps that
 * true. lx_good_size mirrors the routing of alloc.c (class, page run, mapping)
 * and must change with it; tests/unit/xalloc.c holds the two together.
 */
#include "xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "init.h"
#include "lxmalloc.h"
#include "options.h"
#include "sizeclass.h"

LX_RARE LX_EXPORT void *lx_zalloc(size_t size)
{
    uint8_t *p = lx_calloc(1, size);
    if (p != NULL) {
        size_t usable = lx_malloc_usable_size(p);
        if (usable > size)
            memset(p + size, 0, usable - size);
    }
    return p;
}

LX_RARE LX_EXPORT void *lx_recalloc(void *p, size_t count, size_t size)
{
    size_t total;
    if (LX_MUL_OVERFLOW(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (p == NULL)
        return lx_zalloc(total);
    size_t old = lx_malloc_usable_size(p); /* reports a bad pointer */
    if (old == 0) {
        errno = EINVAL;
        return NULL;
    }
    uint8_t *q = lx_realloc(p, total);
    if (q == NULL)
        return NULL; /* failed (p untouched), or total == 0 freed p */
    size_t kept = total < old ? total : old;
    size_t usable = lx_malloc_usable_size(q);
    if (usable > kept)
        memset(q + kept, 0, usable - kept);
    return q;
}

LX_RARE LX_EXPORT void *lx_realloc_aligned(void *p, size_t size, size_t alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment <= LX_ALIGN)
        return lx_realloc(p, size);
    if (p == NULL)
        return lx_aligned_alloc(alignment, size);
    if (size == 0) {
        lx_free(p);
        return NULL;
    }
    size_t old = lx_malloc_usable_size(p);
    if (old == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (((uintptr_t)p & (alignment - 1)) == 0 && size <= old && (size > old / 2 || old <= 64))
        return p;
    void *q = lx_aligned_alloc(alignment, size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < old ? size : old);
    lx_free(p);
    return q;
}

LX_RARE LX_EXPORT size_t lx_malloc_size(void *p)
{
    return lx_malloc_usable_size(p);
}

LX_RARE size_t xalloc_good_size(size_t size)
{
    if (size > PTRDIFF_MAX || size > SIZE_MAX / 2 - LX_HUGE_HEADER - LX_SEGMENT_SIZE)
        return size; /* lx_malloc fails */
    size_t threshold = atomic_load_explicit(&lx_opt.mmap_threshold, memory_order_relaxed);
    size_t pages = (size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    if (size < threshold || size <= LX_DIRECT_MAX) {
        /* Medium runs cut a block to the request (alloc.c, medium_serves). */
        if (size > LX_MEDIUM_MIN && size <= LX_MEDIUM_MAX && lx_opt.medium &&
            atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) == 0)
            return (size + LX_ALIGN - 1) & ~(size_t)(LX_ALIGN - 1);
        if (size <= LX_SMALL_MAX)
            return lx_classes[size_to_class(size)].size;
        if (size <= LX_LARGE_MAX)
            return pages; /* a run of whole pages, the block at its start */
    }
    return pages; /* a mapping after its header page */
}

LX_RARE LX_EXPORT size_t lx_good_size(size_t size)
{
    lx_process_init();
    return xalloc_good_size(size);
}
