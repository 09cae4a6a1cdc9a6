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

#include "lock.h"
#include "types.h"

/*
 * The large runs and huge blocks of one owner (a first-class heap, or the page
 * allocator's huge blocks), so that the owner can find them all again. Any
 * thread may free one of them, so the lists have a lock of their own. It nests
 * inside no allocator lock and holds none, except that huge_realloc keeps it
 * across the mremap of an owned block (which takes only the segment map's).
 */
struct large_owner {
    lx_lock_t lock;
    struct page *runs;    /* large runs, linked by page.next/prev; local_key = owner */
    struct segment *huge; /* huge blocks, linked by segment.next/prev; owner = owner */
};

/* size <= LX_LARGE_MAX - (alignment - page) ; alignment a power of two. The
 * block's pages take a run of them rounded up to 16 (large.c), from `rc` (a
 * heap's cache of freed runs, or NULL) if it holds one of that length or up to a
 * quarter longer, else from arena `a`; the usable size is the block's pages; large_free puts it
 * in `rc` if it may, else gives it to its arena. Both count the run in `lc` (a
 * heap's counters; NULL: the process-wide ones). `*zero` says whether every
 * page of the block is untouched, so that it reads as zero. Otherwise, when the
 * caller is about to write the block's first `write` bytes itself (calloc's
 * zeroing, realloc's copy), the pages among them that are not resident are
 * faulted in with one call (os_populate). */
void *large_alloc(struct arena *a, struct run_cache *rc, struct large_counts *lc, size_t size,
                  size_t alignment, size_t write, bool *zero) LX_WUR;
void large_free(struct page *pg, struct run_cache *rc, struct large_counts *lc);
/* Make the large block of run `pg` `size` bytes long (no longer than it is) in
 * place, if the run, cut to the new pages rounded up to 16, gives an eighth of
 * its pages or more back to the arena (else it stays as it is); counted in `lc`
 * as for large_free. The block keeps its address and contents. */
void large_shrink(struct page *pg, size_t size, struct large_counts *lc);
/* Make the large block of run `pg` `size` bytes long (longer than it is) in
 * place: within its run, else if the pages after the run are free
 * (arena_extend_run) and it stays within LX_LARGE_MAX; false, and nothing
 * changed, if not. */
bool large_grow(struct page *pg, size_t size, struct large_counts *lc) LX_WUR;

/* As large_alloc / huge_alloc, and the block goes on `o`'s list; large_free and
 * huge_free take it off again. */
void *large_alloc_owned(struct large_owner *o, struct arena *a, size_t size, size_t alignment,
                        size_t write, bool *zero) LX_WUR;
void *huge_alloc_owned(struct large_owner *o, size_t size, size_t alignment,
                       bool *zeroed) LX_WUR;
/* Free every block on `o`'s lists (the owner is going away); no other thread may
 * free one of them meanwhile. */
void large_owner_release_all(struct large_owner *o);

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
/* Resize: join a cached neighbour, give an excess back to the cache, or mremap
 * in place or moved. The mapping may end up to a segment longer than asked for,
 * unless `exact`. NULL leaves the block where it was, at least as big as before:
 * the caller copies (also when a cached mapping that fits makes that cheaper). */
void *huge_realloc(struct segment *seg, size_t size, bool exact) LX_WUR;

/* A new huge block for realloc that grows a block to `size`: from half a huge
 * page on, its mapping ends on a huge-page boundary, so that the pages it grows
 * into can be huge pages (see large.c); just `size` when huge pages are refused
 * (LXMALLOC_THP=0). */
void *huge_alloc_growing(size_t size, bool *zeroed) LX_WUR;

LX_INLINE size_t huge_usable(const struct segment *seg)
{
    return seg->huge_map_size - seg->huge_offset;
}

/* realloc of a huge block to `size`, at most its usable size, without a system
 * call: true when the block stays as it is. It does when it grows into what its
 * mapping has past the size last asked for (the rounding to a huge page, or a
 * cached mapping bigger than asked for), and when it shrinks by less than a
 * segment and less than an eighth; a bigger shrink gives memory back
 * (huge_realloc). */
LX_INLINE bool huge_resize_here(struct segment *seg, size_t size)
{
    size_t gone = huge_usable(seg) - size;
    if (size < seg->huge_asked && (gone >= LX_SEGMENT_SIZE || gone * 8 >= huge_usable(seg)))
        return false;
    seg->huge_asked = size;
    return true;
}

#endif /* LX_LARGE_H */
