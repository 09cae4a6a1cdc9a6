/*
 * Helpers shared by the stress tests: the time budget, CPU pinning, blocks that
 * carry their own size and tag, and the allocator's checker when it is there.
 */
#ifndef LXT_STRESS_H
#define LXT_STRESS_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "lxt.h"

/* Seconds to run: LXT_STRESS_SECONDS, else `dflt`. */
static inline double stress_seconds(double dflt)
{
    const char *e = getenv("LXT_STRESS_SECONDS");
    return e != NULL && atof(e) > 0 ? atof(e) : dflt;
}

static inline long env_long(const char *name, long dflt)
{
    const char *e = getenv(name);
    return e != NULL && atol(e) > 0 ? atol(e) : dflt;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keep the process on at most `n` CPUs (threads inherit it). */
static inline void pin_cpus(int n)
{
    cpu_set_t set, keep;
    CPU_ZERO(&keep);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    for (int c = 0, k = 0; c < CPU_SETSIZE && k < n; c++)
        if (CPU_ISSET(c, &set)) {
            CPU_SET(c, &keep);
            k++;
        }
    CHECK(sched_setaffinity(0, sizeof keep, &keep) == 0, "sched_setaffinity failed");
}

/* A block starts with its size and tag; the rest is the tag's pattern, written
 * and checked in full up to 4 KiB and at its two ends beyond. */
struct sblk {
    size_t n;
    uint64_t tag;
};

static inline void sblk_fill(struct sblk *b, size_t n, uint64_t tag)
{
    b->n = n;
    b->tag = tag;
    unsigned char *d = (unsigned char *)(b + 1);
    size_t body = n - sizeof *b;
    if (body <= 8192) {
        lxt_fill(d, body, tag);
    } else {
        lxt_fill(d, 4096, tag);
        lxt_fill(d + body - 4096, 4096, tag ^ 1);
    }
}

static inline void sblk_check(const struct sblk *b, const char *what)
{
    const unsigned char *d = (const unsigned char *)(b + 1);
    size_t body = b->n - sizeof *b;
    if (body <= 8192) {
        CHECK_PATTERN(d, body, b->tag, what);
    } else {
        CHECK_PATTERN(d, 4096, b->tag, what);
        CHECK_PATTERN(d + body - 4096, 4096, b->tag ^ 1, what);
    }
}

/* lx_heap_check of the preloaded library; 0 when it is not there (system mode). */
static inline size_t heap_check_if_any(void)
{
    size_t (*check)(void) = (size_t(*)(void))lxt_sym("lx_heap_check");
    return check != NULL ? check() : 0;
}

static inline int stats_if_any(lx_stats_t *st)
{
    int (*get)(lx_stats_t *) = (int (*)(lx_stats_t *))lxt_sym("lx_stats_get");
    return get != NULL ? get(st) : -1;
}

#endif /* LXT_STRESS_H */
