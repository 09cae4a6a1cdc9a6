/*
 * Running out of address space: in a forked child limited with RLIMIT_AS to about
 * 1 GiB above its current size, allocating 1 MiB blocks eventually fails with NULL
 * and errno ENOMEM; after freeing everything the same amount can be allocated
 * again. The same is done with huge (3 MiB) and small (32 KiB) blocks, and each
 * round must leave the memory reusable by the next one (1 MiB blocks at the end).
 *
 * Then, in a second child limited to 512 MiB more, 4 threads allocate mixed sizes
 * (small, large runs, huge mappings, some aligned) at the same time until each has
 * seen several failures, every one NULL + ENOMEM; the main thread checks and frees
 * every block (remote frees for most), trims, and the heap must check clean and
 * hold about as much again in a second round.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "lxt.h"

#define MAXBLK 65536

static void *blk[MAXBLK];

static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL, "cannot open /proc/self/status");
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    fclose(f);
    CHECK(kb > 0, "no VmSize in /proc/self/status");
    return kb * 1024;
}

/* Allocate blocks of n bytes until malloc fails; return how many succeeded. */
static size_t fill_until_failure(size_t n, const char *round)
{
    size_t k = 0;
    for (;;) {
        CHECK(k < MAXBLK, "%s: %d blocks of %zu bytes allocated under a ~1 GiB RLIMIT_AS "
              "without failing", round, MAXBLK, n);
        errno = 0;
        unsigned char *p = T_malloc(n);
        if (p == NULL) {
            CHECK(errno == ENOMEM, "%s: malloc(%zu) failed with errno %d, expected ENOMEM",
                  round, n, errno);
            lxt_note("%s: %zu blocks of %zu bytes (%zu MiB)", round, k, n, k * n / LXT_MIB);
            CHECK(k * n >= 256 * LXT_MIB,
                  "%s: only %zu MiB could be allocated with ~1 GiB of address space", round,
                  k * n / LXT_MIB);
            return k;
        }
        /* Touch one byte per block only: the limit is on address space, not memory. */
        p[0] = (unsigned char)k;
        p[n - 1] = (unsigned char)(k >> 8);
        blk[k++] = p;
    }
}

static void free_all(size_t k, size_t n)
{
    for (size_t i = 0; i < k; i++) {
        unsigned char *p = blk[i];
        CHECK(p[0] == (unsigned char)i && p[n - 1] == (unsigned char)(i >> 8),
              "block %zu of %zu bytes corrupted", i, n);
        T_free(p);
    }
}

static void child(void)
{
    /* Initialise the allocator (and this thread's heap) before lowering the limit. */
    T_free(T_malloc(100));
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = vm_size() + 1024 * LXT_MIB;
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit(RLIMIT_AS) failed: %s", strerror(errno));
    lxt_note("RLIMIT_AS set to %zu MiB", (size_t)(rl.rlim_cur / LXT_MIB));

    size_t first = fill_until_failure(LXT_MIB, "1 MiB blocks");
    free_all(first, LXT_MIB);

    /* Small blocks work again once memory is back. */
    void *s[1000];
    for (int i = 0; i < 1000; i++) {
        s[i] = T_malloc((size_t)(i % 200) + 1);
        CHECK(s[i] != NULL, "malloc(%d) after freeing everything returned NULL", i % 200 + 1);
    }
    for (int i = 0; i < 1000; i++)
        T_free(s[i]);

    size_t again = fill_until_failure(LXT_MIB, "1 MiB blocks again");
    CHECK(again + first / 8 >= first,
          "after freeing %zu MiB of blocks only %zu MiB could be allocated again", first, again);
    free_all(again, LXT_MIB);

    size_t k = fill_until_failure(3 * LXT_MIB, "3 MiB blocks");
    free_all(k, 3 * LXT_MIB);
    k = fill_until_failure(32 * LXT_KIB, "32 KiB blocks");
    free_all(k, 32 * LXT_KIB);

    size_t last = fill_until_failure(LXT_MIB, "1 MiB blocks at the end");
    CHECK(last + first / 8 >= first,
          "after the small and huge rounds only %zu MiB of 1 MiB blocks could be allocated "
          "(%zu at first)", last, first);
    free_all(last, LXT_MIB);
    void *p = T_malloc(LXT_MIB);
    CHECK(p != NULL, "malloc(1 MiB) after the last round returned NULL");
    T_free(p);
    _exit(0);
}

/* ---- mixed sizes from several threads ---------------------------------------- */

#define MT_THREADS 4
#define MT_MAX 8192

struct mt_blk {
    unsigned char *p;
    size_t n;
};

struct mt_thread {
    pthread_t t;
    unsigned id;
    size_t count, bytes;
    struct mt_blk blk[MT_MAX];
};

