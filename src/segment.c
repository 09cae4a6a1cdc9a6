/* SPDX-License-Identifier: MIT */
/*
 * segment.c — maps segments and huge blocks, and keeps the segment map true.
 * Layer: above os. The map is written only here: an entry is set after its
 * mapping exists and cleared before its mapping goes away, so a concurrent
 * lookup never finds an entry for memory another mapping may now hold. Entries
 * are relaxed atomics: a reader races only with changes to chunks it has no
 * business touching (a free of memory being unmapped is a double free).
 *
 * With LXMALLOC_SOURCE=brk, normal segments are carved from the program break,
 * as glibc's main arena grows. Only the segment at the top of the break can be
 * given back (the break moves down); an empty segment below it is "parked": its
 * pages are discarded, it stays reserved, and the next segment request reuses
 * it. When the top goes, parked segments that become the top go too. brk_lock
 * serialises all of it.
 */
#include "segment.h"

#include <stddef.h>
#include <string.h>

#include "lock.h"
#include "options.h"
#include "os.h"
#include "report.h"
#include "track.h"

LX_BSS_SEGMAP _Atomic(_Atomic uint8_t *) lx_segmap_top[LX_SEGMAP_TOP_COUNT];
static _Atomic(struct seg_cache *) seg_caches; /* registry; caches are never removed */
uintptr_t lx_secret;

/* The leaf for `chunk`, mapped on first use; leaves are never unmapped. Two
 * threads may race to install one: the loser unmaps its copy. */
static _Atomic uint8_t *segmap_leaf(uintptr_t chunk, bool create)
{
    _Atomic(_Atomic uint8_t *) *slot = &lx_segmap_top[chunk >> LX_SEGMAP_LEAF_SHIFT];
    _Atomic uint8_t *leaf = atomic_load_explicit(slot, memory_order_acquire);
    if (leaf != NULL || !create)
        return leaf;
    _Atomic uint8_t *fresh = os_map(LX_SEGMAP_LEAF_COUNT);
    if (fresh == NULL)
        return NULL;
    if (!atomic_compare_exchange_strong_explicit(slot, &leaf, fresh, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        (void)os_unmap((void *)(uintptr_t)fresh, LX_SEGMAP_LEAF_COUNT);
        return leaf;
    }
    return fresh;
}

/* Make sure every leaf covering [base, base+size) exists. */
static bool segmap_reserve(uintptr_t base, size_t size)
{
    uintptr_t end = (base + size + LX_SEGMENT_MASK) >> LX_SEGMENT_SHIFT;
    for (uintptr_t c = base >> LX_SEGMENT_SHIFT; c < end; c = (c | (LX_SEGMAP_LEAF_COUNT - 1)) + 1) {
        if (c >= LX_SEGMAP_COUNT || segmap_leaf(c, true) == NULL)
            return false;
    }
    return true;
}

static void segmap_set_range(uintptr_t base, size_t size, uint8_t first, uint8_t rest)
{
    uintptr_t chunk = base >> LX_SEGMENT_SHIFT;
    uintptr_t end = (base + size + LX_SEGMENT_MASK) >> LX_SEGMENT_SHIFT;
    for (uintptr_t c = chunk; c < end && c < LX_SEGMAP_COUNT; c++) {
        _Atomic uint8_t *leaf = segmap_leaf(c, false);
        if (leaf != NULL) /* segmap_reserve made it before any entry is set */
            atomic_store_explicit(&leaf[c & (LX_SEGMAP_LEAF_COUNT - 1)], c == chunk ? first : rest,
                                  memory_order_release);
    }
}

static lx_lock_t brk_lock;
static struct segment *brk_parked; /* linked through their (zeroed) header's next */

static struct segment *brk_segment_take(void)
{
    lx_lock(&brk_lock);
    struct segment *seg = brk_parked;
    if (seg != NULL) {
        brk_parked = seg->next;
        seg->next = NULL;
    } else {
        seg = os_brk_alloc_aligned(LX_SEGMENT_SIZE, LX_SEGMENT_SIZE);
    }
    lx_unlock(&brk_lock);
    return seg;
}

static void brk_segment_give_back(struct segment *seg)
{
    lx_lock(&brk_lock);
    if (os_brk_release(seg, LX_SEGMENT_SIZE)) {
        /* The break went down: parked segments now at the top can follow. */
        bool moved = true;
        while (moved) {
            moved = false;
            for (struct segment **link = &brk_parked; *link != NULL; link = &(*link)->next) {
                struct segment *p = *link;
                struct segment *after = p->next;
                if (os_brk_release(p, LX_SEGMENT_SIZE)) {
                    *link = after;
                    moved = true;
                    break;
                }
            }
        }
    } else {
        (void)os_discard(seg, LX_SEGMENT_SIZE);
        seg->next = brk_parked;
        brk_parked = seg;
    }
    lx_unlock(&brk_lock);
}

void segment_brk_fork_child(void)
{
    lx_lock_reset(&brk_lock);
}

/*
 * The addresses of the last segments unmapped. A new segment is mapped into one
 * of their gaps first, if nothing else has taken it: the kernel would not put
 * it there by itself (it looks for room to align a mapping of 2 MiB or more to
 * a huge page, which a gap of exactly 4 MiB has not), and every segment of a
 * program whose segments come and go would land below all the others. Their
 * numbers would spread, and free()'s segment caches (a slot per number modulo
 * LX_SEG_SEEN) would evict each other's slots (tests/unit/map_aligned.c).
 */
#define LX_SEG_GAPS 8
static _Atomic uintptr_t seg_gaps[LX_SEG_GAPS];

static void seg_gap_remember(uintptr_t base)
{
    for (unsigned i = 0; i < LX_SEG_GAPS; i++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&seg_gaps[i], &expected, base,
                                                    memory_order_relaxed, memory_order_relaxed))
            return;
    }
    /* All full: this one replaces an older one. */
    atomic_store_explicit(&seg_gaps[(base >> LX_SEGMENT_SHIFT) % LX_SEG_GAPS], base,
                          memory_order_relaxed);
}

