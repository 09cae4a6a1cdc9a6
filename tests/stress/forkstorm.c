/*
 * Fork storms from busy threads: 6 threads allocate, realloc and free without
 * pause and swap blocks through shared slots; 3 of them also fork, concurrently,
 * as fast as their children finish, for LXT_STRESS_SECONDS (default 10). A child
 * inherits a heap caught in any state by the other threads: it checks the heap,
 * frees and checks the shared blocks, allocates, sometimes starts a thread or
 * forks a grandchild, and exits. A child that hangs (a lock held across fork)
 * is killed after 20 s and fails the test.
 */
#include <signal.h>
#include <sys/wait.h>

#include "stress.h"

#define NTHREADS 6
#define NFORKERS 3
#define NSHARED 128

static _Atomic(struct sblk *) shared[NSHARED];
static double deadline;
static _Atomic unsigned long forks;

static void *grandchild_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++)
        T_free(T_malloc((size_t)i * 13 + 1));
    return NULL;
}

static void child(lxt_rng *r)
{
    alarm(20);
    size_t problems = heap_check_if_any();
    CHECK(problems == 0, "child: lx_heap_check found %zu problems after fork", problems);
    /* Blocks of threads that do not exist here: still valid, still freeable. */
    for (unsigned i = 0; i < NSHARED; i += 3) {
        struct sblk *b = atomic_exchange(&shared[i], NULL);
        if (b != NULL) {
            sblk_check(b, "shared block in the child");
            T_free(b);
        }
    }
    struct sblk *mine[64];
    for (int i = 0; i < 64; i++) {
        size_t n = lxt_size(r, 300 * LXT_KIB) + sizeof(struct sblk);
        mine[i] = T_malloc(n);
        CHECK(mine[i] != NULL, "child: malloc(%zu) returned NULL", n);
        sblk_fill(mine[i], n, (uint64_t)i);
    }
    if (lxt_next(r) % 4 == 0) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, grandchild_thread, NULL) == 0, "child: pthread_create");
        CHECK(pthread_join(t, NULL) == 0, "child: pthread_join");
    }
    if (lxt_next(r) % 8 == 0) {
        pid_t g = fork();
        CHECK(g >= 0, "child: fork failed");
        if (g == 0) {
            grandchild_thread(NULL);
            _exit(heap_check_if_any() == 0 ? 0 : 3);
        }
        int st;
        CHECK(waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "grandchild failed (status %#x)", st);
    }
    for (int i = 0; i < 64; i++) {
        sblk_check(mine[i], "child block");
        T_free(mine[i]);
    }
    problems = heap_check_if_any();
    CHECK(problems == 0, "child: lx_heap_check found %zu problems at exit", problems);
    _exit(0);
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    lxt_rng r = {0xf0f0 + id};
    uint64_t tag = id << 40;
    unsigned long n_ops = 0;
    while ((n_ops++ & 63) != 0 || now_s() < deadline) {
        size_t n = lxt_size(&r, 256 * LXT_KIB) + sizeof(struct sblk);
        struct sblk *b = T_malloc(n);
        CHECK(b != NULL, "malloc(%zu) returned NULL", n);
        sblk_fill(b, n, ++tag);
        if (lxt_next(&r) % 3 == 0) {
            size_t m = lxt_size(&r, 64 * LXT_KIB) + sizeof(struct sblk);
            b = T_realloc(b, m);
            CHECK(b != NULL, "realloc(%zu) returned NULL", m);
            sblk_fill(b, m, ++tag);
        }
        struct sblk *old = atomic_exchange(&shared[lxt_next(&r) % NSHARED], b);
        if (old != NULL) {
            sblk_check(old, "shared block");
            T_free(old);
        }
        if (id < NFORKERS && n_ops % 32 == 0) {
            pid_t pid = fork();
            CHECK(pid >= 0, "fork failed: %s", strerror(errno));
            if (pid == 0)
                child(&r);
            int st;
            CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed");
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed: %s %d", (int)pid,
                  WIFSIGNALED(st) ? "signal" : "exit status",
                  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            atomic_fetch_add(&forks, 1);
        }
    }
    return NULL;
}

int main(void)
{
    lxt_require_lxmalloc();
    double secs = stress_seconds(10);
    deadline = now_s() + secs;
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create failed");
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join failed");
    for (unsigned i = 0; i < NSHARED; i++) {
        struct sblk *b = atomic_exchange(&shared[i], NULL);
        if (b != NULL) {
            sblk_check(b, "shared block at the end");
            T_free(b);
        }
    }
    size_t problems = heap_check_if_any();
    CHECK(problems == 0, "lx_heap_check found %zu problems", problems);
    CHECK(atomic_load(&forks) > 0, "no fork happened");
    printf("%lu forks from %d busy threads in %.0f s\n", atomic_load(&forks), NFORKERS, secs);
    return 0;
}
