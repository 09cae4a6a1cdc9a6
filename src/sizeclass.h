/* SPDX-License-Identifier: MIT */
/*
 * sizeclass.h — size <-> class. Classes 0..7 are 16..128 in 16-byte steps; then
 * every power of two is cut in four (160, 192, 224, 256, 320, ...), so a block
 * wastes at most 25% of its size to rounding, except from 4 to 8 KiB, cut in
 * eight (4608, 5120, ..., 8192), at most 12.5%: there a quarter is a kilobyte a
 * block, and sizes cluster (a 4 KiB database page plus its header). Elsewhere
 * a class more costs a slab more per class in use, which weighs most when many
 * sizes mix or the mix moves: cut in eight from 8 to 32 KiB too, the server
 * workload held 3% more memory and python 3%, for nothing measured in return.
 *
 * Programs allocate a power of two plus a small header far more often than any
 * other size just above a power of two (a string's length and a 4 or 8 KiB
 * buffer, a database page and its header, a 512-byte record and its link), and
 * such a size would take the next quarter or eighth: 8200 bytes a 10240-byte
 * block, 1032 a 1280-byte one. So each power of two from 128 to 16 KiB has one
 * narrow class just above it, 16 bytes wide up to 512 and 1/32 of the power
 * (at least 64 bytes) from 1 KiB: 144, 272, 528, 1088, 2112, 4224, 8448,
 * 16896. A size spread evenly meets them rarely, so they add few slabs.
 *
 * The largest class is LX_SMALL_MAX. Every class size is a multiple of 16, and
 * above LX_DIRECT_MAX a multiple of 64: lx_size_class maps sizes to classes by
 * 16-byte steps up to LX_DIRECT_MAX and by 64-byte steps above.
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

/* Class of every size, by LX_ALIGN-byte steps to LX_DIRECT_MAX ((size + 15) /
 * 16), then by LX_MEDIUM_STEP-byte steps (sizeclass_init builds it). */
#define LX_MEDIUM_STEP 64
#define LX_SIZE_TABLE (LX_DIRECT_SMALL + (LX_SMALL_MAX - LX_DIRECT_MAX) / LX_MEDIUM_STEP)
extern uint8_t lx_size_class[LX_SIZE_TABLE];

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

/* Class of a request of LX_DIRECT_MAX < size <= LX_SMALL_MAX bytes. */
LX_INLINE unsigned size_to_class_medium(size_t size)
{
    return lx_size_class[LX_DIRECT_SMALL + (size - LX_DIRECT_MAX - 1) / LX_MEDIUM_STEP];
}

/* Class of a request of `size` bytes, 0 < size <= LX_SMALL_MAX (0 maps to class 0). */
LX_INLINE unsigned size_to_class(size_t size)
{
    if (size <= LX_DIRECT_MAX)
        return lx_size_class[(size + LX_ALIGN - 1) / LX_ALIGN];
    return size_to_class_medium(size);
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
    return lx_classes[cls].size;
}

#endif /* LX_SIZECLASS_H */
