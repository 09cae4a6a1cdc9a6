/* SPDX-License-Identifier: MIT */
/*
 * options.c — reads the environment once, at initialisation, straight from
 * `environ` (getenv is fine too, but walking the array once finds every option in
 * one pass and cannot allocate). mallopt() may change the tunables afterwards;
 * they are relaxed atomics, read on slow paths only. Layer: utility.
 */
#include "options.h"

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "os.h"
#include "report.h"
#include "track.h"

extern char **environ;

struct lx_options lx_opt = {
    .mmap_threshold = LX_MMAP_THRESHOLD_DEFAULT,
    .trim_threshold = LX_TRIM_THRESHOLD_DEFAULT,
    .arena_max = 0,
    .perturb = 0,
    .check_action = LX_CHECK_ACTION_DEFAULT,
    .purge_delay_ns = (uint64_t)LX_PURGE_DELAY_MS_DEFAULT * 1000000u,
    .huge_cache = LX_HUGE_CACHE_DEFAULT,
    .thp = -1,
    .stats_at_exit = 0,
    .debug = LX_HEAP_DEBUG_DEFAULT,
    .zero_on_free = 0,
    .medium = 1,
    .stats_file = {0},
    .trace_interval_ms = LX_TRACE_INTERVAL_MS_DEFAULT,
    .report_file = {0},
    .leaks = 0,
    .leaks_file = {0},
    .profile_file = {0},
    .profile_rate = LX_PROFILE_RATE_DEFAULT,
    .profile_signal = 0,
};

_Atomic unsigned char lx_hooks_active;

/* Parameters of our own, set only from the environment (outside glibc's range). */
enum {
    LX_P_PURGE_DELAY = -1001, /* milliseconds */
    LX_P_HUGE_CACHE = -1002,  /* bytes */
    LX_P_THP = -1003,         /* 0 or 1 */
    LX_P_PURGE_BATCH = -1004, /* 0 or 1 */
};

/* glibc's mallopt parameter numbers (<malloc.h>). */
enum {
    LX_M_MXFAST = 1,
    LX_M_TRIM_THRESHOLD = -1,
    LX_M_TOP_PAD = -2,
    LX_M_MMAP_THRESHOLD = -3,
    LX_M_MMAP_MAX = -4,
    LX_M_CHECK_ACTION = -5,
    LX_M_PERTURB = -6,
    LX_M_ARENA_TEST = -7,
    LX_M_ARENA_MAX = -8,
};

static size_t clamp_threshold(unsigned long long v)
{
    if (v < LX_MMAP_THRESHOLD_MIN)
        return LX_MMAP_THRESHOLD_MIN;
    if (v > LX_LARGE_MAX)
        return LX_LARGE_MAX;
    return (size_t)v;
}

static void hooks_update(void)
{
    unsigned char hooks = 0;
    if (atomic_load(&lx_opt.perturb) != 0 || lx_opt.debug || lx_opt.zero_on_free)
        hooks |= LX_HOOK_PERTURB;
    if (track_running())
        hooks |= LX_HOOK_TRACK; /* under valgrind: describe every block to memcheck */
    if (lx_opt.leaks || lx_opt.profile_file[0] != '\0')
        hooks |= LX_HOOK_PROF; /* record blocks for the leak report or the heap profile */
    atomic_store(&lx_hooks_active, hooks);
}

static void set_perturb(int byte)
{
    atomic_store(&lx_opt.perturb, byte & 0xff);
    hooks_update();
}

static void copy_path(char *dst, size_t cap, const char *v)
{
    size_t n = 0;
    while (v[n] != '\0' && n + 1 < cap) {
        dst[n] = v[n];
        n++;
    }
    dst[n] = '\0';
}

