/*
 * drill_run.c — a drill's or a restore by runbook's run (drill.h): the
 * checks before it, the sandbox, the engine timed with the preparation of
 * its sources, the records and report files after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bkp/host/cmdenv.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/drill.h"
#include "restore/drill_report.h"
#include "restore/restore.h"

extern char **environ;

int ops_drill_precheck(const ops_drill_in *in)
{
    const pol_medium *only = in->only && in->policy ? pol_medium_find(in->policy, in->only) : NULL;
    if (in->only && !strcmp(in->only, OPS_DRILL_PRIMARY) && in->keyrec) {
        bkp_error(_("--medium %s: a key-recovery drill reads an off-line medium, never the "
                    "server's repository; name one of those"),
                  in->only);
        return -EINVAL;
    }
    if (in->only && !only && strcmp(in->only, OPS_DRILL_PRIMARY)) {
        /* A runbook's sources are the policy's media, by name: a path is
         * not one (restore GEN TARGET --from PATH reads a copy by path). */
        bkp_error(_("%s %s: the policy has no medium of that name; `bkp media list` shows them"),
                  in->drill ? "--medium" : "--from", in->only);
        return -EINVAL;
    }
    if (in->keyrec && only && pol_medium_online(only)) {
        bkp_error(_("--medium %s is an on-line disk: a key-recovery drill rehearses an off-line "
                    "medium (removable, off-line disk or archive); name one of those"),
                  in->only);
        return -EINVAL;
    }
    if (in->drill && in->sandbox && !rb_sandbox_check(in->sandbox))
        return -EINVAL;
    if (rb_attest_check(in->attest, in->rb, !in->drill))
        return -EINVAL;
    /* A restore by runbook into a folder that holds anything: refused now,
     * before its confirms and its passphrase, not at its restore step —
     * unless a command before that step may change the folder (move the
     * old one away): the engine judges it then. */
    bool ran = false;
    for (size_t i = 0; !in->drill && i < in->rb->nsteps; i++) {
        const rb_step *st = &in->rb->steps[i];
        ran |= st->action == RB_RUN || st->action == RB_CHECK;
        if (!ran && st->action == RB_RESTORE && st->restore.to &&
            rst_target_check(st->restore.to, in->force))
            return -EINVAL;
    }
    return rb_check_users(in->rb) ? -EINVAL : 0;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The drill's sandbox: the one given, else a new folder under TMPDIR. */
static int make_sandbox(const ops_drill_in *in, ops_drill_run *run)
{
    const char *tmp = getenv("TMPDIR");
    if (in->sandbox) {
        snprintf(run->sandbox, sizeof(run->sandbox), "%s", in->sandbox);
        return 0;
    }
    snprintf(run->sandbox, sizeof(run->sandbox), "%s/bkp-drill-XXXXXX",
             tmp && *tmp ? tmp : "/var/tmp");
    if (mkdtemp(run->sandbox)) {
        run->made = true;
        return 0;
    }
    int rc = -errno;
    bkp_error(_("cannot make a sandbox in %s; give --sandbox DIR"), run->sandbox);
    run->sandbox[0] = '\0';
    return rc;
}

int ops_drill_execute(const ops_drill_in *in, ops_drill_run *run)
{
    /* The measured recovery time includes getting the sources ready (an
     * archive extracted, keys derived). */
    double t0 = seconds_now();
    int rc = ops_drill_sources_find(in, &run->sources);
    if (rc)
        return rc;
    double prepared = seconds_now() - t0;
    /* The commands of a runbook get no passphrase source: their environment
     * is built from an allowlist (bkp/host/cmdenv.h), taken from a copy of ours
     * without any. Ours is left as it is: the caller's, not the drill's. */
    if ((rc = bkp_cmdenv_without_secrets(environ, &run->inherited)))
        return rc;
    if (in->drill && (rc = make_sandbox(in, run)))
        return rc;
    run->env = (rb_env){.sources = run->sources.v,
                        .nsources = run->sources.n,
                        .drill = in->drill,
                        .sandbox = run->sandbox,
                        .interactive = in->interactive,
                        .attest = in->attest,
                        .force = in->force,
                        .workers = in->workers,
                        .inherited = run->inherited,
                        .quiet = in->quiet};
    if ((rc = rb_execute(in->rb, &run->env, &run->res)) < 0)
        return rc;
    run->res.seconds += prepared;
    return 0;
}

void ops_drill_run_clear(const ops_drill_in *in, ops_drill_run *run)
{
    if (run->made && !in->keep)
        (void)bkp_remove_tree(run->sandbox);
    rb_result_clear(&run->res);
    ops_drill_sources_free(&run->sources);
    bkp_cmdenv_free(run->inherited);
    memset(run, 0, sizeof(*run));
}

size_t ops_drill_record(const rb_report *r, int (*append)(void *ctx, const bkp_audit_rec *rec),
                        void *ctx)
{
    size_t failed = 0;
    for (size_t k = 0; k < rb_record_count(r); k++) {
        bkp_audit_rec rec;
        rb_record(r, k, &rec);
        failed += append(ctx, &rec) != 0;
        json_decref(rec.figures);
    }
    return failed;
}

void ops_drill_keep_reports(const char *dir, const bkp_repo *r, const rb_runbook *rb,
                            rb_report *report)
{
    /* Without a folder named and a repository open, the caller refused to
     * start (cmd_drill.c): never the current folder. */
    if (!dir && !r) {
        bkp_warn(_("the drill's report was not kept: no repository here takes it (the primary "
                   "is missing, or refused); give --report DIR to keep it"));
        return;
    }
    char *d = dir ? strdup(dir) : bkp_repo_subpath(r, "reports");
    char *stem = rb_report_stem(rb, report->started);
    int rc = d && stem ? rb_report_write(report, d, stem) : -ENOMEM;
    if (rc)
        bkp_warn(_("the drill report could not be written to %s: %s"), d ? d : "?",
                 bkp_strerror(rc));
    free(stem);
    free(d);
}
