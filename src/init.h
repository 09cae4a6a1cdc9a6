/* SPDX-License-Identifier: MIT */
/*
 * init.h — process and thread start-up, thread exit, fork handlers.
 */
#ifndef LX_INIT_H
#define LX_INIT_H

#include "types.h"

/* Idempotent and thread-safe; allocates nothing from lxmalloc. */
void lx_process_init(void);

/* Give the calling thread its heap (initialising the process first if needed).
 * NULL if memory for it cannot be had. */
struct heap *lx_thread_init(void) LX_WUR;

#endif /* LX_INIT_H */
