/* SPDX-License-Identifier: MIT */
/*
 * heap.h — per-thread heaps: the slabs a thread allocates from, their queues,
 * and the slow paths behind malloc and free. The fast paths are in alloc.c.
 */
#ifndef LX_HEAP_H
#define LX_HEAP_H

#include <stdbool.h>

#include "lock.h"
#include "types.h"

/* The heap of a thread that has not allocated yet: no slabs, so its first
 * malloc falls into the slow path, which gives the thread a real heap. */
extern struct heap lx_empty_heap;
extern LX_TLS struct heap *lx_tls_heap;

/* Guards the heap registry, the orphan list and process initialisation. */
extern lx_lock_t lx_heaps_lock;
extern struct heap *lx_heaps_all;

/* Small allocation, slow path: refill from the class queue or a new slab. */
void *heap_alloc_small(struct heap *h, unsigned cls) LX_WUR;

/* A run of npages .. most pages for the heap (its run cache first, else its
 * arena), as `kind`; *clean says its pages were never touched. Sweeps the heap
 * first when it has grown enough (heap.c). NULL if there is no memory. */
struct page *heap_take_run(struct heap *h, size_t npages, size_t most, enum run_kind kind,
                           bool *clean) LX_WUR;
/* Give back a run heap_take_run gave (to the run cache, else the arena). */
void heap_give_run(struct heap *h, struct page *pg);

/* heap.owned: 0 an orphan (or not yet handed out), else who uses it. */
#define HEAP_OWNED_THREAD 1u /* a thread's TLS heap */
#define HEAP_FIRST_CLASS 2u  /* a first-class heap (xheap.c): no thread's, never orphaned */

/* A new registered heap for xheap.c; NULL if the kernel refuses the memory. */
struct heap *heap_new_first_class(void) LX_WUR;

/* Give the calling thread a heap: adopt an orphan (`prefer` if it is one: the
 * heap whose block the thread freed first; else the one orphaned last), or make
 * a new one. NULL only if the kernel refuses the memory for it. */
struct heap *heap_attach_thread(const struct heap *prefer) LX_WUR;
/* The thread is leaving: return what is free, orphan the rest. */
void heap_detach_thread(struct heap *h);

/* Free of a block of slab `pg` that the fast path did not take: the page is full,
 * or owned by another heap, or hooks are active. */
void heap_free_slab_slow(struct heap *h, struct page *pg, struct block *b);
/* The delayed list (remote frees into full slabs): the blocks stay counted in
 * their slab's `used` while on it, so the slab cannot be released (nor its
 * segment unmapped) under the pushing thread. The list mixes slabs, so its links
 * are kept in a block's second word, encoded; the first holds an encoded list
 * end, so that the block looks free (slab.h) and a second free of it is caught.
 * The list ends at NULL or a segment's base. */
LX_INLINE struct block *delayed_link(struct block *b)
{
    return b + 1;
}

/* Owner only: is `b` on h's delayed list? */
bool heap_delayed_contains(struct heap *h, const struct block *b);
/* Is b in h's stash of class cls (blocks freed into full slabs, kept for the
 * class's next malloc)? */
bool heap_stash_contains(struct heap *h, unsigned cls, const struct block *b);
/* Local free emptied a slab (used reached 0). */
void heap_page_empty(struct heap *h, struct page *pg);

/* Return empty slabs of orphans and of the calling thread to the arenas. */
void heaps_collect(struct heap *self);

/* Live bytes in small blocks counted by this heap, flushed into the process
 * totals (and the peak) on slow paths. */
void heap_flush_stats(struct heap *h);

/* fork: take / release / reset the heap registry lock (the heaps of threads that
 * did not survive the fork are left alone in the child: see heap.c). */
void heaps_fork_prepare(void);
void heaps_fork_parent(void);
void heaps_fork_child(void);
/* Hooks were turned on or off, or the mmap threshold changed (heap.c). */
void heaps_fast_paths_changed(void);

/* Heap checker: one heap's queues, full list and slab free lists; problems found.
 * Only for a heap no thread is changing: the caller's own, or an orphan. */
size_t heap_check(struct heap *h);
/* heap_check on every orphan waiting on the orphan list (under lx_heaps_lock, so
 * none is adopted or collected meanwhile); a heap owned by a running thread, or
 * one taken off the list to be collected, is skipped. */
size_t heaps_check_orphans(void);

#endif /* LX_HEAP_H */
