/* SPDX-License-Identifier: MIT */
/*
 * maps.c — `lxmalloc maps [PID]`: a process's address space as a textbook draws
 * it (text, data, bss, heap, mappings, stacks), read from /proc/PID/smaps, with
 * lxmalloc's own segments and huge blocks picked out.
 *
 * How each mapping is named (the first rule that matches wins):
 *   - the kernel's names: [heap] (the brk heap), [stack] (the main thread's),
 *     [vdso], [vvar], [vsyscall];
 *   - lxmalloc's names, where the kernel has anonymous-mapping names (Linux 5.17
 *     with CONFIG_ANON_VMA_NAME): [anon:lxmalloc-segment], [anon:lxmalloc-huge];
 *   - a shared mapping (the 's' permission): shared, file-backed or not;
 *   - a file mapped by a loaded object (a file of which some mapping is
 *     executable: the program and its libraries): text if executable, data if
 *     writable, rodata otherwise; other files: file mmap;
 *   - without the kernel's names, lxmalloc's segments are found by their shape:
 *     every segment has one inaccessible guard page a few pages after its 4 MiB
 *     aligned start, below which the segment's metadata is read-write. A
 *     read-write anonymous mapping that starts in such a segment is a segment
 *     (neighbouring segments merge into one mapping in the kernel's list, and
 *     are shown as one row with their count);
 *   - bss: the read-write anonymous mapping right after a loaded object's data;
 *   - huge blocks: a read-write anonymous mapping on a 4 MiB boundary whose
 *     first bytes are a segment header (struct segment in src/types.h: a cookie,
 *     the address xor a per-process secret, then the kind, 2 for huge). The
 *     header is read through /proc/PID/mem, and the secret is learnt from a
 *     segment found by its shape; the header's map size also gathers the
 *     several kernel mappings that mremap can leave a grown block in. Where /proc/PID/mem cannot be read (another
 *     user's process), a process that has lxmalloc (liblxmalloc.so mapped or
 *     segments found) has its read-write anonymous mappings on a 4 MiB
 *     boundary taken for huge blocks, unless they are thread stacks: a guess,
 *     since the kernel puts large mappings on 2 MiB boundaries;
 *   - thread stack: a read-write anonymous mapping right above an inaccessible
 *     one (its guard), which is how glibc lays out the stacks of new threads;
 *     the kernel no longer reports where each thread's stack pointer is, so this
 *     is a heuristic;
 *   - other inaccessible mappings: guard up to 1 MiB, reserved above (address
 *     space held back, as glibc's arenas do);
 *   - anonymous mmap otherwise.
 */
#include "tool.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEG_SIZE ((uint64_t)4 << 20)   /* LX_SEGMENT_SIZE in src/config.h */
#define SEG_GUARD_MAX ((uint64_t)1 << 20) /* the guard lies within this of the start */
#define PAGE 4096u

enum kind {
    K_TEXT,
    K_RODATA,
    K_DATA,
    K_BSS,
    K_HEAP,
    K_SEGMENT,
    K_HUGE,
    K_ANON,
    K_FILE,
    K_SHARED,
    K_STACK,
    K_THREAD_STACK,
    K_GUARD,
    K_RESERVED,
    K_VDSO,
    K_VVAR,
    K_VSYSCALL,
    K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "text",          "rodata",         "data",         "bss",          "heap [brk]",
    "lxmalloc segment", "lxmalloc huge block", "anonymous mmap", "file mmap", "shared",
    "stack",         "thread stack",   "guard",        "reserved",     "vdso",
    "vvar",          "vsyscall",
};

struct region {
    uint64_t start, end;
    char perms[5];
    const char *path;          /* "" for an anonymous mapping; points into the text */
    uint64_t rss, swap, locked; /* bytes, from smaps */
    enum kind kind;
    unsigned segments;         /* K_SEGMENT rows: how many segments the row holds */
    bool continued;            /* K_HUGE: more of the block just before (mremap splits) */
};

struct maps {
    struct region *r;
    size_t count, cap;
    bool have_smaps;           /* false: read from /proc/PID/maps, no RSS figures */
};

static bool is_anon(const struct region *r)
{
    return r->path[0] == '\0' || strncmp(r->path, "[anon:", 6) == 0;
}

static bool perms_are(const struct region *r, const char *p)
{
    return strcmp(r->perms, p) == 0;
}

static uint64_t size_of(const struct region *r)
{
    return r->end - r->start;
}

/* "Rss:   123 kB" -> bytes, if the line starts with `name`. */
static bool field_kb(const char *line, const char *name, uint64_t *out)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0)
        return false;
    *out = strtoull(line + n, NULL, 10) * 1024u;
    return true;
}

