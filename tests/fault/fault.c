/*
 * Fault injection: linked with a library built with LX_FAULT_INJECT=1, whose OS
 * layer fails the Nth mapping call (os_map, os_map_aligned, os_remap_*,
 * os_discard) on request. A fixed workload (small, large, huge and aligned
 * blocks, calloc, realloc across every kind, huge realloc that grows in place or
 * moves, usable size, remote frees by a helper thread, malloc_info) runs once to
 * count its mapping calls; then for every N it runs again with call N failing
 * (once, then from N on). Every failure must show as NULL + ENOMEM (ENOMEM from
 * posix_memalign, -1 + ENOMEM from malloc_info, the old block intact after a
 * failed realloc) or as a successful fallback; after each run everything is
 * freed, the thread exits and malloc_trim runs: mapped bytes must be back at the
 * baseline, no block live, and lx_heap_check must find nothing.
 *
 * The workload runs in a thread of its own so that thread exit releases even the
 * last slab of each class; the main thread never allocates from lxmalloc.
 */
#include <pthread.h>
#include <stdbool.h>

#include "lxt.h"
#include "os.h"

#define NBLK 96

struct blk {
    unsigned char *p;
    size_t n;
    uint64_t tag;
};

static struct blk blk[NBLK];
static unsigned long failures_seen;
static bool injecting; /* false during the counting run: nothing may fail then */

static void failed(const char *call, size_t size)
{
    CHECK(injecting, "%s(%zu) failed with no fault injected (errno %d)", call, size, errno);
    CHECK(errno == ENOMEM, "%s(%zu) failed with errno %d, expected ENOMEM", call, size, errno);
    failures_seen++;
}

static void put(unsigned i, void *p, size_t n, const char *call)
{
    CHECK(blk[i].p == NULL, "slot %u reused while live", i);
    if (p == NULL) {
        failed(call, n);
        return;
    }
    CHECK(lx_malloc_usable_size(p) >= n, "%s(%zu): usable size %zu too small", call, n,
          lx_malloc_usable_size(p));
    blk[i].p = p;
    blk[i].n = n;
    blk[i].tag = (uint64_t)i * 7919 + n;
    lxt_fill(p, n, blk[i].tag);
}

static void drop(unsigned i)
{
    if (blk[i].p == NULL)
        return;
    CHECK_PATTERN(blk[i].p, blk[i].n, blk[i].tag, "block before free");
    lx_free(blk[i].p);
    blk[i].p = NULL;
}

/* realloc slot i to n: on failure the old block must be untouched. */
static void resize(unsigned i, size_t n)
{
    if (blk[i].p == NULL)
        return;
    size_t keep = blk[i].n < n ? blk[i].n : n;
    errno = 0;
    unsigned char *q = lx_realloc(blk[i].p, n);
    if (q == NULL) {
        failed("realloc", n);
        CHECK_PATTERN(blk[i].p, blk[i].n, blk[i].tag, "block after a failed realloc");
        return;
    }
    CHECK_PATTERN(q, keep, blk[i].tag, "block moved by realloc");
    blk[i].p = q;
    blk[i].n = n;
    lxt_fill(q, n, blk[i].tag);
}

