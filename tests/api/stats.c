/*
 * lxmalloc's own statistics: lx_stats_get's counters follow what the program does
 * (malloc_count, free_count, alloc_bytes, live_bytes, huge_count/huge_bytes for a
 * directly mapped block, mapped_bytes <= peak_mapped_bytes); lx_stats_print_summary
 * writes the documented one-line format; LXMALLOC_STATS_FILE makes a process append
 * that line at exit (none after _exit), and LXMALLOC_STATS=1 prints the
 * malloc_stats table at exit. Skipped on the system malloc.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "lxt.h"

#define N 5000

typedef int (*stats_fn)(lx_stats_t *);
typedef void (*summary_fn)(int);

static stats_fn get_stats;
static summary_fn summary;

static lx_stats_t snap(void)
{
    lx_stats_t st;
    memset(&st, 0xff, sizeof st);
    CHECK(get_stats(&st) == 0, "lx_stats_get did not return 0");
    return st;
}

static void counters(void)
{
    static void *p[N];
    lx_stats_t a = snap();
    size_t usable = 0;
    for (int i = 0; i < N; i++) {
        p[i] = T_malloc((size_t)(i % 500) + 1);
        CHECK(p[i] != NULL, "malloc returned NULL");
        usable += T_malloc_usable_size(p[i]);
    }
    lx_stats_t b = snap();
    CHECK(b.malloc_count >= a.malloc_count + N, "malloc_count grew by %llu for %d mallocs",
          b.malloc_count - a.malloc_count, N);
    CHECK(b.alloc_bytes >= a.alloc_bytes + usable,
          "alloc_bytes grew by %llu for blocks of %zu usable bytes", b.alloc_bytes - a.alloc_bytes,
          usable);
    CHECK(b.live_bytes >= a.live_bytes + usable - usable / 8,
          "live_bytes grew from %llu to %llu with %zu usable bytes more live", a.live_bytes,
          b.live_bytes, usable);
    CHECK(b.mapped_bytes <= b.peak_mapped_bytes, "mapped_bytes %llu > peak_mapped_bytes %llu",
          b.mapped_bytes, b.peak_mapped_bytes);
    CHECK(b.mapped_bytes >= b.live_bytes, "mapped_bytes %llu < live_bytes %llu", b.mapped_bytes,
          b.live_bytes);
    CHECK(b.heap_count >= 1 && b.segment_count >= 1, "heap_count %llu, segment_count %llu",
          b.heap_count, b.segment_count);
    CHECK(b.os_mmap_count >= 1, "os_mmap_count is 0 with memory mapped");
    for (int i = 0; i < N; i++)
        T_free(p[i]);
    lx_stats_t c = snap();
    CHECK(c.free_count >= b.free_count + N, "free_count grew by %llu for %d frees",
          c.free_count - b.free_count, N);
    CHECK(c.live_bytes <= a.live_bytes + usable / 8,
          "live_bytes %llu after freeing everything (%llu before allocating)", c.live_bytes,
          a.live_bytes);

    void *h = T_malloc(5 * LXT_MIB);
    CHECK(h != NULL, "malloc(5 MiB) returned NULL");
    lx_stats_t d = snap();
    CHECK(d.huge_count >= c.huge_count + 1, "huge_count %llu -> %llu with a 5 MiB block live",
          c.huge_count, d.huge_count);
    CHECK(d.huge_bytes >= c.huge_bytes + 5 * LXT_MIB, "huge_bytes %llu -> %llu with a 5 MiB block",
          c.huge_bytes, d.huge_bytes);
    CHECK(d.live_bytes >= c.live_bytes + 5 * LXT_MIB, "live_bytes %llu -> %llu with a 5 MiB block",
          c.live_bytes, d.live_bytes);
    T_free(h);
    lx_stats_t e = snap();
    CHECK(e.huge_count + 1 <= d.huge_count, "huge_count still %llu after freeing the huge block",
          e.huge_count);
}

/* "lxmalloc-stats pid=N allocs=N frees=N alloc_bytes=N live_bytes=N peak_live_bytes=N
 *  mapped_bytes=N peak_mapped_bytes=N maxrss_kb=N\n" */