/* Parses smaps (or maps) text, cutting it into lines in place. */
static bool parse_maps(char *text, struct maps *m)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned long long start, end;
        char perms[8];
        int used = 0;
        if (sscanf(line, "%llx-%llx %7s %*x %*s %*u%n", &start, &end, perms, &used) == 3 &&
            used > 0 && strlen(perms) == 4) {
            struct region *rs = tool_grow(m->r, &m->cap, m->count, sizeof *rs, 256);
            if (rs == NULL)
                return false;
            m->r = rs;
            struct region *r = &m->r[m->count++];
            memset(r, 0, sizeof *r);
            r->start = start;
            r->end = end;
            memcpy(r->perms, perms, 5);
            const char *p = line + used;
            while (*p == ' ' || *p == '\t')
                p++;
            r->path = p;
            continue;
        }
        if (m->count == 0)
            continue;
        struct region *r = &m->r[m->count - 1];
        uint64_t v;
        if (field_kb(line, "Rss:", &v))
            r->rss = v;
        else if (field_kb(line, "Swap:", &v))
            r->swap = v;
        else if (field_kb(line, "Locked:", &v))
            r->locked = v;
    }
    return true;
}

/* A loaded object: a file of which some private mapping is executable. */
static bool is_loaded_object(const struct maps *m, const char *path)
{
    if (path[0] != '/')
        return false;
    for (size_t i = 0; i < m->count; i++)
        if (m->r[i].perms[2] == 'x' && strcmp(m->r[i].path, path) == 0)
            return true;
    return false;
}

/* The 4 MiB chunk of lxmalloc segment `i` is in, by the guard-page shape. */
static bool segment_guard_at(const struct maps *m, size_t i)
{
    const struct region *g = &m->r[i];
    if (i == 0 || !is_anon(g) || !perms_are(g, "---p") || size_of(g) != PAGE)
        return false;
    uint64_t base = g->start & ~(SEG_SIZE - 1);
    const struct region *meta = &m->r[i - 1];
    return base < g->start && g->start - base <= SEG_GUARD_MAX && meta->end == g->start &&
           meta->start <= base && is_anon(meta) && perms_are(meta, "rw-p");
}

static bool chunk_is_segment(const uint64_t *chunks, size_t n, uint64_t addr)
{
    uint64_t base = addr & ~(SEG_SIZE - 1);
    for (size_t i = 0; i < n; i++)
        if (chunks[i] == base)
            return true;
    return false;
}

/* What the first bytes of an lxmalloc segment hold (struct segment, src/types.h). */
struct seg_header {
    uint64_t cookie;   /* address ^ the process's secret */
    uint32_t kind;     /* 1 normal segment, 2 huge block */
    uint32_t used_pages;
    uint64_t arena, next, prev;
    uint64_t huge_map_size; /* huge: bytes mapped from the start */
};

static bool read_header(int mem, uint64_t addr, struct seg_header *h)
{
    return mem >= 0 && pread(mem, h, sizeof *h, (off_t)addr) == (ssize_t)sizeof *h;
}

