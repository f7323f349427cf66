/*
 * report.h — the evidence report's document: what an inspector asks for
 * under checklist item 3-② for a period, gathered from the signed audit log
 * (every claim names the records, by sequence number, it rests on) and from
 * the repository as it is now. bkp/report/evidence.c renders it (Markdown,
 * HTML; ja, en); `bkp audit report --json` prints it.
 *
 * Per data set: backups run, failed and suspicious, generations kept, the
 * 3-2-1 verdict (from bkp/ops/status.h), rotations and the longest gap
 * between off-line copies, drills with their measured recovery time, its
 * runbook; then the verifications, the integrity of the audit chain, every
 * key operation, the public key's fingerprint and the closing statement
 * (rb_evidence_statement).
 *
 * Read-only. The runbooks are loaded through the program's loader (it
 * checks who may change them), given in ops_report_in.
 */
#ifndef BKP_OPS_REPORT_H
#define BKP_OPS_REPORT_H

#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/ops/status.h"
#include "bkp/report/evidence_doc.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"
#include "restore/runbook.h"

typedef struct ops_report_in {
    const bkp_repo *repo;     /* open with its keys, borrowed */
    const pol_policy *policy; /* borrowed */
    time_t from, to;          /* the period, UTC, both included; from <= to */
    bool from_default;        /* `from` is the default (30 days back), not asked for */
    const rst_status *status; /* the data sets of ops_status (borrowed; may be NULL) */
    /* With it (borrowed), the data sets' status is gathered here instead
     * (`status` is not used), from the same reading of the audit log as
     * the records of the period: the log is read once, each signature
     * checked once. NULL: the log is read here for the records alone. */
    const ops_status_in *status_in;
    /* Load runbook `name` into `*out`: 0, or non-zero when it cannot be
     * (the report then calls it invalid). */
    int (*load_runbook)(void *ctx, const char *name, rb_runbook **out);
    void *ctx;
} ops_report_in;

/* The evidence of the period into `*out` (rb_evidence_clear frees it),
 * judged (its statement made). 0 when the audit log was checked (its
 * problems are said in the evidence: audit.ok false), negative when it
 * cannot be read (the evidence then says so); -ENODATA (said, `*out`
 * empty) for a period that ended before the repository was made, of which
 * nothing can be said; -ENOMEM (`*out` empty). */
int ops_report(const ops_report_in *in, rb_evidence *out);

/* The audit record of an evidence report written to the file at `path`
 * (op "report"), so that `bkp audit check FILE` tells the file handed over
 * from one edited since: its path and SHA-256 (`sha256`, hex;
 * bkp_audit_reports_set), its period and its answer, into `rec`, whose
 * figures are a new reference the caller releases after writing it (NULL
 * without memory: nothing to record). */
void ops_report_rec(const char *path, const char *sha256, time_t from, time_t to, bool answer,
                    bkp_audit_rec *rec);
/* Such a record read back: its period (0 when not said) and answer; false
 * for a record of another op. */
bool ops_report_rec_read(const bkp_audit_entry *e, time_t *from, time_t *to, bool *answer);

#endif
