/* SPDX-License-Identifier: MIT */
/*
 * cache.c — object caches, the kernel's kmem_cache in user space. Layer: beside
 * heap, on slab and pages.
 *
 * A cache owns slabs of its own (page runs of RUN_SLAB with local_key = the
 * cache), cut into blocks of one exact size: a header of `offset` bytes (16, or
 * the alignment), then the object. The header's first word is the slab's
 * free-list link, so a free object keeps its constructed contents whole; its
 * second word says whose object it is and whether it is live (a tag mixed with
 * the process secret), which catches double frees. local_key names the cache a
 * slab belongs to, which catches a free into the wrong cache.
 *
 * Blocks are carved a page's worth at a time (slab_extend) and `ctor` runs on
 * each as it is carved: an object is constructed once, when it first exists.
 * `dtor` runs on every carved object of a slab when the slab goes back to its
 * arena: lx_cache_shrink, lx_cache_destroy, or a free that leaves more than
 * LX_CACHE_KEEP_EMPTY slabs empty. Slabs with a free or uncarved block sit on
 * `partial`, the others on `full` (LX_KEY_FULL in local_key).
 *
 * Locks: each cache has one, held by alloc and free (the caller may be any
 * thread) and while ctor runs; dtor runs with no lock, on slabs already taken
 * off the cache. Order: caches_lock -> a cache's lock -> whatever ctor calls
 * (lx_heaps_lock, arenas). Cache structures are never unmapped: a destroyed one
 * is kept, cookie cleared, for the next lx_cache_create, so a late call on it is
 * recognised instead of touching freed memory.
 */
#include "cache.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "init.h"
#include "lock.h"
#include "lxmalloc.h"
#include "os.h"
#include "pages.h"
#include "report.h"
#include "segment.h"
#include "slab.h"

#define LX_CACHE_NAME_SIZE 32
#define LX_CACHE_KEEP_EMPTY 2                  /* empty slabs kept, constructed, for reuse */
#define LX_CACHE_OBJECT_MAX ((size_t)256 << 10) /* largest object */
#define LX_CACHE_MAGIC ((uintptr_t)0x6361636865u)

struct lx_cache {
    lx_lock_t lock;             /* guards the fields below down to `alloc_count` */
    uintptr_t cookie;           /* address ^ lx_secret ^ LX_CACHE_MAGIC while live, else 0 */
    struct page *partial;       /* slabs with a free or uncarved block; doubly linked */
    struct page *full;          /* slabs with neither */
    struct arena *arena;        /* where slabs come from */
    size_t object_size;         /* bytes usable per object */
    size_t offset;              /* header bytes before each object */
    uint32_t block_size;        /* offset + object, a multiple of the alignment */
    uint32_t slab_pages;        /* run length of a slab */
    void (*ctor)(void *);       /* on each object when carved; may be NULL */
    void (*dtor)(void *);       /* on each carved object when its slab goes; may be NULL */
    uint64_t live;              /* objects handed out, not freed */
    uint64_t constructed;       /* objects carved in the slabs held */
    uint64_t slabs;             /* slabs held */
    uint64_t empty_slabs;       /* slabs held with no live object */
    uint64_t alloc_count;       /* allocations ever */
    struct lx_cache *next_live; /* registry of live caches; caches_lock */
    struct lx_cache *next_free; /* destroyed caches for reuse; caches_lock */
    struct lx_cache *next_all;  /* every cache structure (fork); caches_lock */
    char name[LX_CACHE_NAME_SIZE];
} __attribute__((aligned(64)));

static lx_lock_t caches_lock;
static struct lx_cache *caches_live;
static struct lx_cache *caches_free;
static struct lx_cache *caches_all;
static uint8_t *cmeta_cursor;
static size_t cmeta_left;

/* ---- object headers ------------------------------------------------------ */

LX_RARE LX_INLINE uintptr_t *obj_tag(uint8_t *block)
{
    return (uintptr_t *)(void *)(block + sizeof(struct block));
}

LX_RARE LX_INLINE uintptr_t tag_live(const struct lx_cache *c)
{
    return (uintptr_t)c ^ lx_secret;
}

LX_RARE LX_INLINE uintptr_t tag_free(const struct lx_cache *c)
{
    return ~((uintptr_t)c ^ lx_secret);
}

LX_RARE LX_INLINE bool cache_live(const struct lx_cache *c)
{
    return c != NULL && c->cookie == ((uintptr_t)c ^ lx_secret ^ LX_CACHE_MAGIC);
}

/* ---- slab lists ------------------------------------------------------------ */

