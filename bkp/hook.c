#include "bkp/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int bkp_hook_run(const char *command, char *const *env, size_t nenv, int64_t timeout,
                 bkp_hook_result *res)
{
    struct timespec t0;
    int status = 0;
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    /* The environment is built before fork: between fork and exec only
     * async-signal-safe calls are allowed in a process that has threads. */
    size_t nold = 0;
    while (environ[nold])
        nold++;
    char **envp = calloc(nold + nenv + 1, sizeof(*envp));
    if (!envp)
        return -ENOMEM;
    /* The hook's own settings, then what we inherit minus the same names:
     * shells differ on which duplicate wins, so there are none. */
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        envp[k++] = env[i];
    for (size_t i = 0; i < nold; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool dup = false;
        for (size_t j = 0; j < nenv && !dup; j++)
            dup = !strncmp(env[j], environ[i], len);
        if (!dup)
            envp[k++] = environ[i];
    }
    envp[k] = NULL;
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        free(envp);
        return -errno;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null > 0) {
            dup2(null, 0);
            close(null);
        }
        /* Hook output is for people and logs, never for --json on stdout. */
        dup2(2, 1);
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    free(envp);
    setpgid(pid, pid); /* also here: no race with the child's own call */
    bool killed = false, hard = false;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return -errno;
        double t = since(&t0);
        if (!killed && timeout > 0 && t >= (double)timeout) {
            kill(-pid, SIGTERM);
            killed = true;
        } else if (killed && !hard && t >= (double)timeout + 5) {
            kill(-pid, SIGKILL);
            hard = true;
        }
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    /* Whatever the command left behind in its group goes too. */
    kill(-pid, SIGKILL);
    res->seconds = since(&t0);
    res->timed_out = killed;
    if (WIFEXITED(status))
        res->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->signal = WTERMSIG(status);
    if (killed)
        return -ETIMEDOUT;
    return res->exit_code == 0 ? 0 : -ECHILD;
}
