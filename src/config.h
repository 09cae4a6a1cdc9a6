/* SPDX-License-Identifier: MIT */
/*
 * config.h — every compile-time knob and the constants derived from them.
 * Knobs are always defined to a number and tested with #if (never #ifdef), so
 * -Wundef catches a misspelt one. The static_asserts at the end keep them sane.
 */
#ifndef LX_CONFIG_H
#define LX_CONFIG_H

#include <assert.h>

/* LX_DEBUG: 0 release; 1 cheap asserts; 2 internal asserts; 3 heap walk per op. */
#ifndef LX_DEBUG
#define LX_DEBUG 0
#endif

/* LX_STATS: 1 keeps per-class counters on the fast paths (two instructions). */
#ifndef LX_STATS
#define LX_STATS 1
#endif
#define LX_STATS_FLUSH_FREES 256 /* remote frees between two publications of a heap's counts */
#define LX_STATS_LARGE_SLACK ((int64_t)1 << 20) /* live large bytes a heap may leave unpublished */

/* LX_FAULT_INJECT: 1 builds the OS layer's failure injection for tests (os_fault_set
 * in os.h makes a chosen mapping call fail). Never on in a shipped library. */
#ifndef LX_FAULT_INJECT
#define LX_FAULT_INJECT 0
#endif

/* LX_VALGRIND: 1 compiles in the client requests that describe blocks to valgrind's
 * memcheck (src/track.h); the Makefile sets it when <valgrind/memcheck.h> exists. */
#ifndef LX_VALGRIND
#define LX_VALGRIND 0
#endif

/* LX_OVERRIDE: 1 defines malloc, free, ... (set by src/override.c's presence). */

/* LX_HARDEN: 1 (the default) encodes free-list links and checks every free on the
 * fast path (slab.h: the pointer starts a carved block, the block does not look
 * free). 0 compiles both out; it exists to measure what they cost
 * (docs/SECURITY.md). */
#ifndef LX_HARDEN
#define LX_HARDEN 1
#endif

/* LX_HEAP_DEBUG_DEFAULT: 1 turns debug mode (canaries, quarantine, callers) on
 * unless LXMALLOC_DEBUG=0 says otherwise; `make HEAP_DEBUG=1` sets it. */
#ifndef LX_HEAP_DEBUG_DEFAULT
#define LX_HEAP_DEBUG_DEFAULT 0
#endif

/* OS pages: lxmalloc requires 4 KiB pages (checked at start-up). */
#define LX_PAGE_SHIFT 12
#define LX_PAGE_SIZE ((size_t)1 << LX_PAGE_SHIFT)

/* Segments: the unit taken from the kernel, aligned to its size. */
#define LX_SEGMENT_SHIFT 22
#define LX_SEGMENT_SIZE ((size_t)1 << LX_SEGMENT_SHIFT)
#define LX_SEGMENT_MASK (LX_SEGMENT_SIZE - 1)
#define LX_SEGMENT_PAGES (LX_SEGMENT_SIZE >> LX_PAGE_SHIFT)
#define LX_DESC_ROT 4         /* descriptor slots: page index rotated by this (types.h) */
#define LX_DESC_COLORS 16     /* segment colors: offsets of a segment's descriptors */
#define LX_MAX_ORDER (LX_SEGMENT_SHIFT - LX_PAGE_SHIFT) /* buddy orders 0..10 */

/* The segment map covers a 47-bit user address space, one byte per 4 MiB chunk,
 * in two levels: a 16 KiB top table in .bss and 16 KiB leaves (64 GiB of address
 * space each) mapped when a segment first lands in their range. A flat 32 MiB
 * table would cost one load less, but would count against RLIMIT_AS in every
 * process that loads the library. */
#define LX_ADDRESS_BITS 47
#define LX_SEGMAP_COUNT ((size_t)1 << (LX_ADDRESS_BITS - LX_SEGMENT_SHIFT))
#define LX_SEGMAP_LEAF_SHIFT 14
#define LX_SEGMAP_LEAF_COUNT ((size_t)1 << LX_SEGMAP_LEAF_SHIFT)
#define LX_SEGMAP_TOP_COUNT (LX_SEGMAP_COUNT >> LX_SEGMAP_LEAF_SHIFT)

