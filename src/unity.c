/* SPDX-License-Identifier: MIT */
/*
 * unity.c — the whole library as one translation unit, so the compiler can
 * inline across layers (malloc into lx_malloc into the heap's fast path). The
 * only .c file that includes other .c files. The order follows the layers, from
 * the bottom up.
 */
#include "os.c"
#include "lock.c"
#include "report.c"
#include "options.c"
#include "segment.c"
#include "sizeclass.c"
#include "pages.c"
#include "slab.c"
#include "medium.c"
#include "stats.c"
#include "trace.c"
#include "heap.c"
#include "large.c"
#include "cache.c"
#include "xheap.c"
#include "xpages.c"
#include "secure.c"
#include "stack.c"
#include "check.c"
#include "debug.c"
#include "prof.c"
#include "profout.c"
#include "init.c"
#include "alloc.c"
#include "xalloc.c"
#include "override.c"