static struct segment *seg_map(void)
{
    for (unsigned i = 0; i < LX_SEG_GAPS; i++) {
        uintptr_t gap = atomic_exchange_explicit(&seg_gaps[i], 0, memory_order_relaxed);
        if (gap == 0)
            continue;
        struct segment *seg = os_map_at((void *)gap, LX_SEGMENT_SIZE);
        if (seg != NULL)
            return seg;
    }
    return os_map_aligned(LX_SEGMENT_SIZE, LX_SEGMENT_SIZE);
}

struct segment *segment_create(struct arena *arena)
{
    struct segment *seg = NULL;
    bool from_brk = false;
    if (lx_opt.source_brk) {
        seg = brk_segment_take();
        from_brk = seg != NULL;
    }
    if (seg == NULL)
        seg = seg_map();
    if (seg == NULL)
        return NULL;
    if (!segmap_reserve((uintptr_t)seg, LX_SEGMENT_SIZE)) {
        if (from_brk)
            brk_segment_give_back(seg);
        else
            (void)os_unmap(seg, LX_SEGMENT_SIZE); /* above the 47-bit space, or no leaf */
        return NULL;
    }
    if (lx_opt.thp >= 0)
        os_advise_hugepages(seg, LX_SEGMENT_SIZE, lx_opt.thp == 1);
    /* A segment without its guard page still works; it only loses the guard. */
    if (!os_protect((uint8_t *)seg + (LX_SEGMENT_META_PAGES - 1) * LX_PAGE_SIZE, LX_PAGE_SIZE,
                    false)) {
        /* Without its guard page the segment still works; it only loses the guard. */
    }
    seg->cookie = (uintptr_t)seg ^ lx_secret;
    seg->kind = SEGMENT_NORMAL;
    for (size_t i = 0; i < LX_SEGMENT_PAGES / 16; i++)
        atomic_store_explicit(&seg->gone_map[i], UINT16_MAX, memory_order_relaxed);
    seg->arena = arena;
    seg->from_brk = from_brk;
    segmap_set_range((uintptr_t)seg, LX_SEGMENT_SIZE, SEGMAP_NORMAL, SEGMAP_NORMAL);
    /* For `lxmalloc maps`; the brk heap keeps the kernel's own name. */
    if (!from_brk)
        os_name_mapping(seg, LX_SEGMENT_SIZE, "lxmalloc-segment");
    return seg;
}

/* ---- segment caches (segment.h) -------------------------------------------- */

void seg_cache_register(struct seg_cache *c)
{
    for (unsigned i = 0; i < LX_SEG_SEEN; i++)
        atomic_store_explicit(&c->base[i], LX_SEG_NONE, memory_order_relaxed);
    struct seg_cache *head = atomic_load_explicit(&seg_caches, memory_order_relaxed);
    do
        c->next = head;
    while (!atomic_compare_exchange_weak_explicit(&seg_caches, &head, c, memory_order_release,
                                                  memory_order_relaxed));
}

