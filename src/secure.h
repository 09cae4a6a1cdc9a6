/* SPDX-License-Identifier: MIT */
/*
 * secure.h — secure memory (lx_secure_malloc, lx_secure_free). Nothing else in
 * the library calls into it; its blocks are mappings of their own, not in the
 * segment map, so lx_free reports one as not lxmalloc's.
 */
#ifndef LX_SECURE_H
#define LX_SECURE_H

#include <stddef.h>

/* Overwrite `size` bytes (a multiple of 8, 8-aligned) with zeros through volatile
 * stores, which the compiler may not drop even right before the memory dies. */
void secure_wipe(void *p, size_t size);

#endif /* LX_SECURE_H */