LX_RARE static void list_push(struct page **list, struct page *pg)
{
    pg->prev = NULL;
    pg->next = *list;
    if (*list != NULL)
        (*list)->prev = pg;
    *list = pg;
}

LX_RARE static void list_remove(struct page **list, struct page *pg)
{
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        *list = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = NULL;
}

LX_RARE static struct page *cache_new_slab_locked(struct lx_cache *c)
{
    struct page *pg = arena_alloc_run(c->arena, c->slab_pages, RUN_SLAB);
    if (pg == NULL)
        return NULL;
    slab_init(pg, (uintptr_t)c, 0);
    if (!pg->dirty)
        pg->touched = 0; /* slab_extend populates what it carves */
    slab_set_block_size(pg, c->block_size);
    pg->reserved = (uint16_t)((size_t)pg->run_pages * LX_PAGE_SIZE / c->block_size);
    list_push(&c->partial, pg);
    c->slabs++;
    c->empty_slabs++;
    return pg;
}

/* Carve more blocks and construct them. */
LX_RARE static void cache_carve_locked(struct lx_cache *c, struct page *pg)
{
    unsigned before = pg->capacity;
    if (!slab_extend(pg))
        return;
    for (unsigned i = before; i < pg->capacity; i++) {
        uint8_t *blk = pg->start + (size_t)i * c->block_size;
        *obj_tag(blk) = tag_free(c);
        if (c->ctor != NULL)
            c->ctor(blk + c->offset);
    }
    c->constructed += pg->capacity - before;
}

/* A slab already off the cache's lists goes back to its arena, its objects
 * destroyed first. Runs without the cache's lock. */
LX_RARE static void cache_release_slab(void (*dtor)(void *), size_t offset, struct page *pg)
{
    if (dtor != NULL) {
        for (unsigned i = 0; i < pg->capacity; i++)
            dtor(pg->start + (size_t)i * pg->block_size + offset);
    }
    pg->local_key = 0;
    pg->free = pg->local_free = NULL;
    pg->used = 0;
    atomic_store_explicit(&pg->xthread_free, 0, memory_order_relaxed);
    arena_free_run(pg);
}

/* Take slab `pg` (empty) off the cache; the caller releases it after unlocking. */
LX_RARE static void cache_detach_empty_locked(struct lx_cache *c, struct page *pg)
{
    list_remove(&c->partial, pg);
    c->slabs--;
    c->empty_slabs--;
    c->constructed -= pg->capacity;
}

/* ---- create / destroy ------------------------------------------------------ */

LX_RARE static struct lx_cache *cache_struct_locked(void)
{
    struct lx_cache *c = caches_free;
    if (c != NULL) {
        caches_free = c->next_free;
        return c;
    }
    size_t size = sizeof(struct lx_cache);
    if (cmeta_left < size) {
        size_t chunk = 16 * 1024;
        uint8_t *p = os_map(chunk);
        if (p == NULL)
            return NULL;
        cmeta_cursor = p;
        cmeta_left = chunk;
    }
    c = (struct lx_cache *)(void *)cmeta_cursor;
    cmeta_cursor += size;
    cmeta_left -= size;
    c->next_all = caches_all;
    caches_all = c;
    return c;
}