static void classify(struct maps *m, int mem)
{
    /* Chunks that hold a segment, by name or by shape. */
    uint64_t *chunks = calloc(m->count + 1, sizeof *chunks);
    size_t nchunks = 0;
    bool lx_present = false;
    for (size_t i = 0; i < m->count; i++) {
        const struct region *r = &m->r[i];
        if (strstr(r->path, "liblxmalloc") != NULL || strncmp(r->path, "[anon:lxmalloc-", 15) == 0)
            lx_present = true;
        if (chunks != NULL && segment_guard_at(m, i)) {
            chunks[nchunks++] = r->start & ~(SEG_SIZE - 1);
            lx_present = true;
        }
    }
    /* The secret, from the header of a segment found by its shape. */
    bool have_secret = false;
    uint64_t secret = 0;
    for (size_t i = 0; i < nchunks && !have_secret; i++) {
        struct seg_header h;
        if (read_header(mem, chunks[i], &h) && h.kind == 1) {
            secret = h.cookie ^ chunks[i];
            have_secret = true;
        }
    }
    uint64_t huge_end = 0; /* end of the huge block the last region belongs to */
    for (size_t i = 0; i < m->count; i++) {
        struct region *r = &m->r[i];
        const struct region *prev = i > 0 && m->r[i - 1].end == r->start ? &m->r[i - 1] : NULL;
        const char *p = r->path;
        bool anon = is_anon(r);
        if (prev != NULL && prev->kind == K_HUGE && r->start < huge_end && anon &&
            perms_are(r, "rw-p")) {
            /* A huge block grown or moved by mremap can be several kernel mappings. */
            r->kind = K_HUGE;
            r->continued = true;
            continue;
        }
        if (strcmp(p, "[heap]") == 0)
            r->kind = K_HEAP;
        else if (strcmp(p, "[stack]") == 0)
            r->kind = K_STACK;
        else if (strcmp(p, "[vdso]") == 0)
            r->kind = K_VDSO;
        else if (strncmp(p, "[vvar", 5) == 0)
            r->kind = K_VVAR;
        else if (strcmp(p, "[vsyscall]") == 0)
            r->kind = K_VSYSCALL;
        else if (strncmp(p, "[anon:lxmalloc-segment]", 23) == 0)
            r->kind = K_SEGMENT;
        else if (strncmp(p, "[anon:lxmalloc-huge]", 20) == 0)
            r->kind = K_HUGE;
        else if (r->perms[3] == 's')
            r->kind = K_SHARED;
        else if (!anon && p[0] != '[') {
            if (r->perms[0] == '-' && r->perms[1] == '-' && r->perms[2] == '-')
                r->kind = K_GUARD; /* the gaps a loader leaves between an object's parts */
            else if (!is_loaded_object(m, p))
                r->kind = K_FILE;
            else if (r->perms[2] == 'x')
                r->kind = K_TEXT;
            else if (r->perms[1] == 'w')
                r->kind = K_DATA;
            else
                r->kind = K_RODATA;
        } else if (chunk_is_segment(chunks, nchunks, r->start) &&
                   (perms_are(r, "rw-p") || segment_guard_at(m, i)))
            r->kind = K_SEGMENT;
        else if (perms_are(r, "---p"))
            r->kind = size_of(r) <= SEG_GUARD_MAX ? K_GUARD : K_RESERVED;
        else if (prev != NULL && prev->kind == K_DATA && r->perms[1] == 'w')
            r->kind = K_BSS;
        else if (have_secret && (r->start & (SEG_SIZE - 1)) == 0 && perms_are(r, "rw-p")) {
            struct seg_header h;
            bool ours = read_header(mem, r->start, &h) && h.cookie == (r->start ^ secret);
            r->kind = ours && h.kind == 2 ? K_HUGE : ours ? K_SEGMENT : K_ANON;
            if (r->kind == K_HUGE)
                huge_end = r->start + h.huge_map_size;
            if (r->kind == K_ANON && prev != NULL && prev->kind == K_GUARD && is_anon(prev))
                r->kind = K_THREAD_STACK;
        } else if (prev != NULL && is_anon(prev) && perms_are(prev, "---p") &&
                   perms_are(r, "rw-p") && prev->kind == K_GUARD)
            r->kind = K_THREAD_STACK;
        else if (lx_present && !have_secret && (r->start & (SEG_SIZE - 1)) == 0 &&
                 perms_are(r, "rw-p"))
            r->kind = K_HUGE;
        else
            r->kind = K_ANON;
    }
    free(chunks);
}

/* Folds each run of neighbouring segment mappings into its first row, and the
 * mappings of one huge block into one row. */
static void group_segments(struct maps *m)
{
    size_t out = 0;
    for (size_t i = 0; i < m->count; i++) {
        struct region r = m->r[i];
        if (r.kind == K_SEGMENT) {
            while (i + 1 < m->count && m->r[i + 1].kind == K_SEGMENT &&
                   m->r[i + 1].start == r.end) {
                i++;
                r.end = m->r[i].end;
                r.rss += m->r[i].rss;
                r.swap += m->r[i].swap;
                r.locked += m->r[i].locked;
            }
            r.segments = (unsigned)((r.end - (r.start & ~(SEG_SIZE - 1)) + SEG_SIZE - 1) / SEG_SIZE);
            memcpy(r.perms, "rw-p", 5);
        } else if (r.kind == K_HUGE) {
            while (i + 1 < m->count && m->r[i + 1].continued && m->r[i + 1].start == r.end) {
                i++;
                r.end = m->r[i].end;
                r.rss += m->r[i].rss;
                r.swap += m->r[i].swap;
                r.locked += m->r[i].locked;
            }
        }
        m->r[out++] = r;
    }
    m->count = out;
}

