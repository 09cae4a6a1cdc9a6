/* SPDX-License-Identifier: MIT */
/*
 * secure.c — memory for secrets. Layer: beside alloc, straight on os.
 *
 * Every block is a mapping of its own:
 *
 *   | guard | header, canary, block, tail canary ............... | guard |
 *     none    locked, not dumped; the block ends at the page end    none
 *
 * The block is placed as high as 16-byte alignment allows, so a write past its
 * rounded end lands in the trailing guard page and faults at once; the bytes
 * between its requested and rounded ends (tail canary) and the 16 bytes before
 * it (front canary) hold a pattern derived from the process secret and the
 * block's address, checked on free to catch smaller overflows and underflows.
 * The header before the front canary finds the mapping again. A separate mapping
 * per block (as libsodium's sodium_malloc does) costs three pages of address
 * space and one system call more per block than slabs would, and buys exact
 * guard pages, exact mlock accounting (a freed block's pages are unlocked and
 * gone), and no secret ever sharing a page with ordinary data.
 *
 * No lock: nothing is shared but the process secret, set at start-up.
 */
#include "secure.h"

#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "init.h"
#include "lxmalloc.h"
#include "os.h"
#include "segment.h"

#define LX_SECURE_MAGIC ((uintptr_t)0x5ec0de5ec0deu)
#define LX_SECURE_CANARY 16

struct secure_header {
    uintptr_t cookie; /* own address ^ lx_secret ^ LX_SECURE_MAGIC */
    uint8_t *map;     /* the mapping, leading guard page first */
    size_t map_size;  /* bytes mapped, guard pages included */
    size_t size;      /* bytes asked for */
    uint64_t unused[2];
};

#define LX_SECURE_FRONT (sizeof(struct secure_header) + LX_SECURE_CANARY)
static_assert(LX_SECURE_FRONT % 16 == 0, "the block stays 16-byte aligned");

LX_RARE void secure_wipe(void *p, size_t size)
{
    volatile uint64_t *w = p;
    for (size_t i = 0; i < size / sizeof(uint64_t); i++)
        w[i] = 0;
}

/* Canary byte i of the block at `user` (a splitmix64 of secret and address). */
LX_RARE static uint8_t canary_byte(const uint8_t *user, size_t i)
{
    uint64_t z = (uint64_t)((uintptr_t)user ^ lx_secret) + 0x9e3779b97f4a7c15u * (1 + i / 8);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (uint8_t)(z >> ((i % 8) * 8));
}

LX_RARE LX_EXPORT void *lx_secure_malloc(size_t size)
{
    lx_process_init();
    size_t rounded = size == 0 ? 16 : (size + 15) & ~(size_t)15;
    if (size > PTRDIFF_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    size_t data = (LX_SECURE_FRONT + rounded + LX_PAGE_SIZE - 1) & ~(LX_PAGE_SIZE - 1);
    size_t map_size = data + 2 * LX_PAGE_SIZE;
    uint8_t *map = os_map(map_size);
    if (map == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    uint8_t *lo = map + LX_PAGE_SIZE;
    if (!os_protect(map, LX_PAGE_SIZE, false) || !os_protect(lo + data, LX_PAGE_SIZE, false)) {
        (void)os_unmap(map, map_size);
        errno = ENOMEM;
        return NULL;
    }
    int rc = os_lock_memory(lo, data);
    if (rc != 0) {
        (void)os_unmap(map, map_size);
        errno = rc == EPERM ? EPERM : ENOMEM;
        return NULL;
    }
    os_dontdump(map, map_size);
    uint8_t *user = lo + data - rounded;
    struct secure_header *hd = (struct secure_header *)(void *)(user - LX_SECURE_FRONT);
    hd->map = map;
    hd->map_size = map_size;
    hd->size = size;
    hd->cookie = (uintptr_t)hd ^ lx_secret ^ LX_SECURE_MAGIC;
    for (size_t i = 0; i < LX_SECURE_CANARY; i++)
        user[(ptrdiff_t)i - LX_SECURE_CANARY] = canary_byte(user, i);
    for (size_t i = size; i < rounded; i++)
        user[i] = canary_byte(user, LX_SECURE_CANARY + i);
    return user;
}

LX_RARE LX_EXPORT void lx_secure_free(void *p)
{
    if (p == NULL)
        return;
    uint8_t *user = p;
    /* Blocks of the other allocation functions are in the segment map; reading
     * before them would prove nothing (or fault on a page boundary). */
    if (((uintptr_t)user & 15) != 0 || segmap_get((uintptr_t)user) != SEGMAP_NONE) {
        check_bad_pointer("lx_secure_free", p, "not a secure block");
        return;
    }
    struct secure_header *hd = (struct secure_header *)(void *)(user - LX_SECURE_FRONT);
    if (hd->cookie != ((uintptr_t)hd ^ lx_secret ^ LX_SECURE_MAGIC)) {
        check_bad_pointer("lx_secure_free", p,
                          "not a secure block, freed twice, or its header was overwritten");
        return;
    }
    size_t rounded = hd->size == 0 ? 16 : (hd->size + 15) & ~(size_t)15;
    bool intact = true;
    for (size_t i = 0; i < LX_SECURE_CANARY; i++)
        intact &= user[(ptrdiff_t)i - LX_SECURE_CANARY] == canary_byte(user, i);
    for (size_t i = hd->size; i < rounded; i++)
        intact &= user[i] == canary_byte(user, LX_SECURE_CANARY + i);
    if (!intact)
        check_bad_pointer("lx_secure_free", p, "canary overwritten (buffer overflow or underflow)");
    uint8_t *map = hd->map;
    size_t map_size = hd->map_size;
    uint8_t *lo = map + LX_PAGE_SIZE;
    size_t data = map_size - 2 * LX_PAGE_SIZE;
    secure_wipe(lo, data); /* the header and its cookie too: a second free is caught */
    os_unlock_memory(lo, data);
    (void)os_unmap(map, map_size);
}
