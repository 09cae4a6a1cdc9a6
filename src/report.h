/* SPDX-License-Identifier: MIT */
/*
 * report.h — diagnostics without the heap: a small printf-like formatter into
 * caller buffers, and messages written with write(2). Depends only on os.
 */
#ifndef LX_REPORT_H
#define LX_REPORT_H

#include <stdarg.h>
#include <stddef.h>

#include "compiler.h"
#include "config.h"

/* Supports %s %c %d %i %u %x %p %%, with the l, ll and z length modifiers, and a
 * numeric field width (e.g. %12llu). Always NUL-terminates; returns the length. */
size_t lx_format(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t lx_vformat(char *out, size_t cap, const char *fmt, va_list ap);

/* Format and write to fd in one write(2). Lines longer than 1 KiB are cut. */
void lx_printf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* prefix + message + "\n" to fd, in one write(2); lines over 1 KiB are cut. */
void lx_vline(int fd, const char *prefix, const char *fmt, va_list ap);

/* "lxmalloc: <message>\n" on stderr, at most a bounded number of times. */
void lx_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "lxmalloc: fatal: <message>" and abort. */
LX_NORETURN void lx_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* lx_assert: cheap checks from LX_DEBUG=1; lx_assert_internal: from LX_DEBUG=2.
 * Disabled, they evaluate nothing. */
#if LX_DEBUG >= 1
#define lx_assert(cond) \
    ((cond) ? (void)0 : lx_fatal("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__))
#else
#define lx_assert(cond) ((void)0)
#endif
#if LX_DEBUG >= 2
#define lx_assert_internal(cond) lx_assert(cond)
#else
#define lx_assert_internal(cond) ((void)0)
#endif

#endif /* LX_REPORT_H */