/* Size classes: 16-byte steps to 128, four classes per power of two to 4 KiB,
 * then eight, and a narrow class just above each power of two from 128 to
 * 16 KiB (sizeclass.h). */
#define LX_ALIGN 16
#define LX_SMALL_MAX 32768           /* largest size served from slabs */
#define LX_CLASS_COUNT 52            /* 23 to 1 KiB, 29 to 32 KiB (sizeclass.h) */
#define LX_DIRECT_MAX 1024           /* sizes looked up in the direct table by (size+15)/16 */
#define LX_DIRECT_SMALL (LX_DIRECT_MAX / LX_ALIGN + 1) /* those entries */
#define LX_MEDIUM_MIN 1024           /* malloc of LX_MEDIUM_MIN+1 .. LX_MEDIUM_MAX: */
#define LX_MEDIUM_MAX 16384          /* shared runs (medium.c) */
#define LX_MEDIUM_RUN_PAGES 64       /* a medium run: 256 KiB */
#define LX_MEDIUM_BINS 128           /* free-chunk bins of a heap's medium runs */
#define LX_DIRECT_FIRST_MEDIUM 23    /* first class above LX_DIRECT_MAX: an entry per class */
#define LX_DIRECT_COUNT (LX_DIRECT_SMALL + LX_CLASS_COUNT - LX_DIRECT_FIRST_MEDIUM)
#define LX_SLAB_MIN_PAGES 16         /* a slab is at least 64 KiB ... */
#define LX_SLAB_MIN_BLOCKS 8         /* ... and holds at least 8 blocks */
#define LX_CARVE_BYTES 4096          /* bytes of fresh blocks carved at a time, */
#define LX_CARVE_MAX 16384           /* up to this much at once from untouched pages */
#define LX_RETURNED_LOOKAHEAD 4      /* slabs looked at for remote frees before carving */
#define LX_IDLE_HEAP_NS (20ull * 1000 * 1000) /* a heap whose owner took no allocation slow */
                                              /* path for this long gives its full slabs up */
#define LX_SLAB_MAX_PAGES 128        /* longest slab (twice the 8 blocks of 32 KiB) */
#define LX_SWEEP_MIN_PAGES 256       /* a heap sweeps for holes after taking at least */
#define LX_STASH_BYTES 1024 /* a class's stash holds this many bytes of blocks (heap.c) */
#define LX_STASH_MAX 8      /* ... and at most this many blocks */
#define LX_SWEEP_SHIFT 6             /* this many and 1/2^shift of its slab pages anew */
#define LX_HOLE_MIN_PAGES 8          /* a slab purges when this many pages are new holes */

/* Large blocks are buddy page runs; above the mmap threshold, direct mappings. */
#define LX_LARGE_MAX ((size_t)2 << 20)               /* largest buddy run: 512 pages */
#define LX_MMAP_THRESHOLD_DEFAULT ((size_t)1 << 20)
#define LX_MMAP_THRESHOLD_MIN LX_PAGE_SIZE
/* realloc growing a block to at least this (and a quarter of the mmap threshold)
 * gives it a mapping of its own, which later growth moves instead of copying. */
#define LX_REALLOC_MAP_MIN ((size_t)256 << 10)
#define LX_TRIM_THRESHOLD_DEFAULT ((size_t)8 << 20)  /* empty segments kept mapped */
#define LX_HUGE_HEADER LX_PAGE_SIZE                  /* header page of a direct mapping */
/* A transparent huge page (x86-64, and arm64 with 4 KiB pages). Huge blocks ask
 * the kernel for them, and a huge block that realloc grows to half of one or
 * more maps up to a multiple of one (huge_alloc_growing). */
#define LX_HUGE_PAGE_SIZE ((size_t)2 << 20)

#define LX_PURGE_DELAY_MS_DEFAULT 200             /* free runs older than this go back */
#define LX_PURGE_SLACK_PAGES 512                  /* dirty pages an arena may always keep */
#define LX_PURGE_SETTLE_SHIFT 3 /* over that and a quarter of the used pages, runs free for */
                                /* at least delay >> this (25 ms) go back at once */
