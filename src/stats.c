/* SPDX-License-Identifier: MIT */
/*
 * stats.c — sums the counters into snapshots and prints them: malloc_stats's
 * table, malloc_info's XML, and the one-line summary `lxmalloc run --stats`
 * reads. Reading another heap's plain counters races with its owner on purpose:
 * each is one aligned 64-bit word, so a reader sees an old or a new value, which
 * is all statistics need.
 */
#include "stats.h"

#include "debug.h"
#include "cache.h"
#include "heap.h"
#include "large.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "report.h"
#include "sizeclass.h"

struct lx_global_stats lx_gstats;

void stats_heap_created(void)
{
    atomic_fetch_add_explicit(&lx_gstats.heap_count, 1, memory_order_relaxed);
}

static void stats_update_peak(void)
{
    int64_t live = atomic_load_explicit(&lx_gstats.small_live, memory_order_relaxed) +
                   atomic_load_explicit(&lx_gstats.large_live_bytes, memory_order_relaxed) +
                   atomic_load_explicit(&lx_gstats.huge_live_bytes, memory_order_relaxed);
    if (live < 0)
        return;
    uint64_t peak = atomic_load_explicit(&lx_gstats.peak_live, memory_order_relaxed);
    while ((uint64_t)live > peak &&
           !atomic_compare_exchange_weak_explicit(&lx_gstats.peak_live, &peak, (uint64_t)live,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

void stats_live_add(int64_t delta)
{
    if (delta != 0)
        atomic_fetch_add_explicit(&lx_gstats.small_live, delta, memory_order_relaxed);
    stats_update_peak();
}

void stats_large(struct large_counts *lc, size_t size, int alloc)
{
    int64_t bytes = (int64_t)size;
    if (lc != NULL) {
        if (alloc) {
            lc->allocs++;
            lc->alloc_bytes += size;
        } else {
            lc->frees++;
            lc->free_bytes += size;
        }
        return;
    }
    if (alloc) {
        atomic_fetch_add_explicit(&lx_gstats.large_alloc_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&lx_gstats.large_alloc_bytes, (uint64_t)bytes,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&lx_gstats.large_live_bytes, bytes, memory_order_relaxed);
        stats_update_peak();
    } else {
        atomic_fetch_add_explicit(&lx_gstats.large_free_count, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&lx_gstats.large_live_bytes, bytes, memory_order_relaxed);
    }
}

void stats_large_resize(struct large_counts *lc, int64_t delta)
{
    if (lc != NULL) {
        if (delta > 0)
            lc->alloc_bytes += (uint64_t)delta;
        else
            lc->free_bytes += (uint64_t)-delta;
        return;
    }
    atomic_fetch_add_explicit(&lx_gstats.large_live_bytes, delta, memory_order_relaxed);
    if (delta > 0) {
        atomic_fetch_add_explicit(&lx_gstats.large_alloc_bytes, (uint64_t)delta,
                                  memory_order_relaxed);
        stats_update_peak();
    }
}

void stats_huge(int64_t usable, int64_t mapped, int alloc)
{
    if (alloc) {
        atomic_fetch_add_explicit(&lx_gstats.huge_alloc_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&lx_gstats.huge_alloc_bytes, (uint64_t)usable,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&lx_gstats.huge_live_bytes, usable, memory_order_relaxed);
        atomic_fetch_add_explicit(&lx_gstats.huge_live_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&lx_gstats.huge_mapped_bytes, mapped, memory_order_relaxed);
        stats_update_peak();
    } else {
        atomic_fetch_add_explicit(&lx_gstats.huge_free_count, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&lx_gstats.huge_live_bytes, usable, memory_order_relaxed);
        atomic_fetch_sub_explicit(&lx_gstats.huge_live_count, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&lx_gstats.huge_mapped_bytes, mapped, memory_order_relaxed);
    }
}

void stats_huge_resize(int64_t usable_delta, int64_t mapped_delta)
{
    atomic_fetch_add_explicit(&lx_gstats.huge_live_bytes, usable_delta, memory_order_relaxed);
    atomic_fetch_add_explicit(&lx_gstats.huge_mapped_bytes, mapped_delta, memory_order_relaxed);
    if (usable_delta > 0) {
        atomic_fetch_add_explicit(&lx_gstats.huge_alloc_bytes, (uint64_t)usable_delta,
                                  memory_order_relaxed);
        stats_update_peak();
    }
}

LX_RARE void stats_snapshot(struct stats_snapshot *s)
{
    *s = (struct stats_snapshot){0};
    uint64_t frees[LX_CLASS_COUNT] = {0};
    uint64_t la = 0, lf = 0, lab = 0, lfb = 0; /* the heaps' large runs */
    lx_lock(&lx_heaps_lock);
    for (struct heap *h = lx_heaps_all; h != NULL; h = h->next_all) {
        la += h->large.allocs;
        lf += h->large.frees;
        lab += h->large.alloc_bytes;
        lfb += h->large.free_bytes;
        s->pub.run_cached_bytes +=
            (uint64_t)atomic_load_explicit(&h->runs.pages, memory_order_relaxed) * LX_PAGE_SIZE;
        for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
            s->class_alloc[c] += stats_class_allocs(h, c);
            frees[c] += h->free_count[c];
        }
    }
    lx_unlock(&lx_heaps_lock);
    uint64_t small_live = 0;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        frees[c] += atomic_load_explicit(&lx_gstats.stray_free[c], memory_order_relaxed);
        uint64_t live = s->class_alloc[c] >= frees[c] ? s->class_alloc[c] - frees[c] : 0;
        s->class_live[c] = live;
        small_live += live * lx_classes[c].size;
        s->pub.malloc_count += s->class_alloc[c];
        s->pub.free_count += frees[c];
        s->pub.alloc_bytes += s->class_alloc[c] * lx_classes[c].size;
    }
    la += atomic_load_explicit(&lx_gstats.large_alloc_count, memory_order_relaxed);
    lf += atomic_load_explicit(&lx_gstats.large_free_count, memory_order_relaxed);
    uint64_t ha = atomic_load_explicit(&lx_gstats.huge_alloc_count, memory_order_relaxed);
    uint64_t hf = atomic_load_explicit(&lx_gstats.huge_free_count, memory_order_relaxed);
    /* A run freed by another heap than the one that allocated it counts in both:
     * only the sum over all of them is the live total. */
    int64_t ll = atomic_load_explicit(&lx_gstats.large_live_bytes, memory_order_relaxed) +
                 (int64_t)(lab - lfb);
    int64_t hl = atomic_load_explicit(&lx_gstats.huge_live_bytes, memory_order_relaxed);
    int64_t hm = atomic_load_explicit(&lx_gstats.huge_mapped_bytes, memory_order_relaxed);
    int64_t hc = atomic_load_explicit(&lx_gstats.huge_live_count, memory_order_relaxed);
    s->large_live = ll > 0 ? (uint64_t)ll : 0;
    s->huge_mapped = hm > 0 ? (uint64_t)hm : 0;
    s->pub.malloc_count += la + ha;
    s->pub.free_count += lf + hf;
    s->pub.alloc_bytes += lab + atomic_load_explicit(&lx_gstats.large_alloc_bytes, memory_order_relaxed) +
                          atomic_load_explicit(&lx_gstats.huge_alloc_bytes, memory_order_relaxed);
    s->pub.live_bytes = small_live + s->large_live + (hl > 0 ? (uint64_t)hl : 0);
    uint64_t peak = atomic_load_explicit(&lx_gstats.peak_live, memory_order_relaxed);
    s->pub.peak_live_bytes = peak > s->pub.live_bytes ? peak : s->pub.live_bytes;
    s->pub.mapped_bytes = atomic_load_explicit(&lx_os_counters.mapped_bytes, memory_order_relaxed);
    s->pub.peak_mapped_bytes =
        atomic_load_explicit(&lx_os_counters.peak_mapped_bytes, memory_order_relaxed);
    s->pub.huge_count = hc > 0 ? (uint64_t)hc : 0;
    s->pub.huge_bytes = s->huge_mapped;
    s->pub.heap_count = atomic_load_explicit(&lx_gstats.heap_count, memory_order_relaxed);
    s->pub.os_mmap_count = atomic_load_explicit(&lx_os_counters.mmap_count, memory_order_relaxed);
    s->pub.os_munmap_count =
        atomic_load_explicit(&lx_os_counters.munmap_count, memory_order_relaxed);
    s->pub.os_madvise_count =
        atomic_load_explicit(&lx_os_counters.madvise_count, memory_order_relaxed);
    s->arenas = arena_count();
    size_t cached, cache_unmapped;
    huge_cache_counts(&cached, &cache_unmapped);
    s->pub.huge_cached_bytes = cached;
    s->pub.unmapped_bytes = cache_unmapped;
    for (unsigned i = 0, used = arenas_used(); i < used; i++) {
        struct arena *a = &lx_arenas[i];
        if (a->segments == NULL && a->unmapped_segments == 0)
            continue;
        lx_lock(&a->lock);
        s->pub.segment_count += a->segment_count;
        s->segment_bytes += a->segment_count * LX_SEGMENT_SIZE;
        s->used_page_bytes += a->used_pages * LX_PAGE_SIZE;
        s->pub.dirty_bytes += a->dirty_pages * LX_PAGE_SIZE;
        s->pub.purged_bytes += a->purged_pages * LX_PAGE_SIZE;
        s->pub.unmapped_bytes += a->unmapped_segments * LX_SEGMENT_SIZE;
        for (unsigned k = 0; k <= LX_MAX_ORDER; k++)
            for (struct page *pg = a->free_lists[k]; pg != NULL; pg = pg->next)
                s->free_runs++;
        lx_unlock(&a->lock);
    }
    /* Blocks the program freed into the debug quarantine count as freed. */
    size_t q_count, q_bytes;
    debug_quarantine_counts(&q_count, &q_bytes);
    s->pub.free_count += q_count;
    s->pub.live_bytes = s->pub.live_bytes > q_bytes ? s->pub.live_bytes - q_bytes : 0;
    s->pub.purged_bytes += atomic_load_explicit(&lx_gstats.holes_purged, memory_order_relaxed);
    s->pub.committed_bytes = s->segment_bytes + s->huge_mapped + cached;
    s->pub.resident_bytes = s->used_page_bytes + s->pub.dirty_bytes + s->huge_mapped + cached;
}

LX_RARE void stats_print(int fd)
{
    struct stats_snapshot s;
    stats_snapshot(&s);
    for (unsigned i = 0, used = arenas_used(); i < used; i++) {
        struct arena *a = &lx_arenas[i];
        if (a->segments == NULL)
            continue;
        lx_printf(fd, "Arena %u:\nsystem bytes     = %10llu\nin use bytes     = %10llu\n", i,
                  (unsigned long long)(a->segment_count * LX_SEGMENT_SIZE),
                  (unsigned long long)(a->used_pages * LX_PAGE_SIZE));
    }
    lx_printf(fd,
              "Total (incl. mmap):\nsystem bytes     = %10llu\nin use bytes     = %10llu\n"
              "max mmap regions = %10llu\nmax mmap bytes   = %10llu\n",
              (unsigned long long)(s.segment_bytes + s.huge_mapped),
              (unsigned long long)(s.used_page_bytes + s.huge_mapped),
              (unsigned long long)s.pub.huge_count, (unsigned long long)s.huge_mapped);
    lx_printf(fd,
              "lxmalloc:\nallocations      = %10llu\nfrees            = %10llu\n"
              "bytes allocated  = %10llu\nlive bytes       = %10llu\npeak live bytes  = %10llu\n"
              "mapped bytes     = %10llu\npeak mapped      = %10llu\nsegments         = %10llu\n"
              "thread heaps     = %10llu\narenas           = %10u\nmmap calls       = %10llu\n"
              "munmap calls     = %10llu\n",
              (unsigned long long)s.pub.malloc_count, (unsigned long long)s.pub.free_count,
              (unsigned long long)s.pub.alloc_bytes, (unsigned long long)s.pub.live_bytes,
              (unsigned long long)s.pub.peak_live_bytes, (unsigned long long)s.pub.mapped_bytes,
              (unsigned long long)s.pub.peak_mapped_bytes, (unsigned long long)s.pub.segment_count,
              (unsigned long long)s.pub.heap_count, s.arenas,
              (unsigned long long)s.pub.os_mmap_count, (unsigned long long)s.pub.os_munmap_count);
    lx_printf(fd,
              "committed bytes  = %10llu\nresident (est.)  = %10llu\ndirty free bytes = %10llu\n"
              "purged bytes     = %10llu\nunmapped bytes   = %10llu\nhuge cache bytes = %10llu\n"
              "run cache bytes  = %10llu\nmadvise calls    = %10llu\n",
              (unsigned long long)s.pub.committed_bytes, (unsigned long long)s.pub.resident_bytes,
              (unsigned long long)s.pub.dirty_bytes, (unsigned long long)s.pub.purged_bytes,
              (unsigned long long)s.pub.unmapped_bytes, (unsigned long long)s.pub.huge_cached_bytes,
              (unsigned long long)s.pub.run_cached_bytes, (unsigned long long)s.pub.os_madvise_count);
    lx_printf(fd, "%8s %14s %12s %14s\n", "class", "allocations", "live", "live bytes");
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        if (s.class_alloc[c] == 0)
            continue;
        lx_printf(fd, "%8u %14llu %12llu %14llu\n", lx_classes[c].size,
                  (unsigned long long)s.class_alloc[c], (unsigned long long)s.class_live[c],
                  (unsigned long long)(s.class_live[c] * lx_classes[c].size));
    }
    caches_print_stats(fd);
}

