/* SPDX-License-Identifier: MIT */
/*
 * server: a long-running server, its resident memory sampled over time.
 *
 *   server [threads=4] [requests=600000] [cache_bytes=48M] [seed=1]
 *
 * `threads` workers serve `requests` requests in all, in three load phases that
 * every worker enters together (a barrier between phases):
 *
 *   busy   40% of the requests. Each request allocates 2-12 buffers of 64 B to
 *          16 KiB (log-uniform; one request in 16 also 64-256 KiB), writes them
 *          and frees them when it is done. Sessions of 256 B-4 KiB go into a
 *          shared cache of `cache_bytes`.
 *   quiet  20%: requests with 1-4 buffers of 64 B-2 KiB, and the cache shrinks
 *          to a quarter: the working set falls, and memory should go back.
 *   busy2  40%: a different mix: buffers of 128 B-64 KiB, sessions of 32 B-1 KiB
 *          with one in eight of 8-32 KiB, the cache at its full size again.
 *
 * The cache has 16 shards, each with a lock and a byte budget; a session goes
 * into a random shard, and when the shard is over budget the least recently used
 * of four random entries is evicted (approximate LRU), so sessions die at random
 * ages, in whichever thread is inserting: most of them are freed by a thread
 * that did not allocate them. One request in four reads a random session (and
 * marks it used); one in eight grows or shrinks one with realloc.
 *
 * Every `requests / 256` requests the worker that reaches the mark reads the
 * process's RSS from /proc/self/statm, and the live bytes the workers account
 * for (requested sizes of request buffers and sessions). At the end it prints
 * one line: the peak RSS of those samples, the steady RSS (median of the busy2
 * samples), the RSS when the quiet phase ended (quiet_rss), the final RSS after
 * freeing everything, and the same for live bytes (peak_live_bytes is what the
 * runner sets peak RSS against).
 */
#include "bench_common.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#define SHARDS 16
#define SHARD_SLOTS 65536
#define SAMPLES_MAX 512
#define PHASES 3

enum { BUSY, QUIET, BUSY2 };

typedef struct {
    unsigned char *p;
    size_t size;
    uint64_t used; /* last use, in the shard's clock */
} entry_t;

typedef struct {
    pthread_mutex_t lock;
    entry_t *e;
    size_t n;
    size_t bytes;
    uint64_t clock;
} shard_t;

/* Each worker's account of live bytes, on a cache line of its own. A session
 * freed by another worker is taken off that worker's account, so one account
 * can go negative; the sum is right. */
typedef struct {
    _Atomic long long live;
    char pad[56];
} account_t;

typedef struct {
    int phase;
    long long rss;
    long long live;
} sample_t;

static shard_t shards[SHARDS];
static size_t shard_budget[PHASES];
static account_t *accounts;
static int nthreads;
static long long per_phase[PHASES];
static _Atomic long long served;
static long long sample_every;
static sample_t samples[SAMPLES_MAX];
static _Atomic int nsamples;
static _Atomic int cur_phase;
static pthread_barrier_t phase_barrier;
static long long quiet_rss, quiet_live;
static uint64_t seed0;

static long long rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        bench_die("cannot open /proc/self/statm");
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        bench_die("cannot read /proc/self/statm");
    buf[n] = '\0';
    long long size = 0, resident = 0;
    if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
        bench_die("bad /proc/self/statm");
    return resident * sysconf(_SC_PAGESIZE);
}

static long long live_bytes(void)
{
    long long sum = 0;
    for (int t = 0; t < nthreads; t++)
        sum += atomic_load_explicit(&accounts[t].live, memory_order_relaxed);
    return sum;
}

static void take_sample(void)
{
    int i = atomic_fetch_add(&nsamples, 1);
    if (i >= SAMPLES_MAX)
        return;
    samples[i] = (sample_t){atomic_load(&cur_phase), rss_bytes(), live_bytes()};
}

static void account(int t, long long delta)
{
    atomic_fetch_add_explicit(&accounts[t].live, delta, memory_order_relaxed);
}

/* Fill a block as a program would: all of it when small, every page when big. */
static void fill(unsigned char *p, size_t n, unsigned char v)
{
    if (n <= 4096)
        memset(p, v, n);
    else {
        memset(p, v, 256);
        touch_pages(p, n, v);
    }
}

