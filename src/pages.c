/* SPDX-License-Identifier: MIT */
/*
 * pages.c — the buddy allocator of page runs, one per arena, over the arena's
 * segments (the kernel's alloc_pages idea, inside 4 MiB segments).
 *
 * A segment's pages 0..META-1 hold its metadata; the rest are split into buddy
 * blocks of 2^k pages, each aligned to its size within the segment. A request
 * for n pages takes the smallest block of order >= ceil(log2 n), splits it down,
 * and gives the unused tail back at once (exact splitting: 5 pages cost 5, not
 * 8). Freeing cuts the run into aligned blocks and merges each with its buddy
 * while the buddy is a free block of the same order.
 *
 * Invariant: a descriptor has kind RUN_FREE if and only if it heads a block that
 * is on free_lists[order]; every other page of a free block has RUN_NONE. Each
 * list holds its dirty blocks first; a request takes the smallest dirty block
 * that fits, else the smallest block.
 * Everything here runs under the arena's lock; the lock order is global lock ->
 * arenas by index.
 *
 * Purging. A freed run is "dirty": its pages are still resident. Dirty free
 * blocks also sit on the arena's dirty list, oldest first. On every run
 * allocation and free the arena gives dirty blocks back to the kernel with
 * madvise(MADV_DONTNEED), oldest first, while
 *   - the oldest has been free longer than the purge delay (time), or
 *   - dirty pages exceed a quarter of the pages in use plus a small slack (ratio).
 * The time rule keeps runs that are reused at once (no madvise storm in a churn
 * loop); the ratio rule returns memory as soon as a program frees most of what it
 * had, so an idle program's burst goes back without any later call or background
 * thread. The ratio counts the pages of every arena (lx_used_all, lx_dirty_all):
 * memory moving from one arena to another with the work is not given back. Each dirty block counts the pages that may be resident (a freed run
 * counts all its pages; a merged block the sum of its parts'; a block split
 * off a dirty one as many as the whole had, at most its length, since where
 * they lie is not known), so dirty_pages is an upper bound that a big, mostly
 * clean merged block does not inflate; madvise on pages that are not resident
 * costs little.
 */
#include "pages.h"

#include "options.h"
#include "report.h"
#include "segment.h"

LX_BSS_ARENAS struct arena lx_arenas[LX_ARENA_MAX];
static _Atomic unsigned lx_arena_next;
static unsigned lx_cpu_count = 1;

void arenas_init(void)
{
    lx_cpu_count = os_cpu_count();
}

unsigned arena_count(void)
{
    unsigned n = atomic_load_explicit(&lx_opt.arena_max, memory_order_relaxed);
    if (n == 0)
        n = lx_cpu_count;
    if (n > LX_ARENA_MAX)
        n = LX_ARENA_MAX;
    return n == 0 ? 1 : n;
}

/* One more than the highest arena index ever picked or grown. Loops over the
 * arenas stop there: the arenas are .bss, and on a kernel that backs even a
 * read of an untouched anonymous page with a page of its own, a walk over all
 * 64 made 16 KiB resident in every program. */
static _Atomic unsigned lx_arenas_used;

static void arena_note_used(const struct arena *a)
{
    unsigned want = arena_idx(a) + 1;
    unsigned cur = atomic_load_explicit(&lx_arenas_used, memory_order_acquire);
    while (cur < want && !atomic_compare_exchange_weak_explicit(
                             &lx_arenas_used, &cur, want, memory_order_acq_rel,
                             memory_order_acquire)) {
    }
}

unsigned arenas_used(void)
{
    return atomic_load_explicit(&lx_arenas_used, memory_order_acquire);
}

struct arena *arena_pick(void)
{
    unsigned i = atomic_fetch_add_explicit(&lx_arena_next, 1, memory_order_relaxed);
    struct arena *a = &lx_arenas[i % arena_count()];
    arena_note_used(a);
    return a;
}

/* The process's pages in use and dirty pages: the sums of every arena's
 * used_pages and dirty_pages, which change only with them (under that arena's
 * lock; relaxed, since a purge decision only needs a recent value). The purge
 * rules weigh these, not one arena's own: as threads hand their work to one
 * another, memory moves from one arena to another, and an arena that shrinks
 * while another grows is not a program giving its memory back. */
static _Atomic uint64_t lx_used_all;
static _Atomic uint64_t lx_dirty_all;

