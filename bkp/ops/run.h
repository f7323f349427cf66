/*
 * run.h — the cycle of `bkp run` (the cron entry), as library functions: the
 * data sets of the policy that are due, in priority order (before hook,
 * capture and seal, after hook; those of different sources side by side, at
 * most the policy's `parallel` at once, run.c), then the copies to the on-line media, the
 * rolling re-read, the drills that are due, and whether retention applies;
 * and the run's conditions for the alerts once per change (alerts.h).
 *
 * One run at a time: the caller holds the repository's named lock "run" and
 * then its writer lock for the whole cycle (the program's dispatcher takes
 * both before the repository is opened, LOCK_CYCLE in bkp/cli/main.c; a
 * second run finds "run" taken and exits 3). Nothing here takes a lock.
 *
 * What only the program knows — the audit record with the run's context,
 * the capture and seal of a data set with its change-rate guard and what it
 * prints, opening an on-line disk's copy, a rotation, a drill's runbook with
 * the key — it gives in ops_run_io; the statuses it judges (ops_status with
 * what it knows of the media) it gives to ops_run_alert_verdicts. What it
 * shows (the table, syslog, the alerts told, the metrics) it builds from
 * the outcomes and conditions returned here.
 *
 * Words: an outcome's `what` and `detail` are English (N_: for --json,
 * syslog and the alerts), `shown` is the detail through the catalogue. The
 * functions say what went wrong (bkp_error) as the program always has.
 */
#ifndef BKP_OPS_RUN_H
#define BKP_OPS_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/capture/capture.h"
#include "bkp/io/log.h"
#include "bkp/store/generation.h"
#include "bkp/ops/alerts.h"
#include "bkp/report/status_doc.h"
#include "bkp/host/hook.h"
#include "bkp/store/repo.h"
#include "policies/guard.h"
#include "policies/policy.h"

/* One data set captured and sealed (or not), as the program's backup left it. */
typedef struct ops_run_backup {
    bkp_gen *gen;     /* the sealed generation, or NULL (owned) */
    bool suspicious;  /* the change-rate guard marked it */
    pol_guard_verdict verdict; /* why the guard marked it */
    char reason[512];          /* the same in English */
    bkp_capture_stats stats;
    size_t nerrors; /* unreadable paths */
    double seconds;
    int err; /* why nothing was sealed: a negative errno, 0 */
    /* A stream's command: how it ended (0, or as bkp_hook_exec returns). */
    int stream_rc;
    bkp_hook_result stream;
} ops_run_backup;

typedef struct ops_run_outcome {
    const pol_dataset *d;
    const char *what; /* "sealed", "not due", "failed", … (N_) */
    /* Room for the longest reason whole (a host key that changed, with both
     * fingerprints), in Japanese three bytes a character. */
    char detail[1024];    /* English */
    char shown[1536];     /* the same through the catalogue */
    char detail_ja[1536]; /* the same in Japanese (the alert's mail) */
    bool ran, failed;
    /* Why it failed, in words that stay the same while the cause does: how
     * it ended ("before-hook:RC:EXIT:SIGNAL", "stream:RC:EXIT:SIGNAL",
     * "error:ERRNO", "unreadable:DIGEST" of the paths it could not read; an
     * after hook's joined to the capture's with "+"), never what it printed
     * (a time, a temporary file's name would make each run another). Another
     * cause is told as a change of the failure (pol_condition.cause); ""
     * when it did not fail. */
    char cause[128];
    const char *hook; /* the command of the hook that failed it (the policy's), or NULL */
    char hook_output[400]; /* that hook's last lines (bkp_hook_result.tail), or "" */
    ops_run_backup b;
    time_t last_success; /* newest sealed generation's end, this run or before */
    size_t generations;  /* sealed and not pruned, this run's included */
} ops_run_outcome;