#define LX_HUGE_CACHE_DEFAULT ((size_t)32 << 20)  /* freed huge blocks kept for reuse */
#define LX_HUGE_CACHE_SLOTS 16
#define LX_RUN_CACHE_SLOTS 8        /* freed runs a thread heap keeps (pages.c) */
#define LX_RUN_CACHE_PAGES 512      /* their pages, at most (2 MiB) */
#define LX_RUN_CACHE_RUN_MAX 128    /* longest run kept (512 KiB) */
#define LX_SEG_SEEN 64 /* normal segments a heap remembers for free() (segment.h): 256 MiB */

#define LX_ARENA_MAX 64

#define LX_TRACE_INTERVAL_MS_DEFAULT 10           /* LXMALLOC_TRACE: ms between records */

/* Debug mode: every block carries a header before it and a canary after it;
 * freed blocks wait in a quarantine of at most this many blocks and bytes. */
#define LX_DEBUG_HEADER 32                       /* header bytes before the user data */
#define LX_QUARANTINE_COUNT 4096                 /* blocks */
#define LX_QUARANTINE_BYTES ((size_t)32 << 20)   /* bytes of user data */
#define LX_QUARANTINE_BLOCK_MAX ((size_t)1 << 20) /* larger blocks skip the quarantine */
#define LX_CHECK_ACTION_DEFAULT 3
#define LX_PROFILE_RATE_DEFAULT ((size_t)512 << 10) /* mean bytes between profile samples */

static_assert(LX_SMALL_MAX < LX_LARGE_MAX, "small sizes end below large runs");
static_assert(LX_DIRECT_MAX <= LX_SMALL_MAX, "direct table covers small sizes only");
static_assert(LX_MEDIUM_MIN <= LX_DIRECT_MAX && LX_MEDIUM_MIN < LX_MEDIUM_MAX && LX_MEDIUM_MAX <= LX_SMALL_MAX,
              "medium sizes are small sizes");
static_assert(LX_DIRECT_MAX < LX_MMAP_THRESHOLD_MIN, "sizes up to LX_DIRECT_MAX are never mapped");
static_assert(2 * (LX_SMALL_MAX * LX_SLAB_MIN_BLOCKS / LX_PAGE_SIZE) <= LX_SLAB_MAX_PAGES &&
                  2 * LX_SLAB_MIN_PAGES <= LX_SLAB_MAX_PAGES,
              "every class's slab fits LX_SLAB_MAX_PAGES");
static_assert(LX_LARGE_MAX <= LX_SEGMENT_SIZE / 2, "a large run fits a segment's buddy");
static_assert(LX_MMAP_THRESHOLD_DEFAULT <= LX_LARGE_MAX, "threshold within large runs");
static_assert(LX_SEGMENT_SIZE % LX_HUGE_PAGE_SIZE == 0, "segments hold whole huge pages");
static_assert((LX_ALIGN & (LX_ALIGN - 1)) == 0, "alignment is a power of two");
static_assert(LX_SLAB_MIN_PAGES >= (1 << LX_DESC_ROT),
              "a slab covers its first descriptor group (segment_group_page)");
static_assert(LX_DEBUG >= 0 && LX_DEBUG <= 3, "LX_DEBUG is 0..3");
static_assert(LX_STATS == 0 || LX_STATS == 1, "LX_STATS is 0 or 1");
static_assert(LX_HARDEN == 0 || LX_HARDEN == 1, "LX_HARDEN is 0 or 1");
static_assert(LX_HEAP_DEBUG_DEFAULT == 0 || LX_HEAP_DEBUG_DEFAULT == 1, "LX_HEAP_DEBUG_DEFAULT is 0 or 1");
static_assert(LX_DEBUG_HEADER % LX_ALIGN == 0, "debug header keeps blocks aligned");
static_assert(LX_VALGRIND == 0 || LX_VALGRIND == 1, "LX_VALGRIND is 0 or 1");
static_assert(LX_FAULT_INJECT == 0 || LX_FAULT_INJECT == 1, "LX_FAULT_INJECT is 0 or 1");

#endif /* LX_CONFIG_H */
