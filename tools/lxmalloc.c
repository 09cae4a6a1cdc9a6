/* SPDX-License-Identifier: MIT */
/*
 * lxmalloc — run a program with liblxmalloc.so preloaded, optionally reporting
 * the allocator's statistics when it ends.
 *
 *   lxmalloc run [--stats] [--trace FILE] [--leaks] [--profile FILE] [--lib PATH]
 *                [--verbose] -- PROG ARGS...
 *   lxmalloc maps [PID]            (tools/maps.c)
 *   lxmalloc plot TRACE -o OUT.svg (tools/plot.c)
 *   lxmalloc --help | --version
 *
 * This is an ordinary program: it uses stdio and the system malloc. It never
 * goes through a shell: the program is started with fork + execvp.
 */
#include "lxmalloc.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LX_DEFAULT_LIBDIR
#define LX_DEFAULT_LIBDIR "/usr/local/lib"
#endif

#define LIB_NAME "liblxmalloc.so"
#define STATS_TAG "lxmalloc-stats"

/* Exit statuses of the command itself (the program's own status otherwise). */
#define EXIT_USAGE 2
#define EXIT_EXEC_FAILED 127

static const char *prog_name = "lxmalloc";

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void msg(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ------------------------------------------------------------------------ */
/* Help                                                                      */

static void print_main_usage(FILE *out)
{
    fprintf(out,
            "Usage: lxmalloc run [--stats] [--trace FILE] [--leaks] [--profile FILE]\n"
            "                    [--lib PATH] [--verbose] -- PROG [ARGS...]\n"
            "       lxmalloc maps [PID]\n"
            "       lxmalloc plot TRACE -o OUT.svg\n"
            "       lxmalloc --help\n"
            "       lxmalloc --version\n"
            "\n"
            "Run PROG with the lxmalloc allocator (liblxmalloc.so) preloaded, so that\n"
            "its malloc, free, realloc, ... and those of the programs it starts are\n"
            "lxmalloc's. The exit status is PROG's.\n"
            "\n"
            "Commands:\n"
            "  run            run a program with lxmalloc (see 'lxmalloc run --help')\n"
            "  maps           show a process's memory layout (see 'lxmalloc maps --help')\n"
            "  plot           draw a trace of 'run --trace' as SVG ('lxmalloc plot --help')\n"
            "\n"
            "Options:\n"
            "  -h, --help     show this help and exit\n"
            "  -V, --version  show the version and exit\n"
            "\n"
            "The allocator reads its settings from the environment (LXMALLOC_MMAP_THRESHOLD,\n"
            "LXMALLOC_ARENA_MAX, LXMALLOC_CHECK, ...): see lxmalloc(3).\n");
}

static void print_run_usage(FILE *out)
{
    fprintf(out,
            "Usage: lxmalloc run [--stats] [--trace FILE] [--leaks] [--profile FILE]\n"
            "                    [--lib PATH] [--verbose] -- PROG [ARGS...]\n"
            "\n"
            "Run PROG with liblxmalloc.so added at the front of LD_PRELOAD.\n"
            "\n"
            "Options:\n"
            "  -s, --stats       when PROG ends, print a summary of its allocations\n"
            "                    (and a total for any other processes it started) to\n"
            "                    standard error\n"
            "  -t, --trace FILE  write a time series of PROG's memory to FILE (emptied\n"
            "                    first; sets LXMALLOC_TRACE): see 'lxmalloc plot'\n"
            "      --leaks       when PROG ends, list the blocks it never freed, grouped by\n"
            "                    the stack that allocated them, on standard error\n"
            "                    (LXMALLOC_LEAKS=1)\n"
            "      --profile FILE  sample PROG's allocations (about one per 512 KiB) and\n"
            "                    write FILE.heap (pprof's heap format), FILE.folded and\n"
            "                    FILE.alloc.folded (flame graph stacks) when it ends\n"
            "                    (LXMALLOC_PROFILE=FILE)\n"
            "  -l, --lib PATH    preload this library instead of searching for it\n"
            "  -v, --verbose     say which library is preloaded\n"
            "  -h, --help        show this help and exit\n"
            "\n"
            "Without --lib the library is searched for next to this command's executable,\n"
            "then in " LX_DEFAULT_LIBDIR ", then in ../lib beside the executable's directory.\n"
            "\n"
            "Exit status: PROG's status; 128+N if PROG was killed by signal N; 127 if\n"
            "PROG could not be started; 2 on a usage error or if the library is missing.\n");
}

/* ------------------------------------------------------------------------ */
/* Finding the library                                                        */

/* Returns a malloc'd string "dir/name". */
static char *join_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = malloc(dl + 1 + nl + 1);
    if (p == NULL) {
        msg("out of memory");
        exit(EXIT_USAGE);
    }
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directory holding this command's own executable, malloc'd, or NULL. */
static char *self_dir(void)
{
    size_t cap = 256;
    for (;;) {
        char *buf = malloc(cap);
        if (buf == NULL)
            return NULL;
        ssize_t n = readlink("/proc/self/exe", buf, cap);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            char *slash = strrchr(buf, '/');
            if (slash == NULL) {
                free(buf);
                return NULL;
            }
            if (slash == buf)
                slash[1] = '\0'; /* the executable is in "/" */
            else
                *slash = '\0';
            return buf;
        }
        free(buf);
        if (cap > (size_t)1 << 20)
            return NULL;
        cap *= 2;
    }
}

