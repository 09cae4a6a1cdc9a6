/* SPDX-License-Identifier: MIT */
/*
 * medium.c — blocks above LX_MEDIUM_MIN and up to LX_MEDIUM_MAX bytes, cut to
 * measure from runs that every such size shares. Layer: heap (it takes and
 * gives back runs through heap_take_run / heap_give_run; heap.c calls its
 * collect, sweep and check); a heap's runs and bins are its own (struct
 * medium_heap).
 *
 * Why: a slab holds blocks of one size class, so a program that keeps a few
 * blocks of each of many classes holds, in each class, its own high-water
 * mark. Medium sizes are many (some thirty classes from 1 KiB to 16 KiB) and
 * their blocks few, so those marks add up: a producer whose queue holds a
 * couple of blocks of each class at a time on average reaches eight or nine in
 * each class at some moment, and keeps them all carved. Chunks cut from shared
 * runs and merged with their free neighbours when freed serve any size from
 * the same pages, as one coalescing heap does.
 *
 * A run is LX_MEDIUM_RUN_PAGES pages of a thread heap (kind RUN_MEDIUM, local_key
 * the heap | LX_KEY_MEDIUM, so the free fast path leaves its blocks to
 * free_not_fast). Chunks tile it; each starts with a 16-byte header:
 *
 *   prev_size  the size of the chunk before, when that one is free (its
 *              footer); unused otherwise
 *   word       (size | flags) ^ lx_list_key ^ the header's address
 *
 * so the block a program gets starts 16 bytes in, 16-byte aligned. The flags:
 * in use; the chunk before is in use; first of its run; last of its run (no
 * header follows it). The word is encoded like a free-list link (slab.h): a
 * stray write, an overrun from the block before, decodes to a size no run
 * holds, which is reported (check_error) rather than followed. A free chunk
 * keeps its bin links where the block was (a free chunk of 16 bytes, a header
 * alone, is in no bin: it only waits to merge, and so a block's usable size is
 * always its request rounded up to 16); free neighbours never stay
 * side by side (a free merges with both), so a run whose one chunk is free is
 * empty and goes back (all but one run per heap).
 *
 * Bins: a chunk of size s sits in bin (fl - 5) * 8 + the three bits after the
 * leading one, fl = log2(s) (eight bins per power of two), with a bit per
 * non-empty bin. A request looks at the first few chunks of its own bin, then
 * from the bin whose every chunk is big enough (its size rounded up to the next
 * bin boundary) upward: two word scans; the chunk found is split and the rest
 * goes back to its bin.
 *
 * Frees from other threads: pushed on the owner heap's `remote` stack (one CAS;
 * the link, encoded, in the block's first word), taken by the owner at its
 * next medium allocation and by its collects. An exited thread's heap keeps
 * its runs as an orphan, and the thread that adopts it takes them over.
 */
#include "medium.h"

#include "check.h"
#include "heap.h"
#include "pages.h"
#include "report.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"
#include "stats.h"
#include "trace.h"

struct mchunk {
    size_t prev_size;
    uintptr_t word;
    struct mchunk *next; /* free chunks: their bin's list */
    struct mchunk *prev;
};

#define MC_INUSE ((size_t)1)
#define MC_PREV_INUSE ((size_t)2)
#define MC_FIRST ((size_t)4)
#define MC_LAST ((size_t)8)
#define MC_FLAGS ((size_t)15)
#define MC_HDR ((size_t)16)
#define MC_MIN ((size_t)32)        /* a binned free chunk: header and bin links */
#define MC_RUN_BYTES ((size_t)LX_MEDIUM_RUN_PAGES << LX_PAGE_SHIFT)
#define MC_SWEEP_MIN ((size_t)8192) /* free chunks this big are swept (two pages) */
#define MC_KEPT ((size_t)40)        /* a free chunk's bytes that must stay: header, links, stamp */

/* A swept free chunk's stamp: the heap's sweep count when it was binned. */
LX_INLINE uint32_t *chunk_stamp(struct mchunk *c)
{
    return (uint32_t *)(void *)((uint8_t *)c + 32);
}

static_assert(LX_MEDIUM_BINS >= 8 * (LX_PAGE_SHIFT + 6 - 5) + 1, "a bin for a whole run");
static_assert(LX_MEDIUM_MAX + 2 * MC_HDR <= MC_RUN_BYTES, "a run holds a block");

LX_INLINE struct mchunk *chunk_of(const void *p)
{
    return (struct mchunk *)(void *)((uint8_t *)(uintptr_t)p - MC_HDR);
}

