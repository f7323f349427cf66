/*
 * status.h — the 3-2-1 picture of a repository, gathered into the typed
 * record of bkp/report/status_doc.h: what `bkp status` prints and `--json`
 * emits, what the status page renders, what `bkp run`, the metrics and the
 * evidence report read.
 *
 * Read-only: nothing is written to the repository. What the program knows
 * better (when each medium was last written, which media pinned the primary,
 * whether a bucket's lock was proven) is given in ops_status_in.
 */
#ifndef BKP_OPS_STATUS_H
#define BKP_OPS_STATUS_H

#include <stdbool.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/media/registry.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/storage.h"
#include "bkp/report/status_doc.h"
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
    /* Whether the runbook `name` that data set `dataset` names can be used
     * (found, valid, and fits the policy: ops_runbook_fits; quietly: the
     * status says so, `bkp runbook show` says why); NULL: not asked. */
    bool (*runbook_usable)(void *ctx, const char *name, const char *dataset);
    void *ctx;
    bool shown; /* add "shown": reasons and action in the reader's language */
    /* When the `bkp run` asking began (0: not a run): the slots it was
     * not yet due for are not missed (policies/compliance.h). */
    time_t run_since;
    /* Also given each record of the one reading of the audit log that the
     * status rests on (the sound ones, in order; borrowed for the call),
     * for another reader of the same records in the same pass — the
     * evidence report (report.h). NULL: none. Its return is not used. */
    bkp_audit_fn also;
    void *also_ctx;
} ops_status_in;

/* What the one reading of the audit log by ops_status found: the check of
 * the whole log with the repository's public key (so that the page never
 * calls it intact unverified) and the last successful key-recovery drill
 * among its sound records. The log is read once and each record's
 * signature checked once for all of it. */
typedef struct ops_status_log {
    int rc;                /* 0 sound, 1 problems (check.why), negative: not read */
    bool read;             /* the log was read (`in->also` saw its records), even when the
                              status then failed */
    bkp_audit_check check; /* what was found */
    time_t checked;        /* when */
    time_t key_drill;      /* the last successful key-recovery drill, 0: none */
    time_t key_changed;    /* the last key add, passwd or remove, 0: none */
    time_t key_drill_old;  /* a key-recovery drill after key_drill with sheets of an older split */
    time_t key_split_new;  /* a split after key_drill, which no drill has rehearsed */
    time_t created;        /* the log's first sound record (the repository's creation), 0: none */
    rst_storage storage;   /* what the generations listed stand for (storage.h; no files yet) */
} ops_status_log;

/* The data sets' statuses into `out` (emptied first; rst_status_clear), in
 * priority order, with the worst verdict and the key-recovery drill
 * reminder; `log` (may be NULL) what the reading of the audit log found,
 * for ops_status_doc. 0, or a negative errno when the records or the
 * registry cannot be read, or without memory: the log is then not read
 * (`log->rc` negative), and `in->also` not called. */
int ops_status(const ops_status_in *in, rst_status *out, ops_status_log *log);

/* How the last rotation to a medium that began to copy stands (its registry
 * entry's attempt `a`): finished, failed, running — the writer lock of its
 * process still held on the primary at path `repo` — or cut off. */
rst_unfinished ops_attempt_state(const char *repo, const bkp_media_attempt *a);

/* The key-recovery drill reminder of `policy` (NULL: the default, once a
 * year) from what ops_status found in the log (`log`; NULL: none found). */
rst_key_drill ops_key_drill_status(const ops_status_log *log, const pol_policy *policy);

/* The rest of the document into `s` (from ops_status): the time made, the
 * coming rotations, the audit log as `log` checked it (NULL: not read),
 * the off-line media plugged in, the facility, the host, and what a copy
 * needs (left out when the folders cannot be read, said). 0 or -ENOMEM. */
int ops_status_doc(const ops_status_in *in, rst_status *s, const ops_status_log *log);

/* The status page of `s` (rst_status_page, Japanese when `ja`) written
 * durably to `file`, mode 0644: 0, -EISDIR for a folder's name, -ENOMEM,
 * or the durable write's error. */
int ops_status_page_write(const rst_status *s, const char *file, bool ja);

#endif
