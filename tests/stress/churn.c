/*
 * Thread churn: LXT_CHURN_THREADS threads (default 100000) are created and exit,
 * at most 8 at a time, within LXT_STRESS_SECONDS (default 10; the test stops
 * early when time is up). Each allocates blocks of mixed sizes, frees some, frees
 * blocks its predecessors left in a shared handoff array, leaves some there for
 * its successors, and exits with a few blocks still allocated-and-handed-off, so
 * exiting threads leave orphaned heaps with live slabs behind. Heaps must be
 * reused (their count stays near the number of threads alive at once), mapped
 * memory must not grow with the number of threads, and the heap must check clean.
 */
#include "stress.h"

#define INFLIGHT 8
#define NHAND 256

static _Atomic(struct sblk *) hand[NHAND];

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {id * 2654435761u + 7};
    struct sblk *mine[16];
    for (int i = 0; i < 16; i++) {
        size_t n = i == 15 && id % 64 == 0 ? lxt_range(&r, 40000, 300000)
                                           : lxt_range(&r, sizeof(struct sblk), 2000);
        mine[i] = T_malloc(n);
        CHECK(mine[i] != NULL, "malloc(%zu) returned NULL", n);
        sblk_fill(mine[i], n, (id << 8) | (uint64_t)i);
    }
    for (int i = 0; i < 16; i++) {
        if (i % 4 == 0) { /* leave it for a later thread */
            struct sblk *old = atomic_exchange(&hand[lxt_next(&r) % NHAND], mine[i]);
            if (old != NULL) {
                sblk_check(old, "handed-off block");
                T_free(old);
            }
        } else {
            sblk_check(mine[i], "own block");
            T_free(mine[i]);
        }
    }
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    long want = env_long("LXT_CHURN_THREADS", 100000);
    double secs = stress_seconds(10);
    double deadline = now_s() + secs;
    pthread_t t[INFLIGHT];
    long made = 0;
    lx_stats_t st0, st;
    int have_stats = stats_if_any(&st0) == 0;
    for (; made < want; made++) {
        if (made % 1024 == 0 && now_s() > deadline)
            break;
        if (made >= INFLIGHT)
            CHECK(pthread_join(t[made % INFLIGHT], NULL) == 0, "pthread_join failed");
        int rc = pthread_create(&t[made % INFLIGHT], NULL, worker, (void *)(uintptr_t)made);
        CHECK(rc == 0, "pthread_create #%ld failed: %s", made, strerror(rc));
    }
    for (long i = made > INFLIGHT ? made - INFLIGHT : 0; i < made; i++)
        CHECK(pthread_join(t[i % INFLIGHT], NULL) == 0, "pthread_join failed");
    for (unsigned i = 0; i < NHAND; i++) {
        struct sblk *b = atomic_exchange(&hand[i], NULL);
        if (b != NULL) {
            sblk_check(b, "handed-off block at the end");
            T_free(b);
        }
    }
    T_malloc_trim(0);
    size_t problems = heap_check_if_any();
    CHECK(problems == 0, "lx_heap_check found %zu problems", problems);
    if (have_stats && stats_if_any(&st) == 0) {
        CHECK(st.heap_count <= st0.heap_count + 4 * INFLIGHT,
              "%llu heaps for %ld threads, at most %d alive at once: orphans not reused",
              st.heap_count, made, INFLIGHT);
        CHECK(st.mapped_bytes <= st0.mapped_bytes + 64 * LXT_MIB,
              "mapped bytes grew from %llu to %llu over %ld threads", st0.mapped_bytes,
              st.mapped_bytes, made);
    }
    printf("%ld threads created and exited (%ld asked) in %.1f s\n", made, want,
           secs - (deadline - now_s()));
    return 0;
}
