/* SPDX-License-Identifier: MIT */
/*
 * heap.c — thread heaps: class queues of slabs, refill, full slabs, remote-free
 * notification, thread exit (orphaning) and adoption. Layer: above slab and
 * pages, below alloc.
 *
 * Who writes what: a heap's plain fields belong to the thread that owns it (or,
 * for an orphan, to whoever holds it after taking it off the orphan list under
 * lx_heaps_lock). Other threads touch a heap only through heap.delayed_free and a
 * slab's xthread_free.
 *
 * Full slabs leave their queue for heap.full, and the owner sets LX_XFREE_NOTIFY
 * in the slab's xthread_free. The next remote free clears that bit and, instead
 * of pushing its block on the slab, pushes it on the owner heap's delayed_free
 * list; the owner finds it on its next slow path and frees it locally, which
 * queues the slab again. A local free into a full slab sees LX_KEY_FULL in
 * local_key and requeues it directly. So a slab with free blocks is never
 * stranded, and the delayed block keeps its slab alive until the owner sees it.
 *
 * Sweeps: as a heap takes new slabs, now and then it looks through its queued
 * slabs for pages on which every block is free and gives them back (slab.c,
 * holes); malloc_trim does the same for the caller's heap and the orphans.
 *
 * Idle heaps: a full slab of a thread heap whose owner has not allocated on a
 * slow path for a while goes to a thread that allocates and frees into it
 * (heap_steal), under the owner's full_lock.
 *
 * Heap structures are never unmapped: a remote free may still be pushing on an
 * exited thread's heap, and that heap lives on as an orphan that the next new
 * thread adopts whole. Meanwhile other threads' slow paths return its empty
 * slabs to the arenas.
 */
#include "heap.h"

#include "check.h"
#include "medium.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "report.h"
#include "segment.h"
#include "sizeclass.h"
#include "slab.h"
#include "stats.h"
#include "trace.h"

#define LX_R4(x) x, x, x, x
#define LX_R16(x) LX_R4(LX_R4(x))
#define LX_R64(x) LX_R4(LX_R16(x))
static_assert(LX_DIRECT_COUNT == 94, "the empty heap's initialiser has 94 entries");
static_assert(LX_SEG_SEEN == 64, "the empty heap's initialiser has 64 segment slots");

struct heap lx_empty_heap = {
    .direct = {LX_R64(&lx_empty_page), LX_R16(&lx_empty_page), LX_R4(&lx_empty_page),
               LX_R4(&lx_empty_page), LX_R4(&lx_empty_page), &lx_empty_page, &lx_empty_page},
    .segs = {.base = {LX_R64(LX_SEG_NONE)}}, /* never learns */
};

LX_TLS struct heap *lx_tls_heap = &lx_empty_heap;

lx_lock_t lx_heaps_lock;
struct heap *lx_heaps_all;
static struct heap *lx_orphans;
static _Atomic(struct heap *) lx_orphans_hint; /* non-NULL: orphans may need collecting */
static uint32_t lx_heap_ids;

/* Heap structures come from a bump region of their own (under lx_heaps_lock). */
static uint8_t *meta_cursor;
static size_t meta_left;

static struct heap *heap_new_locked(uint32_t owned)
{
    size_t size = (sizeof(struct heap) + 63) & ~(size_t)63;
    if (meta_left < size) {
        size_t chunk = 64 * 1024;
        uint8_t *p = os_map(chunk);
        if (p == NULL)
            return NULL;
        meta_cursor = p;
        meta_left = chunk;
    }
    struct heap *h = (struct heap *)meta_cursor;
    meta_cursor += size;
    meta_left -= size;
    for (unsigned d = 0; d < LX_DIRECT_COUNT; d++)
        atomic_store_explicit(&h->direct[d], &lx_empty_page, memory_order_relaxed);
    seg_cache_register(&h->segs);
    h->arena = arena_pick();
    h->id = ++lx_heap_ids;
    h->owned = owned;
    h->stealable = owned == HEAP_OWNED_THREAD;
    h->next_all = lx_heaps_all;
    lx_heaps_all = h;
    if (owned != HEAP_FIRST_CLASS)
        stats_heap_created();
    return h;
}

struct heap *heap_new_first_class(void)
{
    lx_lock(&lx_heaps_lock);
    struct heap *h = heap_new_locked(HEAP_FIRST_CLASS);
    lx_unlock(&lx_heaps_lock);
    return h;
}

/* ---- queues ------------------------------------------------------------ */

static void direct_fill(struct heap *h, unsigned cls, struct page *pg)
{
    /* The bounds in locals: read through the table, the compiler would load
     * them again after every store (a byte may alias the entries). */
    struct page *_Atomic *d = &h->direct[lx_classes[cls].direct_lo];
    struct page *_Atomic *end = &h->direct[lx_classes[cls].direct_hi] + 1;
    for (; d < end; d++)
        atomic_store_explicit(d, pg, memory_order_relaxed);
}