LX_INLINE void *chunk_user(struct mchunk *c)
{
    return (uint8_t *)c + MC_HDR;
}

LX_INLINE void chunk_set(struct mchunk *c, size_t size_flags)
{
    c->word = size_flags ^ lx_list_key ^ (uintptr_t)c;
}

/* The chunk's size and flags, read once (another thread may read a live
 * chunk's word while its owner flips the PREV_INUSE bit). */
LX_INLINE size_t chunk_get(const struct mchunk *c)
{
    return __atomic_load_n(&c->word, __ATOMIC_RELAXED) ^ lx_list_key ^ (uintptr_t)c;
}

/* Is `v` a size and flags a chunk at c of run pg can have? */
LX_INLINE bool chunk_word_ok(const struct page *pg, const struct mchunk *c, size_t v)
{
    size_t size = v & ~MC_FLAGS;
    uintptr_t off = (uintptr_t)c - (uintptr_t)pg->start;
    return size >= MC_HDR && size <= MC_RUN_BYTES && off <= MC_RUN_BYTES - size &&
           ((v & MC_FIRST) != 0) == (off == 0) &&
           ((v & MC_LAST) != 0) == (off + size == MC_RUN_BYTES);
}

LX_COLD static void chunk_damaged(const struct mchunk *c, const char *which)
{
    check_error(NULL,
                "heap corruption: the header of the %s chunk at %p is damaged "
                "(a write past the end of the block before it, or into a freed block?)",
                which, (const void *)c);
}

/* ---- bins ----------------------------------------------------------------- */

LX_INLINE unsigned bin_of(size_t size)
{
    unsigned fl = 63u - (unsigned)__builtin_clzll(size);
    return (fl - 5) * 8 + (unsigned)((size >> (fl - 3)) & 7);
}

