/*
 * drill_report.h — what a drill or a restore by runbook leaves behind once the
 * engine (procedure.h) has run: a drill's report files, and the audit record
 * kept for each data set it restored. bkp/ops/drill.h finds the sources and
 * runs the engine, the program prints; what is kept is decided here, where a unit test
 * reaches it without a terminal, a medium or a policy.
 *
 * Errors are negative errno values; nothing here prints but rb_sandbox_check.
 */
#ifndef RST_DRILL_REPORT_H
#define RST_DRILL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "bkp/audit/audit.h"
#include "restore/procedure.h"

/* A sandbox given by the operator must be a new or empty folder, and not
 * the root: a drill writes everything it restores below it. Says why not
 * (bkp_error) and returns false. */
bool rb_sandbox_check(const char *dir);

/* "drill-NAME-20261124T193000Z": the name of a drill's report files, by its
 * runbook and the time it started (UTC). malloc'd; NULL without memory. */
char *rb_report_stem(const rb_runbook *rb, time_t started);

/* Write the report in every form people read (Markdown and HTML, Japanese
 * and English) and as JSON into `dir` (made 0700 when missing), each file
 * 0600 and durable: the reports name patients' data sets, hosts and people.
 * The paths written are appended to `files` (an array). Stops at the first
 * failure and returns it; the files before it stay. */
int rb_report_write(json_t *report, const char *dir, const char *stem, json_t *files);

/* How many confirm steps no person rehearsed (an unattended drill). */
size_t rb_not_rehearsed(const rb_runbook *rb, const rb_result *res);

/* How many audit records the run gets: one per data set restored, or one
 * for the runbook's first data set when none was reached. */
size_t rb_record_count(const rb_result *res);

/* What the audit log keeps of a drill or restore by runbook (the `k`-th of
 * rb_record_count): fills `rec` and returns its figures (a new reference
 * the caller releases after writing the record; `rec` borrows from it, from
 * `rb` and from `res`). `report` is rb_report_json's, `files` the report
 * files written (may be empty), `attest` who attested (NULL when
 * unattended), `key_used` the sheets of a key-recovery drill (NULL
 * otherwise; they carry no secret). */
json_t *rb_record(const rb_runbook *rb, const rb_result *res, json_t *report, size_t k,
                  bool drill, json_t *files, const char *attest, json_t *key_used,
                  bkp_audit_rec *rec);

#endif
