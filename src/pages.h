/* SPDX-License-Identifier: MIT */
/*
 * pages.h — arenas and their buddy allocator of page runs inside segments.
 */
#ifndef LX_PAGES_H
#define LX_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lock.h"
#include "types.h"

struct arena {
    lx_lock_t lock;                            /* guards everything below */
    uint32_t nonempty;                         /* bit k set: free_lists[k] has a block */
    struct page *free_lists[LX_MAX_ORDER + 1]; /* heads of free buddy blocks, per order: */
    struct page *free_tails[LX_MAX_ORDER + 1]; /* dirty ones first, then clean ones */
    struct segment *segments;                  /* normal segments this arena owns */
    uint64_t segment_count;                    /* length of that list */
    uint64_t empty_count;                      /* segments with no run allocated */
    uint64_t used_pages;                       /* pages in allocated runs (metadata too) */
    struct page *dirty_head;                   /* free blocks that may be resident, */
    struct page *dirty_tail;                   /* oldest first */
    uint64_t dirty_pages;                      /* pages in those blocks (an upper bound) */
    uint64_t purged_pages;                     /* pages given back with madvise, ever */
    uint64_t purge_calls;                      /* madvise calls made for that */
    uint64_t unmapped_segments;                /* empty segments unmapped, ever */
    uint64_t clock_ns;                         /* time of the current operation */
    uint64_t peak_used;                        /* most pages in use lately: raised by */
    uint64_t peak_ns;                          /* runs taken, reset a delay after peak_ns */
} __attribute__((aligned(64)));

extern struct arena lx_arenas[LX_ARENA_MAX];

/* Position of `a` in lx_arenas (for messages). The arenas stay zero-filled
 * .bss until used, so that unused ones cost no memory. */
LX_INLINE unsigned arena_idx(const struct arena *a)
{
    return (unsigned)(a - lx_arenas);
}

void arenas_init(void);

/* The arena a new heap should use: round robin over the arenas in use. */
struct arena *arena_pick(void);

/* Arenas 0 .. arenas_used() - 1 may have been used; the others are untouched. */
unsigned arenas_used(void);
/* How many arenas are in use (created on demand up to the option's limit). */
unsigned arena_count(void);

/* A run of `npages` (1..LX_LARGE_MAX/page) pages whose head descriptor has kind
 * `kind` and run_pages set; NULL if the kernel refuses memory. Takes a->lock.
 *
 * `touched` bounds what a run may hold resident: its first `touched` pages; set
 * to the whole run here and by arena_extend_run, kept as it was by
 * run_cache_take. The layers above lower it for a clean run (`dirty` false):
 * a large block uses the front of a run rounded up to whole groups of
 * 2^LX_DESC_ROT pages, and the rest is never touched (large.c); a slab starts
 * at 0 and each carve moves it past its blocks (slab.c). arena_free_run counts
 * the pages past it clean, and pages past it read as zero (calloc). */
struct page *arena_alloc_run(struct arena *a, size_t npages, enum run_kind kind) LX_WUR;

/* Give a run back to its segment's arena; coalesces; may unmap an empty segment.
 * Pages past its `touched` first go back as clean. Takes the arena's lock. */
void arena_free_run(struct page *pg);

/* Give the pages of an allocated run past its first `npages` (at least 1, fewer
 * than it has) back to its arena, as arena_free_run gives a whole run: the run
 * keeps its place and descriptor, now `npages` long. Takes the arena's lock. */
void arena_trim_run(struct page *pg, size_t npages);

/* Make an allocated run `npages` long in place, if the pages past its end up to
 * there are free (whole free buddy blocks; what the last one holds beyond goes
 * back). False, and nothing changed, if they are not, or if the run would pass
 * its segment's end or LX_LARGE_MAX. *dirty: how many of the new pages may be
 * resident (where among them is not known: `touched` becomes the whole run if
 * any may be). Takes the arena's lock. */
bool arena_extend_run(struct page *pg, size_t npages, size_t *dirty);

/*
 * A heap's cache of freed runs (struct run_cache, owner only). put keeps a run
 * (false: too long; give it to the arena) and gives the arena the oldest runs
 * when the cache is full or they are older than the purge delay; take returns
 * the shortest run of npages..max_pages pages as `kind` (NULL: none); flush
 * gives the arena the expired runs, or all of them.
 */
bool run_cache_put(struct run_cache *c, struct page *pg);
struct page *run_cache_take(struct run_cache *c, size_t npages, size_t max_pages,
                            enum run_kind kind);
void run_cache_flush(struct run_cache *c, bool all);

/* Give back every dirty free page and unmap every empty segment of every arena;
 * returns how many bytes went back. */
size_t arenas_trim(void);

/* The process's pages in allocated runs and dirty free pages, over all arenas
 * (what the purge rules weigh). */
void arenas_pages_all(uint64_t *used, uint64_t *dirty);

/* Age-based purging, for callers with no arena operation at hand. */
void arenas_purge_expired(void);

/* fork: lock every arena (prepare), unlock (parent), reset (child). */
void arenas_lock_all(void);
void arenas_unlock_all(void);
void arenas_reset_locks(void);

/* For the heap checker: verify one arena's buddy lists and segments. Returns the
 * number of problems found (each reported with lx_message). Takes the lock. */
size_t arena_check(struct arena *a);

#endif /* LX_PAGES_H */
