/* SPDX-License-Identifier: MIT */
/*
 * prof.c — the leak report (LXMALLOC_LEAKS=1) and the sampled heap profile
 * (LXMALLOC_PROFILE=FILE). Layer: utility beside alloc, which calls it from its
 * slow paths while LX_HOOK_PROF is set; depends on stack, lock, report and os.
 *
 * Three tables, all in mappings of their own (never in the heap they watch):
 * - sites: one record per distinct allocation stack (leak report), or per
 *   stack and block size (profile samples), interned in an open-addressing hash
 *   table under site_lock; records live in a bump arena and are never freed,
 *   and each is also pushed on an append-only registry that the reports walk
 *   without a lock. A site's counters are relaxed atomics.
 * - blocks: address -> (leak site, sample site, size) in PROF_SHARDS linearly
 *   probed tables, each under its own lock, grown by rehashing into a mapping
 *   twice as big; deletion shifts the following entries back (no tombstones).
 * - a counting filter of 64Ki words indexed by the address's hash, so a free
 *   of a block that was never sampled (nearly all of them, in profile mode)
 *   costs one load and no lock.
 * The table locks are leaves: nothing else is locked while one is held, and
 * site_lock and a shard lock are never held together. fork's prepare handler
 * takes site_lock, then the shards in index order. dump_lock only keeps two
 * threads from writing the profile files at once; it is held while frames are
 * named (dladdr takes the loader's lock), never with a table lock, and fork
 * leaves it alone (the child resets it).
 *
 * Recording runs the unwinder, which may allocate the first time it reads a
 * module's tables: prof_busy (per thread) makes such a nested allocation go
 * through unrecorded. Sampling follows a Poisson process over allocated bytes
 * (as tcmalloc does): each thread counts down an exponentially distributed
 * number of bytes with mean LXMALLOC_PROFILE_RATE, so a block of s bytes is
 * sampled with probability 1 - exp(-s/rate), and a reader divides by that.
 * The reports are written by profout.c, from the site list alone.
 */
#include "prof.h"

#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "lock.h"
#include "options.h"
#include "os.h"
#include "profout.h"
#include "report.h"
#include "stack.h"

#define PROF_SHARDS 16                          /* block tables, by address hash */
#define PROF_SHARD_MIN 1024                     /* first size of a block table, entries */
#define PROF_SITES_MIN 4096                     /* first size of the site table, slots */
#define PROF_ARENA_CHUNK ((size_t)256 << 10)    /* site records are carved from these */
#define PROF_FILTER_BITS 16
#define PROF_FILTER_COUNT ((size_t)1 << PROF_FILTER_BITS)

struct prof_entry {
    uintptr_t key;                 /* the block's address; 0: an empty slot */
    struct prof_site *leak_site;   /* NULL unless LXMALLOC_LEAKS */
    struct prof_site *sample_site; /* NULL unless the block was sampled */
    size_t size;                   /* requested bytes */
};

struct prof_shard {
    LX_CACHE_ALIGNED lx_lock_t lock;
    struct prof_entry *slots;      /* cap entries, a mapping; NULL until the first insert */
    size_t cap;                    /* a power of two, or 0 */
    size_t count;                  /* entries in use, at most cap / 2 */
};

LX_BSS_COLD static struct prof_shard prof_shards[PROF_SHARDS];

static lx_lock_t site_lock;
static struct prof_site **site_slots;            /* site_cap slots; under site_lock */
static size_t site_cap;
static size_t site_count;
static uint8_t *arena_next;                      /* bump arena of site records */
static uint8_t *arena_end;
static _Atomic(struct prof_site *) site_registry; /* every site, newest first */

static _Atomic uint32_t *prof_filter;  /* PROF_FILTER_COUNT counters, or NULL: look always */
static _Atomic uint64_t prof_dropped;  /* blocks not recorded: no memory for the tables */
static _Atomic uint64_t prof_seed;     /* sampling: seeds each thread's generator */
static _Atomic int prof_dump_requested; /* set by the signal handler */
static lx_lock_t dump_lock;            /* one dump at a time; never taken by fork */

