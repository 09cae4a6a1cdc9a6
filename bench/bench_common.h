/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the benchmark workloads: a seeded PRNG, argv parsing and
 * allocation wrappers that abort loudly instead of returning NULL.
 *
 * Every workload uses only the standard allocation API so that LD_PRELOAD
 * decides which allocator is measured.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, good enough to pick sizes and slots. */
typedef struct {
    uint64_t s;
} rng_t;

static inline void rng_seed(rng_t *r, uint64_t seed)
{
    r->s = seed * 0x2545F4914F6CDD1Dull + 0x9E3779B97F4A7C15ull;
}

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi], both inclusive. */
static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

/* Roughly log-uniform in [lo, hi]: a power-of-two bucket first, then uniform
 * inside it, so small and huge sizes are picked about equally often per octave. */
static inline uint64_t rng_log_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    unsigned lo_bits = 0, hi_bits = 0;
    while ((2ull << lo_bits) <= lo)
        lo_bits++;
    while ((2ull << hi_bits) <= hi)
        hi_bits++;
    unsigned b = (unsigned)rng_range(r, lo_bits, hi_bits);
    uint64_t a = 1ull << b, z = (2ull << b) - 1;
    if (a < lo)
        a = lo;
    if (z > hi)
        z = hi;
    return rng_range(r, a, z);
}

static inline void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(2);
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "bench: malloc(%zu) failed\n", n);
        exit(3);
    }
    return p;
}

static inline void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (p == NULL) {
        fprintf(stderr, "bench: realloc(%zu) failed\n", n);
        exit(3);
    }
    return p;
}

/* Positional integer argument i (1-based), or def when absent. Accepts K/M/G
 * suffixes (powers of 1024) so sizes can be given as 8M. */
static inline long long arg_int(int argc, char **argv, int i, long long def)
{
    if (i >= argc)
        return def;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(argv[i], &end, 0);
    if (errno != 0 || end == argv[i])
        bench_die("bad numeric argument");
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0' || v < 0)
        bench_die("bad numeric argument");
    return v;
}

/* Touch one byte per 4 KiB page (and the last byte) so the kernel has to back
 * the block with real memory, as a program using it would. */
static inline void touch_pages(void *p, size_t n, unsigned char v)
{
    volatile unsigned char *c = (volatile unsigned char *)p;
    for (size_t i = 0; i < n; i += 4096)
        c[i] = v;
    if (n > 0)
        c[n - 1] = v;
}

#endif
