/* SPDX-License-Identifier: MIT */
/*
 * debug.h — debug mode (LXMALLOC_DEBUG=1): the layout of a debug block, its
 * checks, and the quarantine of freed blocks. alloc.c decides when to call them;
 * nothing here allocates or knows about slabs.
 *
 * A debug block is an ordinary block (the "raw" block) laid out as
 *
 *   raw                      user = raw + offset             raw + usable
 *   | ... | header (32 bytes) | user data (size bytes) | canary ... |
 *
 * offset is max(32, alignment), so user keeps the alignment asked for. The
 * header holds where the block was allocated and freed, the offset, and the
 * requested size with the block's state, the last two sealed with a random key
 * and the user address so a stray write or a pointer into the block does not
 * pass for a header. Every byte after the user data up to the end of the raw
 * block is canary.
 */
#ifndef LX_DEBUG_H
#define LX_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

enum debug_state { DEBUG_LIVE = 0xa7, DEBUG_FREED = 0xf5 };

struct debug_block {
    uint8_t *raw;           /* the block underneath */
    size_t raw_usable;      /* its usable bytes */
    uint8_t *user;          /* what the program holds */
    size_t size;            /* bytes the program asked for */
    unsigned state;         /* enum debug_state */
    const void *alloc_site; /* return address of the allocating call */
    const void *free_site;  /* of the freeing call, once freed */
};

extern uint64_t lx_debug_key;

/* Bytes of raw block needed for `size` user bytes at `alignment`; false on overflow. */
bool debug_raw_size(size_t size, size_t alignment, size_t *raw_size) LX_WUR;

/* Lay a live debug block out in [raw, raw + raw_usable); returns the user pointer. */
void *debug_block_init(uint8_t *raw, size_t raw_usable, size_t size, size_t alignment,
                       const void *site);

/* Does `user` start a debug block in [raw, raw + raw_usable)? Fills *d if so. */
bool debug_block_parse(uint8_t *raw, size_t raw_usable, const void *user, struct debug_block *d);

/* Canary check: 0 if intact, else how many bytes past the user data were written
 * (the last damaged byte's distance + 1); *to_end says the damage reaches the end
 * of the raw block (the overflow may go further). */
size_t debug_canary_damage(const struct debug_block *d, bool *to_end);

/* Mark freed: record the site, fill the user data with `fill`. */
void debug_block_free(struct debug_block *d, const void *site, uint8_t fill);

/* For a freed block: offset of the first user byte that no longer holds `fill`,
 * or SIZE_MAX if none (no write after free). */
size_t debug_poison_damage(const struct debug_block *d, uint8_t fill);

/* Quarantine: add a freed block of `size` requested bytes, whose raw block has
 * `usable` bytes; returns a block that has to leave (the oldest, once the
 * quarantine is over its count or byte bound, which counts requested bytes) or
 * NULL. */
void *debug_quarantine_push(void *user, size_t size, size_t usable) LX_WUR;
/* Take every block out, oldest first (at exit, to check them); NULL when empty. */
void *debug_quarantine_pop(void) LX_WUR;
/* Blocks in quarantine and the usable bytes of their raw blocks (as the live
 * counts have them): freed by the program, not yet by the allocator (statistics
 * count them as freed). */
void debug_quarantine_counts(size_t *count, size_t *bytes);

/* fork: take / release / reset the quarantine's lock (a leaf lock). */
void debug_fork_prepare(void);
void debug_fork_parent(void);
void debug_fork_child(void);

#endif /* LX_DEBUG_H */
