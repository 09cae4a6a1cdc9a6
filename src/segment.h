/* SPDX-License-Identifier: MIT */
/*
 * segment.h — segments and the segment map. Every byte lxmalloc hands out lies
 * in a 4 MiB-aligned chunk of address space it owns exclusively, so
 * `p & ~LX_SEGMENT_MASK` finds the header and one byte of the map answers
 * "is this pointer ours?" before anything is dereferenced.
 */
#ifndef LX_SEGMENT_H
#define LX_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "os.h"
#include "types.h"

/* Segment-map values, one byte per 4 MiB chunk of address space. */
enum {
    SEGMAP_NONE = 0,      /* not ours */
    SEGMAP_NORMAL = 1,    /* a normal segment starts here */
    SEGMAP_HUGE = 2,      /* a huge mapping starts here */
    SEGMAP_HUGE_TAIL = 3, /* inside a huge mapping, past its first chunk */
};

/* The top table is in .bss, at a link-time address the fast path reaches without
 * loading a pointer; a NULL entry means no segment was ever in that 64 GiB. */
extern _Atomic(_Atomic uint8_t *) lx_segmap_top[LX_SEGMAP_TOP_COUNT];
extern uintptr_t lx_secret;

LX_INLINE unsigned segmap_get(uintptr_t addr)
{
    uintptr_t chunk = addr >> LX_SEGMENT_SHIFT;
    if (LX_UNLIKELY(chunk >= LX_SEGMAP_COUNT))
        return SEGMAP_NONE;
    _Atomic uint8_t *leaf =
        atomic_load_explicit(&lx_segmap_top[chunk >> LX_SEGMAP_LEAF_SHIFT], memory_order_acquire);
    if (LX_UNLIKELY(leaf == NULL))
        return SEGMAP_NONE;
    return atomic_load_explicit(&leaf[chunk & (LX_SEGMAP_LEAF_COUNT - 1)], memory_order_relaxed);
}

LX_INLINE struct segment *segment_of(const void *p)
{
    return (struct segment *)((uintptr_t)p & ~(uintptr_t)LX_SEGMENT_MASK);
}

LX_INLINE size_t segment_page_idx(const struct segment *seg, const void *p)
{
    return ((uintptr_t)p - (uintptr_t)seg) >> LX_PAGE_SHIFT;
}

/* Descriptor layout (types.h, struct segment): page idx's descriptor is in slot
 * rotr(idx, LX_DESC_ROT) of the header's descriptor array, so the heads of runs
 * aligned to 2^LX_DESC_ROT pages (every slab and large run) fill its first slots. */
#define LX_DESC_LOW_MASK (((size_t)1 << LX_DESC_ROT) - 1)
#define LX_DESC_HIGH_BITS (LX_MAX_ORDER - LX_DESC_ROT)

LX_INLINE size_t seg_desc_base(const struct segment *seg)
{
    size_t color = ((uintptr_t)seg >> LX_SEGMENT_SHIFT) & (LX_DESC_COLORS - 1);
    return offsetof(struct segment, desc) + color * 64;
}

/* Byte offset from the segment base of page idx's descriptor. */
LX_INLINE size_t seg_desc_offset(const struct segment *seg, size_t idx)
{
    size_t slot = ((idx & LX_DESC_LOW_MASK) << LX_DESC_HIGH_BITS) | (idx >> LX_DESC_ROT);
    return seg_desc_base(seg) + slot * sizeof(struct page);
}

/* ---- pages not resident (struct segment, gone_map) -------------------------- */

/* The bits of pages from..to-1 that lie in element from / 16, as a mask. */
LX_INLINE uint16_t seg_gone_mask(size_t from, size_t to)
{
    size_t n = to - from < 16 - from % 16 ? to - from : 16 - from % 16;
    return (uint16_t)(((1u << n) - 1) << (from % 16));
}

/* Pages from..to-1 of the segment were given back to the kernel. */
LX_INLINE void seg_gone_set(struct segment *seg, size_t from, size_t to)
{
    for (size_t i = from; i < to; i = (i | 15) + 1)
        atomic_fetch_or_explicit(&seg->gone_map[i / 16], seg_gone_mask(i, to), memory_order_relaxed);
}

/* Pages from..to-1 are about to be populated: clears their bits and returns the
 * first of them that was marked (`to` if none). Reads an element before it
 * writes it, so pages already known resident cost no atomic operation. */
