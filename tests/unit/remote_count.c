/* Unit test of taking remote frees without walking them. Each push onto a
 * slab's xthread_free adds one to the count in the word's top bits, so the owner
 * knows how many blocks came back without following the list: it becomes the
 * free list when that is empty, else the local list when that is empty, and only
 * when both hold blocks is it walked to its end and put in front of the free
 * list. In every case `used` falls by the count and every block comes back. */
#include <pthread.h>

#include "lxt.h"
#include "segment.h"
#include "slab.h"

#define SIZE 64
#define MAX 512

static void *blocks[MAX];
static int nblocks;
static int from, to; /* blocks[from..to) are freed by the other thread */

static void *free_range(void *arg)
{
    (void)arg;
    for (int i = from; i < to; i++)
        lx_free(blocks[i]);
    return NULL;
}

/* Free blocks[lo..hi) in another thread; check the count it left. */
static void remote_free(struct page *pg, int lo, int hi)
{
    uintptr_t before = atomic_load(&pg->xthread_free);
    from = lo;
    to = hi;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_range, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    uintptr_t tf = atomic_load(&pg->xthread_free);
    CHECK((tf >> LX_XFREE_COUNT_SHIFT) == (before >> LX_XFREE_COUNT_SHIFT) + (uintptr_t)(hi - lo),
          "count %lu after %d remote frees", (unsigned long)(tf >> LX_XFREE_COUNT_SHIFT), hi - lo);
    CHECK(LX_XFREE_LIST(tf) == (uintptr_t)blocks[hi - 1], "the list starts at the last block freed");
}

int main(void)
{
    void *p = lx_malloc(SIZE);
    CHECK(p != NULL, "malloc");
    struct page *pg = segment_page_of(segment_of(p), p);
    blocks[nblocks++] = p;
    /* Empty the slab's free list (what is carved of it). */
    while (!list_end(pg->free)) {
        CHECK(nblocks < MAX, "the slab's free list never ran out");
        void *q = lx_malloc(SIZE);
        CHECK(q != NULL && segment_page_of(segment_of(q), q) == pg, "block %d from another slab",
              nblocks);
        blocks[nblocks++] = q;
    }
    CHECK(nblocks >= 30, "only %d blocks in the slab", nblocks);
    CHECK(list_end(pg->local_free), "local frees before any free");

    /* 1. The free list is empty: the remote list becomes it. */
    remote_free(pg, 0, 10);
    unsigned used = pg->used;
    CHECK(slab_collect_thread(pg) == 10, "collected count (free list empty)");
    CHECK(pg->free == blocks[9], "the remote list did not become the free list");
    CHECK(pg->used == used - 10, "used %u, not %u", pg->used, used - 10);

    /* 2. Blocks on the free list, none on the local one: it becomes the local list. */
    remote_free(pg, 10, 15);
    used = pg->used;
    CHECK(slab_collect_thread(pg) == 5, "collected count (local list empty)");
    CHECK(pg->free == blocks[9], "the free list changed");
    CHECK(pg->local_free == blocks[14], "the remote list did not become the local list");
    CHECK(pg->used == used - 5, "used after the second collect");

    /* 3. Both hold blocks: walked, and put in front of the free list. */
    remote_free(pg, 15, 20);
    used = pg->used;
    CHECK(slab_collect_thread(pg) == 5, "collected count (both lists hold blocks)");
    CHECK(pg->free == blocks[19], "the remote list is not in front of the free list");
    CHECK(pg->local_free == blocks[14], "the local list changed");
    CHECK(pg->used == used - 5, "used after the third collect");
    CHECK(atomic_load(&pg->xthread_free) == 0, "xthread_free not cleared");
    CHECK(lx_heap_check() == 0, "heap check");

    /* Every block freed comes back, once. */
    void *again[20];
    for (int i = 0; i < 20; i++) {
        again[i] = lx_malloc(SIZE);
        CHECK(again[i] != NULL && segment_page_of(segment_of(again[i]), again[i]) == pg,
              "allocation %d not from the slab", i);
        for (int j = 0; j < i; j++)
            CHECK(again[j] != again[i], "block %p handed out twice", again[i]);
        bool known = false;
        for (int k = 0; k < 20; k++)
            known |= blocks[k] == again[i];
        CHECK(known, "allocation %d is not one of the blocks freed", i);
    }
    for (int i = 0; i < 20; i++)
        lx_free(again[i]);
    for (int i = 20; i < nblocks; i++)
        lx_free(blocks[i]);
    CHECK(lx_heap_check() == 0, "heap check at the end");
    printf("remote_count: ok (%d blocks in the slab)\n", nblocks);
    return 0;
}
