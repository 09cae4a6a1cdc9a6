/*
 * Running out of address space: in a forked child limited with RLIMIT_AS to about
 * 1 GiB above its current size, allocating 1 MiB blocks eventually fails with NULL
 * and errno ENOMEM; after freeing everything the same amount can be allocated
 * again. The same is done with huge (3 MiB) and small (32 KiB) blocks, and each
 * round must leave the memory reusable by the next one (1 MiB blocks at the end).
 */
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

int main(void)
{
    lxt_require_lxmalloc();
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed: %s", strerror(errno));
    if (pid == 0)
        child();
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed: %s", strerror(errno));
    CHECK(WIFEXITED(st), "child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    CHECK(WEXITSTATUS(st) == 0, "child exited with status %d", WEXITSTATUS(st));
    return 0;
}
