/* SPDX-License-Identifier: MIT */
/*
 * override.c — the only file that defines the standard names: malloc, free and
 * the rest of the C, POSIX and glibc surface, plus glibc's internal __libc_*
 * entry points, so that nothing a program or library calls falls through to
 * glibc's heap. Each is an alias of its lx_ function in alloc.c, or a thin call
 * into it. Left out of liblxmalloc_api.a.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "alloc.h"
#include "compiler.h"
#include "lxmalloc.h"
#include "stats.h"

/* The allocation and free functions are aliases of the lx_ ones, not calls:
 * they are then the very same code, so a block's allocating caller (the return
 * address the slow paths record for reports and the leak profiler) is the
 * program's even where the compiler would not inline one into the other (-O1,
 * clang). An alias needs its target in the same translation unit: this file is
 * built only inside unity.c. */
#define LX_ALIAS(name) __attribute__((alias(#name), visibility("default")))

void *malloc(size_t size) LX_ALIAS(lx_malloc);
void free(void *p) LX_ALIAS(lx_free);
void *calloc(size_t count, size_t size) LX_ALIAS(lx_calloc);
void *realloc(void *p, size_t size) LX_ALIAS(lx_realloc);
void *reallocarray(void *p, size_t count, size_t size) LX_ALIAS(lx_reallocarray);
int posix_memalign(void **out, size_t alignment, size_t size) LX_ALIAS(lx_posix_memalign);
void *aligned_alloc(size_t alignment, size_t size) LX_ALIAS(lx_aligned_alloc);
void *memalign(size_t alignment, size_t size) LX_ALIAS(lx_memalign);
void *valloc(size_t size) LX_ALIAS(lx_valloc);
void *pvalloc(size_t size) LX_ALIAS(lx_pvalloc);
size_t malloc_usable_size(void *p) LX_ALIAS(lx_malloc_usable_size);

/* C23; declared here because glibc 2.36's <stdlib.h> does not have them yet. */
void free_sized(void *p, size_t size) LX_ALIAS(lx_free_sized);
void free_aligned_sized(void *p, size_t alignment, size_t size) LX_ALIAS(lx_free_aligned_sized);

/* Old and internal names that some programs and libraries call directly. */
void cfree(void *p) LX_ALIAS(lx_free);
void *__libc_malloc(size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(1) LX_ALIAS(lx_malloc);
void __libc_free(void *p) LX_ALIAS(lx_free);
void *__libc_calloc(size_t count, size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE2(1, 2)
    LX_ALIAS(lx_calloc);
void *__libc_realloc(void *p, size_t size) LX_ATTR_ALLOC_SIZE(2) LX_ALIAS(lx_realloc);
void *__libc_memalign(size_t alignment, size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(2)
    LX_ALIAS(lx_memalign);
void *__libc_valloc(size_t size) LX_ATTR_MALLOC LX_ATTR_ALLOC_SIZE(1) LX_ALIAS(lx_valloc);
void *__libc_pvalloc(size_t size) LX_ATTR_MALLOC LX_ALIAS(lx_pvalloc);
int __posix_memalign(void **out, size_t alignment, size_t size) LX_ALIAS(lx_posix_memalign);

LX_EXPORT int mallopt(int param, int value) { return lx_mallopt(param, value); }
LX_EXPORT int malloc_trim(size_t pad) { return lx_malloc_trim(pad); }
LX_EXPORT void malloc_stats(void) { lx_malloc_stats(); }
LX_EXPORT int malloc_info(int options, FILE *stream) { return lx_malloc_info(options, stream); }

static size_t clamp_int(unsigned long long v)
{
    return v > (unsigned long long)__INT_MAX__ ? (size_t)__INT_MAX__ : (size_t)v;
}

LX_EXPORT struct mallinfo2 mallinfo2(void)
{
    struct stats_snapshot s;
    stats_snapshot(&s);
    struct mallinfo2 mi = {0};
    mi.arena = s.segment_bytes;
    mi.ordblks = s.free_runs;
    mi.hblks = s.pub.huge_count;
    mi.hblkhd = s.huge_mapped;
    mi.uordblks = s.pub.live_bytes;
    mi.fordblks = s.segment_bytes - s.used_page_bytes; /* free pages of the segments */
    mi.usmblks = 0;
    mi.keepcost = s.pub.dirty_bytes + s.pub.huge_cached_bytes; /* what malloc_trim frees */
    return mi;
}

LX_EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi = {0};
    mi.arena = (int)clamp_int(m2.arena);
    mi.ordblks = (int)clamp_int(m2.ordblks);
    mi.hblks = (int)clamp_int(m2.hblks);
    mi.hblkhd = (int)clamp_int(m2.hblkhd);
    mi.uordblks = (int)clamp_int(m2.uordblks);
    mi.fordblks = (int)clamp_int(m2.fordblks);
    return mi;
}
