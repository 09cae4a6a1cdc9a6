/* SPDX-License-Identifier: MIT */
/*
 * pairs: N malloc+free pairs of one size on one thread, for instruction
 * counting under callgrind.
 *
 *   pairs N size [warmup=1000] [baseline=0]
 *
 * Running it for N and for 2N pairs and dividing the difference in executed
 * instructions by N gives the cost of one pair on the allocator's fast path,
 * with start-up and first-touch costs cancelled out. Each block gets one
 * volatile byte store, and malloc and free are called through volatile
 * function pointers, so the compiler can neither drop nor merge the pair.
 * With baseline=1 the same loop calls two trivial functions instead; its
 * count per pair is the harness's own share of every allocator's number.
 */
#include "bench_common.h"

static unsigned char fake_block[4096];

static void *fake_malloc(size_t size)
{
    (void)size;
    return fake_block;
}

static void fake_free(void *p)
{
    (void)p;
}

static void *(*volatile alloc_fn)(size_t) = malloc;
static void (*volatile free_fn)(void *) = free;

static void run(long long n, size_t size)
{
    for (long long i = 0; i < n; i++) {
        volatile unsigned char *p = alloc_fn(size);
        if (p == NULL)
            bench_die("malloc failed");
        p[0] = 1;
        free_fn((void *)p);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("usage: pairs N size [warmup] [baseline]");
    long long n = arg_int(argc, argv, 1, 0);
    size_t size = (size_t)arg_int(argc, argv, 2, 16);
    long long warm = arg_int(argc, argv, 3, 1000);
    if (arg_int(argc, argv, 4, 0) != 0) {
        if (size > sizeof fake_block)
            bench_die("baseline size too large");
        alloc_fn = fake_malloc;
        free_fn = fake_free;
    }
    run(warm, size);
    run(n, size);
    return 0;
}