bool seg_cache_learn(struct seg_cache *c, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (segmap_get(a) != SEGMAP_NORMAL)
        return false;
    uintptr_t base = a & ~(uintptr_t)LX_SEGMENT_MASK;
    unsigned slot = (unsigned)(base >> LX_SEGMENT_SHIFT) & (LX_SEG_SEEN - 1);
    c->desc[slot] = base + seg_desc_base((const struct segment *)base);
    atomic_store_explicit(&c->base[slot], base >> LX_SEGMENT_SHIFT, memory_order_relaxed);
    /* Pairs with the fence of segment_destroy: either it sees this slot and
     * clears it, or the map read here sees the segment gone. */
    atomic_thread_fence(memory_order_seq_cst);
    if (segmap_get(a) != SEGMAP_NORMAL) {
        atomic_store_explicit(&c->base[slot], LX_SEG_NONE, memory_order_relaxed);
        return false;
    }
    return true;
}

/* Clears the slots holding `base` (or, with base 0, every slot) of every cache. */
static void seg_caches_forget(uintptr_t base)
{
    atomic_thread_fence(memory_order_seq_cst);
    unsigned slot = (unsigned)(base >> LX_SEGMENT_SHIFT) & (LX_SEG_SEEN - 1);
    for (struct seg_cache *c = atomic_load_explicit(&seg_caches, memory_order_acquire); c != NULL;
         c = c->next) {
        if (base == 0) {
            for (unsigned i = 0; i < LX_SEG_SEEN; i++)
                atomic_store_explicit(&c->base[i], LX_SEG_NONE, memory_order_relaxed);
            continue;
        }
        /* Only if it still holds this segment: the owner may have moved on. */
        uintptr_t expected = base >> LX_SEGMENT_SHIFT;
        (void)atomic_compare_exchange_strong_explicit(&c->base[slot], &expected, LX_SEG_NONE,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed);
    }
}

void seg_caches_clear(void)
{
    seg_caches_forget(0);
}

void segment_destroy(struct segment *seg)
{
    segmap_set_range((uintptr_t)seg, LX_SEGMENT_SIZE, SEGMAP_NONE, SEGMAP_NONE);
    seg_caches_forget((uintptr_t)seg);
    seg->cookie = 0;
    if (seg->from_brk)
        brk_segment_give_back(seg);
    else if (os_unmap(seg, LX_SEGMENT_SIZE))
        seg_gap_remember((uintptr_t)seg);
}

