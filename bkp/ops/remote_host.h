/*
 * remote_host.h — a host of the policy as the connection needs it
 * (bkp/host/remote.h), and what `bkp host check` reports of it.
 */
#ifndef BKP_OPS_REMOTE_HOST_H
#define BKP_OPS_REMOTE_HOST_H

#include "bkp/host/remote.h"
#include "bkp/host/wire.h"
#include "policies/policy.h"

/* `h` as a connection's host (borrowed from `h`). */
void ops_remote_host(const pol_host *h, bkp_remote_host *out);

/* What went wrong reaching a host (`rc` of bkp_remote_finish or
 * bkp_remote_hello; -ECHILD and -ETIMEDOUT are the command's own and not
 * said here): a clause in English (N_), NULL for the others. Only for a
 * host's: the same codes mean other things of a command run here. */
const char *ops_remote_why(int rc);

/* The paths of the data sets of host `h` against what its agent said in
 * `hi` it may read and can enter, both normalised as the backup and the
 * agent do (bkp_walk_root): each problem said (a path below none of its
 * folders, in one not there, in one its user cannot enter), with what to
 * change where. Their number. */
int ops_host_paths_check(const pol_policy *p, const pol_host *h, const bkp_wire_hello *hi);

#endif
