/* SPDX-License-Identifier: MIT */
/*
 * os.c — the only layer that makes system calls: mappings, futexes, time,
 * randomness, and writing diagnostics. Layer: bottom; depends on nothing else.
 * Nothing here allocates or takes a lock; the counters are relaxed atomics.
 * Test builds with LX_FAULT_INJECT make chosen mapping calls fail on purpose, to
 * prove that every layer above turns a refusal into NULL + ENOMEM.
 */
#include "os.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct os_counters lx_os_counters;

static void os_count_mapped(size_t size, int sign)
{
    if (sign > 0) {
        uint64_t now = atomic_fetch_add_explicit(&lx_os_counters.mapped_bytes, size,
                                                 memory_order_relaxed) + size;
        uint64_t peak = atomic_load_explicit(&lx_os_counters.peak_mapped_bytes,
                                             memory_order_relaxed);
        while (now > peak &&
               !atomic_compare_exchange_weak_explicit(&lx_os_counters.peak_mapped_bytes, &peak,
                                                      now, memory_order_relaxed,
                                                      memory_order_relaxed)) {
        }
    } else {
        atomic_fetch_sub_explicit(&lx_os_counters.mapped_bytes, size, memory_order_relaxed);
    }
}

#if LX_FAULT_INJECT
static _Atomic uint64_t os_fault_count; /* mapping calls since os_fault_set */
static _Atomic uint64_t os_fault_at;    /* the call that fails; 0: none */
static _Atomic bool os_fault_sticky;    /* calls after it fail too */

void os_fault_set(uint64_t nth, bool persistent)
{
    atomic_store(&os_fault_at, 0);
    atomic_store(&os_fault_count, 0);
    atomic_store(&os_fault_sticky, persistent);
    atomic_store(&os_fault_at, nth);
}

uint64_t os_fault_calls(void)
{
    return atomic_load(&os_fault_count);
}

/* Counts a mapping call; true if it is one chosen to fail. */
static bool os_fault_now(void)
{
    uint64_t n = atomic_fetch_add(&os_fault_count, 1) + 1;
    uint64_t at = atomic_load(&os_fault_at);
    return at != 0 && (n == at || (n > at && atomic_load(&os_fault_sticky)));
}
#else
LX_INLINE bool os_fault_now(void)
{
    return false;
}
#endif /* LX_FAULT_INJECT */

static void *os_map_raw(size_t size)
{
    int saved = errno;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    atomic_fetch_add_explicit(&lx_os_counters.mmap_count, 1, memory_order_relaxed);
    errno = saved;
    if (p == MAP_FAILED)
        return NULL;
    os_count_mapped(size, 1);
    return p;
}

void *os_map(size_t size)
{
    if (os_fault_now())
        return NULL;
    return os_map_raw(size);
}

bool os_unmap(void *addr, size_t size)
{
    int saved = errno;
    int rc = munmap(addr, size);
    atomic_fetch_add_explicit(&lx_os_counters.munmap_count, 1, memory_order_relaxed);
    errno = saved;
    if (rc != 0)
        return false;
    os_count_mapped(size, -1);
    return true;
}

/* First ask for exactly `size` bytes: the kernel places a new mapping right
 * below the lowest one, and when that is the last segment mapped (aligned) so
 * is the new one, with one system call. Else reserve `size + alignment` bytes
 * with PROT_NONE (no commit charge, even under strict overcommit), cut the
 * misaligned ends off, then make the aligned middle read-write: three or four
 * more calls. Reserving the padded span every time left `alignment` bytes
 * unmapped beside each segment, which no later reservation fitted: segments lay
 * 8 MiB apart, their numbers every other one, and free()'s segment caches
 * (a slot per number modulo 64) used half their slots. frag's 40 segments made
 * 389,000 of its 6.7 million frees take the slow path; now 41
 * (tests/unit/map_aligned.c).
 * No MAP_NORESERVE, here or in os_map_at: writable memory is charged to the
 * commit limit, so the kernel's overcommit policy applies to it. Under the
 * default heuristic a request larger than RAM and swap together fails, and
 * malloc of such a size returns NULL with ENOMEM (tests/api/failure.c); with
 * MAP_NORESERVE it succeeded and the program died of the OOM killer later. */
