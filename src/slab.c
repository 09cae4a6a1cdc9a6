/* SPDX-License-Identifier: MIT */
/*
 * slab.c — carving and the three free lists of one slab. Layer: above pages,
 * below heap. Owner-only fields are plain; xthread_free is the only field other
 * threads write (release CAS; the owner takes it with an acquire exchange).
 */
#include "slab.h"

#include "check.h"
#include "report.h"
#include "segment.h"
#include "sizeclass.h"
#include "track.h"

struct page lx_empty_page;
uintptr_t lx_list_key; /* set once at start-up (init.c), before the first block */

void slab_list_corrupt(struct page *pg, struct block *b, struct block *next)
{
    check_corrupt_list(pg->block_size, pg->start, b, next);
    block_set_next(b, NULL);
}

void slab_init(struct page *pg, uintptr_t key, unsigned cls)
{
    const struct sizeclass_info *ci = &lx_classes[cls];
    pg->free = NULL;
    pg->local_free = NULL;
    pg->local_key = key;
    pg->used = 0;
    pg->class_idx = (uint8_t)cls;
    pg->block_size = ci->size;
    atomic_store_explicit(&pg->xthread_free, 0, memory_order_relaxed);
    pg->start = page_address(page_segment(pg), pg);
    pg->next = pg->prev = NULL;
    pg->capacity = 0;
    pg->reserved = (uint16_t)((size_t)pg->run_pages * LX_PAGE_SIZE / ci->size);
}

/* Blocks are linked in address order, so a fresh slab hands them out ascending
 * and touches its pages one after another. */
bool slab_extend(struct page *pg)
{
    size_t left = (size_t)pg->reserved - pg->capacity;
    if (left == 0)
        return false;
    size_t bs = pg->block_size;
    size_t n = LX_CARVE_BYTES / bs;
    if (n == 0)
        n = 1;
    if (n > left)
        n = left;
    uint8_t *first = pg->start + (size_t)pg->capacity * bs;
    track_undefined(first, n * bs); /* may have been freed blocks of an older run */
    struct block *tail = pg->free;
    for (size_t i = n; i-- > 0;) {
        struct block *b = (struct block *)(first + i * bs);
        block_set_next(b, tail);
        tail = b;
    }
    pg->free = tail;
    pg->capacity = (uint16_t)(pg->capacity + n);
    return true;
}

/* Remote frees left their blocks' live bits set (only the owner writes them):
 * clear them here. A bit that is already clear means the block was freed twice
 * (the second free came from another thread, or raced the first): report it and
 * cut the list before the repeat, so a cycle is never followed. */
unsigned slab_collect_thread(struct page *pg)
{
    uintptr_t tf = atomic_load_explicit(&pg->xthread_free, memory_order_relaxed);
    if ((tf & ~LX_XFREE_NOTIFY) == 0)
        return 0;
    tf = atomic_exchange_explicit(&pg->xthread_free, 0, memory_order_acquire);
    struct block *head = (struct block *)(tf & ~LX_XFREE_NOTIFY);
    if (head == NULL)
        return 0;
    if (!block_take_live(head)) {
        check_double_free("free", head, pg->block_size);
        return 0;
    }
    unsigned n = 1;
    struct block *tail = head;
    for (;;) {
        struct block *next = block_next_checked(pg, tail);
        if (next == NULL)
            break;
        if (!block_take_live(next)) {
            check_double_free("free", next, pg->block_size);
            block_set_next(tail, NULL);
            break;
        }
        tail = next;
        n++;
    }
    block_set_next(tail, pg->free);
    pg->free = head;
    lx_assert(n <= pg->used);
    pg->used = (uint16_t)(pg->used - n);
    return n;
}

void slab_collect(struct page *pg)
{
    if (pg->local_free != NULL) {
        if (pg->free == NULL) {
            pg->free = pg->local_free;
        } else {
            struct block *tail = pg->local_free;
            struct block *next;
            while ((next = block_next_checked(pg, tail)) != NULL)
                tail = next;
            block_set_next(tail, pg->free);
            pg->free = pg->local_free;
        }
        pg->local_free = NULL;
    }
    (void)slab_collect_thread(pg);
}
