/* Under RLIMIT_AS lxmalloc must not fail far earlier than glibc: in forked
 * children with the same address-space headroom, lxmalloc fits at least 85% of
 * what glibc's malloc fits (mixed small, large and huge blocks); at the limit it
 * returns NULL with ENOMEM, and after freeing, it allocates again. The gap comes
 * from buddy remainders: a 49-page run takes a 64-page block and the 15 pages
 * left over serve only smaller requests (see docs/ARCHITECTURE.md). */
#include <sys/resource.h>
#include <sys/wait.h>

#include "lxt.h"

#define HEADROOM ((size_t)384 << 20)
#define MAXBLOCKS 200000

static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0;
    CHECK(f != NULL && fscanf(f, "%lu", &size) == 1, "statm");
    fclose(f);
    return size * (size_t)sysconf(_SC_PAGESIZE);
}

static void *blocks[MAXBLOCKS];

/* Fill the address space; returns the bytes that fit. */
static size_t fill(int lx)
{
    size_t total = 0;
    int n = 0;
    for (; n < MAXBLOCKS; n++) {
        size_t sz = n % 50 == 0 ? ((size_t)3 << 20) : n % 7 == 0 ? 200000 : 2000;
        errno = 0;
        void *p = lx ? lx_malloc(sz) : malloc(sz);
        if (p == NULL) {
            CHECK(errno == ENOMEM, "errno %d at the limit", errno);
            break;
        }
        memset(p, 1, sz < 4096 ? sz : 4096);
        blocks[n] = p;
        total += sz;
    }
    CHECK(n < MAXBLOCKS, "never reached the limit");
    for (int i = 0; i < n; i++) {
        if (lx)
            lx_free(blocks[i]);
        else
            free(blocks[i]);
    }
    return total;
}

static size_t child_capacity(int lx)
{
    int fd[2];
    CHECK(pipe(fd) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(fd[0]);
        struct rlimit rl = {vm_size() + HEADROOM, vm_size() + HEADROOM};
        CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
        size_t got = fill(lx);
        if (lx) {
            /* After freeing everything the heap works again, up to the limit. */
            size_t again = fill(lx);
            CHECK(again * 10 >= got * 9, "second fill %zu MiB after %zu MiB", again >> 20,
                  got >> 20);
            CHECK(lx_heap_check() == 0, "heap check");
        }
        CHECK(write(fd[1], &got, sizeof(got)) == (ssize_t)sizeof(got), "write");
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r = read(fd[0], &got, sizeof(got));
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && r == (ssize_t)sizeof(got),
          "%s child failed (status %d)", lx ? "lxmalloc" : "glibc", status);
    return got;
}

int main(void)
{
    size_t glibc = child_capacity(0);
    size_t lx = child_capacity(1);
    printf("under RLIMIT_AS with %zu MiB headroom: glibc %zu MiB, lxmalloc %zu MiB\n",
           HEADROOM >> 20, glibc >> 20, lx >> 20);
    CHECK(lx * 100 >= glibc * 85, "lxmalloc fits %zu MiB where glibc fits %zu MiB", lx >> 20,
          glibc >> 20);
    return 0;
}