LX_RARE LX_EXPORT lx_cache_t *lx_cache_create(const char *name, size_t size, size_t align,
                                      void (*ctor)(void *), void (*dtor)(void *))
{
    if (align == 0)
        align = LX_ALIGN;
    if (size == 0 || size > LX_CACHE_OBJECT_MAX || (align & (align - 1)) != 0 ||
        align > LX_PAGE_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    if (align < LX_ALIGN)
        align = LX_ALIGN;
    lx_process_init();
    lx_lock(&caches_lock);
    struct lx_cache *c = cache_struct_locked();
    if (c == NULL) {
        lx_unlock(&caches_lock);
        errno = ENOMEM;
        return NULL;
    }
    c->partial = c->full = NULL;
    c->arena = arena_pick();
    c->offset = align; /* >= 16: the link and the tag */
    size_t block = (c->offset + size + align - 1) & ~(align - 1);
    c->object_size = block - c->offset;
    c->block_size = (uint32_t)block;
    /* The shortest power of two of pages, at least LX_SLAB_MIN_PAGES, with room
     * for 8 objects: a whole buddy block, as a heap's slab (sizeclass.c). A
     * length in between took the block above anyway, and gave its tail back as
     * fragments whose descriptors lie on pages nothing else touches. */
    size_t want = (8 * block + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
    size_t pages = LX_SLAB_MIN_PAGES;
    while (pages < want && pages < (LX_LARGE_MAX >> LX_PAGE_SHIFT))
        pages *= 2;
    c->slab_pages = (uint32_t)pages;
    c->ctor = ctor;
    c->dtor = dtor;
    c->live = c->constructed = c->slabs = c->empty_slabs = c->alloc_count = 0;
    size_t n = 0;
    if (name != NULL)
        for (; n < LX_CACHE_NAME_SIZE - 1 && name[n] != '\0'; n++)
            c->name[n] = name[n];
    c->name[n] = '\0';
    c->cookie = (uintptr_t)c ^ lx_secret ^ LX_CACHE_MAGIC;
    c->next_live = caches_live;
    caches_live = c;
    lx_unlock(&caches_lock);
    return c;
}

LX_RARE LX_EXPORT void lx_cache_destroy(lx_cache_t *c)
{
    if (c == NULL)
        return;
    lx_lock(&caches_lock);
    if (!cache_live(c)) {
        lx_unlock(&caches_lock);
        check_bad_pointer("lx_cache_destroy", c, "not a live cache (destroyed, or never created)");
        return;
    }
    struct lx_cache **pp = &caches_live;
    while (*pp != c)
        pp = &(*pp)->next_live;
    *pp = c->next_live;
    lx_lock(&c->lock);
    c->cookie = 0;
    struct page *lists[2] = {c->partial, c->full};
    c->partial = c->full = NULL;
    lx_unlock(&c->lock);
    lx_unlock(&caches_lock);
    for (int i = 0; i < 2; i++) {
        struct page *pg = lists[i];
        while (pg != NULL) {
            struct page *next = pg->next;
            pg->next = pg->prev = NULL;
            cache_release_slab(c->dtor, c->offset, pg);
            pg = next;
        }
    }
    lx_lock(&caches_lock);
    c->next_free = caches_free;
    caches_free = c;
    lx_unlock(&caches_lock);
}

/* ---- alloc / free ---------------------------------------------------------- */

LX_RARE LX_EXPORT void *lx_cache_alloc(lx_cache_t *c)
{
    if (LX_UNLIKELY(!cache_live(c))) {
        check_bad_pointer("lx_cache_alloc", c, "not a live cache (destroyed, or never created)");
        errno = EINVAL;
        return NULL;
    }
    lx_lock(&c->lock);
    struct page *pg;
    for (;;) {
        pg = c->partial;
        if (pg == NULL && (pg = cache_new_slab_locked(c)) == NULL) {
            lx_unlock(&c->lock);
            errno = ENOMEM;
            return NULL;
        }
        if (list_end(pg->free))
            slab_collect(pg);
        if (list_end(pg->free))
            cache_carve_locked(c, pg);
        if (!list_end(pg->free))
            break;
        list_remove(&c->partial, pg);
        pg->local_key |= LX_KEY_FULL;
        list_push(&c->full, pg);
    }
    struct block *b = pg->free;
    pg->free = block_next(b);
    if (pg->used++ == 0)
        c->empty_slabs--;
    *obj_tag((uint8_t *)b) = tag_live(c);
    c->live++;
    c->alloc_count++;
    lx_unlock(&c->lock);
    return (uint8_t *)b + c->offset;
}

/* Why `obj` cannot be freed into `c`, or NULL if it can; `*slab` is its slab. */
LX_RARE static const char *cache_object_problem(struct lx_cache *c, uint8_t *obj, struct page **slab,
                                        char *buf, size_t cap)
{
    if (segmap_get((uintptr_t)obj) != SEGMAP_NORMAL)
        return "not an object of any cache (not allocated by lxmalloc)";
    struct page *pg = segment_page_of(segment_of(obj), obj);
    if (pg->kind != RUN_SLAB)
        return "not an object of any cache (memory not allocated, or not a slab)";
    struct lx_cache *owner = (struct lx_cache *)(pg->local_key & ~LX_KEY_FLAGS);
    if (owner != c) {
        if (!cache_live(owner))
            return "not an object of any cache (a block of a malloc heap)";
        lx_format(buf, cap, "object of cache '%s' freed into cache '%s' (wrong cache)",
                  owner->name, c->name);
        return buf;
    }
    uint8_t *blk = obj - c->offset;
    if (blk < pg->start || (size_t)(blk - pg->start) % c->block_size != 0 ||
        (size_t)(blk - pg->start) / c->block_size >= pg->capacity)
        return "not the start of an object of this cache";
    *slab = pg;
    return NULL;
}

LX_RARE LX_EXPORT void lx_cache_free(lx_cache_t *c, void *obj)
{
    if (obj == NULL)
        return;
    if (LX_UNLIKELY(!cache_live(c))) {
        check_bad_pointer("lx_cache_free", c, "not a live cache (destroyed, or never created)");
        return;
    }
    char buf[160];
    struct page *pg = NULL;
    const char *problem = cache_object_problem(c, obj, &pg, buf, sizeof buf);
    if (problem != NULL) {
        check_bad_pointer("lx_cache_free", obj, problem);
        return;
    }
    uint8_t *blk = (uint8_t *)obj - c->offset;
    struct page *release = NULL;
    lx_lock(&c->lock);
    uintptr_t tag = *obj_tag(blk);
    if (LX_UNLIKELY(tag != tag_live(c))) {
        lx_unlock(&c->lock);
        check_bad_pointer("lx_cache_free", obj,
                          tag == tag_free(c) ? "double free (object already free)"
                                             : "object header overwritten (buffer underflow?)");
        return;
    }
    *obj_tag(blk) = tag_free(c);
    struct block *b = (struct block *)(void *)blk;
    block_set_link(b, pg->local_free);
    pg->local_free = b;
    c->live--;
    if ((pg->local_key & LX_KEY_FULL) != 0) {
        list_remove(&c->full, pg);
        pg->local_key &= ~LX_KEY_FULL;
        list_push(&c->partial, pg);
    }
    if (--pg->used == 0) {
        if (++c->empty_slabs > LX_CACHE_KEEP_EMPTY) {
            cache_detach_empty_locked(c, pg);
            release = pg;
        }
    }
    void (*dtor)(void *) = c->dtor;
    size_t offset = c->offset;
    lx_unlock(&c->lock);
    if (release != NULL)
        cache_release_slab(dtor, offset, release);
}

LX_RARE LX_EXPORT size_t lx_cache_shrink(lx_cache_t *c)
{
    if (!cache_live(c)) {
        check_bad_pointer("lx_cache_shrink", c, "not a live cache (destroyed, or never created)");
        return 0;
    }
    struct page *release = NULL;
    size_t n = 0;
    lx_lock(&c->lock);
    struct page *pg = c->partial;
    while (pg != NULL) {
        struct page *next = pg->next;
        if (pg->used == 0) {
            cache_detach_empty_locked(c, pg);
            pg->next = release;
            release = pg;
            n++;
        }
        pg = next;
    }
    void (*dtor)(void *) = c->dtor;
    size_t offset = c->offset;
    lx_unlock(&c->lock);
    while (release != NULL) {
        struct page *next = release->next;
        release->next = NULL;
        cache_release_slab(dtor, offset, release);
        release = next;
    }
    return n;
}

/* ---- statistics ------------------------------------------------------------ */

LX_RARE LX_EXPORT int lx_cache_stats_get(lx_cache_t *c, lx_cache_stats_t *out)
{
    if (!cache_live(c) || out == NULL) {
        errno = EINVAL;
        return -1;
    }
    lx_lock(&c->lock);
    out->name = c->name;
    out->object_size = c->object_size;
    out->block_size = c->block_size;
    out->live = c->live;
    out->constructed = c->constructed;
    out->slabs = c->slabs;
    out->empty_slabs = c->empty_slabs;
    out->alloc_count = c->alloc_count;
    lx_unlock(&c->lock);
    return 0;
}

LX_RARE void caches_print_stats(int fd)
{
    lx_lock(&caches_lock);
    if (caches_live != NULL)
        lx_printf(fd, "%8s %8s %10s %10s %7s %14s  %s\n", "object", "block", "live", "objects",
                  "slabs", "allocations", "cache");
    for (struct lx_cache *c = caches_live; c != NULL; c = c->next_live) {
        lx_cache_stats_t s;
        if (lx_cache_stats_get(c, &s) != 0)
            continue;
        lx_printf(fd, "%8zu %8zu %10llu %10llu %7llu %14llu  %s\n", s.object_size, s.block_size,
                  s.live, s.constructed, s.slabs, s.alloc_count, s.name);
    }
    lx_unlock(&caches_lock);
}

/* ---- fork -------------------------------------------------------------------- */

void caches_fork_prepare(void)
{
    lx_lock(&caches_lock);
    for (struct lx_cache *c = caches_all; c != NULL; c = c->next_all)
        lx_lock(&c->lock);
}

void caches_fork_parent(void)
{
    for (struct lx_cache *c = caches_all; c != NULL; c = c->next_all)
        lx_unlock(&c->lock);
    lx_unlock(&caches_lock);
}

void caches_fork_child(void)
{
    for (struct lx_cache *c = caches_all; c != NULL; c = c->next_all)
        lx_lock_reset(&c->lock);
    lx_lock_reset(&caches_lock);
}
