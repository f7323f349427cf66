/*
 * object_fetch.h — an object medium's copy fetched back (for `restore
 * --from`, a drill and `verify --media`) and repaired: a private staging
 * folder that a killed fetch does not leave behind for long, the packs the
 * asked-for generations need, and the bad current versions of its packs
 * uploaded again from a good copy.
 * The program opens the S3 connection (object_medium.h), the fetched copy
 * (with the primary's keys, the passphrase or the sheets) and prints.
 *
 * Ownership: handles are borrowed; returned paths are malloc'd. Errors: a
 * negative errno, logged where it happens.
 */
#ifndef BKP_OPS_OBJECT_FETCH_H
#define BKP_OPS_OBJECT_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "bkp/io/bytes.h"
#include "bkp/media/bucket.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"

/* Which generations' packs are fetched: `spec` (DATASET:latest,
 * DATASET:SEQ, a UUID prefix) and `spec2` when given (the two of `bkp
 * diff`), and of each of `datasets` the `newest` newest (OPS_FETCH_NEWEST
 * for a drill) or all (0: `bkp find --dataset`); with `records` none (the
 * list of generations, `bkp generations --from`). A generation without a
 * signed list of its packs fetches them all. */
#define OPS_FETCH_NEWEST 3
typedef struct ops_fetch_what {
    bool records;
    const char *spec, *spec2;
    char *const *datasets;
    size_t ndatasets;
    size_t newest;
} ops_fetch_what;

/* A private staging folder $TMPDIR/bkp-WHAT-XXXXXX ($TMPDIR else
 * /var/tmp; mode 0700) holding the pid of this process in `pid`, so that
 * the next one removes it when this process is killed before it could. The
 * stale folders of `what` are removed first: real folders of this user, of
 * mode 0700, named as ours, whose `pid` names a process that no longer runs
 * (a folder without its pid yet is left). malloc'd, or NULL (logged). */
char *ops_object_staging(const char *what);

/* The packs `what` needs in `copy` (records fetched, no packs yet): 0 with
 * `*subset` set when `want` holds them (sorted), 0 without it when every
 * pack must be fetched (no `what`, or a generation without a signed list
 * that checks, warned about), or the error of a `spec` that resolves to no
 * generation of the copy. */
int ops_object_want(bkp_repo *copy, const ops_fetch_what *what, bkp_bucket_packset *want,
                    bool *subset) __attribute__((warn_unused_result));

/* Upload again from `src` each object of `f` whose current version did
 * not check, locked as medium `pm` locks: a hidden config or key file, and
 * every stale or damaged pack (bkp_bucket_put_pack checks it first). Its
 * path or hex ID joins `fixed`. Records are left for `bkp rotate`. Returns
 * how many could not be. */
int ops_object_repair(bkp_s3 *s, const pol_medium *pm, bkp_repo *src, const bkp_bucket_fetch *f,
                      bkp_strlist *fixed);

#endif
