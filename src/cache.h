/* SPDX-License-Identifier: MIT */
/*
 * cache.h — object caches (lx_cache_*): what the rest of the library calls.
 */
#ifndef LX_CACHE_H
#define LX_CACHE_H

/* malloc_stats: one line per live cache (nothing if there is none). */
void caches_print_stats(int fd);

/* fork: take the cache registry lock, then every cache's lock (first of all the
 * allocator's locks: a ctor may call malloc with its cache locked); release them
 * in the parent; reset them in the child. */
void caches_fork_prepare(void);
void caches_fork_parent(void);
void caches_fork_child(void);

#endif /* LX_CACHE_H */