static void bin_insert(struct medium_heap *m, struct mchunk *c, size_t size)
{
    if (size < MC_MIN)
        return; /* a header alone: no room for links; it waits for a neighbour to merge */
    unsigned i = bin_of(size);
    c->prev = NULL;
    c->next = m->bin[i];
    if (size >= MC_SWEEP_MIN)
        *chunk_stamp(c) = m->epoch;
    if (c->next != NULL)
        c->next->prev = c;
    m->bin[i] = c;
    m->map[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Unlink free chunk c (of `size`), checking its neighbours point back at it:
 * a freed block the program wrote into has broken links, which are reported
 * and never written through. false then (c stays, unusable). */
static bool bin_remove(struct medium_heap *m, struct mchunk *c, size_t size)
{
    if (size < MC_MIN)
        return true;
    unsigned i = bin_of(size);
    struct mchunk *n = c->next, *p = c->prev;
    if (LX_UNLIKELY((p != NULL ? p->next : m->bin[i]) != c || (n != NULL && n->prev != c))) {
        check_error(NULL, "heap corruption: the free chunk at %p has damaged links "
                          "(a write into a freed block?)", (void *)c);
        return false;
    }
    if (p != NULL)
        p->next = n;
    else if ((m->bin[i] = n) == NULL)
        m->map[i / 64] &= ~((uint64_t)1 << (i % 64));
    if (n != NULL)
        n->prev = p;
    return true;
}

/* A free chunk of at least `size` bytes, from the first non-empty bin whose
 * chunks all are. */
static struct mchunk *bin_find(struct medium_heap *m, size_t size)
{
    /* The bin `size` falls in holds chunks from its lower bound up: the first
     * few are looked at, so that a block freed and asked for again at the same
     * size (the common case) comes back where it was. */
    unsigned k = 0;
    for (struct mchunk *c = m->bin[bin_of(size)]; c != NULL && k < 4; c = c->next, k++) {
        if ((chunk_get(c) & ~MC_FLAGS) >= size)
            return c;
    }
    unsigned fl = 63u - (unsigned)__builtin_clzll(size);
    unsigned i = bin_of(size + ((size_t)1 << (fl - 3)) - 1);
    for (unsigned w = i / 64; w < LX_MEDIUM_BINS / 64; w++) {
        uint64_t bits = m->map[w];
        if (w == i / 64)
            bits &= ~(uint64_t)0 << (i % 64);
        if (bits != 0)
            return m->bin[w * 64 + (unsigned)__builtin_ctzll(bits)];
    }
    return NULL;
}

/* ---- runs ----------------------------------------------------------------- */

static struct heap *run_owner(const struct page *pg)
{
    return (struct heap *)(pg->local_key & ~LX_KEY_FLAGS);
}

static bool run_new(struct heap *h)
{
    bool clean;
    struct page *pg = heap_take_run(h, LX_MEDIUM_RUN_PAGES, LX_MEDIUM_RUN_PAGES, RUN_MEDIUM, &clean);
    if (pg == NULL)
        return false;
    (void)clean; /* a clean run's pages fault in as chunks are cut */
    struct segment *seg = page_segment(pg);
    /* Chunks are cut anywhere in the run: all of it may be written. The gone
     * marks of its pages stay: medium_alloc clears those of the pages it hands
     * out, and a sweep passes over pages still marked. */
    pg->touched = LX_MEDIUM_RUN_PAGES;
    pg->start = page_address(seg, pg);
    pg->block_size = (uint32_t)MC_RUN_BYTES;
    pg->local_key = (uintptr_t)h | LX_KEY_MEDIUM;
    pg->used = 0;
    pg->free = pg->local_free = NULL;
    struct medium_heap *m = &h->med;
    pg->prev = NULL;
    pg->next = m->runs;
    if (m->runs != NULL)
        m->runs->prev = pg;
    m->runs = pg;
    m->nruns++;
    struct mchunk *c = (struct mchunk *)(void *)pg->start;
    chunk_set(c, MC_RUN_BYTES | MC_FIRST | MC_LAST | MC_PREV_INUSE);
    bin_insert(m, c, MC_RUN_BYTES);
    trace_tick(); /* the footprint grew */
    return true;
}

static void run_release(struct heap *h, struct page *pg)
{
    struct medium_heap *m = &h->med;
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        m->runs = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    m->nruns--;
    pg->next = pg->prev = NULL;
    heap_give_run(h, pg);
}

/* ---- allocation ----------------------------------------------------------- */

static void medium_take_remote(struct heap *h);

/* Owner: chunk c (flags `flags`: FIRST, PREV_INUSE) now has the `total` bytes
 * from c on, ending at the run's end if `last`, none of it binned: make it a
 * live chunk of `need` bytes and bin the rest (a rest of 16 bytes too, as a
 * header alone). Pages from `from` on are handed to the program: their gone
 * marks go. Returns the block. */
static void *chunk_cut(struct heap *h, struct mchunk *c, size_t flags, size_t total, size_t last,
                       size_t need, const void *from)
{
    if (total != need) {
        /* The rest: free, after a chunk in use; the chunk after it (if any)
         * already knows a free one precedes it. */
        struct mchunk *r = (struct mchunk *)(void *)((uint8_t *)c + need);
        size_t rest = total - need;
        chunk_set(r, rest | MC_PREV_INUSE | last);
        if (last == 0)
            ((struct mchunk *)(void *)((uint8_t *)r + rest))->prev_size = rest;
        bin_insert(&h->med, r, rest);
    } else {
        flags |= last;
        if (last == 0) {
            struct mchunk *next = (struct mchunk *)(void *)((uint8_t *)c + need);
            chunk_set(next, chunk_get(next) | MC_PREV_INUSE);
        }
    }
    chunk_set(c, need | flags | MC_INUSE);
    /* Pages a sweep gave back come back with the program's writes: they are
     * no longer gone (a load of the segment's marks when none was). */
    struct segment *seg = segment_of(c);
    (void)seg_gone_take(seg, segment_page_idx(seg, from), segment_page_idx(seg, (uint8_t *)c + need - 1) + 1);
    stats_small_alloc(h, size_to_class(need - MC_HDR));
    return chunk_user(c);
}

void *medium_alloc(struct heap *h, size_t n)
{
    struct medium_heap *m = &h->med;
    if (atomic_load_explicit(&m->remote, memory_order_relaxed) != 0)
        medium_take_remote(h);
    size_t need = ((n + LX_ALIGN - 1) & ~(size_t)(LX_ALIGN - 1)) + MC_HDR;
    struct mchunk *c = bin_find(m, need);
    if (c == NULL) {
        if (!run_new(h))
            return NULL;
        c = bin_find(m, need);
    }
    size_t v = chunk_get(c);
    size_t size = v & ~MC_FLAGS;
    if (!bin_remove(m, c, size))
        return NULL;
    return chunk_cut(h, c, v & (MC_FIRST | MC_PREV_INUSE), size, v & MC_LAST, need, c);
}

/* ---- free ------------------------------------------------------------------- */

/* Owner: merge chunk c (in use, its word `v`, in run pg) with its free
 * neighbours and bin the result, or release the run if it is all free now. */
static void chunk_free_local(struct heap *h, struct page *pg, struct mchunk *c, size_t v)
{
    struct medium_heap *m = &h->med;
    size_t size = v & ~MC_FLAGS;
    size_t flags = v & (MC_FIRST | MC_LAST);
    if ((v & MC_LAST) == 0) {
        struct mchunk *next = (struct mchunk *)(void *)((uint8_t *)c + size);
        size_t nv = chunk_get(next);
        if (LX_UNLIKELY(!chunk_word_ok(pg, next, nv) || (nv & MC_PREV_INUSE) == 0)) {
            chunk_damaged(next, "next");
            return; /* the block stays allocated: nothing is written near the damage */
        }
        if ((nv & MC_INUSE) == 0) {
            if (!bin_remove(m, next, nv & ~MC_FLAGS))
                return;
            size += nv & ~MC_FLAGS;
            flags |= nv & MC_LAST;
        }
    }
    if ((v & MC_PREV_INUSE) == 0) {
        size_t ps = c->prev_size;
        struct mchunk *prev = (struct mchunk *)(void *)((uint8_t *)c - ps);
        size_t pv = ps <= (uintptr_t)c - (uintptr_t)pg->start ? chunk_get(prev) : 0;
        if (LX_UNLIKELY(ps == 0 || !chunk_word_ok(pg, prev, pv) || (pv & ~MC_FLAGS) != ps ||
                        (pv & MC_INUSE) != 0)) {
            chunk_damaged(c, "freed");
            return;
        }
        if (!bin_remove(m, prev, ps))
            return;
        c->word = 0; /* no longer a chunk: a second free of its block must not find one */
        c = prev;
        size += ps;
        flags = (flags & MC_LAST) | (pv & MC_FIRST);
    }
    if ((flags & (MC_FIRST | MC_LAST)) == (MC_FIRST | MC_LAST) && m->nruns > 1) {
        run_release(h, pg);
        return;
    }
    chunk_set(c, size | flags | MC_PREV_INUSE);
    if ((flags & MC_LAST) == 0) {
        struct mchunk *next = (struct mchunk *)(void *)((uint8_t *)c + size);
        next->prev_size = size;
        chunk_set(next, chunk_get(next) & ~MC_PREV_INUSE);
    }
    bin_insert(m, c, size);
}

/* The word of the live chunk whose block starts at p in run pg, or 0. */
static size_t live_word(const struct page *pg, const void *p)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)pg->start;
    if (off < MC_HDR || off >= MC_RUN_BYTES || (off & (LX_ALIGN - 1)) != 0)
        return 0;
    const struct mchunk *c = chunk_of(p);
    size_t v = chunk_get(c);
    return chunk_word_ok(pg, c, v) && (v & MC_INUSE) != 0 ? v : 0;
}

