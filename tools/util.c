/* SPDX-License-Identifier: MIT */
/*
 * util.c — helpers shared by the subcommands of the lxmalloc command, and the
 * preparation of `run --trace`.
 */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tool_error(const char *fmt, ...)
{
    va_list ap;
    fputs("lxmalloc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void *tool_grow(void *arr, size_t *cap, size_t count, size_t size, size_t first)
{
    if (count < *cap)
        return arr;
    size_t n = *cap ? *cap * 2 : first;
    void *grown = realloc(arr, n * size);
    if (grown != NULL)
        *cap = n;
    return grown;
}

const char *tool_bytes(char *buf, unsigned long long v)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (v < 1024) {
        snprintf(buf, 32, "%llu B", v);
        return buf;
    }
    double d = (double)v / 1024.0;
    size_t u = 0;
    while (d >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
        d /= 1024.0;
        u++;
    }
    snprintf(buf, 32, "%.1f %s", d, units[u]);
    return buf;
}

char *tool_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            buf = NULL;
            errno = e;
            break;
        }
        if (got == 0) {
            buf[n] = '\0';
            if (len != NULL)
                *len = n;
            break;
        }
        n += (size_t)got;
    }
    int e = errno;
    close(fd);
    errno = e;
    return buf;
}

bool trace_prepare(const char *path)
{
    if (path == NULL || path[0] == '\0') {
        tool_error("--trace needs a file name");
        return false;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        tool_error("--trace %s: %s", path, strerror(errno));
        return false;
    }
    close(fd);
    char *abs = realpath(path, NULL);
    if (abs == NULL) {
        tool_error("--trace %s: %s", path, strerror(errno));
        return false;
    }
    int rc = setenv("LXMALLOC_TRACE", abs, 1);
    free(abs);
    if (rc != 0) {
        tool_error("cannot set LXMALLOC_TRACE: %s", strerror(errno));
        return false;
    }
    return true;
}