static void check_line(const char *line, long pid, const char *what)
{
    static const char *const keys[] = {"pid",          "allocs",        "frees",
                                       "alloc_bytes",  "live_bytes",    "peak_live_bytes",
                                       "mapped_bytes", "peak_mapped_bytes", "maxrss_kb"};
    CHECK(strncmp(line, "lxmalloc-stats ", 15) == 0, "%s: line starts with \"%.30s\"", what, line);
    const char *s = line + 15;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t kl = strlen(keys[k]);
        CHECK(strncmp(s, keys[k], kl) == 0 && s[kl] == '=', "%s: expected %s= at \"%.30s\"", what,
              keys[k], s);
        s += kl + 1;
        char *end;
        long v = strtol(s, &end, 10);
        CHECK(end > s, "%s: %s has no number", what, keys[k]);
        if (k == 0)
            CHECK(v == pid, "%s: pid=%ld, expected %ld", what, v, pid);
        s = end;
        if (k + 1 < sizeof keys / sizeof keys[0]) {
            CHECK(*s == ' ', "%s: expected a space after %s", what, keys[k]);
            s++;
        }
    }
    CHECK(*s == '\n' && s[1] == 0, "%s: expected the line to end after maxrss_kb", what);
}

static size_t read_all(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(fd);
    return n;
}

static void print_summary(void)
{
    char path[] = "/tmp/lxmalloc-stats-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp failed");
    summary(fd);
    close(fd);
    char buf[1024];
    read_all(path, buf, sizeof buf);
    unlink(path);
    check_line(buf, (long)getpid(), "lx_stats_print_summary");
}

/* Run this program as `prog child HOW` with an extra environment variable. */
static int spawn(const char *how, const char *var, const char *errpath)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(len > 0, "readlink failed");
    self[len] = 0;
    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        putenv((char *)var);
        char *argv[] = {self, (char *)"child", (char *)how, NULL};
        execv(self, argv);
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child (%s) failed with status 0x%x", how, st);
    return pid;
}

static void at_exit_output(void)
{
    char file[] = "/tmp/lxmalloc-statsfile-XXXXXX", err[] = "/tmp/lxmalloc-stderr-XXXXXX";
    int fd = mkstemp(file), fe = mkstemp(err);
    CHECK(fd >= 0 && fe >= 0, "mkstemp failed");
    close(fd);
    close(fe);
    unlink(file); /* lxmalloc creates it */
    static char var[256];
    snprintf(var, sizeof var, "LXMALLOC_STATS_FILE=%s", file);

    int pid1 = spawn("exit", var, err);
    int pid2 = spawn("_exit", var, err); /* writes nothing */
    int pid3 = spawn("exit", var, err);
    char buf[4096];
    read_all(file, buf, sizeof buf);
    char *second = strchr(buf, '\n');
    CHECK(second != NULL && second[1] != 0, "LXMALLOC_STATS_FILE has %s line(s), expected 2: %s",
          second == NULL ? "no" : "one", buf);
    second++;
    char first[1024];
    size_t l1 = (size_t)(second - buf);
    CHECK(l1 < sizeof first, "line too long");
    memcpy(first, buf, l1);
    first[l1] = 0;
    check_line(first, pid1, "LXMALLOC_STATS_FILE line of the first child");
    check_line(second, pid3, "LXMALLOC_STATS_FILE line of the third child (the _exit one writes none)");
    (void)pid2;
    unlink(file);

    spawn("exit", "LXMALLOC_STATS=1", err);
    size_t n = read_all(err, buf, sizeof buf);
    CHECK(n > 0, "LXMALLOC_STATS=1 printed nothing on stderr at exit");
    unlink(err);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        void *p = T_malloc(1000);
        memset(p, 1, 1000);
        T_free(p);
        if (strcmp(argv[2], "_exit") == 0)
            _exit(0);
        return 0;
    }
    lxt_require_lxmalloc();
#ifdef LXT_LX_API
    get_stats = lx_stats_get;
    summary = lx_stats_print_summary;
#else
    if (lxt_system_mode()) {
        fprintf(stderr, "lxmalloc's statistics are not in the system malloc\n");
        return 77;
    }
    get_stats = (stats_fn)lxt_sym("lx_stats_get");
    summary = (summary_fn)lxt_sym("lx_stats_print_summary");
    CHECK(get_stats != NULL && summary != NULL, "lx_stats_get or lx_stats_print_summary missing");
#endif
    counters();
    print_summary();
    at_exit_output();
    return 0;
}
