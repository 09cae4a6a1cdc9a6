/* SPDX-License-Identifier: MIT */
/*
 * sizeclass.c — the class table: for each class its size, its slab length, and
 * the entries of the heap's direct table it serves. Built once at start-up; read
 * only afterwards. A slab is the shortest power of two of pages, at least
 * LX_SLAB_MIN_PAGES, that holds LX_SLAB_MIN_BLOCKS blocks: a buddy block, whole,
 * starting on a multiple of LX_SLAB_MIN_PAGES. Every class up to 8 KiB thus has
 * slabs of one 16-page group, which the free fast path relies on to find the
 * slab's descriptor without a load (segment.h, segment_group_page). The tail
 * space after the last block is less than a block, and is never touched: slabs
 * are carved lazily, so it costs address space, not resident memory.
 */
#include "sizeclass.h"

struct sizeclass_info lx_classes[LX_CLASS_COUNT];
uint8_t lx_size_class[LX_SIZE_TABLE];

static_assert(LX_DIRECT_MAX == 1024 && LX_SMALL_MAX == 32768 && LX_DIRECT_FIRST_MEDIUM == 23 &&
                  LX_CLASS_COUNT == LX_DIRECT_FIRST_MEDIUM + 29,
              "class rule: 23 classes to 1 KiB, 29 above (sizeclass.h)");
static_assert(LX_DIRECT_MAX % LX_MEDIUM_STEP == 0 && LX_SMALL_MAX % LX_MEDIUM_STEP == 0,
              "the size table's steps");

/* The narrow class just above 2^b (sizeclass.h). */
static size_t narrow_above(unsigned b)
{
    size_t pow = (size_t)1 << b;
    if (pow <= 512)
        return pow + LX_ALIGN;
    return pow + (pow / 32 > LX_MEDIUM_STEP ? pow / 32 : LX_MEDIUM_STEP);
}

/* The smallest class size above `prev` (a class size, or 0). */
static size_t class_after(size_t prev)
{
    if (prev < 128)
        return prev + LX_ALIGN;
    unsigned b = 63u - (unsigned)LX_CLZ(prev); /* 2^b <= prev < 2^(b+1) */
    size_t pow = (size_t)1 << b;
    size_t step = pow >> (b == 12 ? 3 : 2); /* a quarter; from 4 to 8 KiB an eighth */
    size_t next = (prev / step + 1) * step;   /* the next quarter or eighth */
    if (prev == pow && b < 15 && narrow_above(b) < next)
        return narrow_above(b);
    return next;
}

void sizeclass_init(void)
{
    size_t size = 0;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        size = class_after(size);
        lx_classes[c].size = (uint32_t)size;
    }
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        size = lx_classes[c].size;
        size_t min_pages = (size * LX_SLAB_MIN_BLOCKS + LX_PAGE_SIZE - 1) >> LX_PAGE_SHIFT;
        if (min_pages < LX_SLAB_MIN_PAGES)
            min_pages = LX_SLAB_MIN_PAGES;
        /* The arena hands out buddy blocks: a length between two powers of two
         * would take the larger block anyway and leave its tail as fragments
         * too short for another slab. */
        size_t pages = LX_SLAB_MIN_PAGES;
        while (pages < min_pages)
            pages *= 2;
        size_t count = (pages << LX_PAGE_SHIFT) / size;
        if (count > UINT16_MAX) /* 16-byte blocks in 16 pages: 4096, far below */
            count = UINT16_MAX;
        lx_classes[c].pages = (uint16_t)pages;
        lx_classes[c].count = (uint16_t)count;
        lx_classes[c].direct_lo = 1;
        lx_classes[c].direct_hi = 0;
    }
    /* The size table: entry i holds the smallest class at least the largest
     * size of its step. */
    unsigned c = 0;
    for (unsigned i = 0; i < LX_SIZE_TABLE; i++) {
        size_t top = i < LX_DIRECT_SMALL
                         ? (size_t)i * LX_ALIGN
                         : LX_DIRECT_MAX + (size_t)(i - LX_DIRECT_SMALL + 1) * LX_MEDIUM_STEP;
        while (lx_classes[c].size < top)
            c++;
        lx_size_class[i] = (uint8_t)c;
    }
    for (unsigned d = 0; d < LX_DIRECT_SMALL; d++) {
        c = size_to_class((size_t)d * LX_ALIGN);
        if (lx_classes[c].direct_lo > lx_classes[c].direct_hi) {
            lx_classes[c].direct_lo = (uint8_t)d;
            lx_classes[c].direct_hi = (uint8_t)d;
        } else {
            lx_classes[c].direct_hi = (uint8_t)d;
        }
    }
    for (c = LX_DIRECT_FIRST_MEDIUM; c < LX_CLASS_COUNT; c++)
        lx_classes[c].direct_lo = lx_classes[c].direct_hi = (uint8_t)direct_index_medium(c);
}
