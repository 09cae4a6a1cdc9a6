/* Unit test of thread heaps: a thread's heap outlives the thread as an orphan,
 * the next thread adopts it (so thread churn does not create heaps without
 * bound), blocks of dead threads are freeable anywhere, and malloc_trim returns
 * orphaned empty slabs. */
#include <pthread.h>

#include "lxt.h"
#include "init.h"

#define KEEP 64

static void *kept[1000][KEEP];

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    void *tmp[256];
    for (int i = 0; i < 256; i++)
        tmp[i] = lx_malloc((size_t)(i * 37 % 3000) + 1);
    for (int i = 0; i < 256; i++)
        lx_free(tmp[i]);
    for (int i = 0; i < KEEP; i++) {
        kept[id][i] = lx_malloc((size_t)i * 24 + 8);
        memset(kept[id][i], id & 0xff, (size_t)i * 24 + 8);
    }
    return NULL;
}

int main(void)
{
    lx_free(lx_malloc(1)); /* the main thread's heap */
    for (int t = 0; t < 1000; t++) {
        pthread_t th;
        CHECK(pthread_create(&th, NULL, worker, (void *)(intptr_t)t) == 0, "thread %d", t);
        pthread_join(th, NULL);
    }
    lx_stats_t s;
    lx_stats_get(&s);
    CHECK(s.heap_count <= 4, "%llu heaps for 1000 sequential threads",
          (unsigned long long)s.heap_count);
    for (int t = 0; t < 1000; t++) {
        for (int i = 0; i < KEEP; i++) {
            uint8_t *p = kept[t][i];
            CHECK(p[0] == (t & 0xff) && p[(size_t)i * 24 + 7] == (t & 0xff),
                  "block %d of thread %d changed", i, t);
            lx_free(p);
        }
    }
    CHECK(lx_heap_check() == 0, "heap check");
    lx_malloc_trim(0);
    lx_stats_t e;
    lx_stats_get(&e);
    CHECK(e.live_bytes < 4096, "live bytes %llu after freeing everything",
          (unsigned long long)e.live_bytes);
    CHECK(e.segment_count <= 2, "%llu segments kept after trim",
          (unsigned long long)e.segment_count);
    printf("heap: ok (%llu heaps)\n", (unsigned long long)s.heap_count);
    return 0;
}
