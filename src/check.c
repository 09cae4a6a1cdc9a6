/* SPDX-License-Identifier: MIT */
/*
 * check.c — reports detected heap errors and walks the heap for the consistency
 * checker (lx_heap_check, used by the tests). Layer: utility; the walker calls
 * into pages and heap, which provide their own per-structure checks.
 */
#include "check.h"

#include "heap.h"
#include "lxmalloc.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "report.h"

void check_bad_pointer(const char *func, const void *p, const char *problem)
{
    int action = atomic_load_explicit(&lx_opt.check_action, memory_order_relaxed);
    if (action & 1)
        lx_message("%s(): %s: %p", func, problem, p);
    if (action & 2) {
        if (action & 1)
            lx_message("aborting (set MALLOC_CHECK_=1 to report heap errors without aborting)");
        os_abort();
    }
}

LX_EXPORT size_t lx_heap_check(void)
{
    size_t problems = 0;
    for (unsigned i = 0; i < LX_ARENA_MAX; i++)
        problems += arena_check(&lx_arenas[i]);
    problems += heap_check(lx_tls_heap);
    problems += heaps_check_orphans();
    return problems;
}
