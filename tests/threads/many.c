/*
 * Thread churn: 2,000 short-lived threads (8 at a time) each allocate 64 blocks,
 * free most of them, free a few blocks left behind by earlier (now dead) threads,
 * and hand the rest to the main thread when they exit; the main thread verifies
 * and frees those after the join, so blocks of dead threads are freed from other
 * threads, live and new. LXT_QUICK=1 (used under valgrind) runs 200 threads.
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
        if (j->inherit[i].p != NULL) {
            CHECK_PATTERN(j->inherit[i].p, j->inherit[i].n, j->inherit[i].tag,
                          "block of a dead thread");
            T_free(j->inherit[i].p);
        }
    }
    for (int i = LEFT; i < PER_THREAD; i++) {
        CHECK_PATTERN(b[i].p, b[i].n, b[i].tag, "own block");
        T_free(b[i].p);
    }
    memcpy(j->left, b, sizeof j->left);
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    const char *q = getenv("LXT_QUICK");
    long total = (q != NULL && q[0] == '1') ? 200 : 2000;

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
    return 0;
}
