/*
 * Running out of address space: in a forked child limited with RLIMIT_AS to about
 * 1 GiB above its current size, allocating 1 MiB blocks (each written) eventually
 * fails with NULL and errno ENOMEM; after freeing everything, the same amount can be
 * allocated again and small allocations work.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include "lxt.h"

#define MAXBLK 8192

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

static size_t fill_until_failure(void **blk, const char *round)
{
    size_t n = 0;
    for (;;) {
        CHECK(n < MAXBLK, "%s: %d MiB allocated under a ~1 GiB RLIMIT_AS without failing",
              round, MAXBLK);
        errno = 0;
        void *p = T_malloc(LXT_MIB);
        if (p == NULL) {
            CHECK(errno == ENOMEM, "%s: malloc(1 MiB) failed with errno %d, expected ENOMEM",
                  round, errno);
            return n;
        }
        memset(p, (int)(n & 0xff), 4096);
        ((unsigned char *)p)[LXT_MIB - 1] = (unsigned char)n;
        blk[n++] = p;
    }
}

static void free_all(void **blk, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = blk[i];
        CHECK(p[0] == (unsigned char)i && p[LXT_MIB - 1] == (unsigned char)i,
              "block %zu corrupted", i);
        T_free(p);
    }
}

static void child(void)
{
    static void *blk[MAXBLK];
    /* Initialise the allocator (and this thread's heap) before lowering the limit. */
    T_free(T_malloc(100));
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = vm_size() + 1024 * LXT_MIB;
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit(RLIMIT_AS) failed: %s", strerror(errno));

    size_t first = fill_until_failure(blk, "first round");
    CHECK(first >= 256, "only %zu MiB could be allocated with ~1 GiB of address space", first);
    free_all(blk, first);

    /* Small blocks work again once memory is back. */
    void *s[1000];
    for (int i = 0; i < 1000; i++) {
        s[i] = T_malloc((size_t)(i % 200) + 1);
        CHECK(s[i] != NULL, "malloc(%d) after freeing everything returned NULL", i % 200 + 1);
    }
    for (int i = 0; i < 1000; i++)
        T_free(s[i]);

    size_t second = fill_until_failure(blk, "second round");
    CHECK(second + first / 8 >= first,
          "after freeing %zu MiB only %zu MiB could be allocated again", first, second);
    free_all(blk, second);
    void *p = T_malloc(LXT_MIB);
    CHECK(p != NULL, "malloc(1 MiB) after the second round returned NULL");
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
