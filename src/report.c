/* SPDX-License-Identifier: MIT */
/*
 * report.c — fixed-buffer formatting and write(2). Nothing here allocates, so it
 * is safe inside the allocator, in signal handlers, and while the heap being
 * reported on is corrupt. Messages are capped so a broken program cannot flood
 * its stderr. Layer: utility, depends only on os.
 */
#include "report.h"

#include <stdatomic.h>
#include <stdint.h>

#include "os.h"

#define LX_MESSAGE_MAX 100

static _Atomic unsigned lx_message_count;

struct fmt_out {
    char *out;
    size_t cap;
    size_t len;
};

LX_RARE static void fmt_char(struct fmt_out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->out[o->len] = c;
    o->len++;
}

LX_RARE static void fmt_number(struct fmt_out *o, unsigned long long v, unsigned base, int negative,
                       unsigned width)
{
    char digits[24];
    unsigned n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    unsigned total = n + (negative ? 1u : 0u);
    for (; total < width; total++)
        fmt_char(o, ' ');
    if (negative)
        fmt_char(o, '-');
    while (n > 0)
        fmt_char(o, digits[--n]);
}

LX_RARE size_t lx_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    struct fmt_out o = {out, cap, 0};
    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%') {
            fmt_char(&o, *f);
            continue;
        }
        f++;
        unsigned width = 0;
        while (*f >= '0' && *f <= '9')
            width = width * 10 + (unsigned)(*f++ - '0');
        int longs = 0;
        int size_t_mod = 0;
        while (*f == 'l') {
            longs++;
            f++;
        }
        if (*f == 'z') {
            size_t_mod = 1;
            f++;
        }
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            size_t slen = 0;
            while (s[slen] != '\0')
                slen++;
            for (; slen < width; slen++)
                fmt_char(&o, ' ');
            while (*s != '\0')
                fmt_char(&o, *s++);
            break;
        }
        case 'c':
            fmt_char(&o, (char)va_arg(ap, int));
            break;
        case 'd':
        case 'i': {
            long long v;
            if (size_t_mod)
                v = (long long)va_arg(ap, long);
            else if (longs >= 2)
                v = va_arg(ap, long long);
            else if (longs == 1)
                v = va_arg(ap, long);
            else
                v = va_arg(ap, int);
            unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            fmt_number(&o, mag, 10, v < 0, width);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v;
            if (size_t_mod)
                v = va_arg(ap, size_t);
            else if (longs >= 2)
                v = va_arg(ap, unsigned long long);
            else if (longs == 1)
                v = va_arg(ap, unsigned long);
            else
                v = va_arg(ap, unsigned);
            fmt_number(&o, v, *f == 'x' ? 16u : 10u, 0, width);
            break;
        }
        case 'p':
            fmt_char(&o, '0');
            fmt_char(&o, 'x');
            fmt_number(&o, (uintptr_t)va_arg(ap, void *), 16, 0, width);
            break;
        case '%':
            fmt_char(&o, '%');
            break;
        case '\0':
            f--;
            break;
        default:
            fmt_char(&o, '%');
            fmt_char(&o, *f);
            break;
        }
    }
    if (cap > 0)
        out[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len < cap ? o.len : (cap > 0 ? cap - 1 : 0);
}

LX_RARE size_t lx_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = lx_vformat(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

LX_RARE void lx_printf(int fd, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t n = lx_vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    os_write_all(fd, buf, n);
}

LX_RARE void lx_vline(int fd, const char *prefix, const char *fmt, va_list ap)
{
    char buf[1024];
    size_t n = lx_format(buf, sizeof(buf), "%s", prefix);
    n += lx_vformat(buf + n, sizeof(buf) - n - 1, fmt, ap);
    buf[n++] = '\n';
    os_write_all(fd, buf, n);
}

LX_RARE void lx_message(const char *fmt, ...)
{
    if (atomic_fetch_add_explicit(&lx_message_count, 1, memory_order_relaxed) >= LX_MESSAGE_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    lx_vline(2, "lxmalloc: ", fmt, ap);
    va_end(ap);
}

LX_RARE void lx_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lx_vline(2, "lxmalloc: fatal: ", fmt, ap);
    va_end(ap);
    os_abort();
}
