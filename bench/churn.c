/* SPDX-License-Identifier: MIT */
/*
 * churn: single-threaded churn of small objects (8-512 bytes).
 *
 *   churn lifo|fifo [allocs=20000000] [window=20000] [seed=1]
 *
 * Live objects sit in a deque of at most `window` entries. The program works in
 * bursts: a burst either allocates 1-64 objects or frees 1-64 objects, the
 * direction drawn so the deque hovers around half full. In lifo mode frees take
 * the newest objects (stack discipline: temporaries, recursion); in fifo mode
 * they take the oldest (queues, caches, request buffers), which makes an
 * allocator reuse memory freed long ago rather than just now.
 */
#include "bench_common.h"

typedef struct {
    unsigned char *p;
    uint32_t size;
} obj_t;

int main(int argc, char **argv)
{
    if (argc < 2)
        bench_die("usage: churn lifo|fifo [allocs] [window] [seed]");
    int lifo;
    if (strcmp(argv[1], "lifo") == 0)
        lifo = 1;
    else if (strcmp(argv[1], "fifo") == 0)
        lifo = 0;
    else
        bench_die("mode must be lifo or fifo");
    long long allocs = arg_int(argc, argv, 2, 20000000);
    size_t window = (size_t)arg_int(argc, argv, 3, 20000);
    rng_t rng;
    rng_seed(&rng, (uint64_t)arg_int(argc, argv, 4, 1));
    if (window < 2)
        bench_die("window must be at least 2");

    obj_t *ring = xmalloc(window * sizeof *ring);
    size_t head = 0, count = 0; /* live objects are ring[head .. head+count) */
    uint64_t sum = 0;
    long long done = 0;

    while (done < allocs) {
        uint64_t r = rng_next(&rng);
        size_t burst = 1 + (size_t)(r & 63);
        /* Allocate with probability (window - count) / window. */
        int grow = ((r >> 8) % window) >= count;
        if (grow) {
            for (size_t i = 0; i < burst && count < window && done < allocs; i++) {
                uint32_t sz = (uint32_t)rng_range(&rng, 8, 512);
                unsigned char *p = xmalloc(sz);
                p[0] = (unsigned char)done;
                p[sz - 1] = (unsigned char)sz;
                ring[(head + count) % window] = (obj_t){p, sz};
                count++;
                done++;
            }
        } else {
            for (size_t i = 0; i < burst && count > 0; i++) {
                obj_t o;
                if (lifo) {
                    o = ring[(head + count - 1) % window];
                } else {
                    o = ring[head];
                    head = (head + 1) % window;
                }
                count--;
                sum += o.p[0] + o.p[o.size - 1];
                free(o.p);
            }
        }
    }
    while (count > 0) {
        obj_t o = ring[head];
        head = (head + 1) % window;
        count--;
        sum += o.p[0];
        free(o.p);
    }
    free(ring);
    printf("churn mode=%s allocs=%lld checksum=%llu\n", argv[1], allocs,
           (unsigned long long)sum);
    return 0;
}
