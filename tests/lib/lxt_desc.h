/*
 * For the unit tests that look inside a segment (built with -Isrc): how many
 * of a segment's descriptor pages past those of the group heads are resident.
 *
 *   lxt_spread_descriptor_pages(seg)   mincore over the descriptor array past
 *                                      slots 0-63 (the first 8 KiB, which hold
 *                                      every 16-page group's head): the pages
 *                                      only other descriptors lie on.
 *
 * Reading a descriptor maps its page too (the zero page counts as resident):
 * count before anything walks the descriptors, lx_heap_check included.
 */
#ifndef LXT_DESC_H
#define LXT_DESC_H

#include <sys/mman.h>

#include "lxt.h"
#include "segment.h"

static inline size_t lxt_spread_descriptor_pages(struct segment *seg)
{
    uintptr_t lo = (uintptr_t)seg + seg_desc_base(seg) + 64 * sizeof(struct page);
    uintptr_t hi = (uintptr_t)seg + sizeof(struct segment);
    lo = (lo + LX_PAGE_SIZE - 1) & ~(uintptr_t)(LX_PAGE_SIZE - 1);
    hi &= ~(uintptr_t)(LX_PAGE_SIZE - 1);
    unsigned char vec[LX_SEGMENT_META_PAGES];
    CHECK(mincore((void *)lo, hi - lo, vec) == 0, "mincore");
    size_t n = 0;
    for (size_t i = 0; i < (hi - lo) / LX_PAGE_SIZE; i++)
        n += vec[i] & 1;
    return n;
}

#endif /* LXT_DESC_H */
