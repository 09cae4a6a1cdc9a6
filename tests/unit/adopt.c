/* Unit test of the heap a new thread adopts. Two threads allocate blocks and
 * exit, A first, then B: both heaps become orphans, B's on top. A thread whose
 * first call frees one of A's blocks adopts A's heap (it took over A's work:
 * its frees of A's blocks are then its own); a thread whose first call is an
 * allocation adopts the orphan on top, B's. A thread whose first call frees a
 * block of a heap that is not an orphan (the main thread's) adopts the top
 * orphan too. Every heap stays consistent (lx_heap_check). */
#include <pthread.h>

#include "lxt.h"
#include "config.h"
#include "heap.h"
#include "segment.h"

#define N 64

static void *blocks_a[N], *blocks_b[N], *blocks_main[N];
static struct heap *heap_a, *heap_b;

static struct heap *owner_of(const void *p)
{
    struct page *pg = segment_page_of(segment_of(p), p);
    return (struct heap *)(pg->local_key & ~LX_KEY_FLAGS);
}

static pthread_barrier_t filled;
static pthread_mutex_t go_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static int b_may_exit;

/* A and B fill their blocks while both are alive; A leaves at once, B when told. */
static void *fill(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < N; i++) {
        blocks[i] = lx_malloc(48 + (size_t)i * 16);
        CHECK(blocks[i] != NULL, "malloc");
        memset(blocks[i], i, 48);
    }
    struct heap *h = lx_tls_heap;
    pthread_barrier_wait(&filled);
    if (blocks == blocks_b) {
        pthread_mutex_lock(&go_lock);
        while (!b_may_exit)
            pthread_cond_wait(&go_cond, &go_lock);
        pthread_mutex_unlock(&go_lock);
    }
    return h;
}

static void *free_first(void *arg)
{
    void **blocks = arg;
    CHECK(lx_tls_heap == &lx_empty_heap, "a new thread has a heap before its first call");
    lx_free(blocks[0]);
    struct heap *got = lx_tls_heap;
    for (int i = 1; i < N; i++)
        lx_free(blocks[i]);
    return got;
}

static void *malloc_first(void *arg)
{
    (void)arg;
    void *p = lx_malloc(100);
    CHECK(p != NULL, "malloc");
    struct heap *got = lx_tls_heap;
    lx_free(p);
    return got;
}

static struct heap *run(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *ret;
    CHECK(pthread_create(&t, NULL, fn, arg) == 0, "pthread_create");
    CHECK(pthread_join(t, &ret) == 0, "pthread_join");
    return ret;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        blocks_main[i] = lx_malloc(64);
    pthread_barrier_init(&filled, NULL, 2);
    pthread_t ta, tb;
    void *ret;
    CHECK(pthread_create(&ta, NULL, fill, blocks_a) == 0, "pthread_create");
    CHECK(pthread_create(&tb, NULL, fill, blocks_b) == 0, "pthread_create");
    CHECK(pthread_join(ta, &ret) == 0, "pthread_join");
    heap_a = ret;
    pthread_mutex_lock(&go_lock);
    b_may_exit = 1;
    pthread_cond_signal(&go_cond);
    pthread_mutex_unlock(&go_lock);
    CHECK(pthread_join(tb, &ret) == 0, "pthread_join");
    heap_b = ret;
    CHECK(heap_a != heap_b && heap_a != NULL && heap_b != NULL, "two heaps");
    CHECK(owner_of(blocks_a[0]) == heap_a && owner_of(blocks_b[0]) == heap_b,
          "blocks owned by their threads' heaps");

    /* B's heap is on top of the orphans; a thread freeing A's blocks takes A's. */
    struct heap *got = run(free_first, blocks_a);
    CHECK(got == heap_a, "the thread freeing A's blocks adopted heap %u, not A's (%u)",
          got->id, heap_a->id);
    /* It exited: A's heap is on top again. An allocating thread takes the top. */
    got = run(malloc_first, NULL);
    CHECK(got == heap_a, "an allocating thread adopted heap %u, not the top orphan (%u)", got->id,
          heap_a->id);
    /* A's on top again; freeing the main thread's blocks (not an orphan's) first:
     * the top orphan. */
    got = run(free_first, blocks_main);
    CHECK(got == heap_a, "a thread freeing a live heap's blocks adopted heap %u, not the top (%u)",
          got->id, heap_a->id);
    /* And B's heap still goes to whoever frees its blocks first. */
    got = run(free_first, blocks_b);
    CHECK(got == heap_b, "the thread freeing B's blocks adopted heap %u, not B's (%u)", got->id,
          heap_b->id);
    CHECK(lx_heap_check() == 0, "heap inconsistent");
    printf("adopt: ok\n");
    return 0;
}
