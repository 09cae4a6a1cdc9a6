/* SPDX-License-Identifier: MIT */
/*
 * slab.c — carving and the three free lists of one slab, and its holes (free
 * pages given back while the slab lives on). Layer: above pages, below heap.
 * Owner-only fields are plain; xthread_free is the only field other threads
 * write (release CAS; the owner takes it with an acquire exchange).
 */
#include "slab.h"

#include "check.h"
#include "os.h"
#include "report.h"
#include "segment.h"
#include "sizeclass.h"
#include "track.h"

struct page lx_empty_page;
uintptr_t lx_list_key; /* set once at start-up (init.c), before the first block */

void slab_list_corrupt(struct page *pg, struct block *b, struct block *next)
{
    check_corrupt_list(pg->block_size, pg->start, b, next);
    block_set_next(b, slab_list_end(pg));
}

void slab_init(struct page *pg, uintptr_t key, unsigned cls)
{
    const struct sizeclass_info *ci = &lx_classes[cls];
    pg->local_key = key;
    pg->used = 0;
    pg->class_idx = (uint8_t)cls;
    slab_set_block_size(pg, ci->size);
    atomic_store_explicit(&pg->xthread_free, 0, memory_order_relaxed);
    pg->start = page_address(page_segment(pg), pg);
    pg->free = pg->local_free = slab_list_end(pg);
    pg->next = pg->prev = NULL;
    pg->capacity = 0;
    pg->carved = 0;
    pg->reserved = (uint16_t)((size_t)pg->run_pages * LX_PAGE_SIZE / ci->size);
    pg->swept_used = UINT16_MAX; /* never a real count: the first sweep looks */
    pg->swept_need = 1;
    pg->hole_blocks = 0;
    pg->fresh = 0;
}

/* Element by element; bits of pages past the run in its last element are kept. */
void slab_marks_clear(struct page *pg)
{
    struct segment *seg = page_segment(pg);
    size_t end = page_idx(seg, pg) + pg->run_pages;
    size_t n;
    for (size_t i = page_idx(seg, pg); i < end; i += n) {
        n = 16 - i % 16 < end - i ? 16 - i % 16 : end - i;
        uint16_t keep = (uint16_t)~(((1u << n) - 1) << (i % 16));
        uint16_t h = atomic_load_explicit(&seg->hole_map[i / 16], memory_order_relaxed);
        uint16_t d = atomic_load_explicit(&seg->idle_map[i / 16], memory_order_relaxed);
        atomic_store_explicit(&seg->hole_map[i / 16], (uint16_t)(h & keep), memory_order_relaxed);
        atomic_store_explicit(&seg->idle_map[i / 16], (uint16_t)(d & keep), memory_order_relaxed);
    }
}

/* Blocks are linked in address order, so a fresh slab hands them out ascending
 * and touches its pages one after another.
 *
 * A slab's pages past its `touched` first were never touched (a run its arena
 * had never handed out or had given back, or the untouched end of a cached
 * run), and the segment's gone_map marks those given back since: each carve
 * faults the pages it writes links on in with one call (os_populate) where
 * they are not resident, and moves `touched` past its blocks. On the virtual
 * machines the benchmarks run on a page fault costs about 10.7 us, a populate
 * 2.3 us for one page and about 1 us a page for several, before the first
 * touch (docs/BENCHMARKS.md). A `fresh` slab (a clean one of a class that has
 * needed a slab before) also carves ahead: as much as it has carved so far,
 * from LX_CARVE_BYTES up to LX_CARVE_MAX, while a class with a few blocks
 * carves a page at a time. Other slabs carve LX_CARVE_BYTES at a time. */
