/*
 * Memory of exited threads is reused: 400 threads (4 at a time) each allocate
 * about 2 MiB in small and large blocks and free them all before exiting. The
 * resident set must stay bounded (well below the 800 MiB allocated in total) and,
 * on lxmalloc, the counters must add up: malloc_count and free_count grow by at
 * least the number of calls made, and live_bytes returns to where it started.
 */
#include <pthread.h>

#include "lxt.h"

#define WAVE 4
#define PER_THREAD (2 * LXT_MIB)

typedef int (*stats_fn)(lx_stats_t *);

static int get_stats(lx_stats_t *st)
{
#ifdef LXT_LX_API
    return lx_stats_get(st) == 0;
#else
    if (lxt_system_mode())
        return 0;
    stats_fn f = (stats_fn)lxt_sym("lx_stats_get");
    CHECK(f != NULL, "lx_stats_get is not defined");
    return f(st) == 0;
#endif
}

static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL, "cannot open /proc/self/statm");
    size_t size = 0, res = 0;
    CHECK(fscanf(f, "%zu %zu", &size, &res) == 2, "cannot parse /proc/self/statm");
    fclose(f);
    return res * (size_t)sysconf(_SC_PAGESIZE);
}

static void *worker(void *arg)
{
    lxt_rng r = {(uint64_t)(uintptr_t)arg};
    static __thread void *blk[4096];
    size_t total = 0;
    int n = 0;
    while (total < PER_THREAD && n < 4096) {
        size_t sz = lxt_size(&r, 300 * LXT_KIB);
        blk[n] = T_malloc(sz);
        CHECK(blk[n] != NULL, "malloc(%zu) returned NULL", sz);
        memset(blk[n], 0x5c, sz);
        total += sz;
        n++;
    }
    for (int i = 0; i < n; i++)
        T_free(blk[i]);
    return (void *)(uintptr_t)n;
}

int main(void)
{
    lxt_require_lxmalloc();
    int total = lxt_quick() ? 40 : 400;

    /* Warm up, so the baseline includes the allocator's fixed costs. */
    pthread_t t[WAVE];
    for (uintptr_t w = 0; w < WAVE; w++)
        CHECK(pthread_create(&t[w], NULL, worker, (void *)w) == 0, "pthread_create failed");
    for (int w = 0; w < WAVE; w++)
        CHECK(pthread_join(t[w], NULL) == 0, "pthread_join failed");

    lx_stats_t before, after;
    int have = get_stats(&before);
    size_t rss0 = rss();
    unsigned long long calls = 0;
    for (int base = 0; base < total; base += WAVE) {
        for (uintptr_t w = 0; w < WAVE; w++)
            CHECK(pthread_create(&t[w], NULL, worker, (void *)(base + w + 100)) == 0,
                  "pthread_create failed");
        for (int w = 0; w < WAVE; w++) {
            void *ret;
            CHECK(pthread_join(t[w], &ret) == 0, "pthread_join failed");
            calls += (uintptr_t)ret;
        }
    }
    size_t rss1 = rss();
    lxt_note("rss %zu MiB -> %zu MiB over %d threads", rss0 / LXT_MIB, rss1 / LXT_MIB, total);
    CHECK(rss1 < rss0 + 64 * LXT_MIB,
          "resident set grew from %zu MiB to %zu MiB: memory of exited threads is not reused",
          rss0 / LXT_MIB, rss1 / LXT_MIB);
    if (have) {
        CHECK(get_stats(&after), "lx_stats_get failed");
        lxt_note("mapped %llu MiB, heaps %llu, live %llu -> %llu", after.mapped_bytes >> 20,
                 after.heap_count, before.live_bytes, after.live_bytes);
        CHECK(after.malloc_count >= before.malloc_count + calls,
              "malloc_count grew by %llu for %llu mallocs in exited threads",
              after.malloc_count - before.malloc_count, calls);
        CHECK(after.free_count >= before.free_count + calls,
              "free_count grew by %llu for %llu frees in exited threads",
              after.free_count - before.free_count, calls);
        CHECK(after.live_bytes <= before.live_bytes + LXT_MIB,
              "live_bytes went from %llu to %llu although every block was freed",
              before.live_bytes, after.live_bytes);
        CHECK(after.mapped_bytes < 256 * LXT_MIB,
              "%llu MiB mapped after threads that each used 2 MiB and freed it",
              after.mapped_bytes >> 20);
    }
    lxt_heap_check("after 400 threads");
    return 0;
}
