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

/* The heap a free slow path counts and keeps its block in: a thread that frees
 * before it ever allocates (a consumer) gets its heap here, so its frees are
 * counted without atomics and published like any heap's; a thread past its
 * exit, or one that cannot get a heap, frees as the empty heap. */
struct heap *lx_thread_heap_for_free(void) LX_WUR;

#endif /* LX_INIT_H */
