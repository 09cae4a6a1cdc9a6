/* SPDX-License-Identifier: MIT */
/*
 * sizeclass.h — size <-> class. Classes 0..7 are 16..128 in 16-byte steps; above
 * 128 every power of two is cut in four (160, 192, 224, 256, 320, ...), so a
 * block wastes at most 25% of its size to rounding. The largest class is
 * LX_SMALL_MAX. Every class size is a multiple of 16.
 */
#ifndef LX_SIZECLASS_H
#define LX_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"

struct sizeclass_info {
    uint32_t size;      /* block size in bytes */
    uint16_t pages;     /* slab length in pages */
    uint16_t count;     /* blocks per slab */
    uint8_t direct_lo;  /* direct-table entries served by this class: [lo, hi] */
    uint8_t direct_hi;
};

extern struct sizeclass_info lx_classes[LX_CLASS_COUNT];

/* The inverse modulo 2^64 of the odd part of `size` (size = odd << ctz(size)):
 * with it, one multiplication and one rotation divide an offset by `size` and
 * tell whether it divides (slab.h, slab_block_start). Newton's iteration: x = d
 * is right in its low 3 bits, and each step doubles that. */
LX_INLINE uint64_t size_odd_inverse(uint64_t size)
{
    uint64_t d = size >> LX_CTZ(size);
    uint64_t x = d;
    for (int i = 0; i < 5; i++)
        x *= 2 - d * x;
    return x;
}

void sizeclass_init(void);

/* Class of a request of `size` bytes, 0 < size <= LX_SMALL_MAX (0 maps to class 0). */
LX_INLINE unsigned size_to_class(size_t size)
{
    if (size <= 128)
        return size == 0 ? 0 : (unsigned)((size - 1) >> 4);
    unsigned b = 63u - (unsigned)LX_CLZ(size - 1); /* 2^b < size <= 2^(b+1) */
    return 8u + (b - 7u) * 4u + (unsigned)(((size - 1) >> (b - 2)) & 3u);
}

/* The direct-table entry of a class above LX_DIRECT_MAX: one each, after the
 * entries indexed by (size+15)/16. */
LX_INLINE unsigned direct_index_medium(unsigned cls)
{
    return cls + (LX_DIRECT_SMALL - LX_DIRECT_FIRST_MEDIUM);
}

/* Size of class `cls`, by the same formula (for init and tests). */
LX_INLINE size_t class_to_size(unsigned cls)
{
    if (cls < 8)
        return (size_t)(cls + 1) * 16;
    unsigned b = 7 + (cls - 8) / 4;
    unsigned j = (cls - 8) % 4;
    return ((size_t)1 << b) + ((size_t)1 << (b - 2)) * (j + 1);
}

#endif /* LX_SIZECLASS_H */
