/* SPDX-License-Identifier: MIT */
/*
 * launch: run one command and report its wall time and peak RSS.
 *
 *   launch [-p PRELOAD] [-t TIMEOUT_S] [-o REPORT] -- command [args...]
 *
 * The runner could fork the workloads itself, but Linux charges the RSS a
 * process had before exec() to its ru_maxrss, so every measurement would start
 * at the size of the Python interpreter. This small program is exec'd instead,
 * forks the real command from a ~1 MiB process and collects its rusage with
 * wait4(). PRELOAD (if given) is put in LD_PRELOAD of the command only, never of
 * this process. The command runs in its own process group, which is killed on
 * timeout, when this program gets SIGINT/SIGTERM, and after the command exits
 * (so nothing it started lingers).
 *
 * The report is one line, written to REPORT (default stdout... of this
 * program, which the command shares, so the runner normally passes -o):
 *   status=N signal=N timeout=0|1 wall=SECONDS maxrss_kb=N utime=S stime=S minflt=N
 * status is the exit code (-1 when killed by a signal).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_timed_out, g_stop;
static pid_t g_child;

static void on_signal(int sig)
{
    if (sig == SIGALRM)
        g_timed_out = 1;
    else
        g_stop = 1;
    if (g_child > 0)
        kill(-g_child, SIGKILL);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *preload = NULL, *report = NULL;
    unsigned timeout = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+p:t:o:")) != -1) {
        switch (opt) {
        case 'p': preload = optarg; break;
        case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'o': report = optarg; break;
        default:
            fprintf(stderr, "usage: launch [-p PRELOAD] [-t TIMEOUT_S] [-o REPORT] -- cmd...\n");
            return 125;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "launch: no command\n");
        return 125;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("launch: fork");
        return 125;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        if (preload != NULL && preload[0] != '\0')
            setenv("LD_PRELOAD", preload, 1);
        execvp(argv[optind], &argv[optind]);
        fprintf(stderr, "launch: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    g_child = pid;
    if (timeout > 0)
        alarm(timeout);

    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t w = wait4(pid, &st, 0, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            perror("launch: wait4");
            return 125;
        }
    }
    double wall = now() - t0;
    alarm(0);
    g_child = 0;
    kill(-pid, SIGKILL); /* anything the command left behind */

    int status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    FILE *out = stdout;
    if (report != NULL && (out = fopen(report, "w")) == NULL) {
        perror("launch: report");
        return 125;
    }
    fprintf(out, "status=%d signal=%d timeout=%d wall=%.6f maxrss_kb=%ld utime=%.6f stime=%.6f minflt=%ld\n",
            status, sig, (int)g_timed_out, wall, ru.ru_maxrss, tv(ru.ru_utime), tv(ru.ru_stime),
            ru.ru_minflt);
    if (out != stdout)
        fclose(out);
    return g_stop ? 130 : 0;
}
