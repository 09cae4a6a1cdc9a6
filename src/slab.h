/* SPDX-License-Identifier: MIT */
/*
 * slab.h — one slab: a page run cut into blocks of one class, with three free
 * lists (the idea of free-list sharding):
 *   free         blocks to allocate from; only the owner pops;
 *   local_free   blocks the owner freed; only the owner pushes;
 *   xthread_free blocks other threads freed, with their count in the same word;
 *                pushed with one CAS, taken by the owner with one exchange.
 * `used` counts blocks handed out and not yet back on free/local_free, so a slab
 * whose used reaches 0 is entirely free, remote frees included.
 */
#ifndef LX_SLAB_H
#define LX_SLAB_H

#include <stdbool.h>

#include "os.h"
#include "segment.h"
#include "sizeclass.h"
#include "types.h"

/* The empty slab: never has a free block; every direct-table entry of a heap with
 * no slab for a size points here, so the fast path needs no NULL check. */
extern struct page lx_empty_page;

/*
 * A list of slab blocks ends at a pointer with no offset inside a segment: NULL,
 * or the base of the segment its blocks lie in (never a block: a segment starts
 * with its metadata). Hardened, a block's link to the end of its list is always
 * stored as its own segment's base, so every free block's link is an address in
 * its segment and the double-free test (block_word_looks_free) needs no case for
 * NULL; a slab's empty lists hold that base (slab_list_end); only the empty
 * slab's (lx_empty_page) hold NULL.
 */
LX_INLINE bool list_end(const struct block *b)
{
    return ((uintptr_t)b & LX_SEGMENT_MASK) == 0;
}

/* The end of a list of blocks of p's segment: the segment's base. */
LX_INLINE struct block *list_end_of(const void *p)
{
    return (struct block *)(void *)segment_of(p);
}

/* What an empty list of slab pg holds. */
LX_INLINE struct block *slab_list_end(const struct page *pg)
{
    return list_end_of(pg->start);
}

/*
 * Free-list links are stored encoded: link ^ lx_list_key ^ (address of the block
 * holding it). The key is random per process (a second secret beside the
 * segment cookie's), and the block's own address makes equal links look
 * different in every block, so a program that can write a freed block cannot
 * aim the list at an address of its choice, and a stray write (a counter, a
 * string, zeroes) decodes to garbage. Every decoded link is checked before use:
 * it must be a 16-byte aligned address in the same segment as the block that
 * held it, the list's end included (block_link_ok: one test and a branch; the
 * exact "inside this slab" test costs a load and a multiply more and catches
 * little extra). Lists that mix slabs (a heap's delayed frees) use the same
 * encoding.
 */
extern uintptr_t lx_list_key;

#if LX_HARDEN
LX_INLINE struct block *block_next(const struct block *b)
{
    return (struct block *)((uintptr_t)b->next ^ lx_list_key ^ (uintptr_t)b);
}

/* Store `next`, a block of b's segment or the end of b's list (which must be
 * that segment's base, not NULL: free's fast path pushes onto local_free with
 * this, so the slab's empty lists hold the base). */
LX_INLINE void block_set_link(struct block *b, struct block *next)
{
    b->next = (struct block *)((uintptr_t)next ^ lx_list_key ^ (uintptr_t)b);
}

/* Store `next`, any block or any list end (stored as b's segment base). */
LX_INLINE void block_set_next(struct block *b, struct block *next)
{
    block_set_link(b, list_end(next) ? list_end_of(b) : next);
}

LX_INLINE bool block_link_ok(const struct block *b, const struct block *next)
{
    uintptr_t diff = (uintptr_t)next ^ (uintptr_t)b;
    return LX_LIKELY((diff & (~(uintptr_t)LX_SEGMENT_MASK | (LX_ALIGN - 1))) == 0);
}
#else
LX_INLINE struct block *block_next(const struct block *b)
{
    return b->next;
}

LX_INLINE void block_set_next(struct block *b, struct block *next)
{
    b->next = next;
}

LX_INLINE void block_set_link(struct block *b, struct block *next)
{
    b->next = next;
}

LX_INLINE bool block_link_ok(const struct block *b, const struct block *next)
{
    (void)b;
    (void)next;
    return true;
}
#endif /* LX_HARDEN */

