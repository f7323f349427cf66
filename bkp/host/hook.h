/*
 * hook.h — run an operator's command (a pg_dump before a capture, a
 * runbook's run or check step, a notification) with a time limit. The
 * command runs under /bin/sh (or, given as `argv`, as it is: a program bkp
 * runs itself, such as ssh) in its own process group with stdin from
 * /dev/null (or the bytes it is given); at the limit
 * the whole group is killed (TERM, then KILL after 5 s), so a hung child of
 * the command cannot hold the run. What it writes goes on to our stderr as
 * it comes, and its last lines are kept for the alert that names it.
 *
 * The command gets a clean environment (bkp/host/cmdenv.h): an allowlist, a
 * fixed PATH, its own settings — never a passphrase source — and, when a
 * user is named, it runs as that user.
 */
#ifndef BKP_HOOK_H
#define BKP_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bkp_hook_result {
    int exit_code; /* the command's exit status, or -1 */
    int signal;    /* the signal that ended it, or 0 */
    int timed_out; /* killed at the limit */
    double seconds;
    /* The last lines the command wrote (its stdout and stderr), made safe
     * for a log (text.h: controls escaped), joined by " / ": what an alert
     * quotes. Never recorded in the audit log: a hook may print a secret. */
    char tail[400];
    /* A stream's command (bkp_hook_start) that left something behind: a
     * process of its group still running when it ended, or its output held
     * open 5 s past its end by one that left the group. Either fails it:
     * what was read may not be all it meant to write. */
    bool left_running, held_open;
} bkp_hook_result;

typedef struct bkp_hook_spec {
    const char *command; /* for sh -c */
    /* Or a program and its arguments (argv[0] an absolute path), run as
     * they are with no shell between: what bkp builds itself (ssh). */
    char *const *argv;
    char *const *env;    /* "NAME=value", added to the allowlisted ones */
    size_t nenv;
    /* The environment the allowlisted names are taken from ("NAME=value",
     * NULL-terminated); NULL: the process's own. */
    char *const *inherited;
    int64_t timeout;    /* seconds; 0: none */
    const char *run_as; /* a user name, or NULL: as we are */
    const char *dir;    /* the working directory, or NULL: ours */
    const void *input;  /* its standard input (a notification), or NULL: /dev/null */
    size_t input_len;
    /* Or a descriptor to read it from (a pipe the caller writes), when > 0
     * (borrowed: the caller closes its own). */
    int input_fd;
    /* Its output only kept (res->tail), not passed on to our stderr. */
    bool quiet;
} bkp_hook_spec;

/* Run `spec->command` (or `spec->argv`). 0 when it exited 0; -ETIMEDOUT, -ECHILD (non-zero
 * exit or signal), -ENOENT when `run_as` names no user, -EPERM when we cannot
 * become that user, or another negative errno when it could not be started
 * (then nothing of the command ran). All borrowed; `res` is always set. */
int bkp_hook_exec(const bkp_hook_spec *spec, bkp_hook_result *res);

/* A command whose standard output is data (a database dump): started with
 * that output on a pipe whose reading end goes into `*data` (the caller
 * reads it to its end, then closes it), what it writes to its standard
 * error passed on and kept for the tail as a hook's, its time limit kept
 * by a thread of its own while the caller reads. bkp_hook_finish waits for
 * it (with `stop`, a reader that gave up, its group is ended first) and
 * returns as bkp_hook_exec does: 0 only when it exited 0. Every started
 * command is finished, once; `res` is always set. */
typedef struct bkp_hook_proc bkp_hook_proc;
int bkp_hook_start(const bkp_hook_spec *spec, int *data, bkp_hook_proc **out);
int bkp_hook_finish(bkp_hook_proc *h, bool stop, bkp_hook_result *res);
/* Readable when the reader of a stream's output must give up: the command
 * ended but its output is still held open (bkp_hook_result.held_open). */
int bkp_hook_cancel_fd(const bkp_hook_proc *h);
/* End it (as a reader that gave up would) if it has not ended by itself
 * `seconds` from now: what has said all it had to say (ssh after the
 * agent's last frame) gets a moment to exit, and no more. */
void bkp_hook_stop_after(bkp_hook_proc *h, double seconds);

/* bkp_hook_exec as ourselves, in our working directory. */
int bkp_hook_run(const char *command, char *const *env, size_t nenv, int64_t timeout,
                 bkp_hook_result *res);

#endif
