/*
 * rotate_choose.h — which generations a rotation copies to a medium.
 *
 * Every kind of rotation (a disk, a write-once archive, an object bucket)
 * copies the newest clean generation of each data set the policy sends to
 * that medium. "Clean" is judged as prune judges it: a record that is
 * intact (its signature checks, it is not a tombstone), whose capture time
 * is in order (policies/retention.h: not backdated, not in the future), and
 * that the change-rate guard did not mark suspicious unless a signed
 * clearance vouches for it. A generation passed over is warned about once,
 * naming the command that clears it; an older clean one takes its place,
 * so a forged or encrypted-looking newest capture never replaces a good
 * off-line copy.
 *
 * Nothing here touches a repository: the records are read by the caller.
 */
#ifndef BKP_OPS_ROTATE_CHOOSE_H
#define BKP_OPS_ROTATE_CHOOSE_H

#include <stddef.h>

#include "bkp/store/generation.h"
#include "policies/policy.h"

/* From `v` (`n` records, grouped by data set, each group by ascending
 * sequence), the newest clean generation of each data set that `policy`
 * copies to `medium` (every data set when `policy` is NULL) into `out`,
 * which has room for `n`. Returns how many were chosen. The pointers in
 * `out` borrow from `v`. */
size_t ops_rotate_choose(const pol_policy *policy, const char *medium, bkp_gen **v, size_t n,
                         bkp_gen **out);

#endif
