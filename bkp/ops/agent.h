/*
 * agent.h — `bkp agent`: on a source server, answer the backup server's
 * one request (wire.h) within what the agent's configuration allows
 * (policies/agent_config.h), and nothing else.
 *
 * It is started by sshd as the forced command of the backup server's key,
 * as an unprivileged user of the source: it holds no repository secret,
 * writes nothing, and runs only the commands its own file names (the
 * backup server names one; it never sends a command line). A request it
 * does not serve is refused with a sentence that says what to change, on
 * the source, to allow it.
 */
#ifndef BKP_OPS_AGENT_H
#define BKP_OPS_AGENT_H

#include "policies/agent_config.h"

/* Serve `request` (SSH_ORIGINAL_COMMAND; NULL: none was given) on `out`.
 * 0 when it was served (a command that failed is served: its end frame
 * says how), -EACCES when it was refused (said in a refusal frame), or a
 * negative errno when `out` could not be written. */
int ops_agent_serve(const pol_agent *a, const char *version, const char *request, int out);

/* Answer any request with a hello of `a` (may hold nothing) and a refusal
 * saying why (`fmt`, an N_() text, and its arguments; sent in English and
 * Japanese): what an agent whose configuration cannot be used sends.
 * -EACCES, or a negative errno when `out` could not be written. */
int ops_agent_refuse(const pol_agent *a, const char *version, int out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
