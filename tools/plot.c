/* SPDX-License-Identifier: MIT */
/*
 * plot.c — `lxmalloc plot TRACE -o OUT.svg`: draws a trace written by the
 * library (LXMALLOC_TRACE, `lxmalloc run --trace`) as an SVG line chart of live,
 * committed and resident bytes over time. Plain SVG written by hand: no plotting
 * library.
 *
 * A trace file may hold several processes (a traced program's children inherit
 * LXMALLOC_TRACE, and an exec'd program writes a new header under the same pid):
 * each header line starts a section, records go to the latest section of their
 * pid, and one section is drawn: the one with the most records, or that of
 * --pid.
 */
#include "tool.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVG_W 900
#define SVG_H 500
#define PLOT_L 90  /* margins of the plotting area */
#define PLOT_R 30
#define PLOT_T 70
#define PLOT_B 60

enum { S_LIVE, S_COMMITTED, S_RSS, S_COUNT };

static const char *const series_names[S_COUNT] = {"live", "committed", "RSS"};
static const char *const series_columns[S_COUNT] = {"live_bytes", "committed_bytes", "rss_bytes"};
static const char *const series_colours[S_COUNT] = {"#1f77b4", "#ff7f0e", "#2ca02c"};

struct record {
    double t;             /* ms since the process started */
    double v[S_COUNT];    /* bytes */
};

struct section {
    long pid;
    char cmd[256];
    struct record *rec;
    size_t count, cap;
};

struct trace {
    struct section *sec;
    size_t count, cap;
};

static struct section *new_section(struct trace *tr, long pid, const char *cmd)
{
    struct section *secs = tool_grow(tr->sec, &tr->cap, tr->count, sizeof *secs, 8);
    if (secs == NULL)
        return NULL;
    tr->sec = secs;
    struct section *s = &tr->sec[tr->count++];
    memset(s, 0, sizeof *s);
    s->pid = pid;
    snprintf(s->cmd, sizeof s->cmd, "%s", cmd);
    return s;
}

static struct section *latest_section(struct trace *tr, long pid)
{
    for (size_t i = tr->count; i-- > 0;)
        if (tr->sec[i].pid == pid)
            return &tr->sec[i];
    return new_section(tr, pid, "");
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

/* Reads the trace; 0, or an exit status after a message. */
static int parse_trace(const char *name, char *text, struct trace *tr)
{
    int col_time = -1, col_pid = -1, col_series[S_COUNT] = {-1, -1, -1};
    int ncols = 0;
    unsigned long lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++; /* counts non-empty lines only: strtok_r skips empty ones */
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (line[0] == '#') {
            const char *p = strstr(line, "lxmalloc-trace");
            const char *pid = p != NULL ? strstr(p, " pid=") : NULL;
            if (pid != NULL) {
                const char *cmd = strstr(p, " cmd=");
                if (new_section(tr, strtol(pid + 5, NULL, 10), cmd != NULL ? cmd + 5 : "") == NULL)
                    goto nomem;
            }
            continue;
        }
        char *fields[64] = {line};
        int n = 0;
        char *fs = NULL;
        for (char *f = strtok_r(line, "\t", &fs); f != NULL && n < 64; f = strtok_r(NULL, "\t", &fs))
            fields[n++] = f;
        if (n > 0 && strcmp(fields[0], "time_ms") == 0) {
            ncols = n;
            for (int i = 0; i < n; i++) {
                if (strcmp(fields[i], "time_ms") == 0)
                    col_time = i;
                else if (strcmp(fields[i], "pid") == 0)
                    col_pid = i;
                for (int s = 0; s < S_COUNT; s++)
                    if (strcmp(fields[i], series_columns[s]) == 0)
                        col_series[s] = i;
            }
            if (col_pid < 0 || col_series[S_LIVE] < 0 || col_series[S_COMMITTED] < 0 ||
                col_series[S_RSS] < 0) {
                tool_error("plot: %s: the column line lacks pid, live_bytes, committed_bytes or "
                           "rss_bytes: not a trace of this version of lxmalloc",
                           name);
                return TOOL_EXIT_FAIL;
            }
            continue;
        }
        if (ncols == 0) {
            tool_error("plot: %s: not an lxmalloc trace (no column line before the first "
                       "record; see LXMALLOC_TRACE in lxmalloc(3))",
                       name);
            return TOOL_EXIT_FAIL;
        }
        struct record r;
        double pid;
        bool ok = n == ncols && parse_double(fields[col_time], &r.t) &&
                  parse_double(fields[col_pid], &pid);
        for (int s = 0; ok && s < S_COUNT; s++)
            ok = parse_double(fields[col_series[s]], &r.v[s]);
        if (!ok) {
            tool_error("plot: %s: record %lu is not %d numbers separated by tabs", name, lineno,
                       ncols);
            return TOOL_EXIT_FAIL;
        }
        struct section *sec = latest_section(tr, (long)pid);
        if (sec == NULL)
            goto nomem;
        struct record *recs = tool_grow(sec->rec, &sec->cap, sec->count, sizeof *recs, 256);
        if (recs == NULL)
            goto nomem;
        sec->rec = recs;
        sec->rec[sec->count++] = r;
    }
    return 0;
nomem:
    tool_error("plot: out of memory");
    return TOOL_EXIT_FAIL;
}

