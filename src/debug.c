/* SPDX-License-Identifier: MIT */
/*
 * debug.c — debug mode's block layout (see debug.h), canaries, poisoning and the
 * quarantine. Layer: utility beside alloc; depends on lock and os only.
 *
 * The quarantine is one global ring under one lock: debug mode is for finding
 * bugs, not for speed, and a global ring keeps a freed block out of use for the
 * longest time whichever thread allocates next. Its lock is a leaf: nothing is
 * called while it is held, so it comes last in the lock order (after the arenas).
 * Bounds: LX_QUARANTINE_COUNT blocks and LX_QUARANTINE_BYTES bytes of user data.
 */
#include "debug.h"

#include <string.h>

#include "config.h"
#include "lock.h"

uint64_t lx_debug_key; /* set at start-up (init.c) */

#define LX_SIZE_BITS 56
#define LX_SIZE_MASK (((uint64_t)1 << LX_SIZE_BITS) - 1)

struct debug_header {
    const void *alloc_site; /* first: the free-list link overwrites it when the raw block goes back */
    const void *free_site;
    uint64_t offset;        /* user - raw */
    uint64_t seal;          /* (size | state << 56) ^ key ^ user */
};

static_assert(sizeof(struct debug_header) == LX_DEBUG_HEADER, "header fills LX_DEBUG_HEADER");

LX_RARE static size_t debug_offset(size_t alignment)
{
    return alignment > LX_DEBUG_HEADER ? alignment : LX_DEBUG_HEADER;
}

/* A canary byte depends on its address, so no single fill value passes for it. */
LX_RARE static uint8_t canary_at(const uint8_t *a)
{
    uintptr_t v = (uintptr_t)a;
    return (uint8_t)(0xa5u ^ (v & 0xff) ^ ((v >> 8) & 0xff) ^ 0x3c);
}

LX_RARE bool debug_raw_size(size_t size, size_t alignment, size_t *raw_size)
{
    size_t extra = debug_offset(alignment) + 1; /* header + at least one canary byte */
    if (size > SIZE_MAX / 2 - extra)
        return false;
    *raw_size = size + extra;
    return true;
}

LX_RARE void *debug_block_init(uint8_t *raw, size_t raw_usable, size_t size, size_t alignment,
                       const void *site)
{
    size_t offset = debug_offset(alignment);
    uint8_t *user = raw + offset;
    struct debug_header *h = (struct debug_header *)(void *)(user - LX_DEBUG_HEADER);
    h->alloc_site = site;
    h->free_site = NULL;
    h->offset = offset;
    h->seal = (size | (uint64_t)DEBUG_LIVE << LX_SIZE_BITS) ^ lx_debug_key ^ (uintptr_t)user;
    for (uint8_t *c = user + size; c < raw + raw_usable; c++)
        *c = canary_at(c);
    return user;
}

LX_RARE bool debug_block_parse(uint8_t *raw, size_t raw_usable, const void *user, struct debug_block *d)
{
    const uint8_t *u = user;
    if (u < raw + LX_DEBUG_HEADER || u > raw + raw_usable)
        return false;
    const struct debug_header *h = (const void *)(u - LX_DEBUG_HEADER);
    if (h->offset != (uint64_t)(u - raw))
        return false;
    uint64_t v = h->seal ^ lx_debug_key ^ (uintptr_t)u;
    unsigned state = (unsigned)(v >> LX_SIZE_BITS);
    size_t size = (size_t)(v & LX_SIZE_MASK);
    if ((state != DEBUG_LIVE && state != DEBUG_FREED) || size >= raw_usable ||
        h->offset + size >= raw_usable)
        return false;
    d->raw = raw;
    d->raw_usable = raw_usable;
    d->user = (uint8_t *)(uintptr_t)u;
    d->size = size;
    d->state = state;
    d->alloc_site = h->alloc_site;
    d->free_site = h->free_site;
    return true;
}

LX_RARE size_t debug_canary_damage(const struct debug_block *d, bool *to_end)
{
    const uint8_t *start = d->user + d->size;
    const uint8_t *end = d->raw + d->raw_usable;
    for (const uint8_t *c = end; c-- > start;) {
        if (*c != canary_at(c)) {
            *to_end = c + 1 == end;
            return (size_t)(c - start) + 1;
        }
    }
    *to_end = false;
    return 0;
}

LX_RARE void debug_block_free(struct debug_block *d, const void *site, uint8_t fill)
{
    struct debug_header *h = (struct debug_header *)(void *)(d->user - LX_DEBUG_HEADER);
    h->free_site = site;
    h->seal = (d->size | (uint64_t)DEBUG_FREED << LX_SIZE_BITS) ^ lx_debug_key ^
              (uintptr_t)d->user;
    memset(d->user, fill, d->size);
    d->state = DEBUG_FREED;
    d->free_site = site;
}

LX_RARE size_t debug_poison_damage(const struct debug_block *d, uint8_t fill)
{
    for (size_t i = 0; i < d->size; i++) {
        if (d->user[i] != fill)
            return i;
    }
    return SIZE_MAX;
}

/* ---- quarantine ------------------------------------------------------- */

struct quarantine_entry {
    void *user;
    size_t size;   /* requested bytes: what the byte bound counts */
    size_t usable; /* the raw block's usable bytes: what the statistics counted live */
};

static lx_lock_t q_lock;
LX_BSS_COLD static struct quarantine_entry q_ring[LX_QUARANTINE_COUNT];
static size_t q_head;  /* oldest entry */
static size_t q_count; /* entries in the ring */
static size_t q_bytes; /* their sizes summed */
static size_t q_usable; /* their usable sizes summed */

LX_RARE static void *quarantine_take_locked(void)
{
    struct quarantine_entry *e = &q_ring[q_head];
    q_head = (q_head + 1) % LX_QUARANTINE_COUNT;
    q_count--;
    q_bytes -= e->size;
    q_usable -= e->usable;
    return e->user;
}

LX_RARE void *debug_quarantine_push(void *user, size_t size, size_t usable)
{
    void *out = NULL;
    lx_lock(&q_lock);
    if (q_count == LX_QUARANTINE_COUNT ||
        (q_count > 0 && q_bytes + size > LX_QUARANTINE_BYTES))
        out = quarantine_take_locked();
    q_ring[(q_head + q_count) % LX_QUARANTINE_COUNT] = (struct quarantine_entry){user, size, usable};
    q_count++;
    q_bytes += size;
    q_usable += usable;
    lx_unlock(&q_lock);
    return out;
}

LX_RARE void *debug_quarantine_pop(void)
{
    void *out = NULL;
    lx_lock(&q_lock);
    if (q_count > 0)
        out = quarantine_take_locked();
    lx_unlock(&q_lock);
    return out;
}

LX_RARE void debug_quarantine_counts(size_t *count, size_t *bytes)
{
    lx_lock(&q_lock);
    *count = q_count;
    *bytes = q_usable;
    lx_unlock(&q_lock);
}

void debug_fork_prepare(void)
{
    lx_lock(&q_lock);
}

void debug_fork_parent(void)
{
    lx_unlock(&q_lock);
}

void debug_fork_child(void)
{
    lx_lock_reset(&q_lock);
}