static void arena_used_add(struct arena *a, size_t n)
{
    a->used_pages += n;
    atomic_fetch_add_explicit(&lx_used_all, n, memory_order_relaxed);
}

static void arena_used_sub(struct arena *a, size_t n)
{
    a->used_pages -= n;
    atomic_fetch_sub_explicit(&lx_used_all, n, memory_order_relaxed);
}

void arenas_pages_all(uint64_t *used, uint64_t *dirty)
{
    *used = atomic_load_explicit(&lx_used_all, memory_order_relaxed);
    *dirty = atomic_load_explicit(&lx_dirty_all, memory_order_relaxed);
}

static void dirty_append(struct arena *a, struct page *pg, size_t count)
{
    pg->dirty = 1;
    pg->dirty_count = (uint32_t)count;
    pg->freed_ns = a->clock_ns;
    pg->dirty_next = NULL;
    pg->dirty_prev = a->dirty_tail;
    if (a->dirty_tail != NULL)
        a->dirty_tail->dirty_next = pg;
    else
        a->dirty_head = pg;
    a->dirty_tail = pg;
    a->dirty_pages += count;
    atomic_fetch_add_explicit(&lx_dirty_all, count, memory_order_relaxed);
}

static void dirty_unlink(struct arena *a, struct page *pg)
{
    if (pg->dirty_prev != NULL)
        pg->dirty_prev->dirty_next = pg->dirty_next;
    else
        a->dirty_head = pg->dirty_next;
    if (pg->dirty_next != NULL)
        pg->dirty_next->dirty_prev = pg->dirty_prev;
    else
        a->dirty_tail = pg->dirty_prev;
    pg->dirty_next = pg->dirty_prev = NULL;
    pg->dirty = 0;
    a->dirty_pages -= pg->dirty_count;
    atomic_fetch_sub_explicit(&lx_dirty_all, pg->dirty_count, memory_order_relaxed);
    pg->dirty_count = 0;
}

/* `dirty`: how many of the block's pages may be resident (0: none). */
static void buddy_push(struct arena *a, struct segment *seg, size_t idx, unsigned order,
                       size_t dirty)
{
    struct page *pg = seg_page(seg, idx);
    pg->kind = RUN_FREE;
    pg->order = (uint8_t)order;
    pg->run_pages = (uint16_t)(1u << order);
    /* Dirty blocks go first, clean ones last: a list starts with a dirty block
     * if it has one (arena_alloc_run prefers those). */
    if (dirty != 0 || a->free_lists[order] == NULL) {
        pg->prev = NULL;
        pg->next = a->free_lists[order];
        if (pg->next != NULL)
            pg->next->prev = pg;
        else
            a->free_tails[order] = pg;
        a->free_lists[order] = pg;
    } else {
        pg->next = NULL;
        pg->prev = a->free_tails[order];
        pg->prev->next = pg;
        a->free_tails[order] = pg;
    }
    a->nonempty |= 1u << order;
    pg->dirty = 0;
    pg->dirty_count = 0;
    if (dirty != 0)
        dirty_append(a, pg, dirty < pg->run_pages ? dirty : pg->run_pages);
}

/* Returns how many of the block's pages may be resident. */
static size_t buddy_remove(struct arena *a, struct page *pg)
{
    unsigned order = pg->order;
    size_t dirty = pg->dirty_count;
    if (pg->dirty)
        dirty_unlink(a, pg);
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        a->free_lists[order] = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    else
        a->free_tails[order] = pg->prev;
    if (a->free_lists[order] == NULL)
        a->nonempty &= ~(1u << order);
    pg->kind = RUN_NONE;
    pg->next = pg->prev = NULL;
    return dirty;
}

/* Largest order of an aligned block starting at `start` that ends by `end`. */
static unsigned buddy_order_at(size_t start, size_t end)
{
    unsigned k = start == 0 ? LX_MAX_ORDER : (unsigned)LX_CTZ(start);
    if (k > LX_MAX_ORDER)
        k = LX_MAX_ORDER;
    while (((size_t)1 << k) > end - start)
        k--;
    return k;
}