static LX_TLS int prof_busy;           /* inside the profiler: allocations go unrecorded */
static LX_TLS bool prof_thread_ready;  /* countdown and generator initialised */
static LX_TLS int64_t prof_countdown;  /* bytes until the next sample */
static LX_TLS uint64_t prof_rng;       /* xorshift state */

/* ---- hashing and arithmetic ---------------------------------------------- */

LX_RARE static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

LX_RARE static uint64_t hash_frames(const uintptr_t *ip, unsigned n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (unsigned i = 0; i < n; i++)
        h = mix64(h ^ ip[i]) + i;
    return h;
}

/* Natural logarithm of x > 0 (no libm in the allocator): x = m 2^e with m near
 * 1, then ln m = 2 atanh((m-1)/(m+1)) by its series. */
LX_RARE static double prof_ln(double x)
{
    union {
        double d;
        uint64_t u;
    } v = {x};
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & (((uint64_t)1 << 52) - 1)) | ((uint64_t)1023 << 52);
    double m = v.d;
    if (m > 1.4142135623730951) {
        m /= 2;
        e++;
    }
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2 * sum + e * 0.6931471805599453;
}

/* ---- sampling ---------------------------------------------------------------- */

LX_RARE static uint64_t rng_next(void)
{
    uint64_t x = prof_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    prof_rng = x;
    return x;
}

/* An exponentially distributed number of bytes with mean profile_rate. */
LX_RARE static int64_t sample_interval(void)
{
    double u = ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0; /* in (0, 1) */
    double bytes = -prof_ln(u) * (double)lx_opt.profile_rate;
    if (bytes > 4e18)
        bytes = 4e18;
    return (int64_t)bytes + 1;
}

/* Does this allocation carry a sample? */
LX_RARE static bool sample_due(size_t size)
{
    if (lx_opt.profile_rate <= 1)
        return true;
    if (!prof_thread_ready) {
        uint64_t seed = atomic_fetch_add_explicit(&prof_seed, 0x9e3779b97f4a7c15ull,
                                                  memory_order_relaxed);
        prof_rng = mix64(seed) | 1;
        prof_countdown = sample_interval();
        prof_thread_ready = true;
    }
    int64_t s = size > (size_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)size;
    prof_countdown -= s;
    if (prof_countdown > 0)
        return false;
    /* Memoryless: the next point is as far from here as from anywhere. */
    prof_countdown = sample_interval();
    return true;
}

/* ---- sites ------------------------------------------------------------------ */

LX_RARE static void *arena_alloc_locked(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (arena_next == NULL || (size_t)(arena_end - arena_next) < size) {
        uint8_t *chunk = os_map(PROF_ARENA_CHUNK);
        if (chunk == NULL)
            return NULL;
        arena_next = chunk;
        arena_end = chunk + PROF_ARENA_CHUNK;
    }
    void *p = arena_next;
    arena_next += size;
    return p;
}

LX_RARE static bool site_grow_locked(void)
{
    size_t cap = site_cap == 0 ? PROF_SITES_MIN : site_cap * 2;
    struct prof_site **slots = os_map(cap * sizeof(*slots));
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < site_cap; i++) {
        struct prof_site *s = site_slots[i];
        if (s == NULL)
            continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    if (site_slots != NULL)
        (void)os_unmap(site_slots, site_cap * sizeof(*site_slots));
    site_slots = slots;
    site_cap = cap;
    return true;
}

LX_RARE static bool site_matches(const struct prof_site *s, uint64_t hash, const uintptr_t *ip,
                         unsigned n, bool sample, size_t size)
{
    if (s->hash != hash || s->count != n || s->sample != sample || s->size != size)
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (s->ip[i] != ip[i])
            return false;
    }
    return true;
}