/*
 * Free and start checks (default hardening, no per-block state):
 *
 *   slab_block_start  is offset n of a slab the start of one of its carved
 *                     blocks? A multiplication by the inverse of the block
 *                     size's odd part and a rotation by its power of two give
 *                     n / size when size divides n, and a value above any
 *                     block count when it does not (the divisibility test of
 *                     Granlund and Montgomery, "Division by invariant integers
 *                     using multiplication", 1994); one compare with the carved
 *                     count then rejects a pointer inside a block, misaligned,
 *                     before the slab or past the carved blocks.
 *   block_looks_free  does the block's first word decode to a free-list link
 *                     (a 16-byte aligned address in its own segment, the end of
 *                     its list included)?
 *                     A free block's does; a live block's first word is zeroed
 *                     when it is handed out (slab_pop_checked) and then holds the
 *                     program's data, which decodes to such a link only by a
 *                     1-in-2^42 chance unless someone knows the secret key. So a
 *                     free of a block that looks free is a double free, which
 *                     the owner confirms by finding the block on a list
 *                     (slab_lists_contain, heap.c for the delayed list), and
 *                     another thread reports as it is.
 * Blocks on a heap's delayed list keep an encoded list end in their first word
 * (so they look free) and their delayed link in the second.
 */
#if LX_HARDEN
/* Is offset n (any 64-bit value) the start of a carved block? With the block
 * size d = odd << s: x -> rotr(x * inverse(odd), s) maps every 64-bit word to
 * another (both steps are one-to-one) and d * q to q, so it yields a value
 * below the carved count exactly for n = d * q with q carved: no division,
 * one compare for both the alignment and the range. */
LX_INLINE bool slab_block_start(const struct page *pg, uintptr_t n)
{
    uint64_t x = n * pg->div_inv;
    unsigned s = pg->div_shift;
    x = (x >> s) | (x << ((64 - s) & 63));
    return LX_LIKELY(x < pg->carved);
}

/* Would `word`, stored in b's first word, be a link of b's list? */
LX_INLINE bool block_word_looks_free(const struct block *b, uintptr_t word)
{
    (void)b;
    uintptr_t x = word ^ lx_list_key; /* the link ^ b */
    return (x & (~(uintptr_t)LX_SEGMENT_MASK | (LX_ALIGN - 1))) == 0;
}

LX_INLINE bool block_looks_free(const struct block *b)
{
    return block_word_looks_free(b, (uintptr_t)b->next);
}

/* A block leaves its list: clear the link, so the live block does not look free. */
LX_INLINE void block_clear_link(struct block *b)
{
    b->next = NULL;
}
#else
LX_INLINE bool slab_block_start(const struct page *pg, uintptr_t n)
{
    (void)pg;
    (void)n;
    return true;
}

LX_INLINE bool block_word_looks_free(const struct block *b, uintptr_t word)
{
    (void)b;
    (void)word;
    return false;
}

LX_INLINE bool block_looks_free(const struct block *b)
{
    (void)b;
    return false;
}

LX_INLINE void block_clear_link(struct block *b)
{
    (void)b;
}
#endif /* LX_HARDEN */

/* ---- page marks (types.h, struct segment: hole_map and idle_map) ---------- */

/* Bit i (a page index in the segment) of a mark map. */
LX_INLINE bool page_mark(const _Atomic(uint16_t) *map, size_t i)
{
    return ((atomic_load_explicit(&map[i / 16], memory_order_relaxed) >> (i % 16)) & 1) != 0;
}

/* Sets or clears bit i. Only the owner of the slab page i belongs to writes its
 * bits, and no other slab of a heap shares its elements (a slab starts on a
 * 16-page boundary), so a load and a store do. */
LX_INLINE void page_mark_set(_Atomic(uint16_t) *map, size_t i, bool on)
{
    uint16_t bit = (uint16_t)(1u << (i % 16));
    uint16_t w = atomic_load_explicit(&map[i / 16], memory_order_relaxed);
    atomic_store_explicit(&map[i / 16], (uint16_t)(on ? w | bit : w & ~bit), memory_order_relaxed);
}

/* Is page n of slab pg a hole? */
LX_INLINE bool slab_page_hole(const struct page *pg, size_t n)
{
    const struct segment *seg = page_segment(pg);
    return page_mark(seg->hole_map, page_idx(seg, pg) + n);
}

/* A new slab of a heap: none of its pages is a hole or idle. */
void slab_marks_clear(struct page *pg);

/* Does block `b` of slab `pg` start on one of its holes (slab.c)? Then it is free,
 * though its first word, on a page given back, reads as zero. Any thread may ask:
 * a block handed out after its hole was carved again was handed out by the
 * owner, after it cleared the mark. */
LX_INLINE bool slab_block_in_hole(const struct page *pg, const struct block *b)
{
    if (pg->hole_blocks == 0)
        return false;
    return slab_page_hole(pg, (size_t)((const uint8_t *)b - pg->start) >> LX_PAGE_SHIFT);
}

/* Owner only: is `b` on one of pg's free lists (free, local_free, remote frees)? */
bool slab_lists_contain(struct page *pg, const struct block *b);

/* A decoded link of slab `pg`'s list, held by `b`, failed block_link_ok: report
 * it, cut the list at `b` (the rest of the list is leaked, never followed). */
LX_COLD void slab_list_corrupt(struct page *pg, struct block *b, struct block *next);

