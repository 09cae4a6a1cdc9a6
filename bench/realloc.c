/* SPDX-License-Identifier: MIT */
/*
 * realloc: strings and vectors that grow by 1.5x up to several MiB.
 *
 *   realloc [rounds=16] [max_bytes=8M] [growers=8] [seed=1]
 *
 * Each round grows `growers` buffers side by side, half of them "strings"
 * (appending 1-128 bytes at a time) and half "vectors" (appending 1-16 eight-byte
 * elements at a time). A buffer that runs out of room is realloc'ed to 1.5x its
 * capacity, from 16 bytes until it reaches its target size, drawn between half
 * of max_bytes and max_bytes. The buffers grow interleaved, and every append
 * also replaces one of 256 small short-lived blocks, so a grown buffer usually
 * has neighbours and cannot always be extended in place. Measures in-place
 * growth, the cost of copying, and how large reallocs are handled (mremap or
 * copy) once the buffers pass the mmap threshold.
 */
#include "bench_common.h"

typedef struct {
    unsigned char *p;
    size_t len, cap, target;
    int vector;
} grower_t;

#define JUNK 256

int main(int argc, char **argv)
{
    long long rounds = arg_int(argc, argv, 1, 16);
    size_t max_bytes = (size_t)arg_int(argc, argv, 2, 8 << 20);
    size_t ngrow = (size_t)arg_int(argc, argv, 3, 8);
    rng_t rng;
    rng_seed(&rng, (uint64_t)arg_int(argc, argv, 4, 1));
    if (ngrow < 1 || max_bytes < 64)
        bench_die("growers must be positive and max_bytes at least 64");

    grower_t *g = xmalloc(ngrow * sizeof *g);
    void *junk[JUNK] = {0};
    size_t junk_at = 0;
    uint64_t sum = 0, reallocs = 0;

    for (long long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < ngrow; i++) {
            g[i].cap = 16;
            g[i].len = 0;
            g[i].p = xmalloc(g[i].cap);
            g[i].target = (size_t)rng_range(&rng, max_bytes / 2, max_bytes);
            g[i].vector = (int)(i & 1);
        }
        size_t active = ngrow;
        while (active > 0) {
            active = 0;
            for (size_t i = 0; i < ngrow; i++) {
                grower_t *b = &g[i];
                if (b->len >= b->target)
                    continue;
                active++;
                size_t add = b->vector ? 8 * (size_t)rng_range(&rng, 1, 16)
                                       : (size_t)rng_range(&rng, 1, 128);
                if (b->len + add > b->cap) {
                    size_t nc = b->cap + b->cap / 2;
                    if (nc < b->len + add)
                        nc = b->len + add;
                    b->p = xrealloc(b->p, nc);
                    b->cap = nc;
                    reallocs++;
                }
                memset(b->p + b->len, (int)(b->len & 0x7f), add);
                b->len += add;

                free(junk[junk_at]);
                size_t js = (size_t)rng_range(&rng, 32, 256);
                junk[junk_at] = xmalloc(js);
                memset(junk[junk_at], 1, js < 16 ? js : 16);
                junk_at = (junk_at + 1) % JUNK;
            }
        }
        for (size_t i = 0; i < ngrow; i++) {
            sum += g[i].p[g[i].len / 2] + g[i].len;
            free(g[i].p);
        }
    }
    for (size_t i = 0; i < JUNK; i++)
        free(junk[i]);
    free(g);
    printf("realloc rounds=%lld reallocs=%llu checksum=%llu\n", rounds,
           (unsigned long long)reallocs, (unsigned long long)sum);
    return 0;
}