static struct mt_thread mt[MT_THREADS];
static pthread_barrier_t mt_start;

static size_t heap_check_any(void)
{
#ifdef LXT_LX_API
    return lx_heap_check();
#else
    size_t (*check)(void) = (size_t(*)(void))lxt_sym("lx_heap_check");
    return check != NULL ? check() : 0;
#endif
}

static void *mt_fill(void *arg)
{
    struct mt_thread *th = arg;
    lxt_rng r = {77 + th->id};
    pthread_barrier_wait(&mt_start);
    unsigned failures = 0;
    while (failures < 8 && th->count < MT_MAX) {
        uint64_t k = lxt_next(&r) % 10;
        size_t n = k < 6 ? lxt_range(&r, 1, 4000)
                 : k < 9 ? lxt_range(&r, 40 * LXT_KIB, LXT_MIB) : lxt_range(&r, 2 * LXT_MIB, 8 * LXT_MIB);
        errno = 0;
        unsigned char *p;
        if (lxt_next(&r) % 8 == 0) {
            void *q = NULL;
            int rc = T_posix_memalign(&q, (size_t)64 << (lxt_next(&r) % 12), n);
            CHECK(rc == 0 || rc == ENOMEM, "posix_memalign(.., %zu) returned %d", n, rc);
            p = q;
            if (rc == ENOMEM)
                errno = ENOMEM;
        } else {
            p = T_malloc(n);
        }
        if (p == NULL) {
            CHECK(errno == ENOMEM, "thread %u: allocating %zu bytes failed with errno %d",
                  th->id, n, errno);
            failures++;
            continue;
        }
        p[0] = (unsigned char)th->id;
        p[n - 1] = (unsigned char)n;
        th->blk[th->count++] = (struct mt_blk){p, n};
        th->bytes += n;
    }
    return NULL;
}

static size_t mt_round(const char *round)
{
    CHECK(pthread_barrier_init(&mt_start, NULL, MT_THREADS + 1) == 0, "barrier init failed");
    for (unsigned i = 0; i < MT_THREADS; i++) {
        mt[i].id = i;
        mt[i].count = mt[i].bytes = 0;
        CHECK(pthread_create(&mt[i].t, NULL, mt_fill, &mt[i]) == 0, "%s: pthread_create", round);
    }
    pthread_barrier_wait(&mt_start);
    size_t bytes = 0;
    for (unsigned i = 0; i < MT_THREADS; i++) {
        CHECK(pthread_join(mt[i].t, NULL) == 0, "%s: pthread_join failed", round);
        bytes += mt[i].bytes;
    }
    pthread_barrier_destroy(&mt_start);
    /* Every block intact; freed here, on another thread than its own. */
    for (unsigned i = 0; i < MT_THREADS; i++)
        for (size_t b = 0; b < mt[i].count; b++) {
            struct mt_blk *x = &mt[i].blk[b];
            CHECK(x->p[0] == (unsigned char)i && x->p[x->n - 1] == (unsigned char)x->n,
                  "%s: block of %zu bytes corrupted", round, x->n);
            T_free(x->p);
        }
    T_malloc_trim(0);
    size_t problems = heap_check_any();
    CHECK(problems == 0, "%s: lx_heap_check found %zu problems", round, problems);
    return bytes;
}

static void child_threads(void)
{
    T_free(T_malloc(100));
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = vm_size() + 512 * LXT_MIB + MT_THREADS * 16 * LXT_MIB;
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit(RLIMIT_AS) failed: %s", strerror(errno));
    size_t first = mt_round("mixed, first round");
    CHECK(first >= 128 * LXT_MIB, "only %zu MiB allocated by 4 threads under ~512 MiB",
          first / LXT_MIB);
    size_t second = mt_round("mixed, second round");
    CHECK(second >= first / 2, "after freeing %zu MiB only %zu MiB could be allocated again",
          first / LXT_MIB, second / LXT_MIB);
    void *s[100];
    for (int i = 0; i < 100; i++) {
        s[i] = T_malloc((size_t)i * 40 + 1);
        CHECK(s[i] != NULL, "malloc after the mixed rounds returned NULL");
    }
    for (int i = 0; i < 100; i++)
        T_free(s[i]);
    _exit(0);
}

static void run_child(void (*fn)(void), const char *what)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed: %s", strerror(errno));
    if (pid == 0)
        fn();
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed: %s", strerror(errno));
    CHECK(WIFEXITED(st), "%s: child killed by signal %d", what,
          WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    CHECK(WEXITSTATUS(st) == 0, "%s: child exited with status %d", what, WEXITSTATUS(st));
}

int main(void)
{
    lxt_require_lxmalloc();
    run_child(child, "1 MiB blocks");
    run_child(child_threads, "mixed sizes, 4 threads");
    return 0;
}