/* A step of 1, 2 or 5 times a power of ten, near range / target. */
static double nice_step(double range, int target)
{
    double raw = range / target;
    if (raw <= 0)
        return 1;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_number(char *buf, size_t cap, double v, double step)
{
    if (step >= 1 || v == 0)
        snprintf(buf, cap, "%.0f", v);
    else if (step >= 0.1)
        snprintf(buf, cap, "%.1f", v);
    else
        snprintf(buf, cap, "%.2f", v);
}

/* Text for an SVG element: XML's five characters escaped, anything outside
 * printable ASCII replaced, so the file stays valid whatever the trace held. */
static void put_text(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fputc(c >= 0x20 && c < 0x7f ? (int)c : '?', out); break;
        }
    }
}

static void write_svg(FILE *out, const struct section *sec, const char *title_opt)
{
    const struct record *r = sec->rec;
    size_t n = sec->count;
    double tmax = r[n - 1].t, vmax = 0, peak[S_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        if (r[i].t > tmax)
            tmax = r[i].t;
        for (int s = 0; s < S_COUNT; s++) {
            if (r[i].v[s] > peak[s])
                peak[s] = r[i].v[s];
            if (r[i].v[s] > vmax)
                vmax = r[i].v[s];
        }
    }
    /* y: bytes in the largest binary unit that keeps the top at 1 or more. */
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double unit = 1;
    if (vmax < 1024)
        vmax = 1024;
    while (u < 4 && vmax / (unit * 1024) >= 1) {
        unit *= 1024;
        u++;
    }
    double ystep = nice_step(vmax / unit, 5);
    double ytop = ceil(vmax / unit / ystep - 1e-9) * ystep;
    if (ytop <= 0)
        ytop = ystep;
    /* x: ms, or seconds from 10 s on. */
    bool seconds = tmax >= 10000;
    double xscale = seconds ? 1000 : 1;
    double xmaxu = tmax / xscale;
    if (xmaxu <= 0)
        xmaxu = 1;
    double xstep = nice_step(xmaxu, 8);
    double xtop = ceil(xmaxu / xstep - 1e-9) * xstep;

    const double pw = SVG_W - PLOT_L - PLOT_R, ph = SVG_H - PLOT_T - PLOT_B;
#define X(t) (PLOT_L + (t) / xscale / xtop * pw)
#define Y(v) (PLOT_T + ph - (v) / unit / ytop * ph)

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(out, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", PLOT_L);
    if (title_opt != NULL) {
        put_text(out, title_opt);
    } else {
        fputs("Memory of ", out);
        put_text(out, sec->cmd[0] != '\0' ? sec->cmd : "a process");
        fprintf(out, " (pid %ld)", sec->pid);
    }
    fputs("</text>\n", out);
    char a[32], b[32], c[32];
    fprintf(out, "<text x=\"%d\" y=\"44\" fill=\"#555\">peak live %s, committed %s, RSS %s; "
                 "%zu record%s over %.1f s</text>\n",
            PLOT_L, tool_bytes(a, (unsigned long long)peak[S_LIVE]),
            tool_bytes(b, (unsigned long long)peak[S_COMMITTED]),
            tool_bytes(c, (unsigned long long)peak[S_RSS]), n, n == 1 ? "" : "s", tmax / 1000);

    /* Grid and tick labels. */
    fputs("<g stroke=\"#ddd\" stroke-width=\"1\">\n", out);
    for (double y = 0; y <= ytop + ystep / 2; y += ystep)
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PLOT_L,
                Y(y * unit), PLOT_L + pw, Y(y * unit));
    for (double x = 0; x <= xtop + xstep / 2; x += xstep)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>\n", X(x * xscale),
                PLOT_T, X(x * xscale), PLOT_T + ph);
    fputs("</g>\n<g fill=\"#333\">\n", out);
    char num[32];
    for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
        fmt_number(num, sizeof num, y, ystep);
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s %s</text>\n", PLOT_L - 6,
                Y(y * unit) + 4, num, units[u]);
    }
    for (double x = 0; x <= xtop + xstep / 2; x += xstep) {
        fmt_number(num, sizeof num, x, xstep);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                X(x * xscale), PLOT_T + ph + 18, num);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">time (%s)</text>\n",
            PLOT_L + pw / 2, SVG_H - 14, seconds ? "s" : "ms");
    fputs("</g>\n", out);
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                 "stroke=\"#333\"/>\n",
            PLOT_L, PLOT_T, pw, ph);

    /* The lines. Past two points per pixel column, each column keeps its first,
     * lowest, highest and last point, so no peak is lost. */
    for (int s = 0; s < S_COUNT; s++) {
        fprintf(out, "<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                     "points=\"",
                series_columns[s], series_colours[s]);
        bool thin = n > 2 * (size_t)pw;
        size_t i = 0;
        while (i < n) {
            if (!thin) {
                fprintf(out, "%.1f,%.1f ", X(r[i].t), Y(r[i].v[s]));
                i++;
                continue;
            }
            long col = (long)X(r[i].t);
            size_t j = i, lo = i, hi = i;
            while (j < n && (long)X(r[j].t) == col) {
                if (r[j].v[s] < r[lo].v[s])
                    lo = j;
                if (r[j].v[s] > r[hi].v[s])
                    hi = j;
                j++;
            }
            size_t pick[4] = {i, lo < hi ? lo : hi, lo < hi ? hi : lo, j - 1};
            for (int k = 0; k < 4; k++)
                if (k == 0 || pick[k] != pick[k - 1])
                    fprintf(out, "%.1f,%.1f ", X(r[pick[k]].t), Y(r[pick[k]].v[s]));
            i = j;
        }
        fputs("\"/>\n", out);
        if (n <= 2) /* a line of one point shows nothing: mark the points */
            for (size_t k = 0; k < n; k++)
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                        X(r[k].t), Y(r[k].v[s]), series_colours[s]);
    }

    /* Legend, top right. */
    double lx = PLOT_L + pw - 150, ly = PLOT_T + 10;
    fprintf(out, "<g id=\"legend\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"140\" height=\"%d\" "
                 "fill=\"white\" stroke=\"#999\"/>\n",
            lx, ly, 12 + 18 * S_COUNT);
    static const char *const legend[S_COUNT] = {"live bytes", "committed bytes", "RSS"};
    for (int s = 0; s < S_COUNT; s++) {
        double y = ly + 16 + 18 * s;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                     "stroke-width=\"3\"/>\n<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                lx + 8, y - 4, lx + 30, y - 4, series_colours[s], lx + 36, y, legend[s]);
    }
    fputs("</g>\n</svg>\n", out);
