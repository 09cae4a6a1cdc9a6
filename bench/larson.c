/* SPDX-License-Identifier: MIT */
/*
 * larson: a server simulation in the style of Larson and Krishnan's benchmark.
 *
 *   larson threads [total_ops=20000000] [slots=4000] [rounds=40] [seed=1]
 *
 * There are `threads` arrays of `slots` blocks (16-1024 bytes). The work runs in
 * rounds; every round starts `threads` fresh threads and thread i takes over
 * array (i + round) % threads, then repeatedly picks a random slot, frees the
 * block there and puts a new random-size block in its place. Because arrays
 * move to a different (and newly created) thread every round, most frees are of
 * blocks that another thread allocated, and that thread has already exited -
 * the pattern of a server whose worker threads hand connections and their
 * buffers to one another. The total work is fixed, divided among the threads,
 * so on a machine with enough cores the time should fall as threads rise.
 */
#include "bench_common.h"

#include <pthread.h>

typedef struct {
    unsigned char **slots;
    size_t nslots;
    long long ops;
    uint64_t seed;
    uint64_t sum;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    rng_t rng;
    rng_seed(&rng, j->seed);
    uint64_t sum = 0;
    for (long long k = 0; k < j->ops; k++) {
        uint64_t r = rng_next(&rng);
        size_t i = (size_t)(r % j->nslots);
        unsigned char *old = j->slots[i];
        sum += old[0];
        free(old);
        size_t sz = 16 + (size_t)((r >> 32) % (1024 - 16 + 1));
        unsigned char *p = xmalloc(sz);
        p[0] = (unsigned char)k;
        p[sz - 1] = (unsigned char)sz;
        j->slots[i] = p;
    }
    j->sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        bench_die("usage: larson threads [total_ops] [slots] [rounds] [seed]");
    size_t nthreads = (size_t)arg_int(argc, argv, 1, 1);
    long long total = arg_int(argc, argv, 2, 20000000);
    size_t nslots = (size_t)arg_int(argc, argv, 3, 4000);
    long long rounds = arg_int(argc, argv, 4, 40);
    uint64_t seed = (uint64_t)arg_int(argc, argv, 5, 1);
    if (nthreads < 1 || nslots < 1 || rounds < 1)
        bench_die("threads, slots and rounds must be positive");

    rng_t rng;
    rng_seed(&rng, seed);
    unsigned char ***arrays = xmalloc(nthreads * sizeof *arrays);
    for (size_t t = 0; t < nthreads; t++) {
        arrays[t] = xmalloc(nslots * sizeof **arrays);
        for (size_t i = 0; i < nslots; i++) {
            size_t sz = (size_t)rng_range(&rng, 16, 1024);
            arrays[t][i] = xmalloc(sz);
            arrays[t][i][0] = (unsigned char)i;
        }
    }

    pthread_t *tids = xmalloc(nthreads * sizeof *tids);
    job_t *jobs = xmalloc(nthreads * sizeof *jobs);
    long long per = total / (long long)nthreads / rounds;
    uint64_t sum = 0;
    for (long long r = 0; r < rounds; r++) {
        for (size_t t = 0; t < nthreads; t++) {
            jobs[t] = (job_t){arrays[(t + (size_t)r) % nthreads], nslots, per,
                              seed * 1000003u + (uint64_t)r * nthreads + t, 0};
            if (pthread_create(&tids[t], NULL, worker, &jobs[t]) != 0)
                bench_die("pthread_create failed");
        }
        for (size_t t = 0; t < nthreads; t++) {
            pthread_join(tids[t], NULL);
            sum += jobs[t].sum;
        }
    }

    for (size_t t = 0; t < nthreads; t++) {
        for (size_t i = 0; i < nslots; i++)
            free(arrays[t][i]);
        free(arrays[t]);
    }
    free(arrays);
    free(tids);
    free(jobs);
    printf("larson threads=%zu ops=%lld checksum=%llu\n", nthreads,
           per * rounds * (long long)nthreads, (unsigned long long)sum);
    return 0;
}
