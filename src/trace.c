/* SPDX-License-Identifier: MIT */
/*
 * trace.c — LXMALLOC_TRACE=FILE: the program's memory over time, for `lxmalloc
 * plot`. Layer: beside the others, on stats, options and os.
 *
 * There is no background thread. The slow paths that change the footprint (a
 * slab taken from or given back to an arena, a large or huge block allocated or
 * freed) call trace_tick(); when tracing is on, it reads the coarse monotonic
 * clock and, once LXMALLOC_TRACE_INTERVAL ms have passed since the last record,
 * the thread that wins a compare-and-swap on the next due time writes one. A
 * program that stops allocating writes nothing until it allocates again or
 * exits; the exit handler always writes a last record. The fast paths never look.
 *
 * The file is text: a comment line "# lxmalloc-trace 1 pid=... interval_ms=...
 * cmd=...", a line of column names, then one tab-separated record per line (see
 * trace_columns). Every record is formatted in a stack buffer and written with
 * one write(2) to a descriptor opened with O_APPEND for that record and closed
 * after it: lines from several threads or processes never mix, and a program that
 * closes or reuses descriptors cannot make us write into one of its own files.
 * A relative path is made absolute at start-up, so a chdir does not move it.
 *
 * Several processes may share a file (a program started by a traced one inherits
 * the environment): each writes its own header, and every record carries its
 * pid. A child made by fork without exec stops tracing; after exec it starts
 * afresh, as a new process.
 */
#include "trace.h"

#include "options.h"
#include "os.h"
#include "report.h"
#include "stats.h"

_Atomic bool lx_trace_on;

LX_BSS_COLD static char trace_path[sizeof(lx_opt.trace_file) + 512]; /* absolute */
static uint64_t trace_start_ns;        /* os_now_ns at start-up */
static uint64_t trace_interval_ns;
static _Atomic uint64_t trace_due_ns;  /* coarse clock: no record before this */
static _Atomic uint64_t trace_peak_committed;
static _Atomic bool trace_failed;      /* the file could not be opened: said once */

static const char trace_columns[] =
    "time_ms\tpid\tlive_bytes\tcommitted_bytes\tresident_bytes\trss_bytes\tpeak_live_bytes\t"
    "peak_committed_bytes\tpeak_rss_bytes\tallocs\tfrees\n";

LX_RARE static void trace_write(const char *buf, size_t len)
{
    int fd = os_open_append(trace_path);
    if (fd < 0) {
        atomic_store_explicit(&lx_trace_on, false, memory_order_relaxed);
        if (!atomic_exchange(&trace_failed, true))
            lx_message("cannot open the trace file %s: tracing is off", trace_path);
        return;
    }
    os_write_all(fd, buf, len);
    os_close(fd);
}

