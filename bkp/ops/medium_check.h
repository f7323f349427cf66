/*
 * medium_check.h — which medium is plugged in, and when each is due.
 *
 * Before a rotation or a check writes or trusts a disk, the label at its
 * mount point (bkp/media/label.h) must be the one registered under that name for
 * this repository and this repository key: a disk of another repository, a
 * disk relabelled for a replaced key, the other disk of a pair, or a second
 * disk with the same name is refused, naming what to connect instead (the
 * medium that is most due, by the policy's rotation rules,
 * policies/compliance.h, and the registry's last writes).
 *
 * Errors: the refusals are logged (what, where, what to do) and returned as
 * a negative errno: -ENOENT no label there, -EXDEV another repository,
 * -EKEYREJECTED another repository key, -EMEDIUMTYPE another medium or not
 * the registered one, -ENXIO not registered; a label that cannot be read as
 * bkp_label_read says.
 */
#ifndef BKP_OPS_MEDIUM_CHECK_H
#define BKP_OPS_MEDIUM_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/media/registry.h"
#include "bkp/store/repo.h"
#include "policies/compliance.h"
#include "policies/policy.h"

/* Check the label at `path` against medium `name` of repository `r`, whose
 * registry entry is `entry` (NULL: never labelled); `p` (may be NULL) names
 * the medium due next in the refusal. 0 when it is that medium. */
int ops_label_check(const bkp_repo *r, const pol_policy *p, const char *name, const char *path,
                    const bkp_media_entry *entry);

/* Last writes from the registry of `r` (may be NULL: never written) and
 * whether each off-line medium is plugged in (as ops_media_connected finds
 * it), one state per medium of `p`, in its order (malloc'd; NULL without
 * memory). */
pol_medium_state *ops_media_states(const bkp_repo *r, const pol_policy *p);
/* When medium `name` of `p` (may be NULL) is next due (0: never rotated). */
time_t ops_medium_due(const bkp_repo *r, const pol_policy *p, const char *name);
/* The name of `p`'s off-line medium that is most overdue, or NULL; its due
 * time into `*when`: the next a person brings (the on-line ones are `bkp
 * run`'s to write). */
const char *ops_medium_most_due(const bkp_repo *r, const pol_policy *p, time_t *when);

/* An off-line medium plugged in. */
typedef struct ops_connected {
    const pol_medium *medium; /* borrowed from the policy */
    time_t last_write;        /* 0: never written */
    /* Its rotation is due now or later today (or it was never written): it
     * is told to be rotated first, never to be taken away before it has its
     * copy (plugged in on its swap day, before the hour). */
    bool due;
    /* Left connected (pol_medium_left): the grace has passed since its last write,
     * what status and alerts tell; within the grace it is still connected
     * (an alert is not cleared). */
    bool left;
} ops_connected;

/* The off-line media of `p` plugged in at `now`: the medium's own label is
 * at its path, on another file system than repository `r` (a disk that can
 * be taken away). Ransomware on the server reaches a disk that is plugged
 * in: it is off-line only when it is away. 0 with `*out` (`*n` of them,
 * malloc'd; NULL when none), or -ENOMEM. */
int ops_media_connected(const bkp_repo *r, const pol_policy *p, time_t now, ops_connected **out,
                        size_t *n);
/* The one of `v` (n) that is medium `name`, or NULL. */
const ops_connected *ops_connected_find(const ops_connected *v, size_t n, const char *name);

/* Is the label at `pm`'s path medium `pm`'s: its name, and the repository
 * of `r` (NULL: any; a drill without the primary)? Reads the label only. */
bool ops_medium_here(const bkp_repo *r, const pol_medium *pm);

/* Is off-line medium `pm` of `p` kept on the repository's own file system
 * (its label at its path, which is no disk mounted apart): a folder the
 * policy calls off-line that ransomware reaching the repository reaches
 * too? Reads the label only: no repository needs to be open. */
bool ops_medium_on_repo_disk(const pol_policy *p, const pol_medium *pm);

/* Is the label at `path` another repository's: another repository's UUID
 * and, where the label names one, another key's fingerprint (a label with
 * this repository's key and another UUID is forged, not foreign)? That
 * repository's UUID into `repository` when so. Reads the label, quietly. */
bool ops_label_foreign(const bkp_repo *r, const char *path, char repository[37]);
/* Is a disk of another repository mounted at off-line medium `pm`'s path
 * (an old disk after a new start, another server's: ops_label_foreign, on
 * a file system other than `r`'s)? */
bool ops_medium_foreign(const bkp_repo *r, const pol_medium *pm, char repository[37]);

#endif