/* May the malloc fast path serve class `cls` from its slabs? Not while hooks
 * are active (lx_hooks_active: perturbation, valgrind, the profiler), and not a
 * class holding sizes at or above the mmap threshold (alloc_any maps those; the
 * threshold is never below a page, so the classes up to LX_DIRECT_MAX always pass). */
static bool direct_allowed(unsigned cls)
{
    return !atomic_load_explicit(&lx_hooks_active, memory_order_relaxed) &&
           lx_classes[cls].size <
               atomic_load_explicit(&lx_opt.mmap_threshold, memory_order_relaxed);
}

/*
 * Point the direct table at the class's first slab, or, when the fast path may
 * not serve the class (direct_allowed), at the empty slab, so that the malloc
 * fast path, which tests neither hooks nor threshold, falls into the slow path.
 * Another thread may change them meanwhile (heaps_fast_paths_changed empties every
 * table): a store here, a fence, and a new look on this side, their store, a
 * fence and the emptying on that side, so either this thread sees the change or
 * its store comes before the emptying.
 */
static void direct_update(struct heap *h, unsigned cls)
{
    struct page *pg = h->queues[cls].head;
    if (pg == NULL || !direct_allowed(cls))
        pg = &lx_empty_page;
    direct_fill(h, cls, pg);
    if (pg == &lx_empty_page)
        return;
    atomic_thread_fence(memory_order_seq_cst);
    if (!direct_allowed(cls))
        direct_fill(h, cls, &lx_empty_page);
}

/* The class's entries were emptied while hooks were on: point them again. */
static void direct_refresh(struct heap *h, unsigned cls)
{
    if (atomic_load_explicit(&h->direct[lx_classes[cls].direct_lo], memory_order_relaxed) !=
        h->queues[cls].head)
        direct_update(h, cls);
}

static void queue_push_front(struct heap *h, struct page *pg)
{
    struct page_queue *q = &h->queues[pg->class_idx];
    pg->prev = NULL;
    pg->next = q->head;
    if (q->head != NULL)
        q->head->prev = pg;
    else
        q->tail = pg;
    q->head = pg;
    direct_update(h, pg->class_idx);
}

static void queue_push_back(struct heap *h, struct page *pg)
{
    struct page_queue *q = &h->queues[pg->class_idx];
    pg->next = NULL;
    pg->prev = q->tail;
    if (q->tail != NULL)
        q->tail->next = pg;
    else {
        q->head = pg;
        direct_update(h, pg->class_idx);
    }
    q->tail = pg;
}

static void queue_remove(struct heap *h, struct page *pg)
{
    struct page_queue *q = &h->queues[pg->class_idx];
    bool was_head = q->head == pg;
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        q->head = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    else
        q->tail = pg->prev;
    pg->next = pg->prev = NULL;
    if (was_head)
        direct_update(h, pg->class_idx);
}

static void full_push(struct heap *h, struct page *pg)
{
    pg->prev = NULL;
    pg->next = h->full;
    if (h->full != NULL)
        h->full->prev = pg;
    h->full = pg;
}

static void full_remove(struct heap *h, struct page *pg)
{
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        h->full = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = NULL;
}

/* ---- full slabs and delayed frees ------------------------------------ */

/* Move a full slab off its queue and ask that the next remote free come through
 * heap.delayed_free. If a remote free slipped in first, keep the slab queued. */
static bool heap_mark_full(struct heap *h, struct page *pg)
{
    uintptr_t expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&pg->xthread_free, &expected, LX_XFREE_NOTIFY,
                                                 memory_order_acq_rel, memory_order_relaxed))
        return false;
    queue_remove(h, pg);
    lx_lock(&h->full_lock);
    pg->local_key = (uintptr_t)h | LX_KEY_FULL;
    full_push(h, pg);
    lx_unlock(&h->full_lock);
    return true;
}

/* A full slab has a free block again: queue it at the back. False if another
 * thread took it meanwhile (heap_steal): it is not this heap's any more. */
