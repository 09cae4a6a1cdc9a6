/*
 * A program with exactly two memory errors for valgrind's memcheck to find: one
 * leaked 40-byte block and one read of a freed block. Everything else it does is
 * correct use of the allocator (every size class, large and huge blocks, realloc
 * across kinds, calloc, aligned blocks, blocks freed by another thread, and the
 * whole usable size of blocks), so any other report is a false one.
 * tests/valgrind/memcheck.sh runs it built three ways and checks the reports.
 */
#include <pthread.h>

#include "lxt.h"

#define NB 300

static void *blocks[NB];

static void *remote_free(void *arg)
{
    (void)arg;
    for (int i = 1; i < NB; i += 2) {
        T_free(blocks[i]);
        blocks[i] = NULL;
    }
    return NULL;
}

static void correct_use(void)
{
    lxt_rng r = {5};
    unsigned long sum = 0;
    for (int i = 0; i < NB; i++) {
        size_t n = i % 50 == 0 ? lxt_range(&r, 40000, 3 * LXT_MIB) : lxt_range(&r, 1, 5000);
        unsigned char *p = i % 7 == 0 ? T_calloc(1, n) : T_malloc(n);
        CHECK(p != NULL, "malloc(%zu) returned NULL", n);
        if (i % 7 == 0)
            sum += p[n / 2]; /* zeroes, defined */
        size_t u = T_malloc_usable_size(p);
        memset(p, i, u); /* the usable size is ours to use */
        blocks[i] = p;
    }
    for (int i = 0; i < NB; i += 3) {
        size_t n = lxt_range(&r, 1, i % 30 == 0 ? 2 * LXT_MIB : 9000);
        unsigned char *q = T_realloc(blocks[i], n);
        CHECK(q != NULL, "realloc(%zu) returned NULL", n);
        sum += q[0]; /* copied, so still defined */
        blocks[i] = q;
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, remote_free, NULL) == 0, "pthread_create failed");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
    for (int i = 0; i < NB; i++)
        T_free(blocks[i]);
    for (size_t a = 16; a <= 8 * LXT_MIB; a *= 4) {
        void *p = NULL;
        CHECK(T_posix_memalign(&p, a, 100 + a / 2) == 0, "posix_memalign(%zu) failed", a);
        memset(p, 1, 100 + a / 2);
        sum += ((unsigned char *)p)[99];
        T_free(p);
    }
    printf("checksum %lu\n", sum);
}

int main(void)
{
    correct_use();

    /* Error 1: a leak. The fifth of ten blocks is dropped without a free (not the
     * first: a slab's descriptor holds its first block's address). */
    void *keep[10];
    for (int i = 0; i < 10; i++) {
        keep[i] = T_malloc(40);
        CHECK(keep[i] != NULL, "malloc(40) returned NULL");
        memset(keep[i], i, 40);
    }
    for (int i = 0; i < 10; i++)
        if (i != 4)
            T_free(keep[i]);
    keep[4] = NULL;

    /* Error 2: a read of a freed block, past the word that holds the free link. */
    unsigned char *volatile p = T_malloc(64);
    CHECK(p != NULL, "malloc(64) returned NULL");
    memset((void *)p, 7, 64);
    T_free((void *)p);
    unsigned char stale = p[32];
    lxt_escape(&stale);
    printf("done\n");
    return 0;
}
