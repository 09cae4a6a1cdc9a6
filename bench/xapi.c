/* SPDX-License-Identifier: MIT */
/*
 * xapi.c — the extended API against plain malloc/free: allocate N objects of
 * SIZE bytes, touch each, then free them all, five ways:
 *
 *   glibc malloc/free      the C library's allocator (this program does not
 *                          replace malloc: it links liblxmalloc_api.a)
 *   lx_malloc/lx_free      lxmalloc's standard path
 *   lx_cache alloc/free    an object cache (constructed objects kept)
 *   lx_heap + lx_free      a first-class heap, each block freed
 *   lx_heap + destroy      a first-class heap, everything dropped at once
 *
 * Prints a small markdown table (best of RUNS, in ns per object for the
 * allocation and the release phase). Not part of bench/run.py, whose workloads
 * run under LD_PRELOAD with the standard names only: `make bench-xapi`.
 *
 *   xapi [N [SIZE [RUNS]]]     defaults: 1000000 48 5
 */
#include <lxmalloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { GLIBC, LX, CACHE, HEAP_FREE, HEAP_DESTROY, WAYS };
static const char *names[WAYS] = {"glibc malloc/free", "lx_malloc/lx_free",
                                  "lx_cache_alloc/lx_cache_free", "lx_heap_malloc + lx_free",
                                  "lx_heap_malloc + lx_heap_destroy"};

static void run(int way, void **v, size_t n, size_t size, double *alloc_s, double *free_s)
{
    lx_cache_t *c = way == CACHE ? lx_cache_create("bench", size, 0, NULL, NULL) : NULL;
    lx_heap_t *h = way == HEAP_FREE || way == HEAP_DESTROY ? lx_heap_new() : NULL;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        switch (way) {
        case GLIBC: v[i] = malloc(size); break;
        case LX: v[i] = lx_malloc(size); break;
        case CACHE: v[i] = lx_cache_alloc(c); break;
        default: v[i] = lx_heap_malloc(h, size); break;
        }
        if (v[i] == NULL) {
            fprintf(stderr, "xapi: out of memory\n");
            exit(1);
        }
        *(volatile char *)v[i] = (char)i;
    }
    double t1 = now();
    switch (way) {
    case GLIBC: for (size_t i = 0; i < n; i++) free(v[i]); break;
    case LX: for (size_t i = 0; i < n; i++) lx_free(v[i]); break;
    case CACHE: for (size_t i = 0; i < n; i++) lx_cache_free(c, v[i]); break;
    case HEAP_FREE: for (size_t i = 0; i < n; i++) lx_heap_free(h, v[i]); break;
    default: lx_heap_destroy(h); break;
    }
    double t2 = now();
    if (c != NULL)
        lx_cache_destroy(c);
    if (way == HEAP_FREE)
        lx_heap_destroy(h);
    *alloc_s = t1 - t0;
    *free_s = t2 - t1;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t size = argc > 2 ? strtoul(argv[2], NULL, 10) : 48;
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    void **v = malloc(n * sizeof *v);
    if (v == NULL || n == 0 || size == 0 || runs < 1)
        return 1;
    double best_a[WAYS], best_f[WAYS];
    for (int w = 0; w < WAYS; w++)
        best_a[w] = best_f[w] = 1e30;
    for (int r = 0; r < runs; r++) {
        for (int w = 0; w < WAYS; w++) { /* interleaved, as bench/run.py does */
            double a, f;
            run(w, v, n, size, &a, &f);
            if (a < best_a[w])
                best_a[w] = a;
            if (f < best_f[w])
                best_f[w] = f;
        }
    }
    printf("%zu objects of %zu bytes, best of %d runs (ns per object)\n\n", n, size, runs);
    printf("| way | allocate | free all | total |\n| --- | ---: | ---: | ---: |\n");
    for (int w = 0; w < WAYS; w++)
        printf("| %s | %.1f | %.1f | %.1f |\n", names[w], best_a[w] * 1e9 / (double)n,
               best_f[w] * 1e9 / (double)n, (best_a[w] + best_f[w]) * 1e9 / (double)n);
    free(v);
    return 0;
}
