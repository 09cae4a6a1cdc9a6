/* SPDX-License-Identifier: MIT */
/*
 * segment.c — maps segments and huge blocks, and keeps the segment map true.
 * Layer: above os. The map is written only here: an entry is set after its
 * mapping exists and cleared before its mapping goes away, so a concurrent
 * lookup never finds an entry for memory another mapping may now hold. Entries
 * are relaxed atomics: a reader races only with changes to chunks it has no
 * business touching (a free of memory being unmapped is a double free).
 */
#include "segment.h"

#include "os.h"

_Atomic uint8_t lx_segmap[LX_SEGMAP_COUNT];
uintptr_t lx_secret;

static void segmap_set_range(uintptr_t base, size_t size, uint8_t first, uint8_t rest)
{
    uintptr_t chunk = base >> LX_SEGMENT_SHIFT;
    uintptr_t end = (base + size + LX_SEGMENT_MASK) >> LX_SEGMENT_SHIFT;
    for (uintptr_t c = chunk; c < end && c < LX_SEGMAP_COUNT; c++)
        atomic_store_explicit(&lx_segmap[c], c == chunk ? first : rest, memory_order_release);
}

struct segment *segment_create(struct arena *arena)
{
    struct segment *seg = os_map_aligned(LX_SEGMENT_SIZE, LX_SEGMENT_SIZE);
    if (seg == NULL)
        return NULL;
    if (((uintptr_t)seg >> LX_SEGMENT_SHIFT) >= LX_SEGMAP_COUNT) {
        (void)os_unmap(seg, LX_SEGMENT_SIZE); /* above the 47-bit space we map */
        return NULL;
    }
    /* A segment without its guard page still works; it only loses the guard. */
    (void)os_protect((uint8_t *)seg + (LX_SEGMENT_META_PAGES - 1) * LX_PAGE_SIZE, LX_PAGE_SIZE);
    seg->cookie = (uintptr_t)seg ^ lx_secret;
    seg->kind = SEGMENT_NORMAL;
    seg->arena = arena;
    segmap_set_range((uintptr_t)seg, LX_SEGMENT_SIZE, SEGMAP_NORMAL, SEGMAP_NORMAL);
    return seg;
}

void segment_destroy(struct segment *seg)
{
    segmap_set_range((uintptr_t)seg, LX_SEGMENT_SIZE, SEGMAP_NONE, SEGMAP_NONE);
    seg->cookie = 0;
    (void)os_unmap(seg, LX_SEGMENT_SIZE);
}

struct segment *segment_create_huge(size_t map_size, size_t alignment)
{
    struct segment *seg = os_map_aligned(map_size, alignment);
    if (seg == NULL)
        return NULL;
    if ((((uintptr_t)seg + map_size) >> LX_SEGMENT_SHIFT) >= LX_SEGMAP_COUNT) {
        (void)os_unmap(seg, map_size);
        return NULL;
    }
    seg->cookie = (uintptr_t)seg ^ lx_secret;
    seg->kind = SEGMENT_HUGE;
    seg->huge_map_size = map_size;
    segmap_set_range((uintptr_t)seg, map_size, SEGMAP_HUGE, SEGMAP_HUGE_TAIL);
    return seg;
}

void segment_destroy_huge(struct segment *seg)
{
    size_t size = seg->huge_map_size;
    segmap_set_range((uintptr_t)seg, size, SEGMAP_NONE, SEGMAP_NONE);
    seg->cookie = 0;
    (void)os_unmap(seg, size);
}

/*
 * Growing in place keeps the address (and its alignment); otherwise reserve a new
 * segment-aligned range and let mremap move the pages there without copying.
 * Until the move succeeds the old mapping and its map entries are untouched.
 */
struct segment *segment_resize_huge(struct segment *seg, size_t new_size)
{
    size_t old_size = seg->huge_map_size;
    if (new_size == old_size)
        return seg;
    uintptr_t base = (uintptr_t)seg;
    if ((base + new_size) >> LX_SEGMENT_SHIFT >= LX_SEGMAP_COUNT)
        return NULL;
    if (new_size < old_size) {
        /* Clear the entries of chunks no longer covered first, then shrink. */
        uintptr_t keep_end = (base + new_size + LX_SEGMENT_MASK) & ~(uintptr_t)LX_SEGMENT_MASK;
        if (keep_end < base + old_size)
            segmap_set_range(keep_end, base + old_size - keep_end, SEGMAP_NONE, SEGMAP_NONE);
        if (!os_remap_inplace(seg, old_size, new_size)) {
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
    if ((((uintptr_t)target + new_size) >> LX_SEGMENT_SHIFT) >= LX_SEGMAP_COUNT) {
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
        unsigned v = atomic_load_explicit(&lx_segmap[chunk], memory_order_relaxed);
        if (v == SEGMAP_HUGE)
            return (struct segment *)(chunk << LX_SEGMENT_SHIFT);
        if (v != SEGMAP_HUGE_TAIL || chunk == 0)
            return NULL;
        chunk--;
    }
    return NULL;
}