#undef X
#undef Y
    (void)series_names;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: lxmalloc plot [--pid PID] [--title TEXT] TRACE -o OUT.svg\n"
            "       lxmalloc plot --list TRACE\n"
            "\n"
            "Draw a trace written by 'lxmalloc run --trace TRACE' (or LXMALLOC_TRACE=TRACE)\n"
            "as an SVG line chart of live bytes (allocated and not freed), committed bytes\n"
            "(mapped by the allocator) and the resident set size over time.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE  the SVG file to write ('-' for standard output)\n"
            "  -p, --pid PID      draw this process (a trace may hold several: the\n"
            "                     programs a traced program starts are traced too);\n"
            "                     by default, the one with the most records\n"
            "  -l, --list         list the processes in the trace and exit\n"
            "  -T, --title TEXT   the chart's title (default: the command line)\n"
            "  -h, --help         show this help and exit\n"
            "\n"
            "Exit status: 0 on success, 1 if the trace cannot be read or holds no\n"
            "records, 2 on a usage error.\n");
}

int cmd_plot(int argc, char **argv)
{
    const char *in = NULL, *outname = NULL, *title = NULL;
    long want_pid = -1;
    bool list = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **value = NULL;
        const char *pid_text = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout);
            return 0;
        } else if (strcmp(a, "-l") == 0 || strcmp(a, "--list") == 0) {
            list = true;
            continue;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            value = &outname;
        } else if (strcmp(a, "-T") == 0 || strcmp(a, "--title") == 0) {
            value = &title;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--pid") == 0) {
            value = &pid_text;
        } else if (strncmp(a, "--output=", 9) == 0) {
            outname = a + 9;
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            tool_error("plot: unknown option '%s' (see 'lxmalloc plot --help')", a);
            return TOOL_EXIT_USAGE;
        } else if (in != NULL) {
            tool_error("plot: one trace at a time (see 'lxmalloc plot --help')");
            return TOOL_EXIT_USAGE;
        } else {
            in = a;
            continue;
        }
        if (i + 1 >= argc) {
            tool_error("plot: %s needs a value", a);
            return TOOL_EXIT_USAGE;
        }
        *value = argv[++i];
        if (pid_text != NULL) {
            char *end;
            want_pid = strtol(pid_text, &end, 10);
            if (end == pid_text || *end != '\0' || want_pid <= 0) {
                tool_error("plot: --pid %s: not a process id", pid_text);
                return TOOL_EXIT_USAGE;
            }
        }
    }
    if (in == NULL || (outname == NULL && !list)) {
        tool_error("plot: %s (usage: lxmalloc plot TRACE -o OUT.svg)",
                   in == NULL ? "no trace file given" : "no output file given (-o OUT.svg)");
        return TOOL_EXIT_USAGE;
    }

    char *text = tool_read_file(in, NULL);
    if (text == NULL) {
        tool_error("plot: cannot read %s: %s", in, strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    struct trace tr = {0};
    int rc = parse_trace(in, text, &tr);
    if (rc != 0)
        return rc;
    if (list) {
        printf("%-8s %8s %10s  %s\n", "PID", "RECORDS", "SECONDS", "COMMAND");
        for (size_t i = 0; i < tr.count; i++) {
            const struct section *s = &tr.sec[i];
            printf("%-8ld %8zu %10.3f  %s\n", s->pid, s->count,
                   s->count > 0 ? s->rec[s->count - 1].t / 1000 : 0.0, s->cmd);
        }
        return 0;
    }
    const struct section *best = NULL;
    size_t nproc = 0;
    for (size_t i = 0; i < tr.count; i++) {
        const struct section *s = &tr.sec[i];
        if (s->count == 0)
            continue;
        nproc++;
        if ((want_pid < 0 || s->pid == want_pid) && (best == NULL || s->count > best->count))
            best = s;
    }
    if (best == NULL) {
        if (want_pid >= 0)
            tool_error("plot: %s has no records of pid %ld (see 'lxmalloc plot --list %s')", in,
                       want_pid, in);
        else
            tool_error("plot: %s has no records: the program did not run with lxmalloc "
                       "(statically linked?) or the file is not a trace",
                       in);
        return TOOL_EXIT_FAIL;
    }
    if (nproc > 1 && want_pid < 0)
        tool_error("plot: %s holds %zu processes; drawing pid %ld (%zu records), others with "
                   "--pid (see --list)",
                   in, nproc, best->pid, best->count);

    bool to_stdout = strcmp(outname, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(outname, "w");
    if (out == NULL) {
        tool_error("plot: cannot write %s: %s", outname, strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    write_svg(out, best, title);
    if (to_stdout ? fflush(out) != 0 : fclose(out) != 0) {
        tool_error("plot: writing %s: %s", outname, strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    return 0;
}
