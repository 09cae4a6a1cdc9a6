/* SPDX-License-Identifier: MIT */
/*
 * large.c — large runs and huge blocks. Layer: beside heap, above pages and
 * segment. A large run is one block: its descriptor's start is the block and
 * block_size its usable length, so free needs no header. (The run is as long as
 * the block's pages rounded up to a whole group of 2^LX_DESC_ROT pages, and the
 * block uses its front: the pages past the block are never touched, which
 * `touched` tells the arena; and what an arena splits off a run's buddy block,
 * or a shrink gives back, is whole groups, whose descriptors are the group
 * heads every run uses. A run of 9 pages cut from a 16-page block used to free
 * blocks of 1, 2 and 4 pages, each writing its descriptor on another of the 30
 * descriptor pages that only such fragments touch: segment.h.) A huge block is a
 * segment-aligned mapping whose first page is its header (struct segment); the
 * block starts at huge_offset (a page, or the requested alignment), so the
 * header never sits right before user data on the same page.
 *
 * Freed huge blocks go to a cache (LX_HUGE_CACHE_SLOTS mappings) and are reused
 * by the next huge request: the best fit, else the largest, grown with mremap
 * (which keeps its resident pages). What a fitting mapping has beyond the request
 * (rounded up to a segment) is cut off as a mapping of its own and cached again,
 * without a system call, so a loop that allocates and frees blocks of varying
 * multi-MiB sizes neither maps nor faults its pages again each time, and no block
 * holds resident pages far beyond its size. A block that grows with mremap takes
 * the pages of cached mappings for its new end (huge_cache_fill), so it grows into
 * memory freed before rather than faulting in new pages. The cache holds up to
 * lx_opt.huge_cache bytes, or, if that is more,
 * what the program's recent peak of live huge bytes leaves beside the blocks live
 * now: a program that keeps several big blocks at once can reuse them all, and
 * cached plus live never exceeds what it really used at its peak. The peak decays
 * to the present (live plus cached) whenever cached mappings expire.
 * Cached mappings older than the purge delay are unmapped on the next large or
 * huge operation, the next slab refill (huge_cache_tick), or malloc_trim. A cached
 * header has huge_cached set, so a second free of its block is still recognised
 * as a double free.
 *
 * Huge pages: every huge mapping asks for transparent huge pages
 * (MADV_HUGEPAGE; LXMALLOC_THP=0 refuses them), so the kernel backs each whole,
 * aligned 2 MiB of a mapping with one page when it is first touched, and mremap
 * moves such a page by moving one page-table entry. A block's mapping ends where
 * the block ends, so only a block of 2 MiB and more has such a range: its tail
 * keeps small pages, and no huge page reaches past the block. A buffer that
 * realloc grows would never get one, though: each step faults in small pages up
 * to its new end, inside the 2 MiB that the next step completes. So a growing
 * block of at least half a huge page maps up to a huge-page boundary
 * (huge_alloc_growing; less than 2 MiB more, and only what the program writes is
 * resident), unless huge pages are refused. Where faulting in a small page
 * costs several microseconds (a guest whose page tables the hypervisor shadows,
 * say), a huge page costs what a dozen small ones do, not 512 times as much, and
 * a moved one nothing at its next touch.
 *
 * Owned blocks: a first-class heap's large runs and huge blocks (and the page
 * allocator's huge blocks) are also on their owner's large_owner lists, so that
 * the owner can release them all; every free path here unlinks them first.
 */
#include "large.h"

#include "config.h"
#include "lock.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "segment.h"
#include "stats.h"

/* A large block of `npages` pages takes a run this long. */
static size_t large_run_pages(size_t npages)
{
    return (npages + LX_DESC_LOW_MASK) & ~(size_t)LX_DESC_LOW_MASK;
}

