/*
 * remote.h — a source server, reached over SSH: the backup server connects
 * out, `bkp agent` answers there (wire.h), and the source never holds a key
 * to the repository nor a way to reach it.
 *
 * ssh(1) carries the connection; bkp gives it everything on its command
 * line and nothing is read from ssh's own configuration (-F /dev/null): our
 * key only (the identity, checked like a secret: trust.h), the host's key
 * pinned in the policy (a known_hosts of one line in a file in memory; no
 * trust on first use, no other key accepted), batch mode (no question, no
 * password), a connect timeout and an idle timeout (keepalives that go
 * unanswered), no forwarding of anything. ssh's own messages go to a log
 * of their own (-E), so that what a source writes cannot pass for them.
 */
#ifndef BKP_REMOTE_H
#define BKP_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/host/hook.h"
#include "bkp/host/wire.h"

/* An address: a host name, an IPv4 or IPv6 address (letters, digits, '.',
 * '-', ':'; not starting with '-'), at most 253 bytes. */
bool bkp_remote_address_ok(const char *address);
/* A host key as known_hosts and ssh-keyscan write it: "TYPE BASE64" (a
 * comment after it is allowed) of a type ssh accepts (ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521, ssh-rsa), whose key names that type. With
 * `type` (at least 32 bytes), its type. */
bool bkp_remote_host_key_ok(const char *key, char *type);
/* Its fingerprint as ssh-keygen -l prints it ("SHA256:..."), into `out`
 * (at least 64 bytes): 0, or -EINVAL for a key that is not one. */
int bkp_remote_fingerprint(const char *key, char *out, size_t size);

typedef struct bkp_remote_host {
    const char *name; /* the policy's name for it, in messages */
    const char *user, *address;
    int port;
    const char *identity; /* our private key */
    const char *host_key; /* pinned */
    int64_t connect_timeout;
    int64_t idle_timeout; /* a walk's: seconds without a frame from the agent, then given up
                             (0: never; a command has its own timeout) */
} bkp_remote_host;

/* The ssh program that carries the connection (found on bkp's command
 * path, cmdenv.h), or NULL. */
const char *bkp_remote_ssh(void);

/*
 * Run the agent's command `command` on `h`: its output is read from
 * `*data` as a stream's is (hook.h, bkp_hook_start), with `timeout` the
 * whole connection's limit. The reader reads `*data` to its end, or gives
 * up and finishes with `stop`; either way it closes `*data` itself.
 * bkp_remote_finish says how it went — 0 only when the command exited 0
 * and every byte came — as bkp_hook_finish does (res->tail: the last lines
 * the source wrote to the session's standard error, made safe), and:
 *   -ENOKEY        our identity is missing or not trusted (said);
 *   -EHOSTUNREACH  the host did not answer (res->tail: ssh's words);
 *   -EKEYREJECTED  the host presented another key than the pinned one;
 *   -EPERM         the host refused our key;
 *   -EPROTO        no agent answered (res->tail: what did);
 *   -EPROTONOSUPPORT  an agent of another protocol version answered;
 *   -EBADMSG       the agent's answer broke the protocol (a frame out of
 *                  place, too large, or not what its type says);
 *   -EACCES        the agent refused (res->tail: its reason);
 *   -EPIPE         the connection ended before the command did;
 *   -ETIME         a walk: nothing came for the host's idle_timeout (the
 *                  agent hangs on a disk; the connection itself is
 *                  watched by keepalives);
 *   -ETIMEDOUT     `timeout` passed;
 *   -ECHILD        the command failed there (res: how; res->timed_out when
 *                  the agent's own limit ended it).
 */
typedef struct bkp_remote bkp_remote;
int bkp_remote_start(const bkp_remote_host *h, const char *command, int64_t timeout, int *data,
                     bkp_remote **out) __attribute__((warn_unused_result));
int bkp_remote_finish(bkp_remote *r, bool stop, bkp_hook_result *res);
/* The same for trees (wire.h): `*data` receives the pax archive of `t`'s
 * paths (bkp/capture/pax.h) as the agent walks them; a walk "exits" 0,
 * and on a good end `*walk` is its end: the paths the agent could not
 * read there, counted and the first of them named (the caller clears it,
 * bkp_wire_end_clear; an earlier agent's tail names the last). With `t->stamps`, `*to_agent` is
 * the agent's standard input (non-blocking; the caller writes what it
 * holds there, then closes it). */
int bkp_remote_start_tree(const bkp_remote_host *h, const bkp_wire_tree *t, int64_t timeout,
                          int *data, int *to_agent, bkp_wire_end *walk, bkp_remote **out)
    __attribute__((warn_unused_result));
/* Readable when the reader of `*data` must give up (hook.h). */
int bkp_remote_cancel_fd(const bkp_remote *r);
/* Ask `h` what its agent serves: 0 with `*out`, or as bkp_remote_finish
 * (res says more). */
int bkp_remote_hello(const bkp_remote_host *h, bkp_wire_hello *out, bkp_hook_result *res);

#endif