LX_RARE size_t stats_xml(char *buf, size_t cap)
{
    struct stats_snapshot s;
    stats_snapshot(&s);
    size_t n = 0;
#define XML(...) n += lx_format(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
    XML("<malloc version=\"1\">\n");
    unsigned nr = 0;
    for (unsigned i = 0, used = arenas_used(); i < used; i++) {
        struct arena *a = &lx_arenas[i];
        if (a->segments == NULL)
            continue;
        unsigned long long sys = a->segment_count * LX_SEGMENT_SIZE;
        XML("<heap nr=\"%u\">\n<sizes>\n</sizes>\n", nr++);
        XML("<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
        XML("<total type=\"rest\" count=\"0\" size=\"%llu\"/>\n",
            sys - (unsigned long long)a->used_pages * LX_PAGE_SIZE);
        XML("<system type=\"current\" size=\"%llu\"/>\n<system type=\"max\" size=\"%llu\"/>\n",
            sys, sys);
        XML("<aspace type=\"total\" size=\"%llu\"/>\n<aspace type=\"mprotect\" size=\"%llu\"/>\n",
            sys, sys);
        XML("</heap>\n");
    }
    XML("<sizes>\n");
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        if (s.class_live[c] == 0)
            continue;
        XML("<size from=\"%u\" to=\"%u\" total=\"%llu\" count=\"%llu\"/>\n",
            c == 0 ? 1u : lx_classes[c - 1].size + 1, lx_classes[c].size,
            (unsigned long long)(s.class_live[c] * lx_classes[c].size),
            (unsigned long long)s.class_live[c]);
    }
    XML("</sizes>\n");
    XML("<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
    XML("<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n",
        (unsigned long long)s.free_runs,
        (unsigned long long)(s.segment_bytes - s.used_page_bytes));
    XML("<total type=\"mmap\" count=\"%llu\" size=\"%llu\"/>\n",
        (unsigned long long)s.pub.huge_count, (unsigned long long)s.huge_mapped);
    XML("<system type=\"current\" size=\"%llu\"/>\n",
        (unsigned long long)(s.segment_bytes + s.huge_mapped));
    XML("<system type=\"max\" size=\"%llu\"/>\n", (unsigned long long)s.pub.peak_mapped_bytes);
    XML("<aspace type=\"total\" size=\"%llu\"/>\n", (unsigned long long)s.pub.mapped_bytes);
    XML("<aspace type=\"mprotect\" size=\"%llu\"/>\n", (unsigned long long)s.pub.mapped_bytes);
    XML("<lxmalloc committed=\"%llu\" resident=\"%llu\" dirty=\"%llu\" purged=\"%llu\" "
        "unmapped=\"%llu\" huge_cached=\"%llu\"/>\n",
        (unsigned long long)s.pub.committed_bytes, (unsigned long long)s.pub.resident_bytes,
        (unsigned long long)s.pub.dirty_bytes, (unsigned long long)s.pub.purged_bytes,
        (unsigned long long)s.pub.unmapped_bytes, (unsigned long long)s.pub.huge_cached_bytes);
    XML("</malloc>\n");
#undef XML
    return n < cap ? n : cap;
}

void stats_at_exit(void)
{
    if (lx_opt.stats_at_exit)
        stats_print(2);
    if (lx_opt.stats_file[0] != '\0') {
        int fd = os_open_append(lx_opt.stats_file);
        if (fd >= 0) {
            lx_stats_print_summary(fd);
            os_close(fd);
        }
    }
}

LX_RARE LX_EXPORT int lx_stats_get(lx_stats_t *out)
{
    struct stats_snapshot s;
    stats_snapshot(&s);
    *out = s.pub;
    return 0;
}

LX_RARE LX_EXPORT void lx_stats_print_summary(int fd)
{
    struct stats_snapshot s;
    stats_snapshot(&s);
    lx_printf(fd,
              "lxmalloc-stats pid=%d allocs=%llu frees=%llu alloc_bytes=%llu live_bytes=%llu "
              "peak_live_bytes=%llu mapped_bytes=%llu peak_mapped_bytes=%llu maxrss_kb=%ld\n",
              os_getpid(), (unsigned long long)s.pub.malloc_count,
              (unsigned long long)s.pub.free_count, (unsigned long long)s.pub.alloc_bytes,
              (unsigned long long)s.pub.live_bytes, (unsigned long long)s.pub.peak_live_bytes,
              (unsigned long long)s.pub.mapped_bytes, (unsigned long long)s.pub.peak_mapped_bytes,
              os_maxrss_kb());
}

LX_RARE LX_EXPORT void lx_stats_json(int fd)
{
    struct stats_snapshot s;
    stats_snapshot(&s);
    const lx_stats_t *p = &s.pub;
    const struct {
        const char *name;
        unsigned long long value;
    } fields[] = {
        {"malloc_count", p->malloc_count},       {"free_count", p->free_count},
        {"alloc_bytes", p->alloc_bytes},         {"live_bytes", p->live_bytes},
        {"peak_live_bytes", p->peak_live_bytes}, {"mapped_bytes", p->mapped_bytes},
        {"peak_mapped_bytes", p->peak_mapped_bytes}, {"segment_count", p->segment_count},
        {"huge_count", p->huge_count},           {"huge_bytes", p->huge_bytes},
        {"heap_count", p->heap_count},           {"os_mmap_count", p->os_mmap_count},
        {"os_munmap_count", p->os_munmap_count}, {"os_madvise_count", p->os_madvise_count},
        {"committed_bytes", p->committed_bytes}, {"resident_bytes", p->resident_bytes},
        {"dirty_bytes", p->dirty_bytes},         {"purged_bytes", p->purged_bytes},
        {"unmapped_bytes", p->unmapped_bytes},   {"huge_cached_bytes", p->huge_cached_bytes},
        {"run_cached_bytes", p->run_cached_bytes},
    };
    char buf[4096];
    size_t n = lx_format(buf, sizeof(buf), "{\"pid\": %d", os_getpid());
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        n += lx_format(buf + n, sizeof(buf) - n, ", \"%s\": %llu", fields[i].name,
                       fields[i].value);
    n += lx_format(buf + n, sizeof(buf) - n, ", \"classes\": [");
    os_write_all(fd, buf, n);
    bool first = true;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        if (s.class_alloc[c] == 0)
            continue;
        n = lx_format(buf, sizeof(buf),
                      "%s{\"size\": %u, \"allocations\": %llu, \"live\": %llu, "
                      "\"live_bytes\": %llu}",
                      first ? "" : ", ", lx_classes[c].size, (unsigned long long)s.class_alloc[c],
                      (unsigned long long)s.class_live[c],
                      (unsigned long long)(s.class_live[c] * lx_classes[c].size));
        os_write_all(fd, buf, n);
        first = false;
    }
    os_write_all(fd, "]}\n", 3);
}