static size_t session_size(rng_t *r, int phase)
{
    if (phase == BUSY2)
        return (rng_next(r) & 7) == 0 ? rng_log_range(r, 8192, 32768) : rng_log_range(r, 32, 1024);
    return rng_log_range(r, 256, 4096);
}

/* Evict the least recently used of four random entries; lock held. */
static void shard_evict_locked(shard_t *s, rng_t *r, int t)
{
    size_t victim = (size_t)(rng_next(r) % s->n);
    for (int k = 1; k < 4; k++) {
        size_t i = (size_t)(rng_next(r) % s->n);
        if (s->e[i].used < s->e[victim].used)
            victim = i;
    }
    entry_t *e = &s->e[victim];
    s->bytes -= e->size;
    account(t, -(long long)e->size);
    free(e->p);
    *e = s->e[--s->n];
}

static void cache_insert(rng_t *r, int t, int phase, uint64_t *sum)
{
    size_t size = session_size(r, phase);
    unsigned char *p = xmalloc(size);
    fill(p, size, (unsigned char)size);
    account(t, (long long)size);
    shard_t *s = &shards[rng_next(r) % SHARDS];
    pthread_mutex_lock(&s->lock);
    while (s->n > 0 && (s->bytes + size > shard_budget[phase] || s->n == SHARD_SLOTS))
        shard_evict_locked(s, r, t);
    s->e[s->n++] = (entry_t){p, size, ++s->clock};
    s->bytes += size;
    pthread_mutex_unlock(&s->lock);
    *sum += p[0];
}

