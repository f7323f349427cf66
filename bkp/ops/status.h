/*
 * status.h — the 3-2-1 picture of a repository, as one JSON document: what
 * `bkp status --json` prints, what the status page (bkp/report/status_page.h)
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

#include "bkp/audit/audit.h"
#include "bkp/media/registry.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/storage.h"
#include "bkp/store/repo.h"
#include "policies/compliance.h"
#include "policies/policy.h"

typedef struct ops_status_in {
    const bkp_repo *repo;           /* open, borrowed */
    const pol_policy *policy;       /* borrowed */
    const pol_medium_state *states; /* one per medium of the policy, in its order (borrowed) */
    const ops_pin_findings *pins;   /* what the primary lacks of the media's pins, or NULL */
    bool pins_unchecked;            /* they could not be checked (logged) */
    /* Whether the object lock of the bucket of registry entry `entry` was
     * proven by a probe, and when (`*when`); NULL: never proven. */
    bool (*proven)(void *ctx, const bkp_media_entry *entry, time_t *when);
    void *ctx;
    bool shown; /* add "shown": reasons and action in the reader's language */
    /* Also given each record of the one reading of the audit log that the
     * status rests on (the sound ones, in order; borrowed for the call),
     * for another reader of the same records in the same pass — the
     * evidence report (report.h). NULL: none. Its return is not used. */
    int (*also)(json_t *rec, void *ctx);
    void *also_ctx;
} ops_status_in;

/* What the one reading of the audit log by ops_status found: the check of
 * the whole log with the repository's public key (so that the page never
 * calls it intact unverified) and the last successful key-recovery drill
 * among its sound records. The log is read once and each record's
 * signature checked once for all of it. */
typedef struct ops_status_log {
    int rc;                /* 0 sound, 1 problems (check.why), negative: not read */
    bkp_audit_check check; /* what was found */
    time_t checked;        /* when */
    time_t key_drill;      /* the last successful key-recovery drill, 0: none */
    time_t created;        /* the log's first sound record (the repository's creation), 0: none */
    ops_storage storage;   /* what the generations listed stand for (storage.h; no files yet) */
} ops_status_log;

/* The data sets' statuses (a new array), `*worst` receiving the worst
 * verdict (pol_verdict); `log` (may be NULL) what the reading of the audit
 * log found, for ops_status_doc and ops_key_drill_status. NULL when the
 * records or the registry cannot be read, or without memory: the log is
 * then not read (`log->rc` negative), and `in->also` not called. */
json_t *ops_status(const ops_status_in *in, int *worst, ops_status_log *log);

/* The key-recovery drill reminder of `policy` (NULL: the default, once a
 * year): {last, every_seconds, due} from what ops_status found in the log
 * (`log`; NULL: none found). */
json_t *ops_key_drill_status(const ops_status_log *log, const pol_policy *policy);

/* The whole document: {verdict, datasets, key_drill, generated, rotations,
 * audit, connected, facility, host, storage (storage.h: what a copy needs)}. Takes `all` (the result of ops_status) even on failure; NULL
 * without memory. "audit" is the check `log` holds (from the same
 * ops_status): {checked, records, ok, absent, problem (English), code,
 * detail, restarts}. */
json_t *ops_status_doc(const ops_status_in *in, json_t *all, int worst, const ops_status_log *log);

/* The status page of `doc` (rst_status_page, Japanese when `ja`) written
 * durably to `file`, mode 0644: 0, -EISDIR for a folder's name, -ENOMEM,
 * or the durable write's error. */
int ops_status_page_write(json_t *doc, const char *file, bool ja);

#endif
