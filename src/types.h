/* SPDX-License-Identifier: MIT */
/*
 * types.h — the core structures, opened by the glossary every layer shares.
 *
 *   OS page     4 KiB, the kernel's unit. "page" below always means an OS page.
 *   segment     4 MiB of address space aligned to 4 MiB, taken from the kernel in
 *               one mapping. Its first pages hold its metadata (struct segment);
 *               the rest is handed out by a buddy allocator in page runs.
 *   page run    1..512 contiguous pages of a segment, described by the descriptor
 *               (struct page) of its first page; head[] maps every page to it.
 *   slab        a page run cut into blocks of one size class.
 *   large run   a page run holding one block (sizes above LX_SMALL_MAX).
 *   huge block  a block above the mmap threshold, mapped on its own; its mapping
 *               is segment-aligned and starts with a header page (struct segment).
 *   arena       a lock, the buddy free lists of the segments it owns. Threads are
 *               spread over arenas; page runs come from and go back to them.
 *   heap        per-thread: for each size class a queue of slabs it owns. Only the
 *               owner thread allocates from, or frees locally into, its slabs.
 *   orphan      a heap whose thread exited; a new thread adopts it whole, and
 *               other threads reclaim its empty slabs meanwhile.
 *   block       one allocation; free blocks hold the free-list link in their
 *               first word, encoded (slab.h).
 *   hole        an OS page of a slab on which every block is free, given back to
 *               the kernel; the free blocks that start on it are off the slab's
 *               lists until the slab carves them again (slab.c).
 *
 * Vocabulary: size is bytes, count is items, idx an index, shift a log2, mask a
 * bit mask.
 */
#ifndef LX_TYPES_H
#define LX_TYPES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "lock.h"

struct heap;
struct arena;
struct large_owner;

struct block {
    struct block *next; /* next free block of the same list */
};

/* What a run's head descriptor describes (struct page.kind). */
enum run_kind {
    RUN_NONE = 0, /* not the head of a run (or a page of a huge mapping) */
    RUN_FREE,     /* head of a free buddy block of order `order` */
    RUN_SLAB,     /* head of a slab */
    RUN_LARGE,    /* head of a large run */
    RUN_META,     /* the segment's own metadata pages */
    RUN_PURGING,  /* a free block taken off the lists while madvise runs on it */
    RUN_PAGES,    /* head of a block of the page allocator (lx_pages_alloc, xpages.c) */
    RUN_CACHED,   /* a freed slab or large run kept by a heap for reuse (pages.c) */
    RUN_MEDIUM,   /* head of a medium run: chunks of any medium size (medium.c) */
};

/* Bits in the low end of page.local_key (heaps are 64-byte aligned). */
#define LX_KEY_FULL ((uintptr_t)1)  /* slab sits on its heap's full list */
#define LX_KEY_HOLES ((uintptr_t)2) /* slab has holes: every free takes the slow path */
#define LX_KEY_MEDIUM ((uintptr_t)4) /* a medium run: its frees take free_not_fast */
#define LX_KEY_FLAGS ((uintptr_t)63)

/* Bit in page.xthread_free: the slab is full; the next remote free goes to the
 * owner heap's delayed_free list instead, which tells the owner. */
#define LX_XFREE_NOTIFY ((uintptr_t)1)
/* The top bits of page.xthread_free count the blocks on its list (blocks lie
 * below 2^LX_ADDRESS_BITS, and a slab has far fewer than 2^16), so the owner
 * takes the list without walking it (slab_collect_thread). */
#define LX_XFREE_COUNT_SHIFT 48
#define LX_XFREE_ONE ((uintptr_t)1 << LX_XFREE_COUNT_SHIFT)
/* The list's first block (or NULL) in an xthread_free word. */
#define LX_XFREE_LIST(tf) ((tf) & (LX_XFREE_ONE - 1) & ~LX_XFREE_NOTIFY)