static void buddy_free_block(struct arena *a, struct segment *seg, size_t idx, unsigned order,
                             size_t dirty)
{
    lx_assert_internal((idx & (((size_t)1 << order) - 1)) == 0);
    lx_assert_internal(idx >= LX_SEGMENT_META_PAGES && idx < LX_SEGMENT_PAGES);
    lx_assert(seg_page(seg, idx)->kind != RUN_FREE); /* freeing a free block twice */
    seg_page(seg, idx)->kind = RUN_NONE;
    while (order < LX_MAX_ORDER) {
        size_t buddy = idx ^ ((size_t)1 << order);
        struct page *b = seg_page(seg, buddy);
        if (b->kind != RUN_FREE || b->order != order)
            break;
        dirty += buddy_remove(a, b);
        if (buddy < idx)
            idx = buddy;
        order++;
    }
    buddy_push(a, seg, idx, order, dirty);
}

/* Free [start, end) of a segment as maximal aligned blocks, merging with buddies;
 * at most `dirty` pages of each block may be resident. */
static void buddy_free_range(struct arena *a, struct segment *seg, size_t start, size_t end,
                             size_t dirty)
{
    while (start < end) {
        unsigned k = buddy_order_at(start, end);
        size_t n = (size_t)1 << k;
        buddy_free_block(a, seg, start, k, dirty < n ? dirty : n);
        start += n;
    }
}

/* Free [start, end) as buddy_free_range does, where only the pages before
 * `touched_end` may be resident: each block counts its own pages before it. */
static void buddy_free_touched(struct arena *a, struct segment *seg, size_t start, size_t end,
                               size_t touched_end)
{
    while (start < end) {
        unsigned k = buddy_order_at(start, end);
        size_t n = (size_t)1 << k;
        size_t dirty = touched_end <= start ? 0 : touched_end - start < n ? touched_end - start : n;
        buddy_free_block(a, seg, start, k, dirty);
        start += n;
    }
}

static void arena_release_segment_locked(struct arena *a, struct segment *seg);

/* A run just went back to the free lists of `seg`: keep or unmap the segment if
 * it is now empty. */
static void arena_segment_emptied_locked(struct arena *a, struct segment *seg)
{
    if (seg->used_pages != LX_SEGMENT_META_PAGES)
        return;
    a->empty_count++;
    size_t keep = atomic_load_explicit(&lx_opt.trim_threshold, memory_order_relaxed);
    if (a->empty_count * LX_SEGMENT_SIZE > keep)
        arena_release_segment_locked(a, seg);
}

#define LX_PURGE_BATCH LX_DISCARD_BATCH

/*
 * Give dirty blocks back, oldest first, while the time or the ratio rule says so
 * (every one of them with `all`). madvise can take a while on big blocks, so it
 * runs without the lock: the chosen blocks leave the free lists as RUN_PURGING
 * runs (counted as used, so their segment stays), and come back clean after.
 * Called last in an arena operation, with the lock held; returns with it held.
 */
