/*
 * remote_host.h — a host of the policy as the connection needs it
 * (bkp/host/remote.h), and what `bkp host check` reports of it.
 */
#ifndef BKP_OPS_REMOTE_HOST_H
#define BKP_OPS_REMOTE_HOST_H

#include "bkp/host/remote.h"
#include "policies/policy.h"

/* `h` as a connection's host (borrowed from `h`). */
void ops_remote_host(const pol_host *h, bkp_remote_host *out);

/* What went wrong reaching a host (`rc` of bkp_remote_finish or
 * bkp_remote_hello; -ECHILD and -ETIMEDOUT are the command's own and not
 * said here): a clause in English (N_), NULL for the others. Only for a
 * host's: the same codes mean other things of a command run here. */
const char *ops_remote_why(int rc);

#endif
