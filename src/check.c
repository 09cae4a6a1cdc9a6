/* SPDX-License-Identifier: MIT */
/*
 * check.c — reports detected heap errors and walks the heap for the consistency
 * checker (lx_heap_check, used by the tests). Layer: utility; the walker calls
 * into pages and heap, which provide their own per-structure checks.
 *
 * Reports never allocate: lines are formatted into a stack buffer (report.c) and
 * written with write(2); the stack is walked with libgcc's _Unwind_Backtrace
 * (which reads the loaded objects' unwind tables in place) and named with dladdr
 * (a walk of the loader's own tables). glibc's backtrace() was the other option;
 * it dlopens libgcc_s on first use, which allocates. A report inside a report
 * (the unwinder crashed into us) prints one line and aborts.
 */
#include "check.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <unwind.h>

#include "heap.h"
#include "lxmalloc.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "report.h"

#define LX_REPORT_FRAMES 24
#define LX_REPORT_MAX 100

LX_TLS const void *lx_tls_caller;
static LX_TLS int lx_tls_reporting;
static _Atomic unsigned lx_report_count;

struct frames {
    uintptr_t ip[LX_REPORT_FRAMES];
    unsigned count;
};

static _Unwind_Reason_Code frame_cb(struct _Unwind_Context *ctx, void *arg)
{
    struct frames *f = arg;
    uintptr_t ip = _Unwind_GetIP(ctx);
    if (ip == 0 || f->count >= LX_REPORT_FRAMES)
        return _URC_END_OF_STACK;
    f->ip[f->count++] = ip;
    return _URC_NO_REASON;
}

void check_preload(void)
{
    struct frames f = {{0}, 0};
    _Unwind_Backtrace(frame_cb, &f);
    Dl_info info;
    (void)dladdr((const void *)&lx_tls_reporting, &info);
}

/* One report line: "lxmalloc: " + text + "\n", in one write. */
static void report_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_line(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lx_vline(fd, "lxmalloc: ", fmt, ap);
    va_end(ap);
}

/* "0x... symbol+0x1f (object)" for a code address; `ip` is a return address, so
 * the symbol is looked up one byte before it. */
static void report_site(int fd, const char *label, uintptr_t ip)
{
    Dl_info info;
    if (ip == 0)
        return;
    if (dladdr((const void *)(ip - 1), &info) == 0 || info.dli_fname == NULL) {
        report_line(fd, "%s%p", label, (void *)ip);
        return;
    }
    if (info.dli_sname != NULL && info.dli_saddr != NULL)
        report_line(fd, "%s%p %s+0x%zx (%s)", label, (void *)ip, info.dli_sname,
                    (size_t)(ip - (uintptr_t)info.dli_saddr), info.dli_fname);
    else
        report_line(fd, "%s%p (%s+0x%zx)", label, (void *)ip, info.dli_fname,
                    (size_t)(ip - (uintptr_t)info.dli_fbase));
}

static void report_stack(int fd)
{
    struct frames f = {{0}, 0};
    _Unwind_Backtrace(frame_cb, &f);
    /* Start at the frame that called malloc/free/...; frames inside lxmalloc
     * tell the reader nothing. If it is not found (a fast-path detection), print
     * everything. */
    unsigned first = 0;
    uintptr_t caller = (uintptr_t)lx_tls_caller;
    for (unsigned i = 0; i < f.count; i++) {
        if (f.ip[i] == caller) {
            first = i;
            break;
        }
    }
    report_line(fd, "  detected at:");
    for (unsigned i = first; i < f.count; i++) {
        char label[32];
        lx_format(label, sizeof(label), "    #%u ", i - first);
        report_site(fd, label, f.ip[i]);
    }
}

void check_error(const struct check_sites *sites, const char *fmt, ...)
{
    int action = atomic_load_explicit(&lx_opt.check_action, memory_order_relaxed);
    if (lx_tls_reporting) {
        static const char again[] = "lxmalloc: fatal: heap error while reporting a heap error\n";
        os_write_all(2, again, sizeof(again) - 1);
        os_abort();
    }
    if ((action & 1) &&
        atomic_fetch_add_explicit(&lx_report_count, 1, memory_order_relaxed) < LX_REPORT_MAX) {
        lx_tls_reporting = 1;
        int fd = 2;
        if (lx_opt.report_file[0] != '\0') {
            int f = os_open_append(lx_opt.report_file);
            if (f >= 0)
                fd = f;
        }
        va_list ap;
        va_start(ap, fmt);
        lx_vline(fd, "lxmalloc: ", fmt, ap);
        va_end(ap);
        report_stack(fd);
        if (sites != NULL) {
            report_site(fd, "  block allocated at: ", (uintptr_t)sites->alloc_site);
            report_site(fd, "  block freed at: ", (uintptr_t)sites->free_site);
        }
        if (action & 2)
            report_line(fd, "aborting (set MALLOC_CHECK_=1 to report heap errors without aborting)");
        if (fd != 2)
            os_close(fd);
        lx_tls_reporting = 0;
    }
    if (action & 2)
        os_abort();
}

void check_double_free(const char *func, const void *p, size_t block_size)
{
    check_error(NULL, "double free of %p (%zu-byte block) in %s()", p, block_size, func);
}

void check_corrupt_list(size_t block_size, const void *slab, const void *b, const void *next)
{
    check_error(NULL,
                "free list of a %zu-byte slab at %p is corrupt (block %p links to %p): "
                "a freed block was written to",
                block_size, slab, b, next);
}

void check_foreign_pointer(const char *func, const void *p)
{
    /* Near this frame: most likely the caller's stack (a thread's stack is
     * rarely more than 8 MiB deep). */
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if ((uintptr_t)p >= sp && (uintptr_t)p - sp < ((uintptr_t)8 << 20)) {
        check_error(NULL, "%s() of %p, which lxmalloc did not allocate (a stack address)", func,
                    p);
        return;
    }
    Dl_info info;
    if (p != NULL && dladdr(p, &info) != 0 && info.dli_fname != NULL) {
        if (info.dli_sname != NULL && info.dli_saddr != NULL)
            check_error(NULL,
                        "%s() of %p, which lxmalloc did not allocate (the static data of %s: "
                        "%s+0x%zx)",
                        func, p, info.dli_fname, info.dli_sname,
                        (size_t)((uintptr_t)p - (uintptr_t)info.dli_saddr));
        else
            check_error(NULL,
                        "%s() of %p, which lxmalloc did not allocate (the static data of %s)",
                        func, p, info.dli_fname);
        return;
    }
    check_error(NULL,
                "%s() of %p, which lxmalloc did not allocate (another allocator's block or "
                "a mapping of the program's own)",
                func, p);
}

void check_bad_pointer(const char *func, const void *p, const char *problem)
{
    check_error(NULL, "%s() of %p: %s", func, p, problem);
}

LX_EXPORT size_t lx_heap_check(void)
{
    size_t problems = 0;
    for (unsigned i = 0; i < LX_ARENA_MAX; i++)
        problems += arena_check(&lx_arenas[i]);
    problems += heap_check(lx_tls_heap);
    problems += heaps_check_orphans();
    return problems;
}