static bool heap_unfull(struct heap *h, struct page *pg)
{
    lx_lock(&h->full_lock);
    if (pg->local_key != ((uintptr_t)h | LX_KEY_FULL)) {
        lx_unlock(&h->full_lock);
        return false;
    }
    full_remove(h, pg);
    pg->local_key = (uintptr_t)h;
    lx_unlock(&h->full_lock);
    /* Withdraw the request unless a remote free already took it (its block is then
     * on delayed_free, and comes back as a local free of a queued slab). */
    uintptr_t old = atomic_load_explicit(&pg->xthread_free, memory_order_relaxed);
    while ((old & LX_XFREE_NOTIFY) != 0 &&
           !atomic_compare_exchange_weak_explicit(&pg->xthread_free, &old, old & ~LX_XFREE_NOTIFY,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
    queue_push_back(h, pg);
    return true;
}

static void slab_push_remote(struct page *pg, struct block *b);

/*
 * Taking over an idle heap's full slab. A thread that allocates and then stops
 * allocating (blocked in a join, waiting for work) while other threads free
 * what it allocated would keep those blocks from everyone: they wait on its
 * slabs until it takes a slow path again. So a thread that frees into a full
 * slab of another thread's heap whose owner took no allocation slow path for
 * LX_IDLE_HEAP_NS before the freeing thread's own last one takes the slab into
 * its own queue, and its frees into it become local ones. (A thread that only
 * frees has no recent slow path of its own: it never takes a slab it would not
 * allocate from.) The owner touches a full slab only under its full_lock and
 * after checking the key (heap_unfull), its fast paths never (the direct table
 * holds queued slabs only, and the free fast path wants the key without
 * flags), so the slab's lists are as the owner left them. The thief holds its
 * own full_lock, so nobody can take the slab from it before it is on its list,
 * and only tries the owner's: two threads taking from each other cannot
 * deadlock. First-class heaps (xheap.c) keep their slabs.
 */
static bool heap_steal(struct heap *h, struct heap *owner, struct page *pg)
{
    if (h == &lx_empty_heap || !h->stealable || !owner->stealable)
        return false;
    uint64_t mine = atomic_load_explicit(&h->busy_ns, memory_order_relaxed);
    uint64_t theirs = atomic_load_explicit(&owner->busy_ns, memory_order_relaxed);
    if (theirs + LX_IDLE_HEAP_NS > mine)
        return false;
    lx_lock(&h->full_lock);
    if (!lx_trylock(&owner->full_lock)) {
        lx_unlock(&h->full_lock);
        return false;
    }
    bool taken = pg->local_key == ((uintptr_t)owner | LX_KEY_FULL);
    if (taken) {
        full_remove(owner, pg);
        pg->local_key = (uintptr_t)h | LX_KEY_FULL;
        full_push(h, pg);
    }
    lx_unlock(&owner->full_lock);
    lx_unlock(&h->full_lock);
    if (taken)
        h->slab_pages += pg->run_pages;
    return taken;
}

/* ---- the stash ------------------------------------------------------- */

static unsigned stash_cap(unsigned cls)
{
    size_t size = lx_classes[cls].size;
    size_t n = LX_STASH_BYTES / size;
    return n == 0 ? 1u : n > LX_STASH_MAX ? LX_STASH_MAX : (unsigned)n;
}

/* Keep b, freed by h's thread into a full slab, for the class's next malloc. */
static bool stash_push(struct heap *h, unsigned cls, struct block *b)
{
    if (h->owned != HEAP_OWNED_THREAD || h->stash_n[cls] >= stash_cap(cls))
        return false;
    block_set_next(b, NULL);
    block_set_next(delayed_link(b), h->stash[cls]);
    h->stash[cls] = b;
    h->stash_n[cls]++;
    return true;
}

static struct block *stash_pop(struct heap *h, unsigned cls)
{
    struct block *b = h->stash[cls];
    if (b == NULL)
        return NULL;
    struct block *next = block_next(delayed_link(b));
    h->stash[cls] = list_end(next) ? NULL : next;
    h->stash_n[cls]--;
    block_clear_link(b);
    return b;
}

bool heap_stash_contains(struct heap *h, unsigned cls, const struct block *b)
{
    for (struct block *x = h->stash[cls]; x != NULL;) {
        if (x == b)
            return true;
        struct block *next = block_next(delayed_link(x));
        x = list_end(next) ? NULL : next;
    }
    return false;
}

static void heap_slab_free(struct heap *h, struct page *pg, struct block *b);

static void stash_flush(struct heap *h)
{
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        struct block *b;
        while ((b = stash_pop(h, c)) != NULL)
            heap_slab_free(h, segment_page_of(segment_of(b), b), b);
    }
}

/* A free by h's thread into a slab of h (its key said so when the free was sent
 * here). The block goes to the stash when its slab is full and the slab the
 * class allocates from has no block left on its free list (the class's next
 * malloc takes a slow path anyway), and no other thread freed into the slab
 * since it filled (its remote list holds only the request to hear of a free):
 * a later remote free still comes through the delayed list and takes the slab
 * off the full list. Else the slab leaves the full list. */
static void heap_local_free(struct heap *h, struct page *pg, struct block *b)
{
    if ((pg->local_key & LX_KEY_FULL) != 0) {
        const struct page *head = h->queues[pg->class_idx].head;
        if ((head == NULL || list_end(head->free)) &&
            atomic_load_explicit(&pg->xthread_free, memory_order_relaxed) == LX_XFREE_NOTIFY &&
            stash_push(h, pg->class_idx, b))
            return;
    }
    heap_slab_free(h, pg, b);
}

/* A free by h's thread of a block whose slab was h's when the free was sent
 * here. Only h's thread changes the key of a slab of h that is not full; a full
 * one another heap may take at any moment (heap_steal), and even queue and
 * free into (heap_unfull), so the key is read once more and only what it says
 * now counts: the slab is h's and queued, h's and full (taken off the full list
 * under the lock, unless it is taken first), or another heap's (a remote free). */
static void heap_slab_free(struct heap *h, struct page *pg, struct block *b)
{
    uintptr_t key = __atomic_load_n(&pg->local_key, __ATOMIC_RELAXED);
    if ((key & ~LX_KEY_FLAGS) != (uintptr_t)h ||
        ((key & LX_KEY_FULL) != 0 && !heap_unfull(h, pg))) {
        slab_push_remote(pg, b);
        return;
    }
    lx_assert((pg->local_key & ~LX_KEY_FLAGS) == (uintptr_t)h);
    lx_assert(pg->used > 0);
    block_set_next(b, pg->local_free);
    pg->local_free = b;
    if (--pg->used == 0)
        heap_page_empty(h, pg);
}


static void heap_push_delayed(struct heap *owner, struct block *b)
{
    block_set_next(b, NULL);
    struct block *head = atomic_load_explicit(&owner->delayed_free, memory_order_relaxed);
    do {
        block_set_next(delayed_link(b), head);
    } while (!atomic_compare_exchange_weak_explicit(&owner->delayed_free, &head, b,
                                                    memory_order_release, memory_order_relaxed));
}

bool heap_delayed_contains(struct heap *h, const struct block *b)
{
    struct block *x = atomic_load_explicit(&h->delayed_free, memory_order_acquire);
    for (size_t n = 0; !list_end(x) && n < ((size_t)1 << 24); n++) {
        if (x == b)
            return true;
        struct block *next = block_next(delayed_link(x));
        if (!list_end(next) && (((uintptr_t)next & (LX_ALIGN - 1)) != 0 ||
                             segmap_get((uintptr_t)next) != SEGMAP_NORMAL))
            return false;
        x = next;
    }
    return false;
}

static void heap_take_delayed(struct heap *h)
{
    if (atomic_load_explicit(&h->delayed_free, memory_order_relaxed) == NULL)
        return;
    struct block *b = atomic_exchange_explicit(&h->delayed_free, NULL, memory_order_acquire);
    while (!list_end(b)) {
        struct block *next = block_next(delayed_link(b));
        struct segment *seg = segment_of(b);
        struct page *pg = segment_page_of(seg, b);
        /* The list mixes slabs: a link must at least lead into a normal segment. */
        if (!list_end(next) && (((uintptr_t)next & (LX_ALIGN - 1)) != 0 ||
                             segmap_get((uintptr_t)next) != SEGMAP_NORMAL)) {
            check_corrupt_list(pg->block_size, pg->start, b, next);
            next = NULL;
        }
        /* Its slab was full and this heap's when b came; heap_slab_free
         * sees whether another heap took it since. */
        heap_slab_free(h, pg, b);
        b = next;
    }
}

/* ---- releasing slabs -------------------------------------------------- */

static void heap_release_slab(struct heap *h, struct page *pg)
{
    if ((pg->local_key & LX_KEY_FULL) != 0) {
        lx_lock(&h->full_lock);
        full_remove(h, pg);
        lx_unlock(&h->full_lock);
    } else {
        queue_remove(h, pg);
    }
    pg->free = pg->local_free = NULL;
    heap_give_run(h, pg);
}

LX_NOINLINE void heap_page_empty(struct heap *h, struct page *pg)
{
    struct page_queue *q = &h->queues[pg->class_idx];
    /* Keep the slab the class allocates from, so that bursts of mallocs and
     * frees do not release and remake it over and over; only if it is short
     * (the classes up to 8 KiB) or alone, as an idle long one holds up to 256 KiB. */
    if (q->head == pg && (pg->run_pages <= LX_SLAB_MIN_PAGES || pg->next == NULL))
        return;
    heap_release_slab(h, pg);
    trace_tick();
}

/* Worth a look for holes: at least LX_HOLE_MIN_PAGES pages' worth of free
 * blocks, and at most half of the carved blocks in use (on a fuller slab whole
 * free pages are rare unless blocks are 2 KiB or more). Read after the remote
 * frees are taken back; local frees are already out of `used`. */
static bool slab_sparse(const struct page *pg)
{
    size_t free_count = (size_t)pg->capacity - pg->used - pg->hole_blocks;
    size_t bs = pg->block_size;
    if (free_count * bs < LX_HOLE_MIN_PAGES * LX_PAGE_SIZE)
        return false;
    return bs >= LX_PAGE_SIZE / 2 || (size_t)pg->used * 2 <= pg->capacity;
}

enum sweep { SWEEP_NONE, SWEEP_IDLE, SWEEP_ALL };

/* Collect every queued slab of `h` and its delayed frees; release the empty
 * slabs. With `all`, even a class's last slab goes, and so do the runs the heap
 * keeps for reuse (else only those older than the purge delay). A sweep also purges the free
 * pages of slabs (slab_purge): with SWEEP_IDLE those of sparse slabs that have
 * changed enough since they were last swept (slab_swept), pages found free
 * twice; with SWEEP_ALL (malloc_trim) every free page of every slab. */
static void heap_collect_locked(struct heap *h, bool all, enum sweep sweep)
{
    struct os_discard_batch batch;
    os_discard_batch_init(&batch);
    heap_take_delayed(h);
    stash_flush(h);
    medium_collect(h, all);
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        struct page *pg = h->queues[c].head;
        while (pg != NULL) {
            struct page *next = pg->next;
            /* A sweep takes only the remote frees (for `used`): merging local_free
             * into free walks a list, and slab_purge rebuilds both when it acts. */
            if (sweep != SWEEP_NONE)
                (void)slab_collect_thread(pg);
            else
                slab_collect(pg);
            /* SWEEP_IDLE leaves a class's first slab alone: the class allocates
             * from it next, and would fault its free pages straight back in. */
            bool look = sweep == SWEEP_ALL ||
                        (sweep == SWEEP_IDLE && pg != h->queues[c].head && !slab_swept(pg) &&
                         slab_sparse(pg));
            if (pg->used == 0 && (all || pg != h->queues[c].head || next != NULL))
                heap_release_slab(h, pg);
            else if (look)
                stats_holes_purged(slab_purge(pg, sweep == SWEEP_ALL, &batch));
            pg = next;
        }
    }
    if (sweep != SWEEP_NONE)
        stats_holes_purged(medium_sweep(h, sweep == SWEEP_ALL, &batch));
    os_discard_flush(&batch);
    run_cache_flush(&h->runs, all);
}