static void arena_purge_locked(struct arena *a, bool all)
{
    uint64_t delay = atomic_load_explicit(&lx_opt.purge_delay_ns, memory_order_relaxed);
    for (;;) {
        struct page *batch[LX_PURGE_BATCH];
        unsigned n = 0;
        /* The allowances are the process's (lx_used_all): memory that moves
         * between arenas as work moves between threads stays resident. */
        uint64_t used_all, dirty_all;
        arenas_pages_all(&used_all, &dirty_all);
        uint64_t bound = all ? 0 : used_all / 4 + LX_PURGE_SLACK_PAGES;
        uint64_t hard = used_all + LX_PURGE_SLACK_PAGES;
        /* Dirty pages that keep the arena's footprint under its peak of the last
         * delay (pages in use plus dirty) cost no peak memory, and a program that
         * builds its next structure soon reuses them without faults. */
        if (a->clock_ns != 0 && a->clock_ns >= a->peak_ns + delay) {
            a->peak_used = a->used_pages;
            a->peak_ns = a->clock_ns;
        }
        uint64_t room = a->peak_used > a->used_pages ? a->peak_used - a->used_pages : 0;
        struct page *pg;
        while (n < LX_PURGE_BATCH && (pg = a->dirty_head) != NULL) {
            bool old = pg->freed_ns + delay <= a->clock_ns;
            /* Over the bound, a run goes only once it has been free for a
             * fraction of the delay and the dirty pages exceed the room under
             * the recent peak (a program that frees a structure and builds the
             * next one soon reuses the pages without faults), unless more
             * pages are free than in use: a program that has just freed most
             * of its memory may not call malloc again soon. */
            bool settled = pg->freed_ns + (delay >> LX_PURGE_SETTLE_SHIFT) <= a->clock_ns;
            dirty_all = atomic_load_explicit(&lx_dirty_all, memory_order_relaxed);
            if (!all && !old &&
                (dirty_all <= bound || (dirty_all <= hard && (!settled || a->dirty_pages <= room))))
                break;
            struct segment *seg = page_segment(pg);
            size_t npages = pg->run_pages;
            (void)buddy_remove(a, pg);
            if (seg->used_pages == LX_SEGMENT_META_PAGES)
                a->empty_count--;
            pg->kind = RUN_PURGING;
            pg->run_pages = (uint16_t)npages;
            seg->used_pages += (uint32_t)npages;
            arena_used_add(a, npages);
            batch[n++] = pg;
        }
        if (n == 0)
            return;
        lx_unlock(&a->lock);
        struct os_discard_batch ranges;
        os_discard_batch_init(&ranges);
        for (unsigned i = 0; i < n; i++) {
            struct segment *seg = page_segment(batch[i]);
            size_t idx = page_idx(seg, batch[i]);
            seg_gone_set(seg, idx, idx + batch[i]->run_pages);
            os_discard_queue(&ranges, page_address(seg, batch[i]),
                             (size_t)batch[i]->run_pages << LX_PAGE_SHIFT);
        }
        os_discard_flush(&ranges);
        lx_lock(&a->lock);
        for (unsigned i = 0; i < n; i++) {
            struct page *p = batch[i];
            struct segment *seg = page_segment(p);
            size_t idx = page_idx(seg, p), npages = p->run_pages;
            seg->used_pages -= (uint32_t)npages;
            arena_used_sub(a, npages);
            a->purged_pages += npages;
            a->purge_calls++;
            buddy_free_range(a, seg, idx, idx + npages, false);
            arena_segment_emptied_locked(a, seg);
        }
    }
}

static void arena_clock_locked(struct arena *a)
{
    a->clock_ns = a->dirty_head != NULL ? os_now_coarse_ns() : 0;
}

static bool arena_grow_locked(struct arena *a)
{
    struct segment *seg = segment_create(a);
    if (seg == NULL)
        return false;
    arena_note_used(a);
    size_t meta = LX_SEGMENT_META_PAGES;
    struct page *m = seg_page(seg, 0);
    m->kind = RUN_META;
    m->run_pages = (uint16_t)meta;
    for (size_t i = 0; i < meta; i++)
        seg->head[i] = seg_head_line(seg, 0);
    seg->used_pages = (uint32_t)meta;
    seg->next = a->segments;
    seg->prev = NULL;
    if (a->segments != NULL)
        a->segments->prev = seg;
    a->segments = seg;
    a->segment_count++;
    a->empty_count++;
    arena_used_add(a, meta);
    buddy_free_range(a, seg, meta, LX_SEGMENT_PAGES, false);
    return true;
}

static void arena_release_segment_locked(struct arena *a, struct segment *seg)
{
    /* An empty segment has coalesced back into exactly the blocks it began with. */
    size_t start = LX_SEGMENT_META_PAGES;
    while (start < LX_SEGMENT_PAGES) {
        unsigned k = buddy_order_at(start, LX_SEGMENT_PAGES);
        struct page *pg = seg_page(seg, start);
        if (pg->kind != RUN_FREE || pg->order != k)
            lx_fatal("empty segment %p has a broken buddy block at page %zu", (void *)seg, start);
        (void)buddy_remove(a, pg);
        start += (size_t)1 << k;
    }
    if (seg->prev != NULL)
        seg->prev->next = seg->next;
    else
        a->segments = seg->next;
    if (seg->next != NULL)
        seg->next->prev = seg->prev;
    a->segment_count--;
    a->empty_count--;
    arena_used_sub(a, LX_SEGMENT_META_PAGES);
    a->unmapped_segments++;
    segment_destroy(seg);
}

