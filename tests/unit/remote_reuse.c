/* Unit test of taking back what other threads freed before carving fresh
 * blocks: a thread fills one slab of a class, moves on to a second, and another
 * thread frees blocks of the first. The owner's next allocations must come from
 * those returned blocks, not from the second slab's pages that were never
 * touched, so that a class other threads free into does not grow while its
 * blocks come back behind the slab it allocates from. */
#include <pthread.h>

#include "lxt.h"
#include "config.h"

#define SIZE 1024
#define FIRST 64   /* blocks of 1 KiB in a 64 KiB slab: the first slab, full */
#define RETURNED 16

static void *blocks[FIRST];

static void *free_some(void *arg)
{
    (void)arg;
    for (int i = 0; i < RETURNED; i++)
        lx_free(blocks[i * 2]);
    return NULL;
}

int main(void)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < FIRST; i++) {
        blocks[i] = lx_malloc(SIZE);
        CHECK(blocks[i] != NULL, "malloc");
        uintptr_t a = (uintptr_t)blocks[i];
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
    }
    CHECK(hi - lo < LX_SLAB_MIN_PAGES * LX_PAGE_SIZE,
          "the first %d blocks are not one slab (%#lx bytes apart)", FIRST, (unsigned long)(hi - lo));
    /* The next block opens a second slab (the first is full). */
    void *second = lx_malloc(SIZE);
    CHECK(second != NULL && ((uintptr_t)second < lo || (uintptr_t)second > hi), "second slab");

    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_some, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");

    /* Allocate as many as came back, and a few more: most must reuse the first
     * slab's returned blocks (the second slab has carved one page only). */
    void *got[RETURNED + 8];
    int reused = 0;
    for (int i = 0; i < RETURNED + 8; i++) {
        got[i] = lx_malloc(SIZE);
        CHECK(got[i] != NULL, "malloc after the remote frees");
        if ((uintptr_t)got[i] >= lo && (uintptr_t)got[i] <= hi)
            reused++;
    }
    CHECK(reused >= RETURNED / 2,
          "only %d of %d blocks freed by another thread were used again before fresh ones",
          reused, RETURNED);

    for (int i = 0; i < RETURNED + 8; i++)
        lx_free(got[i]);
    for (int i = 0; i < FIRST; i++)
        if (i % 2 != 0 || i >= 2 * RETURNED)
            lx_free(blocks[i]);
    lx_free(second);
    CHECK(lx_heap_check() == 0, "heap check");
    printf("remote_reuse: ok (%d of %d reused)\n", reused, RETURNED);
    return 0;
}