/* ---- allocation slow path --------------------------------------------- */

static void heaps_collect_one_orphan(void)
{
    if (atomic_load_explicit(&lx_orphans_hint, memory_order_relaxed) == NULL)
        return;
    if (!lx_trylock(&lx_heaps_lock))
        return;
    struct heap *o = lx_orphans;
    if (o != NULL)
        lx_orphans = o->next_orphan;
    lx_unlock(&lx_heaps_lock);
    if (o == NULL)
        return;
    heap_collect_locked(o, true, SWEEP_NONE);
    heap_flush_stats(o);
    lx_lock(&lx_heaps_lock);
    /* Back at the end of the list, so the next collection visits another orphan. */
    o->next_orphan = NULL;
    struct heap **tail = &lx_orphans;
    while (*tail != NULL)
        tail = &(*tail)->next_orphan;
    *tail = o;
    lx_unlock(&lx_heaps_lock);
}


struct page *heap_take_run(struct heap *h, size_t npages, size_t most, enum run_kind kind,
                           bool *clean)
{
    heap_flush_stats(h);
    heaps_collect_one_orphan();
    /* The heap grows: now and then (each time it has taken 1/64 of its slab and
     * medium pages anew in clean runs, at least 1 MiB), give back the free
     * pages its sparse slabs and its medium runs' free chunks hold. Runs from
     * the run cache or dirty ones do not count: the footprint did not grow, and
     * a sweep then would purge pages the busy heap faults straight back in. A
     * sweep visits every queued slab (a few loads each) and purges only those
     * that changed enough since their last sweep (slab_swept). */
    if (h->sweep_pages >= LX_SWEEP_MIN_PAGES && h->sweep_pages >= h->slab_pages >> LX_SWEEP_SHIFT) {
        h->sweep_pages = 0;
        heap_collect_locked(h, false, SWEEP_IDLE);
    }
    *clean = false;
    struct page *pg = run_cache_take(&h->runs, npages, most, kind);
    if (pg == NULL) {
        pg = arena_alloc_run(h->arena, npages, kind);
        if (pg == NULL)
            return NULL;
        *clean = !pg->dirty;
    }
    h->slab_pages += pg->run_pages;
    if (*clean)
        h->sweep_pages += pg->run_pages;
    return pg;
}

