/*
 * rotate_object.h — a rotation to an object medium (an S3 bucket with
 * Object Lock, bkp/bucket.h): what `bkp rotate MEDIUM` and `bkp run` do
 * for a medium of type `object`, the program only printing the result.
 *
 * In this order: the medium's own rotate lock (the bucket holds none); the
 * primary checked against every medium's pin (pins.h), as for a disk,
 * before any request; its registered label found in the bucket, and put
 * back in front when a delete marker or another version hid it; the
 * newest clean generation of each data set the policy sends there chosen
 * (rotate_choose.h), each with its retain-until date (ops_object_until);
 * the copy in lock order (bkp_bucket_copy); the bucket pruned by
 * retention, keeping at least three of each data set; the rotation
 * recorded in the primary's audit log; the media registry updated. What a
 * kill at each point leaves, and what the next rotation does:
 * rotate_object.c.
 *
 * Ownership: the handles of `in` are borrowed; `out`'s JSON is owned by it
 * until ops_object_rotate_clear. Errors: a negative errno, the step in
 * `out->step`; each failure is logged where it happens.
 */
#ifndef BKP_OPS_ROTATE_OBJECT_H
#define BKP_OPS_ROTATE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "bkp/bucket.h"
#include "bkp/generation.h"
#include "bkp/ops/object_medium.h"
#include "policies/policy.h"

/* The retain-until of generation `g` on medium `pm`: from its capture, the
 * longest of the medium's lock_days and what the data set's retention keeps
 * (in days of the lock); never less than the medium's lock from `now` (a
 * generation copied late). */
time_t ops_object_until(const pol_policy *p, const pol_medium *pm, const bkp_gen *g, time_t now);

/* What a rotation to `medium` uploads of the primary's records `v` (`n`):
 * the chosen generations into `pick` and their retain-until dates into
 * `until` (both of room `n`), their names ("DATASET:SEQ") appended to
 * `names`. Returns how many. */
size_t ops_object_plan(const pol_policy *p, const char *medium, const pol_medium *pm, bkp_gen **v,
                       size_t n, time_t now, bkp_gen **pick, time_t *until, json_t *names);

/* Which generations `v` (`n`, the bucket's) a prune deletes: `doomed[i]`
 * for those the retention does not keep (at least three of each data set
 * stay) and that are not tombstones already. 0 or -ENOMEM. */
int ops_object_doomed(const pol_policy *p, bkp_gen **v, size_t n, bool *doomed);

/* The working folder of a rotation to `medium`: REPO/cache/bucket-NAME,
 * emptied first and made anew (mode 0700): a malloc'd path, or NULL
 * (logged). */
char *ops_object_work_dir(bkp_repo *r, const char *medium);

typedef enum ops_object_step {
    OPS_OBJECT_DONE = 0,
    OPS_OBJECT_LOCK,   /* the medium's rotate lock (-EBUSY: another rotation holds it) */
    OPS_OBJECT_LABEL,  /* the registered label is not in the bucket, or not readable */
    OPS_OBJECT_PINS,   /* the primary is behind or beside a pin, or its log disagrees */
    OPS_OBJECT_COPY,   /* putting the label back, choosing or copying the generations */
    OPS_OBJECT_RECORD, /* the audit record or the registry (-EIO) */
} ops_object_step;

typedef struct ops_object_rotate_out {
    json_t *copied;                /* ["DATASET:SEQ"] chosen for the bucket */
    size_t np;                     /* how many */
    bkp_bucket_result res;         /* what the copy uploaded, found and extended */
    int prune_rc;                  /* the prune's outcome (a failure leaves the copy complete) */
    bkp_bucket_prune_result prune; /* what it deleted */
    json_t *held;                  /* what the bucket holds after it, or NULL */
    bool usage;                    /* the step's failure is the operator's to fix (a label) */
    ops_object_step step;          /* OPS_OBJECT_DONE, or where it failed */
    int rc;                        /* that step's negative errno */
} ops_object_rotate_out;

/* Rotate to the bucket of `in`; `out` filled as far as it got. 0, or
 * `out->rc`. */
int ops_rotate_object(const ops_object_in *in, ops_object_rotate_out *out)
    __attribute__((warn_unused_result));
void ops_object_rotate_clear(ops_object_rotate_out *out);

#endif
