/* SPDX-License-Identifier: MIT */
/*
 * check.h — what happens when a heap error is detected, and the heap checker.
 *
 * Every detected error goes through check_error: the action follows
 * M_CHECK_ACTION / MALLOC_CHECK_ (bit 0 prints a report, bit 1 aborts; with
 * neither the call is ignored), and the caller then leaves the heap in a safe
 * state (the bad pointer is not freed, a corrupt list is cut). A report is one
 * line naming the bug, then the stack where it was detected and, when debug
 * mode recorded them, where the block was allocated and freed; it goes to
 * stderr or to LXMALLOC_REPORT_FILE, written with write(2), and nothing on the
 * way allocates.
 */
#ifndef LX_CHECK_H
#define LX_CHECK_H

#include <stddef.h>

#include "compiler.h"

/* The return address of the API call being served (malloc's caller, free's
 * caller, ...), set on entry to every slow path; the reported stack starts there. */
extern LX_TLS const void *lx_tls_caller;

LX_INLINE void check_set_caller(const void *caller)
{
    lx_tls_caller = caller;
}

/* Where a block was allocated and freed (debug mode records them), or NULLs. */
struct check_sites {
    const void *alloc_site;
    const void *free_site;
};

/* Report "<message>" (printf-like, report.h's formatter) as the action says. */
LX_COLD void check_error(const struct check_sites *sites, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The common reports. */
LX_COLD void check_double_free(const char *func, const void *p, size_t block_size);
LX_COLD void check_corrupt_list(size_t block_size, const void *slab, const void *b,
                                const void *next);
/* `p` lies in no memory lxmalloc manages: says what it looks like (stack, a
 * loaded object's data, other memory). */
LX_COLD void check_foreign_pointer(const char *func, const void *p);
/* Any other bad pointer, with a description of what lies there. */
LX_COLD void check_bad_pointer(const char *func, const void *p, const char *problem);

#endif /* LX_CHECK_H */
