/*
 * hook.h — run an operator's command (a pg_dump before a capture) with a time
 * limit. The command runs under /bin/sh in its own process group with stdin
 * from /dev/null; at the limit the whole group is killed (TERM, then KILL
 * after 5 s), so a hung child of the command cannot hold the run.
 */
#ifndef BKP_HOOK_H
#define BKP_HOOK_H

#include <stddef.h>
#include <stdint.h>

typedef struct bkp_hook_result {
    int exit_code;   /* the command's exit status, or -1 */
    int signal;      /* the signal that ended it, or 0 */
    int timed_out;   /* killed at the limit */
    double seconds;
} bkp_hook_result;

/* Run `command` with `env` ("NAME=value", added to ours) for at most
 * `timeout` seconds. 0 when it exited 0; -ETIMEDOUT, -ECHILD (non-zero exit or
 * signal), or another negative errno when it could not be started. */
int bkp_hook_run(const char *command, char *const *env, size_t nenv, int64_t timeout,
                 bkp_hook_result *res);

#endif
