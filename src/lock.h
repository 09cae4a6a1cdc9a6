/* SPDX-License-Identifier: MIT */
/*
 * lock.h — a three-state futex mutex (0 free, 1 held, 2 held with waiters), small
 * enough to be zero-initialised in .bss and usable before lxmalloc initialises.
 * Used only on slow paths (arenas, the heap registry); never on the fast path.
 * Lock order, outermost first: global lock (registry, orphans, init) -> arena locks
 * in index order -> the brk lock (segment.c, taken under an arena lock) and the
 * huge cache's lock (large.c, taken alone). The debug quarantine's lock and the
 * profiler's table locks (prof.c) are leaves, taken last. A heap's full_lock is a
 * leaf too: nothing is taken under it, except that heap_steal holds its own and
 * tries (never waits for) another heap's. fork's prepare handler takes them in
 * that order, the heaps' full locks right after the global lock.
 */
#ifndef LX_LOCK_H
#define LX_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "compiler.h"
#include "os.h"

typedef struct lx_lock {
    _Atomic int state;
} lx_lock_t;

/* Spin briefly, then sleep on the futex (in lock.c). */
void lx_lock_slow(lx_lock_t *l);

LX_INLINE void lx_lock(lx_lock_t *l)
{
    int c = 0;
    if (LX_LIKELY(atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                                          memory_order_relaxed)))
        return;
    lx_lock_slow(l);
}

LX_INLINE bool lx_trylock(lx_lock_t *l)
{
    int c = 0;
    return atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

LX_INLINE void lx_unlock(lx_lock_t *l)
{
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        os_futex_wake(&l->state, 1);
}

/* After fork, in the child: only this thread exists, whatever the state said. */
LX_INLINE void lx_lock_reset(lx_lock_t *l)
{
    atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

#endif /* LX_LOCK_H */