void heap_give_run(struct heap *h, struct page *pg)
{
    h->slab_pages -= h->slab_pages < pg->run_pages ? h->slab_pages : pg->run_pages;
    pg->local_key = 0;
    if (!run_cache_put(&h->runs, pg))
        arena_free_run(pg);
}

void *heap_alloc_small(struct heap *h, unsigned cls)
{
    lx_assert(h != &lx_empty_heap && cls < LX_CLASS_COUNT);
#if LX_DEBUG >= 3
    if (heap_check(h) != 0)
        lx_fatal("heap %u is inconsistent", h->id);
#endif
    atomic_store_explicit(&h->busy_ns, os_now_coarse_ns(), memory_order_relaxed);
    heap_take_delayed(h);
    struct block *sb = stash_pop(h, cls);
    if (sb != NULL) {
        stats_small_alloc(h, cls);
        return sb;
    }
    struct page_queue *q = &h->queues[cls];
    struct page *pg = q->head;
    while (pg != NULL) {
        struct page *next = pg->next;
        if (list_end(pg->free))
            slab_collect(pg);
        /* Fresh pages (carving, holes) only when the next slabs have no block
         * that other threads freed waiting (slab_others_have_free). */
        if (list_end(pg->free) && (pg->capacity < pg->reserved || pg->hole_blocks != 0) &&
            slab_others_have_free(pg)) {
            pg = next;
            continue;
        }
        if (list_end(pg->free))
            (void)slab_refill(pg);
        if (list_end(pg->free) && heap_mark_full(h, pg)) {
            pg = next;
            continue;
        }
        if (list_end(pg->free))
            slab_collect(pg); /* a remote free arrived while marking */
        if (!list_end(pg->free)) {
            if (pg != q->head) {
                queue_remove(h, pg);
                queue_push_front(h, pg);
            } else {
                direct_refresh(h, cls);
            }
            struct block *b = slab_pop(pg);
            stats_small_alloc(h, cls);
            return b;
        }
        pg = next;
    }
    /* A cached run of the slab's length, or up to a quarter longer (more blocks). */
    size_t npages = lx_classes[cls].pages;
    size_t most = npages + npages / 4 < LX_SLAB_MAX_PAGES ? npages + npages / 4 : LX_SLAB_MAX_PAGES;
    bool clean;
    pg = heap_take_run(h, npages, most, RUN_SLAB, &clean);
    if (pg == NULL)
        return NULL;
    /* The free fast path finds a slab by its first 16-page group (segment.h). */
    lx_assert(pg->run_pages >= ((size_t)1 << LX_DESC_ROT) &&
              (page_idx(page_segment(pg), pg) & LX_DESC_LOW_MASK) == 0);
    slab_init(pg, (uintptr_t)h, cls);
    slab_marks_clear(pg);
    /* Untouched pages are faulted in by the carve, with one call for each
     * (slab_extend); several pages at a time once the class has needed a
     * second slab: a class of a few blocks is not worth the pages that would
     * stay unused. */
    if (clean)
        pg->touched = 0;
    pg->fresh = clean && q->taken++ != 0;
    (void)slab_extend(pg);
    queue_push_front(h, pg);
    struct block *b = slab_pop(pg);
    stats_small_alloc(h, cls);
    trace_tick(); /* a new slab: the footprint grew */
    return b;
}

