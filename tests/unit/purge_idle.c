/* Memory goes back to the kernel without malloc_trim: four threads allocate
 * 512 MiB in small blocks and free them all; 1.5 s later the process RSS must be
 * below 10% of its peak, both when the threads have exited and while they are
 * alive and idle. With malloc_trim(0) it must be so at once. */
#include <pthread.h>
#include <time.h>

#include "lxt.h"

#define THREADS 4
#define TOTAL ((size_t)512 << 20)

static pthread_barrier_t freed, release;
static int stay_alive;

static void *worker(void *arg)
{
    lxt_rng r = {(uint64_t)(uintptr_t)arg * 7919 + 1};
    size_t want = TOTAL / THREADS, got = 0, n = 0;
    size_t cap = want / 16;
    void **blocks = lx_malloc(cap * sizeof(void *));
    CHECK(blocks != NULL, "block array");
    while (got < want && n < cap) {
        size_t sz = lxt_range(&r, 16, 1024);
        blocks[n] = lx_malloc(sz);
        CHECK(blocks[n] != NULL, "malloc");
        memset(blocks[n], 1, sz);
        got += sz;
        n++;
    }
    pthread_barrier_wait(&freed); /* everyone at the peak */
    for (size_t i = 0; i < n; i++)
        lx_free(blocks[i]);
    lx_free(blocks);
    pthread_barrier_wait(&freed);
    if (stay_alive)
        pthread_barrier_wait(&release); /* idle: no allocator call until released */
    return NULL;
}

static void run(int alive, int trim)
{
    pthread_t t[THREADS];
    stay_alive = alive;
    pthread_barrier_init(&freed, NULL, THREADS + 1);
    pthread_barrier_init(&release, NULL, THREADS + 1);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0, "thread");
    pthread_barrier_wait(&freed);
    size_t peak = lxt_rss_bytes();
    pthread_barrier_wait(&freed);
    if (!alive)
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
    if (trim) {
        CHECK(lx_malloc_trim(0) == 1, "malloc_trim released nothing");
    } else {
        struct timespec ts = {1, 500000000};
        nanosleep(&ts, NULL);
    }
    size_t after = lxt_rss_bytes();
    const char *mode = trim ? "after malloc_trim" : alive ? "threads idle" : "threads exited";
    printf("%s: peak RSS %zu MiB, after %zu MiB\n", mode, peak >> 20, after >> 20);
    CHECK(peak >= TOTAL / 2, "peak RSS %zu MiB is not the workload's", peak >> 20);
    CHECK(after * 10 < peak, "%s: RSS %zu MiB is not below 10%% of the peak %zu MiB", mode,
          after >> 20, peak >> 20);
    if (alive) {
        pthread_barrier_wait(&release);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&freed);
    pthread_barrier_destroy(&release);
}

int main(void)
{
    run(0, 0);
    run(1, 0);
    run(1, 1);
    CHECK(lx_heap_check() == 0, "heap check");
    return 0;
}