LX_INLINE size_t seg_gone_take(struct segment *seg, size_t from, size_t to)
{
    size_t first = to;
    for (size_t i = from; i < to; i = (i | 15) + 1) {
        uint16_t m = seg_gone_mask(i, to);
        uint16_t w = atomic_load_explicit(&seg->gone_map[i / 16], memory_order_relaxed) & m;
        if (w == 0)
            continue;
        atomic_fetch_and_explicit(&seg->gone_map[i / 16], (uint16_t)~m, memory_order_relaxed);
        if (first == to)
            first = (i & ~(size_t)15) + (size_t)LX_CTZ(w);
    }
    return first;
}

/* Pages lo..hi-1 of the run at page `base` of seg (run-relative, the run at
 * `run`) are about to be written by lxmalloc: those at or past the run's
 * `touched` or marked gone are not resident, so fault them in with one call,
 * from the first such page on (resident ones between cost the call little). */
LX_INLINE void seg_populate_missing(struct segment *seg, uint8_t *run, size_t base, size_t lo,
                                    size_t hi, size_t touched)
{
    if (hi <= lo)
        return;
    size_t from = seg_gone_take(seg, base + lo, base + hi) - base;
    size_t untouched = lo > touched ? lo : touched;
    if (untouched < from)
        from = untouched;
    if (from < hi)
        os_populate(run + (from << LX_PAGE_SHIFT), (hi - from) << LX_PAGE_SHIFT);
}

/* The descriptor of page idx of the segment. */
LX_INLINE struct page *seg_page(struct segment *seg, size_t idx)
{
    return (struct page *)((uint8_t *)seg + seg_desc_offset(seg, idx));
}

/* head[] value for a run whose head is page idx. */
LX_INLINE uint16_t seg_head_line(const struct segment *seg, size_t idx)
{
    return (uint16_t)(seg_desc_offset(seg, idx) / 64);
}

/* The descriptor of the run holding address p of the segment. */
LX_INLINE struct page *segment_page_of(struct segment *seg, const void *p)
{
    return (struct page *)((uint8_t *)seg + ((size_t)seg->head[segment_page_idx(seg, p)] << 6));
}

/*
 * The descriptor of the first page of p's group of 2^LX_DESC_ROT pages, found
 * without a load. Slabs start on the first page of a group and are at least a
 * group long, so when this descriptor heads a slab, p lies in that slab. A
 * descriptor that heads no slab (inside a run, a free run, another kind) never
 * carries a heap's key: releasing a slab clears its key. The free fast path
 * relies on both and falls back to head[] for every other case.
 */
LX_INLINE size_t group_desc_off(uintptr_t a)
{
    /* (group * 128) taken straight from the address bits, no subtraction of seg. */
    static_assert(sizeof(struct page) == 128, "descriptors are 128 bytes");
    return (a >> (LX_PAGE_SHIFT + LX_DESC_ROT - 7)) & ((LX_SEGMENT_PAGES >> LX_DESC_ROT) - 1)
                                                          << 7;
}

LX_INLINE struct page *segment_group_page(struct segment *seg, const void *p)
{
    return (struct page *)((uint8_t *)seg + seg_desc_base(seg) + group_desc_off((uintptr_t)p));
}

/*
 * Segment caches (struct seg_cache): slot (base >> LX_SEGMENT_SHIFT) % LX_SEG_SEEN
 * holds a normal segment's number (base >> LX_SEGMENT_SHIFT) and the address of
 * its descriptors, so that free() finds the descriptor of p's group with one
 * compare and an add. Every cache is registered; segment_destroy clears the
 * slot of the segment it ends in each of them, after it has cleared the
 * segment map. seg_cache_learn
 * writes a slot and then reads the segment map again, each side with a full
 * fence in between, so one of the two always sees the other: a slot never
 * keeps a segment that is gone.
 */
#define LX_SEG_NONE (~(uintptr_t)0) /* an empty slot: no segment has this number */

/* Does c hold p's segment? A slot holds the segment's number (its base >>
 * LX_SEGMENT_SHIFT), so one shift of p gives both the slot and what it must
 * hold. */
