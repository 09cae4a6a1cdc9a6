/*
 * Death tests for the unit tests: run a function in a forked child with its
 * stderr captured, and check how the child ended and what it printed.
 *
 *   lxt_expect_death(fn, arg, SIGABRT, "wrong cache")   the child must die of the
 *                                 signal, its stderr containing the text (or NULL);
 *   lxt_expect_death(fn, arg, 0, NULL)                  the child must exit 0.
 */
#ifndef LXT_CHILD_H
#define LXT_CHILD_H

#include <signal.h>
#include <sys/wait.h>

#include "lxt.h"

static inline void lxt_expect_death(void (*fn)(void *), void *arg, int sig, const char *text)
{
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        signal(SIGSEGV, SIG_DFL);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    if (sig == 0) {
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %#x): %s",
              status, out);
        return;
    }
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig,
          "child should die of signal %d, status %#x; it printed: %s", sig, status, out);
    CHECK(text == NULL || strstr(out, text) != NULL, "child's message lacks \"%s\": %s", text,
          out);
}

#endif /* LXT_CHILD_H */