/* What the program does for the run. Each returns 0, or non-zero when it failed. */
typedef struct ops_run_io {
    void *ctx;
    /* Append `rec` to the audit log, with the run's context. */
    int (*audit)(void *ctx, const bkp_audit_rec *rec);
    /* Capture and seal data set `d` into `b` (filled in every case, even
     * when it failed; `b->gen` set when a generation was sealed). Called
     * from a thread of its own, several at once for data sets of different
     * sources; the other calls come from the caller's thread. */
    int (*backup)(void *ctx, const pol_dataset *d, ops_run_backup *b);
    /* After each data set (may be NULL): syslog, progress. */
    void (*done)(void *ctx, const ops_run_outcome *o);
    /* When the rotation of medium `name` is next due (0: not known). */
    time_t (*medium_due)(void *ctx, const char *name);
    /* Rotate to on-line medium `m` quietly (a disk, or a bucket that is due). */
    int (*copy)(void *ctx, const pol_medium *m);
    /* Whether the rotation to on-line disk `m` would copy or delete
     * anything, by its own plan (a dry run, rotate.h), saying nothing: 1
     * yes, 0 no; negative when it cannot be planned (not there, not the
     * disk named), which its copy then says. */
    int (*lacks)(void *ctx, const pol_medium *m);
    /* The copy on on-line disk `m`, read-only, into `*out`; non-zero when it
     * is not there or cannot be opened (then passed over). */
    int (*open_online)(void *ctx, const pol_medium *m, bkp_repo **out);
    /* Run the drill of runbook `runbook` (named `stem` in the records)
     * unattended: 0 when it succeeded. Whatever its end, it leaves its
     * record (one that could not start too: "unstarted"), which is what
     * the run reads of it. */
    int (*drill)(void *ctx, const char *runbook, const char *stem);
    /* Where a data set's errors and warnings go as they are said when
     * nobody watches (`said_once`: the system log); called under the log's
     * lock (bkp_log_scope_new), from any thread. */
    void (*journal)(enum bkp_log_level level, const char *msg, void *ctx);
} ops_run_io;

typedef struct ops_run_in {
    bkp_repo *repo;           /* open, writable, borrowed */
    const pol_policy *policy; /* borrowed */
    time_t now;               /* the clock of the step called: what is due */
    const char *dataset;      /* that data set alone (checked by the caller), or NULL */
    bool force;               /* every data set, due or not */
    int workers;              /* the re-read's */
    const ops_run_io *io;
    /* Nobody watches (cron, a timer): a failure is told once per change by
     * the alerts, which keep their state with or without notify:. As it
     * happens it is said at info level only; a data set's own words (its
     * hooks' output, the capture's errors) and the on-line copies' are
     * held (ops_run_words_begin) and printed unless they explain a failure
     * told before, of the same cause, with no reminder due. So cron mails
     * once per change, and once a day while it lasts; the exit code says
     * every failure. */
    bool said_once;
    /* When the repository began: its audit log's first signed record
     * (bkp_audit_first_time), 0 unknown (no setting-up day then). */
    time_t created;
} ops_run_in;

typedef struct ops_run_result {
    const pol_dataset **order; /* the data sets of the run, by priority */
    ops_run_outcome *v;        /* one per data set, in that order */
    size_t n;
} ops_run_result;

/* Every data set of the run, due ones captured: 0 with `res` filled (free it
 * with ops_run_result_free), or -ENOMEM. A data set's failure is in its
 * outcome, never stops the others. */
int ops_run_datasets(const ops_run_in *in, ops_run_result *res);
void ops_run_result_free(ops_run_result *res);
/* Whether any data set of the run failed. */
bool ops_run_failed(const ops_run_result *res);

/* Whether any data set of the policy has a retention rule (prune after the run). */
bool ops_run_wants_prune(const pol_policy *p);
/* Whether the run sealed a generation: its re-read samples then (else
 * once a day, ops_run_reread). A quiet run every quarter of an hour adds
 * nothing to the audit log: an on-line disk is copied to only when there
 * is something to copy (ops_run_copy_online), and the prune after the run
 * is recorded only when it deleted or failed (bkp/ops/prune_medium.h). */
bool ops_run_sealed(const ops_run_result *res);

/* The copies to the on-line media the data sets of `res` name (off-line
 * media go by `bkp rotate`): a bucket when its rotation is due; a disk when
 * its rotation is due, its last attempt failed or was cut off, or its plan
 * copies or deletes (io->lacks) — a disk away is tried at each run, so
 * that its absence is told. True when one failed, and which, as the cause
 * of the failure ("nas:1,cloud:4": each medium and how its copy ended)
 * into `cause` (`n` bytes, ""); `*tried` whether any copy was attempted
 * (else the copies' condition is not judged: nothing was tried). */
