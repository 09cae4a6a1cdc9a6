/* SPDX-License-Identifier: MIT */
/*
 * check.c — reports detected heap errors and walks the heap for the consistency
 * checker (lx_heap_check, used by the tests). Layer: utility; the walker calls
 * into pages and heap, which provide their own per-structure checks.
 *
 * Reports never allocate: lines are formatted into a stack buffer (report.c) and
 * written with write(2); the stack is walked and named by stack.c (libgcc's
 * unwinder and dladdr, neither of which allocates once set up). A report inside
 * a report (the unwinder crashed into us) prints one line and aborts.
 */
#include "check.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>

#include "heap.h"
#include "lxmalloc.h"
#include "options.h"
#include "os.h"
#include "pages.h"
#include "report.h"
#include "stack.h"

#define LX_REPORT_FRAMES 24
#define LX_REPORT_MAX 100

LX_TLS const void *lx_tls_caller;
static LX_TLS int lx_tls_reporting;
static _Atomic unsigned lx_report_count;

/* One report line: "lxmalloc: " + text + "\n", in one write. */
static void report_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
LX_RARE static void report_line(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lx_vline(fd, "lxmalloc: ", fmt, ap);
    va_end(ap);
}

/* "0x... symbol+0x1f (object)" for a code address; `ip` is a return address, so
 * the symbol is looked up one byte before it. */
LX_RARE static void report_site(int fd, const char *label, uintptr_t ip)
{
    if (ip == 0)
        return;
    struct stack_symbol sym;
    stack_symbolize(ip, &sym);
    if (sym.module == NULL) {
        report_line(fd, "%s%p", label, (void *)ip);
        return;
    }
    if (sym.function != NULL)
        report_line(fd, "%s%p %s+0x%zx (%s)", label, (void *)ip, sym.function,
                    sym.function_offset, sym.module);
    else
        report_line(fd, "%s%p (%s+0x%zx)", label, (void *)ip, sym.module, sym.module_offset);
}

LX_RARE static void report_stack(int fd)
{
    /* Start at the frame that called malloc/free/...; frames inside lxmalloc
     * tell the reader nothing. If it is not found (a fast-path detection),
     * stack_capture keeps everything. */
    uintptr_t ip[LX_REPORT_FRAMES];
    unsigned count = stack_capture(ip, LX_REPORT_FRAMES, (uintptr_t)lx_tls_caller);
    report_line(fd, "  detected at:");
    for (unsigned i = 0; i < count; i++) {
        char label[32];
        lx_format(label, sizeof(label), "    #%u ", i);
        report_site(fd, label, ip[i]);
    }
}

LX_RARE void check_error(const struct check_sites *sites, const char *fmt, ...)
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

LX_RARE void check_double_free(const char *func, const void *p, size_t block_size)
{
    check_error(NULL, "double free of %p (%zu-byte block) in %s()", p, block_size, func);
}

LX_RARE void check_corrupt_list(size_t block_size, const void *slab, const void *b, const void *next)
{
    check_error(NULL,
                "free list of a %zu-byte slab at %p is corrupt (block %p links to %p): "
                "a freed block was written to",
                block_size, slab, b, next);
}

LX_RARE void check_foreign_pointer(const char *func, const void *p)
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

LX_RARE void check_bad_pointer(const char *func, const void *p, const char *problem)
{
    check_error(NULL, "%s() of %p: %s", func, p, problem);
}

LX_RARE LX_EXPORT size_t lx_heap_check(void)
{
    size_t problems = 0;
    unsigned n = arenas_used();
    for (unsigned i = 0; i < n; i++)
        problems += arena_check(&lx_arenas[i]);
    problems += heap_check(lx_tls_heap);
    problems += heaps_check_orphans();
    return problems;
}
