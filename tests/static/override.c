/*
 * Static linking: this program is linked with liblxmalloc.a and calls the standard
 * functions. malloc must be lxmalloc's (lx_malloc_usable_size agrees with
 * malloc_usable_size, lx_stats_get counts the calls), and so must the C library's
 * own internal allocations (strdup, fopen, qsort scratch, getline buffers), which
 * must be freeable with free.
 */
#include "lxt.h"

static unsigned long long allocs(void)
{
    lx_stats_t st;
    CHECK(lx_stats_get(&st) == 0, "lx_stats_get failed");
    return st.malloc_count;
}

int main(void)
{
    const size_t sizes[] = {0, 1, 16, 100, 1000, 4096, 50000, 300000, 5 * LXT_MIB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = malloc(n);
        CHECK(p != NULL, "malloc(%zu) returned NULL", n);
        size_t u = malloc_usable_size(p), lu = lx_malloc_usable_size(p);
        CHECK(u == lu, "malloc_usable_size(malloc(%zu)) = %zu but lx_malloc_usable_size = %zu", n,
              u, lu);
        CHECK(lu >= n, "lx_malloc_usable_size(malloc(%zu)) = %zu", n, lu);
        memset(p, 1, lu);
        free(p);
        /* Blocks cross over between the two names. */
        p = lx_malloc(n);
        CHECK(p != NULL, "lx_malloc(%zu) returned NULL", n);
        CHECK(malloc_usable_size(p) == lx_malloc_usable_size(p),
              "malloc_usable_size disagrees with lx_malloc_usable_size on lx_malloc(%zu)", n);
        p = realloc(p, n + 10);
        CHECK(p != NULL, "realloc of an lx_malloc block returned NULL");
        free(p);
    }

    unsigned long long before = allocs();
    void *v[100];
    for (int i = 0; i < 100; i++) {
        v[i] = malloc(64);
        CHECK(v[i] != NULL, "malloc(64) returned NULL");
        lxt_escape(v[i]);
    }
    unsigned long long after = allocs();
    CHECK(after >= before + 100, "100 mallocs moved lx_stats malloc_count from %llu to %llu",
          before, after);
    for (int i = 0; i < 100; i++)
        free(v[i]);

    /* The C library's internal allocations come from lxmalloc too. */
    before = allocs();
    char *s[100];
    for (int i = 0; i < 100; i++) {
        s[i] = strdup("a string duplicated by the C library");
        CHECK(s[i] != NULL, "strdup returned NULL");
        CHECK(lx_malloc_usable_size(s[i]) >= 37, "lx_malloc_usable_size(strdup(..)) = %zu",
              lx_malloc_usable_size(s[i]));
    }
    after = allocs();
    CHECK(after >= before + 100, "100 strdup calls moved lx_stats malloc_count from %llu to %llu "
          "(libc's internal malloc is not lxmalloc)", before, after);
    for (int i = 0; i < 100; i++)
        free(s[i]);

    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL, "fopen failed: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lines = 0;
    while (getline(&line, &cap, f) > 0)
        lines++;
    CHECK(lines > 0 && line != NULL, "getline read nothing");
    CHECK(lx_malloc_usable_size(line) >= cap, "getline buffer: usable %zu < capacity %zu",
          lx_malloc_usable_size(line), cap);
    free(line);
    fclose(f);
    return 0;
}