static const size_t sizes[] = {
    24,          200,         1000,        4000,        20000,      32768,
    40000,       100000,      300000,      1000000,     1048576,    2 * LXT_MIB,
    3 * LXT_MIB, 1100000,     1500000,     64,          640,        12000,
    70000,       600000,      16,          48,          3000,       500000,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void *helper(void *arg)
{
    (void)arg;
    for (unsigned i = 1; i < NBLK; i += 3)
        drop(i);
    return NULL;
}

static void *workload(void *arg)
{
    (void)arg;
    unsigned i = 0;
    /* Every size through malloc, and enough small blocks to need several slabs. */
    for (unsigned k = 0; k < NSIZES; k++) {
        errno = 0;
        put(i++, lx_malloc(sizes[k]), sizes[k], "malloc");
    }
    for (unsigned k = 0; k < 8; k++) {
        errno = 0;
        size_t n = 300000 + k * 4096;
        put(i++, lx_malloc(n), n, "malloc");
    }
    /* calloc must give zeroes, fresh mapping or not. */
    const size_t cz[] = {100, 50000, 3 * LXT_MIB};
    for (unsigned k = 0; k < 3; k++) {
        errno = 0;
        unsigned char *p = lx_calloc(cz[k], 1);
        if (p != NULL)
            for (size_t b = 0; b < cz[k]; b += 97)
                CHECK(p[b] == 0, "calloc(%zu) byte %zu is %d", cz[k], b, p[b]);
        put(i++, p, cz[k], "calloc");
    }
    /* Aligned blocks: slab, large run, huge mapping with a large alignment. */
    const size_t al[][2] = {{64, 100},           {4096, 5000},           {65536, 70000},
                            {LXT_MIB, 300000},  {8 * LXT_MIB, 2 * LXT_MIB}, {256, 3 * LXT_MIB}};
    for (unsigned k = 0; k < 6; k++) {
        void *p = NULL;
        int rc = lx_posix_memalign(&p, al[k][0], al[k][1]);
        if (rc != 0) {
            CHECK(rc == ENOMEM, "posix_memalign(%zu, %zu) returned %d", al[k][0], al[k][1], rc);
            CHECK(injecting, "posix_memalign(%zu, %zu) failed with no fault", al[k][0], al[k][1]);
            failures_seen++;
            continue;
        }
        CHECK(lxt_aligned(p, al[k][0]), "posix_memalign(%zu): %p misaligned", al[k][0], p);
        put(i++, p, al[k][1], "posix_memalign");
    }
    errno = 0;
    void *a = lx_aligned_alloc(4096, 2 * LXT_MIB);
    CHECK(a == NULL || lxt_aligned(a, 4096), "aligned_alloc misaligned");
    put(i++, a, 2 * LXT_MIB, "aligned_alloc");
    /* realloc across kinds, and huge blocks that grow (in place or moved) and shrink. */
    for (unsigned k = 0; k < i; k += 2)
        resize(k, blk[k].n < LXT_MIB ? blk[k].n * 3 + 1000 : blk[k].n + 100000);
    for (unsigned k = 1; k < i; k += 4)
        resize(k, blk[k].n / 3 + 1);
    for (unsigned k = 0; k < i; k++)
        if (blk[k].n > LXT_MIB)
            resize(k, blk[k].n + 5 * LXT_MIB);
    for (unsigned k = 0; k < i; k += 3)
        if (blk[k].n > LXT_MIB)
            resize(k, blk[k].n / 4);
    /* malloc_info builds its text in a mapping of its own. */
    FILE *null = fopen("/dev/null", "w");
    CHECK(null != NULL, "cannot open /dev/null");
    errno = 0;
    if (lx_malloc_info(0, null) != 0)
        failed("malloc_info", 0);
    fclose(null);
    /* Frees: a third by another thread (remote frees), then the rest here. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, helper, NULL) == 0, "pthread_create failed");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
    for (unsigned k = 0; k < NBLK; k++)
        drop(k);
    return NULL;
}

static void run_workload(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, workload, NULL) == 0, "pthread_create failed");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
}

static lx_stats_t stats(void)
{
    lx_stats_t st;
    lx_stats_get(&st);
    return st;
}

/* After a run: nothing live, mapped bytes back at the baseline, a sound heap. */
static void settle(unsigned long long baseline, const char *what, unsigned long long n)
{
    os_fault_set(0, false);
    lx_malloc_trim(0);
    lx_stats_t st = stats();
    CHECK(st.live_bytes == 0, "%s %llu: %llu bytes still live after freeing everything", what,
          n, st.live_bytes);
    CHECK(st.mapped_bytes == baseline,
          "%s %llu: %llu bytes mapped after freeing everything and trimming, baseline %llu "
          "(a leak)", what, n, st.mapped_bytes, baseline);
    size_t problems = lx_heap_check();
    CHECK(problems == 0, "%s %llu: lx_heap_check found %zu problems", what, n, problems);
}

int main(void)
{
    /* The first allocation of the process needs a mapping for the thread's heap:
     * refused, it is NULL + ENOMEM, and the next try works. */
    os_fault_set(1, true);
    errno = 0;
    void *p = lx_malloc(100);
    CHECK(p == NULL && errno == ENOMEM, "malloc with every mapping refused: %p, errno %d", p,
          errno);
    os_fault_set(0, false);
    p = lx_malloc(100);
    CHECK(p != NULL, "malloc(100) after the refusal ended returned NULL");
    lx_free(p);

    /* Warm up: the workload thread's heap (and its helper's) exist from now on. */
    run_workload();
    lx_malloc_trim(0);
    unsigned long long baseline = stats().mapped_bytes;
    settle(baseline, "warm-up", 0);

    os_fault_set(0, false);
    run_workload();
    uint64_t calls = os_fault_calls();
    settle(baseline, "counting run", 0);
    CHECK(calls >= 20, "the workload made only %llu mapping calls", (unsigned long long)calls);

    injecting = true;
    unsigned long total = 0;
    for (int persistent = 0; persistent <= 1; persistent++) {
        for (uint64_t n = 1; n <= calls + 1; n++) {
            failures_seen = 0;
            os_fault_set(n, persistent);
            run_workload();
            bool hit = os_fault_calls() >= n;
            settle(baseline, persistent ? "failing from call" : "failing call", n);
            total += failures_seen;
            /* A refused call may be absorbed by a fallback, but with everything
             * refused from the first call on, something must have failed. */
            if (persistent && n == 1)
                CHECK(failures_seen > 0, "nothing failed with every mapping call refused");
            (void)hit;
        }
    }
    printf("%llu mapping calls per run, %lu failures surfaced as ENOMEM, all clean\n",
           (unsigned long long)calls, total);
    return 0;
}