static void push_remote(struct heap *owner, void *p)
{
    struct block *b = p;
    uintptr_t old = atomic_load_explicit(&owner->med.remote, memory_order_relaxed);
    do {
        b->next = (struct block *)(old ^ lx_list_key ^ (uintptr_t)b);
    } while (!atomic_compare_exchange_weak_explicit(&owner->med.remote, &old, (uintptr_t)b,
                                                    memory_order_release, memory_order_relaxed));
}

bool medium_free(struct heap *h, struct page *pg, void *p)
{
    size_t v = live_word(pg, p);
    if (v == 0)
        return false;
    stats_small_free(h, size_to_class((v & ~MC_FLAGS) - MC_HDR));
    struct heap *owner = run_owner(pg);
    if (owner == h)
        chunk_free_local(h, pg, chunk_of(p), v);
    else
        push_remote(owner, p);
    return true;
}

/* Owner: free what other threads pushed. A link that leads out of this heap's
 * medium runs (the program wrote into a block it had freed) is reported and
 * the rest of the stack left alone. */
static void medium_take_remote(struct heap *h)
{
    uintptr_t top = atomic_exchange_explicit(&h->med.remote, 0, memory_order_acquire);
    while (top != 0) {
        struct block *b = (struct block *)top;
        uintptr_t next = (uintptr_t)b->next ^ lx_list_key ^ (uintptr_t)b;
        struct page *pg = segment_page_of(segment_of(b), b);
        size_t v = live_word(pg, b);
        if (v != 0)
            chunk_free_local(h, pg, chunk_of(b), v);
        else
            check_bad_pointer("free", b, "a medium block freed twice by other threads");
        if (next != 0 && (segmap_get(next) != SEGMAP_NORMAL ||
                          segment_page_of(segment_of((void *)next), (void *)next)->kind != RUN_MEDIUM ||
                          run_owner(segment_page_of(segment_of((void *)next), (void *)next)) != h)) {
            check_error(NULL, "heap corruption: the link %p in medium block %p, freed by another "
                              "thread, is damaged (a write into a freed block?)", (void *)next, (void *)b);
            return;
        }
        top = next;
    }
}