static int read_maps(const char *pid, struct maps *m)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s", pid);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            tool_error("maps: no process with pid %s", pid);
        else
            tool_error("maps: %s: %s", path, strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "/proc/%s/smaps", pid);
    char *text = tool_read_file(path, NULL);
    m->have_smaps = text != NULL;
    if (text == NULL) {
        int e = errno;
        snprintf(path, sizeof path, "/proc/%s/maps", pid);
        text = tool_read_file(path, NULL);
        if (text == NULL) {
            if (errno == ENOENT || errno == ESRCH)
                tool_error("maps: no process with pid %s (it has exited)", pid);
            else
                tool_error("maps: cannot read /proc/%s/smaps: %s", pid, strerror(e));
            return TOOL_EXIT_FAIL;
        }
    }
    /* The regions point into the text: it stays allocated until exit. */
    if (!parse_maps(text, m)) {
        tool_error("maps: out of memory");
        return TOOL_EXIT_FAIL;
    }
    if (m->count == 0) {
        tool_error("maps: process %s has no mappings (a kernel thread, or it has exited)", pid);
        return TOOL_EXIT_FAIL;
    }
    return 0;
}

/* The process's command line, spaces for NULs, in buf. */
static void read_cmdline(const char *pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
    size_t len = 0;
    char *text = tool_read_file(path, &len);
    buf[0] = '\0';
    if (text == NULL)
        return;
    while (len > 0 && text[len - 1] == '\0')
        len--;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\0' || !isprint((unsigned char)text[i]))
            text[i] = text[i] == '\0' ? ' ' : '?';
    snprintf(buf, cap, "%.*s", (int)len, text);
    free(text);
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: lxmalloc maps [--tsv] [--bytes] [--all] [PID | self]\n"
            "\n"
            "Show the memory layout of process PID (of this command itself without a\n"
            "PID, or with 'self'): one row per region with its address range,\n"
            "permissions, kind, size, resident size, swap, locked bytes and the file\n"
            "mapped, then totals per kind. Kinds: text, rodata, data, bss, heap [brk],\n"
            "lxmalloc segment, lxmalloc huge block, anonymous mmap, file mmap, shared,\n"
            "stack, thread stack, guard, reserved, vdso, vvar, vsyscall.\n"
            "\n"
            "Options:\n"
            "  -b, --bytes   sizes in bytes rather than KiB, MiB, ...\n"
            "  -a, --all     one row per kernel mapping: do not fold neighbouring\n"
            "                lxmalloc segments into one row\n"
            "  -t, --tsv     tab-separated values, sizes in bytes, for scripts\n"
            "  -h, --help    show this help and exit\n"
            "\n"
            "Exit status: 0 on success, 1 if the process cannot be read, 2 on a usage\n"
            "error. See lxmalloc(1) for how regions are classified.\n");
}

static const char *size_str(char *buf, uint64_t v, bool bytes)
{
    if (bytes) {
        snprintf(buf, 32, "%llu", (unsigned long long)v);
        return buf;
    }
    return tool_bytes(buf, v);
}

static void describe(const struct region *r, char *buf, size_t cap)
{
    if (r->kind == K_SEGMENT && r->segments > 0 && r->path[0] == '\0')
        snprintf(buf, cap, "%u segment%s", r->segments, r->segments == 1 ? "" : "s");
    else if (r->kind == K_SEGMENT && r->segments > 0)
        snprintf(buf, cap, "%s, %u segment%s", r->path, r->segments, r->segments == 1 ? "" : "s");
    else
        snprintf(buf, cap, "%s", r->path);
}

