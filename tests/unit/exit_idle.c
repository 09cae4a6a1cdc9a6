/* Memory of many exited threads goes back without malloc_trim: 32 threads each
 * allocate about 8 MiB in blocks of 16 B-4 KiB (most size classes) at once, free
 * them and exit; with no allocator call after that, the resident set must be
 * below a tenth of its peak. A heap that kept a slab per class (and its cache
 * of runs) for the thread that might adopt it would hold 2-3 MiB per exited
 * thread here. */
#include <pthread.h>

#include "lxt.h"

#define THREADS 32
#define BLOCKS 4000

static pthread_barrier_t peak, measured;

static void *worker(void *arg)
{
    lxt_rng r = {(uint64_t)(uintptr_t)arg * 7919 + 1};
    static __thread void *b[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        size_t sz = lxt_range(&r, 16, 4096);
        b[i] = lx_malloc(sz);
        CHECK(b[i] != NULL, "malloc");
        memset(b[i], 1, sz);
    }
    pthread_barrier_wait(&peak);
    pthread_barrier_wait(&measured); /* the peak is read before anyone frees */
    for (int i = 0; i < BLOCKS; i++)
        lx_free(b[i]);
    return NULL;
}

int main(void)
{
    lx_free(lx_malloc(1));
    pthread_t t[THREADS];
    pthread_barrier_init(&peak, NULL, THREADS + 1);
    pthread_barrier_init(&measured, NULL, THREADS + 1);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0, "thread");
    pthread_barrier_wait(&peak);
    size_t top = lxt_rss_bytes();
    pthread_barrier_wait(&measured);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    size_t after = lxt_rss_bytes();
    printf("exit_idle: peak RSS %zu MiB, after the exits %zu MiB\n", top >> 20, after >> 20);
    CHECK(top >= (size_t)THREADS * BLOCKS * 1024, "peak RSS %zu MiB is not the workload's",
          top >> 20);
    CHECK(after * 10 < top, "RSS %zu MiB after %d threads exited is not below a tenth of %zu MiB",
          after >> 20, THREADS, top >> 20);
    return 0;
}
