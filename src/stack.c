/* SPDX-License-Identifier: MIT */
/*
 * stack.c — stack traces for reports and the profiler, without the heap. The
 * stack is walked with libgcc's _Unwind_Backtrace, which reads the loaded
 * objects' unwind tables in place, and frames are named with dladdr1, a walk of
 * the loader's own tables. glibc's backtrace() was the other option; it dlopens
 * libgcc_s on first use, which allocates. The first walk of a process may still
 * make the unwinder set itself up (and, in some setups, allocate): callers that
 * are inside malloc keep a per-thread flag so a nested allocation is served
 * without being traced, and stack_preload does that first walk early.
 * Layer: utility; no state of its own, no lock.
 */
#include "stack.h"

#include <dlfcn.h>
#include <link.h>
#include <unwind.h>

struct walk {
    uintptr_t *ip;  /* the caller's array */
    unsigned max;   /* its size */
    unsigned count; /* frames stored */
    unsigned seen;  /* frames walked */
    uintptr_t from; /* the first frame to keep; 0: keep from the start */
    uintptr_t raw[LX_STACK_WALK_MAX]; /* every frame walked, for when `from` is never met */
};

/* Stops as soon as `max` frames from `from` on are stored: each frame costs a
 * lookup of its unwind table entry, and deep stacks (an interpreter's) would
 * otherwise be walked to the bottom on every call. */
LX_RARE static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    uintptr_t ip = _Unwind_GetIP(ctx);
    if (ip == 0 || w->seen >= LX_STACK_WALK_MAX)
        return _URC_END_OF_STACK;
    w->raw[w->seen++] = ip;
    if (w->count == 0 && w->from != 0 && ip != w->from)
        return _URC_NO_REASON;
    w->ip[w->count++] = ip;
    return w->count >= w->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

LX_RARE unsigned stack_capture(uintptr_t *ip, unsigned max, uintptr_t from)
{
    struct walk w;
    w.ip = ip;
    w.max = max;
    w.count = 0;
    w.seen = 0;
    w.from = from;
    if (max == 0)
        return 0;
    _Unwind_Backtrace(walk_frame, &w);
    if (w.count == 0) { /* `from` never met: keep the whole walk */
        for (unsigned i = 0; i < w.seen && w.count < max; i++)
            ip[w.count++] = w.raw[i];
    }
    return w.count;
}

LX_RARE void stack_preload(void)
{
    uintptr_t ip[4];
    (void)stack_capture(ip, 4, 0);
    struct stack_symbol s;
    stack_symbolize((uintptr_t)&stack_preload + 1, &s);
}

LX_RARE void stack_symbolize(uintptr_t ip, struct stack_symbol *out)
{
    Dl_info info;
    struct link_map *map = NULL;
    out->function = NULL;
    out->function_offset = 0;
    out->module = NULL;
    out->module_offset = 0;
    if (ip == 0 || dladdr1((const void *)(ip - 1), &info, (void **)&map, RTLD_DL_LINKMAP) == 0)
        return;
    if (info.dli_sname != NULL && info.dli_saddr != NULL) {
        out->function = info.dli_sname;
        out->function_offset = (size_t)(ip - (uintptr_t)info.dli_saddr);
    }
    out->module = info.dli_fname;
    /* The load bias, not dli_fbase: for a non-PIE executable the two differ,
     * and addr2line wants the link-time address. */
    out->module_offset = (size_t)(ip - (map != NULL ? (uintptr_t)map->l_addr
                                                    : (uintptr_t)info.dli_fbase));
}

LX_RARE const char *stack_basename(const char *path)
{
    const char *base = path;
    for (const char *s = path; *s != '\0'; s++) {
        if (*s == '/' && s[1] != '\0')
            base = s + 1;
    }
    return base;
}
