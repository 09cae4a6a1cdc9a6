/* SPDX-License-Identifier: MIT */
/*
 * slab.h — one slab: a page run cut into blocks of one class, with three free
 * lists (the idea of free-list sharding):
 *   free         blocks to allocate from; only the owner pops;
 *   local_free   blocks the owner freed; only the owner pushes;
 *   xthread_free blocks other threads freed; pushed with one CAS, taken by the
 *                owner with one exchange.
 * `used` counts blocks handed out and not yet back on free/local_free, so a slab
 * whose used reaches 0 is entirely free, remote frees included.
 */
#ifndef LX_SLAB_H
#define LX_SLAB_H

#include <stdbool.h>

#include "types.h"

/* The empty slab: never has a free block; every direct-table entry of a heap with
 * no slab for a size points here, so the fast path needs no NULL check. */
extern struct page lx_empty_page;

LX_INLINE struct block *block_next(const struct block *b)
{
    return b->next;
}

LX_INLINE void block_set_next(struct block *b, struct block *next)
{
    b->next = next;
}

void slab_init(struct page *pg, uintptr_t key, unsigned cls);
/* Carve up to LX_CARVE_BYTES of never-used blocks onto the free list. */
bool slab_extend(struct page *pg);
/* Move local and thread frees onto the free list (owner only). */
void slab_collect(struct page *pg);
/* Take only the thread frees; returns how many came back. */
unsigned slab_collect_thread(struct page *pg);

#endif /* LX_SLAB_H */
