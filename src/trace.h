/* SPDX-License-Identifier: MIT */
/*
 * trace.h — LXMALLOC_TRACE: a time series of the process's memory, one text line
 * per record, appended to a file. Beside every layer, like stats (whose snapshot
 * it writes); depends on stats, options and os.
 *
 * trace_tick() is what the slow paths call: one relaxed load when tracing is off.
 * Its callers must hold no allocator lock, since a record takes a statistics
 * snapshot, which takes lx_heaps_lock and the arena locks.
 */
#ifndef LX_TRACE_H
#define LX_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "compiler.h"

extern _Atomic bool lx_trace_on; /* set once at start-up; cleared in a forked child */

/* After options_init, outside every lock: writes the header and a first record. */
void trace_init(void);
/* A record if the interval has passed since the last one. */
void trace_tick_slow(void);
/* The last record, from the exit handler. */
void trace_at_exit(void);
/* A child of fork stops tracing (its records would be a copy of the parent's). */
void trace_fork_child(void);

LX_INLINE void trace_tick(void)
{
    if (LX_UNLIKELY(atomic_load_explicit(&lx_trace_on, memory_order_relaxed)))
        trace_tick_slow();
}

#endif /* LX_TRACE_H */