/*
 * Page-run descriptor, 128 bytes, starting on a cache line: two lines, split by
 * who writes them. The first holds what the owner heap writes as it allocates
 * and frees (the free lists, `used`, the queue links); the malloc fast path
 * reads and writes only this line. The second holds what a free reads, from any
 * thread (the key, the block geometry), which changes only when the slab does,
 * and xthread_free, which other threads' frees write. A thread that frees
 * what another allocates (a consumer of a producer's blocks) thus reads a line
 * the producer's mallocs never write: with both on one line, every malloc
 * took the line back from the consumer's core and every remote free fetched
 * it again (prodcons: a miss on `free` in most pops).
 */
struct page {
    /* Line 1: the owner's. */
    struct block *free;       /* blocks to allocate from; owner only */
    struct block *local_free; /* blocks the owner freed since the last collect */
    uint16_t used;            /* blocks handed out, not yet collected back; owner */
    uint16_t capacity;        /* slab: blocks carved so far; owner */
    uint16_t run_pages;       /* length of the run in pages */
    uint8_t order;            /* RUN_FREE: buddy order */
    uint8_t dirty;            /* RUN_FREE: on the arena's dirty list (dirty_count > 0) */
    struct page *next;        /* heap queue, full list, or arena free list */
    struct page *prev;
    union {
        struct { /* RUN_FREE and dirty (arena lock), RUN_CACHED (its heap) */
            struct page *dirty_next; /* arena's dirty list, oldest first */
            struct page *dirty_prev;
            uint64_t freed_ns;       /* when it went on the dirty list or in the cache */
        };
        struct { /* RUN_SLAB of a heap (slab.c: holes); owner */
            uint16_t swept_used;       /* `used` when last swept */
            uint16_t swept_need;       /* blocks back since then worth a sweep */
            uint16_t hole_blocks;      /* free blocks in holes, off every list */
        };
    };

    /* Line 2: read by every free; xthread_free written by other threads. */
    uintptr_t local_key;      /* slab: owner heap | LX_KEY_*; large: its large_owner or 0 */
    uint8_t class_idx;        /* size class of a slab */
    uint8_t kind;             /* enum run_kind; under the arena lock or by owner */
    uint16_t reserved;        /* slab: blocks that fit the run */
    uint8_t div_shift;        /* slab: trailing zero bits of the block size */
    uint8_t fresh;            /* slab: carve ahead (slab_extend) */
    uint8_t unused[2];
    uint64_t div_inv;         /* slab: inverse of the block size's odd part (slab.h) */
    uint64_t carved;          /* slab: capacity, as a 64-bit word (slab.h); owner */
    uint32_t block_size;      /* slab: class size; large: usable bytes */
    uint32_t dirty_count;     /* RUN_FREE: at most this many of its pages are resident */
    uint8_t *start;           /* slab: first block; large: the user block */
    _Atomic(uintptr_t) xthread_free; /* remote frees: count | list | LX_XFREE_NOTIFY */
    uint32_t touched;         /* allocated or cached run: only its first `touched` pages
                                 may be resident (pages.h) */
};

/* Segment kinds (struct segment.kind). */
enum segment_kind { SEGMENT_NORMAL = 1, SEGMENT_HUGE = 2 };

/*
 * Segment header. A normal segment keeps head[] and the page descriptors after
 * it, all in its first LX_SEGMENT_META_PAGES pages. A huge mapping uses only
 * the header.
 *
 * Descriptors are not a plain array indexed by page: page i's descriptor is in
 * slot rotr10(i, 4) = (i % 16) * 64 + i / 16, at
 *     offsetof(desc) + color * 64 + slot * 128              (segment.h: seg_page)
 * with color = (segment address / 4 MiB) % 16. Every slab and large run starts
 * on a page that is a multiple of 16 (runs of 9 pages and more are buddy blocks
 * of order 4 and up), so their descriptors, the ones the fast paths read, fill
 * the first 64 slots: 8 KiB, two or three pages, as with an array of 64 KiB
 * pages. In a plain array they would be spread over 32 pages (a TLB entry
 * each) and lie 2 KiB apart, in two of the 64 sets of a 32 KiB 8-way L1 cache.
 * The color shifts one segment's descriptors against those of its neighbours,
 * which would otherwise fall in the same cache sets too. head[] holds the line
 * (offset / 64) of each page's run descriptor: one load and a shift find it.
 * The free fast path needs not even that: it reads the descriptor of the first
 * page of the pointer's 16-page group (segment.h, segment_group_page).
 */