/* ---- free slow path --------------------------------------------------- */

void heap_free_slab_slow(struct heap *h, struct page *pg, struct block *b)
{
    uintptr_t key = pg->local_key;
    unsigned cls = pg->class_idx;
    stats_small_free(h, cls);
    if ((key & ~LX_KEY_FLAGS) == (uintptr_t)h && h != &lx_empty_heap) {
        heap_local_free(h, pg, b);
        return;
    }
    /* A thread that frees what others allocate may never take an allocation
     * slow path, where a heap publishes its counts: publish them here too, or
     * the process's live bytes (and their peak) would count its frees late. */
    if (LX_STATS && h != &lx_empty_heap &&
        LX_UNLIKELY((++h->remote_frees & (LX_STATS_FLUSH_FREES - 1)) == 0))
        heap_flush_stats(h);
    if ((key & LX_KEY_FULL) != 0 && heap_steal(h, (struct heap *)(key & ~LX_KEY_FLAGS), pg)) {
        heap_local_free(h, pg, b);
        return;
    }
    slab_push_remote(pg, b);
}

/* Remote: push on the slab's xthread_free, unless the slab is full and waits
 * to hear of a free; then claim that (clear the bit) and hand the block to the
 * owner heap's delayed list. */
static void slab_push_remote(struct page *pg, struct block *b)
{
    struct heap *owner = (struct heap *)(pg->local_key & ~LX_KEY_FLAGS);
    uintptr_t old = atomic_load_explicit(&pg->xthread_free, memory_order_relaxed);
    for (;;) {
        if ((old & LX_XFREE_NOTIFY) != 0) {
            if (atomic_compare_exchange_weak_explicit(&pg->xthread_free, &old,
                                                      old & ~LX_XFREE_NOTIFY,
                                                      memory_order_acq_rel, memory_order_relaxed)) {
                heap_push_delayed(owner, b);
                return;
            }
            continue;
        }
        block_set_next(b, (struct block *)LX_XFREE_LIST(old));
        uintptr_t count = (old & ~(LX_XFREE_ONE - 1)) + LX_XFREE_ONE; /* wraps to 0: see slab.c */
        if (atomic_compare_exchange_weak_explicit(&pg->xthread_free, &old, (uintptr_t)b | count,
                                                  memory_order_release, memory_order_relaxed))
            return;
    }
}

/* ---- threads ---------------------------------------------------------- */

struct heap *heap_attach_thread(const struct heap *prefer)
{
    lx_lock(&lx_heaps_lock);
    /* `prefer` is only compared with the orphans, never read: it may be any heap. */
    struct heap **at = &lx_orphans;
    if (prefer != NULL) {
        while (*at != NULL && *at != prefer)
            at = &(*at)->next_orphan;
        if (*at == NULL)
            at = &lx_orphans;
    }
    struct heap *h = *at;
    if (h != NULL) {
        *at = h->next_orphan;
        h->next_orphan = NULL;
        if (lx_orphans == NULL)
            atomic_store_explicit(&lx_orphans_hint, NULL, memory_order_relaxed);
    } else {
        h = heap_new_locked(HEAP_OWNED_THREAD);
    }
    if (h != NULL) {
        h->owned = HEAP_OWNED_THREAD;
        /* Not busy until its new owner allocates (heap_steal). */
        atomic_store_explicit(&h->busy_ns, 0, memory_order_relaxed);
    }
    lx_unlock(&lx_heaps_lock);
    return h;
}