/*
 * Resolve the library to preload: --lib if given, else the first of the places
 * listed below that has it. Returns an absolute, malloc'd path, or NULL after
 * printing why.
 */
static char *find_library(const char *lib_opt, bool verbose)
{
    char *candidate = NULL;

    if (lib_opt != NULL) {
        if (!is_regular_file(lib_opt)) {
            struct stat st;
            if (stat(lib_opt, &st) != 0)
                msg("--lib %s: %s", lib_opt, strerror(errno));
            else
                msg("--lib %s: not a regular file", lib_opt);
            return NULL;
        }
        candidate = realpath(lib_opt, NULL);
        if (candidate == NULL) {
            msg("--lib %s: %s", lib_opt, strerror(errno));
            return NULL;
        }
    } else {
        /*
         * 1. next to the executable (the build directory holds both);
         * 2. the library directory of the prefix the command was built for;
         * 3. ../lib beside the executable's directory: an installed tree that
         *    was moved, or installed with another PREFIX than it was built with.
         */
        char *dir = self_dir();
        char *places[3] = {NULL, NULL, NULL};
        places[0] = dir != NULL ? join_path(dir, LIB_NAME) : NULL;
        places[1] = join_path(LX_DEFAULT_LIBDIR, LIB_NAME);
        places[2] = dir != NULL ? join_path(dir, "../lib/" LIB_NAME) : NULL;
        free(dir);
        for (size_t i = 0; i < 3; i++) {
            if (candidate == NULL && places[i] != NULL && is_regular_file(places[i])) {
                candidate = places[i];
                places[i] = NULL;
            }
        }
        if (candidate == NULL) {
            msg("cannot find " LIB_NAME " (looked for %s, %s and %s); build it with 'make' "
                "or give its path with --lib PATH",
                places[0] != NULL ? places[0] : "it next to this command", places[1],
                places[2] != NULL ? places[2] : "../lib");
        }
        for (size_t i = 0; i < 3; i++)
            free(places[i]);
        if (candidate == NULL)
            return NULL;
        /* Make it absolute so programs that change directory still find it. */
        char *abs = realpath(candidate, NULL);
        if (abs != NULL) {
            free(candidate);
            candidate = abs;
        }
    }

    /* ld.so splits LD_PRELOAD at colons and spaces: such a path cannot be preloaded. */
    if (strpbrk(candidate, ": \t") != NULL) {
        msg("cannot preload '%s': LD_PRELOAD cannot hold a path with a colon or a space; "
            "copy or link the library to another path",
            candidate);
        free(candidate);
        return NULL;
    }
    if (verbose)
        msg("preloading %s", candidate);
    return candidate;
}

/* LD_PRELOAD=<lib>[:<previous value>] in this process's environment (inherited by the child). */
static int prepend_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (old == NULL || old[0] == '\0')
        return setenv("LD_PRELOAD", lib, 1);
    size_t ll = strlen(lib), ol = strlen(old);
    char *val = malloc(ll + 1 + ol + 1);
    if (val == NULL)
        return -1;
    memcpy(val, lib, ll);
    val[ll] = ':';
    memcpy(val + ll + 1, old, ol + 1);
    int rc = setenv("LD_PRELOAD", val, 1);
    free(val);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Statistics file                                                            */

