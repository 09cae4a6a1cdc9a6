/* SPDX-License-Identifier: MIT */
/*
 * alloc.h — the api layer's internal entry points for override.c (the lx_
 * functions themselves are declared in include/lxmalloc.h).
 */
#ifndef LX_ALLOC_H
#define LX_ALLOC_H

#include <stddef.h>

/* For malloc_info: the XML text, written to `fd`-less callers through a buffer. */
size_t alloc_info_xml(char *buf, size_t cap);

/* Debug mode, at exit: check the blocks still in quarantine for writes after free. */
void alloc_debug_exit(void);

#endif /* LX_ALLOC_H */
