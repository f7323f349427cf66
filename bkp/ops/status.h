/*
 * status.h — the 3-2-1 picture of a repository, as one JSON document: what
 * `bkp status --json` prints, what the status page (restore/status_page.h)
 * renders, what `bkp run`, the metrics and the evidence report read.
 *
 * Per data set (in priority order): its verdict from policies/compliance.c,
 * the copies on media the registry records (a medium whose last check failed
 * does not count), the last backup, verification and drill from the audit
 * log, the reasons and the next action — in English for programs, under
 * "shown" in the reader's language and under "ja" in Japanese for the page.
 * The document adds the key-recovery drill reminder, the coming rotations
 * and the audit log checked now.
 *
 * Read-only: nothing is written to the repository. What the program knows
 * better (when each medium was last written, which media pinned the primary,
 * whether a bucket's lock was proven) is given in ops_status_in.
 */
#ifndef BKP_OPS_STATUS_H
#define BKP_OPS_STATUS_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "bkp/repo.h"
#include "policies/compliance.h"
#include "policies/policy.h"

typedef struct ops_status_in {
    bkp_repo *repo;                 /* open, borrowed */
    const pol_policy *policy;       /* borrowed */
    const pol_medium_state *states; /* one per medium of the policy, in its order (borrowed) */
    json_t *pins;                   /* what media pinned of the primary, or NULL (borrowed) */
    /* Whether the object lock of the bucket of registry entry `entry` was
     * proven by a probe, and when (`*when`); NULL: never proven. */
    bool (*proven)(void *ctx, const json_t *entry, time_t *when);
    void *ctx;
    bool shown; /* add "shown": reasons and action in the reader's language */
} ops_status_in;

/* The data sets' statuses (a new array), `*worst` receiving the worst
 * verdict (pol_verdict). NULL when the records or the registry cannot be
 * read, or without memory. */
json_t *ops_status(const ops_status_in *in, int *worst);

/* The key-recovery drill reminder of `policy` (NULL: the default, once a
 * year): {last, every_seconds, due} from the audit log of `r` (may be NULL). */
json_t *ops_key_drill_status(const bkp_repo *r, const pol_policy *policy);

/* The whole document: {verdict, datasets, key_drill, generated, rotations,
 * audit}. Takes `all` (the result of ops_status) even on failure; NULL
 * without memory. The audit log is verified now with the repository's
 * public key, so the page never calls it intact unverified. */
json_t *ops_status_doc(const ops_status_in *in, json_t *all, int worst);

/* The status page of `doc` (rst_status_page, Japanese when `ja`) written
 * durably to `file`, mode 0644: 0, -EISDIR for a folder's name, -ENOMEM,
 * or the durable write's error. */
int ops_status_page_write(json_t *doc, const char *file, bool ja);

#endif
