/* SPDX-License-Identifier: MIT */
/*
 * check.h — what happens when a heap error is detected, and the heap checker.
 */
#ifndef LX_CHECK_H
#define LX_CHECK_H

#include <stddef.h>

#include "compiler.h"

/* A pointer given to `func` is not a live lxmalloc block. Follows M_CHECK_ACTION /
 * MALLOC_CHECK_: bit 0 prints a diagnostic, bit 1 aborts; with neither the call
 * is ignored. */
LX_COLD void check_bad_pointer(const char *func, const void *p, const char *problem);

#endif /* LX_CHECK_H */
