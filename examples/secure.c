/* SPDX-License-Identifier: MIT */
/*
 * secure.c — keeping a key in locked, guarded memory, plus the page allocator.
 *
 * Build from the top of the repository after `make`:
 *   cc -Iinclude examples/secure.c build/liblxmalloc_api.a -lpthread -o secure
 *
 * lx_secure_malloc's pages never reach swap or a core dump and are wiped on
 * free. Its limit is RLIMIT_MEMLOCK (`ulimit -l`): at the limit it returns NULL
 * with errno ENOMEM, which a program must handle.
 */
#include <lxmalloc.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    unsigned char *key = lx_secure_malloc(32);
    if (key == NULL) {
        printf("no secure memory: %s (raise ulimit -l)\n", strerror(errno));
        return 0;
    }
    for (int i = 0; i < 32; i++)
        key[i] = (unsigned char)(i * 37 + 11); /* stands for a real key */
    unsigned sum = 0;
    for (int i = 0; i < 32; i++)
        sum += key[i];
    lx_secure_free(key); /* wiped, unlocked, unmapped */
    printf("used a 32-byte key (checksum %u) in locked memory\n", sum);

    /* The page allocator: 2^4 pages, aligned to 64 KiB, for an I/O buffer. */
    char *buf = lx_pages_alloc(4);
    if (buf == NULL)
        return 1;
    memset(buf, 0, 16 * 4096);
    printf("16-page buffer at %p (64 KiB aligned: %s)\n", (void *)buf,
           ((unsigned long)buf & 0xffff) == 0 ? "yes" : "no");
    lx_pages_free(buf, 4);
    char *odd = lx_pages_alloc_exact(5);
    if (odd == NULL)
        return 1;
    lx_pages_free_exact(odd, 5);
    return 0;
}