void *large_alloc(struct arena *a, struct run_cache *rc, struct large_counts *lc, size_t size,
                  size_t alignment, size_t write, bool *zero)
{
    size_t extra = alignment > LX_PAGE_SIZE ? alignment - LX_PAGE_SIZE : 0;
    size_t npages = (size + extra + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    (void)huge_cache_expire(false);
    /* A cached run up to a quarter longer will do. */
    struct page *pg = rc != NULL ? run_cache_take(rc, large_run_pages(npages),
                                                  large_run_pages(npages + npages / 4), RUN_LARGE)
                                 : NULL;
    size_t clean_from = npages; /* the block's pages from here on were never touched */
    if (pg != NULL) {
        if (pg->touched < npages) {
            clean_from = pg->touched;
            pg->touched = (uint32_t)npages;
        }
    } else {
        pg = arena_alloc_run(a, large_run_pages(npages), RUN_LARGE);
        if (pg == NULL)
            return NULL;
        /* Where a dirty block's resident pages are is not known. */
        if (!pg->dirty) {
            clean_from = 0;
            pg->touched = (uint32_t)npages;
        }
    }
    struct segment *seg = page_segment(pg);
    uint8_t *run = page_address(seg, pg);
    uintptr_t user = ((uintptr_t)run + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t user_page = (user - (uintptr_t)run) >> LX_PAGE_SHIFT;
    *zero = clean_from <= user_page;
    if (!*zero && write != 0) {
        /* The pages the caller writes, from the first that is not resident
         * (untouched, or given back) on: one call. */
        size_t end = (user - (uintptr_t)run + write + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
        if (end > npages)
            end = npages;
        seg_populate_missing(seg, run, page_idx(seg, pg), user_page, end, clean_from);
    }
    pg->start = (uint8_t *)user;
    pg->block_size = (uint32_t)((uintptr_t)run + (npages << LX_PAGE_SHIFT) - user);
    pg->local_key = 0;
    pg->used = 1;
    stats_large(lc, pg->block_size, 1);
    return (void *)user;
}

/* ---- owned blocks (first-class heaps, the page allocator) --------------- */

static void owner_link_run(struct large_owner *o, struct page *pg)
{
    pg->local_key = (uintptr_t)o;
    lx_lock(&o->lock);
    pg->prev = NULL;
    pg->next = o->runs;
    if (o->runs != NULL)
        o->runs->prev = pg;
    o->runs = pg;
    lx_unlock(&o->lock);
}

static void owner_unlink_run(struct page *pg)
{
    struct large_owner *o = (struct large_owner *)pg->local_key;
    lx_lock(&o->lock);
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        o->runs = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    lx_unlock(&o->lock);
    pg->next = pg->prev = NULL;
    pg->local_key = 0;
}

static void owner_link_huge_locked(struct large_owner *o, struct segment *seg)
{
    seg->owner = o;
    seg->prev = NULL;
    seg->next = o->huge;
    if (o->huge != NULL)
        o->huge->prev = seg;
    o->huge = seg;
}

static void owner_unlink_huge_locked(struct large_owner *o, struct segment *seg)
{
    if (seg->prev != NULL)
        seg->prev->next = seg->next;
    else
        o->huge = seg->next;
    if (seg->next != NULL)
        seg->next->prev = seg->prev;
    seg->next = seg->prev = NULL;
    seg->owner = NULL;
}

void *large_alloc_owned(struct large_owner *o, struct arena *a, size_t size, size_t alignment,
                        size_t write, bool *zero)
{
    void *p = large_alloc(a, NULL, NULL, size, alignment, write, zero);
    if (p != NULL)
        owner_link_run(o, segment_page_of(segment_of(p), p));
    return p;
}

void *huge_alloc_owned(struct large_owner *o, size_t size, size_t alignment, bool *zeroed)
{
    void *p = huge_alloc(size, alignment, zeroed);
    if (p != NULL) {
        lx_lock(&o->lock);
        owner_link_huge_locked(o, segment_of(p));
        lx_unlock(&o->lock);
    }
    return p;
}

void large_owner_release_all(struct large_owner *o)
{
    lx_lock(&o->lock);
    struct page *runs = o->runs;
    struct segment *huge = o->huge;
    o->runs = NULL;
    o->huge = NULL;
    lx_unlock(&o->lock);
    while (runs != NULL) {
        struct page *next = runs->next;
        runs->next = runs->prev = NULL;
        runs->local_key = 0;
        large_free(runs, NULL, NULL);
        runs = next;
    }
    while (huge != NULL) {
        struct segment *next = huge->next;
        huge->next = huge->prev = NULL;
        huge->owner = NULL;
        huge_free(huge);
        huge = next;
    }
}

void large_free(struct page *pg, struct run_cache *rc, struct large_counts *lc)
{
    if (pg->local_key != 0) {
        owner_unlink_run(pg);
        rc = NULL; /* a first-class heap's run: its heap may be going away */
    }
    stats_large(lc, pg->block_size, 0);
    pg->used = 0;
    pg->start = NULL;
    if (rc == NULL || !run_cache_put(rc, pg))
        arena_free_run(pg);
    (void)huge_cache_expire(false);
}

void large_shrink(struct page *pg, size_t size, struct large_counts *lc)
{
    struct segment *seg = page_segment(pg);
    uintptr_t run = (uintptr_t)page_address(seg, pg);
    size_t npages = ((uintptr_t)pg->start + size - run + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    size_t rpages = large_run_pages(npages);
    /* An eighth of the run at least: a block that shrinks a little and grows
     * again (which copies it, unless the pages after it are still free) stays
     * as it is. */
    if (rpages >= pg->run_pages || (pg->run_pages - rpages) * 8 < pg->run_pages)
        return;
    size_t usable = (npages << LX_PAGE_SHIFT) - ((uintptr_t)pg->start - run);
    stats_large_resize(lc, -(int64_t)(pg->block_size - usable));
    pg->block_size = (uint32_t)usable;
    arena_trim_run(pg, rpages);
}

bool large_grow(struct page *pg, size_t size, struct large_counts *lc)
{
    struct segment *seg = page_segment(pg);
    uint8_t *run = page_address(seg, pg);
    size_t offset = (size_t)(pg->start - run);
    size_t old = (offset + pg->block_size) >> LX_PAGE_SHIFT; /* the block's pages */
    size_t npages = (offset + size + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    if (npages <= old)
        return false;
    /* The run's own tail first, else the free pages after the run too. */
    size_t touched = pg->touched;
    size_t dirty = 0;
    if (npages > pg->run_pages && !arena_extend_run(pg, large_run_pages(npages), &dirty))
        return false;
    size_t usable = (npages << LX_PAGE_SHIFT) - offset;
    stats_large_resize(lc, (int64_t)(usable - pg->block_size));
    pg->block_size = (uint32_t)usable;
    if (pg->touched < npages)
        pg->touched = (uint32_t)npages;
    /* The program grew the block to write there: fault the new pages in with one
     * call, unless some may be resident already (those before `touched`, or any
     * the arena added). */
    size_t from = touched > old ? touched : old;
    if (dirty == 0 && npages > from + 1)
        os_populate(run + (from << LX_PAGE_SHIFT), (npages - from) << LX_PAGE_SHIFT);
    return true;
}

static struct {
    lx_lock_t lock;
    struct segment *slot[LX_HUGE_CACHE_SLOTS];
    uint64_t freed_ns[LX_HUGE_CACHE_SLOTS];
    _Atomic size_t bytes; /* mapped bytes of the cached blocks; read without the lock */
    size_t unmapped; /* bytes of cached blocks unmapped, ever */
} huge_cache;

/*
 * Huge pages for huge blocks. A huge page saves 511 page faults of 4 KiB each
 * when a block is written through, and on a guest whose page tables the
 * hypervisor shadows a fault costs 10-12 us: a program that maps, fills and
 * frees big blocks again and again runs 2.5-3 times faster with them (realloc,
 * large in docs/BENCHMARKS.md). A big array that a program fills once and then
 * reads and writes at random pays its faults once, and there the same guest
 * made random accesses to a huge-page array slower and their time erratic
 * (replace: 190 ns an operation with 4 KiB pages, 240-710 with huge pages;
 * frag 1.75 -> 1.40 s). So unless
 * LXMALLOC_THP says otherwise, a huge mapping asks for huge pages only once the
 * program has freed a huge block or grown one with realloc (huge_churn): the
 * first big arrays of a program are left to the kernel's policy, as every
 * other allocator leaves them.
 */
static _Atomic bool huge_churn;

/* The advice for a new huge mapping (segment_create_huge): 1, 0, or -1 for none. */
static int huge_thp(void)
{
    if (lx_opt.thp >= 0)
        return lx_opt.thp;
    return atomic_load_explicit(&huge_churn, memory_order_relaxed) ? 1 : -1;
}

static void huge_churn_seen(void)
{
    if (!atomic_load_explicit(&huge_churn, memory_order_relaxed))
        atomic_store_explicit(&huge_churn, true, memory_order_relaxed);
}

/* Mapped bytes of live huge blocks, and their recent peak (the cache's bound). */
static _Atomic size_t huge_live_mapped;
static _Atomic size_t huge_peak_mapped;

static void huge_live_add(size_t bytes)
{
    size_t live = atomic_fetch_add_explicit(&huge_live_mapped, bytes, memory_order_relaxed) + bytes;
    size_t peak = atomic_load_explicit(&huge_peak_mapped, memory_order_relaxed);
    while (live > peak && !atomic_compare_exchange_weak_explicit(&huge_peak_mapped, &peak, live,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed)) {
    }
}

void huge_cache_fork_prepare(void)
{
    lx_lock(&huge_cache.lock);
}

void huge_cache_fork_parent(void)
{
    lx_unlock(&huge_cache.lock);
}

void huge_cache_fork_child(void)
{
    lx_lock_reset(&huge_cache.lock);
}

void huge_cache_counts(size_t *cached, size_t *unmapped)
{
    *cached = huge_cache.bytes;
    *unmapped = huge_cache.unmapped;
}

/* Take the smallest cached mapping of at least `map_size` bytes, else the largest
 * one (the caller resizes it: mremap keeps the resident pages, so only the
 * difference is mapped and faulted anew). */
static struct segment *huge_cache_take(size_t map_size)
{
    if (atomic_load_explicit(&huge_cache.bytes, memory_order_relaxed) == 0)
        return NULL;
    lx_lock(&huge_cache.lock);
    int best = -1;
    for (int i = 0; i < LX_HUGE_CACHE_SLOTS; i++) {
        struct segment *c = huge_cache.slot[i];
        if (c == NULL)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        size_t have = huge_cache.slot[best]->huge_map_size, size = c->huge_map_size;
        bool fits = size >= map_size, best_fits = have >= map_size;
        if ((fits && (!best_fits || size < have)) || (!fits && !best_fits && size > have))
            best = i;
    }
    struct segment *seg = NULL;
    if (best >= 0) {
        seg = huge_cache.slot[best];
        huge_cache.slot[best] = NULL;
        huge_cache.bytes -= seg->huge_map_size;
        seg->huge_cached = 0;
    }
    lx_unlock(&huge_cache.lock);
    return seg;
}

size_t huge_cache_expire(bool all)
{
    if (atomic_load_explicit(&huge_cache.bytes, memory_order_relaxed) == 0)
        return 0;
    struct segment *drop[LX_HUGE_CACHE_SLOTS];
    int n = 0;
    uint64_t now = os_now_coarse_ns();
    uint64_t delay = atomic_load_explicit(&lx_opt.purge_delay_ns, memory_order_relaxed);
    lx_lock(&huge_cache.lock);
    for (int i = 0; i < LX_HUGE_CACHE_SLOTS; i++) {
        struct segment *c = huge_cache.slot[i];
        if (c != NULL && (all || huge_cache.freed_ns[i] + delay <= now)) {
            huge_cache.slot[i] = NULL;
            huge_cache.bytes -= c->huge_map_size;
            drop[n++] = c;
        }
    }
    size_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += drop[i]->huge_map_size;
    huge_cache.unmapped += bytes;
    if (n > 0)
        atomic_store_explicit(&huge_peak_mapped,
                              huge_cache.bytes + atomic_load_explicit(&huge_live_mapped,
                                                                      memory_order_relaxed),
                              memory_order_relaxed);
    lx_unlock(&huge_cache.lock);
    for (int i = 0; i < n; i++)
        segment_destroy_huge(drop[i]);
    return bytes;
}

/* What the cache may hold now: lx_opt.huge_cache bytes (0 turns it off), or what
 * the recent peak of live huge bytes leaves beside those live now, if more. */
static size_t huge_cache_limit(void)
{
    size_t limit = atomic_load_explicit(&lx_opt.huge_cache, memory_order_relaxed);
    size_t live = atomic_load_explicit(&huge_live_mapped, memory_order_relaxed);
    size_t peak = atomic_load_explicit(&huge_peak_mapped, memory_order_relaxed);
    if (limit != 0 && peak > live && peak - live > limit)
        limit = peak - live;
    return limit;
}

/* Keep a freed mapping for reuse, joined with cached neighbours, making room by
 * dropping the oldest entry once. Returns NULL, or the mapping (joined, perhaps)
 * that does not fit, which the caller unmaps. */
static struct segment *huge_cache_put(struct segment *seg, size_t limit)
{
    size_t size = seg->huge_map_size;
    if (size > limit)
        return seg;
    struct segment *evict = NULL;
    uint64_t now = os_now_coarse_ns();
    lx_lock(&huge_cache.lock);
    /* Join cached neighbours first, so the cache keeps whole ranges (pieces cut
     * off by huge_alloc come back together). */
    for (int i = 0; i < LX_HUGE_CACHE_SLOTS; i++) {
        struct segment *c = huge_cache.slot[i];
        if (c == NULL)
            continue;
        if ((uintptr_t)c + c->huge_map_size == (uintptr_t)seg) {
            huge_cache.slot[i] = NULL;
            huge_cache.bytes -= c->huge_map_size;
            segment_join_huge(c, seg);
            seg = c;
            i = -1;
        } else if ((uintptr_t)seg + size == (uintptr_t)c) {
            huge_cache.slot[i] = NULL;
            huge_cache.bytes -= c->huge_map_size;
            segment_join_huge(seg, c);
            i = -1;
        }
        size = seg->huge_map_size;
    }
    int free_slot = -1, oldest = -1;
    for (int i = 0; i < LX_HUGE_CACHE_SLOTS; i++) {
        if (huge_cache.slot[i] == NULL) {
            if (free_slot < 0)
                free_slot = i;
        } else if (oldest < 0 || huge_cache.freed_ns[i] < huge_cache.freed_ns[oldest]) {
            oldest = i;
        }
    }
    if ((free_slot < 0 || huge_cache.bytes + size > limit) && oldest >= 0) {
        evict = huge_cache.slot[oldest];
        huge_cache.slot[oldest] = NULL;
        huge_cache.bytes -= evict->huge_map_size;
        huge_cache.unmapped += evict->huge_map_size;
        if (free_slot < 0)
            free_slot = oldest;
    }
    bool cached = false;
    if (free_slot >= 0 && huge_cache.bytes + size <= limit) {
        seg->huge_cached = 1;
        huge_cache.slot[free_slot] = seg;
        huge_cache.freed_ns[free_slot] = now;
        huge_cache.bytes += size;
        cached = true;
    }
    lx_unlock(&huge_cache.lock);
    if (evict != NULL)
        segment_destroy_huge(evict);
    return cached ? NULL : seg;
}

/*
 * Fill [dst, dst + len), new pages at the end of a huge block that just grew,
 * with the pages of cached mappings, oldest first: the block grows into memory
 * freed before, resident, instead of faulting in pages while the cache holds as
 * many. A mapping gives its last pages (all of it if the block needs as much).
 * Returns how many bytes from dst were filled; the rest are fresh pages.
 */
static size_t huge_cache_fill(uint8_t *dst, size_t len)
{
    if (len == 0 || atomic_load_explicit(&huge_cache.bytes, memory_order_relaxed) == 0)
        return 0;
    size_t done = 0;
    bool tried[LX_HUGE_CACHE_SLOTS] = {false};
    lx_lock(&huge_cache.lock);
    while (done < len) {
        int pick = -1;
        for (int i = 0; i < LX_HUGE_CACHE_SLOTS; i++) {
            if (huge_cache.slot[i] != NULL && !tried[i] &&
                (pick < 0 || huge_cache.freed_ns[i] < huge_cache.freed_ns[pick]))
                pick = i;
        }
        if (pick < 0)
            break;
        tried[pick] = true;
        struct segment *c = huge_cache.slot[pick];
        size_t size = c->huge_map_size;
        size_t n = len - done < size ? len - done : size;
        /* A mapping joined from two may span two kernel mappings, which older
         * kernels do not move: try the next one. */
        if (!segment_move_tail_huge(c, n, dst + done))
            continue;
        if (n == size)
            huge_cache.slot[pick] = NULL;
        huge_cache.bytes -= n;
        done += n;
    }
    lx_unlock(&huge_cache.lock);
    return done;
}

void *huge_alloc(size_t size, size_t alignment, bool *zeroed)
{
    size_t offset = alignment > LX_HUGE_HEADER ? alignment : LX_HUGE_HEADER;
    if (size > SIZE_MAX / 2 - offset - LX_SEGMENT_SIZE)
        return NULL;
    size_t map_size = (offset + size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    (void)huge_cache_expire(false);
    struct segment *seg = NULL;
    if (alignment <= LX_SEGMENT_SIZE)
        seg = huge_cache_take(map_size);
    /* Too big by whole segments: cut the rest off, mapped and resident, for the
     * cache. Too small: grow it (mremap keeps the pages it has). */
    size_t keep = (map_size + LX_SEGMENT_MASK) & ~(size_t)LX_SEGMENT_MASK;
    if (seg != NULL && seg->huge_map_size > keep) {
        struct segment *rest = huge_cache_put(segment_split_huge(seg, keep), huge_cache_limit());
        if (rest != NULL)
            segment_destroy_huge(rest);
    }
    if (seg != NULL && seg->huge_map_size < map_size) {
        size_t had = seg->huge_map_size;
        struct segment *resized = segment_resize_huge(seg, map_size, huge_thp());
        if (resized == NULL) {
            segment_destroy_huge(seg);
            seg = NULL;
        } else {
            seg = resized;
            (void)huge_cache_fill((uint8_t *)seg + had, map_size - had);
        }
    }
    *zeroed = seg == NULL;
    if (seg == NULL) {
        size_t map_align = alignment > LX_SEGMENT_SIZE ? alignment : LX_SEGMENT_SIZE;
        seg = segment_create_huge(map_size, map_align, huge_thp());
        if (seg == NULL) {
            /* Cached mappings hold memory the kernel may need: drop them and retry. */
            if (huge_cache_expire(true) == 0)
                return NULL;
            seg = segment_create_huge(map_size, map_align, huge_thp());
            if (seg == NULL)
                return NULL;
        }
    }
    seg->huge_offset = offset;
    seg->huge_asked = size;
    seg->owner = NULL;
    seg->next = seg->prev = NULL;
    huge_live_add(seg->huge_map_size);
    stats_huge((int64_t)huge_usable(seg), (int64_t)seg->huge_map_size, 1);
    return (uint8_t *)seg + offset;
}

void huge_free(struct segment *seg)
{
    struct large_owner *o = seg->owner;
    if (o != NULL) {
        lx_lock(&o->lock);
        owner_unlink_huge_locked(o, seg);
        lx_unlock(&o->lock);
    }
    stats_huge((int64_t)huge_usable(seg), (int64_t)seg->huge_map_size, 0);
    atomic_fetch_sub_explicit(&huge_live_mapped, seg->huge_map_size, memory_order_relaxed);
    huge_churn_seen();
    struct segment *rest = huge_cache_put(seg, huge_cache_limit());
    if (rest != NULL)
        segment_destroy_huge(rest);
}

/* Is a mapping of at least map_size bytes cached now? */
static bool huge_cache_fits(size_t map_size)
{
    if (atomic_load_explicit(&huge_cache.bytes, memory_order_relaxed) < map_size)
        return false;
    bool fits = false;
    lx_lock(&huge_cache.lock);
    for (int i = 0; i < LX_HUGE_CACHE_SLOTS && !fits; i++)
        fits = huge_cache.slot[i] != NULL && huge_cache.slot[i]->huge_map_size >= map_size;
    lx_unlock(&huge_cache.lock);
    return fits;
}

/* Take the cached mapping that starts at `addr`, if there is one. */
static struct segment *huge_cache_take_at(uintptr_t addr)
{
    if (atomic_load_explicit(&huge_cache.bytes, memory_order_relaxed) == 0)
        return NULL;
    struct segment *seg = NULL;
    lx_lock(&huge_cache.lock);
    for (int i = 0; i < LX_HUGE_CACHE_SLOTS; i++) {
        if ((uintptr_t)huge_cache.slot[i] == addr && addr != 0) {
            seg = huge_cache.slot[i];
            huge_cache.slot[i] = NULL;
            huge_cache.bytes -= seg->huge_map_size;
            seg->huge_cached = 0;
            break;
        }
    }
    lx_unlock(&huge_cache.lock);
    return seg;
}

/* Account a live block's mapping going from old_map to its present size. */
static void huge_resized(struct segment *seg, size_t old_map, size_t old_usable)
{
    size_t map = seg->huge_map_size;
    if (map >= old_map)
        huge_live_add(map - old_map);
    else
        atomic_fetch_sub_explicit(&huge_live_mapped, old_map - map, memory_order_relaxed);
    stats_huge_resize((int64_t)huge_usable(seg) - (int64_t)old_usable,
                      (int64_t)map - (int64_t)old_map);
}

void *huge_alloc_growing(size_t size, bool *zeroed)
{
    huge_churn_seen(); /* a block that realloc grows into a mapping of its own */
    size_t ask = size;
    if (size >= LX_HUGE_PAGE_SIZE / 2 && size <= SIZE_MAX / 2 && lx_opt.thp != 0)
        ask = ((LX_HUGE_HEADER + size + LX_HUGE_PAGE_SIZE - 1) & ~(LX_HUGE_PAGE_SIZE - 1)) -
              LX_HUGE_HEADER;
    uint8_t *p = huge_alloc(ask, LX_ALIGN, zeroed);
    if (p != NULL)
        ((struct segment *)(p - LX_HUGE_HEADER))->huge_asked = size;
    return p;
}

/*
 * Growing first joins a cached mapping that starts where this one ends (no system
 * call); what the block then has beyond the request, rounded up to a segment, goes
 * back to the cache, as does the part a shrink gives up. Only a block still too
 * small is resized with mremap, in place or moved.
 */
void *huge_realloc(struct segment *seg, size_t size, bool exact)
{
    size_t offset = seg->huge_offset;
    if (size > SIZE_MAX / 2 - offset - LX_SEGMENT_SIZE)
        return NULL;
    size_t old_map = seg->huge_map_size;
    size_t old_usable = huge_usable(seg);
    if (size > old_usable)
        huge_churn_seen();
    size_t map_size = (offset + size + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    if (!exact && size >= LX_HUGE_PAGE_SIZE / 2 && lx_opt.thp != 0)
        map_size = (map_size + LX_HUGE_PAGE_SIZE - 1) & ~(LX_HUGE_PAGE_SIZE - 1);
    size_t keep = (map_size + LX_SEGMENT_MASK) & ~(size_t)LX_SEGMENT_MASK;
    if (map_size > old_map) {
        struct segment *next = huge_cache_take_at((uintptr_t)seg + old_map);
        if (next != NULL)
            segment_join_huge(seg, next);
    }
    if (seg->huge_map_size > keep) {
        struct segment *rest = huge_cache_put(segment_split_huge(seg, keep), huge_cache_limit());
        if (rest != NULL)
            segment_destroy_huge(rest);
    }
    if (seg->huge_map_size >= map_size && !(exact && seg->huge_map_size > map_size)) {
        seg->huge_asked = size;
        huge_resized(seg, old_map, old_usable);
        return (uint8_t *)seg + offset;
    }
    /* A cached mapping that fits is resident already: copying into it costs less
     * than faulting in the pages mremap would add. */
    if (!exact && huge_cache_fits(map_size)) {
        huge_resized(seg, old_map, old_usable);
        return NULL;
    }
    /* An owned block may move: its list links move with it, so hold the list
     * still and point the neighbours at the new place. */
    struct large_owner *o = seg->owner;
    if (o != NULL)
        lx_lock(&o->lock);
    size_t had = seg->huge_map_size;
    struct segment *moved = segment_resize_huge(seg, map_size, huge_thp());
    if (o != NULL) {
        if (moved != NULL && moved != seg) {
            if (moved->prev != NULL)
                moved->prev->next = moved;
            else
                o->huge = moved;
            if (moved->next != NULL)
                moved->next->prev = moved;
        }
        lx_unlock(&o->lock);
    }
    /* The new end: cached pages first; the rest the program is about to write
     * (it grew the block for that), so it is faulted in with one call, up to a
     * segment's worth, ending on a huge-page boundary (a block grown far ahead
     * of its use keeps the rest untouched, and a huge page is resident whole). */
    if (moved != NULL && map_size > had) {
        size_t filled = huge_cache_fill((uint8_t *)moved + had, map_size - had);
        uint8_t *from = (uint8_t *)moved + had + filled;
        size_t rest = map_size - had - filled;
        if (rest > LX_SEGMENT_SIZE)
            rest = (((uintptr_t)from + LX_SEGMENT_SIZE) & ~(uintptr_t)(LX_HUGE_PAGE_SIZE - 1)) -
                   (uintptr_t)from;
        if (rest > LX_PAGE_SIZE)
            os_populate(from, rest);
    }
    if (moved == NULL) {
        huge_resized(seg, old_map, old_usable);
        return NULL;
    }
    moved->huge_asked = size;
    huge_resized(moved, old_map, old_usable);
    return (uint8_t *)moved + offset;
}