/* Resident bytes from /proc/self/statm (its second field, in pages). */
LX_RARE static uint64_t trace_rss(void)
{
    char buf[128];
    if (os_read_file("/proc/self/statm", buf, sizeof(buf)) <= 0)
        return 0;
    const char *s = buf;
    while (*s != '\0' && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    uint64_t pages = 0;
    while (*s >= '0' && *s <= '9')
        pages = pages * 10 + (uint64_t)(*s++ - '0');
    return pages * LX_PAGE_SIZE;
}

static void atomic_max(_Atomic uint64_t *peak, uint64_t v)
{
    uint64_t old = atomic_load_explicit(peak, memory_order_relaxed);
    while (v > old && !atomic_compare_exchange_weak_explicit(peak, &old, v, memory_order_relaxed,
                                                             memory_order_relaxed)) {
    }
}

/* One record. `snapshot` false at start-up, where nothing is allocated yet and
 * the caller may be inside initialisation: the allocator's columns are zero. */
LX_RARE static void trace_record(bool snapshot)
{
    struct stats_snapshot s;
    if (snapshot)
        stats_snapshot(&s);
    else
        s = (struct stats_snapshot){0};
    uint64_t rss = trace_rss();
    uint64_t peak_rss = (uint64_t)os_maxrss_kb() * 1024u;
    if (rss > peak_rss)
        peak_rss = rss;
    atomic_max(&trace_peak_committed, s.pub.committed_bytes);
    uint64_t us = (os_now_ns() - trace_start_ns) / 1000u;
    /* lx_format pads with spaces only: write the three decimals by hand. */
    char frac[4] = {(char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10),
                    (char)('0' + us % 10), '\0'};
    char line[320];
    size_t n = lx_format(line, sizeof(line),
                         "%llu.%s\t%d\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\n",
                         (unsigned long long)(us / 1000), frac, os_getpid(),
                         (unsigned long long)s.pub.live_bytes,
                         (unsigned long long)s.pub.committed_bytes,
                         (unsigned long long)s.pub.resident_bytes, (unsigned long long)rss,
                         (unsigned long long)s.pub.peak_live_bytes,
                         (unsigned long long)atomic_load(&trace_peak_committed),
                         (unsigned long long)peak_rss, (unsigned long long)s.pub.malloc_count,
                         (unsigned long long)s.pub.free_count);
    if (n < sizeof(line))
        trace_write(line, n);
}

/* The command line from /proc/self/cmdline, arguments joined by spaces, made safe
 * for a one-line header (no tabs, newlines or control characters). */
LX_RARE static size_t trace_cmdline(char *out, size_t cap)
{
    char raw[256];
    long n = os_read_file("/proc/self/cmdline", raw, sizeof(raw));
    size_t len = 0;
    for (long i = 0; i < n && len + 1 < cap; i++) {
        char c = raw[i];
        if (c == '\0') {
            if (i + 1 == n)
                break;
            c = ' ';
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            c = '?';
        }
        out[len++] = c;
    }
    out[len] = '\0';
    return len;
}

void trace_init(void)
{
    const char *file = lx_opt.trace_file;
    if (file[0] == '\0')
        return;
    size_t n = 0;
    if (file[0] != '/') {
        if (!os_getcwd(trace_path, sizeof(trace_path) - sizeof(lx_opt.trace_file) - 1))
            return;
        while (trace_path[n] != '\0')
            n++;
        trace_path[n++] = '/';
    }
    for (size_t i = 0; file[i] != '\0' && n + 1 < sizeof(trace_path); i++)
        trace_path[n++] = file[i];
    trace_path[n] = '\0';
    trace_start_ns = os_now_ns();
    trace_interval_ns = (uint64_t)lx_opt.trace_interval_ms * 1000000u;
    atomic_store(&trace_due_ns, os_now_coarse_ns() + trace_interval_ns);
    char cmd[200];
    trace_cmdline(cmd, sizeof(cmd));
    char head[512];
    size_t len = lx_format(head, sizeof(head), "# lxmalloc-trace 1 pid=%d interval_ms=%u cmd=%s\n",
                           os_getpid(), lx_opt.trace_interval_ms, cmd);
    if (len >= sizeof(head))
        len = sizeof(head) - 1;
    size_t cols = sizeof(trace_columns) - 1;
    if (len + cols < sizeof(head)) {
        for (size_t i = 0; i < cols; i++)
            head[len + i] = trace_columns[i];
        len += cols;
    }
    atomic_store(&lx_trace_on, true);
    trace_write(head, len);
    if (atomic_load(&lx_trace_on))
        trace_record(false);
}

LX_RARE void trace_tick_slow(void)
{
    uint64_t now = os_now_coarse_ns();
    uint64_t due = atomic_load_explicit(&trace_due_ns, memory_order_relaxed);
    if (now < due)
        return;
    if (!atomic_compare_exchange_strong_explicit(&trace_due_ns, &due, now + trace_interval_ns,
                                                 memory_order_relaxed, memory_order_relaxed))
        return; /* another thread writes this one */
    trace_record(true);
}

void trace_at_exit(void)
{
    if (atomic_load_explicit(&lx_trace_on, memory_order_relaxed))
        trace_record(true);
}

void trace_fork_child(void)
{
    atomic_store_explicit(&lx_trace_on, false, memory_order_relaxed);
}
