/* SPDX-License-Identifier: MIT */
/*
 * xheap.h — first-class heaps (lx_heap_*): what the rest of the library calls.
 */
#ifndef LX_XHEAP_H
#define LX_XHEAP_H

/* fork: take every first-class heap's list lock (after the object caches', before
 * lx_heaps_lock), release them in the parent, reset them in the child. */
void xheaps_fork_prepare(void);
void xheaps_fork_parent(void);
void xheaps_fork_child(void);

#endif /* LX_XHEAP_H */
