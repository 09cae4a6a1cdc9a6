/* SPDX-License-Identifier: MIT */
/*
 * replace: a full heap whose entries are replaced at random, as in a cache, a
 * pool of records or an in-memory table under updates.
 *
 *   replace [mib=128] [ops=8000000] [min=16] [max=128] [seed=1]
 *
 * First `mib` MiB of blocks of min-max bytes (uniform) are allocated and
 * written, so nearly every slab of every class is full. Then `ops` times a
 * random entry is read, freed, and replaced by a new block of a random size.
 * Frees land on full slabs all over the heap and every malloc needs a block
 * that such a free just returned: the path where a heap has no free block
 * ready, not the fast path. Prints ns per replacement.
 */
#include <time.h>

#include "bench_common.h"

typedef struct {
    unsigned char *p;
    uint32_t size;
} entry_t;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t mib = (size_t)arg_int(argc, argv, 1, 128);
    long long ops = arg_int(argc, argv, 2, 8000000);
    uint32_t lo = (uint32_t)arg_int(argc, argv, 3, 16);
    uint32_t hi = (uint32_t)arg_int(argc, argv, 4, 128);
    rng_t rng;
    rng_seed(&rng, (uint64_t)arg_int(argc, argv, 5, 1));
    if (lo < 1 || hi < lo)
        bench_die("sizes must satisfy 1 <= min <= max");

    size_t n = mib * 1048576 / ((lo + hi) / 2);
    entry_t *e = xmalloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++) {
        uint32_t sz = (uint32_t)rng_range(&rng, lo, hi);
        e[i].p = xmalloc(sz);
        memset(e[i].p, (int)(i & 0xff), sz);
        e[i].size = sz;
    }
    uint64_t sum = 0;
    double start = now_ns();
    for (long long k = 0; k < ops; k++) {
        size_t i = (size_t)(rng_next(&rng) % n);
        sum += e[i].p[0] + e[i].p[e[i].size - 1];
        free(e[i].p);
        uint32_t sz = (uint32_t)rng_range(&rng, lo, hi);
        e[i].p = xmalloc(sz);
        e[i].p[0] = (unsigned char)k;
        e[i].p[sz - 1] = (unsigned char)sz;
        e[i].size = sz;
    }
    double ns = (now_ns() - start) / (double)(ops > 0 ? ops : 1);
    for (size_t i = 0; i < n; i++) {
        sum += e[i].p[0];
        free(e[i].p);
    }
    free(e);
    printf("replace mib=%zu ops=%lld ns_per_op=%.1f checksum=%llu\n", mib, ops, ns,
           (unsigned long long)sum);
    return 0;
}
