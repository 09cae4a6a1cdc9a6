/* SPDX-License-Identifier: MIT */
/*
 * threads.c — blocks allocated on one thread and freed on another.
 *
 * Build from the top of the repository after `make`:
 *   cc -Iinclude examples/threads.c build/liblxmalloc_api.a -lpthread -o threads
 *
 * Each of NTHREADS threads allocates blocks of varied sizes, fills them with a
 * pattern and hands them to the next thread through a small queue; that thread
 * checks the pattern and frees the block. Every free is thus a remote free.
 */
#include <lxmalloc.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NTHREADS 4
#define PER_THREAD 50000
#define QUEUE_LEN 256

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    unsigned char *items[QUEUE_LEN];
    size_t sizes[QUEUE_LEN];
    unsigned head, count;
};

static struct queue queues[NTHREADS];
static unsigned long long bad_blocks[NTHREADS];

static void push(struct queue *q, unsigned char *p, size_t n)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == QUEUE_LEN)
        pthread_cond_wait(&q->not_full, &q->lock);
    unsigned tail = (q->head + q->count) % QUEUE_LEN;
    q->items[tail] = p;
    q->sizes[tail] = n;
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

static unsigned char *pop(struct queue *q, size_t *n)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    unsigned char *p = q->items[q->head];
    *n = q->sizes[q->head];
    q->head = (q->head + 1) % QUEUE_LEN;
    q->count--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return p;
}

/* Sizes from 8 bytes to about 64 KiB, mostly small, as real programs do. */
static size_t next_size(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    uint32_t r = *state >> 8;
    if (r % 16 == 0)
        return 4096 + r % 60000;
    return 8 + r % 512;
}

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    struct queue *out = &queues[(id + 1) % NTHREADS];
    struct queue *in = &queues[id];
    uint32_t rng = 12345u + id;

    for (int i = 0; i < PER_THREAD; i++) {
        size_t n = next_size(&rng);
        unsigned char *p = lx_malloc(n);
        if (p == NULL) {
            perror("lx_malloc");
            bad_blocks[id]++;
            continue;
        }
        memset(p, (int)(n & 0xff), n);
        push(out, p, n);

        size_t m;
        unsigned char *q = pop(in, &m);
        if (q[0] != (unsigned char)(m & 0xff) || q[m - 1] != (unsigned char)(m & 0xff))
            bad_blocks[id]++;
        lx_free(q);
    }
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS];
    for (unsigned i = 0; i < NTHREADS; i++) {
        pthread_mutex_init(&queues[i].lock, NULL);
        pthread_cond_init(&queues[i].not_empty, NULL);
        pthread_cond_init(&queues[i].not_full, NULL);
    }
    for (unsigned i = 0; i < NTHREADS; i++) {
        if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    unsigned long long bad = 0;
    for (unsigned i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        bad += bad_blocks[i];
    }

    lx_stats_t st;
    lx_stats_get(&st);
    printf("%d threads passed %d blocks each to their neighbour\n", NTHREADS, PER_THREAD);
    printf("allocations %llu, frees %llu, live bytes %llu, peak mapped %llu bytes\n",
           st.malloc_count, st.free_count, st.live_bytes, st.peak_mapped_bytes);
    printf("%s\n", bad == 0 ? "every block arrived intact" : "CORRUPTED BLOCKS SEEN");
    return bad == 0 ? 0 : 1;
}
