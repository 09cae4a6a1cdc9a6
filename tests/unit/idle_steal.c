/* Unit test of taking over an idle heap's full slabs. The main thread fills a
 * slab of 1 KiB blocks and a second one, then waits in pthread_join (it takes
 * no allocation slow path any more). A worker that allocates, and so has slow
 * paths of its own later than the main thread's last, frees the blocks of the
 * first slab: the slab moves into the worker's heap, and the worker's next
 * 1 KiB blocks are those blocks again, not new memory. A worker that only
 * frees never takes a slab: its frees wait for the owner as before. */
#include <pthread.h>
#include <time.h>

#include "lxt.h"
#include "config.h"
#include "heap.h"
#include "segment.h"

#define SIZE 1024
#define PER_SLAB 64 /* blocks of 1 KiB in a 64 KiB slab */

static void *blocks[2 * PER_SLAB];
static uintptr_t lo, hi;

static void pause_ms(long ms)
{
    struct timespec t = {0, ms * 1000 * 1000};
    nanosleep(&t, NULL);
}

/* The heap whose slab holds p. */
static struct heap *owner_of(const void *p)
{
    struct page *pg = segment_page_of(segment_of(p), p);
    return (struct heap *)(pg->local_key & ~LX_KEY_FLAGS);
}

static int in_first_slab(const void *p)
{
    return (uintptr_t)p >= lo && (uintptr_t)p <= hi;
}

static void *allocating_worker(void *arg)
{
    (void)arg;
    /* Idle time for the main thread, then a slow path of this thread's own (its
     * first allocation makes its heap and takes a slab). */
    pause_ms(3 * LX_IDLE_HEAP_NS / 1000000);
    void *mine = lx_malloc(48);
    CHECK(mine != NULL, "worker malloc");
    struct heap *before = owner_of(blocks[1]);
    for (int i = 0; i < PER_SLAB; i++)
        lx_free(blocks[i]);
    CHECK(owner_of(blocks[1]) == lx_tls_heap && before != lx_tls_heap,
          "the idle heap's full slab did not move to the freeing thread's heap");
    /* All but the first come back (that one went to the owner's delayed list
     * before the slab changed hands). */
    int reused = 0;
    void *again[PER_SLAB];
    for (int i = 0; i < PER_SLAB; i++) {
        again[i] = lx_malloc(SIZE);
        CHECK(again[i] != NULL, "worker malloc %d", i);
        reused += in_first_slab(again[i]);
    }
    CHECK(reused >= PER_SLAB - 2, "only %d of %d freed blocks of the idle heap's slab reused",
          reused, PER_SLAB);
    for (int i = 0; i < PER_SLAB; i++)
        lx_free(again[i]);
    lx_free(mine);
    return NULL;
}

static void *freeing_worker(void *arg)
{
    (void)arg;
    pause_ms(3 * LX_IDLE_HEAP_NS / 1000000);
    struct heap *owner = owner_of(blocks[PER_SLAB + 1]);
    for (int i = PER_SLAB; i < 2 * PER_SLAB; i++)
        lx_free(blocks[i]);
    CHECK(owner_of(blocks[PER_SLAB + 1]) == owner, "a thread that only frees took a slab");
    return NULL;
}

int main(void)
{
    lo = UINTPTR_MAX;
    hi = 0;
    for (int i = 0; i < 2 * PER_SLAB; i++) {
        blocks[i] = lx_malloc(SIZE);
        CHECK(blocks[i] != NULL, "malloc %d", i);
        if (i < PER_SLAB) {
            lo = (uintptr_t)blocks[i] < lo ? (uintptr_t)blocks[i] : lo;
            hi = (uintptr_t)blocks[i] > hi ? (uintptr_t)blocks[i] : hi;
        }
    }
    CHECK(hi - lo < LX_SLAB_MIN_PAGES * LX_PAGE_SIZE, "the first %d blocks are not one slab",
          PER_SLAB);
    /* A third slab: the second is full too. */
    void *third = lx_malloc(SIZE);
    CHECK(third != NULL, "malloc");

    pthread_t t;
    CHECK(pthread_create(&t, NULL, allocating_worker, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(lx_heap_check() == 0, "heap check after the slab moved");

    /* A thread that only frees (its heap, made by its first free, has no
     * allocation slow path): the second slab stays with this heap, and the
     * blocks come back to it (they are reused here). */
    CHECK(owner_of(blocks[PER_SLAB + 1]) == lx_tls_heap, "the second slab is not this heap's");
    CHECK(pthread_create(&t, NULL, freeing_worker, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    uintptr_t lo2 = (uintptr_t)blocks[PER_SLAB], hi2 = lo2;
    for (int i = PER_SLAB; i < 2 * PER_SLAB; i++) {
        lo2 = (uintptr_t)blocks[i] < lo2 ? (uintptr_t)blocks[i] : lo2;
        hi2 = (uintptr_t)blocks[i] > hi2 ? (uintptr_t)blocks[i] : hi2;
    }
    int back = 0;
    for (int i = 0; i < 2 * PER_SLAB; i++) {
        void *p = lx_malloc(SIZE);
        CHECK(p != NULL, "malloc");
        back += (uintptr_t)p >= lo2 && (uintptr_t)p <= hi2;
    }
    CHECK(back >= PER_SLAB - 1, "only %d of the blocks a freeing thread returned came back", back);
    CHECK(lx_heap_check() == 0, "heap check");
    lx_free(third);
    printf("idle_steal: ok\n");
    return 0;
}
