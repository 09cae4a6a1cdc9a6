/*
 * Heap error handling as documented for M_CHECK_ACTION / MALLOC_CHECK_: freeing a
 * pointer lxmalloc never handed out (a stack address), an interior pointer of a
 * large block, or a large block twice, is reported on stderr and aborts with the
 * default action 3; with MALLOC_CHECK_=1 it is reported and the program goes on;
 * with 0 it is silently ignored; mallopt(M_CHECK_ACTION, 1) changes it at run
 * time. Each case runs in a child (this program re-executed). Skipped on the
 * system malloc, whose MALLOC_CHECK_ needs a debugging library.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "lxt.h"

extern char **environ;

/* Child side: perform one misuse, then report that the program went on. */
static int child(const char *what)
{
    volatile int local = 0;
    if (strcmp(what, "first-free") == 0) {
        /* The misuse is the process's first call into the allocator. */
        T_free(lxt_launder((void *)&local));
    } else if (strcmp(what, "stack") == 0) {
        T_free(T_malloc(10));
        T_free(lxt_launder((void *)&local));
    } else if (strcmp(what, "interior") == 0) {
        unsigned char *p = T_malloc(100000);
        lxt_escape(p);
        T_free(p + 16);
    } else if (strcmp(what, "double") == 0) {
        unsigned char *p = T_malloc(100000);
        lxt_escape(p);
        T_free(p);
        T_free(p);
    } else if (strcmp(what, "runtime") == 0) {
        T_free(T_malloc(10));
        if (T_mallopt(M_CHECK_ACTION, 1) != 1)
            return 3;
        T_free(lxt_launder((void *)&local));
    } else {
        return 2;
    }
    /* The heap still works after an ignored or reported error. */
    void *p = T_malloc(1000);
    if (p == NULL)
        return 4;
    memset(p, 1, 1000);
    T_free(p);
    ssize_t w = write(1, "went on\n", 8);
    return w == 8 ? 0 : 5;
}

static size_t slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    lseek(fd, 0, SEEK_SET);
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    return n;
}

/* Run this program as `prog child WHAT` with MALLOC_CHECK_ set to check (or unset
 * if NULL) and compare the outcome with what the action documents. */
static void run(const char *what, const char *check)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(len > 0, "readlink(/proc/self/exe) failed");
    self[len] = 0;
    FILE *out = tmpfile(), *err = tmpfile();
    CHECK(out != NULL && err != NULL, "tmpfile failed");

    static char *env[4096];
    static char setting[64];
    int ne = 0;
    for (char **e = environ; *e != NULL && ne < 4000; e++)
        if (strncmp(*e, "MALLOC_CHECK_=", 14) != 0 && strncmp(*e, "LXMALLOC_CHECK=", 15) != 0)
            env[ne++] = *e;
    if (check != NULL) {
        snprintf(setting, sizeof setting, "MALLOC_CHECK_=%s", check);
        env[ne++] = setting;
    }
    env[ne] = NULL;

    pid_t pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        char *argv[] = {self, (char *)"child", (char *)what, NULL};
        execve(self, argv, env);
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed");
    char o[4096], e[4096];
    slurp(fileno(out), o, sizeof o);
    size_t ne_err = slurp(fileno(err), e, sizeof e);
    fclose(out);
    fclose(err);
    char *nl = strchr(e, '\n');
    if (nl != NULL)
        *nl = 0;
    const char *c = check != NULL ? check : "unset";
    if (strcmp(what, "runtime") == 0)
        check = "1"; /* the program sets action 1 itself */
    if (check == NULL || strcmp(check, "3") == 0) {
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
              "%s with MALLOC_CHECK_ %s: expected abort, got %s %d (stderr: %s)", what, c,
              WIFSIGNALED(st) ? "signal" : "exit status",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), e);
        CHECK(ne_err > 0, "%s with MALLOC_CHECK_ %s: aborted without a diagnostic", what, c);
        return;
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "%s with MALLOC_CHECK_=%s: expected the program to go on, got %s %d (stderr: %s)", what,
          c, WIFSIGNALED(st) ? "signal" : "exit status",
          WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), e);
    CHECK(strcmp(o, "went on\n") == 0, "%s with MALLOC_CHECK_=%s: the program did not go on", what,
          c);
    if (strcmp(check, "1") == 0)
        CHECK(ne_err > 0, "%s with MALLOC_CHECK_=1: no diagnostic on stderr", what);
    else
        CHECK(ne_err == 0, "%s with MALLOC_CHECK_=0: expected silence, stderr: %s", what, e);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child(argv[2]);
    lxt_require_lxmalloc();
    if (lxt_system_mode()) {
        fprintf(stderr, "the system malloc's MALLOC_CHECK_ needs its debugging library\n");
        return 77;
    }
    const char *cases[] = {"stack", "interior", "double", "first-free"};
    const char *checks[] = {NULL, "3", "1", "0"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t j = 0; j < sizeof checks / sizeof checks[0]; j++)
            run(cases[i], checks[j]);
    run("runtime", "3"); /* mallopt(M_CHECK_ACTION, 1) overrides the environment */
    return 0;
}
