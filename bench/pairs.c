/* SPDX-License-Identifier: MIT */
/*
 * pairs: N malloc+free pairs of one size on one thread, for instruction
 * counting under callgrind.
 *
 *   pairs N size [warmup=1000]
 *
 * Running it for N and for 2N pairs and dividing the difference in executed
 * instructions by N gives the cost of one pair on the allocator's fast path,
 * with start-up and first-touch costs cancelled out. Each block gets one
 * volatile byte store so the compiler cannot drop the malloc/free pair; that
 * and the loop add about five instructions per pair, the same for every
 * allocator.
 */
#include "bench_common.h"

static void run(long long n, size_t size)
{
    for (long long i = 0; i < n; i++) {
        volatile unsigned char *p = malloc(size);
        if (p == NULL)
            bench_die("malloc failed");
        p[0] = 1;
        free((void *)p);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: pairs N size [warmup]");
    long long n = arg_int(argc, argv, 1, 0);
    size_t size = (size_t)arg_int(argc, argv, 2, 16);
    long long warm = arg_int(argc, argv, 3, 1000);
    run(warm, size);
    run(n, size);
    return 0;
}
