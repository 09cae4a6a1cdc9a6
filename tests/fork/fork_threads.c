/*
 * fork() while other threads allocate: 4 threads malloc/realloc/free in a loop
 * (small, large and huge blocks) and publish finished blocks in shared atomic slots; the main thread forks 200 times.
 * Each child verifies and frees blocks allocated before the fork (by the main
 * thread and by the other threads, which do not exist in the child), mallocs,
 * reallocs and frees its own blocks, sometimes starts and joins a thread, and
 * _exit(0)s. LXT_QUICK=1 (the debug-mode run, where every free fills the
 * block) forks 50 times. The parent waits for each child with a deadline: a child that hangs
 * (e.g. on an allocator lock held across fork) or fails makes the test fail.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#include "lxt.h"

#define NWORKERS 4
#define NFORKS 200
#define NSHARED 64
#define NMAIN 64
#define CHILD_DEADLINE_MS 10000

struct blk {
    unsigned char *p;
    size_t n;
    uint64_t tag;
};

/* Blocks published by workers; a slot holds a struct blk * or NULL. */
static _Atomic(struct blk *) shared[NSHARED];
static atomic_int stop;

static struct blk *new_blk(lxt_rng *r, uint64_t tag, size_t max)
{
    struct blk *b = T_malloc(sizeof *b);
    CHECK(b != NULL, "malloc(%zu) returned NULL", sizeof *b);
    b->n = lxt_size(r, max);
    b->p = T_malloc(b->n);
    CHECK(b->p != NULL, "malloc(%zu) returned NULL", b->n);
    b->tag = tag;
    lxt_fill(b->p, b->n, tag);
    return b;
}

static void free_blk(struct blk *b, const char *what)
{
    CHECK_PATTERN(b->p, b->n, b->tag, what);
    T_free(b->p);
    T_free(b);
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {100 + id};
    uint64_t seq = (id + 1) << 40;
    void *local[32] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        /* Churn some private blocks. */
        for (int i = 0; i < 32; i++) {
            /* Huge blocks too (often in worker 0), so fork also meets the huge paths. */
            size_t n = lxt_next(&r) % (id == 0 ? 8 : 64) == 0
                           ? lxt_range(&r, 1100 * LXT_KIB, 3 * LXT_MIB)
                           : lxt_size(&r, 200 * LXT_KIB);
            if (local[i] != NULL && lxt_next(&r) % 2) {
                local[i] = T_realloc(local[i], n);
                CHECK(local[i] != NULL, "realloc(.., %zu) returned NULL", n);
            } else {
                T_free(local[i]);
                local[i] = T_malloc(n);
                CHECK(local[i] != NULL, "malloc(%zu) returned NULL", n);
            }
            memset(local[i], (int)i, n < 64 ? n : 64);
        }
        /* Publish a finished block, taking back whatever was in the slot. */
        struct blk *b = new_blk(&r, ++seq, 64 * LXT_KIB);
        struct blk *old = atomic_exchange(&shared[lxt_next(&r) % NSHARED], b);
        if (old != NULL)
            free_blk(old, "shared block in a worker");
    }
    for (int i = 0; i < 32; i++)
        T_free(local[i]);
    return NULL;
}

static void *child_thread(void *arg)
{
    lxt_rng r = {(uint64_t)(uintptr_t)arg};
    for (int i = 0; i < 200; i++) {
        struct blk *b = new_blk(&r, 5000 + (uint64_t)i, 100 * LXT_KIB);
        free_blk(b, "block in a child's thread");
    }
    return NULL;
}

static void child(int k, struct blk **mine)
{
    lxt_rng r = {77 + (uint64_t)k};
    /* Free blocks allocated before the fork: the main thread's... */
    for (int i = k % 2; i < NMAIN; i += 2) {
        free_blk(mine[i], "main thread's pre-fork block in the child");
        mine[i] = NULL;
    }
    /* ...and those of threads that do not exist here. */
    for (int i = 0; i < NSHARED; i++) {
        struct blk *b = atomic_exchange(&shared[i], NULL);
        if (b != NULL)
            free_blk(b, "worker's pre-fork block in the child");
    }
    struct blk *own[100];
    for (int i = 0; i < 100; i++)
        own[i] = new_blk(&r, 9000 + (uint64_t)i, i % 25 == 0 ? 4 * LXT_MIB : 32 * LXT_KIB);
    for (int i = 0; i < 100; i += 3) {
        size_t n = lxt_size(&r, 300 * LXT_KIB);
        unsigned char *p = T_realloc(own[i]->p, n);
        CHECK(p != NULL, "realloc(.., %zu) in the child returned NULL", n);
        size_t keep = n < own[i]->n ? n : own[i]->n;
        CHECK_PATTERN(p, keep, own[i]->tag, "block reallocated in the child");
        own[i]->p = p;
        own[i]->n = keep;
    }
    for (int i = 0; i < 100; i++)
        free_blk(own[i], "child's own block");
    void *c = T_calloc(1000, 10);
    CHECK(c != NULL, "calloc in the child returned NULL");
    T_free(c);
    if (k % 10 == 0) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)k) == 0,
              "pthread_create in the child failed");
        CHECK(pthread_join(t, NULL) == 0, "pthread_join in the child failed");
    }
    for (int i = 0; i < NMAIN; i++)
        if (mine[i] != NULL)
            free_blk(mine[i], "main thread's pre-fork block in the child");
    if (k % 20 == 0)
        lxt_heap_check("in a forked child");
    _exit(0);
}

static void wait_child(pid_t pid, int k)
{
    struct timespec nap = {0, 1000000}; /* 1 ms */
    for (int waited = 0;; waited++) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        CHECK(w >= 0, "waitpid failed: %s", strerror(errno));
        if (w == pid) {
            CHECK(WIFEXITED(st), "child %d killed by signal %d", k,
                  WIFSIGNALED(st) ? WTERMSIG(st) : -1);
            CHECK(WEXITSTATUS(st) == 0, "child %d exited with status %d", k, WEXITSTATUS(st));
            return;
        }
        if (waited >= CHILD_DEADLINE_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            LXT_FAIL("child %d did not exit within %d s after fork (deadlock?)", k,
                     CHILD_DEADLINE_MS / 1000);
        }
        nanosleep(&nap, NULL);
    }
}

int main(void)
{
    lxt_require_lxmalloc();
    pthread_t t[NWORKERS];
    for (uintptr_t i = 0; i < NWORKERS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create failed");

    lxt_rng r = {1};
    struct blk *mine[NMAIN];
    for (int i = 0; i < NMAIN; i++)
        mine[i] = new_blk(&r, 100000 + (uint64_t)i, 1 * LXT_MIB);

    int forks = lxt_quick() ? NFORKS / 4 : NFORKS;
    for (int k = 0; k < forks; k++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork #%d failed: %s", k, strerror(errno));
        if (pid == 0)
            child(k, mine);
        /* The parent keeps allocating between forks too. */
        int i = (int)(lxt_next(&r) % NMAIN);
        free_blk(mine[i], "main thread's block in the parent");
        mine[i] = new_blk(&r, 200000 + (uint64_t)k, 1 * LXT_MIB);
        wait_child(pid, k);
    }

    atomic_store(&stop, 1);
    for (int i = 0; i < NWORKERS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join failed");
    for (int i = 0; i < NMAIN; i++)
        free_blk(mine[i], "main thread's block at exit");
    for (int i = 0; i < NSHARED; i++) {
        struct blk *b = atomic_load(&shared[i]);
        if (b != NULL)
            free_blk(b, "shared block at exit");
    }
    lxt_heap_check("after 200 forks");
    return 0;
}
