/* Unit test of secure memory: blocks of many sizes are usable to their last
 * byte, 16-byte aligned, end right before a guard page; a write past the
 * rounded end faults and so does one before the mapping's start (forked
 * children, SIGSEGV); a small overflow into the canary is reported on free and
 * aborts; lx_secure_free of a malloc block is reported, a second free faults; the
 * RLIMIT_MEMLOCK limit gives NULL + ENOMEM (EPERM at 0), never a crash, and
 * allocation works again after frees (in a child that runs unprivileged). */
#include <sys/resource.h>

#include "lxt.h"
#include "lxt_child.h"

static void overflow_guard(void *arg)
{
    (void)arg;
    volatile char *p = lx_secure_malloc(32);
    p[32] = 1; /* the first byte of the trailing guard page */
}
static void underflow_guard(void *arg)
{
    (void)arg;
    volatile char *p = lx_secure_malloc(4000);
    p[-4097] = 1; /* before the data pages: the leading guard page */
}
static void overflow_canary(void *arg)
{
    (void)arg;
    char *p = lx_secure_malloc(20);
    p[20] = 'x'; /* within the rounding slack: caught by the canary */
    lx_secure_free(p);
}
static void not_secure(void *arg)
{
    (void)arg;
    lx_secure_free(lx_malloc(64));
}
static void free_twice(void *arg)
{
    (void)arg;
    void *p = lx_secure_malloc(64);
    lx_secure_free(p);
    lx_secure_free(p); /* its mapping is gone: the header read faults */
}

static void memlock_limit(void *arg)
{
    (void)arg;
    /* root ignores RLIMIT_MEMLOCK (CAP_IPC_LOCK): run as nobody */
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        _exit(77);
    struct rlimit rl = {64 * 1024, 64 * 1024};
    CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit: %s", strerror(errno));
    void *p[64];
    int n = 0;
    for (; n < 64; n++) {
        errno = 0;
        p[n] = lx_secure_malloc(3000);
        if (p[n] == NULL)
            break;
    }
    CHECK(n > 0 && n < 64, "%d blocks under a 64 KiB limit", n);
    CHECK(errno == ENOMEM, "errno %d at the limit, expected ENOMEM", errno);
    lx_secure_free(p[n - 1]);
    lx_secure_free(p[n - 2]);
    void *again = lx_secure_malloc(3000);
    CHECK(again != NULL, "no secure block after frees");
    lx_secure_free(again);
    for (int i = 0; i < n - 2; i++)
        lx_secure_free(p[i]);
    rl.rlim_cur = rl.rlim_max = 0;
    CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit 0");
    errno = 0;
    CHECK(lx_secure_malloc(16) == NULL && errno == EPERM, "errno %d at limit 0", errno);
    CHECK(lx_heap_check() == 0, "heap check (limit)");
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 32, 100, 4000, 4032, 4033, 4096, 10000, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = lx_secure_malloc(n);
        CHECK(p != NULL, "lx_secure_malloc(%zu): %s", n, strerror(errno));
        CHECK(((uintptr_t)p & 15) == 0, "alignment of %zu", n);
        size_t rounded = n == 0 ? 16 : (n + 15) & ~(size_t)15;
        CHECK((((uintptr_t)p + rounded) & 4095) == 0, "block of %zu does not end at a page", n);
        memset(p, 0xa5, n);
        lx_secure_free(p);
    }
    lx_secure_free(NULL);
    char *key = lx_secure_malloc(32);
    strcpy(key, "correct horse battery staple");
    CHECK(strcmp(key, "correct horse battery staple") == 0, "contents");
    lx_secure_free(key);
    CHECK(lx_heap_check() == 0, "heap check");

    lxt_expect_death(overflow_guard, NULL, SIGSEGV, NULL);
    lxt_expect_death(underflow_guard, NULL, SIGSEGV, NULL);
    lxt_expect_death(overflow_canary, NULL, SIGABRT, "canary overwritten");
    lxt_expect_death(not_secure, NULL, SIGABRT, "not a secure block");
    lxt_expect_death(free_twice, NULL, SIGSEGV, NULL);
    lxt_expect_death(memlock_limit, NULL, 0, NULL);
    printf("secure: ok\n");
    return 0;
}