struct page *arena_alloc_run(struct arena *a, size_t npages, enum run_kind kind)
{
    if (npages == 0 || npages > (LX_LARGE_MAX >> LX_PAGE_SHIFT))
        return NULL;
    unsigned order = npages <= 1 ? 0 : 64u - (unsigned)LX_CLZ(npages - 1);
    lx_lock(&a->lock);
    uint32_t fit = a->nonempty & ~((1u << order) - 1u);
    if (fit == 0) {
        if (!arena_grow_locked(a)) {
            lx_unlock(&a->lock);
            return NULL;
        }
        fit = a->nonempty & ~((1u << order) - 1u);
    }
    arena_clock_locked(a);
    /* The smallest block whose pages may still be resident, else the smallest:
     * reusing what was freed a moment ago costs no page faults, and leaves clean
     * blocks clean, instead of purging the dirty ones later. */
    unsigned k = (unsigned)LX_CTZ(fit);
    for (uint32_t f = fit; f != 0; f &= f - 1) {
        if (a->free_lists[LX_CTZ(f)]->dirty) {
            k = (unsigned)LX_CTZ(f);
            break;
        }
    }
    struct page *pg = a->free_lists[k];
    /* Where in the block its resident pages are is not known: each part split
     * off may hold all of them. */
    size_t dirty = buddy_remove(a, pg);
    struct segment *seg = page_segment(pg);
    size_t idx = page_idx(seg, pg);
    while (k > order) {
        k--;
        buddy_push(a, seg, idx + ((size_t)1 << k), k, dirty);
    }
    if (npages < ((size_t)1 << order))
        buddy_free_range(a, seg, idx + npages, idx + ((size_t)1 << order), dirty);
    if (seg->used_pages == LX_SEGMENT_META_PAGES)
        a->empty_count--;
    seg->used_pages += (uint32_t)npages;
    arena_used_add(a, npages);
    if (a->used_pages > a->peak_used) {
        a->peak_used = a->used_pages;
        a->peak_ns = a->clock_ns != 0 ? a->clock_ns : os_now_coarse_ns();
    }
    pg->kind = (uint8_t)kind;
    pg->run_pages = (uint16_t)npages;
    pg->touched = (uint32_t)npages;
    pg->dirty = dirty != 0;
    pg->dirty_count = 0;
    uint16_t line = seg_head_line(seg, idx);
    for (size_t i = 0; i < npages; i++)
        seg->head[idx + i] = line;
    arena_purge_locked(a, false);
    lx_unlock(&a->lock);
    return pg;
}

static void arenas_purge_if_over(void);

void arena_free_run(struct page *pg)
{
    struct segment *seg = page_segment(pg);
    struct arena *a = seg->arena;
    size_t idx = page_idx(seg, pg);
    size_t npages = pg->run_pages;
    lx_assert(pg->kind == RUN_SLAB || pg->kind == RUN_LARGE || pg->kind == RUN_PAGES ||
              pg->kind == RUN_CACHED || pg->kind == RUN_MEDIUM);
    lx_lock(&a->lock);
    a->clock_ns = os_now_coarse_ns();
    size_t touched = pg->touched < npages ? pg->touched : npages;
    seg->used_pages -= (uint32_t)npages;
    arena_used_sub(a, npages);
    buddy_free_touched(a, seg, idx, idx + npages, idx + touched);
    arena_segment_emptied_locked(a, seg);
    arena_purge_locked(a, false);
    lx_unlock(&a->lock);
    arenas_purge_if_over();
}

bool arena_extend_run(struct page *pg, size_t npages, size_t *dirty)
{
    struct segment *seg = page_segment(pg);
    struct arena *a = seg->arena;
    size_t idx = page_idx(seg, pg);
    size_t old = pg->run_pages;
    lx_assert(pg->kind == RUN_LARGE && npages > old);
    if (idx + npages > LX_SEGMENT_PAGES || npages > (LX_LARGE_MAX >> LX_PAGE_SHIFT))
        return false;
    lx_lock(&a->lock);
    /* The page after a run starts the next run or a free block: a buddy block
     * is aligned to its length, so one that began before would overlap the run. */
    size_t end = idx + old;
    while (end < idx + npages) {
        struct page *d = seg_page(seg, end);
        if (d->kind != RUN_FREE) {
            lx_unlock(&a->lock);
            return false;
        }
        end += d->run_pages;
    }
    size_t resident = 0;
    for (size_t i = idx + old; i < end;) {
        struct page *d = seg_page(seg, i);
        size_t n = d->run_pages;
        resident += buddy_remove(a, d);
        i += n;
    }
    if (end > idx + npages)
        buddy_free_range(a, seg, idx + npages, end, resident);
    *dirty = resident < npages - old ? resident : npages - old;
    arena_clock_locked(a);
    seg->used_pages += (uint32_t)(npages - old);
    arena_used_add(a, npages - old);
    if (a->used_pages > a->peak_used) {
        a->peak_used = a->used_pages;
        a->peak_ns = a->clock_ns != 0 ? a->clock_ns : os_now_coarse_ns();
    }
    pg->run_pages = (uint16_t)npages;
    if (resident != 0)
        pg->touched = (uint32_t)npages;
    uint16_t line = seg_head_line(seg, idx);
    for (size_t i = idx + old; i < idx + npages; i++)
        seg->head[i] = line;
    lx_unlock(&a->lock);
    return true;
}