static void heap_orphan_locked(struct heap *h)
{
    h->owned = 0;
    h->next_orphan = lx_orphans;
    lx_orphans = h;
    atomic_store_explicit(&lx_orphans_hint, h, memory_order_relaxed);
}

void heap_detach_thread(struct heap *h)
{
    if (h == NULL || h == &lx_empty_heap)
        return;
    heap_collect_locked(h, true, SWEEP_NONE);
    heap_flush_stats(h);
    lx_lock(&lx_heaps_lock);
    heap_orphan_locked(h);
    lx_unlock(&lx_heaps_lock);
}

void heaps_collect(struct heap *self)
{
    if (self != NULL && self != &lx_empty_heap)
        heap_collect_locked(self, true, SWEEP_ALL);
    lx_lock(&lx_heaps_lock);
    struct heap *list = lx_orphans;
    lx_orphans = NULL;
    lx_unlock(&lx_heaps_lock);
    /* Nobody can adopt these while they are off the list. */
    struct heap *last = NULL;
    for (struct heap *o = list; o != NULL; o = o->next_orphan) {
        heap_collect_locked(o, true, SWEEP_ALL);
        heap_flush_stats(o);
        last = o;
    }
    if (last != NULL) {
        lx_lock(&lx_heaps_lock);
        last->next_orphan = lx_orphans;
        lx_orphans = list;
        lx_unlock(&lx_heaps_lock);
    }
}

void heap_flush_stats(struct heap *h)
{
    int64_t live = 0;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++)
        live += (int64_t)(stats_class_allocs(h, c) - h->free_count[c]) * (int64_t)lx_classes[c].size;
    h->large.live_flushed = (int64_t)(h->large.alloc_bytes - h->large.free_bytes);
    live += h->large.live_flushed;
    stats_live_add(live - h->live_flushed);
    h->live_flushed = live;
}

/* ---- fork --------------------------------------------------------------- */

/* The full lists' locks too: a thread taking a slab at the fork would leave two
 * lists half changed in the child. */
void heaps_fork_prepare(void)
{
    lx_lock(&lx_heaps_lock);
    for (struct heap *h = lx_heaps_all; h != NULL; h = h->next_all)
        lx_lock(&h->full_lock);
}

void heaps_fork_parent(void)
{
    for (struct heap *h = lx_heaps_all; h != NULL; h = h->next_all)
        lx_unlock(&h->full_lock);
    lx_unlock(&lx_heaps_lock);
}

/* lx_hooks_active or the mmap threshold changed (mallopt): every heap's direct
 * table is emptied (direct_update says why this cannot race an owner's update)
 * and every heap forgets the segments its frees met, so that both fast paths,
 * which test neither, send the next call to a slow path that does. A class's
 * entries are pointed again (direct_refresh) when its slab next runs dry and
 * the fast path may serve it. */
void heaps_fast_paths_changed(void)
{
    seg_caches_clear();
    lx_lock(&lx_heaps_lock);
    for (struct heap *h = lx_heaps_all; h != NULL; h = h->next_all) {
        for (unsigned d = 0; d < LX_DIRECT_COUNT; d++)
            atomic_store_explicit(&h->direct[d], &lx_empty_page, memory_order_relaxed);
    }
    lx_unlock(&lx_heaps_lock);
}

/* Only the forking thread lives on in the child. The heaps of the others are left
 * alone, still marked owned, never adopted nor collected: their threads take no
 * lock on the fast paths or on a heap's own slow paths, so fork may have stopped
 * one halfway through changing its heap (a block pushed but `used` not yet
 * lowered, a queue half relinked). Orphaning them (as this once did) let the
 * child walk such a heap; tests/stress/forkstorm saw one fail the heap check.
 * Their blocks stay freeable: a free from the child takes the remote-free path,
 * which touches only atomic words. The cost is that the child does not reuse the
 * slabs those heaps held at the fork. Orphans already on the orphan list are
 * whole (nobody changes one without taking it off the list under the lock fork
 * holds), so they stay adoptable. */
void heaps_fork_child(void)
{
    for (struct heap *h = lx_heaps_all; h != NULL; h = h->next_all)
        lx_lock_reset(&h->full_lock);
    lx_lock_reset(&lx_heaps_lock);
}

/* ---- checker -------------------------------------------------------- */

/* Count the blocks of one slab free list, checking that each lies in the slab's
 * carved part at a block boundary; a bad link stops the walk (and is reported). */
