/* Unit test of first-class heaps: blocks of every kind (small, large run, huge),
 * calloc, realloc within and across heaps, lx_free and lx_heap_free from the
 * using thread and remote frees from another thread, destroy with blocks still
 * referenced (everything goes back: live bytes and pages in use return to where
 * they were), a heap recycled after destroy, a stale free after destroy and a
 * second destroy detected (forked children, default MALLOC_CHECK_=3), and
 * lx_heap_check after each scenario. */
#include <pthread.h>

#include "lxt.h"
#include "lxt_child.h"

#define N 20000

static void *blocks[N];

static void *remote_free(void *arg)
{
    void **v = arg;
    for (int i = 0; i < N; i += 2)
        lx_free(v[i]);
    return NULL;
}

static void fill(lx_heap_t *h)
{
    for (int i = 0; i < N; i++) {
        size_t size = (size_t)(i * 7919 % 3000) + 1;
        if (i % 1000 == 0)
            size = 100 * 1024; /* large run */
        blocks[i] = lx_heap_malloc(h, size);
        CHECK(blocks[i] != NULL, "lx_heap_malloc(%zu)", size);
        memset(blocks[i], i & 0xff, size < 64 ? size : 64);
    }
}

static void stale_free(void *arg)
{
    lx_free(arg);
}

static void destroy_twice(void *arg)
{
    lx_heap_destroy(arg);
}

static unsigned long long live_now(void)
{
    lx_stats_t s;
    lx_stats_get(&s);
    return s.live_bytes;
}

int main(void)
{
    lx_free(lx_malloc(1));
    unsigned long long live0 = live_now();

    /* 1. blocks of every kind, their contents kept */
    lx_heap_t *h = lx_heap_new();
    CHECK(h != NULL, "lx_heap_new");
    void *small = lx_heap_malloc(h, 24);
    void *large = lx_heap_malloc(h, 300 * 1024);
    void *huge = lx_heap_malloc(h, 5 * LXT_MIB);
    CHECK(small && large && huge, "heap blocks");
    CHECK(((uintptr_t)small & 15) == 0 && ((uintptr_t)large & 15) == 0, "alignment");
    memset(huge, 0x5a, 5 * LXT_MIB);
    CHECK(lx_malloc_usable_size(large) >= 300 * 1024, "large usable");
    unsigned *z = lx_heap_calloc(h, 1000, sizeof *z);
    CHECK(z != NULL, "lx_heap_calloc");
    for (int i = 0; i < 1000; i++)
        CHECK(z[i] == 0, "calloc'd word %d", i);
    errno = 0;
    CHECK(lx_heap_calloc(h, lxt_opaque(SIZE_MAX / 2), 4) == NULL && errno == ENOMEM, "calloc overflow");
    /* realloc: grows inside the heap, across kinds, keeps contents */
    char *r = lx_heap_malloc(h, 10);
    strcpy(r, "heap!");
    r = lx_heap_realloc(h, r, 5000);
    CHECK(r != NULL && strcmp(r, "heap!") == 0, "realloc small -> small");
    r = lx_heap_realloc(h, r, 600 * 1024);
    CHECK(r != NULL && strcmp(r, "heap!") == 0, "realloc -> large");
    r = lx_heap_realloc(h, r, 3 * LXT_MIB);
    CHECK(r != NULL && strcmp(r, "heap!") == 0, "realloc -> huge");
    r = lx_heap_realloc(h, r, 9 * LXT_MIB);
    CHECK(r != NULL && strcmp(r, "heap!") == 0, "realloc huge -> huge");
    /* a block of the thread heap moves into the heap */
    char *t = lx_malloc(40);
    strcpy(t, "moved");
    t = lx_heap_realloc(h, t, 4000);
    CHECK(t != NULL && strcmp(t, "moved") == 0, "realloc from the thread heap");
    CHECK(lx_heap_realloc(h, t, 0) == NULL, "realloc(p, 0)");
    lx_heap_free(h, small);
    lx_free(large); /* lx_free works on any block */
    lx_free(z);
    CHECK(lx_heap_check() == 0, "heap check (1)");

    /* 2. many blocks; half freed by another thread, a quarter by lx_free and
     * lx_heap_free here; then destroy with the rest still referenced */
    fill(h);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, remote_free, blocks) == 0, "thread");
    pthread_join(th, NULL);
    for (int i = 1; i < N; i += 4)
        lx_free(blocks[i]);
    for (int i = 3; i < N; i += 4)
        lx_heap_free(h, blocks[i]);
    fill(h); /* reuses what came back */
    void *keep = blocks[N / 2];
    lx_heap_destroy(h);
    CHECK(lx_heap_check() == 0, "heap check (2)");
    unsigned long long live1 = live_now();
    CHECK(live1 <= live0 + 4096, "live bytes %llu after destroy, %llu before", live1, live0);

    /* 3. a block of a destroyed heap: its free is detected (its slab was released) */
    lxt_expect_death(stale_free, keep, SIGABRT, "free() of");
    /* a destroyed heap is no heap */
    lxt_expect_death(destroy_twice, h, SIGABRT, "not a live heap");

    /* 4. heaps are recycled, and new ones work; many heaps at once */
    lx_heap_t *hs[64];
    for (int i = 0; i < 64; i++) {
        hs[i] = lx_heap_new();
        CHECK(hs[i] != NULL, "heap %d", i);
        for (int j = 0; j < 100; j++)
            CHECK(lx_heap_malloc(hs[i], (size_t)j * 40 + 1) != NULL, "alloc in heap %d", i);
    }
    for (int i = 0; i < 64; i++)
        lx_heap_destroy(hs[i]);
    CHECK(lx_heap_check() == 0, "heap check (4)");
    lx_malloc_trim(0);
    lx_stats_t s;
    lx_stats_get(&s);
    CHECK(s.live_bytes <= live0 + 4096, "live bytes %llu at the end", s.live_bytes);
    printf("xheap: ok\n");
    return 0;
}
