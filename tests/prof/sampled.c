/* SPDX-License-Identifier: MIT */
/*
 * A known allocation load for tests/prof/profile.sh: alloc_small,
 * alloc_medium and alloc_large allocate blocks of pseudo-random sizes (fixed
 * seed) up to known totals, and every other block is freed at the end. Between
 * the first function and the others the program sends itself the profile
 * signal (LXMALLOC_PROFILE_SIGNAL, USR2), allocates once so that lxmalloc
 * writes the dump, and moves FILE.heap to FILE.signal.heap. It prints the true
 * totals: "phase1 BYTES", "total BYTES", "live BYTES". Built with -rdynamic.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, used))
#define MAX_BLOCKS 200000

static void *blocks[MAX_BLOCKS];
static size_t sizes[MAX_BLOCKS];
static size_t nblocks;
static uint64_t rng = 42;

static size_t next_random(size_t lo, size_t hi)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (size_t)((rng >> 33) % (hi - lo + 1));
}

static void keep(void *p, size_t size)
{
    if (p == NULL || nblocks == MAX_BLOCKS)
        abort();
    memset(p, 1, size < 64 ? size : 64);
    blocks[nblocks] = p;
    sizes[nblocks++] = size;
}

/* Each returns the bytes it allocated. */
NOINLINE size_t alloc_small(size_t budget)
{
    size_t total = 0;
    while (total < budget) {
        size_t s = next_random(16, 1024);
        keep(malloc(s), s);
        total += s;
    }
    return total;
}

NOINLINE size_t alloc_medium(size_t budget)
{
    size_t total = 0;
    while (total < budget) {
        size_t s = next_random(1025, 64 << 10);
        keep(calloc(1, s), s);
        total += s;
    }
    return total;
}

NOINLINE size_t alloc_large(size_t budget)
{
    size_t total = 0;
    while (total < budget) {
        size_t s = next_random(256 << 10, 2 << 20);
        keep(malloc(s), s);
        total += s;
    }
    return total;
}

int main(void)
{
    const char *prefix = getenv("LXMALLOC_PROFILE");
    size_t phase1 = alloc_small(40 << 20);
    if (prefix != NULL) {
        raise(SIGUSR2);
        free(malloc(1)); /* the dump happens on this call */
        /* The name lxmalloc uses: "%p" is the process id. */
        char name[4096], from[4200], to[4200];
        const char *pct = strstr(prefix, "%p");
        if (pct != NULL)
            snprintf(name, sizeof(name), "%.*s%d%s", (int)(pct - prefix), prefix, (int)getpid(),
                     pct + 2);
        else
            snprintf(name, sizeof(name), "%s", prefix);
        snprintf(from, sizeof(from), "%s.heap", name);
        snprintf(to, sizeof(to), "%s.signal.heap", name);
        if (rename(from, to) != 0) {
            perror("no profile after the signal");
            return 1;
        }
    }
    size_t total = phase1 + alloc_medium(100 << 20) + alloc_large(60 << 20);
    size_t live = 0;
    for (size_t i = 0; i < nblocks; i++) {
        if (i % 2 == 0)
            free(blocks[i]);
        else
            live += sizes[i];
    }
    printf("phase1 %zu\ntotal %zu\nlive %zu\n", phase1, total, live);
    return 0;
}
