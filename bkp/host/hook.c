#include "bkp/host/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bkp/host/cmdenv.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

extern char **environ;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* In the child, between fork and exec: only async-signal-safe calls. A
 * failure is written to `errfd` (closed by a successful exec), so the parent
 * can tell "could not start" from "the command failed". */
static void child(const bkp_hook_spec *spec, const bkp_cmd_user *u, char **envp, int errfd,
                  int input, int out)
{
    char *argv[] = {"sh", "-c", (char *)spec->command, NULL};
    int err = 0;
    setpgid(0, 0);
    int null = input >= 0 ? input : open("/dev/null", O_RDONLY);
    if (null > 0) {
        dup2(null, 0); /* the copy loses close-on-exec */
        close(null);
    }
    /* Hook output is for people and logs, never for --json on stdout: both
     * into the pipe the parent reads (and passes on to its stderr). */
    dup2(out, 1);
    dup2(out, 2);
    close(out);
    if (spec->dir && chdir(spec->dir) < 0)
        err = errno;
    /* Groups first, then the group, then the user: once the user is
     * changed, the rest can no longer be. And make sure it holds. */
    if (!err && u && u->uid != geteuid()) {
        if (setgroups(u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
            err = errno ? errno : EPERM;
        else if (getuid() != u->uid || geteuid() != u->uid || getegid() != u->gid ||
                 (u->uid != 0 && setuid(0) == 0))
            err = EPERM;
    }
    if (!err) {
        execve("/bin/sh", argv, envp);
        err = errno;
    }
    (void)!write(errfd, &err, sizeof(err));
    _exit(127);
}

/* What the command wrote: passed on to our stderr unless quiet, and its
 * last bytes kept for the tail. */
typedef struct output {
    int fd; /* the pipe's end we read (non-blocking), or -1 */
    bool quiet;
    char last[2048];
    size_t len;
} output;

/* Read what is there now; false at the end of it (or on an error). */
static bool output_read(output *o)
{
    char buf[4096];
    ssize_t got = read(o->fd, buf, sizeof(buf));
    if (got <= 0)
        return got < 0 && errno == EINTR;
    if (!o->quiet)
        (void)!bkp_write_full(2, buf, (size_t)got);
    size_t n = (size_t)got, cap = sizeof(o->last);
    if (n >= cap) {
        memcpy(o->last, buf + n - cap, cap);
        o->len = cap;
    } else {
        if (o->len + n > cap) {
            memmove(o->last, o->last + (o->len + n - cap), cap - n);
            o->len = cap - n;
        }
        memcpy(o->last + o->len, buf, n);
        o->len += n;
    }
    return true;
}

/* Wait up to `ms` for output, and read it. */
static void output_wait(output *o, int ms)
{
    struct pollfd p = {.fd = o->fd, .events = POLLIN};
    if (o->fd < 0 || poll(&p, 1, ms) <= 0) {
        if (o->fd < 0) {
            struct timespec nap = {0, ms * 1000 * 1000L};
            nanosleep(&nap, NULL);
        }
        return;
    }
    if (!output_read(o)) {
        close(o->fd); /* its end: nothing more will come */
        o->fd = -1;
    }
}

/* The last three lines of `o` that say something, each made safe for a
 * log (text.h), joined by " / ", at most the size of `tail`. */
static void output_tail(const output *o, char *tail, size_t size)
{
    const char *line[3];
    size_t len[3], k = 0, end = o->len;
    if (!size)
        return;
    tail[0] = '\0';
    while (end > 0 && k < 3) {
        size_t start = end;
        while (start > 0 && o->last[start - 1] != '\n')
            start--;
        size_t e = end;
        while (e > start && (o->last[e - 1] == '\r' || o->last[e - 1] == ' ' || o->last[e - 1] == '\t'))
            e--;
        if (e > start) {
            line[k] = o->last + start;
            len[k++] = e - start;
        }
        end = start ? start - 1 : 0;
    }
    char all[4 * sizeof(o->last) + 16] = "";
    size_t at = 0;
    while (k-- > 0 && at + 1 < sizeof(all)) {
        char *one = strndup(line[k], len[k]), *safe = one ? bkp_text_safe(one, BKP_TEXT_FIELD) : NULL;
        if (safe)
            at += (size_t)snprintf(all + at, sizeof(all) - at, "%s%s", at ? " / " : "", safe);
        free(safe);
        free(one);
    }
    at = strlen(all);
    /* Too long: its end, which says what went wrong, from a character's start. */
    size_t from = at < size ? 0 : at - (size - 1);
    while (from < at && ((unsigned char)all[from] & 0xC0) == 0x80)
        from++;
    memcpy(tail, all + from, at - from + 1);
}

/* Wait for `pid`, reading its output, killing its group at the time limit. */
static int wait_for(pid_t pid, int64_t timeout, const struct timespec *t0, int *status,
                    bool *killed, output *out)
{
    bool hard = false;
    *killed = false;
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -errno;
        double t = since(t0);
        if (!*killed && timeout > 0 && t >= (double)timeout) {
            kill(-pid, SIGTERM);
            *killed = true;
        } else if (*killed && !hard && t >= (double)timeout + 5) {
            kill(-pid, SIGKILL);
            hard = true;
        }
        output_wait(out, 20);
    }
}

/* The user `spec` runs the command as (*u stays NULL when none): -ENOENT
 * when there is no such user, -EPERM when becoming it needs root. */
static int run_as_user(const bkp_hook_spec *spec, bkp_cmd_user *user, bkp_cmd_user **u)
{
    int rc;

    if (!spec->run_as)
        return 0;
    if ((rc = bkp_cmd_user_lookup(spec->run_as, user)))
        return rc == -EINVAL ? -ENOENT : rc;
    if (geteuid() != 0 && user->uid != geteuid()) {
        bkp_cmd_user_clear(user);
        return -EPERM; /* only root can become another user */
    }
    *u = user;
    return 0;
}

/* The input in a file of memory, read from its start: a command that
 * does not read it cannot block us as a pipe's writer would be. `*fd` is
 * the caller's to close whenever it is not -1. */
static int input_file(const bkp_hook_spec *spec, int *fd)
{
    int rc = 0;

    if ((*fd = memfd_create("bkp-hook-input", MFD_CLOEXEC)) < 0 ||
        (rc = bkp_write_full(*fd, spec->input, spec->input_len)) || lseek(*fd, 0, SEEK_SET) < 0)
        return rc ? rc : -errno;
    return 0;
}

int bkp_hook_exec(const bkp_hook_spec *spec, bkp_hook_result *res)
{
    struct timespec t0;
    int status = 0, rc, pipefd[2] = {-1, -1}, outfd[2] = {-1, -1}, input = -1;
    output out = {.fd = -1, .quiet = spec->quiet};
    bkp_cmd_user user = {0}, *u = NULL;
    char **envp = NULL;
    size_t dropped = 0;
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    /* The user and the environment are made before fork: between fork and
     * exec only async-signal-safe calls are allowed in a process that may
     * have threads, and a user lookup is not one. */
    if ((rc = run_as_user(spec, &user, &u)))
        return rc;
    if ((rc = bkp_cmdenv_build(spec->inherited ? spec->inherited : environ, spec->env, spec->nenv, u, &envp, &dropped)))
        goto out;
    if (dropped)
        bkp_warn(_("a passphrase source (BKP_PASSPHRASE...) in the env of `%s` is not passed on: "
                   "a command never gets what opens the repository"),
                 spec->command);
    if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(outfd, O_CLOEXEC) < 0) {
        rc = -errno;
        goto out;
    }
    if (spec->input && (rc = input_file(spec, &input)))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out;
    }
    if (pid == 0)
        child(spec, u, envp, pipefd[1], input, outfd[1]);
    close(pipefd[1]);
    close(outfd[1]);
    pipefd[1] = outfd[1] = -1;
    out.fd = outfd[0];
    outfd[0] = -1;
    fcntl(out.fd, F_SETFL, O_NONBLOCK);
    setpgid(pid, pid); /* also here: no race with the child's own call */
    int err = 0;
    ssize_t got;
    do
        got = read(pipefd[0], &err, sizeof(err));
    while (got < 0 && errno == EINTR);
    bool killed = false;
    rc = wait_for(pid, spec->timeout, &t0, &status, &killed, &out);
    /* Whatever the command left behind in its group goes too; what it
     * wrote before is read (a child that left the group and holds the
     * pipe is not waited for: once the pipe is closed, its writes fail —
     * a daemon a hook starts gives its output a file of its own). */
    kill(-pid, SIGKILL);
    /* What is in the pipe now, at most 64 KiB: a process that left the
     * group and keeps writing does not hold us. */
    for (int k = 0; k < 16 && out.fd >= 0 && output_read(&out); k++)
        ;
    output_tail(&out, res->tail, sizeof(res->tail));
    res->seconds = since(&t0);
    if (rc)
        goto out;
    if (got == (ssize_t)sizeof(err) && err) {
        rc = -err; /* it never started: no exit code of its own */
        goto out;
    }
    res->timed_out = killed;
    if (WIFEXITED(status))
        res->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->signal = WTERMSIG(status);
    rc = killed ? -ETIMEDOUT : res->exit_code == 0 ? 0 : -ECHILD;
out:
    if (input >= 0)
        close(input);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    for (int i = 0; i < 2; i++)
        if (outfd[i] >= 0)
            close(outfd[i]);
    if (out.fd >= 0)
        close(out.fd);
    bkp_cmdenv_free(envp);
    bkp_cmd_user_clear(&user);
    return rc;
}

int bkp_hook_run(const char *command, char *const *env, size_t nenv, int64_t timeout,
                 bkp_hook_result *res)
{
    bkp_hook_spec spec = {.command = command, .env = env, .nenv = nenv, .timeout = timeout};
    return bkp_hook_exec(&spec, res);
}
