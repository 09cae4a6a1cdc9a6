/* SPDX-License-Identifier: MIT */
/*
 * prof.h — the leak report (LXMALLOC_LEAKS) and the sampled heap profile
 * (LXMALLOC_PROFILE). While either is on, options.c sets LX_HOOK_PROF, which
 * sends every allocation and free to alloc.c's slow paths; those call
 * prof_alloc for each new block and prof_free before each free. Off, nothing
 * here is ever called.
 */
#ifndef LX_PROF_H
#define LX_PROF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROF_FRAMES 16 /* frames kept per site */

/* One allocation stack (leak report), or one stack and block size (profile
 * samples). Created by prof.c and never freed; read by profout.c. */
struct prof_site {
    struct prof_site *next_all;    /* registry link, set once under site_lock */
    uint64_t hash;                 /* of frames, kind and size: the table key */
    uint64_t stack_hash;           /* of the frames alone: merges sizes in .folded */
    size_t size;                   /* sample sites: bytes of each block; leak sites: 0 */
    unsigned count;                /* frames in ip[] */
    bool sample;                   /* a profile sample site (else a leak site) */
    _Atomic uint64_t live_count;   /* blocks recorded here and not yet freed */
    _Atomic uint64_t live_bytes;   /* their requested bytes */
    _Atomic uint64_t alloc_count;  /* blocks ever recorded here */
    _Atomic uint64_t alloc_bytes;  /* their requested bytes */
    uintptr_t ip[PROF_FRAMES];     /* return addresses, innermost (malloc's caller) first */
};

/* A block's record, taken out of the table by prof_take. */
struct prof_record {
    struct prof_site *leak_site;   /* where it was allocated (leak report), or NULL */
    struct prof_site *sample_site; /* its profile sample, or NULL */
    size_t size;                   /* requested bytes */
};

/* At start-up, under the init lock: the tables' first mapping. Allocates
 * nothing from the heap. */
void prof_init(void);
/* After start-up, outside every lock: the unwinder's first walk, the signal
 * handler of LXMALLOC_PROFILE_SIGNAL. */
void prof_start(void);

/* A new block p of `size` requested bytes, allocated by the caller recorded in
 * lx_tls_caller (check.h). */
void prof_alloc(void *p, size_t size);
/* p is about to be freed (any pointer: unknown ones are ignored). Call it
 * before the block goes back, so that another thread's new block at the same
 * address is never mistaken for it. */
void prof_free(void *p);
/* realloc: take p's record out (false if there is none), and put it back if
 * the realloc fails and p stays live. */
bool prof_take(void *p, struct prof_record *out);
void prof_restore(void *p, const struct prof_record *rec);

/* At exit: the leak report, the last heap profile. */
void prof_at_exit(void);

/* For the reports: every site, newest first, linked by next_all (a list that
 * only grows at its head, walked without a lock); the number of blocks that
 * could not be recorded for want of memory. */
struct prof_site *prof_sites(void);
uint64_t prof_dropped_count(void);

/* fork: the table locks, taken last (they are leaves). */
void prof_fork_prepare(void);
void prof_fork_parent(void);
void prof_fork_child(void);

#endif /* LX_PROF_H */
