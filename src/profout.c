/* SPDX-License-Identifier: MIT */
/*
 * profout.c — the reports of the profiler (prof.c): the leak report, and the
 * heap profile's three files (FILE.heap for pprof, FILE.folded and
 * FILE.alloc.folded for flame graphs). Layer: utility beside prof; depends on
 * stack, report and os. Everything is read from the site list, which only grows
 * and whose records are never freed, and from relaxed atomic counters, so no
 * table lock is held while frames are named (dladdr takes the loader's lock).
 * Output goes through a stack buffer and write(2); the sorted copy of the sites
 * lives in a mapping of its own.
 */
#include "profout.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

#include "options.h"
#include "os.h"
#include "prof.h"
#include "report.h"
#include "stack.h"

/* ---- arithmetic (no libm in the allocator) ---------------------------------- */

/* exp(-x) for x >= 0: 2^-n exp(-r) with r < ln 2, the latter by its series. */
LX_RARE static double prof_exp_neg(double x)
{
    if (x > 700)
        return 0;
    int n = (int)(x / 0.6931471805599453);
    double r = x - n * 0.6931471805599453;
    double term = 1, sum = 1;
    for (int k = 1; k < 25; k++) {
        term *= -r / k;
        sum += term;
    }
    while (n-- > 0)
        sum *= 0.5;
    return sum;
}

/* The chance that a block of `size` bytes is sampled at the current rate. */
LX_RARE static double sample_probability(size_t size)
{
    if (lx_opt.profile_rate <= 1)
        return 1;
    return 1 - prof_exp_neg((double)size / (double)lx_opt.profile_rate);
}

/* ---- output ----------------------------------------------------------------- */

/* A buffered writer on a file descriptor; lines are formatted by report.c. */
struct out {
    int fd;
    size_t len;
    char buf[8192];
};

LX_RARE static void out_flush(struct out *o)
{
    os_write_all(o->fd, o->buf, o->len);
    o->len = 0;
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
LX_RARE static void out_printf(struct out *o, const char *fmt, ...)
{
    if (sizeof(o->buf) - o->len < 1100)
        out_flush(o);
    va_list ap;
    va_start(ap, fmt);
    o->len += lx_vformat(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
    va_end(ap);
}

/* A site's counters, read once, so a report adds up. */
struct snap {
    struct prof_site *site;
    uint64_t live_count;
    uint64_t live_bytes;
    uint64_t alloc_count;
    uint64_t alloc_bytes;
};

struct snaps {
    struct snap *items;  /* a mapping of map_size bytes */
    size_t count;
    size_t map_size;
};

/* Every site of one kind with anything to say, or false if there is no memory. */
LX_RARE static bool snaps_take(struct snaps *out, bool sample)
{
    struct prof_site *head = prof_sites();
    size_t n = 0;
    for (struct prof_site *s = head; s != NULL; s = s->next_all)
        n++;
    out->count = 0;
    out->map_size = ((n + 1) * sizeof(struct snap) + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    out->items = os_map(out->map_size);
    if (out->items == NULL)
        return false;
    for (struct prof_site *s = head; s != NULL && out->count < n; s = s->next_all) {
        if (s->sample != sample)
            continue;
        struct snap *sn = &out->items[out->count];
        sn->site = s;
        sn->live_count = atomic_load_explicit(&s->live_count, memory_order_relaxed);
        sn->live_bytes = atomic_load_explicit(&s->live_bytes, memory_order_relaxed);
        sn->alloc_count = atomic_load_explicit(&s->alloc_count, memory_order_relaxed);
        sn->alloc_bytes = atomic_load_explicit(&s->alloc_bytes, memory_order_relaxed);
        if (sn->alloc_count != 0)
            out->count++;
    }
    return true;
}

LX_RARE static void snaps_release(struct snaps *s)
{
    if (s->items != NULL)
        (void)os_unmap(s->items, s->map_size);
    s->items = NULL;
}

typedef bool (*snap_order)(const struct snap *, const struct snap *);

LX_RARE static void snap_swap(struct snap *x, struct snap *y)
{
    struct snap t = *x;
    *x = *y;
    *y = t;
}

/* Restore the heap property below a[i], in a[0..n). */
LX_RARE static void sift_down(struct snap *a, size_t i, size_t n, snap_order before)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && before(&a[c], &a[c + 1]))
            c++;
        if (!before(&a[i], &a[c]))
            return;
        snap_swap(&a[i], &a[c]);
        i = c;
    }
}

/* Heapsort (no qsort in the allocator): afterwards before(a[i], a[j]) never
 * holds for i > j. */
LX_RARE static void snaps_sort(struct snaps *s, snap_order before)
{
    struct snap *a = s->items;
    size_t n = s->count;
    for (size_t k = n / 2; k-- > 0;)
        sift_down(a, k, n, before);
    for (size_t end = n; end > 1;) {
        end--;
        snap_swap(&a[0], &a[end]);
        sift_down(a, 0, end, before);
    }
}

