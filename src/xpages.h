/* SPDX-License-Identifier: MIT */
/*
 * xpages.h — the page allocator (lx_pages_*). Its blocks are RUN_PAGES runs of
 * the buddy allocator, or huge mappings on its own large_owner list; the rest of
 * the library needs nothing from it beyond those two marks.
 */
#ifndef LX_XPAGES_H
#define LX_XPAGES_H

#include "large.h"

/* The huge mappings the page allocator handed out (orders above 9). */
extern struct large_owner lx_pages_huge;

#endif /* LX_XPAGES_H */
