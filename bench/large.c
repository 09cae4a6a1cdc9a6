/* SPDX-License-Identifier: MIT */
/*
 * large: big blocks, around and above the usual mmap threshold.
 *
 *   large [iters=300] [seed=1] [phases=7]
 *
 * Three phases of `iters` steps each (`phases` is a bit mask selecting them,
 * for looking at one alone); every block is touched (one write per
 * 4 KiB page) so the kernel must back it, as a real program would:
 *  1. sizes log-uniform in 64 KiB - 64 MiB, with up to 4 blocks live at once
 *     (the oldest freed first);
 *  2. a tight loop allocating 5-25 MiB, touching and freeing it at once - the
 *     pattern of a program that builds one big temporary buffer per request;
 *     an allocator that unmaps on every free pays page faults every time;
 *  3. page-aligned blocks from posix_memalign(4096), 64 KiB - 4 MiB, up to 8
 *     live; the alignment is checked.
 * Measures mmap/munmap traffic, page faults, and whether freed large memory is
 * cached for reuse (at the price of RSS) or handed back.
 */
#include "bench_common.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

int main(int argc, char **argv)
{
    long long iters = arg_int(argc, argv, 1, 300);
    rng_t rng;
    rng_seed(&rng, (uint64_t)arg_int(argc, argv, 2, 1));
    long long phases = arg_int(argc, argv, 3, 7);
    uint64_t sum = 0;

    /* Phase 1: mixed large sizes, a few live. */
    void *live[8] = {0};
    size_t at = 0;
    for (long long i = 0; i < iters && (phases & 1); i++) {
        size_t sz = (size_t)rng_log_range(&rng, 64 * KiB, 64 * MiB);
        free(live[at]);
        live[at] = xmalloc(sz);
        touch_pages(live[at], sz, (unsigned char)i);
        sum += ((unsigned char *)live[at])[sz / 2];
        at = (at + 1) % 4;
    }
    for (size_t k = 0; k < 8; k++) {
        free(live[k]);
        live[k] = NULL;
    }

    /* Phase 2: 5-25 MiB allocate, touch, free. */
    for (long long i = 0; i < iters && (phases & 2); i++) {
        size_t sz = (size_t)rng_range(&rng, 5 * MiB, 25 * MiB);
        unsigned char *p = xmalloc(sz);
        touch_pages(p, sz, (unsigned char)i);
        sum += p[sz - 1];
        free(p);
    }

    /* Phase 3: page-aligned blocks. */
    at = 0;
    for (long long i = 0; i < iters && (phases & 4); i++) {
        size_t sz = (size_t)rng_log_range(&rng, 64 * KiB, 4 * MiB);
        free(live[at]);
        live[at] = NULL;
        void *p = NULL;
        int rc = posix_memalign(&p, 4096, sz);
        if (rc != 0)
            bench_die("posix_memalign failed");
        if (((uintptr_t)p & 4095) != 0)
            bench_die("posix_memalign returned a misaligned block");
        touch_pages(p, sz, (unsigned char)i);
        sum += ((unsigned char *)p)[0];
        live[at] = p;
        at = (at + 1) % 8;
    }
    for (size_t k = 0; k < 8; k++)
        free(live[k]);

    printf("large iters=%lld checksum=%llu\n", iters, (unsigned long long)sum);
    return 0;
}