struct segment {
    uintptr_t cookie;         /* address ^ process secret: "this is a header" */
    uint32_t kind;            /* enum segment_kind */
    uint32_t used_pages;      /* pages in allocated runs, metadata included; arena lock */
    struct arena *arena;      /* owner arena (normal) */
    struct segment *next;     /* arena's segment list */
    struct segment *prev;
    size_t huge_map_size;     /* huge: bytes mapped from the segment base */
    size_t huge_offset;       /* huge: user block = base + offset */
    size_t huge_asked;        /* huge: the size last asked for (malloc, realloc) */
    uint32_t huge_cached;     /* huge: freed, kept mapped for reuse (large.c's cache) */
    uint32_t from_brk;        /* normal: carved from the program break */
    struct large_owner *owner; /* huge: the list holding it (large.h), or NULL; its lock */
    uint16_t head[LX_SEGMENT_PAGES]; /* page idx -> line of its run's descriptor */
    /* Marks of a slab's pages (slab.c), a bit per page, 16 pages to an element:
     * hole, the page was given back while its slab lives on; idle, all its
     * blocks were free at the last sweep. Only a slab's owner writes its bits;
     * other threads read hole bits. Kept here rather than in each page's
     * descriptor: those of pages past a run's first lie outside the 8 KiB the
     * fast paths touch, and marking them touched up to 30 more metadata pages
     * in every segment. */
    _Atomic(uint16_t) hole_map[LX_SEGMENT_PAGES / 16];
    _Atomic(uint16_t) idle_map[LX_SEGMENT_PAGES / 16];
    /* Pages not resident, as far as lxmalloc knows: never touched since the
     * segment was made, or given back to the kernel (a hole, a purged free
     * block), and not populated since (segment.h, seg_gone_*). A carve or a
     * large block over such pages populates them with one call instead of
     * leaving them to page faults. Any thread may write any bit (runs of
     * different owners can share an element): read-modify-writes. */
    _Atomic(uint16_t) gone_map[LX_SEGMENT_PAGES / 16];
    LX_CACHE_ALIGNED uint8_t desc[LX_SEGMENT_PAGES * 128 + (LX_DESC_COLORS - 1) * 64];
};

/* Metadata pages, then one PROT_NONE guard page before the first run, so an
 * underflow of the first block cannot reach the metadata. The guard is part of
 * the metadata run as far as the buddy allocator is concerned. The run is
 * rounded up to a multiple of 16 pages (33 + 1 -> 48), so the first free buddy
 * blocks are 16-page aligned and their descriptors lie in the first 64 slots
 * with the others: free blocks at pages 34, 36 and 40 had theirs in slots 130,
 * 258 and 514, three more pages of metadata touched in every segment. The 14
 * pages between are address space only. */
#define LX_SEGMENT_META_DATA_PAGES ((sizeof(struct segment) + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT)
#define LX_SEGMENT_META_PAGES ((LX_SEGMENT_META_DATA_PAGES + 1 + 15) & ~(size_t)15)

static_assert(sizeof(struct page) == 128, "page descriptor is 128 bytes");
static_assert(offsetof(struct page, local_key) == 64,
              "the owner's fields fill a descriptor's first line, what every free reads its second");
static_assert(LX_ADDRESS_BITS <= LX_XFREE_COUNT_SHIFT, "remote-free counts sit above addresses");
static_assert(LX_SLAB_MAX_PAGES * LX_PAGE_SIZE / LX_ALIGN < ((size_t)1 << (64 - LX_XFREE_COUNT_SHIFT)),
              "a slab's blocks fit the remote-free count");
static_assert(offsetof(struct segment, desc) % 64 == 0, "descriptors cache-aligned");
static_assert(sizeof(struct segment) / 64 <= UINT16_MAX, "head[] holds descriptor lines");

struct page_queue {
    struct page *head; /* first slab to allocate from */
    struct page *tail;
    uint64_t taken;    /* slabs the class has taken from arenas and caches */
};

/* Large runs a heap allocated and freed, counted by its owner with plain
 * increments (stats.c sums them over the heaps); a process-wide atomic per
 * operation made 4 threads that allocate 64-256 KiB buffers share one cache line. */
