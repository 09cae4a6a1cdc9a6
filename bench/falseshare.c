/* SPDX-License-Identifier: MIT */
/*
 * falseshare: the cache-thrash and cache-scratch patterns (after the tests that
 * came with the Hoard allocator).
 *
 *   falseshare thrash|scratch threads [total_iters=20000] [objsize=8] [writes=1000]
 *
 * thrash (active false sharing): every thread repeatedly allocates a small
 * object, writes each byte of it `writes` times and frees it. If the allocator
 * gives objects from one cache line to different threads, the line bounces
 * between cores on every write.
 *
 * scratch (passive false sharing): the main thread allocates one small object
 * per thread back to back (so they likely share cache lines) and hands object i
 * to thread i, which frees it and then runs the thrash loop. An allocator that
 * puts a freed block in the freeing thread's cache hands those shared lines
 * straight back to the threads, which then write them hard.
 *
 * The total iterations are divided among the threads.
 */
#include "bench_common.h"

#include <pthread.h>

typedef struct {
    void *handed;     /* scratch: block allocated by the main thread */
    long long iters;
    size_t objsize;
    long long writes;
    uint64_t sum;
} job_t;

static pthread_barrier_t start;

static void *worker(void *arg)
{
    job_t *j = arg;
    pthread_barrier_wait(&start);
    free(j->handed);
    uint64_t sum = 0;
    for (long long it = 0; it < j->iters; it++) {
        volatile unsigned char *p = xmalloc(j->objsize);
        for (size_t b = 0; b < j->objsize; b++)
            p[b] = 0;
        for (long long w = 0; w < j->writes; w++)
            for (size_t b = 0; b < j->objsize; b++)
                p[b] = (unsigned char)(p[b] + 1);
        sum += p[0];
        free((void *)p);
    }
    j->sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: falseshare thrash|scratch threads [total_iters] [objsize] [writes]");
    int scratch;
    if (strcmp(argv[1], "thrash") == 0)
        scratch = 0;
    else if (strcmp(argv[1], "scratch") == 0)
        scratch = 1;
    else
        bench_die("mode must be thrash or scratch");
    size_t nthreads = (size_t)arg_int(argc, argv, 2, 1);
    long long total = arg_int(argc, argv, 3, 20000);
    size_t objsize = (size_t)arg_int(argc, argv, 4, 8);
    long long writes = arg_int(argc, argv, 5, 1000);
    if (nthreads < 1 || objsize < 1)
        bench_die("threads and objsize must be positive");

    pthread_t *tids = xmalloc(nthreads * sizeof *tids);
    job_t *jobs = xmalloc(nthreads * sizeof *jobs);
    if (pthread_barrier_init(&start, NULL, (unsigned)nthreads) != 0)
        bench_die("pthread_barrier_init failed");
    for (size_t t = 0; t < nthreads; t++) {
        void *h = NULL;
        if (scratch) {
            h = xmalloc(objsize);
            memset(h, 0, objsize);
        }
        jobs[t] = (job_t){h, total / (long long)nthreads, objsize, writes, 0};
    }
    for (size_t t = 0; t < nthreads; t++)
        if (pthread_create(&tids[t], NULL, worker, &jobs[t]) != 0)
            bench_die("pthread_create failed");
    uint64_t sum = 0;
    for (size_t t = 0; t < nthreads; t++) {
        pthread_join(tids[t], NULL);
        sum += jobs[t].sum;
    }
    pthread_barrier_destroy(&start);
    free(tids);
    free(jobs);
    printf("falseshare mode=%s threads=%zu checksum=%llu\n", argv[1], nthreads,
           (unsigned long long)sum);
    return 0;
}
