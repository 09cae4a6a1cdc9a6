/* SPDX-License-Identifier: MIT */
/*
 * sizeclass.h — size <-> class. Classes 0..7 are 16..128 in 16-byte steps; up to
 * 4 KiB every power of two is cut in four (160, 192, 224, 256, 320, ...), so a
 * block wastes at most 25% of its size to rounding; above 4 KiB in eight (4608,
 * 5120, ..., 8192, 9216, ...), at most 12.5%. There a quarter is a kilobyte or
 * more a block (a 4 KiB page plus a header, an 8 KiB buffer plus its length),
 * while below, a class more costs a slab more per class in use, which weighs
 * most when many small sizes mix. The largest class is LX_SMALL_MAX. Every
 * class size is a multiple of 16.
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

/* Above LX_FINE_MIN bytes a power of two is cut in eight, below in four. */
#define LX_FINE_MIN 4096
#define LX_FINE_FIRST (LX_DIRECT_FIRST_MEDIUM + 8) /* 4608: the first class cut in eight */

/* Class of a request of LX_DIRECT_MAX < size <= LX_SMALL_MAX bytes. */
LX_INLINE unsigned size_to_class_medium(size_t size)
{
    unsigned b = 63u - (unsigned)LX_CLZ(size - 1); /* 2^b < size <= 2^(b+1), b >= 10 */
    if (size <= LX_FINE_MIN)
        return LX_DIRECT_FIRST_MEDIUM + (b - 10u) * 4u + (unsigned)(((size - 1) >> (b - 2)) & 3u);
    return LX_FINE_FIRST + (b - 12u) * 8u + (unsigned)(((size - 1) >> (b - 3)) & 7u);
}

/* Class of a request of `size` bytes, 0 < size <= LX_SMALL_MAX (0 maps to class 0). */
LX_INLINE unsigned size_to_class(size_t size)
{
    if (size <= 128)
        return size == 0 ? 0 : (unsigned)((size - 1) >> 4);
    if (size > LX_DIRECT_MAX)
        return size_to_class_medium(size);
    unsigned b = 63u - (unsigned)LX_CLZ(size - 1); /* 2^b < size <= 2^(b+1), 7 <= b <= 9 */
    return 8u + (b - 7u) * 4u + (unsigned)(((size - 1) >> (b - 2)) & 3u);
}

/* The direct-table entry of a class above LX_DIRECT_MAX: one each, after the
 * entries indexed by (size+15)/16. */
LX_INLINE unsigned direct_index_medium(unsigned cls)
{
    return cls + (LX_DIRECT_SMALL - LX_DIRECT_FIRST_MEDIUM);
}

/* Block size of class `cls`. */
LX_INLINE size_t class_to_size(unsigned cls)
{
    if (cls < 8)
        return (size_t)(cls + 1) * 16;
    if (cls < LX_FINE_FIRST) {
        unsigned b = 7 + (cls - 8) / 4;
        return ((size_t)1 << b) + ((size_t)1 << (b - 2)) * ((cls - 8) % 4 + 1);
    }
    unsigned b = 12 + (cls - LX_FINE_FIRST) / 8;
    return ((size_t)1 << b) + ((size_t)1 << (b - 3)) * ((cls - LX_FINE_FIRST) % 8 + 1);
}

#endif /* LX_SIZECLASS_H */