int cmd_maps(int argc, char **argv)
{
    bool tsv = false, bytes = false, all = false;
    const char *pid = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout);
            return 0;
        } else if (strcmp(a, "-t") == 0 || strcmp(a, "--tsv") == 0) {
            tsv = true;
        } else if (strcmp(a, "-b") == 0 || strcmp(a, "--bytes") == 0) {
            bytes = true;
        } else if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) {
            all = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            tool_error("maps: unknown option '%s' (see 'lxmalloc maps --help')", a);
            return TOOL_EXIT_USAGE;
        } else if (pid != NULL) {
            tool_error("maps: one process at a time (see 'lxmalloc maps --help')");
            return TOOL_EXIT_USAGE;
        } else {
            pid = a;
        }
    }
    if (pid == NULL || strcmp(pid, "self") == 0) {
        pid = "self";
    } else {
        char *end;
        errno = 0;
        long v = strtol(pid, &end, 10);
        if (errno != 0 || end == pid || *end != '\0' || v <= 0 || v > INT_MAX) {
            tool_error("maps: '%s' is not a process id (see 'lxmalloc maps --help')", pid);
            return TOOL_EXIT_USAGE;
        }
    }

    struct maps m = {0};
    int rc = read_maps(pid, &m);
    if (rc != 0)
        return rc;
    /* Opening /proc/PID/mem needs the right to trace the process; without it,
     * huge blocks are told by their alignment alone. */
    char mem_path[64];
    snprintf(mem_path, sizeof mem_path, "/proc/%s/mem", pid);
    int mem = open(mem_path, O_RDONLY | O_CLOEXEC);
    classify(&m, mem);
    if (mem >= 0)
        close(mem);
    if (!all)
        group_segments(&m);

    struct total {
        unsigned long long regions;
        uint64_t size, rss, swap, locked;
    } totals[K_COUNT], sum = {0};
    memset(totals, 0, sizeof totals);
    for (size_t i = 0; i < m.count; i++) {
        const struct region *r = &m.r[i];
        struct total *t = &totals[r->kind];
        t->regions++;
        t->size += size_of(r);
        t->rss += r->rss;
        t->swap += r->swap;
        t->locked += r->locked;
        sum.regions++;
        sum.size += size_of(r);
        sum.rss += r->rss;
        sum.swap += r->swap;
        sum.locked += r->locked;
    }

    char cmd[256], what[512];
    read_cmdline(pid, cmd, sizeof cmd);
    char a[32], b[32], c[32], d[32];
    if (tsv) {
        printf("start\tend\tperms\tkind\tsize\trss\tswap\tlocked\tfile\n");
        for (size_t i = 0; i < m.count; i++) {
            const struct region *r = &m.r[i];
            describe(r, what, sizeof what);
            printf("%llx\t%llx\t%s\t%s\t%llu\t%llu\t%llu\t%llu\t%s\n",
                   (unsigned long long)r->start, (unsigned long long)r->end, r->perms,
                   kind_names[r->kind], (unsigned long long)size_of(r),
                   (unsigned long long)r->rss, (unsigned long long)r->swap,
                   (unsigned long long)r->locked, what);
        }
        printf("\nkind\tregions\tsize\trss\tswap\tlocked\n");
        for (int k = 0; k < K_COUNT; k++)
            if (totals[k].regions > 0)
                printf("%s\t%llu\t%llu\t%llu\t%llu\t%llu\n", kind_names[k], totals[k].regions,
                       (unsigned long long)totals[k].size, (unsigned long long)totals[k].rss,
                       (unsigned long long)totals[k].swap, (unsigned long long)totals[k].locked);
        printf("total\t%llu\t%llu\t%llu\t%llu\t%llu\n", sum.regions, (unsigned long long)sum.size,
               (unsigned long long)sum.rss, (unsigned long long)sum.swap,
               (unsigned long long)sum.locked);
        return 0;
    }

    char self_pid[32];
    if (strcmp(pid, "self") == 0) {
        snprintf(self_pid, sizeof self_pid, "%ld", (long)getpid());
        pid = self_pid;
    }
    printf("pid %s: %s\n", pid, cmd[0] != '\0' ? cmd : "(no command line)");
    if (!m.have_smaps)
        printf("(no /proc/%s/smaps: resident, swap and locked sizes are not shown)\n", pid);
    printf("%-12s %-12s %-4s %-19s %10s %10s %10s %10s  %s\n", "START", "END", "PERM", "KIND",
           "SIZE", "RSS", "SWAP", "LOCKED", "FILE");
    for (size_t i = 0; i < m.count; i++) {
        const struct region *r = &m.r[i];
        describe(r, what, sizeof what);
        printf("%012llx %012llx %-4s %-19s %10s %10s %10s %10s  %s\n",
               (unsigned long long)r->start, (unsigned long long)r->end, r->perms,
               kind_names[r->kind], size_str(a, size_of(r), bytes), size_str(b, r->rss, bytes),
               size_str(c, r->swap, bytes), size_str(d, r->locked, bytes), what);
    }
    printf("\n%-19s %7s %10s %10s %10s %10s\n", "KIND", "REGIONS", "SIZE", "RSS", "SWAP",
           "LOCKED");
    for (int k = 0; k < K_COUNT; k++) {
        const struct total *t = &totals[k];
        if (t->regions == 0)
            continue;
        printf("%-19s %7llu %10s %10s %10s %10s\n", kind_names[k], t->regions,
               size_str(a, t->size, bytes), size_str(b, t->rss, bytes),
               size_str(c, t->swap, bytes), size_str(d, t->locked, bytes));
    }
    printf("%-19s %7llu %10s %10s %10s %10s\n", "total", sum.regions,
           size_str(a, sum.size, bytes), size_str(b, sum.rss, bytes),
           size_str(c, sum.swap, bytes), size_str(d, sum.locked, bytes));
    return 0;
}
