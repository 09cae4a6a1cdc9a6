/* Unit test of realloc on small blocks (up to 32 KiB), the case realloc's fast
 * path serves: a block of the calling thread's own slab, resized to another
 * small size, keeps its contents up to the smaller of the two sizes; a block
 * made smaller stays where it is unless the new size fits a block half as big;
 * size 0 frees; a size no block can have fails with ENOMEM and leaves the block
 * as it was. Blocks of another thread, blocks resized across the small limit
 * (both ways), and a long random walk of resizes keep their contents and the
 * heap consistent (lx_heap_check). */
#include "lxt.h"

#include <errno.h>
#include <pthread.h>

#define SLOTS 1500
#define SMALL_MAX ((size_t)32768)

/* Byte i of a block of slot s at generation g. */
static uint8_t pattern(size_t s, unsigned g, size_t i)
{
    return (uint8_t)(s * 31 + g * 7 + i * 13 + (i >> 8));
}

static void fill(uint8_t *p, size_t n, size_t s, unsigned g)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(s, g, i);
}

/* The first n bytes hold the pattern of (s, g); else the first byte that does not. */
static size_t first_wrong(const uint8_t *p, size_t n, size_t s, unsigned g)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(s, g, i))
            return i;
    return n;
}

static void shrink_rule(void)
{
    uint8_t *p = lx_malloc(1000);
    CHECK(p != NULL, "malloc 1000");
    size_t usable = lx_malloc_usable_size(p);
    CHECK(usable >= 1000 && usable < 2048, "1000-byte block has %zu usable", usable);
    fill(p, 1000, 1, 1);
    /* More than half of the block: it stays. */
    uint8_t *q = lx_realloc(p, usable / 2 + 1);
    CHECK(q == p, "shrink to just over half moved the block (%p -> %p)", (void *)p, (void *)q);
    CHECK(lx_malloc_usable_size(q) == usable, "a block that stayed changed its size");
    /* Growing within the block: it stays too. */
    q = lx_realloc(p, usable);
    CHECK(q == p, "growing within the usable size moved the block");
    /* Half or less: it moves into a smaller block, contents kept. */
    q = lx_realloc(p, usable / 2);
    CHECK(q != NULL && q != p, "shrink to half stayed in place");
    CHECK(lx_malloc_usable_size(q) < usable, "the moved block is not smaller: %zu",
          lx_malloc_usable_size(q));
    CHECK(first_wrong(q, usable / 2, 1, 1) == usable / 2, "shrink lost byte %zu",
          first_wrong(q, usable / 2, 1, 1));
    /* The smallest blocks never move when made smaller. */
    uint8_t *t = lx_malloc(48);
    CHECK(t != NULL && lx_realloc(t, 1) == t, "a 48-byte block moved when shrunk to 1 byte");
    lx_free(t);
    /* Size 0 frees (and returns NULL); the heap stays consistent. */
    CHECK(lx_realloc(q, 0) == NULL, "realloc(p, 0) returned a block");
    CHECK(lx_heap_check() == 0, "heap inconsistent after realloc(p, 0)");
}

static void impossible_sizes(void)
{
    uint8_t *p = lx_malloc(200);
    CHECK(p != NULL, "malloc 200");
    fill(p, 200, 2, 1);
    size_t sizes[] = {SIZE_MAX, SIZE_MAX - 4096, (size_t)PTRDIFF_MAX + 1};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        errno = 0;
        void *q = lx_realloc(p, sizes[k]);
        CHECK(q == NULL && errno == ENOMEM, "realloc to %zu: %p, errno %d", sizes[k], q, errno);
        CHECK(first_wrong(p, 200, 2, 1) == 200, "a failed realloc changed byte %zu",
              first_wrong(p, 200, 2, 1));
    }
    lx_free(p);
}