/* The site of this stack (and, for samples, this size): found or created.
 * NULL if there is no memory for it. */
LX_RARE static struct prof_site *site_intern(const uintptr_t *ip, unsigned n, bool sample, size_t size)
{
    uint64_t stack_hash = hash_frames(ip, n);
    uint64_t hash = sample ? mix64(stack_hash ^ mix64(size + 1)) : stack_hash;
    lx_lock(&site_lock);
    if ((site_count + 1) * 2 > site_cap && !site_grow_locked()) {
        lx_unlock(&site_lock);
        return NULL;
    }
    size_t mask = site_cap - 1;
    size_t i = hash & mask;
    for (; site_slots[i] != NULL; i = (i + 1) & mask) {
        if (site_matches(site_slots[i], hash, ip, n, sample, size)) {
            struct prof_site *found = site_slots[i];
            lx_unlock(&site_lock);
            return found;
        }
    }
    struct prof_site *s = arena_alloc_locked(sizeof(*s));
    if (s != NULL) {
        s->hash = hash;
        s->stack_hash = stack_hash;
        s->size = sample ? size : 0;
        s->count = n;
        s->sample = sample;
        for (unsigned k = 0; k < n; k++)
            s->ip[k] = ip[k];
        site_slots[i] = s;
        site_count++;
        s->next_all = atomic_load_explicit(&site_registry, memory_order_relaxed);
        atomic_store_explicit(&site_registry, s, memory_order_release);
    }
    lx_unlock(&site_lock);
    return s;
}

LX_RARE static void site_add(struct prof_site *s, size_t size)
{
    if (s == NULL)
        return;
    atomic_fetch_add_explicit(&s->live_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->live_bytes, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->alloc_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->alloc_bytes, size, memory_order_relaxed);
}

LX_RARE static void site_sub(struct prof_site *s, size_t size)
{
    if (s == NULL)
        return;
    atomic_fetch_sub_explicit(&s->live_count, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s->live_bytes, size, memory_order_relaxed);
}

/* ---- the block tables --------------------------------------------------------- */

LX_RARE static struct prof_shard *shard_of(uint64_t h)
{
    return &prof_shards[h >> 60];
}

LX_RARE static _Atomic uint32_t *filter_slot(uint64_t h)
{
    return prof_filter != NULL ? &prof_filter[(h >> 20) & (PROF_FILTER_COUNT - 1)] : NULL;
}

LX_RARE static bool shard_grow_locked(struct prof_shard *sh)
{
    size_t cap = sh->cap == 0 ? PROF_SHARD_MIN : sh->cap * 2;
    struct prof_entry *slots = os_map(cap * sizeof(*slots));
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < sh->cap; i++) {
        if (sh->slots[i].key == 0)
            continue;
        size_t j = mix64(sh->slots[i].key) & (cap - 1);
        while (slots[j].key != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = sh->slots[i];
    }
    if (sh->slots != NULL)
        (void)os_unmap(sh->slots, sh->cap * sizeof(*sh->slots));
    sh->slots = slots;
    sh->cap = cap;
    return true;
}

/* Remove the entry in slot i, shifting back the entries after it that probed
 * past it, so that every entry stays reachable from its home slot. */