static void cache_touch(rng_t *r, int t, int phase, uint64_t *sum)
{
    shard_t *s = &shards[rng_next(r) % SHARDS];
    bool resize = (rng_next(r) & 1) == 0;
    pthread_mutex_lock(&s->lock);
    if (s->n > 0) {
        entry_t *e = &s->e[rng_next(r) % s->n];
        e->used = ++s->clock;
        *sum += e->p[e->size - 1];
        if (resize) {
            size_t size = session_size(r, phase);
            e->p = xrealloc(e->p, size);
            e->p[size - 1] = (unsigned char)size;
            account(t, (long long)size - (long long)e->size);
            s->bytes = s->bytes - e->size + size;
            e->size = size;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static void serve_one(rng_t *r, int t, int phase, uint64_t *sum)
{
    unsigned char *bufs[13];
    size_t sizes[13];
    unsigned n = phase == QUIET ? (unsigned)rng_range(r, 1, 4) : (unsigned)rng_range(r, 2, 12);
    for (unsigned i = 0; i < n; i++) {
        size_t sz = phase == QUIET ? rng_log_range(r, 64, 2048)
                    : phase == BUSY ? rng_log_range(r, 64, 16384)
                                    : rng_log_range(r, 128, 65536);
        bufs[i] = xmalloc(sz);
        sizes[i] = sz;
        fill(bufs[i], sz, (unsigned char)i);
        account(t, (long long)sz);
    }
    if (phase == BUSY && (rng_next(r) & 15) == 0) {
        size_t sz = rng_log_range(r, 65536, 262144);
        bufs[n] = xmalloc(sz);
        sizes[n] = sz;
        fill(bufs[n], sz, 1);
        account(t, (long long)sz);
        n++;
    }
    /* A session is created or refreshed by most busy requests, fewer quiet ones. */
    if ((rng_next(r) & 3) != 0 && (phase != QUIET || (rng_next(r) & 3) == 0))
        cache_insert(r, t, phase, sum);
    if ((rng_next(r) & 3) == 0)
        cache_touch(r, t, phase, sum);
    for (unsigned i = n; i-- > 0;) {
        *sum += bufs[i][sizes[i] - 1];
        free(bufs[i]);
        account(t, -(long long)sizes[i]);
    }
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    rng_t r;
    rng_seed(&r, seed0 * 1000003u + (uint64_t)t);
    uint64_t sum = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        long long mine = per_phase[phase] / nthreads + (t < per_phase[phase] % nthreads);
        for (long long k = 0; k < mine; k++) {
            serve_one(&r, t, phase, &sum);
            long long done = atomic_fetch_add_explicit(&served, 1, memory_order_relaxed) + 1;
            if (done % sample_every == 0)
                take_sample();
        }
        if (pthread_barrier_wait(&phase_barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
            if (phase == QUIET) {
                quiet_rss = rss_bytes();
                quiet_live = live_bytes();
            }
            atomic_store(&cur_phase, phase + 1);
        }
        pthread_barrier_wait(&phase_barrier);
    }
    return (void *)(uintptr_t)sum;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    nthreads = (int)arg_int(argc, argv, 1, 4);
    long long requests = arg_int(argc, argv, 2, 600000);
    size_t cache = (size_t)arg_int(argc, argv, 3, 48 << 20);
    seed0 = (uint64_t)arg_int(argc, argv, 4, 1);
    if (nthreads < 1 || nthreads > 256 || requests < 1000 || cache < (1 << 20))
        bench_die("usage: server [threads 1-256] [requests >= 1000] [cache_bytes >= 1M] [seed]");

    per_phase[BUSY] = requests * 4 / 10;
    per_phase[QUIET] = requests * 2 / 10;
    per_phase[BUSY2] = requests - per_phase[BUSY] - per_phase[QUIET];
    sample_every = requests / 256 > 0 ? requests / 256 : 1;
    shard_budget[BUSY] = shard_budget[BUSY2] = cache / SHARDS;
    shard_budget[QUIET] = cache / 4 / SHARDS;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&shards[i].lock, NULL);
        shards[i].e = xmalloc(SHARD_SLOTS * sizeof(entry_t));
    }
    accounts = xmalloc((size_t)nthreads * sizeof *accounts);
    for (int t = 0; t < nthreads; t++)
        atomic_init(&accounts[t].live, 0);
    pthread_barrier_init(&phase_barrier, NULL, (unsigned)nthreads);

    pthread_t *tids = xmalloc((size_t)nthreads * sizeof *tids);
    for (int t = 0; t < nthreads; t++) {
        if (pthread_create(&tids[t], NULL, worker, (void *)(intptr_t)t) != 0)
            bench_die("pthread_create failed");
    }
    uint64_t sum = 0;
    for (int t = 0; t < nthreads; t++) {
        void *res;
        pthread_join(tids[t], &res);
        sum += (uint64_t)(uintptr_t)res;
    }

    int ns = atomic_load(&nsamples);
    if (ns > SAMPLES_MAX)
        ns = SAMPLES_MAX;
    long long peak_rss = 0, peak_live = 0;
    long long steady[SAMPLES_MAX], steady_live[SAMPLES_MAX];
    int nsteady = 0;
    for (int i = 0; i < ns; i++) {
        if (samples[i].rss > peak_rss)
            peak_rss = samples[i].rss;
        if (samples[i].live > peak_live)
            peak_live = samples[i].live;
        if (samples[i].phase == BUSY2) {
            steady[nsteady] = samples[i].rss;
            steady_live[nsteady++] = samples[i].live;
        }
    }
    long long steady_rss = 0, steady_lv = 0;
    if (nsteady > 0) {
        qsort(steady, (size_t)nsteady, sizeof steady[0], cmp_ll);
        qsort(steady_live, (size_t)nsteady, sizeof steady_live[0], cmp_ll);
        steady_rss = steady[nsteady / 2];
        steady_lv = steady_live[nsteady / 2];
    }
    for (int i = 0; i < SHARDS; i++) {
        for (size_t k = 0; k < shards[i].n; k++)
            free(shards[i].e[k].p);
        free(shards[i].e);
    }
    free(accounts);
    free(tids);
    printf("server threads=%d requests=%lld samples=%d checksum=%llu peak_rss_bytes=%lld "
           "steady_rss_bytes=%lld quiet_rss_bytes=%lld final_rss_bytes=%lld "
           "peak_live_bytes=%lld steady_live_bytes=%lld quiet_live_bytes=%lld\n",
           nthreads, requests, ns, (unsigned long long)sum, peak_rss, steady_rss, quiet_rss,
           rss_bytes(), peak_live, steady_lv, quiet_live);
    /* The samples themselves, in KiB, for a chart of RSS over the run. */
    printf("rss_series=");
    for (int i = 0; i < ns; i++)
        printf("%s%lld:%lld", i ? "," : "", samples[i].rss >> 10, samples[i].live >> 10);
    printf("\n");
    return 0;
}
