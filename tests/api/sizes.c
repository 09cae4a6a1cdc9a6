/*
 * Every request size from 0 to 65536, then powers of two minus one, exact and plus
 * one up to 64 MiB: malloc returns a 16-byte aligned block whose whole usable size
 * (>= the request) is writable and keeps its contents while 31 other recently
 * allocated blocks are live and written (each block is memset with its own byte and
 * sampled every 256 bytes and at both ends before it is freed). LXT_QUICK=1 (used under valgrind) samples
 * the 0..65536 range instead of walking every size and stops powers of two at
 * 16 MiB.
 */
#include "lxt.h"

#define RING 32

struct slot {
    unsigned char *p;
    size_t usable;
    uint64_t tag;
};

static void check_block(unsigned char *p, size_t n, const char *what)
{
    CHECK(p != NULL, "%s(%zu) returned NULL", what, n);
    CHECK(lxt_aligned(p, 16), "%s(%zu) returned %p, not 16-byte aligned", what, n, (void *)p);
    size_t u = T_malloc_usable_size(p);
    CHECK(u >= n, "malloc_usable_size(%s(%zu)) = %zu, expected >= %zu", what, n, u, n);
}

static unsigned char tag_byte(uint64_t tag) { return (unsigned char)(tag * 37 + 11); }

static void verify(const unsigned char *p, size_t u, uint64_t tag)
{
    unsigned char c = tag_byte(tag);
    for (size_t i = 0; i < u; i += (i < 64 || u - i <= 64) ? 1 : 256)
        CHECK(p[i] == c, "block %p (usable %zu) byte %zu is 0x%02x, expected 0x%02x",
              (const void *)p, u, i, p[i], c);
}

/* Keep the last RING blocks live; fill each over its usable size, verify on release. */
static void ring_put(struct slot *ring, size_t *pos, unsigned char *p, uint64_t tag)
{
    struct slot *s = &ring[*pos % RING];
    if (s->p != NULL) {
        verify(s->p, s->usable, s->tag);
        T_free(s->p);
    }
    s->p = p;
    s->usable = T_malloc_usable_size(p);
    s->tag = tag;
    memset(p, tag_byte(tag), s->usable);
    (*pos)++;
}

static void ring_drain(struct slot *ring)
{
    for (int i = 0; i < RING; i++) {
        if (ring[i].p != NULL) {
            verify(ring[i].p, ring[i].usable, ring[i].tag);
            T_free(ring[i].p);
            ring[i].p = NULL;
        }
    }
}

int main(void)
{
    lxt_require_lxmalloc();
    size_t step = lxt_quick() ? 127 : 1;

    static struct slot ring[RING];
    size_t pos = 0;
    for (size_t n = 0; n <= 65536; n += (n < 1024 ? 1 : step)) {
        unsigned char *p = T_malloc(n);
        check_block(p, n, "malloc");
        ring_put(ring, &pos, p, n);
    }
    ring_drain(ring);
    lxt_heap_check("after the upward size sweep");

    /* Same sweep downwards, so blocks of every size class get freed and reused. */
    for (size_t n = 65536 + 1; n-- > 0;) {
        if (n >= 1024 && step > 1 && n % step != 0)
            continue;
        unsigned char *p = T_malloc(n);
        check_block(p, n, "malloc");
        ring_put(ring, &pos, p, n + 7777777);
    }
    ring_drain(ring);

    int kmax = lxt_quick() ? 24 : 26;
    for (int k = 0; k <= kmax; k++) {
        size_t base = (size_t)1 << k;
        for (int d = -1; d <= 1; d++) {
            size_t n = base + (size_t)d;
            unsigned char *p = T_malloc(n);
            check_block(p, n, "malloc");
            size_t u = T_malloc_usable_size(p);
            lxt_fill(p, u, n);
            /* Allocate a neighbour and write it, then verify the first block. */
            unsigned char *r = T_malloc(n);
            check_block(r, n, "malloc");
            memset(r, 0xEE, T_malloc_usable_size(r));
            CHECK_PATTERN(p, u, n, "power-of-two block");
            T_free(r);
            T_free(p);
        }
    }
    lxt_heap_check("after the power-of-two sizes");
    return 0;
}