LX_RARE static size_t slab_check_list(struct heap *h, struct page *pg, struct block *b,
                                      size_t *problems)
{
    size_t count = 0;
    uintptr_t start = (uintptr_t)pg->start;
    uintptr_t end = start + (size_t)pg->capacity * pg->block_size;
    for (; !list_end(b); b = block_next(b)) {
        uintptr_t a = (uintptr_t)b;
        if (a < start || a >= end || (a - start) % pg->block_size != 0 ||
            count > pg->capacity ||
            (pg->hole_blocks != 0 && slab_page_hole(pg, (a - start) >> LX_PAGE_SHIFT))) {
            lx_message("check: heap %u slab %p lists a bad (or live) free block %p", h->id,
                       (void *)pg, (void *)b);
            (*problems)++;
            break;
        }
        count++;
    }
    return count;
}

LX_RARE static size_t slab_check(struct heap *h, struct page *pg)
{
    size_t problems = 0;
    if (pg->capacity > pg->reserved || pg->block_size == 0 ||
        pg->start != page_address(page_segment(pg), pg)) {
        lx_message("check: heap %u slab %p has a corrupt descriptor", h->id, (void *)pg);
        return 1;
    }
    size_t free_count = slab_check_list(h, pg, pg->free, &problems);
    free_count += slab_check_list(h, pg, pg->local_free, &problems);
    if (pg->used + free_count + pg->hole_blocks > pg->capacity) {
        lx_message("check: heap %u slab %p counts %u used + %zu free + %u in holes > %u carved",
                   h->id, (void *)pg, pg->used, free_count, pg->hole_blocks, pg->capacity);
        problems++;
    }
    return problems;
}

/* Each class's stash: as many blocks as counted, no more than it holds, each
 * the start of a block of that class that looks free (an encoded list end). */
LX_RARE static size_t stash_check(struct heap *h)
{
    size_t problems = 0;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        unsigned n = 0;
        for (struct block *x = h->stash[c]; x != NULL; n++) {
            struct page *pg = segmap_get((uintptr_t)x) == SEGMAP_NORMAL
                                  ? segment_page_of(segment_of(x), x)
                                  : NULL;
            if (n >= stash_cap(c) || pg == NULL || pg->kind != RUN_SLAB || pg->class_idx != c ||
                !block_looks_free(x)) {
                lx_message("check: heap %u class %u stash is corrupt at %p", h->id, c, (void *)x);
                return problems + 1;
            }
            struct block *next = block_next(delayed_link(x));
            x = list_end(next) ? NULL : next;
        }
        if (n != h->stash_n[c]) {
            lx_message("check: heap %u class %u stash holds %u blocks, counts %u", h->id, c, n,
                       (unsigned)h->stash_n[c]);
            problems++;
        }
    }
    return problems;
}

LX_RARE size_t heap_check(struct heap *h)
{
    size_t problems = 0;
    if (h == NULL || h == &lx_empty_heap)
        return 0;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        struct page_queue *q = &h->queues[c];
        struct page *prev = NULL;
        for (struct page *pg = q->head; pg != NULL; pg = pg->next) {
            if (pg->prev != prev || pg->kind != RUN_SLAB || pg->class_idx != c ||
                (pg->local_key & ~LX_KEY_HOLES) != (uintptr_t)h) {
                lx_message("check: heap %u class %u queue is corrupt at %p", h->id, c, (void *)pg);
                problems++;
                break;
            }
            problems += slab_check(h, pg);
            prev = pg;
        }
        if (q->tail != prev) {
            lx_message("check: heap %u class %u queue tail is wrong", h->id, c);
            problems++;
        }
        struct page *want = q->head != NULL ? q->head : &lx_empty_page;
        for (unsigned d = lx_classes[c].direct_lo; d <= lx_classes[c].direct_hi; d++) {
            struct page *e = atomic_load_explicit(&h->direct[d], memory_order_relaxed);
            if (e != want && e != &lx_empty_page) {
                lx_message("check: heap %u direct entry %u is stale", h->id, d);
                problems++;
            }
        }
    }
    problems += stash_check(h);
    struct page *prev = NULL;
    lx_lock(&h->full_lock); /* against heap_steal */
    for (struct page *pg = h->full; pg != NULL; pg = pg->next) {
        if (pg->prev != prev || pg->local_key != ((uintptr_t)h | LX_KEY_FULL) ||
            pg->kind != RUN_SLAB) {
            lx_message("check: heap %u full list holds %p wrongly", h->id, (void *)pg);
            problems++;
            break;
        }
        problems += slab_check(h, pg);
        prev = pg;
    }
    lx_unlock(&h->full_lock);
    return problems + medium_check(h);
}

LX_RARE size_t heaps_check_orphans(void)
{
    size_t problems = 0;
    lx_lock(&lx_heaps_lock);
    for (struct heap *o = lx_orphans; o != NULL; o = o->next_orphan) {
        if (o->owned) {
            lx_message("check: heap %u is on the orphan list but owned", o->id);
            problems++;
            continue;
        }
        problems += heap_check(o);
    }
    lx_unlock(&lx_heaps_lock);
    return problems;
}
