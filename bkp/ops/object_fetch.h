/*
 * object_fetch.h — an object medium's copy fetched back (for `restore
 * --from`, a drill and `verify --media`) and repaired: a private staging
 * folder that a killed fetch does not leave behind for long, the packs the
 * asked-for generations need, the older key files a bucket may hold, and
 * the bad current versions of its packs uploaded again from a good copy.
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

#include <jansson.h>

#include "bkp/bucket.h"
#include "bkp/repo.h"
#include "policies/policy.h"

/* Which generations' packs are fetched: `spec` (DATASET:latest,
 * DATASET:SEQ, a UUID prefix), or the newest OPS_FETCH_NEWEST of each of
 * `datasets` (a drill). A generation without a signed list of its packs
 * fetches them all. */
#define OPS_FETCH_NEWEST 3
typedef struct ops_fetch_what {
    const char *spec;
    char *const *datasets;
    size_t ndatasets;
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

/* How a fetched copy is opened: beside `like` (the primary: its keys, and
 * the copy must be of it); else with `master`, the master secret of the key
 * sheets; else with the passphrase `pass` (`plen`). Borrowed. */
typedef struct ops_fetch_key {
    const bkp_repo *like;
    const uint8_t *master;
    const char *pass;
    size_t plen;
} ops_fetch_key;

/* Open the copy fetched into `*staging`/repo, read-only, with `k`. When
 * the newest key file does not take the passphrase, each older one the
 * fetch kept is put in its place and tried (a retired key file may have
 * been put in front). When the config is refused (a byte changed under its
 * MAC; format 2 where the fetch holds one of a later format; another
 * signing key; no key file it signed), each older config the fetch kept is
 * tried with the small objects fetched again from `s` into a new staging
 * folder, pinned to it (*staging then names that folder; the first is
 * removed): the key file and records are only ever those the config that
 * opens signed. The pinned fetch reports the config passed over in `f`'s
 * hidden list, so that verify --media counts it and --repair-from puts the
 * repository's back in front. `s` or `f` NULL: no older config is tried.
 * As bkp_repo_open. */
int ops_object_open_fetched(bkp_s3 *s, char **staging, const char *medium, const ops_fetch_key *k,
                            bkp_bucket_fetch *f, bkp_repo **out)
    __attribute__((warn_unused_result));

/* Upload again from `src` each object of `f` whose current version did
 * not check, locked as medium `pm` locks: a hidden config or key file, and
 * every stale or damaged pack (bkp_bucket_put_pack checks it first). Its
 * path or hex ID joins `fixed`. Records are left for `bkp rotate`. Returns
 * how many could not be. */
int ops_object_repair(bkp_s3 *s, const pol_medium *pm, bkp_repo *src, const bkp_bucket_fetch *f,
                      json_t *fixed);

#endif
