/*
 * Cross-thread frees racing the owner's exit: in each of 4 lanes, a short-lived
 * thread allocates 256 blocks, hands them to a long-lived freeing thread through
 * a lock-free slot as its last action, and exits, so its blocks are freed (and
 * some reallocated) while its heap is being detached and orphaned, and after the
 * next thread has adopted it. 300 such threads per lane. LXT_QUICK=1 (used under
 * valgrind) runs 30 per lane.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "lxt.h"

#define LANES 4
#define NBLK 256

struct lane;

struct batch {
    unsigned char *p[NBLK];
    size_t n[NBLK];
    uint64_t tag;
    struct lane *lane;
};

struct lane {
    _Atomic(struct batch *) slot;
    long id;
};

static struct lane lanes[LANES];
static long per_lane = 300;

static void *producer(void *arg)
{
    struct batch *b = arg;
    lxt_rng r = {b->tag};
    for (int i = 0; i < NBLK; i++) {
        b->n[i] = i % 64 == 0 ? lxt_range(&r, 40000, 300000) : lxt_range(&r, 1, 2048);
        b->p[i] = T_malloc(b->n[i]);
        CHECK(b->p[i] != NULL, "malloc(%zu) returned NULL", b->n[i]);
        lxt_fill(b->p[i], b->n[i] < 4096 ? b->n[i] : 4096, b->tag * NBLK + (uint64_t)i);
    }
    /* Hand the blocks over as the very last thing, then exit: the freer works on
     * them while this thread's heap is being detached. */
    struct batch *none = NULL;
    while (!atomic_compare_exchange_weak(&b->lane->slot, &none, b)) {
        none = NULL;
        sched_yield();
    }
    return NULL;
}

static void *freer(void *arg)
{
    struct lane *l = arg;
    lxt_rng r = {(uint64_t)l->id * 99 + 5};
    long got = 0;
    while (got < per_lane) {
        struct batch *b = atomic_exchange(&l->slot, NULL);
        if (b == NULL) {
            sched_yield();
            continue;
        }
        got++;
        for (int i = 0; i < NBLK; i++) {
            size_t checked = b->n[i] < 4096 ? b->n[i] : 4096;
            CHECK_PATTERN(b->p[i], checked, b->tag * NBLK + (uint64_t)i,
                          "block of a thread that is exiting");
            if (lxt_next(&r) % 8 == 0) {
                size_t n = lxt_range(&r, 1, 5000);
                unsigned char *q = T_realloc(b->p[i], n);
                CHECK(q != NULL, "realloc(.., %zu) returned NULL", n);
                CHECK_PATTERN(q, n < checked ? n : checked, b->tag * NBLK + (uint64_t)i,
                              "block of an exiting thread after realloc");
                b->p[i] = q;
            }
            T_free(b->p[i]);
        }
        T_free(b);
    }
    return NULL;
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    pthread_t f;
    CHECK(pthread_create(&f, NULL, freer, l) == 0, "pthread_create failed");
    for (long k = 0; k < per_lane; k++) {
        struct batch *b = T_malloc(sizeof *b);
        CHECK(b != NULL, "malloc returned NULL");
        b->tag = (uint64_t)(l->id * 100000 + k + 1);
        b->lane = l;
        pthread_t t;
        CHECK(pthread_create(&t, NULL, producer, b) == 0, "pthread_create failed");
        CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
    }
    CHECK(pthread_join(f, NULL) == 0, "pthread_join failed");
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    if (lxt_quick())
        per_lane = 30;
    pthread_t t[LANES];
    for (int i = 0; i < LANES; i++) {
        lanes[i].id = i;
        CHECK(pthread_create(&t[i], NULL, lane_main, &lanes[i]) == 0, "pthread_create failed");
    }
    for (int i = 0; i < LANES; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join failed");
    lxt_heap_check("after frees racing thread exits");
    return 0;
}
