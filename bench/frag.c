/* SPDX-License-Identifier: MIT */
/*
 * frag: fragmentation under shifting sizes and mixed lifetimes.
 *
 *   frag [pool_bytes=48M] [turnover_pct=100] [seed=1]
 *
 * Allocations alternate between short-lived and long-lived. A short-lived block
 * is freed 64 allocations later. A long-lived block joins a pool capped at
 * `pool_bytes` of requested size; when the pool is over the cap, random members
 * are freed until it fits, so long-lived blocks die at random, late, and the
 * survivors stay scattered among everything allocated after them.
 *
 * The size distribution moves over time: 15 phases with sizes uniform in
 * [lo, 4*lo], lo going 16, 32, ... 2048 and back down to 16. Each phase
 * allocates enough long-lived bytes to replace turnover_pct percent of the
 * pool. Live bytes therefore stay near pool_bytes throughout, while memory once
 * carved for one size must be reused for other sizes - or kept, which shows as
 * peak RSS well above peak live.
 *
 * Prints peak_live_bytes (requested bytes live at the worst moment, plus the
 * pool's own bookkeeping array) so that the runner can set peak RSS against it,
 * and rss_series: RSS and live bytes (KiB) sampled 16 times a phase, for a chart.
 */
#include "bench_common.h"

#define SHORT_RING 64
#define SAMPLES_PER_PHASE 16

/* Resident bytes of this process, from /proc/self/statm (0 if unreadable). */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lld %lld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * 4096;
}

typedef struct {
    void *p;
    size_t size;
} blk_t;

int main(int argc, char **argv)
{
    size_t pool_cap = (size_t)arg_int(argc, argv, 1, 48 << 20);
    long long turnover = arg_int(argc, argv, 2, 100);
    rng_t rng;
    rng_seed(&rng, (uint64_t)arg_int(argc, argv, 3, 1));
    if (pool_cap < 4096 || turnover < 1)
        bench_die("pool_bytes must be at least 4096 and turnover positive");

    /* The pool never holds more than pool_cap / 16 blocks (smallest size 16). */
    size_t pool_max = pool_cap / 16 + 1;
    blk_t *pool = xmalloc(pool_max * sizeof *pool);
    size_t pool_n = 0, pool_bytes = 0;
    blk_t ring[SHORT_RING] = {{0}};
    size_t ring_at = 0;
    size_t live = 0, peak = 0;
    uint64_t sum = 0, allocs = 0;
    /* RSS and live bytes, SAMPLES_PER_PHASE times a phase, for a chart. */
    enum { SAMPLES = 15 * SAMPLES_PER_PHASE + 1 };
    static long long sample_rss[SAMPLES], sample_live[SAMPLES];
    int nsamples = 0;

    static const int shifts[] = {0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 0};
    for (size_t ph = 0; ph < sizeof shifts / sizeof shifts[0]; ph++) {
        size_t lo = (size_t)16 << shifts[ph], hi = 4 * lo;
        /* Long-lived bytes to allocate this phase; every other block is long. */
        size_t budget = (size_t)((double)pool_cap * (double)turnover / 100.0);
        size_t long_bytes = 0, next_sample = 0;
        int is_long = 0;
        while (long_bytes < budget) {
            if (long_bytes >= next_sample && nsamples < SAMPLES) {
                sample_rss[nsamples] = rss_bytes();
                sample_live[nsamples++] = (long long)(live + pool_n * sizeof *pool);
                next_sample += budget / SAMPLES_PER_PHASE + 1;
            }
            size_t sz = (size_t)rng_range(&rng, lo, hi);
            unsigned char *p = xmalloc(sz);
            p[0] = (unsigned char)allocs;
            p[sz - 1] = (unsigned char)sz;
            allocs++;
            live += sz;
            if (is_long) {
                long_bytes += sz;
                pool[pool_n++] = (blk_t){p, sz};
                pool_bytes += sz;
                while (pool_bytes > pool_cap) {
                    size_t v = (size_t)(rng_next(&rng) % pool_n);
                    sum += ((unsigned char *)pool[v].p)[0];
                    free(pool[v].p);
                    pool_bytes -= pool[v].size;
                    live -= pool[v].size;
                    pool[v] = pool[--pool_n];
                }
            } else {
                blk_t *old = &ring[ring_at];
                if (old->p != NULL) {
                    sum += ((unsigned char *)old->p)[0];
                    free(old->p);
                    live -= old->size;
                }
                *old = (blk_t){p, sz};
                ring_at = (ring_at + 1) % SHORT_RING;
            }
            /* The pool's own array is live program data too. */
            size_t now = live + pool_n * sizeof *pool;
            if (now > peak)
                peak = now;
            is_long = !is_long;
        }
    }
    for (size_t i = 0; i < pool_n; i++)
        free(pool[i].p);
    for (size_t i = 0; i < SHORT_RING; i++)
        free(ring[i].p);
    free(pool);
    printf("frag allocs=%llu checksum=%llu peak_live_bytes=%zu\n",
           (unsigned long long)allocs, (unsigned long long)sum, peak);
    printf("rss_series=");
    for (int i = 0; i < nsamples; i++)
        printf("%s%lld:%lld", i ? "," : "", sample_rss[i] >> 10, sample_live[i] >> 10);
    printf("\n");
    return 0;
}
