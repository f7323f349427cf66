/*
 * procedure.h — the restore engine running a runbook, for real or as a drill.
 *
 * Steps run in order; each is timed. The first step that fails stops the
 * procedure (a `restore` that loses some files does not: they are listed and
 * the step counts as done with damage). What each action does:
 *   confirm  asked on the terminal (y/N); without one, attested by the name
 *            given for the step's role (--attest, attest.h), or in a drill
 *            recorded as not rehearsed;
 *   select   the newest generation of the data set that is sealed, not
 *            suspicious (unless cleared), captured before `before`, and whose
 *            objects are all present, looking at the sources in order (the
 *            primary, on-line disks, removable disks, archives);
 *   verify   reads every blob of the selected generation back from its source
 *            and authenticates it; with `fallback: older`, a failure sends the
 *            procedure back to select the next candidate (the same generation
 *            on the next source first, then older ones);
 *   restore  into `to` (re-rooted under the sandbox in a drill), carrying on
 *            past damaged files while listing them, then reads the restored
 *            files back and compares them with the generation;
 *   run      `sh -c` the command; a non-zero exit fails the step;
 *   check    the same: its exit status decides;
 *   note     shown.
 * Commands get a clean environment (bkp/host/cmdenv.h: an allowlist, a fixed
 * PATH, the step's own env, never a passphrase source) with BKP_TARGET (the
 * last restore's folder), BKP_SANDBOX (drills), BKP_DATASET, BKP_GENERATION,
 * BKP_RUNBOOK and BKP_DRILL=1 in a drill; they run as the step's or the
 * runbook's run_as user when one is named, in the sandbox in a drill.
 *
 * In a drill, every `to` is re-rooted under the sandbox, which is held open
 * as a directory descriptor: the folder is looked up and made beneath it
 * (restore/beneath.h) and restored into by descriptor, so a link restored by
 * an earlier step cannot lead a later one out. What a command itself does
 * is not confined: see the operator guide's drill section.
 */
#ifndef RST_PROCEDURE_H
#define RST_PROCEDURE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bkp/media/label.h"
#include "bkp/store/repo.h"
#include "restore/attest.h"
#include "restore/runbook.h"

/* Where generations can be read from, in the order they are tried. */
typedef struct rb_source {
    const char *name; /* "repository", or a medium's name */
    const bkp_repo *repo;
} rb_source;

typedef enum {
    RB_DONE,          /* carried out (for confirm: attested) */
    RB_NOT_REHEARSED, /* a confirm in an unattended drill */
    RB_FAILED,
    RB_NOT_REACHED, /* a step after the one that failed */
} rb_status;

typedef struct rb_env {
    rb_source *sources;
    size_t nsources;
    bool drill;
    const char *sandbox;     /* drill: where `to` folders and commands go */
    bool interactive;        /* ask confirms on the terminal */
    const rb_attest *attest; /* who attests the confirms when not interactive; NULL: nobody */
    bool force;              /* restore into non-empty folders */
    int workers;
    /* What its commands' environment is built from (bkp_hook_spec.inherited,
     * borrowed); NULL: the process's own. */
    char *const *inherited;
    /* Nobody watches (a drill `bkp run` holds under cron): what its
     * commands write is kept, not passed on — a check that passes is
     * quiet, one that fails is said with its last lines. */
    bool quiet;
} rb_env;

typedef struct rb_step_result {
    rb_status status;
    double seconds;
    /* What happened: in English (the report's record, the audit log), in
     * Japanese (the report rendered in Japanese) and in the reader's
     * language (the terminal). */
    char detail[512];
    char detail_ja[768];
    char shown[768];
} rb_step_result;

/* A data set the run restored, in order. */
typedef struct rb_restored {
    char dataset[128];
    char generation[128];                 /* "emr-db:42" */
    char source[BKP_MEDIUM_NAME_MAX + 1]; /* where it was read from: a medium's name */
    uint64_t damaged;                     /* files that could not be restored */
} rb_restored;

typedef struct rb_result {
    rb_step_result *steps; /* one per step of the runbook */
    double seconds;        /* the whole procedure: the measured RTO */
    bool ok;
    size_t failed_step;                   /* 1-based; 0 when none failed */
    char generation[128];                 /* "emr-db:42", the one restored */
    char source[BKP_MEDIUM_NAME_MAX + 1]; /* where it was read from: a medium's name */
    uint64_t files, bytes, damaged;
    size_t fallbacks; /* candidates given up for an older or another copy */
    rb_restored *restored;
    size_t nrestored;
} rb_result;

/* Run `rb`. Returns 0 when every step was done (or not rehearsed), 1 when a
 * step failed (`res` says which and why), negative when it could not start. */
int rb_execute(const rb_runbook *rb, const rb_env *env, rb_result *res);
void rb_result_clear(rb_result *res);

const char *rb_status_name(rb_status s); /* "done", "not rehearsed", "failed", "not reached" */

#endif
