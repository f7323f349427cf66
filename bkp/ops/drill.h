/*
 * drill.h — a drill, or a restore by runbook, around the restore engine
 * (restore/procedure.h): what stops it before it starts, the sources it
 * reads, the sandbox, the engine's run timed from the moment the sources are
 * being made ready, and the audit records it leaves (restore/drill_report.h decides
 * what they hold).
 *
 * The sources are tried in this order: the primary repository, on-line
 * disks, removable and off-line disks, archives (the newest few of each of
 * the runbook's data sets, each extracted and opened), and a bucket only
 * when named (`only`), its newest generations fetched. An attended drill
 * (`offline_first`) rehearses the day the server is lost: it reads the
 * off-line media that are connected and nothing else, and the primary and
 * on-line disks only when none is; `only` OPS_DRILL_PRIMARY reads the
 * primary alone. A medium whose label
 * is not at its path is "not connected" and skipped, said once. A
 * key-recovery drill (`keyrec`) reads only what a fire would leave: off-line
 * media, never the primary or an on-line disk, the first opened with the
 * sheets and the others as its copies.
 *
 * How a repository is opened with the run's key (passphrase or sheets) and
 * how a bucket is fetched belong to the program: it gives them in
 * ops_drill_io. Errors are negative errno values, each said (bkp_error) where
 * it is found.
 */
#ifndef BKP_OPS_DRILL_H
#define BKP_OPS_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"
#include "restore/drill_report.h"
#include "restore/procedure.h"
#include "restore/runbook.h"

#define OPS_DRILL_SOURCES_MAX 64

/* What the program does for a drill: each returns 0 or a negative errno. */
typedef struct ops_drill_io {
    void *ctx;
    /* The primary repository, read-only, into `*out` (-EKEYREJECTED: the
     * key does not open it); NULL: the primary is not read. */
    int (*open_primary)(void *ctx, const bkp_repo **out);
    /* The repository or copy at `path`, read-only, with the run's key (the
     * first source opened; the others are opened as its copies). */
    int (*open)(void *ctx, const char *path, bkp_repo **out);
    /* The names of the archives (NAME@….tar) in folder `dir`, sorted. */
    int (*archives)(const char *dir, char ***names, size_t *n);
    /* Bucket medium `name`: its newest generations of `rb`'s data sets
     * fetched into `*staging` (malloc'd, removed with the sources, set even
     * on failure) and opened into `*out`, with the primary's keys when
     * `as_copy`. NULL: buckets are not read. */
    int (*fetch)(void *ctx, const char *name, const rb_runbook *rb, bool as_copy, bkp_repo **out,
                 char **staging);
} ops_drill_io;

/* Which sources a run read, and why: what its report says. */
typedef enum ops_drill_from {
    OPS_FROM_ALL = 0,    /* every source there, the primary first (a restore, a scheduled drill) */
    OPS_FROM_OFFLINE,    /* the off-line media connected, as on the day the server is lost */
    OPS_FROM_NO_OFFLINE, /* the primary and on-line disks: no off-line medium was connected */
    OPS_FROM_NAMED,      /* the one medium named (--medium) */
    OPS_FROM_PRIMARY,    /* the primary alone, as asked (--medium repository) */
    OPS_FROM_KEYREC,     /* the off-line media alone, opened with the key sheets */
} ops_drill_from;

/* The name of `f` in a report ("offline", ...). */
const char *ops_drill_from_name(ops_drill_from f);

/* What --medium names to read the primary repository alone. */
#define OPS_DRILL_PRIMARY "repository"

typedef struct ops_drill_sources {
    ops_drill_from from;
    rb_source *v; /* the engine's list, in order */
    size_t n;
    char *names[OPS_DRILL_SOURCES_MAX];
    char *staging[OPS_DRILL_SOURCES_MAX]; /* archives extracted, removed afterwards */
    size_t nstaging;
    bkp_repo *owned[OPS_DRILL_SOURCES_MAX];
    size_t nowned;
    const char *refused; /* the first medium there that the key did not open (the policy's) */
} ops_drill_sources;

typedef struct ops_drill_in {
    const pol_policy *policy; /* borrowed; NULL: the primary alone */
    const rb_runbook *rb;     /* borrowed */
    const char *only;         /* --medium: that medium alone (OPS_DRILL_PRIMARY: the primary);
                                 NULL: every source there */
    bool drill;               /* a drill (into a sandbox), not a restore */
    bool offline_first;       /* an attended drill: the off-line media connected alone, the
                                 primary and on-line disks only when none is (OPS_FROM_*) */
    bool keyrec;              /* a key-recovery drill */
    const char *sandbox;      /* the operator's sandbox, or NULL: a new one under TMPDIR */
    bool keep;                /* leave the sandbox made here */
    bool interactive, force, quiet; /* as rb_env */
    const rb_attest *attest;  /* as rb_env; NULL when unattended */
    int workers;
    const ops_drill_io *io;
} ops_drill_in;

/* What stops the runbook before it starts: a medium `in->only` the policy
 * does not have, an on-line disk for a key-recovery drill, a sandbox given
 * that is in use, a user a command should run as and that is missing.
 * 0, or -EINVAL (said). */
int ops_drill_precheck(const ops_drill_in *in);

/* Every source of `in` that is there, into `s` (cleared by
 * ops_drill_sources_free): 0; -ENOENT when none is (said); -ENODATA when
 * the off-line media connected for a drill of people lack a data set of
 * its runbook (said); -EKEYREJECTED
 * when the key does not open the primary; -EIO when the primary cannot be
 * opened otherwise; -ENOMEM. */
int ops_drill_sources_find(const ops_drill_in *in, ops_drill_sources *s);
void ops_drill_sources_free(ops_drill_sources *s);

/* One run: its sources, its sandbox, the engine's result (whose seconds
 * include the sources' preparation). Cleared by ops_drill_run_clear, which
 * removes the sandbox made here unless `keep`. */
typedef struct ops_drill_run {
    ops_drill_sources sources;
    char sandbox[4096]; /* "" for a restore */
    bool made;          /* the sandbox was made here */
    char **inherited;   /* what its commands inherit from: ours without passphrase sources */
    rb_env env;
    rb_result res;
} ops_drill_run;

/* Find the sources, make the sandbox, run the engine: 0 with `run->res`
 * (which may say the runbook failed), else a negative errno (said):
 * ops_drill_sources_find's, or the sandbox's or the engine's failure. */
int ops_drill_execute(const ops_drill_in *in, ops_drill_run *run);
void ops_drill_run_clear(const ops_drill_in *in, ops_drill_run *run);

/* The audit records of the run (restore/drill_report.h: one per data set
 * restored), from its report `r`, each passed to `append`: how many could
 * not be written. */
size_t ops_drill_record(const rb_report *r, int (*append)(void *ctx, const bkp_audit_rec *rec),
                        void *ctx);

/* Write a drill's report files into `dir`, else the reports/ folder of `r`
 * (adding their paths to `report->reports`); a failure is a warning: the
 * drill happened, and its audit record says so. */
void ops_drill_keep_reports(const char *dir, const bkp_repo *r, const rb_runbook *rb,
                            rb_report *report);

#endif