struct segment *segment_create_huge(size_t map_size, size_t alignment, int thp)
{
    struct segment *seg = os_map_aligned(map_size, alignment);
    if (seg == NULL)
        return NULL;
    if (!segmap_reserve((uintptr_t)seg, map_size)) {
        (void)os_unmap(seg, map_size);
        return NULL;
    }
    if (thp >= 0)
        os_advise_hugepages(seg, map_size, thp == 1);
    seg->cookie = (uintptr_t)seg ^ lx_secret;
    seg->kind = SEGMENT_HUGE;
    seg->huge_map_size = map_size;
    segmap_set_range((uintptr_t)seg, map_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
    os_name_mapping(seg, map_size, "lxmalloc-huge"); /* mremap keeps the name */
    return seg;
}

void segment_destroy_huge(struct segment *seg)
{
    size_t size = seg->huge_map_size;
    segmap_set_range((uintptr_t)seg, size, SEGMAP_NONE, SEGMAP_NONE);
    seg->cookie = 0;
    (void)os_unmap(seg, size);
}

struct segment *segment_split_huge(struct segment *seg, size_t keep)
{
    lx_assert((keep & LX_SEGMENT_MASK) == 0 && keep < seg->huge_map_size);
    struct segment *tail = (struct segment *)((uintptr_t)seg + keep);
    /* The tail's first page held user data (memcheck may see it as freed, or as
     * part of no block at all): clear what a huge header uses. */
    track_undefined(tail, offsetof(struct segment, head));
    memset(tail, 0, offsetof(struct segment, head));
    tail->cookie = (uintptr_t)tail ^ lx_secret;
    tail->kind = SEGMENT_HUGE;
    tail->huge_map_size = seg->huge_map_size - keep;
    seg->huge_map_size = keep;
    segmap_set_range((uintptr_t)tail, tail->huge_map_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
    return tail;
}

void segment_join_huge(struct segment *seg, struct segment *next)
{
    lx_assert((uintptr_t)seg + seg->huge_map_size == (uintptr_t)next);
    segmap_set_range((uintptr_t)next, next->huge_map_size, SEGMAP_HUGE_TAIL, SEGMAP_HUGE_TAIL);
    next->cookie = 0;
    seg->huge_map_size += next->huge_map_size;
}

bool segment_move_tail_huge(struct segment *src, size_t len, void *dst)
{
    size_t size = src->huge_map_size;
    lx_assert(len != 0 && len <= size && (len & (LX_PAGE_SIZE - 1)) == 0);
    uintptr_t base = (uintptr_t)src, from = base + size - len;
    /* The chunks the rest no longer reaches stop being ours first (all of them,
     * and the header's cookie, when the whole mapping goes). */
    uintptr_t keep_end = len == size ? base : (from + LX_SEGMENT_MASK) & ~(uintptr_t)LX_SEGMENT_MASK;
    if (keep_end < base + size)
        segmap_set_range(keep_end, base + size - keep_end, SEGMAP_NONE, SEGMAP_NONE);
    if (len == size)
        src->cookie = 0;
    if (os_remap_to((void *)from, len, len, dst) == NULL) {
        src->cookie = base ^ lx_secret;
        segmap_set_range(base, size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
        return false;
    }
    if (len < size)
        src->huge_map_size = size - len;
    return true;
}

/*
 * Growing in place keeps the address (and its alignment); otherwise reserve a new
 * segment-aligned range and let mremap move the pages there without copying.
 * Until the move succeeds the old mapping and its map entries are untouched.
 */
struct segment *segment_resize_huge(struct segment *seg, size_t new_size, int thp)
{
    size_t old_size = seg->huge_map_size;
    if (new_size == old_size)
        return seg;
    uintptr_t base = (uintptr_t)seg;
    if (new_size > old_size && !segmap_reserve(base, new_size))
        return NULL;
    if (new_size < old_size) {
        /* Clear the entries of chunks no longer covered first, then shrink. */
        uintptr_t keep_end = (base + new_size + LX_SEGMENT_MASK) & ~(uintptr_t)LX_SEGMENT_MASK;
        if (keep_end < base + old_size)
            segmap_set_range(keep_end, base + old_size - keep_end, SEGMAP_NONE, SEGMAP_NONE);
        /* munmap, not mremap: a mapping joined from two (segment_join_huge) may
         * span two kernel mappings, which mremap refuses and munmap does not. */
        if (!os_unmap((uint8_t *)seg + new_size, old_size - new_size)) {
            segmap_set_range(base, old_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
            return NULL;
        }
        seg->huge_map_size = new_size;
        return seg;
    }
    if (os_remap_inplace(seg, old_size, new_size)) {
        seg->huge_map_size = new_size;
        segmap_set_range(base, new_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
        return seg;
    }
    void *target = os_map_aligned(new_size, LX_SEGMENT_SIZE);
    if (target == NULL)
        return NULL;
    /* The moved pages keep their mapping's advice; the new end is the target's. */
    if (thp >= 0)
        os_advise_hugepages(target, new_size, thp == 1);
    if (!segmap_reserve((uintptr_t)target, new_size)) {
        (void)os_unmap(target, new_size);
        return NULL;
    }
    /* The old range stops being ours before mremap gives it back to the kernel. */
    segmap_set_range(base, old_size, SEGMAP_NONE, SEGMAP_NONE);
    struct segment *moved = os_remap_to(seg, old_size, old_size, target);
    if (moved == NULL) {
        segmap_set_range(base, old_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
        (void)os_unmap(target, new_size);
        return NULL;
    }
    /* The moved pages cover [target, target+old_size); the reservation's remaining
     * pages stay mapped behind them, so the block is new_size long. */
    moved->cookie = (uintptr_t)moved ^ lx_secret;
    moved->huge_map_size = new_size;
    segmap_set_range((uintptr_t)moved, new_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
    return moved;
}

struct segment *segment_huge_containing(const void *p)
{
    uintptr_t chunk = (uintptr_t)p >> LX_SEGMENT_SHIFT;
    while (chunk < LX_SEGMAP_COUNT) {
        unsigned v = segmap_get(chunk << LX_SEGMENT_SHIFT);
        if (v == SEGMAP_HUGE)
            return (struct segment *)(chunk << LX_SEGMENT_SHIFT);
        if (v != SEGMAP_HUGE_TAIL || chunk == 0)
            return NULL;
        chunk--;
    }
    return NULL;
}