/* Most live bytes first. */
LX_RARE static bool more_live_bytes(const struct snap *a, const struct snap *b)
{
    if (a->live_bytes != b->live_bytes)
        return a->live_bytes > b->live_bytes;
    return a->live_count > b->live_count;
}

LX_RARE static bool stack_order(const struct snap *a, const struct snap *b)
{
    const struct prof_site *x = a->site, *y = b->site;
    if (x->stack_hash != y->stack_hash)
        return x->stack_hash < y->stack_hash;
    if (x->count != y->count)
        return x->count < y->count;
    for (unsigned i = 0; i < x->count; i++) {
        if (x->ip[i] != y->ip[i])
            return x->ip[i] < y->ip[i];
    }
    return false;
}

LX_RARE static bool same_stack(const struct prof_site *x, const struct prof_site *y)
{
    if (x->stack_hash != y->stack_hash || x->count != y->count)
        return false;
    for (unsigned i = 0; i < x->count; i++) {
        if (x->ip[i] != y->ip[i])
            return false;
    }
    return true;
}

/* "#3 0x55d0c1a2b1c9 leak_one+0x19 (/path/prog+0x11c9)" */
LX_RARE static void out_frame(struct out *o, const char *prefix, unsigned idx, uintptr_t ip)
{
    struct stack_symbol sym;
    stack_symbolize(ip, &sym);
    if (sym.module == NULL)
        out_printf(o, "%s#%u %p\n", prefix, idx, (void *)ip);
    else if (sym.function != NULL)
        out_printf(o, "%s#%u %p %s+0x%zx (%s+0x%zx)\n", prefix, idx, (void *)ip, sym.function,
                   sym.function_offset, sym.module, sym.module_offset);
    else
        out_printf(o, "%s#%u %p (%s+0x%zx)\n", prefix, idx, (void *)ip, sym.module,
                   sym.module_offset);
}

/* ---- the leak report ---------------------------------------------------------- */

LX_RARE void profout_leaks(void)
{
    int fd = 2;
    const char *path = lx_opt.leaks_file[0] != '\0' ? lx_opt.leaks_file : lx_opt.report_file;
    if (path[0] != '\0') {
        int f = os_open_append(path);
        if (f >= 0)
            fd = f;
    }
    struct out o;
    o.fd = fd;
    o.len = 0;
    struct snaps s;
    if (!snaps_take(&s, false)) {
        out_printf(&o, "lxmalloc: leak report of pid %d: no memory to build it\n", os_getpid());
        out_flush(&o);
        if (fd != 2)
            os_close(fd);
        return;
    }
    /* Only sites with blocks still live. */
    size_t kept = 0;
    uint64_t blocks = 0, bytes = 0;
    for (size_t i = 0; i < s.count; i++) {
        if (s.items[i].live_count == 0)
            continue;
        blocks += s.items[i].live_count;
        bytes += s.items[i].live_bytes;
        s.items[kept++] = s.items[i];
    }
    s.count = kept;
    snaps_sort(&s, more_live_bytes);
    out_printf(&o,
               "lxmalloc: leak report of pid %d: %llu bytes in %llu blocks still allocated at "
               "exit, from %zu sites\n",
               os_getpid(), (unsigned long long)bytes, (unsigned long long)blocks, s.count);
    for (size_t k = 0; k < s.count; k++) {
        const struct snap *sn = &s.items[k];
        out_printf(&o, "lxmalloc: %llu bytes in %llu block%s allocated at:\n",
                   (unsigned long long)sn->live_bytes, (unsigned long long)sn->live_count,
                   sn->live_count == 1 ? "" : "s");
        for (unsigned i = 0; i < sn->site->count; i++)
            out_frame(&o, "lxmalloc:     ", i, sn->site->ip[i]);
    }
    uint64_t dropped = prof_dropped_count();
    out_printf(&o, "lxmalloc: leak summary: %llu bytes in %llu blocks from %zu sites", 
               (unsigned long long)bytes, (unsigned long long)blocks, s.count);
    if (dropped != 0)
        out_printf(&o, " (%llu allocations could not be recorded)", (unsigned long long)dropped);
    out_printf(&o, "\n");
    out_flush(&o);
    snaps_release(&s);
    if (fd != 2)
        os_close(fd);
}

/* ---- the heap profile ---------------------------------------------------------- */

/* LXMALLOC_PROFILE with "%p" replaced by the process id, then `suffix`. */
LX_RARE static bool profile_path(char *out, size_t cap, const char *suffix)
{
    size_t n = 0;
    for (const char *s = lx_opt.profile_file; *s != '\0'; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            n += lx_format(out + n, cap - n, "%d", os_getpid());
            s++;
        } else if (n + 1 < cap) {
            out[n++] = *s;
        }
        if (n + 1 >= cap)
            return false;
    }
    out[n] = '\0';
    size_t m = lx_format(out + n, cap - n, "%s", suffix);
    return n + m + 1 < cap;
}