bool ops_run_copy_online(const ops_run_in *in, const ops_run_result *res, char *cause, size_t n,
                         bool *tried);

/* The rolling re-read: a sample of the packs of the primary and of every
 * on-line disk there, all of them or none — after a run that `sealed` a
 * generation, or when one's last sample is OPS_REREAD_PACE old (a day, less
 * the hour a nightly run may drift by) — each recorded in the audit log:
 * true when one found a problem or could not be recorded (said); `*ran`
 * whether the samples were taken (else the re-read's condition is not
 * judged); `*data` whether a problem was more than the audit log's
 * (bkp_verify_result.log_problems). */
bool ops_run_reread(const ops_run_in *in, bool sealed, bool *ran, bool *data);
#define OPS_REREAD_PACE (23 * 3600)

/* How the drills the policy schedules stand, each by its last record (a
 * drill by hand of the same runbook counts): all succeeded (or none held
 * yet), one failed, or one could not start (the worst of them). */
typedef enum ops_drills_end {
    OPS_DRILLS_FINE = 0,
    OPS_DRILLS_FAILED,
    OPS_DRILLS_UNSTARTED,
} ops_drills_end;

/* The drills the policy schedules that are due, held unattended (each
 * failure said; `*failed` whether one held now failed), then how they all
 * stand: a run between two drills judges them by their last records, so
 * that one runbook's success never ends another's failure, and a drill by
 * hand that succeeds ends its own. `which` (`n` bytes) names the runbook
 * of the worst, "" when all stand well. */
ops_drills_end ops_run_drills(const ops_run_in *in, bool *failed, char *which, size_t n);

/* The conditions of the run (alerts.h), into `al`: */
/* each data set's backup (failed, or fine again) and a suspicious seal; */
void ops_run_alert_outcomes(ops_alerts *al, const ops_run_result *res);
/* the steps after the data sets — on-line copies, re-read, and with every
 * data set (no `dataset`) the drills: true when a step failed (said as it
 * happened); */
bool ops_run_after(const ops_run_in *in, const ops_run_result *res, ops_alerts *al);
/* The words of one piece of a run when nobody watches (said_once): a data
 * set's — its hooks', its capture's and their threads' — or a step's after
 * them, in a log scope of their own (bkp/io/log.h) that goes to
 * io->journal as they are said; NULL when a person watches (said as they
 * come). At its end they are printed unless `told`: they explain a failure
 * told before, of the same cause, and not to be told again now (its
 * reminder prints them); then they are only in the journal. */
bkp_log_scope *ops_run_words_begin(const ops_run_in *in);
void ops_run_words_end(bkp_log_scope *words, bool told);
/* whether condition `key` failed of `cause` as told before, with no
 * reminder due (its words are no news: ops_run_words_end); */
bool ops_run_failed_as_told(const ops_run_in *in, const char *key, const char *cause);
/* whether outcome `o` failed as the alert of its backups told before, of
 * the same cause, with no reminder due (its words are no news); */
bool ops_run_told_before(const ops_run_in *in, const ops_run_outcome *o);
/* with every data set, each off-line medium due, held, or left connected
 * (said only when told: nothing says it as it happens); */
void ops_run_alert_media(const ops_run_in *in, ops_alerts *al);
/* each data set's verdict in `s` (ops_status); */
void ops_run_alert_verdicts(const ops_run_in *in, ops_alerts *al, const rst_status *s);

/* The repository's first day: the off-line media not yet written and the
 * verdict that the setting up builds towards are not alerted (status and
 * the page show them); from the second day they are. */
#define OPS_SETUP_DAY 86400
bool ops_run_setting_up(const ops_run_in *in);
/* the key-recovery drill reminder `kd` (ops_key_drill_status). */
void ops_run_alert_key_drill(ops_alerts *al, const rst_key_drill *kd);

/* How the stream's command of `d` ended (`rc` of bkp_hook_finish or
 * bkp_remote_finish, or -ENODATA when it wrote nothing): a clause after
 * "the stream's command", in English (`en`, for the audit log and --json),
 * in the reader's language (`shown`) and in Japanese (`ja`, for the
 * alert's mail; may be NULL), each of `n` bytes. */
void ops_stream_why(int rc, const bkp_hook_result *hr, const pol_dataset *d, char *en,
                    char *shown, char *ja, size_t n);

#endif
