/*
 * Thread churn: 2,000 short-lived threads (8 at a time) each allocate 64 blocks,
 * free most of them, realloc and free a few blocks left behind by earlier (now
 * dead) threads,
 * and hand the rest to the main thread when they exit; the main thread verifies
 * and frees those after the join, so blocks of dead threads are freed from other
 * threads, live and new. Then 256 threads alive at once allocate, meet at a
 * barrier, and each frees its neighbour's blocks. LXT_QUICK=1 (used under valgrind)
 * runs 64 threads in the first part and 32 in the second.
 */
#include <pthread.h>

#include "lxt.h"

#define WAVE 8
#define PER_THREAD 64
#define LEFT 6     /* blocks a thread leaves behind */
#define INHERIT 4  /* blocks of dead threads a thread frees */

struct blk {
    unsigned char *p;
    size_t n;
    uint64_t tag;
};

struct job {
    long id;
    struct blk inherit[INHERIT]; /* from dead threads, to free here */
    struct blk left[LEFT];       /* handed back to main */
};

static void *worker(void *arg)
{
    struct job *j = arg;
    lxt_rng r = {(uint64_t)j->id * 7919 + 1};
    struct blk b[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++) {
        b[i].n = lxt_size(&r, 256 * LXT_KIB);
        b[i].p = T_malloc(b[i].n);
        CHECK(b[i].p != NULL, "thread %ld: malloc(%zu) returned NULL", j->id, b[i].n);
        b[i].tag = ((uint64_t)j->id << 20) | (uint64_t)i;
        lxt_fill(b[i].p, b[i].n, b[i].tag);
    }
    for (int i = 0; i < INHERIT; i++) {
        struct blk *h = &j->inherit[i];
        if (h->p != NULL) {
            CHECK_PATTERN(h->p, h->n, h->tag, "block of a dead thread");
            if (i % 2) { /* realloc it first, then free it */
                size_t n = lxt_size(&r, 256 * LXT_KIB), keep = n < h->n ? n : h->n;
                unsigned char *q = T_realloc(h->p, n);
                CHECK(q != NULL, "realloc of a dead thread's block to %zu returned NULL", n);
                CHECK_PATTERN(q, keep, h->tag, "block of a dead thread after realloc");
                h->p = q;
            }
            T_free(h->p);
        }
    }
    for (int i = LEFT; i < PER_THREAD; i++) {
        CHECK_PATTERN(b[i].p, b[i].n, b[i].tag, "own block");
        T_free(b[i].p);
    }
    memcpy(j->left, b, sizeof j->left);
    return NULL;
}

#define CROWD 256
#define CROWD_BLOCKS 32

static pthread_barrier_t crowd_barrier;
static struct blk crowd[CROWD][CROWD_BLOCKS];
static long crowd_n = CROWD;

static void *crowd_worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    lxt_rng r = {(uint64_t)id + 31337};
    for (int i = 0; i < CROWD_BLOCKS; i++) {
        struct blk *b = &crowd[id][i];
        b->n = lxt_size(&r, 64 * LXT_KIB);
        b->p = T_malloc(b->n);
        CHECK(b->p != NULL, "malloc(%zu) returned NULL with %ld threads alive", b->n, crowd_n);
        b->tag = ((uint64_t)id << 32) | (uint64_t)i | (1ull << 60);
        lxt_fill(b->p, b->n, b->tag);
    }
    int rc = pthread_barrier_wait(&crowd_barrier);
    CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD, "pthread_barrier_wait failed");
    /* Free the blocks of the next thread, which is alive and doing the same. */
    long other = (id + 1) % crowd_n;
    for (int i = 0; i < CROWD_BLOCKS; i++) {
        struct blk *b = &crowd[other][i];
        CHECK_PATTERN(b->p, b->n, b->tag, "block of a live neighbour thread");
        T_free(b->p);
    }
    return NULL;
}

static void crowd_phase(void)
{
    static pthread_t t[CROWD];
    CHECK(pthread_barrier_init(&crowd_barrier, NULL, (unsigned)crowd_n) == 0,
          "pthread_barrier_init failed");
    for (long i = 0; i < crowd_n; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        CHECK(pthread_create(&t[i], &a, crowd_worker, (void *)(intptr_t)i) == 0,
              "pthread_create failed at thread %ld of %ld", i, crowd_n);
        pthread_attr_destroy(&a);
    }
    for (long i = 0; i < crowd_n; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join failed");
    pthread_barrier_destroy(&crowd_barrier);
}

int main(void)
{
    lxt_require_lxmalloc();
    long total = lxt_quick() ? 64 : 2000;
    if (lxt_quick())
        crowd_n = 32;

    /* Pool of blocks from dead threads waiting to be freed by later threads. */
    static struct blk pool[WAVE * LEFT];
    size_t npool = 0;
    static struct job jobs[WAVE];
    pthread_t t[WAVE];
    for (long base = 0; base < total; base += WAVE) {
        for (int w = 0; w < WAVE; w++) {
            memset(&jobs[w], 0, sizeof jobs[w]);
            jobs[w].id = base + w;
            for (int i = 0; i < INHERIT && npool > 0; i++)
                jobs[w].inherit[i] = pool[--npool];
            CHECK(pthread_create(&t[w], NULL, worker, &jobs[w]) == 0,
                  "pthread_create failed at thread %ld", base + w);
        }
        for (int w = 0; w < WAVE; w++)
            CHECK(pthread_join(t[w], NULL) == 0, "pthread_join failed");
        /* Main frees half of what the dead threads left; the rest goes to the pool. */
        for (int w = 0; w < WAVE; w++) {
            for (int i = 0; i < LEFT; i++) {
                struct blk *b = &jobs[w].left[i];
                CHECK_PATTERN(b->p, b->n, b->tag, "block left by a dead thread");
                if (i % 2 == 0 && npool < sizeof pool / sizeof pool[0])
                    pool[npool++] = *b;
                else
                    T_free(b->p);
            }
        }
    }
    while (npool > 0) {
        struct blk *b = &pool[--npool];
        CHECK_PATTERN(b->p, b->n, b->tag, "pooled block");
        T_free(b->p);
    }
    lxt_heap_check("after 2,000 threads");
    crowd_phase();
    lxt_heap_check("after 256 threads alive at once");
    return 0;
}
