/* SPDX-License-Identifier: MIT */
/*
 * tool.h — what the parts of the lxmalloc command share: the subcommands kept in
 * their own files and a few helpers (tools/util.c). The command is an ordinary
 * program: stdio and the system malloc are fine here.
 */
#ifndef LX_TOOL_H
#define LX_TOOL_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of maps and plot: 0 done, 1 failed (a message said why), 2 usage. */
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* "lxmalloc: " + message + newline on stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Room for one more element in arr (count used of *cap, `size` bytes each),
 * doubling from `first`: the array, moved perhaps, or NULL when out of memory
 * (arr is then unchanged). */
void *tool_grow(void *arr, size_t *cap, size_t count, size_t size, size_t first);

/* "512 B", "12.3 KiB", "4.0 MiB": into buf (at least 32 bytes). */
const char *tool_bytes(char *buf, unsigned long long v);

/* The whole file, NUL-terminated, malloc'd; NULL with errno set. */
char *tool_read_file(const char *path, size_t *len);

/* lxmalloc maps [PID]: tools/maps.c */
int cmd_maps(int argc, char **argv);
/* lxmalloc plot TRACE -o OUT.svg: tools/plot.c */
int cmd_plot(int argc, char **argv);
/* run --trace FILE: make FILE empty and point LXMALLOC_TRACE at its absolute
 * path, for the program about to be started. False after a message. tools/util.c */
bool trace_prepare(const char *path);

#endif /* LX_TOOL_H */
