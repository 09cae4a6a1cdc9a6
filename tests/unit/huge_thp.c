/* Unit test of transparent huge pages for huge blocks. By default the first
 * huge blocks of a program get no advice (their VMA in /proc/self/smaps shows
 * neither "hg" nor "nh"); once a huge block has been freed, or grown by realloc,
 * every new huge mapping asks for huge pages ("hg"), and so does the new end of
 * a block that mremap had to move. LXMALLOC_THP=1 asks from the first block,
 * LXMALLOC_THP=0 refuses them ("nh"); the test runs itself again under both
 * settings. A block that realloc grows to half a huge page or more maps up to a
 * huge-page boundary (its usable size ends on one), from a large run and from a
 * huge block alike, unless huge pages are refused; malloc does not round. */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "lxt.h"
#include "segment.h"

#define MIB ((size_t)1 << 20)

/* The VmFlags of the mapping that holds p: whether it has `flag` ("hg", "nh"). */
static bool vma_has_flag(const void *p, const char *flag)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    CHECK(f != NULL, "open /proc/self/smaps");
    char line[512];
    bool inside = false, found = false, seen = false;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            char want[8];
            snprintf(want, sizeof want, " %s", flag);
            found = strstr(line, want) != NULL;
            seen = true;
            break;
        }
    }
    fclose(f);
    CHECK(seen, "no mapping holds %p", p);
    return found;
}

/* Does the block at p (a huge block) end on a huge-page boundary? */
static bool ends_on_huge_page(const void *p)
{
    uintptr_t end = (uintptr_t)p + lx_malloc_usable_size((void *)p);
    return end % LX_HUGE_PAGE_SIZE == 0;
}

/* `mode`: the LXMALLOC_THP value the process runs with, NULL when unset. */
static void advice(const char *mode)
{
    /* A kernel built without transparent huge pages refuses the advice. */
    bool thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
    if (!thp)
        printf("huge_thp: no transparent huge pages in this kernel: advice not checked\n");
    const char *flag = mode != NULL && strcmp(mode, "0") == 0 ? "nh" : "hg";
    uint8_t *p = lx_malloc(5 * MIB);
    CHECK(p != NULL && segment_huge_containing(p) != NULL, "5 MiB is a huge block");
    if (mode == NULL) {
        /* The program's first huge block: no advice either way. */
        CHECK(!thp || (!vma_has_flag(p, "hg") && !vma_has_flag(p, "nh")),
              "the first huge block was advised");
        /* Freed (and the cache emptied, so that the next one is mapped anew). */
        lx_free(p);
        lx_malloc_trim(0);
        p = lx_malloc(5 * MIB);
        CHECK(p != NULL && segment_huge_containing(p) != NULL, "5 MiB is a huge block");
    }
    CHECK(!thp || vma_has_flag(p, flag), "a huge block's mapping lacks \"%s\"", flag);
    CHECK(!thp || vma_has_flag(p + 5 * MIB - 1, flag), "the end of a huge block's mapping lacks \"%s\"",
          flag);

    /* A mapping right behind the block keeps it from growing in place: mremap
     * moves it, and its new end is the new reservation's. */
    struct segment *s = segment_huge_containing(p);
    uint8_t *behind = (uint8_t *)s + s->huge_map_size;
    void *wall = mmap(behind, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                      -1, 0);
    CHECK(wall == behind || wall == MAP_FAILED, "mmap at a hint");
    memset(p, 0x44, 5 * MIB);
    uint8_t *q = lx_realloc(p, 20 * MIB);
    CHECK(q != NULL, "realloc to 20 MiB");
    CHECK(wall == MAP_FAILED || q != p, "the block grew through the mapping behind it");
    for (size_t i = 0; i < 5 * MIB; i += 4096)
        CHECK(q[i] == 0x44, "byte %zu lost by the growth", i);
    CHECK(!thp || vma_has_flag(q + 20 * MIB - 1, flag), "the new end of a moved block lacks \"%s\"", flag);
    if (wall != MAP_FAILED)
        munmap(wall, 4096);
    lx_free(q);
}

static void growth_rounding(bool refused)
{
    /* malloc does not round: a fresh 3 MiB block (no cached mapping to take,
     * which would be cut at a segment boundary) ends where it was asked to. */
    lx_malloc_trim(0);
    uint8_t *m = lx_malloc(3 * MIB);
    CHECK(m != NULL && lx_malloc_usable_size(m) < 3 * MIB + LX_PAGE_SIZE, "malloc rounded up");
    lx_free(m);
    lx_malloc_trim(0);

    /* A large run that realloc grows past half a huge page becomes a huge block
     * whose mapping ends on a huge-page boundary (a fresh one: a cached mapping
     * that fits is taken as it is, up to a segment). */
    uint8_t *p = lx_malloc(100 << 10);
    CHECK(p != NULL && segmap_get((uintptr_t)p) == SEGMAP_NORMAL, "100 KiB is a large run");
    memset(p, 0x11, 100 << 10);
    p = lx_realloc(p, 1200 << 10);
    CHECK(p != NULL && segment_huge_containing(p) != NULL, "1200 KiB grown is not a huge block");
    CHECK(ends_on_huge_page(p) == !refused, "a run grown to 1200 KiB ends %zu bytes into a huge page",
          (size_t)(((uintptr_t)p + lx_malloc_usable_size(p)) % LX_HUGE_PAGE_SIZE));
    CHECK(!refused || lx_malloc_usable_size(p) < (1200 << 10) + LX_PAGE_SIZE,
          "rounded up with huge pages refused");
    /* A huge block growing: the same. */
    p = lx_realloc(p, 2 * MIB + 100);
    CHECK(p != NULL && ends_on_huge_page(p) == !refused, "a huge block grown past 2 MiB");
    CHECK(lx_malloc_usable_size(p) >= 2 * MIB + 100, "usable size");
    for (size_t i = 0; i < (100 << 10); i++)
        CHECK(p[i] == 0x11, "byte %zu lost", i);
    lx_free(p);

    /* Below half a huge page a growing block is not rounded. */
    lx_malloc_trim(0);
    uint8_t *r = lx_malloc(100 << 10);
    CHECK(r != NULL, "malloc 100 KiB");
    r = lx_realloc(r, 300 << 10);
    CHECK(r != NULL && segment_huge_containing(r) != NULL, "300 KiB grown is not a huge block");
    CHECK(lx_malloc_usable_size(r) < (300 << 10) + LX_PAGE_SIZE, "a 300 KiB block was rounded up");
    lx_free(r);
}

/* Run this test again with LXMALLOC_THP set (options are read at the first
 * allocation, so in a new process). */
static void run_with(char **argv, const char *value)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        setenv("LXMALLOC_THP", value, 1);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "LXMALLOC_THP=%s run failed (%d)", value,
          status);
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *thp = getenv("LXMALLOC_THP");
    bool refused = thp != NULL && strcmp(thp, "0") == 0;
    advice(thp);
    growth_rounding(refused);
    CHECK(lx_heap_check() == 0, "heap check");
    if (thp == NULL) {
        run_with(argv, "0");
        run_with(argv, "1");
    }
    printf("huge_thp: ok%s%s\n", thp != NULL ? " LXMALLOC_THP=" : "", thp != NULL ? thp : "");
    return 0;
}
