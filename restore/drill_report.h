/*
 * drill_report.h — what a drill or a restore by runbook leaves behind once the
 * engine (procedure.h) has run: its report (a typed record, rendered for
 * people in Markdown or HTML and written as JSON for machines), a drill's report
 * files, and the audit record kept for each data set it restored. bkp/ops/drill.h finds the sources
 * and runs the engine, the program prints; what is kept is decided here, where a unit test reaches
 * it without a terminal, a medium or a policy.
 *
 * Errors are negative errno values; nothing here prints but rb_sandbox_check.
 */
#ifndef RST_DRILL_REPORT_H
#define RST_DRILL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/keys/sheet.h"
#include "bkp/report/doc.h"
#include "bkp/report/status_doc.h"
#include "restore/procedure.h"

/* One step of the report: the runbook's step and what became of it. */
typedef struct rb_report_step {
    const char *who;
    const char *what; /* may be NULL */
    const char *text; /* may be NULL */
    rb_action action;
    rb_status status;
    double seconds;
    const char *detail;    /* English: the record's */
    const char *detail_ja; /* "" or NULL: only the English was kept */
    const char *shown;     /* in the reader's language (the terminal's) */
} rb_report_step;

/* The report of a run or drill. Every pointer is borrowed (from the
 * runbook, the result and the caller) but `steps` and `attested_by`, which
 * rb_report_clear frees, and `reports`, the report files written, which it
 * clears. */
typedef struct rb_report {
    bool ok, drill;
    const char *runbook, *title, *file;
    const char *owner; /* may be NULL */
    char *const *datasets;
    size_t ndatasets;
    time_t started;
    const char *sandbox; /* a drill's; NULL otherwise */
    const char *user;    /* the account it ran as */
    char *attested_by;   /* who attested the confirms (rb_attest_text), owned; NULL: nobody */
    bool attended;       /* a person confirmed every confirm step */
    int64_t rto_target;  /* seconds; 0: none */
    double seconds;      /* the whole procedure: the measured RTO */
    bool rto_met;
    size_t failed_step; /* 1-based; 0: none */
    const char *generation, *source;
    uint64_t files, bytes, damaged;
    size_t fallbacks;
    rb_report_step *steps;
    size_t nsteps;
    const rb_restored *restored;
    size_t nrestored;
    /* A drill: which sources it read, and why ("offline", "no_offline",
     * "primary", "named", "key_recovery", "all": bkp/ops/drill.h); NULL
     * otherwise. */
    const char *read_from;
    /* A key-recovery drill: the sheets that opened the key; NULL otherwise. */
    const bkp_sheets_used *key_recovery;
    bkp_strlist reports;        /* the report files written */
    bkp_strlist reports_sha256; /* the SHA-256 of each (hex), in the same order */
    /* The repository whose signed audit log keeps the report's record: its
     * id and its signing key's fingerprint (pubkey.h), said in the report
     * so that a reader knows which log proves it; NULL: not said. */
    const char *repository, *key_fingerprint;
} rb_report;

/* The report of `res`, the run of `rb` under `env` that started at
 * `started` as `user`: 0, or -ENOMEM (`r` then empty). */
int rb_report_make(const rb_runbook *rb, const rb_env *env, const rb_result *res, time_t started,
                   const char *user, rb_report *r) __attribute__((warn_unused_result));
void rb_report_clear(rb_report *r);

/* The report as JSON text (indented, keys sorted), as the report file keeps
 * it; with `reports`, the files written too (what `--json` prints).
 * malloc'd; NULL without memory. */
char *rb_report_json(const rb_report *r, bool reports);

/* A sandbox given by the operator must be a new or empty folder, and not
 * the root: a drill writes everything it restores below it. Says why not
 * (bkp_error) and returns false. */
bool rb_sandbox_check(const char *dir);

/* "drill-NAME-20261125T043000+0900": the name of a drill's report files, by
 * its runbook and the time it started (the server's local time and its
 * offset). malloc'd; NULL without memory. */
char *rb_report_stem(const rb_runbook *rb, time_t started);

/* Write the report in every form people read (Markdown and HTML, Japanese
 * and English) and as JSON into `dir` (made 0700 when missing), each file
 * 0600 and durable: the reports name patients' data sets, hosts and people.
 * The paths written are added to `r->reports`, and their SHA-256 to
 * `r->reports_sha256`: the audit record keeps both (rb_record), so that
 * `bkp audit check FILE` tells a report as written from one changed since.
 * A report there is never replaced: when `stem` is taken (another drill in
 * the same second), the files are named `stem`-2, -3, … Stops at the first
 * failure and returns it; the files before it stay. */
int rb_report_write(rb_report *r, const char *dir, const char *stem);

/* How many confirm steps no person rehearsed (an unattended drill). */
size_t rb_not_rehearsed(const rb_report *r);

/* How many audit records the run gets: one per data set restored, and,
 * when it failed, one per data set of the runbook it did not reach (so
 * that each data set's status and evidence show the failure); one for the
 * runbook's first data set when there is none of those. */
size_t rb_record_count(const rb_report *r);

/* What the audit log keeps of a drill or restore by runbook (the `k`-th of
 * rb_record_count) into `rec`, whose figures are a new reference the
 * caller releases (json_decref) after writing the record; `rec` borrows
 * from them and from `r`. Figures NULL: out of memory. */
void rb_record(const rb_report *r, size_t k, bkp_audit_rec *rec);

/* The figures of a drill's or a restore's audit record (rb_record) read back
 * typed: the one place their names are spelled for the records' readers
 * (the status, the evidence report, the annex, `audit check`). Strings are
 * borrowed from the record (valid while it is held); a figure absent, of
 * another type or out of range, and every figure of a record of another op,
 * reads as unsaid: NULL, -1, RST_UNSAID, false. */
typedef struct rb_drill_figures {
    const char *runbook, *attested_by, *read_from;
    double seconds;                              /* the measured RTO */
    int64_t rto_target;                          /* seconds; 0: none */
    int64_t failed_step, not_rehearsed, damaged; /* as rb_record counts them */
    rst_tri rto_met, attended;
    bool key_recovery; /* the key sheets alone opened the key */
    bool unstarted;    /* a scheduled drill that could not start ("unstarted"): its runbook
                          could not be used, or no copy could be read */
} rb_drill_figures;
void rb_drill_figures_read(const bkp_audit_entry *e, rb_drill_figures *f);
/* Whether nobody followed the drill's written steps: it says so, or (a
 * record from before drills said it) its people's steps were not
 * rehearsed. A key-recovery drill is a kind of its own: false. */
bool rb_drill_figures_unattended(const rb_drill_figures *f);

/* The report for people, in Markdown or HTML (bkp/report/doc.h), in
 * Japanese or English (malloc'd; NULL without memory). */
char *rb_report_render(const rb_report *r, rb_format f, bool ja);
/* Which sources a drill read, and why, for people: a report's read_from. */
const char *rb_read_from_text(const char *from);
/* A step's status, for people. */
const char *rb_status_word(rb_status s);
/* Where a copy or a restore came from, in the reader's words: "repository"
 * is no medium's name, it is the server's own. */
const char *rb_source_words(const char *src);

#endif
