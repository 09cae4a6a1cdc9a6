/* Unit test of the size-class layer: every size 0..LX_SMALL_MAX maps to the
 * smallest class that holds it, classes are multiples of 16 and waste at most
 * 25% (12.5% from 4 to 8 KiB), slab geometry fits, and the direct table agrees with size_to_class. */
#include <stdbool.h>

#include "lxt.h"
#include "init.h"
#include "sizeclass.h"

int main(void)
{
    lx_process_init();
    size_t prev = 0;
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        size_t sz = class_to_size(c);
        CHECK(sz > prev, "class %u size %zu not above %zu", c, sz, prev);
        CHECK(sz % LX_ALIGN == 0, "class %u size %zu not a multiple of 16", c, sz);
        CHECK(sz % (sz > LX_DIRECT_MAX ? LX_MEDIUM_STEP : LX_ALIGN) == 0,
              "class %u size %zu not a multiple of the size table's step", c, sz);
        CHECK(lx_classes[c].pages >= LX_SLAB_MIN_PAGES, "class %u slab too short", c);
        CHECK(lx_classes[c].count >= LX_SLAB_MIN_BLOCKS, "class %u holds %u blocks", c,
              lx_classes[c].count);
        CHECK((size_t)lx_classes[c].count * sz <= (size_t)lx_classes[c].pages * LX_PAGE_SIZE,
              "class %u blocks overflow the slab", c);
        CHECK(((size_t)lx_classes[c].count + 1) * sz > (size_t)lx_classes[c].pages * LX_PAGE_SIZE,
              "class %u slab could hold another block", c);
        prev = sz;
    }
    CHECK(prev == LX_SMALL_MAX, "largest class %zu != LX_SMALL_MAX", prev);
    /* A power of two plus a small header takes the narrow class just above the
     * power: 16 bytes up to 512, 1/32 of the power (at least 64) from 1 KiB. */
    for (size_t pow = 128; pow < LX_SMALL_MAX; pow *= 2) {
        size_t pad = pow <= 512 ? 16 : (pow / 32 > 64 ? pow / 32 : 64);
        unsigned c = size_to_class(pow + 8);
        CHECK(class_to_size(c) == pow + pad, "size %zu -> class of %zu, not %zu", pow + 8,
              class_to_size(c), pow + pad);
        CHECK(size_to_class(pow) == c - 1 && size_to_class(pow + pad + 1) == c + 1,
              "the class of %zu is not narrow", pow + pad);
    }
    for (size_t size = 0; size <= LX_SMALL_MAX; size++) {
        unsigned c = size_to_class(size);
        CHECK(c < LX_CLASS_COUNT, "size %zu -> class %u out of range", size, c);
        size_t sz = class_to_size(c);
        CHECK(sz >= size, "size %zu in class of %zu", size, sz);
        CHECK(c == 0 || class_to_size(c - 1) < size, "size %zu could use class %u", size, c - 1);
        if (size > 128)
            CHECK((sz - size) * (size > 4096 && size <= 8192 ? 8u : 4u) < sz,
                  "size %zu wastes %zu of %zu", size, sz - size, sz);
    }
    for (unsigned d = 0; d < LX_DIRECT_SMALL; d++) {
        unsigned c = size_to_class((size_t)d * LX_ALIGN);
        CHECK(lx_classes[c].direct_lo <= d && d <= lx_classes[c].direct_hi,
              "direct entry %u not in class %u's range", d, c);
    }
    /* Above LX_DIRECT_MAX every class has one entry of its own, after those. */
    CHECK(size_to_class(LX_DIRECT_MAX) + 1 == LX_DIRECT_FIRST_MEDIUM,
          "LX_DIRECT_FIRST_MEDIUM is %u, the first class above LX_DIRECT_MAX %u",
          LX_DIRECT_FIRST_MEDIUM, size_to_class(LX_DIRECT_MAX) + 1);
    bool used[LX_DIRECT_COUNT] = {false};
    for (unsigned c = 0; c < LX_CLASS_COUNT; c++) {
        CHECK(lx_classes[c].direct_lo <= lx_classes[c].direct_hi &&
                  lx_classes[c].direct_hi < LX_DIRECT_COUNT,
              "class %u has no direct entries", c);
        for (unsigned d = lx_classes[c].direct_lo; d <= lx_classes[c].direct_hi; d++) {
            CHECK(!used[d], "direct entry %u serves two classes", d);
            used[d] = true;
        }
    }
    for (unsigned d = 0; d < LX_DIRECT_COUNT; d++)
        CHECK(used[d], "direct entry %u serves no class", d);
    printf("sizeclass: %d classes checked\n", LX_CLASS_COUNT);
    return 0;
}
