/* SPDX-License-Identifier: MIT */
/*
 * prodcons: producer -> consumer hand-off of heap blocks.
 *
 *   prodcons pairs [total_items=4000000] [queue=1024] [seed=1]
 *
 * `pairs` producer threads only allocate (16-1024 bytes, now and then up to
 * 8 KiB), fill a header and push the pointer into a bounded single-producer /
 * single-consumer ring; one consumer thread per ring only reads and frees.
 * Every free is therefore remote, and the producer's allocator-local caches are
 * drained continuously while the consumer's fill up: allocators must move
 * memory back to where it is allocated, or grow without bound.
 * A full or empty ring makes the waiting thread yield the CPU.
 */
#include "bench_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct {
    _Alignas(64) atomic_size_t head; /* next slot the consumer reads */
    _Alignas(64) atomic_size_t tail; /* next slot the producer writes */
    _Alignas(64) size_t cap;
    void **slots;
    long long items;
    uint64_t seed;
    uint64_t sum;
} ring_t;

/* Indices are published every BATCH items (or before waiting), and each side
 * rereads the other's index only when its cached copy says full or empty, so
 * the ring itself costs little next to the allocator. */
#define BATCH 32

static void *producer(void *arg)
{
    ring_t *q = arg;
    rng_t rng;
    rng_seed(&rng, q->seed);
    size_t tail = 0, head_seen = 0;
    for (long long k = 0; k <= q->items; k++) {
        unsigned char *p = NULL;
        if (k < q->items) {
            uint64_t r = rng_next(&rng);
            size_t sz = (r & 31) == 0 ? 1024 + (size_t)((r >> 8) % 7169)
                                      : 16 + (size_t)((r >> 8) % 1009);
            p = xmalloc(sz);
            memcpy(p, &sz, sizeof sz);
            p[sz - 1] = (unsigned char)k;
        } /* else: NULL tells the consumer to stop */
        while (tail - head_seen >= q->cap) {
            atomic_store_explicit(&q->tail, tail, memory_order_release);
            head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
            if (tail - head_seen >= q->cap)
                sched_yield();
        }
        q->slots[tail % q->cap] = p;
        tail++;
        if (tail % BATCH == 0 || p == NULL)
            atomic_store_explicit(&q->tail, tail, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    ring_t *q = arg;
    size_t head = 0, tail_seen = 0;
    uint64_t sum = 0;
    for (;;) {
        while (head == tail_seen) {
            atomic_store_explicit(&q->head, head, memory_order_release);
            tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (head == tail_seen)
                sched_yield();
        }
        unsigned char *p = q->slots[head % q->cap];
        head++;
        if (head % BATCH == 0)
            atomic_store_explicit(&q->head, head, memory_order_release);
        if (p == NULL)
            break;
        size_t sz;
        memcpy(&sz, p, sizeof sz);
        sum += sz + p[sz - 1];
        free(p);
    }
    q->sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        bench_die("usage: prodcons pairs [total_items] [queue] [seed]");
    size_t pairs = (size_t)arg_int(argc, argv, 1, 1);
    long long total = arg_int(argc, argv, 2, 4000000);
    size_t cap = (size_t)arg_int(argc, argv, 3, 1024);
    uint64_t seed = (uint64_t)arg_int(argc, argv, 4, 1);
    if (pairs < 1 || cap < 1)
        bench_die("pairs and queue must be positive");

    ring_t *rings = aligned_alloc(64, pairs * sizeof *rings);
    pthread_t *tids = xmalloc(2 * pairs * sizeof *tids);
    if (rings == NULL)
        bench_die("out of memory");
    for (size_t i = 0; i < pairs; i++) {
        atomic_init(&rings[i].head, 0);
        atomic_init(&rings[i].tail, 0);
        rings[i].cap = cap;
        rings[i].slots = xmalloc(cap * sizeof(void *));
        rings[i].items = total / (long long)pairs;
        rings[i].seed = seed * 7919u + i;
        rings[i].sum = 0;
    }
    for (size_t i = 0; i < pairs; i++) {
        if (pthread_create(&tids[2 * i], NULL, consumer, &rings[i]) != 0 ||
            pthread_create(&tids[2 * i + 1], NULL, producer, &rings[i]) != 0)
            bench_die("pthread_create failed");
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < 2 * pairs; i++)
        pthread_join(tids[i], NULL);
    for (size_t i = 0; i < pairs; i++) {
        sum += rings[i].sum;
        free(rings[i].slots);
    }
    free(rings);
    free(tids);
    printf("prodcons pairs=%zu items=%lld checksum=%llu\n", pairs,
           total / (long long)pairs * (long long)pairs, (unsigned long long)sum);
    return 0;
}
