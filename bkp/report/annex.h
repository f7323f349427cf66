/*
 * annex.h — the backup section of a hospital's operations rules (運用管理規程):
 * the annex that the 2024 fee revision's Q&A (疑義解釈資料その8 問2) asks to
 * be attached, rendered from the policy in force and a few facts from the
 * audit log. The data sets and their priority, the generations each keeps,
 * the media with their non-editable function and where they are kept, the
 * off-line procedure, the recovery procedures with their targets and last
 * drills, where the key is kept (never a secret), and the table of the
 * guideline's service levels (12.2): target, frequency, generations,
 * method, storage place. Nothing is looked up: text from values.
 */
#ifndef RST_ANNEX_H
#define RST_ANNEX_H

#include <stdbool.h>

#include <time.h>

#include "policies/policy.h"
#include "bkp/report/doc.h"
#include "bkp/report/status_doc.h"

/* One audit record the annex cites: when, and how it went. */
typedef struct rst_cited {
    time_t time;     /* 0: none recorded */
    bool ok;         /* its outcome was "ok" */
    bool refused;    /* a rotation refused: nothing written */
    double seconds;  /* a drill's measured time; < 0: not said */
    rst_tri rto_met; /* a drill within its target */
    bool unattended; /* a drill nobody followed the steps of (rb_drill_figures_unattended) */
} rst_cited;

/* A procedure the policy names, and its last drill. */
typedef struct rst_annex_runbook {
    char *name;
    bool invalid;                          /* named, but it does not load */
    char *title, *owner, *passphrase_note; /* NULL: not said */
    int64_t rto;                           /* its target, seconds; 0: none */
    rst_cited drill;
    rst_cited attended; /* the last drill with the staff, when the last was unattended */
} rst_annex_runbook;

/* A medium of the policy: its last rotation, the last that succeeded, and
 * its last lock probe (a bucket's). */
typedef struct rst_annex_medium {
    char *name;
    rst_cited last, last_ok, probe;
} rst_annex_medium;

/* Whether the audit log could be read for these facts. */
typedef enum { RST_LOG_READ, RST_LOG_NONE, RST_LOG_UNREADABLE } rst_log_state;

/* What the annex cites beyond the policy (bkp/ops/annex.h gathers it). */
typedef struct rst_annex_facts {
    time_t generated;
    rst_log_state audit;
    rst_annex_runbook *runbooks; /* each named once */
    size_t nrunbooks;
    rst_annex_medium *media; /* those the log names of the policy's */
    size_t nmedia;
} rst_annex_facts;

/* Free what `f` holds; `f` is left empty. */
void rst_annex_facts_clear(rst_annex_facts *f);

/* The annex of policy `p` (borrowed) in format `f`, in Japanese when `ja`
 * (through the message catalogue, whatever the locale), else English, with
 * `facts` (borrowed; NULL: none known). Returns the text (malloc'd), or NULL
 * when out of memory. */
char *rst_annex_render(const pol_policy *p, const rst_annex_facts *facts, rb_format f, bool ja);

#endif