void arena_trim_run(struct page *pg, size_t npages)
{
    struct segment *seg = page_segment(pg);
    struct arena *a = seg->arena;
    size_t idx = page_idx(seg, pg);
    size_t old = pg->run_pages;
    lx_assert(pg->kind == RUN_LARGE && npages >= 1 && npages < old);
    lx_lock(&a->lock);
#if LX_DEBUG
    /* Every descriptor inside a run is RUN_NONE (buddy_remove leaves a block it
     * takes so): the trimmed part's free blocks start clean. A checked build
     * reads those of the group heads; the others lie on descriptor pages that
     * nothing else touches, and reading one would map it. */
    for (size_t i = idx + ((size_t)1 << LX_DESC_ROT); i < idx + old; i += (size_t)1 << LX_DESC_ROT)
        lx_assert_internal(seg_page(seg, i)->kind == RUN_NONE);
#endif
    a->clock_ns = os_now_coarse_ns();
    size_t touched = pg->touched < old ? pg->touched : old;
    pg->run_pages = (uint16_t)npages;
    if (pg->touched > npages)
        pg->touched = (uint32_t)npages;
    seg->used_pages -= (uint32_t)(old - npages);
    arena_used_sub(a, old - npages);
    buddy_free_touched(a, seg, idx + npages, idx + old, idx + touched);
    arena_purge_locked(a, false);
    lx_unlock(&a->lock);
    arenas_purge_if_over();
}

/* ---- a heap's cache of freed runs ---------------------------------------- */

static void run_cache_add_pages(struct run_cache *c, int32_t n)
{
    uint32_t pages = atomic_load_explicit(&c->pages, memory_order_relaxed);
    atomic_store_explicit(&c->pages, pages + (uint32_t)n, memory_order_relaxed);
}

/* Slots are kept oldest first. */
static struct page *run_cache_unlink(struct run_cache *c, unsigned i)
{
    struct page *pg = c->slot[i];
    run_cache_add_pages(c, -(int32_t)pg->run_pages);
    c->count--;
    for (unsigned j = i; j < c->count; j++)
        c->slot[j] = c->slot[j + 1];
    return pg;
}

static void run_cache_release(struct run_cache *c, unsigned i)
{
    arena_free_run(run_cache_unlink(c, i));
}

struct page *run_cache_take(struct run_cache *c, size_t npages, size_t max_pages,
                            enum run_kind kind)
{
    unsigned best = c->count;
    size_t best_pages = max_pages + 1;
    for (unsigned i = 0; i < c->count; i++) {
        size_t n = c->slot[i]->run_pages;
        if (n >= npages && n < best_pages) {
            best = i;
            best_pages = n;
        }
    }
    if (best == c->count)
        return NULL;
    struct page *pg = run_cache_unlink(c, best);
    pg->kind = (uint8_t)kind;
    return pg;
}

static void run_cache_expire_at(struct run_cache *c, uint64_t now)
{
    uint64_t delay = atomic_load_explicit(&lx_opt.purge_delay_ns, memory_order_relaxed);
    while (c->count > 0 && c->slot[0]->freed_ns + delay <= now)
        run_cache_release(c, 0);
}

bool run_cache_put(struct run_cache *c, struct page *pg)
{
    size_t n = pg->run_pages;
    /* A purge delay of 0 asks for freed memory back at once: nothing is kept. */
    if (n > LX_RUN_CACHE_RUN_MAX ||
        atomic_load_explicit(&lx_opt.purge_delay_ns, memory_order_relaxed) == 0)
        return false;
    uint64_t now = os_now_coarse_ns();
    run_cache_expire_at(c, now);
    while (c->count == LX_RUN_CACHE_SLOTS ||
           atomic_load_explicit(&c->pages, memory_order_relaxed) + n > LX_RUN_CACHE_PAGES)
        run_cache_release(c, 0);
    pg->kind = RUN_CACHED;
    pg->freed_ns = now;
    c->slot[c->count++] = pg;
    run_cache_add_pages(c, (int32_t)n);
    return true;
}

