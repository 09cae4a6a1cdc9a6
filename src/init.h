/* SPDX-License-Identifier: MIT */
/*
 * init.h — process and thread start-up, thread exit, fork handlers.
 */
#ifndef LX_INIT_H
#define LX_INIT_H

#include "types.h"

/* Idempotent and thread-safe; allocates nothing from lxmalloc. */
void lx_process_init(void);

/* Give the calling thread its heap (initialising the process first if needed):
 * the orphan `prefer` if it is one (heap_attach_thread). NULL if memory for it
 * cannot be had. */
struct heap *lx_thread_init(const struct heap *prefer) LX_WUR;

/* The heap a free slow path counts and keeps its block in: a thread that frees
 * before it ever allocates (a consumer) gets its heap here, so its frees are
 * counted without atomics and published like any heap's; a thread past its
 * exit, or one that cannot get a heap, frees as the empty heap. `owner`: the
 * heap of the block being freed, if known: a thread whose first call frees a
 * block of an exited thread's heap adopts that heap (it took over that
 * thread's work, and its frees are then local). */
struct heap *lx_thread_heap_for_free(const struct heap *owner) LX_WUR;

#endif /* LX_INIT_H */