LX_INLINE bool seg_cache_holds(const struct seg_cache *c, const void *p)
{
    uintptr_t n = (uintptr_t)p >> LX_SEGMENT_SHIFT;
    return atomic_load_explicit(&c->base[n & (LX_SEG_SEEN - 1)], memory_order_relaxed) == n;
}

/* The descriptor of the first page of p's group (as segment_group_page), when c
 * holds p's segment. */
LX_INLINE struct page *seg_cache_group_page(const struct seg_cache *c, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    unsigned slot = (unsigned)(a >> LX_SEGMENT_SHIFT) & (LX_SEG_SEEN - 1);
    return (struct page *)(c->desc[slot] + group_desc_off(a));
}

/* Empties c and adds it to the registry that segment_destroy walks. */
void seg_cache_register(struct seg_cache *c);
/* If p is in a normal segment, remembers the segment in c and says true. */
bool seg_cache_learn(struct seg_cache *c, const void *p);
/* Empties every registered cache (after a full fence). */
void seg_caches_clear(void);

LX_INLINE size_t page_idx(const struct segment *seg, const struct page *pg)
{
    size_t rel = (size_t)((const uint8_t *)pg - (const uint8_t *)seg) - seg_desc_base(seg);
    size_t slot = rel / sizeof(struct page);
    return ((slot & (((size_t)1 << LX_DESC_HIGH_BITS) - 1)) << LX_DESC_ROT) |
           (slot >> LX_DESC_HIGH_BITS);
}

LX_INLINE uint8_t *page_address(struct segment *seg, const struct page *pg)
{
    return (uint8_t *)seg + (page_idx(seg, pg) << LX_PAGE_SHIFT);
}

LX_INLINE struct segment *page_segment(const struct page *pg)
{
    return (struct segment *)((uintptr_t)pg & ~(uintptr_t)LX_SEGMENT_MASK);
}

/* A mapped, registered, zeroed normal segment, or NULL. Its metadata pages are
 * not yet a run: the caller (pages.c) sets the buddy state up. */
struct segment *segment_create(struct arena *arena) LX_WUR;
/* Unmap it, or with the brk source give it back to the break (or park it). */
void segment_destroy(struct segment *seg);
/* fork: the child resets the brk lock. */
void segment_brk_fork_child(void);

/* A huge mapping of `map_size` bytes (a page multiple, header included), its
 * base aligned to `alignment` (a power of two >= LX_SEGMENT_SIZE); `thp` is the
 * huge-page advice for it (large.c, huge_thp: 1 ask, 0 refuse, -1 none). */
struct segment *segment_create_huge(size_t map_size, size_t alignment, int thp) LX_WUR;
void segment_destroy_huge(struct segment *seg);
/* Resize a huge mapping, moving it if needed (the new range gets the advice
 * `thp`, as above); NULL leaves it as it was. */
struct segment *segment_resize_huge(struct segment *seg, size_t new_map_size, int thp) LX_WUR;
/* Cut a huge mapping in two without a system call: `seg` keeps its first `keep`
 * bytes (a multiple of LX_SEGMENT_SIZE, less than its size) and the rest becomes
 * a huge mapping of its own, whose new header is returned. */
struct segment *segment_split_huge(struct segment *seg, size_t keep) LX_WUR;
/* Join the huge mapping `next`, which starts where `seg` ends, onto `seg`. The
 * result may be two kernel mappings: mremap may refuse it (a resize then fails
 * and the caller copies), munmap does not. */
void segment_join_huge(struct segment *seg, struct segment *next);
/* Move the last `len` bytes of the huge mapping `src` (a page multiple; all of it,
 * header included, when `len` is its size) to `dst`, over pages of another huge
 * mapping that hold nothing yet. The pages move with what they hold, resident,
 * and what is left of `src` stays a huge mapping (a fully moved one is gone).
 * False, with `src` as it was, if the kernel refuses the move. */
bool segment_move_tail_huge(struct segment *src, size_t len, void *dst) LX_WUR;

/* The huge header whose mapping contains `p`, or NULL (p in a SEGMAP_HUGE(_TAIL) chunk). */
struct segment *segment_huge_containing(const void *p);

/* Is `seg` a header lxmalloc wrote (cookie check)? */
LX_INLINE bool segment_valid(const struct segment *seg)
{
    return seg->cookie == ((uintptr_t)seg ^ lx_secret);
}

#endif /* LX_SEGMENT_H */