typedef struct proc_stats {
    unsigned long long pid;
    unsigned long long allocs;
    unsigned long long frees;
    unsigned long long alloc_bytes;
    unsigned long long live_bytes;
    unsigned long long peak_live_bytes;
    unsigned long long mapped_bytes;
    unsigned long long peak_mapped_bytes;
    unsigned long long maxrss_kb;
} proc_stats_t;

/* Creates the temporary file. Returns its descriptor (close-on-exec) and sets *path_out. */
static int make_stats_file(char **path_out)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    char *path = join_path(dir, "lxmalloc-stats.XXXXXX");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        msg("cannot create a statistics file in %s: %s", dir, strerror(errno));
        free(path);
        return -1;
    }
    *path_out = path;
    return fd;
}

/* Reads the whole file from the start into a malloc'd, NUL-terminated buffer. */
static char *read_all(int fd, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    if (lseek(fd, 0, SEEK_SET) < 0) {
        free(buf);
        return NULL;
    }
    for (;;) {
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

/* Parses one "lxmalloc-stats key=value ..." line (NUL-terminated, no newline). */
static bool parse_stats_line(char *line, proc_stats_t *out)
{
    size_t tl = strlen(STATS_TAG);
    if (strncmp(line, STATS_TAG, tl) != 0 || (line[tl] != ' ' && line[tl] != '\t'))
        return false;
    memset(out, 0, sizeof *out);
    bool have_pid = false;
    char *save = NULL;
    for (char *tok = strtok_r(line + tl, " \t\r", &save); tok != NULL;
         tok = strtok_r(NULL, " \t\r", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        const char *val = eq + 1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(val, &end, 10);
        if (errno != 0 || end == val || *end != '\0' || val[0] == '-')
            continue;
        if (strcmp(tok, "pid") == 0) {
            out->pid = v;
            have_pid = true;
        } else if (strcmp(tok, "allocs") == 0) {
            out->allocs = v;
        } else if (strcmp(tok, "frees") == 0) {
            out->frees = v;
        } else if (strcmp(tok, "alloc_bytes") == 0) {
            out->alloc_bytes = v;
        } else if (strcmp(tok, "live_bytes") == 0) {
            out->live_bytes = v;
        } else if (strcmp(tok, "peak_live_bytes") == 0) {
            out->peak_live_bytes = v;
        } else if (strcmp(tok, "mapped_bytes") == 0) {
            out->mapped_bytes = v;
        } else if (strcmp(tok, "peak_mapped_bytes") == 0) {
            out->peak_mapped_bytes = v;
        } else if (strcmp(tok, "maxrss_kb") == 0) {
            out->maxrss_kb = v;
        }
    }
    return have_pid;
}

/* "1,234,567" */
static const char *fmt_count(char buf[32], unsigned long long v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", v);
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL && s[1] != '\0' ? s + 1 : path;
}

static void describe_status(char *buf, size_t len, int status)
{
    if (WIFEXITED(status)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *name = strsignal(sig);
        snprintf(buf, len, "was killed by signal %d (%s)%s", sig, name != NULL ? name : "?",
                 WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        snprintf(buf, len, "ended with wait status 0x%x", (unsigned)status);
    }
}

static void print_summary(char *text, pid_t child, const char *argv0, int status,
                          const struct rusage *ru)
{
    proc_stats_t main_ps, others;
    bool have_main = false;
    unsigned long long n_others = 0;
    memset(&main_ps, 0, sizeof main_ps);
    memset(&others, 0, sizeof others);

    /* The text is a private copy: strtok_r may cut it up. */
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        proc_stats_t ps;
        if (!parse_stats_line(line, &ps))
            continue;
        if (ps.pid == (unsigned long long)child) {
            /* A pid is not reused while we have not reaped it: one line at most. */
            main_ps = ps;
            have_main = true;
        } else {
            n_others++;
            others.allocs += ps.allocs;
            others.frees += ps.frees;
            others.alloc_bytes += ps.alloc_bytes;
            if (ps.peak_live_bytes > others.peak_live_bytes)
                others.peak_live_bytes = ps.peak_live_bytes;
            if (ps.peak_mapped_bytes > others.peak_mapped_bytes)
                others.peak_mapped_bytes = ps.peak_mapped_bytes;
        }
    }

    char how[128], a[32], b[32], c[32];
    describe_status(how, sizeof how, status);
    /* ru_maxrss is in KiB on Linux. */
    unsigned long long rss = ru->ru_maxrss > 0 ? (unsigned long long)ru->ru_maxrss * 1024ULL : 0;

    fprintf(stderr, "lxmalloc: %s (pid %ld) %s\n", base_name(argv0), (long)child, how);
    if (have_main) {
        fprintf(stderr, "  allocations      %s\n", fmt_count(a, main_ps.allocs));
        fprintf(stderr, "  frees            %s\n", fmt_count(a, main_ps.frees));
        fprintf(stderr, "  bytes allocated  %s\n", tool_bytes(a, main_ps.alloc_bytes));
        fprintf(stderr, "  peak live        %s\n", tool_bytes(a, main_ps.peak_live_bytes));
        fprintf(stderr, "  peak mapped      %s\n", tool_bytes(a, main_ps.peak_mapped_bytes));
        fprintf(stderr, "  peak RSS         %s\n", tool_bytes(a, rss));
    } else {
        if (WIFSIGNALED(status))
            fprintf(stderr,
                    "  no statistics from this process: it was killed before it could "
                    "write them\n");
        else
            fprintf(stderr,
                    "  no statistics from this process: lxmalloc was not loaded into it "
                    "(statically\n  linked and set-user-ID programs ignore LD_PRELOAD), "
                    "it never allocated, or it\n  ended without running its exit handlers "
                    "(_exit)\n");
        fprintf(stderr, "  peak RSS         %s\n", tool_bytes(a, rss));
    }
    if (n_others > 0) {
        fprintf(stderr, "  %llu more process%s: allocs %s, frees %s, bytes allocated %s\n",
                n_others, n_others == 1 ? "" : "es", fmt_count(a, others.allocs),
                fmt_count(b, others.frees), tool_bytes(c, others.alloc_bytes));
    }
}

/* ------------------------------------------------------------------------ */
/* Running the program                                                        */

static volatile sig_atomic_t child_pid_for_signals;

static void forward_signal(int sig)
{
    pid_t p = (pid_t)child_pid_for_signals;
    if (p > 0)
        kill(p, sig);
}

/* Signals a terminal sends to the whole foreground group: the child gets them too. */
static const int ignored_signals[] = {SIGINT, SIGQUIT};
/* Signals sent to this command alone: passed on to the child. */
static const int forwarded_signals[] = {SIGTERM, SIGHUP};

#define NSIG_LIST(a) (sizeof(a) / sizeof((a)[0]))

static int run_program(char **argv, bool stats, const char *lib_opt, bool verbose)
{
    char *lib = find_library(lib_opt, verbose);
    if (lib == NULL)
        return EXIT_USAGE;
    if (prepend_preload(lib) != 0) {
        msg("cannot set LD_PRELOAD: %s", strerror(errno));
        free(lib);
        return EXIT_USAGE;
    }
    free(lib);

    char *stats_path = NULL;
    int stats_fd = -1;
    if (stats) {
        stats_fd = make_stats_file(&stats_path);
        if (stats_fd < 0)
            return EXIT_USAGE;
        if (setenv("LXMALLOC_STATS_FILE", stats_path, 1) != 0) {
            msg("cannot set LXMALLOC_STATS_FILE: %s", strerror(errno));
            unlink(stats_path);
            free(stats_path);
            close(stats_fd);
            return EXIT_USAGE;
        }
    }

    /* A close-on-exec pipe tells the parent whether execvp failed, and why. */
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        msg("pipe: %s", strerror(errno));
        if (stats_path != NULL)
            unlink(stats_path);
        return EXIT_USAGE;
    }

    /* Hold the signals we handle until the child exists, so none is lost or misrouted. */
    sigset_t block, old_mask;
    sigemptyset(&block);
    for (size_t i = 0; i < NSIG_LIST(ignored_signals); i++)
        sigaddset(&block, ignored_signals[i]);
    for (size_t i = 0; i < NSIG_LIST(forwarded_signals); i++)
        sigaddset(&block, forwarded_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &old_mask);

    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        msg("fork: %s", strerror(e));
        if (stats_path != NULL)
            unlink(stats_path);
        return EXIT_USAGE;
    }
    if (child == 0) {
        /* Dispositions here are still the inherited ones; restore the mask and exec. */
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        close(errpipe[0]);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w;
        do
            w = write(errpipe[1], &e, sizeof e);
        while (w < 0 && errno == EINTR);
        _exit(EXIT_EXEC_FAILED);
    }

    /* Parent. */
    child_pid_for_signals = (sig_atomic_t)child;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < NSIG_LIST(ignored_signals); i++)
        sigaction(ignored_signals[i], &sa, NULL);
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < NSIG_LIST(forwarded_signals); i++)
        sigaction(forwarded_signals[i], &sa, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);

    close(errpipe[1]);
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(errpipe[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close(errpipe[0]);
    bool exec_failed = got == (ssize_t)sizeof exec_errno;

    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t w;
    do
        w = wait4(child, &status, 0, &ru);
    while (w < 0 && errno == EINTR);
    child_pid_for_signals = 0;

    int rc;
    if (w < 0) {
        msg("waiting for %s: %s", argv[0], strerror(errno));
        rc = EXIT_USAGE;
    } else if (exec_failed) {
        msg("cannot run '%s': %s", argv[0], strerror(exec_errno));
        rc = EXIT_EXEC_FAILED;
    } else if (WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        rc = 128 + WTERMSIG(status);
    } else {
        rc = EXIT_USAGE;
    }

    if (stats) {
        if (w >= 0 && !exec_failed) {
            size_t len = 0;
            char *text = read_all(stats_fd, &len);
            if (text == NULL) {
                msg("cannot read the statistics file %s: %s", stats_path, strerror(errno));
            } else {
                print_summary(text, child, argv[0], status, &ru);
                free(text);
            }
        }
        close(stats_fd);
        unlink(stats_path);
        free(stats_path);
    }
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    bool stats = false, verbose = false;
    const char *lib = NULL;
    int i = 1; /* argv[0] is "run" */

    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break; /* the program's name */
        if (strcmp(a, "-s") == 0 || strcmp(a, "--stats") == 0) {
            stats = true;
        } else if (strcmp(a, "--leaks") == 0) {
            if (setenv("LXMALLOC_LEAKS", "1", 1) != 0) {
                msg("cannot set LXMALLOC_LEAKS: %s", strerror(errno));
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--profile") == 0 || strncmp(a, "--profile=", 10) == 0) {
            const char *profile;
            if (a[9] == '=') {
                profile = a + 10;
            } else if (i + 1 >= argc) {
                msg("--profile needs a file name");
                return EXIT_USAGE;
            } else {
                profile = argv[++i];
            }
            if (profile[0] == '\0') {
                msg("--profile needs a file name");
                return EXIT_USAGE;
            }
            if (setenv("LXMALLOC_PROFILE", profile, 1) != 0) {
                msg("cannot set LXMALLOC_PROFILE: %s", strerror(errno));
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_run_usage(stdout);
            return 0;
        } else if (strcmp(a, "-l") == 0 || strcmp(a, "--lib") == 0) {
            if (i + 1 >= argc) {
                msg("%s needs a path", a);
                return EXIT_USAGE;
            }
            lib = argv[++i];
        } else if (strncmp(a, "--lib=", 6) == 0) {
            lib = a + 6;
        } else if (strcmp(a, "-t") == 0 || strcmp(a, "--trace") == 0 ||
                   strncmp(a, "--trace=", 8) == 0) {
            bool inline_value = strncmp(a, "--trace=", 8) == 0;
            const char *file = inline_value ? a + 8 : i + 1 < argc ? argv[++i] : NULL;
            if (!trace_prepare(file))
                return EXIT_USAGE;
        } else {
            msg("run: unknown option '%s' (see 'lxmalloc run --help')", a);
            return EXIT_USAGE;
        }
        i++;
    }
    if (lib != NULL && lib[0] == '\0') {
        msg("--lib needs a path");
        return EXIT_USAGE;
    }
    if (i >= argc) {
        msg("run: no program given (usage: lxmalloc run [--stats] [--trace FILE] [--leaks] "
            "[--profile FILE] [--lib PATH] -- PROG [ARGS...])");
        return EXIT_USAGE;
    }
    return run_program(argv + i, stats, lib, verbose);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        print_main_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("lxmalloc %s\n", LXMALLOC_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "maps") == 0)
        return cmd_maps(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc - 1, argv + 1);
    msg("unknown command '%s' (see 'lxmalloc --help')", cmd);
    return EXIT_USAGE;
}
