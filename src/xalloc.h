/* SPDX-License-Identifier: MIT */
/*
 * xalloc.h — the aligned and zeroing variants (lx_zalloc, lx_recalloc,
 * lx_realloc_aligned, lx_malloc_size, lx_good_size). They are built on the
 * public lx_ functions and export nothing else: this header only names the file
 * in the layer list.
 */
#ifndef LX_XALLOC_H
#define LX_XALLOC_H

#include <stddef.h>

/* The usable size lx_malloc(size) gives, for lx_good_size. */
size_t xalloc_good_size(size_t size);

#endif /* LX_XALLOC_H */
