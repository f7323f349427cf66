/*
 * object_medium.h — an object medium (an S3 bucket with Object Lock,
 * bkp/media/bucket.h) as `bkp media label --name`, `bkp media probe` and the
 * status page see it: the bucket labelled, its lock proven by a canary, and
 * what the media registry and the signed audit log remember of it. The
 * rotation is medium_bucket.c's (rotate.h), the fetch back object_fetch.h; the program
 * opens the S3 connection (ops_object_open) and prints the results.
 *
 * Ownership: every handle passed in is borrowed for the call. Errors: a
 * negative errno; the failures of S3 and of the bucket are logged where
 * they happen (bkp/media/bucket.h), the refusals of this module here.
 */
#ifndef BKP_OPS_OBJECT_MEDIUM_H
#define BKP_OPS_OBJECT_MEDIUM_H

#include <stdbool.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/media/bucket.h"
#include "bkp/media/registry.h"
#include "bkp/store/repo.h"
#include "bkp/s3/s3.h"
#include "policies/policy.h"

/* What a label, probe or rotation of an object medium works with. */
typedef struct ops_object_in {
    bkp_repo *primary;        /* open writable (a public one appends no record) */
    const pol_policy *policy; /* may be NULL: every data set, no retention */
    const char *medium;       /* its name */
    const pol_medium *pm;     /* its entry in the policy, of type POL_OBJECT */
    const char *location;     /* the policy's, else the label's (a new label's) */
    const bkp_media_entry *entry; /* its registry entry, or NULL: never labelled */
    bkp_s3 *s;                /* the connection to its bucket (ops_object_open) */
    bool force;               /* `--force`: label it anew, or under a taken name */
} ops_object_in;

/* The S3 connection to the bucket that `pm` (POL_OBJECT) names: 0 with
 * `*out`, -EPERM or -EINVAL for credentials or a policy entry that cannot
 * work (the operator's to fix), else another negative errno (logged). */
int ops_object_open(const pol_medium *pm, bkp_s3 **out) __attribute__((warn_unused_result));
/* The lock mode of `pm`'s objects: COMPLIANCE unless the policy says GOVERNANCE. */
bkp_s3_lock ops_object_mode(const pol_medium *pm);
/* The shortest retain-until of anything uploaded at `now`: its lock_days on. */
time_t ops_object_floor(const pol_medium *pm, time_t now);

/* A registry entry's update (bkp_media_update's callback): each field that
 * is set is written, with `last_seen` now. A `label` of another medium than
 * the entry's starts a new history (the name was given to another bucket). */
typedef struct ops_object_note {
    const bkp_label *label;        /* set when labelled */
    const char *label_version;     /* with it: the version id the bucket gave it, or NULL */
    const bkp_bucket_probe *probe; /* set after a probe */
} ops_object_note;
int ops_object_note_entry(bkp_media_entry *e, void *ctx);

/* Append `rec` to the audit log of `r`, as every command does: nothing for
 * a repository opened with its public key alone (nothing can be signed). */
int ops_object_audit(bkp_repo *r, const bkp_audit_rec *rec);

/* Label the bucket (bkp_bucket_label, locked for the medium's lock_days)
 * and register it: 0 with `*label`, or an error; `*usage` says the
 * operator's part in it: a name registered to another bucket (-EEXIST,
 * refused unless `force`), a bucket of another repository (-EEXIST) or
 * without Object Lock (-ENOTSUP). The same bucket labelled again keeps its
 * label. The label is recorded in the audit log when it was attempted. */
int ops_object_label(const ops_object_in *in, bkp_label *label, bool *usage)
    __attribute__((warn_unused_result));

/* Prove the lock with a COMPLIANCE canary, and note it in the registry and
 * the audit log (`media-probe`, with the label, bucket, endpoint and mode).
 * A GOVERNANCE medium is never proven, whatever the canary shows: its own
 * objects yield to a credential allowed to bypass. 0 when the probe ran,
 * with `*pr` (proven or not) and `*noted` 0, or -EIO when the registry or
 * the log could not be written; else the error that stopped it: the probe
 * could not run, or the medium is not labelled (-ENOENT, `*usage`). */
int ops_object_probe(const ops_object_in *in, bkp_bucket_probe *pr, int *noted, bool *usage)
    __attribute__((warn_unused_result));

/* Did the last probe of the medium of registry entry `entry`, by its
 * label, prove a COMPLIANCE lock on the bucket and endpoint `p` says now,
 * by the signed audit log of `r` (never by the registry, which anyone who
 * can write the repository may edit)? False too while the medium holds a
 * generation a rotation copied under GOVERNANCE. `*when`: that probe's
 * time, or 0. */
bool ops_object_proven(const bkp_repo *r, const pol_policy *p, const bkp_media_entry *entry,
                       time_t *when);

/* The retain-until of generation `g` on medium `pm`: from its capture, the
 * longest of the medium's lock_days and what the data set's retention keeps
 * (in days of the lock); never less than the medium's lock from `now` (a
 * generation copied late). */
time_t ops_object_until(const pol_policy *p, const pol_medium *pm, const bkp_gen *g, time_t now);

/* Which generations `v` (`n`, the bucket's) a prune deletes: `doomed[i]`
 * for those the retention does not keep (at least three of each data set
 * stay) and that are not tombstones already. 0 or -ENOMEM. */
int ops_object_doomed(const pol_policy *p, bkp_gen **v, size_t n, bool *doomed);

/* The working folder of a rotation to `medium`: REPO/cache/bucket-NAME,
 * emptied first and made anew (mode 0700): a malloc'd path, or NULL
 * (logged). */
char *ops_object_work_dir(bkp_repo *r, const char *medium);

#endif
