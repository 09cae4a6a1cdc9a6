/* Unit test of counting large runs in their heaps. A thread's large runs are
 * counted by its heap with plain increments, not in the process-wide atomics
 * (which 4 threads allocating buffers of 64-256 KiB all wrote), and lx_stats_get
 * sums the heaps: counts, bytes and live bytes stay exact, also when another
 * thread frees the runs. A heap publishes its live bytes when its large runs
 * grow or shrink by more than LX_STATS_LARGE_SLACK, so the peak sees a burst of
 * runs with no small slow path in between. */
#include <pthread.h>

#include "lxt.h"
#include "config.h"
#include "stats.h"

#define RUN (100 << 10) /* a large run: above 32 KiB, below the mmap threshold */
#define N 40            /* 4 MiB in all: past the slack */

static void *runs[N];

static void *free_all(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++)
        lx_free(runs[i]);
    return NULL;
}

int main(void)
{
    lx_free(lx_malloc(1)); /* this thread's heap */
    lx_stats_t s0;
    CHECK(lx_stats_get(&s0) == 0, "lx_stats_get");
    uint64_t global_allocs = atomic_load(&lx_gstats.large_alloc_count);
    uint64_t global_frees = atomic_load(&lx_gstats.large_free_count);

    for (int i = 0; i < N; i++) {
        runs[i] = lx_malloc(RUN);
        CHECK(runs[i] != NULL, "malloc");
        memset(runs[i], 0x5a, 64);
    }
    CHECK(atomic_load(&lx_gstats.large_alloc_count) == global_allocs,
          "a heap's large runs went to the process-wide counter");
    lx_stats_t s1;
    CHECK(lx_stats_get(&s1) == 0, "lx_stats_get");
    CHECK(s1.malloc_count - s0.malloc_count == N, "%llu allocations counted, not %d",
          s1.malloc_count - s0.malloc_count, N);
    CHECK(s1.live_bytes - s0.live_bytes >= (unsigned long long)N * RUN &&
              s1.live_bytes - s0.live_bytes < (unsigned long long)N * (RUN + 32768),
          "live bytes grew by %llu for %d runs of %d", s1.live_bytes - s0.live_bytes, N, RUN);
    /* Published on the way: the peak saw (nearly) all of them. */
    CHECK(s1.peak_live_bytes + LX_STATS_LARGE_SLACK >= s0.live_bytes + (unsigned long long)N * RUN,
          "peak %llu missed the runs (live %llu)", s1.peak_live_bytes, s1.live_bytes);

    /* Another thread frees them: its heap counts the frees; the sum is exact. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_all, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(atomic_load(&lx_gstats.large_free_count) == global_frees,
          "a heap's frees of large runs went to the process-wide counter");
    lx_stats_t s2;
    CHECK(lx_stats_get(&s2) == 0, "lx_stats_get");
    CHECK(s2.free_count - s1.free_count >= N, "%llu frees counted", s2.free_count - s1.free_count);
    CHECK(s2.live_bytes <= s0.live_bytes + 4096, "live bytes %llu after freeing all, %llu before",
          s2.live_bytes, s0.live_bytes);
    CHECK(lx_heap_check() == 0, "heap check");
    printf("large_stats: ok\n");
    return 0;
}
