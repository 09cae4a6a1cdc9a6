/*
 * Cross-thread frees: 4 producer threads allocate blocks (malloc, calloc or
 * aligned_alloc; mostly small, some large page runs and some huge mappings), fill them with a pattern naming the producer and a
 * sequence number, and push them through a mutex-protected bounded queue; 4
 * consumer threads pop them, verify the pattern, sometimes realloc them, and free
 * them. A second phase passes blocks through a lock-free single-producer/
 * single-consumer ring per pair. LXT_QUICK=1 (used under valgrind) runs fewer blocks.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "lxt.h"

#define PAIRS 4
#define QCAP 1024

struct msg {
    unsigned char *p;
    size_t n;
    uint64_t tag;
};

/* Mostly small blocks, 1 in 64 a large one and 1 in 256 a huge one. */
static size_t msg_size(lxt_rng *r)
{
    uint64_t k = lxt_next(r) % 256;
    if (k == 0)
        return lxt_range(r, 1200 * LXT_KIB, 3 * LXT_MIB);
    if (k < 4)
        return lxt_range(r, 100 * LXT_KIB, 900 * LXT_KIB);
    return lxt_size(r, 64 * LXT_KIB);
}

/* The pattern covers the first 64 KiB, and the last byte of bigger blocks (keeps
 * big blocks cheap). */
static void msg_fill(struct msg *m)
{
    lxt_fill(m->p, m->n < 65536 ? m->n : 65536, m->tag);
    if (m->n > 65536)
        m->p[m->n - 1] = (unsigned char)(m->tag * 7 + 1);
}

static void msg_check(const struct msg *m, size_t n, const char *what)
{
    size_t keep = n < m->n ? n : m->n;
    CHECK_PATTERN(m->p, keep < 65536 ? keep : 65536, m->tag, what);
    if (n >= m->n && m->n > 65536)
        CHECK(m->p[m->n - 1] == (unsigned char)(m->tag * 7 + 1),
              "%s: last byte of a %zu-byte block corrupted", what, m->n);
}

static long per_producer = 20000;

/* Phase 1: one shared bounded queue. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    struct msg q[QCAP];
    size_t head, count;
    int producers_left;
} Q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0}}, 0,
       0, PAIRS};

static unsigned char *produce(lxt_rng *r, size_t n)
{
    unsigned k = (unsigned)(lxt_next(r) % 8);
    unsigned char *p;
    if (k < 5) {
        p = T_malloc(n);
    } else if (k < 7) {
        p = T_calloc(n, 1);
    } else {
        size_t a = (size_t)64 << (lxt_next(r) % 6);
        p = T_aligned_alloc(a, n);
        CHECK(p == NULL || lxt_aligned(p, a), "aligned_alloc(%zu) = %p misaligned", a, (void *)p);
    }
    CHECK(p != NULL, "allocation of %zu bytes returned NULL", n);
    return p;
}

static void consume(lxt_rng *r, struct msg m)
{
    msg_check(&m, m.n, "block received from another thread");
    if (lxt_next(r) % 4 == 0) {
        size_t n = msg_size(r);
        unsigned char *q = T_realloc(m.p, n);
        CHECK(q != NULL, "realloc of a foreign block to %zu returned NULL", n);
        m.p = q;
        msg_check(&m, n, "foreign block after realloc");
        memset(q, 0x3C, n < 65536 ? n : 65536);
    }
    T_free(m.p);
}

static void *producer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {500 + id};
    for (long i = 0; i < per_producer; i++) {
        struct msg m;
        m.n = msg_size(&r);
        m.p = produce(&r, m.n);
        m.tag = (id << 40) | (uint64_t)i;
        msg_fill(&m);
        pthread_mutex_lock(&Q.mu);
        while (Q.count == QCAP)
            pthread_cond_wait(&Q.not_full, &Q.mu);
        Q.q[(Q.head + Q.count) % QCAP] = m;
        Q.count++;
        pthread_cond_signal(&Q.not_empty);
        pthread_mutex_unlock(&Q.mu);
    }
    pthread_mutex_lock(&Q.mu);
    Q.producers_left--;
    pthread_cond_broadcast(&Q.not_empty);
    pthread_mutex_unlock(&Q.mu);
    return NULL;
}

static void *consumer(void *arg)
{
    lxt_rng r = {900 + (uintptr_t)arg};
    for (;;) {
        pthread_mutex_lock(&Q.mu);
        while (Q.count == 0 && Q.producers_left > 0)
            pthread_cond_wait(&Q.not_empty, &Q.mu);
        if (Q.count == 0) {
            pthread_mutex_unlock(&Q.mu);
            return NULL;
        }
        struct msg m = Q.q[Q.head];
        Q.head = (Q.head + 1) % QCAP;
        Q.count--;
        pthread_cond_signal(&Q.not_full);
        pthread_mutex_unlock(&Q.mu);
        consume(&r, m);
    }
}

/* Phase 2: lock-free single-producer/single-consumer rings, one per pair. */
#define RCAP 256
struct ring {
    _Atomic size_t head, tail;
    struct msg m[RCAP];
};
static struct ring rings[PAIRS];

static void *spsc_producer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    struct ring *rg = &rings[id];
    lxt_rng r = {700 + id};
    for (long i = 0; i <= per_producer; i++) {
        struct msg m = {NULL, 0, 0};
        if (i < per_producer) { /* the last message (p == NULL) ends the stream */
            m.n = msg_size(&r);
            m.p = produce(&r, m.n);
            m.tag = ((id + 8) << 40) | (uint64_t)i;
            msg_fill(&m);
        }
        size_t t = atomic_load_explicit(&rg->tail, memory_order_relaxed);
        while (t - atomic_load_explicit(&rg->head, memory_order_acquire) == RCAP)
            sched_yield();
        rg->m[t % RCAP] = m;
        atomic_store_explicit(&rg->tail, t + 1, memory_order_release);
    }
    return NULL;
}

static void *spsc_consumer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    struct ring *rg = &rings[id];
    lxt_rng r = {800 + id};
    for (;;) {
        size_t h = atomic_load_explicit(&rg->head, memory_order_relaxed);
        while (atomic_load_explicit(&rg->tail, memory_order_acquire) == h)
            sched_yield();
        struct msg m = rg->m[h % RCAP];
        atomic_store_explicit(&rg->head, h + 1, memory_order_release);
        if (m.p == NULL)
            return NULL;
        consume(&r, m);
    }
}

static void run(void *(*prod)(void *), void *(*cons)(void *))
{
    pthread_t p[PAIRS], c[PAIRS];
    for (uintptr_t i = 0; i < PAIRS; i++) {
        CHECK(pthread_create(&p[i], NULL, prod, (void *)i) == 0, "pthread_create failed");
        CHECK(pthread_create(&c[i], NULL, cons, (void *)i) == 0, "pthread_create failed");
    }
    for (int i = 0; i < PAIRS; i++) {
        CHECK(pthread_join(p[i], NULL) == 0, "pthread_join failed");
        CHECK(pthread_join(c[i], NULL) == 0, "pthread_join failed");
    }
}

int main(void)
{
    lxt_require_lxmalloc();
    if (lxt_quick())
        per_producer = 1500;
    run(producer, consumer);
    CHECK(Q.count == 0, "%zu blocks left in the queue", Q.count);
    lxt_heap_check("after the queue phase");
    run(spsc_producer, spsc_consumer);
    lxt_heap_check("after the ring phase");
    return 0;
}