/* Across the small limit: small -> large -> small, contents kept each way. */
static void across_limit(void)
{
    size_t from[] = {16, 500, 4000, SMALL_MAX};
    size_t to[] = {SMALL_MAX + 1, 100000, 300000};
    for (size_t a = 0; a < sizeof from / sizeof from[0]; a++)
        for (size_t b = 0; b < sizeof to / sizeof to[0]; b++) {
            uint8_t *p = lx_malloc(from[a]);
            CHECK(p != NULL, "malloc %zu", from[a]);
            fill(p, from[a], a, (unsigned)b);
            p = lx_realloc(p, to[b]);
            CHECK(p != NULL, "realloc %zu -> %zu", from[a], to[b]);
            CHECK(first_wrong(p, from[a], a, (unsigned)b) == from[a], "%zu -> %zu lost byte %zu",
                  from[a], to[b], first_wrong(p, from[a], a, (unsigned)b));
            fill(p, to[b], a, (unsigned)b + 1);
            p = lx_realloc(p, from[a]);
            CHECK(p != NULL, "realloc %zu -> %zu", to[b], from[a]);
            CHECK(first_wrong(p, from[a], a, (unsigned)b + 1) == from[a],
                  "%zu -> %zu lost byte %zu", to[b], from[a],
                  first_wrong(p, from[a], a, (unsigned)b + 1));
            lx_free(p);
        }
    CHECK(lx_heap_check() == 0, "heap inconsistent after resizes across the small limit");
}

struct slot {
    uint8_t *p;
    size_t size;
    unsigned gen;
};

static struct slot slots[SLOTS];

/* Random resizes among small sizes, now and then a large one; every resize
 * checks the bytes kept and writes a new pattern. */
static void random_walk(uint64_t seed, unsigned steps)
{
    lxt_rng r = {seed};
    for (unsigned k = 0; k < steps; k++) {
        size_t s = (size_t)(lxt_next(&r) % SLOTS);
        struct slot *sl = &slots[s];
        uint64_t pick = lxt_next(&r) % 100;
        size_t size = pick < 60 ? lxt_range(&r, 1, 512)
                      : pick < 95 ? lxt_range(&r, 513, 8192)
                      : pick < 99 ? lxt_range(&r, 8193, SMALL_MAX)
                                  : lxt_range(&r, SMALL_MAX + 1, 3 * SMALL_MAX);
        uint8_t *q = lx_realloc(sl->p, size);
        CHECK(q != NULL, "realloc of slot %zu to %zu failed", s, size);
        size_t kept = sl->size < size ? sl->size : size;
        size_t bad = first_wrong(q, kept, s, sl->gen);
        CHECK(bad == kept, "step %u: slot %zu, %zu -> %zu bytes: byte %zu changed", k, s,
              sl->size, size, bad);
        CHECK(lx_malloc_usable_size(q) >= size, "step %u: %zu usable for %zu", k,
              lx_malloc_usable_size(q), size);
        sl->p = q;
        sl->size = size;
        sl->gen++;
        fill(q, size, s, sl->gen);
    }
}

/* Another thread resizes (and finally frees) what this one allocated. */
static void *resize_all(void *arg)
{
    (void)arg;
    for (size_t s = 0; s < SLOTS; s++) {
        struct slot *sl = &slots[s];
        size_t size = sl->size < 2000 ? sl->size * 2 + 1 : sl->size / 3 + 1;
        uint8_t *q = lx_realloc(sl->p, size);
        CHECK(q != NULL, "other thread: realloc of slot %zu failed", s);
        size_t kept = sl->size < size ? sl->size : size;
        CHECK(first_wrong(q, kept, s, sl->gen) == kept, "other thread: slot %zu changed", s);
        sl->p = q;
        sl->size = size;
        sl->gen++;
        fill(q, size, s, sl->gen);
    }
    random_walk(7, lxt_quick() ? 5000 : 50000);
    return NULL;
}

int main(void)
{
    shrink_rule();
    impossible_sizes();
    across_limit();

    for (size_t s = 0; s < SLOTS; s++) {
        slots[s].p = lx_realloc(NULL, 24); /* realloc(NULL, n) is malloc */
        CHECK(slots[s].p != NULL, "realloc(NULL, 24)");
        slots[s].size = 24;
        fill(slots[s].p, 24, s, 0);
    }
    random_walk(1, lxt_quick() ? 20000 : 300000);
    CHECK(lx_heap_check() == 0, "heap inconsistent after the random walk");

    pthread_t t;
    CHECK(pthread_create(&t, NULL, resize_all, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    /* Back here, the blocks are the other thread's: resize them once more. */
    random_walk(3, lxt_quick() ? 5000 : 50000);
    CHECK(lx_heap_check() == 0, "heap inconsistent after resizes by two threads");

    for (size_t s = 0; s < SLOTS; s++)
        CHECK(lx_realloc(slots[s].p, 0) == NULL, "realloc(p, 0) of slot %zu", s);
    CHECK(lx_heap_check() == 0, "heap inconsistent after freeing everything");
    return 0;
}
