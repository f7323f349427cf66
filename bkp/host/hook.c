#include "bkp/host/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
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
                  int input, int out, int data)
{
    char *argv[] = {"sh", "-c", (char *)spec->command, NULL};
    int err = 0;
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL); /* an agent ignores it; its commands must not */
    int null = input >= 0 ? input : open("/dev/null", O_RDONLY);
    if (null > 0) {
        dup2(null, 0); /* the copy loses close-on-exec */
        close(null);
    }
    /* Hook output is for people and logs, never for --json on stdout: both
     * into the pipe the parent reads (and passes on to its stderr); a
     * stream's standard output is its data, on a pipe of its own. */
    dup2(data >= 0 ? data : out, 1);
    dup2(out, 2);
    close(out);
    if (data >= 0)
        close(data);
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
        if (spec->argv)
            execve(spec->argv[0], spec->argv, envp);
        else
            execve("/bin/sh", argv, envp);
        err = errno;
    }
    (void)!write(errfd, &err, sizeof(err));
    _exit(127);
}

/* What the command wrote: passed on to our stderr (bkp_log_output) unless quiet, and its
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
        bkp_log_output(buf, (size_t)got);
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
        /* A leading tab (pg_dump's second line) is indentation, not a
         * character to show as \t. */
        size_t skip = 0;
        while (skip < len[k] && (line[k][skip] == '\t' || line[k][skip] == ' '))
            skip++;
        char *one = strndup(line[k] + skip, len[k] - skip),
             *safe = one ? bkp_text_safe(one, BKP_TEXT_FIELD) : NULL;
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

/* A command started: what finish needs. */
struct bkp_hook_proc {
    pid_t pid;
    int64_t timeout;
    struct timespec t0;
    int err; /* errno of a child that never started, else 0 */
    output out;
    int rc, status;
    bool killed;      /* at its time limit */
    bool streaming;   /* its standard output is data (bkp_hook_start) */
    bool left, held;  /* a stream's: see bkp_hook_result */
    atomic_bool stop; /* its reader gave up: end it (the watcher does) */
    atomic_llong stop_at_ms; /* end it at this time since t0 (ms); 0: not so */
    int data;         /* a stream's: the watcher's own copy of its output's reading end */
    int cancel[2];    /* written when the reader must give up (held open) */
    pthread_t watch;  /* a stream's: reads its stderr and keeps its time limit */
    bool watching;
};

/* Wait for the command, reading its output, killing its group at the time
 * limit or when its reader gives up (TERM, then KILL 5 s later). The group
 * is signalled only while its leader is not reaped: a process group whose
 * leader is gone may be another's by then. */
static int wait_for(bkp_hook_proc *h)
{
    bool hard = false, ending = false;
    double end_at = 0;
    for (;;) {
        pid_t w = waitpid(h->pid, &h->status, WNOHANG);
        if (w == h->pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -errno;
        double t = since(&h->t0);
        bool late = h->timeout > 0 && t >= (double)h->timeout;
        long long at = atomic_load(&h->stop_at_ms);
        if (!ending && (late || atomic_load(&h->stop) || (at && t * 1000 >= (double)at))) {
            kill(-h->pid, SIGTERM);
            ending = true;
            h->killed = late;
            end_at = t;
        } else if (ending && !hard && t >= end_at + 5) {
            kill(-h->pid, SIGKILL);
            hard = true;
        }
        output_wait(&h->out, 20);
    }
}

/* Wait for the command (wait_for); then whatever it left behind in its
 * group goes too. What it wrote before is read (a child that left the group
 * and holds the pipe is not waited for: once the pipe is closed, its writes
 * fail — a daemon a hook starts gives its output a file of its own), at
 * most 64 KiB more: a process that left the group and keeps writing does
 * not hold us. A stream's command must leave nothing behind: a process of
 * its group still there when it ended, or its output still open 5 s later
 * (a writer that left the group), means what was read may not be all of it,
 * and a reader still waiting is told to give up. */
static void *watch(void *arg)
{
    bkp_hook_proc *h = arg;
    h->rc = wait_for(h);
    if (h->streaming && kill(-h->pid, 0) == 0)
        h->left = true;
    kill(-h->pid, SIGKILL); /* the leader reaped just now: its group is still its own */
    for (int k = 0; k < 16 && h->out.fd >= 0 && output_read(&h->out); k++)
        ;
    if (h->streaming) {
        /* A pipe hangs up once no process holds its writing end. */
        bool hup = false;
        for (int i = 0; i < 250 && !hup; i++) {
            struct pollfd p = {.fd = h->data, .events = 0};
            hup = poll(&p, 1, 10) > 0 && (p.revents & (POLLHUP | POLLERR));
            output_wait(&h->out, hup ? 0 : 10);
        }
        if (!hup) {
            h->held = true;
            (void)!write(h->cancel[1], "x", 1);
        }
    }
    return NULL;
}

static void proc_free(bkp_hook_proc *h)
{
    if (h->out.fd >= 0)
        close(h->out.fd);
    for (int i = 0; i < 2; i++)
        if (h->cancel[i] >= 0)
            close(h->cancel[i]);
    if (h->data >= 0)
        close(h->data);
    free(h);
}

/* Start `spec->command`; with `data`, its standard output on a pipe whose
 * reading end goes into `*data`. */
static int start(const bkp_hook_spec *spec, int *data, bkp_hook_proc **out)
{
    int rc, pipefd[2] = {-1, -1}, outfd[2] = {-1, -1}, datafd[2] = {-1, -1}, input = -1;
    bkp_cmd_user user = {0}, *u = NULL;
    char **envp = NULL;
    size_t dropped = 0;
    bkp_hook_proc *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->out = (output){.fd = -1, .quiet = spec->quiet};
    h->timeout = spec->timeout;
    h->cancel[0] = h->cancel[1] = h->data = -1;
    h->streaming = data != NULL;
    atomic_init(&h->stop, false);
    atomic_init(&h->stop_at_ms, 0);
    /* The user and the environment are made before fork: between fork and
     * exec only async-signal-safe calls are allowed in a process that may
     * have threads, and a user lookup is not one. */
    if ((rc = run_as_user(spec, &user, &u)))
        goto out;
    if ((rc = bkp_cmdenv_build(spec->inherited ? spec->inherited : environ, spec->env, spec->nenv,
                               u, &envp, &dropped)))
        goto out;
    if (dropped)
        bkp_warn(_("a passphrase source (BKP_PASSPHRASE...) in the env of `%s` is not passed on: "
                   "a command never gets what opens the repository"),
                 spec->command ? spec->command : spec->argv[0]);
    if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(outfd, O_CLOEXEC) < 0 ||
        (data && (pipe2(datafd, O_CLOEXEC) < 0 || pipe2(h->cancel, O_CLOEXEC) < 0))) {
        rc = -errno;
        goto out;
    }
    if (spec->input && (rc = input_file(spec, &input)))
        goto out;
    if (!spec->input && spec->input_fd > 0 &&
        (input = fcntl(spec->input_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
        rc = -errno;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &h->t0);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out;
    }
    if (pid == 0)
        child(spec, u, envp, pipefd[1], input, outfd[1], datafd[1]);
    h->pid = pid;
    close(pipefd[1]);
    close(outfd[1]);
    pipefd[1] = outfd[1] = -1;
    if (datafd[1] >= 0)
        close(datafd[1]);
    datafd[1] = -1;
    h->out.fd = outfd[0];
    outfd[0] = -1;
    fcntl(h->out.fd, F_SETFL, O_NONBLOCK);
    setpgid(pid, pid); /* also here: no race with the child's own call */
    ssize_t got;
    do
        got = read(pipefd[0], &h->err, sizeof(h->err));
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(h->err))
        h->err = 0;
    if (data) {
        if ((h->data = fcntl(datafd[0], F_DUPFD_CLOEXEC, 0)) < 0) {
            rc = -errno;
            kill(-pid, SIGKILL);
            (void)waitpid(pid, NULL, 0);
            goto out;
        }
        *data = datafd[0];
        datafd[0] = -1;
    }
    *out = h;
    h = NULL;
out:
    if (input >= 0)
        close(input);
    for (int i = 0; i < 2; i++) {
        if (pipefd[i] >= 0)
            close(pipefd[i]);
        if (outfd[i] >= 0)
            close(outfd[i]);
        if (datafd[i] >= 0)
            close(datafd[i]);
    }
    bkp_cmdenv_free(envp);
    bkp_cmd_user_clear(&user);
    if (h)
        proc_free(h);
    return rc;
}