struct large_counts {
    uint64_t allocs, frees;
    uint64_t alloc_bytes, free_bytes;
    int64_t live_flushed; /* alloc_bytes - free_bytes when the heap last published */
};

/* A heap's freed runs, kept whole (RUN_CACHED, counted as used by their arena)
 * so that the next slab or large run of about their length needs no arena lock,
 * no buddy split and merge, and no page faults. Owner only; pages.c. */
struct run_cache {
    struct page *slot[LX_RUN_CACHE_SLOTS];
    uint32_t count;         /* slots in use: slot[0..count) */
    _Atomic uint32_t pages; /* their pages; written by the owner, read by stats */
};

/* The normal segments a heap's frees met (segment.h, seg_cache_*): free()
 * trusts a pointer's segment only when it finds the segment here, so that it
 * needs no segment-map lookup. The owner learns; segment_destroy forgets. */
struct seg_cache {
    _Atomic uintptr_t base[LX_SEG_SEEN]; /* base >> LX_SEGMENT_SHIFT, in slot that % */
                                         /* LX_SEG_SEEN; LX_SEG_NONE: empty */
    uintptr_t desc[LX_SEG_SEEN];         /* base + seg_desc_base: its descriptors */
    struct seg_cache *next;              /* every cache (seg_cache_register) */
};

/* Per-thread heap. Only its owner thread touches the plain fields. */
struct mchunk;

/* A heap's medium runs (medium.c): free chunks in bins by size, a bit per
 * non-empty bin, and the blocks other threads freed, waiting for the owner. */
struct medium_heap {
    uint64_t map[LX_MEDIUM_BINS / 64];
    struct page *runs;                 /* its medium runs, through next/prev */
    uint32_t nruns;
    uint32_t epoch;                    /* sweeps so far (medium_sweep) */
    _Atomic(uintptr_t) remote;         /* a stack of user pointers, links encoded */
    struct mchunk *bin[LX_MEDIUM_BINS];
};

struct heap {
    struct page *_Atomic direct[LX_DIRECT_COUNT];  /* (size+15)/16 -> slab serving it */
    struct page_queue queues[LX_CLASS_COUNT];      /* slabs with (maybe) free blocks */
    struct page *full;                             /* slabs with none, all classes; */
                                                   /* full_lock */
    struct seg_cache segs;                         /* normal segments free() met */
    _Atomic(struct block *) delayed_free;          /* remote frees into full slabs; any thread */
    struct arena *arena;                           /* where page runs come from */
    struct heap *next_all;                         /* registry of all heaps; global lock */
    struct heap *next_orphan;                      /* orphan list; global lock */
    uint32_t id;                                   /* creation number */
    uint32_t owned;                                /* HEAP_OWNED_*: who uses it; global lock */
    int64_t live_flushed;                          /* live bytes last added to the global sum */
    uint64_t slab_pages;                           /* pages in this heap's slabs (about); owner */
    uint64_t sweep_pages;                          /* slab pages taken since the last sweep; owner */
    uint32_t remote_frees;                         /* frees into other heaps' slabs; owner */
    lx_lock_t full_lock;                           /* `full` and its slabs' local_key, */
                                                   /* against heap_steal */
    bool stealable;                                /* a thread's heap (fixed at creation) */
    _Atomic uint64_t busy_ns;                      /* the owner's last allocation slow path */
    struct run_cache runs;                         /* freed runs kept for reuse; owner */
    struct large_counts large;                     /* its large runs; owner */
    uint64_t alloc_count[LX_DIRECT_COUNT];         /* small blocks allocated, by direct */
                                                   /* entry (stats_class_allocs); owner */
    uint64_t free_count[LX_CLASS_COUNT];           /* small blocks freed by this thread */
    struct block *stash[LX_CLASS_COUNT];           /* blocks freed into full slabs, by */
                                                   /* class, for the next malloc; owner */
    uint8_t stash_n[LX_CLASS_COUNT];               /* their number (heap.c, stash) */
    struct medium_heap med;                        /* medium runs; owner (remote: any) */
} __attribute__((aligned(64)));

#endif /* LX_TYPES_H */
