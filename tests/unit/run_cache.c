/* A thread heap keeps the page runs it frees (large blocks, empty slabs) and
 * reuses them: a later request of the same length, or up to a quarter shorter,
 * gets the cached run (its address shows it), with the usable size it asked for;
 * a longer one does not. A large block's run is its pages rounded up to 16.
 * The cache is bounded (at most 2 MiB, 8 runs), is given back at thread exit,
 * after the purge delay, by malloc_trim, and when an allocation would fail
 * (api/rlimit under LXMALLOC_SOURCE=brk),
 * and holds nothing with a purge delay of 0;
 * the heap checker accepts cached runs, and a second free of a cached block is
 * still caught (tests/misuse/double_free_medium). */
#include <pthread.h>
#include <time.h>

#include "lxt.h"
#include "options.h"

static unsigned long long cached(void)
{
    lx_stats_t s;
    lx_stats_get(&s);
    return s.run_cached_bytes;
}

static void *thread_frees(void *arg)
{
    (void)arg;
    void *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = lx_malloc(100000);
    for (int i = 0; i < 4; i++)
        lx_free(p[i]);
    CHECK(cached() >= 4 * 100000, "the thread keeps its 4 runs: %llu bytes cached", cached());
    return NULL;
}

int main(void)
{
    lx_free(lx_malloc(1)); /* this thread's heap */
    lx_malloc_trim(0);
    CHECK(cached() == 0, "%llu bytes cached at the start", cached());

    /* 100000 bytes: 25 pages, in a run of 32, kept when freed. */
    char *p = lx_malloc(100000);
    CHECK(p != NULL, "malloc(100000)");
    memset(p, 1, 100000);
    lx_free(p);
    CHECK(cached() == 32 * 4096, "%llu bytes cached, expected one 32-page run", cached());
    CHECK(lx_heap_check() == 0, "heap check with a cached run");

    /* 90000 bytes need 22 pages, a run of 32: the cached one. */
    char *q = lx_malloc(90000);
    CHECK(q == p, "malloc(90000) = %p did not reuse the cached run at %p", (void *)q, (void *)p);
    CHECK(lx_malloc_usable_size(q) == 22 * 4096, "usable size %zu, expected 22 pages",
          lx_malloc_usable_size(q));
    CHECK(q[0] == 1 && q[22 * 4096 - 1] == 1, "the reused run's pages were given back");
    CHECK(cached() == 0, "%llu bytes cached after the reuse", cached());
    lx_free(q);

    /* 150000 bytes need 37 pages, a run of 48: the cached run is too short and stays. */
    char *r = lx_malloc(150000);
    CHECK(r != NULL && r != p, "malloc(150000) took the 32-page run");
    CHECK(cached() == 32 * 4096, "%llu bytes cached, the 32-page run should stay", cached());
    lx_free(r);

    /* Bounded: 12 runs of 64 pages (49 used) freed, at most 2 MiB and 8 runs kept. */
    void *v[12];
    for (int i = 0; i < 12; i++)
        v[i] = lx_malloc(200000);
    for (int i = 0; i < 12; i++)
        lx_free(v[i]);
    unsigned long long c = cached();
    CHECK(c == 8 * 64 * 4096, "%llu bytes cached after freeing 12 runs of 64 pages", c);
    CHECK(lx_heap_check() == 0, "heap check with a full cache");

    /* Another thread's cache goes back when it exits. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_frees, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    CHECK(cached() == c, "%llu bytes cached after the thread exited, %llu before", cached(), c);

    /* malloc_trim gives back the calling thread's cache. */
    lx_malloc_trim(0);
    CHECK(cached() == 0, "%llu bytes cached after malloc_trim", cached());

    /* Runs older than the purge delay go back on a later slow path. */
    atomic_store(&lx_opt.purge_delay_ns, (uint64_t)50 * 1000 * 1000);
    lx_free(lx_malloc(100000));
    CHECK(cached() == 32 * 4096, "%llu bytes cached", cached());
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (int i = 0; i < 200; i++)
        lx_free(lx_malloc(3000 + (size_t)i * 40));
    CHECK(cached() == 0, "%llu bytes still cached after the purge delay", cached());

    /* A purge delay of 0: nothing is kept. */
    atomic_store(&lx_opt.purge_delay_ns, 0);
    lx_free(lx_malloc(100000));
    CHECK(cached() == 0, "%llu bytes cached with a purge delay of 0", cached());
    CHECK(lx_heap_check() == 0, "heap check at the end");
    printf("run_cache: ok\n");
    return 0;
}