void *os_map_aligned(size_t size, size_t alignment)
{
    if (size + alignment < size || os_fault_now())
        return NULL;
    int saved = errno;
    uint8_t *exact = mmap(NULL, size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    atomic_fetch_add_explicit(&lx_os_counters.mmap_count, 1, memory_order_relaxed);
    if (exact != MAP_FAILED && ((uintptr_t)exact & (alignment - 1)) == 0) {
        errno = saved;
        os_count_mapped(size, 1);
        return exact;
    }
    if (exact != MAP_FAILED) {
        munmap(exact, size);
        atomic_fetch_add_explicit(&lx_os_counters.munmap_count, 1, memory_order_relaxed);
    }
    size_t span = size + alignment;
    uint8_t *raw = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    atomic_fetch_add_explicit(&lx_os_counters.mmap_count, 1, memory_order_relaxed);
    if (raw == MAP_FAILED) {
        errno = saved;
        return NULL;
    }
    uintptr_t base = ((uintptr_t)raw + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t head = base - (uintptr_t)raw;
    size_t tail = span - head - size;
    if (head > 0)
        munmap(raw, head);
    if (tail > 0)
        munmap((uint8_t *)base + size, tail);
    if (mprotect((void *)base, size, PROT_READ | PROT_WRITE) != 0) {
        munmap((void *)base, size);
        errno = saved;
        return NULL;
    }
    errno = saved;
    os_count_mapped(size, 1);
    return (void *)base;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

void *os_map_at(void *addr, size_t size)
{
    if (os_fault_now())
        return NULL;
    int saved = errno;
    void *p = mmap(addr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    atomic_fetch_add_explicit(&lx_os_counters.mmap_count, 1, memory_order_relaxed);
    errno = saved;
    if (p == MAP_FAILED)
        return NULL;
    if (p != addr) { /* a kernel older than the flag took the address as a hint */
        munmap(p, size);
        atomic_fetch_add_explicit(&lx_os_counters.munmap_count, 1, memory_order_relaxed);
        errno = saved;
        return NULL;
    }
    os_count_mapped(size, 1);
    return p;
}

void *os_brk_alloc_aligned(size_t size, size_t alignment)
{
    int saved = errno;
    uint8_t *cur = sbrk(0);
    if (cur == (void *)-1) {
        errno = saved;
        return NULL;
    }
    uintptr_t base = ((uintptr_t)cur + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t incr = base - (uintptr_t)cur + size;
    uint8_t *old = sbrk((intptr_t)incr);
    errno = saved;
    if (old == (void *)-1)
        return NULL;
    if (old != cur) {
        /* Someone else moved the break in between; take what we got if it fits. */
        base = ((uintptr_t)old + alignment - 1) & ~(uintptr_t)(alignment - 1);
        if (base + size > (uintptr_t)old + incr) {
            if (sbrk(0) == old + incr)
                (void)sbrk(-(intptr_t)incr);
            errno = saved;
            return NULL;
        }
    }
    os_count_mapped(size, 1);
    return (void *)base;
}

bool os_brk_release(void *addr, size_t size)
{
    int saved = errno;
    bool done = false;
    if (sbrk(0) == (uint8_t *)addr + size)
        done = sbrk(-(intptr_t)size) != (void *)-1;
    errno = saved;
    if (done)
        os_count_mapped(size, -1);
    return done;
}

void os_advise_hugepages(void *addr, size_t size, bool enable)
{
    int saved = errno;
    (void)madvise(addr, size, enable ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    errno = saved;
}

bool os_remap_inplace(void *addr, size_t old_size, size_t new_size)
{
    if (os_fault_now())
        return false;
    int saved = errno;
    void *p = mremap(addr, old_size, new_size, 0);
    atomic_fetch_add_explicit(&lx_os_counters.mremap_count, 1, memory_order_relaxed);
    errno = saved;
    if (p == MAP_FAILED)
        return false;
    if (new_size > old_size)
        os_count_mapped(new_size - old_size, 1);
    else
        os_count_mapped(old_size - new_size, -1);
    return true;
}

void *os_remap_to(void *addr, size_t old_size, size_t new_size, void *to)
{
    if (os_fault_now())
        return NULL;
    int saved = errno;
    void *p = mremap(addr, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    atomic_fetch_add_explicit(&lx_os_counters.mremap_count, 1, memory_order_relaxed);
    errno = saved;
    if (p == MAP_FAILED)
        return NULL;
    /* The target range was already counted as mapped by the caller's reservation;
     * the moved-from range is gone. */
    os_count_mapped(old_size, -1);
    return p;
}

bool os_discard(void *addr, size_t size)
{
    if (os_fault_now())
        return false;
    int saved = errno;
    int rc = madvise(addr, size, MADV_DONTNEED);
    atomic_fetch_add_explicit(&lx_os_counters.madvise_count, 1, memory_order_relaxed);
    errno = saved;
    return rc == 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static _Atomic bool os_populate_ok = true; /* MADV_POPULATE_WRITE not refused yet */

void os_populate(void *addr, size_t size)
{
    if (!atomic_load_explicit(&os_populate_ok, memory_order_relaxed))
        return;
    int saved = errno;
    atomic_fetch_add_explicit(&lx_os_counters.populate_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&lx_os_counters.populate_bytes, size, memory_order_relaxed);
    if (madvise(addr, size, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
        atomic_store_explicit(&os_populate_ok, false, memory_order_relaxed);
    errno = saved;
}

#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#define LX_PIDFD_SELF_THREAD (-10000) /* <linux/pidfd.h>, Linux 6.15 */

static _Atomic bool os_batch_ok = true; /* process_madvise not refused yet */

void os_discard_batching(bool enable)
{
    atomic_store_explicit(&os_batch_ok, enable, memory_order_relaxed);
}

void os_discard_queue(struct os_discard_batch *b, void *addr, size_t size)
{
    if (b->count != 0) {
        struct iovec *last = &b->range[b->count - 1];
        if ((char *)last->iov_base + last->iov_len == (char *)addr) {
            last->iov_len += size;
            return;
        }
        if (b->count == LX_DISCARD_BATCH)
            os_discard_flush(b);
    }
    b->range[b->count].iov_base = addr;
    b->range[b->count].iov_len = size;
    b->count++;
}

void os_discard_flush(struct os_discard_batch *b)
{
    unsigned n = b->count;
    b->count = 0;
    if (n == 0 || os_fault_now())
        return;
    int saved = errno;
    unsigned done = 0;
    if (n > 1 && atomic_load_explicit(&os_batch_ok, memory_order_relaxed)) {
        long rc = syscall(SYS_process_madvise, LX_PIDFD_SELF_THREAD, b->range, (size_t)n,
                          MADV_DONTNEED, 0u);
        atomic_fetch_add_explicit(&lx_os_counters.madvise_count, 1, memory_order_relaxed);
        if (rc >= 0) {
            /* Ranges are done in order: skip the ones done, trim a half-done one. */
            size_t left = (size_t)rc;
            while (done < n && b->range[done].iov_len <= left)
                left -= b->range[done++].iov_len;
            if (done < n) {
                b->range[done].iov_base = (char *)b->range[done].iov_base + left;
                b->range[done].iov_len -= left;
            }
        } else if (errno == ENOSYS || errno == EINVAL || errno == EBADF || errno == EPERM) {
            /* An older kernel, or a sandbox that forbids the call. */
            atomic_store_explicit(&os_batch_ok, false, memory_order_relaxed);
        }
    }
    for (; done < n; done++) {
        (void)madvise(b->range[done].iov_base, b->range[done].iov_len, MADV_DONTNEED);
        atomic_fetch_add_explicit(&lx_os_counters.madvise_count, 1, memory_order_relaxed);
    }
    errno = saved;
}

int os_lock_memory(void *addr, size_t size)
{
    int saved = errno;
    int rc = mlock(addr, size) == 0 ? 0 : errno;
    errno = saved;
    if (rc == EAGAIN) /* "some of the range could not be locked": out of lockable memory */
        rc = ENOMEM;
    return rc;
}

void os_unlock_memory(void *addr, size_t size)
{
    int saved = errno;
    (void)munlock(addr, size);
    errno = saved;
}

bool os_protect(void *addr, size_t size, bool accessible)
{
    int saved = errno;
    int rc = mprotect(addr, size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE);
    errno = saved;
    return rc == 0;
}

void os_dontdump(void *addr, size_t size)
{
    int saved = errno;
    (void)madvise(addr, size, MADV_DONTDUMP);
    errno = saved;
}

void os_write_all(int fd, const char *buf, size_t len)
{
    int saved = errno;
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        buf += n;
        len -= (size_t)n;
    }
    errno = saved;
}

int os_open_append(const char *path)
{
    int saved = errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    errno = saved;
    return fd;
}

int os_open_write(const char *path)
{
    int saved = errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    errno = saved;
    return fd;
}

int os_open_read(const char *path)
{
    int saved = errno;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    errno = saved;
    return fd;
}

long os_read(int fd, void *buf, size_t len)
{
    int saved = errno;
    ssize_t n;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    errno = saved;
    return (long)n;
}

bool os_rename(const char *from, const char *to)
{
    int saved = errno;
    bool ok = rename(from, to) == 0;
    errno = saved;
    return ok;
}

bool os_signal_handler(int sig, void (*handler)(int))
{
    int saved = errno;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    bool ok = sigaction(sig, &sa, NULL) == 0;
    errno = saved;
    return ok;
}

void os_close(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

void os_abort(void)
{
    /* abort() may run atexit-like handlers in some libcs and flush stdio; raise
     * SIGABRT ourselves first, then fall back on abort and _exit. */
    raise(SIGABRT);
    abort();
}

bool os_is_secure(void)
{
    return getauxval(AT_SECURE) != 0;
}

int os_getpid(void)
{
    return (int)syscall(SYS_getpid);
}

long os_maxrss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_maxrss;
}

/* CPUs this process may run on (not the machine's count: containers). */
unsigned os_cpu_count(void)
{
    /* Counted here: CPU_COUNT calls into a part of libc's code that a small
     * program would otherwise not map (docs/ARCHITECTURE.md, "Footprint"). */
    unsigned long set[1024 / (8 * sizeof(unsigned long))] = {0};
    long got = syscall(SYS_sched_getaffinity, 0, sizeof(set), set);
    if (got <= 0)
        return 1;
    unsigned n = 0;
    for (size_t i = 0; i < (size_t)got / sizeof set[0]; i++)
        n += (unsigned)__builtin_popcountl(set[i]);
    return n > 0 ? n : 1;
}

size_t os_page_size(void)
{
    unsigned long sz = getauxval(AT_PAGESZ);
    return sz ? (size_t)sz : 4096;
}

void os_random(void *buf, size_t len)
{
    int saved = errno;
    uint8_t *out = buf;
    size_t got = 0;
    while (got < len) {
        long n = syscall(SYS_getrandom, out + got, len - got, GRND_NONBLOCK);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    errno = saved;
    if (got < len) {
        /* No getrandom: mix the kernel's AT_RANDOM bytes with the clock. */
        const uint8_t *at = (const uint8_t *)getauxval(AT_RANDOM);
        uint64_t t = os_now_ns();
        for (size_t i = got; i < len; i++) {
            uint8_t v = (uint8_t)(t >> ((i % 8) * 8));
            out[i] = at ? (uint8_t)(at[i % 16] ^ v) : v;
        }
    }
}

/*
 * The clock, from the kernel's vDSO directly: libc's clock_gettime is a thin
 * wrapper around the same function, but it lies in a part of libc's code that
 * a small program maps for nothing else (docs/ARCHITECTURE.md, "Footprint").
 * The vDSO is a whole ELF image in memory: its dynamic symbol table is found
 * through its section headers. Without one (valgrind hides it), the system call.
 */
typedef int (*os_gettime_fn)(clockid_t, struct timespec *);

static bool os_name_is(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static os_gettime_fn os_vdso_gettime(void)
{
    const uint8_t *base = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
    if (base == NULL)
        return NULL;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)base;
    if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
        eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shoff == 0 ||
        eh->e_shentsize != sizeof(Elf64_Shdr))
        return NULL;
    /* Symbol values are link-time addresses: the bias is where the first
     * loadable segment is against where it was linked. */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(const void *)(base + eh->e_phoff);
    uintptr_t bias = 0;
    bool loaded = false;
    for (unsigned i = 0; i < eh->e_phnum && !loaded; i++) {
        if (ph[i].p_type == PT_LOAD) {
            bias = (uintptr_t)base + ph[i].p_offset - ph[i].p_vaddr;
            loaded = true;
        }
    }
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(const void *)(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum && loaded; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
            sh[i].sh_entsize != sizeof(Elf64_Sym))
            continue;
        const Elf64_Sym *sym = (const Elf64_Sym *)(const void *)(base + sh[i].sh_offset);
        const char *names = (const char *)(base + sh[sh[i].sh_link].sh_offset);
        size_t count = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < count; k++) {
            if (ELF64_ST_TYPE(sym[k].st_info) == STT_FUNC && sym[k].st_shndx != SHN_UNDEF &&
                sym[k].st_name < sh[sh[i].sh_link].sh_size &&
                os_name_is(names + sym[k].st_name, "__vdso_clock_gettime"))
                return (os_gettime_fn)(bias + sym[k].st_value);
        }
    }
    return NULL;
}

static int os_syscall_gettime(clockid_t clock, struct timespec *ts)
{
    return (int)syscall(SYS_clock_gettime, clock, ts);
}

static _Atomic(os_gettime_fn) os_gettime; /* found at the first call */

static int os_clock(clockid_t clock, struct timespec *ts)
{
    os_gettime_fn fn = atomic_load_explicit(&os_gettime, memory_order_relaxed);
    if (LX_UNLIKELY(fn == NULL)) {
        fn = os_vdso_gettime();
        if (fn == NULL)
            fn = os_syscall_gettime;
        atomic_store_explicit(&os_gettime, fn, memory_order_relaxed);
    }
    return fn(clock, ts);
}

uint64_t os_now_ns(void)
{
    struct timespec ts;
    if (os_clock(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t os_now_coarse_ns(void)
{
    struct timespec ts;
    if (os_clock(CLOCK_MONOTONIC_COARSE, &ts) != 0)
        return os_now_ns();
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long os_read_file(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    int saved = errno;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    errno = saved;
    return (long)len;
}

bool os_getcwd(char *buf, size_t cap)
{
    int saved = errno;
    bool ok = getcwd(buf, cap) != NULL;
    errno = saved;
    return ok;
}

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static _Atomic bool os_vma_names_off; /* the kernel refused once: do not ask again */

void os_name_mapping(void *addr, size_t size, const char *name)
{
    if (atomic_load_explicit(&os_vma_names_off, memory_order_relaxed))
        return;
    int saved = errno;
    /* The raw call: libc's prctl lies in a part of its code few programs map. */
    if (syscall(SYS_prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)addr, (unsigned long)size,
                (unsigned long)name) != 0)
        atomic_store_explicit(&os_vma_names_off, true, memory_order_relaxed);
    errno = saved;
}

void os_futex_wait(_Atomic int *addr, int expected)
{
    int saved = errno;
    syscall(SYS_futex, (uintptr_t)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
    errno = saved;
}

void os_futex_wake(_Atomic int *addr, int count)
{
    int saved = errno;
    syscall(SYS_futex, (uintptr_t)addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
    errno = saved;
}

void os_yield(void)
{
    sched_yield();
}
