/* SPDX-License-Identifier: MIT */
/*
 * track.h — tells valgrind's memcheck which memory is a block, through its client
 * requests, compiled in when LX_VALGRIND is 1 (the Makefile sets it when
 * <valgrind/memcheck.h> exists); otherwise every function is an empty inline.
 * Natively a request is a dozen instructions that do nothing, and the requests are
 * only reached on slow paths: under valgrind, options.c sets LX_HOOK_TRACK in
 * lx_hooks_active, which sends every malloc and free to alloc.c's slow paths.
 * track_read_word, which slow paths call once per block (a sweep reads the first
 * word of every block of a slab), makes no request at all natively: whether
 * memcheck runs is read once at start-up (lx_track_on).
 *
 * What memcheck is told (mimalloc's track.h has the same idea):
 *   - an allocated block spans its usable size, not the size asked for: the
 *     caller may use all of it (malloc_usable_size says so), and realloc copies it;
 *   - a freed block is inaccessible, except its first two words, which hold the
 *     free-list link (slab.h) and, on a heap's delayed list, the delayed link
 *     (heap.c), which lxmalloc reads and writes;
 *   - blocks carved from a slab become accessible but undefined (slab.c): the run
 *     may be reused from blocks that were freed, and so inaccessible.
 * Not said: that metadata is not a root. A page descriptor holds the address of a
 * large block and of a slab's first block, so leaking one of those shows as
 * "still reachable", not "definitely lost".
 */
#ifndef LX_TRACK_H
#define LX_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"

#if LX_VALGRIND
#include <valgrind/memcheck.h>

/* RUNNING_ON_VALGRIND, read once by lx_process_init (init.c) before anything
 * else of the allocator runs; it cannot change while the process lives. */
extern bool lx_track_on;

LX_INLINE bool track_running(void)
{
    return lx_track_on;
}

/* For lx_process_init: ask valgrind itself. */
LX_INLINE bool track_detect(void)
{
    return RUNNING_ON_VALGRIND != 0;
}

LX_INLINE void track_malloc(void *p, size_t size, bool zeroed)
{
    VALGRIND_MALLOCLIKE_BLOCK(p, size, 0, zeroed);
}

LX_INLINE void track_free(void *p)
{
    VALGRIND_FREELIKE_BLOCK(p, 0);
}

LX_INLINE void track_undefined(void *p, size_t size)
{
    VALGRIND_MAKE_MEM_UNDEFINED(p, size);
}

/* Read a word of a block the program may not have written, without memcheck
 * seeing an uninitialised read, and leave its definedness as it was. */
LX_INLINE uintptr_t track_read_word(const void *p)
{
    if (!lx_track_on)
        return *(const uintptr_t *)p;
    unsigned char vbits[sizeof(uintptr_t)];
    int saved = VALGRIND_GET_VBITS(p, vbits, sizeof vbits);
    VALGRIND_MAKE_MEM_DEFINED(p, sizeof(uintptr_t));
    uintptr_t w = *(const uintptr_t *)p;
    if (saved == 1)
        (void)VALGRIND_SET_VBITS(p, vbits, sizeof vbits);
    return w;
}
#else
LX_INLINE bool track_running(void)
{
    return false;
}

LX_INLINE bool track_detect(void)
{
    return false;
}

LX_INLINE void track_malloc(void *p, size_t size, bool zeroed)
{
    (void)p;
    (void)size;
    (void)zeroed;
}

LX_INLINE void track_free(void *p)
{
    (void)p;
}

LX_INLINE void track_undefined(void *p, size_t size)
{
    (void)p;
    (void)size;
}

LX_INLINE uintptr_t track_read_word(const void *p)
{
    return *(const uintptr_t *)p;
}
#endif /* LX_VALGRIND */

#endif /* LX_TRACK_H */
