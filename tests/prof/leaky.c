/* SPDX-License-Identifier: MIT */
/*
 * A program with planted leaks, for tests/prof/leaks.sh and valgrind.sh. Each
 * leak_* function leaks known blocks (their addresses are dropped, so memcheck
 * calls them "definitely lost"); keep_* functions allocate blocks that are all
 * freed (by this thread with free and free_sized, by another thread, through
 * realloc) and must not show
 * up as the allocating function of any leak. Built with -rdynamic, so dladdr
 * names the functions. Writes nothing with stdio: glibc keeps a stream's buffer
 * until the end, and it would be a leak of main's.
 *
 *   leak_malloc     3 blocks, 300 bytes      one malloc(100) call, three times
 *   leak_calloc     2 blocks, 2000 bytes     calloc(10, 100)
 *   leak_realloc    1 block,  5000 bytes     realloc(malloc(10), 5000)
 *   leak_memalign   4 blocks, 256 bytes      posix_memalign, aligned_alloc,
 *                                            memalign, valloc, 64 bytes each
 *   leak_huge       1 block,  3145728 bytes  malloc(3 MiB): a mapping of its own
 *   leak_indirect   2 blocks, 48 bytes       malloc(24) through a function pointer
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, used))

/* Drop the address where the compiler cannot see it used or not. */
static void keep(void *p)
{
    void *volatile v = p;
    (void)v;
}

NOINLINE void leak_malloc(void)
{
    for (int i = 0; i < 3; i++)
        keep(malloc(100));
}

NOINLINE void leak_calloc(void)
{
    for (int i = 0; i < 2; i++)
        keep(calloc(10, 100));
}

NOINLINE void leak_realloc(void)
{
    char *p = malloc(10);
    keep(realloc(p, 5000));
}

NOINLINE void leak_memalign(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 64) == 0)
        keep(p);
    keep(aligned_alloc(128, 64));
    keep(memalign(256, 64));
    keep(valloc(64));
}

NOINLINE void leak_huge(void)
{
    char *p = malloc(3 << 20);
    p[0] = 1;
    keep(p);
}

static void *(*volatile alloc_fn)(size_t) = malloc;

NOINLINE void leak_indirect(void)
{
    for (int i = 0; i < 2; i++)
        keep(alloc_fn(24));
}

/* Everything below is freed. */
static void *thread_free(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < 100; i++)
        free(blocks[i]);
    return NULL;
}

NOINLINE void keep_freed_remotely(void)
{
    static void *blocks[100];
    for (int i = 0; i < 100; i++)
        blocks[i] = malloc((size_t)(i + 1) * 8);
    pthread_t t;
    if (pthread_create(&t, NULL, thread_free, blocks) != 0)
        _exit(3);
    pthread_join(t, NULL);
}

/* C23's sized free, which lxmalloc defines and glibc 2.36 does not: weak, so the
 * program also runs (with free) where nothing defines it. */
void free_sized(void *p, size_t size) __attribute__((weak));

NOINLINE void keep_freed_locally(void)
{
    for (int i = 0; i < 1000; i++) {
        char *p = malloc((size_t)i * 3 + 1);
        p = realloc(p, (size_t)i * 7 + 1);
        char *q = calloc(3, (size_t)i + 1);
        void *a = NULL;
        if (posix_memalign(&a, 32, 100) != 0)
            _exit(3);
        void *b = aligned_alloc(4096, 8192);
        free(p);
        if (free_sized != NULL)
            free_sized(q, 3 * ((size_t)i + 1));
        else
            free(q);
        free(a);
        free(b);
    }
    char *big = malloc(5 << 20);
    big = realloc(big, 9 << 20);
    free(big);
    free(realloc(NULL, 77));
    char *z = malloc(50);
    if (realloc(z, 0) != NULL)
        _exit(3);
}

int main(void)
{
    keep_freed_locally();
    leak_malloc();
    leak_calloc();
    leak_realloc();
    leak_memalign();
    leak_huge();
    leak_indirect();
    keep_freed_remotely();
    static const char done[] = "done\n";
    if (write(1, done, sizeof(done) - 1) < 0)
        return 1;
    return 0;
}
