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

static_assert(LX_DIRECT_MAX == 1024 && LX_DIRECT_FIRST_MEDIUM == 20 && LX_FINE_MIN == 4096 &&
                  LX_CLASS_COUNT == LX_FINE_FIRST + 3 * 8,
              "class formula: 28 classes to 4 KiB, then three powers of two cut in eight");

void sizeclass_init(void)
{
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        size_t size = class_to_size(c);
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
        lx_classes[c].size = (uint32_t)size;
        lx_classes[c].pages = (uint16_t)pages;
        lx_classes[c].count = (uint16_t)count;
        lx_classes[c].direct_lo = 1;
        lx_classes[c].direct_hi = 0;
    }
    for (unsigned d = 0; d < LX_DIRECT_SMALL; d++) {
        unsigned c = size_to_class((size_t)d * LX_ALIGN);
        if (lx_classes[c].direct_lo > lx_classes[c].direct_hi) {
            lx_classes[c].direct_lo = (uint8_t)d;
            lx_classes[c].direct_hi = (uint8_t)d;
        } else {
            lx_classes[c].direct_hi = (uint8_t)d;
        }
    }
    for (unsigned c = LX_DIRECT_FIRST_MEDIUM; c < LX_CLASS_COUNT; c++)
        lx_classes[c].direct_lo = lx_classes[c].direct_hi = (uint8_t)direct_index_medium(c);
}