LX_RARE static void shard_delete_locked(struct prof_shard *sh, size_t i)
{
    size_t mask = sh->cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (sh->slots[j].key == 0)
            break;
        size_t home = mix64(sh->slots[j].key) & mask;
        /* j may fill the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            sh->slots[i] = sh->slots[j];
            i = j;
        }
    }
    sh->slots[i].key = 0;
    sh->count--;
}

/* Insert (or replace) the entry of e->key. A replaced entry is a block freed
 * without our seeing it; its counts are taken back. */
LX_RARE static bool map_insert(const struct prof_entry *e)
{
    uint64_t h = mix64(e->key);
    struct prof_shard *sh = shard_of(h);
    struct prof_entry old = {0, NULL, NULL, 0};
    lx_lock(&sh->lock);
    if ((sh->count + 1) * 2 > sh->cap && !shard_grow_locked(sh)) {
        lx_unlock(&sh->lock);
        return false;
    }
    size_t mask = sh->cap - 1;
    size_t i = h & mask;
    while (sh->slots[i].key != 0 && sh->slots[i].key != e->key)
        i = (i + 1) & mask;
    if (sh->slots[i].key == e->key) {
        old = sh->slots[i];
    } else {
        sh->count++;
        _Atomic uint32_t *f = filter_slot(h);
        if (f != NULL)
            atomic_fetch_add_explicit(f, 1, memory_order_relaxed);
    }
    sh->slots[i] = *e;
    lx_unlock(&sh->lock);
    if (old.key != 0) {
        site_sub(old.leak_site, old.size);
        site_sub(old.sample_site, old.size);
    }
    return true;
}

LX_RARE static bool map_remove(uintptr_t key, struct prof_entry *out)
{
    uint64_t h = mix64(key);
    _Atomic uint32_t *f = filter_slot(h);
    /* The block's insertion happened before its free (the program passed the
     * pointer on), so a zero here means it was never recorded. */
    if (f != NULL && atomic_load_explicit(f, memory_order_relaxed) == 0)
        return false;
    struct prof_shard *sh = shard_of(h);
    lx_lock(&sh->lock);
    if (sh->cap == 0) {
        lx_unlock(&sh->lock);
        return false;
    }
    size_t mask = sh->cap - 1;
    size_t i = h & mask;
    while (sh->slots[i].key != 0 && sh->slots[i].key != key)
        i = (i + 1) & mask;
    if (sh->slots[i].key == 0) {
        lx_unlock(&sh->lock);
        return false;
    }
    *out = sh->slots[i];
    shard_delete_locked(sh, i);
    if (f != NULL)
        atomic_fetch_sub_explicit(f, 1, memory_order_relaxed);
    lx_unlock(&sh->lock);
    return true;
}

/* ---- recording -------------------------------------------------------------- */

static void profile_dump(bool wait);

LX_RARE static bool profiling(void)
{
    return lx_opt.profile_file[0] != '\0';
}

/* A dump the signal asked for happens here, at the next allocation or free. */
LX_RARE static void poll_dump_request(void)
{
    if (LX_UNLIKELY(atomic_load_explicit(&prof_dump_requested, memory_order_relaxed)) &&
        atomic_exchange_explicit(&prof_dump_requested, 0, memory_order_relaxed))
        profile_dump(false);
}

LX_RARE void prof_alloc(void *p, size_t size)
{
    if (p == NULL || prof_busy)
        return;
    prof_busy = 1;
    poll_dump_request();
    bool sampled = profiling() && sample_due(size);
    if (lx_opt.leaks || sampled) {
        uintptr_t ip[PROF_FRAMES];
        unsigned n = stack_capture(ip, PROF_FRAMES, (uintptr_t)lx_tls_caller);
        struct prof_entry e = {(uintptr_t)p, NULL, NULL, size};
        if (lx_opt.leaks)
            e.leak_site = site_intern(ip, n, false, 0);
        if (sampled)
            e.sample_site = site_intern(ip, n, true, size);
        if ((lx_opt.leaks && e.leak_site == NULL) || (sampled && e.sample_site == NULL) ||
            !map_insert(&e)) {
            atomic_fetch_add_explicit(&prof_dropped, 1, memory_order_relaxed);
        } else {
            site_add(e.leak_site, size);
            site_add(e.sample_site, size);
        }
    }
    prof_busy = 0;
}

LX_RARE bool prof_take(void *p, struct prof_record *out)
{
    struct prof_entry e;
    if (p == NULL || !map_remove((uintptr_t)p, &e))
        return false;
    site_sub(e.leak_site, e.size);
    site_sub(e.sample_site, e.size);
    out->leak_site = e.leak_site;
    out->sample_site = e.sample_site;
    out->size = e.size;
    return true;
}

LX_RARE void prof_restore(void *p, const struct prof_record *rec)
{
    struct prof_entry e = {(uintptr_t)p, rec->leak_site, rec->sample_site, rec->size};
    if (!map_insert(&e))
        return;
    /* Back to the live counts; alloc counts were never taken off. */
    struct prof_site *sites[2] = {rec->leak_site, rec->sample_site};
    for (int i = 0; i < 2; i++) {
        if (sites[i] == NULL)
            continue;
        atomic_fetch_add_explicit(&sites[i]->live_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sites[i]->live_bytes, rec->size, memory_order_relaxed);
    }
}

LX_RARE void prof_free(void *p)
{
    if (p == NULL)
        return;
    if (!prof_busy && profiling()) {
        prof_busy = 1;
        poll_dump_request();
        prof_busy = 0;
    }
    struct prof_record rec;
    (void)prof_take(p, &rec);
}

/* Without `wait`, give up if another thread is writing the same files. */
LX_RARE static void profile_dump(bool wait)
{
    if (wait)
        lx_lock(&dump_lock);
    else if (!lx_trylock(&dump_lock))
        return;
    profout_profile();
    lx_unlock(&dump_lock);
}

LX_RARE struct prof_site *prof_sites(void)
{
    return atomic_load_explicit(&site_registry, memory_order_acquire);
}

LX_RARE uint64_t prof_dropped_count(void)
{
    return atomic_load_explicit(&prof_dropped, memory_order_relaxed);
}

/* ---- start, exit, fork ------------------------------------------------------- */

LX_RARE static void on_profile_signal(int sig)
{
    (void)sig;
    atomic_store_explicit(&prof_dump_requested, 1, memory_order_relaxed);
}

void prof_init(void)
{
    if (!lx_opt.leaks && !profiling())
        return;
    uint64_t seed;
    os_random(&seed, sizeof(seed));
    atomic_store_explicit(&prof_seed, seed, memory_order_relaxed);
    /* Without the filter every free looks in the table: slower, still right. */
    prof_filter = os_map(PROF_FILTER_COUNT * sizeof(*prof_filter));
}

void prof_start(void)
{
    if (!lx_opt.leaks && !profiling())
        return;
    prof_busy = 1;
    stack_preload();
    prof_busy = 0;
    if (profiling() && lx_opt.profile_signal != 0 &&
        !os_signal_handler(lx_opt.profile_signal, on_profile_signal))
        lx_message("cannot catch signal %d for LXMALLOC_PROFILE_SIGNAL", lx_opt.profile_signal);
}

void prof_at_exit(void)
{
    if (!lx_opt.leaks && !profiling())
        return;
    prof_busy = 1; /* whatever the reports allocate is not the program's */
    if (lx_opt.leaks)
        profout_leaks();
    if (profiling())
        profile_dump(true); /* after any dump in progress: the last word */
    prof_busy = 0;
}

void prof_fork_prepare(void)
{
    lx_lock(&site_lock);
    for (unsigned i = 0; i < PROF_SHARDS; i++)
        lx_lock(&prof_shards[i].lock);
}

void prof_fork_parent(void)
{
    for (unsigned i = PROF_SHARDS; i-- > 0;)
        lx_unlock(&prof_shards[i].lock);
    lx_unlock(&site_lock);
}

void prof_fork_child(void)
{
    for (unsigned i = 0; i < PROF_SHARDS; i++)
        lx_lock_reset(&prof_shards[i].lock);
    lx_lock_reset(&site_lock);
    /* A dump another thread was writing is lost with that thread. */
    lx_lock_reset(&dump_lock);
    atomic_store_explicit(&prof_dump_requested, 0, memory_order_relaxed);
}