/*
 * Pop the first block of pg->free (not its end), owner only; `next` is its decoded
 * link, already checked with block_link_ok. The malloc fast path checks the link
 * itself and leaves for the slow path on a bad one, so that it makes no call
 * (a call would cost it a stack frame); the slow paths use slab_pop.
 */
LX_INLINE struct block *slab_pop_checked(struct page *pg, struct block *next)
{
    /* The next pop reads next's first word: start fetching its line now (in
     * threaded and fragmented programs that miss is most of a pop's cost;
     * prefetching a list's end, a segment's first line, is harmless). */
    __builtin_prefetch(next, 1);
    struct block *b = pg->free;
    pg->free = next;
    pg->used++;
    block_clear_link(b);
    return b;
}

LX_INLINE struct block *slab_pop(struct page *pg)
{
    struct block *b = pg->free;
    struct block *next = block_next(b);
    if (LX_UNLIKELY(!block_link_ok(b, next))) {
        slab_list_corrupt(pg, b, next);
        next = slab_list_end(pg);
    }
    return slab_pop_checked(pg, next);
}

/* The next link of a list of slab blocks on a slow path: the list's end (and the
 * list cut after `b`) if it is corrupt. */
LX_INLINE struct block *block_next_checked(struct page *pg, struct block *b)
{
    struct block *next = block_next(b);
    if (LX_UNLIKELY(!block_link_ok(b, next))) {
        slab_list_corrupt(pg, b, next);
        return slab_list_end(pg);
    }
    return next;
}

void slab_init(struct page *pg, uintptr_t key, unsigned cls);
/* The slab's block size, with what slab_block_start divides by. */
LX_INLINE void slab_set_block_size(struct page *pg, uint32_t size)
{
    pg->block_size = size;
    pg->div_inv = size_odd_inverse(size);
    pg->div_shift = (uint8_t)LX_CTZ(size);
}
/* Carve up to LX_CARVE_BYTES of never-used blocks onto the free list. */
bool slab_extend(struct page *pg);
/* Give the slab's free OS pages back to the kernel, their blocks set aside as
 * holes (slab.c); owner only. Without `all`, only pages found free at the last
 * call too, and only when there are LX_HOLE_MIN_PAGES of them. The pages go onto
 * `batch`, which the caller flushes before it returns to the program (the slab's
 * blocks are all off its lists by then: nothing touches those pages). Returns
 * the bytes queued. */
size_t slab_purge(struct page *pg, bool all, struct os_discard_batch *batch);
/* Too little changed since the last slab_purge for another to be worth its cost:
 * fewer blocks came back (net) than it asked for (a page's worth, or one when it
 * found free pages too few to give back), and no page found free then waits for
 * a second look. Reading every block's first word costs about
 * ten times what reading a bitmap did; on frag, sweeping every slab that changed
 * at all cost a third of the run time. */
bool slab_swept(const struct page *pg);
/* Put blocks on the empty free list: a hole's first, else slab_extend. */
bool slab_refill(struct page *pg);
/* Move local and thread frees onto the free list (owner only). */
void slab_collect(struct page *pg);

/* Owner only, with pg->free empty: the blocks freed locally become the free
 * list, without a walk. Whether there were any. */
LX_INLINE bool slab_take_local(struct page *pg)
{
    if (list_end(pg->local_free))
        return false;
    pg->free = pg->local_free;
    pg->local_free = slab_list_end(pg);
    return true;
}

/* Have other threads freed blocks into one of the next few slabs queued after
 * pg (LX_RETURNED_LOOKAHEAD)? Those are resident memory waiting to be used
 * again: carving fresh pages (or refilling holes) can wait until they are taken,
 * which keeps a class that other threads free into from growing while blocks come
 * back behind it. Only their frees count: a slab's own free lists are left for
 * when it is next at the head, so a single thread carves as before. */
LX_INLINE bool slab_others_have_free(const struct page *pg)
{
    const struct page *n = pg->next;
    for (unsigned i = 0; n != NULL && i < LX_RETURNED_LOOKAHEAD; i++, n = n->next) {
        if ((atomic_load_explicit(&n->xthread_free, memory_order_relaxed) & ~LX_XFREE_NOTIFY) != 0)
            return true;
    }
    return false;
}

/* Owner only, with pg->free and local_free empty: carve fresh blocks, as the
 * slow path would next, unless other threads' frees wait to be taken first, in
 * this slab or the next ones (or the slab has holes, which the slow path carves
 * before the tail). Whether it did. */
LX_INLINE bool slab_take_fresh(struct page *pg)
{
    if (pg->hole_blocks != 0 ||
        (atomic_load_explicit(&pg->xthread_free, memory_order_relaxed) & ~LX_XFREE_NOTIFY) != 0)
        return false;
    return !slab_others_have_free(pg) && slab_extend(pg);
}
/* Take only the thread frees; returns how many came back. */
unsigned slab_collect_thread(struct page *pg);

#endif /* LX_SLAB_H */
