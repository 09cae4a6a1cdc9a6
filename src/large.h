/* SPDX-License-Identifier: MIT */
/*
 * large.h — blocks above the small classes: large runs (whole page runs from the
 * arena, up to LX_LARGE_MAX) and huge blocks (their own mapping, above the mmap
 * threshold).
 */
#ifndef LX_LARGE_H
#define LX_LARGE_H

#include <stdbool.h>
#include <stddef.h>

#include "types.h"

/* size <= LX_LARGE_MAX - (alignment - page) ; alignment a power of two. */
void *large_alloc(struct arena *a, size_t size, size_t alignment) LX_WUR;
void large_free(struct page *pg);

/* A huge block: a recently freed mapping that fits (then *zeroed is false), or a
 * fresh one, which reads as zero. NULL if the kernel refuses. */
void *huge_alloc(size_t size, size_t alignment, bool *zeroed) LX_WUR;
/* Keep the mapping in the cache of freed huge blocks, or unmap it. */
void huge_free(struct segment *seg);
/* Unmap cached huge blocks older than the purge delay (all of them with `all`);
 * returns the bytes unmapped. */
size_t huge_cache_expire(bool all);
/* fork: take / release / reset the huge cache's lock (after the arena locks). */
void huge_cache_fork_prepare(void);
void huge_cache_fork_parent(void);
void huge_cache_fork_child(void);

/* Bytes now cached, and bytes of cached blocks unmapped so far. */
void huge_cache_counts(size_t *cached, size_t *unmapped);
/* Resize in place or move with mremap; NULL leaves the block as it was. */
void *huge_realloc(struct segment *seg, size_t size) LX_WUR;

LX_INLINE size_t huge_usable(const struct segment *seg)
{
    return seg->huge_map_size - seg->huge_offset;
}

#endif /* LX_LARGE_H */