/* "123", "64k", "8M", "1g" -> value; false on anything else. */
static int parse_size(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    if (*s < '0' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9') {
        unsigned long long d = (unsigned long long)(*s++ - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    default: break;
    }
    if (*s == 'i' || *s == 'b' || *s == 'B') /* accept KiB, MB, ... */
        s++;
    if (*s == 'B')
        s++;
    if (*s != '\0')
        return 0;
    if (shift != 0 && v > (UINT64_MAX >> shift))
        return 0;
    *out = v << shift;
    return 1;
}

/* If `entry` is "NAME=value", return value, else NULL. */
static const char *match(const char *entry, const char *name)
{
    while (*name != '\0') {
        if (*entry++ != *name++)
            return NULL;
    }
    return *entry == '=' ? entry + 1 : NULL;
}

/* "USR2", "SIGUSR2" or a number -> the signal; 0 if none of those. */
static int parse_signal(const char *v)
{
    static const struct {
        const char *name;
        int number;
    } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
                 {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
                 {"URG", SIGURG},   {"PROF", SIGPROF}, {"WINCH", SIGWINCH}};
    if (v[0] == 'S' && v[1] == 'I' && v[2] == 'G')
        v += 3;
    unsigned long long n;
    if (parse_size(v, &n))
        return n >= 1 && n <= 64 && n != SIGKILL && n != SIGSTOP ? (int)n : 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *a = names[i].name, *b = v;
        while (*a != '\0' && *a == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0')
            return names[i].number;
    }
    return 0;
}

static void option_warn(const char *name, const char *value)
{
    lx_message("ignoring %s=%s: not a number", name, value);
}

/* One table drives both the LXMALLOC_ names and glibc's, so each option is parsed
 * once and glibc's spelling is only an alias. */
struct env_option {
    const char *name;
    int param; /* mallopt parameter it sets, or 0 */
};

static const struct env_option env_options[] = {
    {"LXMALLOC_MMAP_THRESHOLD", LX_M_MMAP_THRESHOLD},
    {"MALLOC_MMAP_THRESHOLD_", LX_M_MMAP_THRESHOLD},
    {"LXMALLOC_TRIM_THRESHOLD", LX_M_TRIM_THRESHOLD},
    {"MALLOC_TRIM_THRESHOLD_", LX_M_TRIM_THRESHOLD},
    {"LXMALLOC_ARENA_MAX", LX_M_ARENA_MAX},
    {"MALLOC_ARENA_MAX", LX_M_ARENA_MAX},
    {"LXMALLOC_PERTURB", LX_M_PERTURB},
    {"MALLOC_PERTURB_", LX_M_PERTURB},
    {"LXMALLOC_CHECK", LX_M_CHECK_ACTION},
    {"MALLOC_CHECK_", LX_M_CHECK_ACTION},
    {"LXMALLOC_PURGE_DELAY", LX_P_PURGE_DELAY},
    {"LXMALLOC_HUGE_CACHE", LX_P_HUGE_CACHE},
    {"LXMALLOC_THP", LX_P_THP},
    {"LXMALLOC_PURGE_BATCH", LX_P_PURGE_BATCH},
};

void options_init(void)
{
    hooks_update();
    if (environ == NULL)
        return;
    /* LXMALLOC_ names win over glibc's: apply glibc's first, in a first pass. */
    for (int pass = 0; pass < 2; pass++) {
        for (char **e = environ; *e != NULL; e++) {
            const char *entry = *e;
            if (entry[0] != 'L' && entry[0] != 'M')
                continue;
            for (size_t i = 0; i < sizeof(env_options) / sizeof(env_options[0]); i++) {
                const struct env_option *o = &env_options[i];
                if ((o->name[0] == 'L') != (pass == 1))
                    continue;
                const char *v = match(entry, o->name);
                if (v == NULL)
                    continue;
                unsigned long long n;
                if (!parse_size(v, &n) || n > INT32_MAX)
                    option_warn(o->name, v);
                else
                    (void)options_mallopt(o->param, (int)n);
            }
            if (pass == 1) {
                const char *v;
                if ((v = match(entry, "LXMALLOC_SOURCE")) != NULL) {
                    if (v[0] == 'b' && v[1] == 'r' && v[2] == 'k' && v[3] == '\0')
                        lx_opt.source_brk = 1;
                    else if (!(v[0] == 'm' && v[1] == 'm' && v[2] == 'a' && v[3] == 'p' && v[4] == '\0'))
                        lx_message("ignoring LXMALLOC_SOURCE=%s: not brk or mmap", v);
                }
                if ((v = match(entry, "LXMALLOC_STATS")) != NULL)
                    lx_opt.stats_at_exit = v[0] != '\0' && v[0] != '0';
                /* A privileged process must not write to files its caller names. */
                if ((v = match(entry, "LXMALLOC_STATS_FILE")) != NULL && !os_is_secure())
                    copy_path(lx_opt.stats_file, sizeof(lx_opt.stats_file), v);
                if ((v = match(entry, "LXMALLOC_REPORT_FILE")) != NULL && !os_is_secure())
                    copy_path(lx_opt.report_file, sizeof(lx_opt.report_file), v);
                if ((v = match(entry, "LXMALLOC_TRACE")) != NULL && !os_is_secure())
                    copy_path(lx_opt.trace_file, sizeof(lx_opt.trace_file), v);
                if ((v = match(entry, "LXMALLOC_TRACE_INTERVAL")) != NULL) {
                    unsigned long long ms;
                    if (!parse_size(v, &ms) || ms > 3600000)
                        lx_message("ignoring LXMALLOC_TRACE_INTERVAL=%s: not a number of "
                                   "milliseconds up to 3600000", v);
                    else
                        lx_opt.trace_interval_ms = (unsigned)ms;
                }
                /* Debug mode and zero-on-free change what a block looks like, so
                 * they are fixed before the first block and mallopt cannot touch them. */
                if ((v = match(entry, "LXMALLOC_DEBUG")) != NULL)
                    lx_opt.debug = v[0] != '\0' && v[0] != '0';
                if ((v = match(entry, "LXMALLOC_ZERO_ON_FREE")) != NULL)
                    lx_opt.zero_on_free = v[0] != '\0' && v[0] != '0';
                if ((v = match(entry, "LXMALLOC_MEDIUM")) != NULL)
                    lx_opt.medium = v[0] != '0';
                /* The profiler records blocks from the first one on: fixed too. */
                if ((v = match(entry, "LXMALLOC_LEAKS")) != NULL)
                    lx_opt.leaks = v[0] != '\0' && v[0] != '0';
                if ((v = match(entry, "LXMALLOC_LEAKS_FILE")) != NULL && !os_is_secure())
                    copy_path(lx_opt.leaks_file, sizeof(lx_opt.leaks_file), v);
                if ((v = match(entry, "LXMALLOC_PROFILE")) != NULL && !os_is_secure())
                    copy_path(lx_opt.profile_file, sizeof(lx_opt.profile_file), v);
                if ((v = match(entry, "LXMALLOC_PROFILE_RATE")) != NULL) {
                    unsigned long long n;
                    if (!parse_size(v, &n) || n > ((unsigned long long)1 << 40))
                        option_warn("LXMALLOC_PROFILE_RATE", v);
                    else
                        lx_opt.profile_rate = n < 1 ? 1 : (size_t)n;
                }
                if ((v = match(entry, "LXMALLOC_PROFILE_SIGNAL")) != NULL) {
                    lx_opt.profile_signal = parse_signal(v);
                    if (lx_opt.profile_signal == 0)
                        lx_message("ignoring LXMALLOC_PROFILE_SIGNAL=%s: not a signal name "
                                   "or number", v);
                }
            }
        }
    }
    hooks_update();
}

int options_mallopt(int param, int value)
{
    switch (param) {
    case LX_M_MMAP_THRESHOLD:
        if (value < 0)
            return 0;
        atomic_store(&lx_opt.mmap_threshold, clamp_threshold((unsigned long long)value));
        return 1;
    case LX_M_TRIM_THRESHOLD:
        if (value < 0)
            return 0;
        atomic_store(&lx_opt.trim_threshold, (size_t)value);
        return 1;
    case LX_M_ARENA_MAX:
        if (value < 0)
            return 0;
        atomic_store(&lx_opt.arena_max, (unsigned)value);
        return 1;
    case LX_M_PERTURB:
        set_perturb(value);
        return 1;
    case LX_M_CHECK_ACTION:
        atomic_store(&lx_opt.check_action, value & 3);
        return 1;
    case LX_P_PURGE_DELAY:
        if (value < 0)
            return 0;
        atomic_store(&lx_opt.purge_delay_ns, (uint64_t)value * 1000000u);
        return 1;
    case LX_P_HUGE_CACHE:
        if (value < 0)
            return 0;
        atomic_store(&lx_opt.huge_cache, (size_t)value);
        return 1;
    case LX_P_THP:
        lx_opt.thp = value != 0;
        return 1;
    case LX_P_PURGE_BATCH:
        os_discard_batching(value != 0);
        return 1;
    case LX_M_MXFAST:
    case LX_M_TOP_PAD:
    case LX_M_MMAP_MAX:
    case LX_M_ARENA_TEST:
        return 1; /* accepted; lxmalloc's design has no use for them */
    default:
        return 0;
    }
}