void medium_collect(struct heap *h, bool all)
{
    struct medium_heap *m = &h->med;
    if (atomic_load_explicit(&m->remote, memory_order_relaxed) != 0)
        medium_take_remote(h);
    if (!all)
        return;
    for (struct page *pg = m->runs, *next; pg != NULL; pg = next) {
        next = pg->next;
        struct mchunk *c = (struct mchunk *)(void *)pg->start;
        size_t v = chunk_get(c);
        if ((v & MC_INUSE) == 0 && (v & ~MC_FLAGS) == MC_RUN_BYTES && bin_remove(m, c, MC_RUN_BYTES))
            run_release(h, pg);
    }
}

/* ---- giving pages back ------------------------------------------------------ */

/*
 * A free chunk keeps its first MC_KEPT bytes; the whole pages after them are
 * free memory nobody reads (the chunk after it keeps its own header). A sweep
 * gives them back when the chunk was already free, unchanged, at the sweep
 * before (its stamp): a chunk that the program empties and fills again between
 * sweeps is left alone, as slab_purge leaves a page it saw free once. The
 * segment's gone marks say which pages went, so none goes twice; medium_alloc
 * clears the marks of the pages it hands out, which the program then faults in.
 */
size_t medium_sweep(struct heap *h, bool all, struct os_discard_batch *batch)
{
    struct medium_heap *m = &h->med;
    uint32_t now = ++m->epoch;
    size_t purged = 0;
    for (unsigned i = bin_of(MC_SWEEP_MIN); i < LX_MEDIUM_BINS; i++) {
        if (((m->map[i / 64] >> (i % 64)) & 1) == 0)
            continue;
        for (struct mchunk *c = m->bin[i]; c != NULL; c = c->next) {
            if (!all && (uint32_t)(now - *chunk_stamp(c)) < 2)
                continue;
            size_t size = chunk_get(c) & ~MC_FLAGS;
            uintptr_t lo = ((uintptr_t)c + MC_KEPT + LX_PAGE_SIZE - 1) & ~(uintptr_t)(LX_PAGE_SIZE - 1);
            uintptr_t hi = ((uintptr_t)c + size) & ~(uintptr_t)(LX_PAGE_SIZE - 1);
            if (hi <= lo)
                continue;
            struct segment *seg = segment_of(c);
            size_t p = segment_page_idx(seg, (void *)lo), end = segment_page_idx(seg, (void *)hi);
            while (p < end) {
                /* The next stretch of pages still resident, as far as the marks know. */
                while (p < end && page_mark(seg->gone_map, p))
                    p++;
                size_t q = p;
                while (q < end && !page_mark(seg->gone_map, q))
                    q++;
                if (q > p) {
                    seg_gone_set(seg, p, q);
                    os_discard_queue(batch, (uint8_t *)seg + (p << LX_PAGE_SHIFT), (q - p) << LX_PAGE_SHIFT);
                    purged += (q - p) << LX_PAGE_SHIFT;
                }
                p = q;
            }
        }
    }
    return purged;
}

/* ---- growing in place ------------------------------------------------------- */

bool medium_grow(struct heap *h, struct page *pg, void *p, size_t n)
{
    size_t v = live_word(pg, p);
    if (v == 0 || run_owner(pg) != h || (v & MC_LAST) != 0)
        return false;
    struct medium_heap *m = &h->med;
    struct mchunk *c = chunk_of(p);
    size_t size = v & ~MC_FLAGS;
    size_t need = ((n + LX_ALIGN - 1) & ~(size_t)(LX_ALIGN - 1)) + MC_HDR;
    struct mchunk *next = (struct mchunk *)(void *)((uint8_t *)c + size);
    size_t nv = chunk_get(next);
    if (!chunk_word_ok(pg, next, nv) || (nv & MC_INUSE) != 0 || size + (nv & ~MC_FLAGS) < need ||
        need <= size)
        return false;
    size_t total = size + (nv & ~MC_FLAGS);
    if (!bin_remove(m, next, nv & ~MC_FLAGS))
        return false;
    stats_small_free(h, size_to_class(size - MC_HDR));
    (void)chunk_cut(h, c, v & (MC_FIRST | MC_PREV_INUSE), total, nv & MC_LAST, need,
                    (uint8_t *)c + size);
    return true;
}

