/* SPDX-License-Identifier: MIT */
/*
 * cache.c — an object cache of constructed connection objects.
 *
 * Build from the top of the repository after `make`:
 *   cc -Iinclude examples/cache.c build/liblxmalloc_api.a -lpthread -o cache
 *
 * The constructor runs once per object, when the object is first made; a freed
 * object keeps its state (here a buffer it owns), so the next allocation gets it
 * back ready to use. The destructor runs when the cache gives a slab back.
 */
#include <lxmalloc.h>

#include <stdio.h>

struct conn {
    char *buffer; /* owned; made once by the constructor */
    int fd;
    unsigned requests;
};

static unsigned built, destroyed;

static void conn_ctor(void *p)
{
    struct conn *c = p;
    c->buffer = lx_malloc(4096);
    c->fd = -1;
    c->requests = 0;
    built++;
}

static void conn_dtor(void *p)
{
    struct conn *c = p;
    lx_free(c->buffer);
    destroyed++;
}

int main(void)
{
    lx_cache_t *conns = lx_cache_create("conn", sizeof(struct conn), 0, conn_ctor, conn_dtor);
    if (conns == NULL)
        return 1;
    struct conn *live[100];
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < 100; i++) {
            live[i] = lx_cache_alloc(conns);
            if (live[i] == NULL || live[i]->buffer == NULL)
                return 1;
            live[i]->fd = i;
            live[i]->requests++;
        }
        for (int i = 0; i < 100; i++) {
            live[i]->fd = -1; /* back to the constructed state */
            lx_cache_free(conns, live[i]);
        }
    }
    lx_cache_stats_t st;
    lx_cache_stats_get(conns, &st);
    printf("cache %s: %llu allocations, %u objects constructed, %llu slabs\n", st.name,
           st.alloc_count, built, st.slabs);
    lx_malloc_stats(); /* the table ends with a line per cache */
    lx_cache_shrink(conns);
    lx_cache_destroy(conns);
    printf("destructors run: %u of %u\n", destroyed, built);
    return built < 1000 && destroyed == built ? 0 : 1;
}
