/*
 * 64 threads on 2 CPUs for a bounded time (LXT_STRESS_SECONDS, default 10):
 * random sizes from 16 bytes to 2 MiB (mostly small), realloc, and cross-thread
 * frees through a shared exchange of 1024 atomic slots: a thread publishes a block
 * and frees whatever it displaced, so most blocks die on another thread than the
 * one that allocated them. Every block's pattern is checked before it is freed;
 * at the end the exchange is drained and the heap checker must find nothing.
 */
#include "stress.h"

#define NTHREADS 64
#define NLOCAL 64
#define NEXCH 1024

static _Atomic(struct sblk *) exch[NEXCH];
static double deadline;
static _Atomic unsigned long total_ops, remote_frees;

static size_t pick_size(lxt_rng *r)
{
    uint64_t k = lxt_next(r) % 1000;
    if (k < 700)
        return lxt_range(r, sizeof(struct sblk), 256);
    if (k < 960)
        return lxt_range(r, 257, 32 * LXT_KIB);
    if (k < 995)
        return lxt_range(r, 32 * LXT_KIB, 512 * LXT_KIB);
    return lxt_range(r, 512 * LXT_KIB, 2 * LXT_MIB);
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {0xabc0000 + id};
    struct sblk *local[NLOCAL] = {0};
    uint64_t tag = id << 40;
    unsigned long ops = 0, remote = 0;
    while ((ops & 255) != 0 || now_s() < deadline) {
        ops++;
        unsigned i = (unsigned)(lxt_next(&r) % NLOCAL);
        unsigned k = (unsigned)(lxt_next(&r) % 10);
        if (local[i] != NULL && k < 3) {
            sblk_check(local[i], "local block before free");
            T_free(local[i]);
            local[i] = NULL;
        } else if (local[i] != NULL && k < 5) {
            sblk_check(local[i], "local block before realloc");
            size_t n = pick_size(&r);
            struct sblk *q = T_realloc(local[i], n);
            CHECK(q != NULL, "realloc(%zu) returned NULL", n);
            sblk_fill(q, n, ++tag);
            local[i] = q;
        } else if (local[i] != NULL) {
            /* Publish; free the block it displaces (usually another thread's). */
            struct sblk *old = atomic_exchange(&exch[lxt_next(&r) % NEXCH], local[i]);
            local[i] = NULL;
            if (old != NULL) {
                sblk_check(old, "exchanged block before free");
                T_free(old);
                remote++;
            }
        } else {
            size_t n = pick_size(&r);
            struct sblk *b = k < 8 ? T_malloc(n) : T_calloc(1, n);
            CHECK(b != NULL, "allocation of %zu bytes returned NULL", n);
            sblk_fill(b, n, ++tag);
            local[i] = b;
        }
    }
    for (unsigned i = 0; i < NLOCAL; i++)
        if (local[i] != NULL) {
            sblk_check(local[i], "local block at exit");
            T_free(local[i]);
        }
    atomic_fetch_add(&total_ops, ops);
    atomic_fetch_add(&remote_frees, remote);
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    pin_cpus(2);
    double secs = stress_seconds(10);
    deadline = now_s() + secs;
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create failed");
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join failed");
    for (unsigned i = 0; i < NEXCH; i++) {
        struct sblk *b = atomic_exchange(&exch[i], NULL);
        if (b != NULL) {
            sblk_check(b, "exchanged block at the end");
            T_free(b);
        }
    }
    T_malloc_trim(0);
    size_t problems = heap_check_if_any();
    CHECK(problems == 0, "lx_heap_check found %zu problems", problems);
    printf("%d threads, %.0f s: %lu operations, %lu cross-thread frees\n", NTHREADS, secs,
           atomic_load(&total_ops), atomic_load(&remote_frees));
    return 0;
}
