/* The peak of live bytes stays true when one thread only allocates and another
 * only frees: the freeing thread's counts reach the process totals as it goes,
 * not only when it allocates (it never does here), so the peak is not the sum
 * of everything the producer ever allocated. */
#include <pthread.h>
#include <stdatomic.h>

#include "lxt.h"

#define BLOCKS 200000
#define RING 256

static _Atomic(void *) ring[RING];

static void *consumer(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < BLOCKS; i++) {
        void *p;
        while ((p = atomic_exchange(&ring[i % RING], NULL)) == NULL)
            sched_yield();
        lx_free(p);
    }
    return NULL;
}

int main(void)
{
    lx_free(lx_malloc(1));
    lx_stats_t s0;
    lx_stats_get(&s0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, consumer, NULL) == 0, "pthread_create");
    lxt_rng r = {7};
    for (unsigned i = 0; i < BLOCKS; i++) {
        void *p = lx_malloc(lxt_range(&r, 16, 8192)); /* many classes: many new slabs */
        CHECK(p != NULL, "malloc");
        while (atomic_load(&ring[i % RING]) != NULL)
            sched_yield();
        atomic_store(&ring[i % RING], p);
    }
    pthread_join(t, NULL);
    lx_stats_t s;
    lx_stats_get(&s);
    /* At most RING blocks were live at once; allow the counts of a few hundred
     * more blocks still in flight when a thread published its counts. */
    unsigned long long bound = s0.live_bytes + (4 * RING + 1024) * 8192ull;
    CHECK(s.peak_live_bytes <= bound, "peak live bytes %llu, at most %llu were live",
          s.peak_live_bytes, bound);
    CHECK(s.live_bytes <= s0.live_bytes, "live bytes %llu at the end, %llu at the start",
          s.live_bytes, s0.live_bytes);
    printf("peak_live: ok (peak %llu bytes)\n", s.peak_live_bytes);
    return 0;
}
