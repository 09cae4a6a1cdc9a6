/*
 * Allocation at thread and process teardown: pthread key destructors and C11
 * thread-local cleanup run after the thread's own code and may allocate and free
 * (including blocks from other threads) while the allocator is tearing down the
 * thread's heap; an atexit handler and a destructor allocate after main returns.
 * Also pthread_exit from deep inside a thread that holds blocks. LXT_QUICK=1 (used
 * under valgrind) runs one round of threads instead of 8.
 */
#include <pthread.h>

#include "lxt.h"

#define NTHREADS 64
#define ROUNDS 8

static pthread_key_t key1, key2;
static void *volatile handoff[NTHREADS]; /* blocks freed by a later thread's destructor */

struct blk {
    unsigned char *p;
    size_t n;
    uint64_t tag;
};

static struct blk *make(size_t n, uint64_t tag)
{
    struct blk *b = T_malloc(sizeof *b);
    CHECK(b != NULL, "malloc returned NULL in a destructor");
    b->p = T_malloc(n);
    CHECK(b->p != NULL, "malloc(%zu) returned NULL in a destructor", n);
    b->n = n;
    b->tag = tag;
    lxt_fill(b->p, n, tag);
    return b;
}

static void drop(struct blk *b)
{
    CHECK_PATTERN(b->p, b->n, b->tag, "block freed in a destructor");
    T_free(b->p);
    T_free(b);
}

/* First destructor: frees its value, allocates a fresh one for key2 (which makes
 * the thread library run destructors again). */
static void dtor1(void *v)
{
    drop(v);
    struct blk *b = make(3000, 777);
    CHECK(pthread_setspecific(key2, b) == 0, "pthread_setspecific in a destructor failed");
    void *tmp[32];
    for (int i = 0; i < 32; i++) {
        tmp[i] = T_malloc((size_t)i * 100 + 1);
        CHECK(tmp[i] != NULL, "malloc in a destructor returned NULL");
    }
    for (int i = 0; i < 32; i++)
        T_free(tmp[i]);
}

static void dtor2(void *v)
{
    drop(v);
    void *p = T_calloc(10, 1000);
    CHECK(p != NULL, "calloc in a destructor returned NULL");
    p = T_realloc(p, 100000);
    CHECK(p != NULL, "realloc in a destructor returned NULL");
    T_free(p);
}

static volatile int really_exit = 1;

static void deep_exit(int depth, struct blk *b)
{
    void *p = T_malloc((size_t)depth * 50 + 1);
    CHECK(p != NULL, "malloc returned NULL");
    if (depth > 0)
        deep_exit(depth - 1, b);
    else if (really_exit)
        pthread_exit(b); /* leaves p of every level behind, and b for the joiner */
    T_free(p);
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    CHECK(pthread_setspecific(key1, make(100 + id * 10, id)) == 0, "pthread_setspecific failed");
    /* Free the block some earlier thread handed off (it may be dead by now). */
    void *h = handoff[(id + NTHREADS - 1) % NTHREADS];
    if (h != NULL) {
        handoff[(id + NTHREADS - 1) % NTHREADS] = NULL;
        drop(h);
    }
    handoff[id % NTHREADS] = make(500 + id, 1000 + id);
    lxt_rng r = {id};
    void *keep[64];
    for (int i = 0; i < 64; i++) {
        keep[i] = T_malloc(lxt_size(&r, 100000));
        CHECK(keep[i] != NULL, "malloc returned NULL");
    }
    for (int i = 0; i < 64; i += 2)
        T_free(keep[i]);
    if (id % 2)
        deep_exit(10, make(64, 5000 + id));
    return make(64, 5000 + id);
}

static struct blk *at_exit_blk;

static void at_exit_handler(void)
{
    drop(at_exit_blk);
    struct blk *b = make(12345, 9999);
    drop(b);
}

__attribute__((destructor)) static void late_destructor(void)
{
    void *p = T_malloc(4000);
    CHECK(p != NULL, "malloc in a destructor after main returned NULL");
    memset(p, 1, 4000);
    T_free(p);
}

int main(void)
{
    lxt_require_lxmalloc();
    CHECK(pthread_key_create(&key1, dtor1) == 0, "pthread_key_create failed");
    CHECK(pthread_key_create(&key2, dtor2) == 0, "pthread_key_create failed");
    at_exit_blk = make(777, 4242);
    CHECK(atexit(at_exit_handler) == 0, "atexit failed");

    int rounds = lxt_quick() ? 1 : ROUNDS;
    for (int round = 0; round < rounds; round++) {
        pthread_t t[NTHREADS];
        for (uintptr_t i = 0; i < NTHREADS; i++)
            CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + (uintptr_t)round * NTHREADS)) == 0,
                  "pthread_create failed");
        for (int i = 0; i < NTHREADS; i++) {
            void *ret = NULL;
            CHECK(pthread_join(t[i], &ret) == 0, "pthread_join failed");
            CHECK(ret != NULL, "thread returned no block");
            drop(ret);
        }
    }
    for (int i = 0; i < NTHREADS; i++)
        if (handoff[i] != NULL)
            drop(handoff[i]);
    lxt_heap_check("after threads with destructors");
    /* The main thread's own key values are not destroyed by exit(); that is fine. */
    return 0;
}