bool slab_extend(struct page *pg)
{
    size_t left = (size_t)pg->reserved - pg->capacity;
    if (left == 0)
        return false;
    size_t bs = pg->block_size;
    size_t carved = (size_t)pg->capacity * bs;
    size_t want = LX_CARVE_BYTES;
    if (pg->fresh && carved > want)
        want = carved < LX_CARVE_MAX ? carved : LX_CARVE_MAX;
    size_t n = want / bs;
    if (n == 0)
        n = 1;
    if (n > left)
        n = left;
    uint8_t *first = pg->start + carved;
    /* The pages the carve writes links on, from its first page boundary (the
     * page it starts inside, if any, was touched by the carve before it) to
     * the last block's first page, from the first one past `touched` or given
     * back on (those between that are resident cost the call little). The rest
     * of a block longer than a page is the program's to touch, or not. The
     * carved blocks all lie below `touched` after. */
    size_t lo = (carved + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    size_t hi = ((carved + (n - 1) * bs) >> LX_PAGE_SHIFT) + 1;
    size_t end = (carved + n * bs + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    struct segment *seg = page_segment(pg);
    seg_populate_missing(seg, pg->start, page_idx(seg, pg), lo, hi, pg->touched);
    if (end > pg->touched)
        pg->touched = (uint32_t)end;
    track_undefined(first, n * bs); /* may have been freed blocks of an older run */
    /* Every link but the last is the next block: no list-end conversion. */
    uint8_t *a = first, *last = first + (n - 1) * bs;
    for (; a != last; a += bs)
        block_set_link((struct block *)a, (struct block *)(a + bs));
    block_set_next((struct block *)last, pg->free);
    pg->free = (struct block *)first;
    pg->capacity = (uint16_t)(pg->capacity + n);
    pg->carved = pg->capacity;
    return true;
}

/*
 * Take the remote frees. The pushes counted them, so the list becomes the free
 * list, or the local one, as it is: no walk, whose every step would be a cache
 * miss on a line another core wrote (prodcons-t8 spent a third of its time
 * here). Only when both lists hold blocks is it walked to its end, to be put in
 * front of the free list.
 *
 * A block freed twice at the same moment by two threads (both saw it live)
 * links to itself: the first pop hands it out and clears its link, the second
 * reads that cleared link and reports the list as corrupt. A walk counts; a
 * count above the blocks in use (or one that wrapped to 0) is not trusted, and a
 * walk that finds more blocks than are in use cuts the list there and reports a
 * double free, never following it round.
 */
unsigned slab_collect_thread(struct page *pg)
{
    uintptr_t tf = atomic_load_explicit(&pg->xthread_free, memory_order_relaxed);
    if ((tf & ~LX_XFREE_NOTIFY) == 0)
        return 0;
    tf = atomic_exchange_explicit(&pg->xthread_free, 0, memory_order_acquire);
    struct block *head = (struct block *)LX_XFREE_LIST(tf);
    if (head == NULL)
        return 0;
    size_t count = tf >> LX_XFREE_COUNT_SHIFT;
    if (count != 0 && count <= pg->used && (list_end(pg->free) || list_end(pg->local_free))) {
        if (list_end(pg->free))
            pg->free = head;
        else
            pg->local_free = head;
        pg->used = (uint16_t)(pg->used - count);
        return (unsigned)count;
    }
    unsigned n = 1;
    struct block *tail = head;
    for (;;) {
        struct block *next = block_next_checked(pg, tail);
        if (list_end(next))
            break;
        if (n >= pg->used) {
            check_double_free("free", next, pg->block_size);
            block_set_next(tail, slab_list_end(pg));
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

/* Walk one list for `b`; a bad link or more entries than the slab has blocks ends
 * the walk (the list is not ours to repair here). */
static bool list_contains(const struct page *pg, const struct block *list, const struct block *b)
{
    unsigned n = 0;
    for (const struct block *x = list; !list_end(x) && n <= pg->capacity; n++) {
        if (x == b)
            return true;
        const struct block *next = block_next(x);
        if (!block_link_ok(x, next))
            return false;
        x = next;
    }
    return false;
}

bool slab_lists_contain(struct page *pg, const struct block *b)
{
    /* Remote frees are only pushed at the head: the rest of the list holds still. */
    uintptr_t tf = atomic_load_explicit(&pg->xthread_free, memory_order_acquire);
    return list_contains(pg, pg->free, b) || list_contains(pg, pg->local_free, b) ||
           list_contains(pg, (const struct block *)LX_XFREE_LIST(tf), b);
}

void slab_collect(struct page *pg)
{
    if (list_end(pg->free)) {
        (void)slab_take_local(pg);
    } else if (!list_end(pg->local_free)) {
        struct block *tail = pg->local_free;
        struct block *next;
        while (!list_end(next = block_next_checked(pg, tail)))
            tail = next;
        block_set_next(tail, pg->free);
        pg->free = pg->local_free;
        pg->local_free = slab_list_end(pg);
    }
    (void)slab_collect_thread(pg);
}

/* ---- holes ------------------------------------------------------------------ */

/*
 * A slab kept alive by a few blocks can hold whole OS pages on which every block
 * is free: after a program moves on to other sizes, or frees most of a structure
 * at random. slab_purge gives those pages back to the kernel and the slab stays
 * where it is. A free block keeps its list link in its first word, which a purged
 * page would lose, so the free blocks that start on such a page (a hole) are
 * first taken off the free list; they are counted in hole_blocks, and the page is
 * flagged in its own descriptor (every page of a run has one, unused inside an
 * allocated run). slab_refill carves a hole again, as it carves fresh blocks,
 * before it carves the never-used tail. A block that starts on a kept page and
 * runs into a hole stays listed: only its first word must survive.
 *
 * Which pages qualify is read, not guessed: a page whose overlapping blocks are
 * all free (listed, or in a hole). Blocks other threads have freed but the owner
 * has not collected, and delayed frees, still count as in use while their first
 * words already look free: the counts then disagree (free_view_init) and the
 * sweep passes the slab by, so no page is purged under a thread pushing on it.
 * A page must be found free at two sweeps in a row, and a slab purges only once
 * LX_HOLE_MIN_PAGES pages qualify:
 * each madvise costs a system call (and in a threaded process a TLB shootdown),
 * and a page that a busy class empties and fills again between sweeps would come
 * straight back as a page fault. On frag, purging every free page at first sight
 * made 5 times the madvise calls (99k against 21k) for 9% less peak RSS.
 */

/* LX_KEY_HOLES in local_key says hole_blocks != 0: a free of a block that starts
 * on a hole (a double free: its first word reads zero, not a link) must not pass
 * the fast path. A slab with holes is never full (slab_refill carves them first). */
static void slab_mark_holes(struct page *pg)
{
    if (pg->hole_blocks != 0)
        pg->local_key |= LX_KEY_HOLES;
    else
        pg->local_key &= ~LX_KEY_HOLES;
}

/* Index of the first block starting at or after byte `off` of the slab. */
static size_t block_at_or_after(size_t off, size_t bs)
{
    return (off + bs - 1) / bs;
}

/* The carved blocks that start on page p of the slab: first .. *last - 1. */
static size_t page_blocks(const struct page *pg, size_t p, size_t *last)
{
    size_t bs = pg->block_size;
    *last = block_at_or_after((p + 1) << LX_PAGE_SHIFT, bs);
    if (*last > pg->capacity)
        *last = pg->capacity;
    return block_at_or_after(p << LX_PAGE_SHIFT, bs);
}

/*
 * Which carved blocks are free (listed, or in a hole), one bit per block.
 * Hardened, a block's first word says it (slab.h, block_word_looks_free), so the
 * carved blocks are read in address order, a sequential scan; the count of the
 * blocks that look free must then equal the count the slab keeps (capacity -
 * used - hole_blocks), else something that is not on a list looks free (a remote
 * free pushed since the collect, a delayed free, or a live block whose data
 * happen to decode as a link) and the view is not trusted: the slab is left for
 * the next sweep. Without hardening the free lists are walked instead (a
 * dependent load per free block, several times slower).
 */
#define LX_SLAB_MAX_BLOCKS (LX_SLAB_MAX_PAGES * LX_PAGE_SIZE / LX_ALIGN)
struct free_view {
    uint64_t map[LX_SLAB_MAX_BLOCKS / 64]; /* bit i: block i is free */
};

static void free_view_set(struct free_view *v, size_t i)
{
    v->map[i / 64] |= (uint64_t)1 << (i % 64);
}

/* The bits of blocks lo..hi-1 that lie in word lo / 64, as a mask; *n how many. */
static uint64_t free_view_mask(size_t lo, size_t hi, size_t *n)
{
    size_t b = lo % 64;
    *n = hi - lo < 64 - b ? hi - lo : 64 - b;
    return (*n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << *n) - 1) << b;
}

static void free_view_set_range(struct free_view *v, size_t lo, size_t hi)
{
    size_t n;
    for (; lo < hi; lo += n)
        v->map[lo / 64] |= free_view_mask(lo, hi, &n);
}

static bool free_view_init(struct free_view *v, struct page *pg)
{
    size_t bs = pg->block_size, cap = pg->capacity;
    for (size_t w = 0; w < (cap + 63) / 64; w++)
        v->map[w] = 0;
    size_t npages = (cap * bs + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    size_t seen = 0;
    for (size_t p = 0; p < npages; p++) {
        size_t last;
        size_t first = page_blocks(pg, p, &last);
        if (pg->hole_blocks != 0 && slab_page_hole(pg, p)) {
            free_view_set_range(v, first, last);
        } else if (LX_HARDEN) {
            uint8_t *a = pg->start + first * bs;
            for (size_t i = first; i < last; i++, a += bs) {
                if (block_word_looks_free((struct block *)a, track_read_word(a))) {
                    free_view_set(v, i);
                    seen++;
                }
            }
        }
    }
    if (LX_HARDEN)
        return seen == cap - pg->used - pg->hole_blocks;
    for (int list = 0; list < 2; list++) {
        struct block *b = list == 0 ? pg->free : pg->local_free;
        for (; !list_end(b); b = block_next_checked(pg, b))
            free_view_set(v, (size_t)((uint8_t *)b - pg->start) / bs);
    }
    return true;
}

static bool free_view_one(const struct free_view *v, size_t i)
{
    return (v->map[i / 64] >> (i % 64)) & 1;
}

/* Blocks first..last (inclusive) are all free. */
static bool free_view_all(const struct free_view *v, size_t first, size_t last)
{
    size_t n;
    for (size_t i = first; i <= last; i += n) {
        uint64_t m = free_view_mask(i, last + 1, &n);
        if ((v->map[i / 64] & m) != m)
            return false;
    }
    return true;
}

/* Do the blocks lo..hi (inclusive) all look free (or lie in holes)? Reads their
 * first words in address order and stops at the first live one: on a slab that
 * is not about to give pages back, a page usually shows a live block within its
 * first few. An answer to act on comes from free_view_init, which reads them all
 * and checks the count. (Hardened builds only: without, nothing looks free.) */
static bool blocks_look_free(const struct page *pg, size_t lo, size_t hi)
{
    size_t bs = pg->block_size;
    bool holes = pg->hole_blocks != 0;
    uint8_t *a = pg->start + lo * bs;
    /* lo..hi are the blocks on one page: lo may start on an earlier page, the
     * others start on this one, so one look at its mark does for them all. */
    if (!(holes && slab_page_hole(pg, (lo * bs) >> LX_PAGE_SHIFT)) &&
        !block_word_looks_free((struct block *)a, track_read_word(a)))
        return false;
    if (lo == hi || (holes && slab_page_hole(pg, ((lo + 1) * bs) >> LX_PAGE_SHIFT)))
        return true;
    for (size_t i = lo + 1; i <= hi; i++) {
        a += bs;
        if (!block_word_looks_free((struct block *)a, track_read_word(a)))
            return false;
    }
    return true;
}

size_t slab_purge(struct page *pg, bool all, struct os_discard_batch *batch)
{
    size_t bs = pg->block_size;
    size_t cap = pg->capacity;
    size_t end = cap * bs;
    size_t npages = (end + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    if (npages == 0 || pg->run_pages > LX_SLAB_MAX_PAGES)
        return 0;
    struct segment *seg = page_segment(pg);
    size_t base = page_idx(seg, pg); /* page p's bit in the mark maps: base + p */
    uint8_t purge[LX_SLAB_MAX_PAGES];
    /* A last page the next carve will write into is never a hole: its new blocks
     * would be listed and in the hole at once. */
    size_t whole = npages;
    if ((end & (LX_PAGE_SIZE - 1)) != 0 && cap < pg->reserved)
        whole--;
    /* A page goes when it is found free at two sweeps in a row (or is a hole
     * already): a page a busy class empties and fills again between sweeps is
     * left alone, as the arena's purge delay leaves a run freed a moment ago.
     * Hardened, a quick look (blocks_look_free) first marks the pages that seem
     * free; without hardening the view (a walk of the lists) comes first. */
    struct free_view view;
    bool viewed = !LX_HARDEN && free_view_init(&view, pg);
    size_t fresh = 0, waiting = 0;
    for (size_t p = 0; p < npages; p++) {
        bool hole = page_mark(seg->hole_map, base + p);
        purge[p] = 0;
        if (p >= whole) {
            page_mark_set(seg->idle_map, base + p, false);
            continue;
        }
        size_t lo = (p << LX_PAGE_SHIFT) / bs;
        size_t hi = (((p + 1) << LX_PAGE_SHIFT) - 1) / bs;
        if (hi >= cap)
            hi = cap - 1;
        bool all_free = viewed ? free_view_all(&view, lo, hi) : blocks_look_free(pg, lo, hi);
        purge[p] = all_free && (all || page_mark(seg->idle_map, base + p) || hole);
        fresh += purge[p] && !hole;
        waiting += all_free && !purge[p];
        page_mark_set(seg->idle_map, base + p, all_free);
    }
    /* Enough pages to act on: read every block and check the count (the view),
     * and keep only the pages the view finds free. */
    size_t min = all ? 1 : LX_HOLE_MIN_PAGES;
    if (fresh >= min && !viewed) {
        if (!free_view_init(&view, pg)) {
            pg->swept_used = UINT16_MAX; /* look again at the next sweep */
            return 0;
        }
        fresh = 0;
        for (size_t p = 0; p < whole; p++) {
            if (!purge[p])
                continue;
            size_t lo = (p << LX_PAGE_SHIFT) / bs;
            size_t hi = (((p + 1) << LX_PAGE_SHIFT) - 1) / bs;
            if (hi >= cap)
                hi = cap - 1;
            purge[p] = free_view_all(&view, lo, hi);
            page_mark_set(seg->idle_map, base + p, purge[p]);
            fresh += purge[p] && !page_mark(seg->hole_map, base + p);
        }
    }
    size_t purged = 0;
    bool acting = fresh >= min;
    if (acting) {
        /* New holes: relist the free blocks in address order, leaving out those
         * that start on a purged page, before their links are gone. */
        size_t holes = 0;
        for (size_t p = 0; p < npages; p++) {
            size_t last;
            size_t first = page_blocks(pg, p, &last);
            bool hole = first < last && (purge[p] || page_mark(seg->hole_map, base + p));
            page_mark_set(seg->hole_map, base + p, hole);
            if (hole)
                holes += last - first;
        }
        struct block *head = slab_list_end(pg);
        for (size_t i = cap; i-- > 0;) {
            if (page_mark(seg->hole_map, base + ((i * bs) >> LX_PAGE_SHIFT)) ||
                !free_view_one(&view, i))
                continue;
            struct block *b = (struct block *)(pg->start + i * bs);
            block_set_next(b, head);
            head = b;
        }
        pg->free = head;
        pg->local_free = slab_list_end(pg);
        pg->hole_blocks = (uint16_t)holes;
        slab_mark_holes(pg);
        lx_assert(pg->used + holes <= cap);
        for (size_t p = 0; p < npages;) {
            if (!purge[p]) {
                p++;
                continue;
            }
            size_t q = p;
            while (q < npages && purge[q])
                q++;
            seg_gone_set(seg, base + p, base + q);
            os_discard_queue(batch, pg->start + (p << LX_PAGE_SHIFT), (q - p) << LX_PAGE_SHIFT);
            purged += (q - p) << LX_PAGE_SHIFT;
            p = q;
        }
    }
    /* Pages found free but kept want another look, changed or not. */
    /* Pages seen free for the first time want a second look at the next sweep.
     * Pages that qualify but are too few to act on want a look as soon as any
     * block comes back; otherwise a page's worth of blocks must (slab_swept). */
    size_t per_page = LX_PAGE_SIZE / bs;
    pg->swept_used = waiting != 0 ? UINT16_MAX : pg->used;
    pg->swept_need = (uint16_t)(fresh != 0 && !acting ? 1 : per_page != 0 ? per_page : 1);
    return purged;
}

bool slab_swept(const struct page *pg)
{
    return pg->swept_used != UINT16_MAX && (size_t)pg->used + pg->swept_need > pg->swept_used;
}

bool slab_refill(struct page *pg)
{
    if (pg->hole_blocks == 0)
        return slab_extend(pg);
    size_t bs = pg->block_size;
    struct segment *seg = page_segment(pg);
    size_t base = page_idx(seg, pg);
    size_t p = 0;
    while (!page_mark(seg->hole_map, base + p))
        p++;
    size_t last;
    size_t first = page_blocks(pg, p, &last);
    lx_assert(first < last && last - first <= pg->hole_blocks);
    /* The hole was given back to the kernel: one call brings it back, where the
     * first link written would take a page fault (slab_extend). */
    (void)seg_gone_take(seg, base + p, base + p + 1);
    os_populate(pg->start + (p << LX_PAGE_SHIFT), LX_PAGE_SIZE);
    track_undefined(pg->start + first * bs, (last - first) * bs);
    struct block *tail = pg->free;
    for (size_t i = last; i-- > first;) {
        struct block *b = (struct block *)(pg->start + i * bs);
        block_set_next(b, tail);
        tail = b;
    }
    pg->free = tail;
    page_mark_set(seg->hole_map, base + p, false);
    pg->hole_blocks = (uint16_t)(pg->hole_blocks - (last - first));
    slab_mark_holes(pg);
    return true;
}