/* The outcome of a command whose watch has ended. */
static int outcome(bkp_hook_proc *h, bkp_hook_result *res)
{
    output_tail(&h->out, res->tail, sizeof(res->tail));
    res->seconds = since(&h->t0);
    if (h->rc)
        return h->rc;
    if (h->err)
        return -h->err; /* it never started: no exit code of its own */
    res->timed_out = h->killed;
    res->left_running = h->left;
    res->held_open = h->held;
    if (WIFEXITED(h->status))
        res->exit_code = WEXITSTATUS(h->status);
    else if (WIFSIGNALED(h->status))
        res->signal = WTERMSIG(h->status);
    return h->killed                                        ? -ETIMEDOUT
           : res->exit_code != 0 || h->left || h->held ? -ECHILD
                                                            : 0;
}

int bkp_hook_exec(const bkp_hook_spec *spec, bkp_hook_result *res)
{
    bkp_hook_proc *h = NULL;
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    int rc = start(spec, NULL, &h);
    if (rc)
        return rc;
    watch(h);
    rc = outcome(h, res);
    proc_free(h);
    return rc;
}

int bkp_hook_cancel_fd(const bkp_hook_proc *h)
{
    return h->cancel[0];
}

void bkp_hook_stop_after(bkp_hook_proc *h, double seconds)
{
    atomic_store(&h->stop_at_ms, (long long)((since(&h->t0) + seconds) * 1000) + 1);
}

int bkp_hook_start(const bkp_hook_spec *spec, int *data, bkp_hook_proc **out)
{
    if (!data)
        return -EINVAL;
    bkp_hook_proc *h = NULL;
    int rc = start(spec, data, &h);
    if (rc)
        return rc;
    int err = bkp_thread_create(&h->watch, watch, h);
    if (err) {
        kill(-h->pid, SIGKILL);
        close(*data);
        watch(h); /* reaps it here */
        *data = -1;
        proc_free(h);
        return -err;
    }
    h->watching = true;
    *out = h;
    return 0;
}

int bkp_hook_finish(bkp_hook_proc *h, bool stop, bkp_hook_result *res)
{
    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    if (!h)
        return -EINVAL;
    if (stop)
        atomic_store(&h->stop, true); /* its reader gave up: it goes, and its group */
    if (h->watching)
        pthread_join(h->watch, NULL);
    int rc = outcome(h, res);
    proc_free(h);
    return rc;
}

int bkp_hook_run(const char *command, char *const *env, size_t nenv, int64_t timeout,
                 bkp_hook_result *res)
{
    bkp_hook_spec spec = {.command = command, .env = env, .nenv = nenv, .timeout = timeout};
    return bkp_hook_exec(&spec, res);
}