void run_cache_flush(struct run_cache *c, bool all)
{
    if (c->count == 0)
        return;
    if (all) {
        while (c->count > 0)
            run_cache_release(c, c->count - 1);
    } else {
        run_cache_expire_at(c, os_now_coarse_ns());
    }
}

size_t arenas_trim(void)
{
    size_t released = 0;
    unsigned n = arenas_used();
    for (unsigned i = 0; i < n; i++) {
        struct arena *a = &lx_arenas[i];
        if (a->segments == NULL)
            continue;
        lx_lock(&a->lock);
        /* Empty segments first: their dirty pages go with them, counted once. */
        struct segment *seg = a->segments;
        while (seg != NULL) {
            struct segment *next = seg->next;
            if (seg->used_pages == LX_SEGMENT_META_PAGES) {
                arena_release_segment_locked(a, seg);
                released += LX_SEGMENT_SIZE;
            }
            seg = next;
        }
        uint64_t before = a->purged_pages;
        arena_purge_locked(a, true);
        released += (size_t)(a->purged_pages - before) << LX_PAGE_SHIFT;
        lx_unlock(&a->lock);
    }
    return released;
}

/*
 * The rule that purges at once (more pages free than in use, over all arenas)
 * weighs every arena, but a purge takes its own arena's dirty runs only. When
 * the threads of one arena free their last blocks while another arena's
 * threads have finished already and gone idle, the other arena's dirty runs
 * would wait for a call that may never come: four threads that freed 512 MiB
 * and then waited kept 16-75 MiB resident, by which arena's threads finished
 * last. So a run freed while the process is over that bound has the other
 * arenas purged too (those whose lock is free at once).
 */
static void arenas_purge_if_over(void)
{
    uint64_t used_all, dirty_all;
    arenas_pages_all(&used_all, &dirty_all);
    if (dirty_all > used_all + LX_PURGE_SLACK_PAGES)
        arenas_purge_expired();
}

void arenas_purge_expired(void)
{
    unsigned n = arenas_used();
    for (unsigned i = 0; i < n; i++) {
        struct arena *a = &lx_arenas[i];
        if (a->dirty_head == NULL || !lx_trylock(&a->lock))
            continue;
        arena_clock_locked(a);
        arena_purge_locked(a, false);
        lx_unlock(&a->lock);
    }
}

/* fork: the arenas locked before it, unlocked after it in the parent. A thread
 * may pick a new arena meanwhile and hold its lock at the fork; it noted the
 * arena as used before it locked it, so the child's reset covers it. */
static unsigned arenas_fork_locked;

void arenas_lock_all(void)
{
    unsigned n = arenas_used();
    for (unsigned i = 0; i < n; i++)
        lx_lock(&lx_arenas[i].lock);
    arenas_fork_locked = n;
}

void arenas_unlock_all(void)
{
    for (unsigned i = arenas_fork_locked; i-- > 0;)
        lx_unlock(&lx_arenas[i].lock);
}

void arenas_reset_locks(void)
{
    unsigned n = arenas_used();
    for (unsigned i = 0; i < n; i++)
        lx_lock_reset(&lx_arenas[i].lock);
}

/*
 * Walk every segment page by page: runs must tile [0, 1024) exactly, head[]
 * must point every page at its run, free blocks must be aligned, on the right
 * list, and never next to a free buddy of the same order (it would have merged).
 */
