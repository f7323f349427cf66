/*
 * lock.h — one holder at a time (a run, a prune).
 *
 * A lock is a file in the repository's locks/ directory naming the host, pid,
 * user, command and time of its holder, created O_EXCL and held with flock for
 * as long as the holder lives. A lock whose holder is dead — its pid gone on
 * this host, and its flock free — is stale: it is taken over, with a warning.
 * A lock held by another host is never guessed stale.
 */
#ifndef BKP_LOCK_H
#define BKP_LOCK_H

#include "bkp/repo.h"

typedef struct bkp_lock bkp_lock;

/* Take lock `name` (e.g. "run"). -EBUSY when another holder is alive (its
 * description is logged); 0 with `*out` on success. */
int bkp_lock_take(bkp_repo *r, const char *name, const char *command, bkp_lock **out)
    __attribute__((warn_unused_result));
/* Release and remove; NULL is a no-op. */
void bkp_lock_release(bkp_lock *l);

#endif
