/* SPDX-License-Identifier: MIT */
/*
 * basic.c — the lx_ prefixed API beside the system malloc.
 *
 * Build from the top of the repository after `make`:
 *   cc -Iinclude examples/basic.c build/liblxmalloc_api.a -lpthread -o basic
 *
 * liblxmalloc_api.a defines only lx_ names, so malloc/free below are still the
 * C library's: each block must go back to the allocator it came from.
 */
#include <lxmalloc.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%-52s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

int main(void)
{
    printf("lxmalloc %s\n", LXMALLOC_VERSION);

    /* malloc / usable size / free */
    char *s = lx_malloc(100);
    check(s != NULL, "lx_malloc(100)");
    check(((uintptr_t)s & 15) == 0, "block is 16-byte aligned");
    check(lx_malloc_usable_size(s) >= 100, "lx_malloc_usable_size >= 100");
    strcpy(s, "hello from lxmalloc");

    /* realloc keeps the contents while growing */
    s = lx_realloc(s, 100000);
    check(s != NULL && strcmp(s, "hello from lxmalloc") == 0, "lx_realloc keeps contents");
    lx_free(s);

    /* calloc returns zeroed memory */
    unsigned *z = lx_calloc(1000, sizeof *z);
    int zero = z != NULL;
    for (size_t i = 0; zero && i < 1000; i++)
        zero = z[i] == 0;
    check(zero, "lx_calloc memory is zeroed");
    /* free_sized takes the size that was asked for */
    lx_free_sized(z, 1000 * sizeof *z);

    /* reallocarray and calloc detect multiplication overflow */
    volatile size_t huge = SIZE_MAX / 2; /* volatile: keep the compiler from warning */
    errno = 0;
    void *big = lx_reallocarray(NULL, huge, 4);
    check(big == NULL && errno == ENOMEM, "lx_reallocarray overflow: NULL, ENOMEM");
    errno = 0;
    big = lx_calloc(huge, 16);
    check(big == NULL && errno == ENOMEM, "lx_calloc overflow: NULL, ENOMEM");

    /* aligned allocations */
    void *a = NULL;
    int rc = lx_posix_memalign(&a, 4096, 10000);
    check(rc == 0 && ((uintptr_t)a & 4095) == 0, "lx_posix_memalign(4096)");
    lx_free(a);
    rc = lx_posix_memalign(&a, 24, 64); /* not a power of two */
    check(rc == EINVAL, "lx_posix_memalign(24) returns EINVAL");
    void *b = lx_aligned_alloc(64, 256);
    check(b != NULL && ((uintptr_t)b & 63) == 0, "lx_aligned_alloc(64, 256)");
    lx_free_aligned_sized(b, 64, 256);

    /* the system allocator keeps working beside it */
    char *sys = malloc(64);
    char *lx = lx_malloc(64);
    check(sys != NULL && lx != NULL, "malloc and lx_malloc side by side");
    free(sys);
    lx_free(lx);

    /* lx_free(NULL) does nothing, like free(NULL) */
    lx_free(NULL);

    printf("%s\n", failures == 0 ? "all checks passed" : "some checks FAILED");
    return failures == 0 ? 0 : 1;
}