LX_RARE size_t arena_check(struct arena *a)
{
    size_t problems = 0;
    lx_lock(&a->lock);
    size_t listed[LX_MAX_ORDER + 1] = {0};
    for (unsigned k = 0; k <= LX_MAX_ORDER; k++) {
        struct page *last = NULL;
        bool clean_seen = false;
        for (struct page *pg = a->free_lists[k]; pg != NULL; pg = pg->next) {
            listed[k]++;
            if (pg->kind != RUN_FREE || pg->order != k) {
                lx_message("check: arena %u list %u holds a non-free run", arena_idx(a), k);
                problems++;
                break;
            }
            if (pg->dirty && clean_seen) {
                lx_message("check: arena %u list %u has a dirty block after a clean one", arena_idx(a), k);
                problems++;
            }
            clean_seen |= !pg->dirty;
            last = pg;
        }
        if (a->free_tails[k] != last) {
            lx_message("check: arena %u list %u has the wrong tail", arena_idx(a), k);
            problems++;
        }
        if ((a->free_lists[k] != NULL) != ((a->nonempty >> k) & 1u)) {
            lx_message("check: arena %u nonempty bit %u is wrong", arena_idx(a), k);
            problems++;
        }
    }
    size_t found[LX_MAX_ORDER + 1] = {0};
    uint64_t used_total = 0, segments = 0, dirty_total = 0;
    for (struct segment *seg = a->segments; seg != NULL; seg = seg->next) {
        segments++;
        if (!segment_valid(seg) || seg->kind != SEGMENT_NORMAL || seg->arena != a ||
            segmap_get((uintptr_t)seg) != SEGMAP_NORMAL) {
            lx_message("check: segment %p header is corrupt", (void *)seg);
            problems++;
            continue;
        }
        uint32_t used = 0;
        size_t idx = 0;
        while (idx < LX_SEGMENT_PAGES) {
            struct page *pg = seg_page(seg, idx);
            size_t n = pg->run_pages;
            if (n == 0 || idx + n > LX_SEGMENT_PAGES || pg->kind == RUN_NONE) {
                lx_message("check: segment %p page %zu starts no valid run", (void *)seg, idx);
                problems++;
                break;
            }
            if (pg->kind == RUN_FREE) {
                if (n != ((size_t)1 << pg->order) || (idx & (n - 1)) != 0) {
                    lx_message("check: segment %p free block %zu is misaligned", (void *)seg, idx);
                    problems++;
                }
                size_t buddy = idx ^ n;
                if (pg->order < LX_MAX_ORDER && seg_page(seg, buddy)->kind == RUN_FREE &&
                    seg_page(seg, buddy)->order == pg->order) {
                    lx_message("check: segment %p blocks %zu and %zu did not merge", (void *)seg,
                               idx, buddy);
                    problems++;
                }
                found[pg->order]++;
                dirty_total += pg->dirty_count;
                if ((pg->dirty != 0) != (pg->dirty_count != 0) || pg->dirty_count > n) {
                    lx_message("check: segment %p free block %zu has a wrong dirty count",
                               (void *)seg, idx);
                    problems++;
                }
                for (size_t i = 1; i < n; i++) {
                    if (seg_page(seg, idx + i)->kind == RUN_FREE) {
                        lx_message("check: segment %p page %zu is a stale free head", (void *)seg,
                                   idx + i);
                        problems++;
                    }
                }
            } else if (pg->kind == RUN_PURGING) {
                used += (uint32_t)n; /* another thread is purging it; head[] is not kept */
            } else {
                used += (uint32_t)n;
                uint16_t line = seg_head_line(seg, idx);
                for (size_t i = 0; i < n; i++) {
                    if (seg->head[idx + i] != line) {
                        lx_message("check: segment %p page %zu points to descriptor line %u, "
                                   "not %u (run %zu)",
                                   (void *)seg, idx + i, seg->head[idx + i], line, idx);
                        problems++;
                        break;
                    }
                }
            }
            idx += n;
        }
        if (used != seg->used_pages) {
            lx_message("check: segment %p counts %u used pages, holds %u", (void *)seg,
                       seg->used_pages, used);
            problems++;
        }
        used_total += used;
    }
    for (unsigned k = 0; k <= LX_MAX_ORDER; k++) {
        if (found[k] != listed[k]) {
            lx_message("check: arena %u order %u: %zu free blocks, %zu listed", arena_idx(a), k,
                       found[k], listed[k]);
            problems++;
        }
    }
    if (segments != a->segment_count || used_total != a->used_pages) {
        lx_message("check: arena %u segment or page counts disagree", arena_idx(a));
        problems++;
    }
    if (dirty_total != a->dirty_pages) {
        lx_message("check: arena %u counts %llu dirty pages, its blocks %llu", arena_idx(a),
                   (unsigned long long)a->dirty_pages, (unsigned long long)dirty_total);
        problems++;
    }
    lx_unlock(&a->lock);
    return problems;
}
