/* SPDX-License-Identifier: MIT */
/*
 * lock.c — the contended half of lx_lock: a short spin, then the futex. Kept out
 * of line so the uncontended lock stays one CAS at every call site.
 */
#include "lock.h"

void lx_lock_slow(lx_lock_t *l)
{
    for (int spin = 0; spin < 100; spin++) {
        int c = 0;
        if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(&l->state, &c, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        LX_CPU_RELAX();
    }
    while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
        os_futex_wait(&l->state, 2);
}