/* ---- lookups ----------------------------------------------------------------- */

size_t medium_usable(const struct page *pg, const void *p)
{
    size_t v = live_word(pg, p);
    return v != 0 ? (v & ~MC_FLAGS) - MC_HDR : 0;
}

/* The chunk holding a that is not a live block's start: a walk of the run's
 * headers from its first, for a report. */
LX_RARE static bool medium_walk(const struct page *pg, uintptr_t a, uint8_t **base, size_t *usable,
                                bool *live)
{
    struct mchunk *c = (struct mchunk *)(void *)pg->start;
    while ((uintptr_t)c < (uintptr_t)pg->start + MC_RUN_BYTES) {
        size_t w = chunk_get(c);
        if (!chunk_word_ok(pg, c, w))
            return false;
        size_t size = w & ~MC_FLAGS;
        if (a < (uintptr_t)c + size) {
            if (a < (uintptr_t)c + MC_HDR)
                return false;
            *base = chunk_user(c);
            *usable = size - MC_HDR;
            *live = (w & MC_INUSE) != 0;
            return true;
        }
        c = (struct mchunk *)(void *)((uint8_t *)c + size);
    }
    return false;
}

bool medium_find(const struct page *pg, const void *p, uint8_t **base, size_t *usable, bool *live)
{
    /* The start of a live block: its header says so, whoever asks. Only other
     * pointers (a report's) take the walk, which reads headers the owner may be
     * rewriting: each is checked, and a bad one ends the walk. */
    size_t v = live_word(pg, p);
    if (v != 0) {
        *base = (uint8_t *)(uintptr_t)p;
        *usable = (v & ~MC_FLAGS) - MC_HDR;
        *live = true;
        return true;
    }
    return medium_walk(pg, (uintptr_t)p, base, usable, live);
}

LX_RARE size_t medium_check(struct heap *h)
{
    struct medium_heap *m = &h->med;
    size_t problems = 0, free_chunks = 0, binned = 0;
    for (struct page *pg = m->runs; pg != NULL; pg = pg->next) {
        if (pg->kind != RUN_MEDIUM || run_owner(pg) != h) {
            lx_message("check: heap %u medium list holds %p wrongly", h->id,
                   (void *)pg);
            return problems + 1;
        }
        struct mchunk *c = (struct mchunk *)(void *)pg->start;
        bool prev_free = false;
        size_t prev_size = 0;
        for (;;) {
            size_t v = chunk_get(c);
            if (!chunk_word_ok(pg, c, v)) {
                lx_message("check: heap %u medium chunk %p has a damaged header", h->id, (void *)c);
                problems++;
                break;
            }
            bool free_now = (v & MC_INUSE) == 0;
            if (((v & MC_PREV_INUSE) == 0) != prev_free || (prev_free && free_now) ||
                (prev_free && c->prev_size != prev_size)) {
                lx_message("check: heap %u medium chunk %p disagrees with the one before it",
                           h->id, (void *)c);
                problems++;
            }
            free_chunks += free_now && (v & ~MC_FLAGS) >= MC_MIN;
            prev_free = free_now;
            prev_size = v & ~MC_FLAGS;
            if ((v & MC_LAST) != 0)
                break;
            c = (struct mchunk *)(void *)((uint8_t *)c + prev_size);
        }
    }
    for (unsigned i = 0; i < LX_MEDIUM_BINS; i++) {
        bool bit = (m->map[i / 64] >> (i % 64)) & 1;
        if (bit != (m->bin[i] != NULL)) {
            lx_message("check: heap %u medium bin %u's bit disagrees with its list", h->id, i);
            problems++;
        }
        for (struct mchunk *c = m->bin[i]; c != NULL && binned <= free_chunks; c = c->next) {
            if (bin_of(chunk_get(c) & ~MC_FLAGS) != i) {
                lx_message("check: heap %u medium chunk %p is in the wrong bin", h->id, (void *)c);
                problems++;
            }
            binned++;
        }
    }
    if (binned != free_chunks) {
        lx_message("check: heap %u has %zu free medium chunks, its bins %zu", h->id, free_chunks,
                   binned);
        problems++;
    }
    return problems;
}
