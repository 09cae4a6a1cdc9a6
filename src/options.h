/* SPDX-License-Identifier: MIT */
/*
 * options.h — the tunables: LXMALLOC_* and glibc's MALLOC_* environment variables,
 * read once at start-up, and mallopt() afterwards. docs/OPTIONS.md lists them.
 */
#ifndef LX_OPTIONS_H
#define LX_OPTIONS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct lx_options {
    _Atomic size_t mmap_threshold;  /* bytes; blocks this large are mapped directly */
    _Atomic size_t trim_threshold;  /* bytes of empty segments kept mapped */
    _Atomic unsigned arena_max;     /* 0: one arena per CPU of the affinity mask */
    _Atomic int perturb;            /* 0 off, else the byte used as M_PERTURB does */
    _Atomic int check_action;       /* M_CHECK_ACTION: bit 0 report, bit 1 abort */
    _Atomic uint64_t purge_delay_ns; /* free runs older than this are given back */
    _Atomic size_t huge_cache;      /* bytes of freed huge blocks kept mapped */
    int thp;                        /* -1 kernel default, 1 MADV_HUGEPAGE, 0 MADV_NOHUGEPAGE */
    int source_brk;                 /* LXMALLOC_SOURCE=brk: segments from the program break */
    int stats_at_exit;              /* LXMALLOC_STATS=1 */
    int debug;                      /* LXMALLOC_DEBUG=1: debug mode; fixed at start-up */
    int zero_on_free;               /* LXMALLOC_ZERO_ON_FREE=1; fixed at start-up */
    int medium;                     /* LXMALLOC_MEDIUM=0: no medium runs; fixed at start-up */
    char stats_file[512];           /* LXMALLOC_STATS_FILE, "" if unset */
    char report_file[512];          /* LXMALLOC_REPORT_FILE, "" if unset (stderr) */
    char trace_file[512];           /* LXMALLOC_TRACE, "" if unset; fixed at start-up */
    unsigned trace_interval_ms;     /* LXMALLOC_TRACE_INTERVAL: least ms between records */
    int leaks;                      /* LXMALLOC_LEAKS=1: leak report at exit; fixed at start-up */
    char leaks_file[512];           /* LXMALLOC_LEAKS_FILE, "" if unset */
    char profile_file[512];         /* LXMALLOC_PROFILE, "" if unset (no heap profile) */
    size_t profile_rate;            /* LXMALLOC_PROFILE_RATE: mean bytes between samples */
    int profile_signal;             /* LXMALLOC_PROFILE_SIGNAL: dump on this signal; 0 none */
};

extern struct lx_options lx_opt;

/* Nonzero while something needs the slow paths on every call: perturb, debug
 * mode or zero-on-free (LX_HOOK_PERTURB), running under valgrind (blocks are
 * described to memcheck, src/track.h), or the leak report and heap profile
 * (LX_HOOK_PROF, src/prof.h). The fast paths test this one byte. */
#define LX_HOOK_PERTURB 1
#define LX_HOOK_TRACK 2
#define LX_HOOK_PROF 4
extern _Atomic unsigned char lx_hooks_active;

void options_init(void);
/* mallopt(): 1 if the parameter is known and the value accepted, else 0. */
int options_mallopt(int param, int value);

#endif /* LX_OPTIONS_H */