/* Write to path.<pid>.tmp through `o`, then rename over path: a reader never
 * sees half a file. */
LX_RARE static bool profile_open(const char *path, char *tmp, size_t cap, struct out *o)
{
    if (lx_format(tmp, cap, "%s.%d.tmp", path, os_getpid()) + 1 >= cap)
        return false;
    o->fd = os_open_write(tmp);
    o->len = 0;
    return o->fd >= 0;
}

LX_RARE static void profile_close(struct out *o, const char *tmp, const char *path)
{
    out_flush(o);
    os_close(o->fd);
    (void)os_rename(tmp, path);
}

LX_RARE static void write_heap(const struct snaps *s, const char *path)
{
    char tmp[600];
    struct out o;
    if (!profile_open(path, tmp, sizeof(tmp), &o))
        return;
    uint64_t lc = 0, lb = 0, ac = 0, ab = 0;
    for (size_t i = 0; i < s->count; i++) {
        lc += s->items[i].live_count;
        lb += s->items[i].live_bytes;
        ac += s->items[i].alloc_count;
        ab += s->items[i].alloc_bytes;
    }
    out_printf(&o, "heap profile: %llu: %llu [%llu: %llu] @ heap_v2/%zu\n", (unsigned long long)lc,
               (unsigned long long)lb, (unsigned long long)ac, (unsigned long long)ab,
               lx_opt.profile_rate);
    for (size_t k = 0; k < s->count; k++) {
        const struct snap *sn = &s->items[k];
        out_printf(&o, "%6llu: %8llu [%6llu: %8llu] @", (unsigned long long)sn->live_count,
                   (unsigned long long)sn->live_bytes, (unsigned long long)sn->alloc_count,
                   (unsigned long long)sn->alloc_bytes);
        for (unsigned i = 0; i < sn->site->count; i++)
            out_printf(&o, " %p", (void *)sn->site->ip[i]);
        out_printf(&o, "\n");
    }
    out_printf(&o, "\nMAPPED_LIBRARIES:\n");
    out_flush(&o);
    int maps = os_open_read("/proc/self/maps");
    if (maps >= 0) {
        long n;
        while ((n = os_read(maps, o.buf, sizeof(o.buf))) > 0)
            os_write_all(o.fd, o.buf, (size_t)n);
        os_close(maps);
    }
    profile_close(&o, tmp, path);
}

/* One frame of a folded line: the function, else module+0xoffset. */
LX_RARE static void out_folded_frame(struct out *o, uintptr_t ip, bool first)
{
    struct stack_symbol sym;
    stack_symbolize(ip, &sym);
    const char *sep = first ? "" : ";";
    if (sym.function != NULL)
        out_printf(o, "%s%s", sep, sym.function);
    else if (sym.module != NULL)
        out_printf(o, "%s%s+0x%zx", sep, stack_basename(sym.module), sym.module_offset);
    else
        out_printf(o, "%s%p", sep, (void *)ip);
}

/* Estimated bytes: each sample of size s stands for 1 / P(sampled) blocks. */
LX_RARE static double estimate(uint64_t count, size_t size)
{
    return (double)count * (double)size / sample_probability(size);
}

/* Stacks sorted by stack_order; sizes of one stack merged into one line. */
LX_RARE static void write_folded(const struct snaps *s, const char *path, bool live)
{
    char tmp[600];
    struct out o;
    if (!profile_open(path, tmp, sizeof(tmp), &o))
        return;
    for (size_t i = 0; i < s->count;) {
        double total = 0;
        size_t j = i;
        for (; j < s->count && same_stack(s->items[i].site, s->items[j].site); j++) {
            const struct snap *sn = &s->items[j];
            total += estimate(live ? sn->live_count : sn->alloc_count, sn->site->size);
        }
        const struct prof_site *site = s->items[i].site;
        if (total >= 0.5 && site->count > 0) {
            for (unsigned k = site->count; k-- > 0;)
                out_folded_frame(&o, site->ip[k], k == site->count - 1);
            out_printf(&o, " %llu\n", (unsigned long long)(total + 0.5));
        }
        i = j;
    }
    profile_close(&o, tmp, path);
}

LX_RARE void profout_profile(void)
{
    struct snaps s;
    char path[600];
    if (!snaps_take(&s, true))
        return;
    snaps_sort(&s, more_live_bytes);
    if (profile_path(path, sizeof(path), ".heap"))
        write_heap(&s, path);
    snaps_sort(&s, stack_order);
    if (profile_path(path, sizeof(path), ".folded"))
        write_folded(&s, path, true);
    if (profile_path(path, sizeof(path), ".alloc.folded"))
        write_folded(&s, path, false);
    snaps_release(&s);
}
