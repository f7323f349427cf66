/*
 * run_after.c — what a run does after its data sets (run.h): the copies to
 * the on-line media, the rolling re-read, the drills that are due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/run.h"
#include "bkp/ops/status.h"
#include "bkp/audit/reread_sample.h"
#include "bkp/audit/verify.h"
#include "policies/schedule.h"
#include "restore/drill_report.h"
#include "restore/runbook.h"

/* Whether a data set of `res` names medium `name` in its copy_to. */
static bool wanted(const ops_run_result *res, const char *name)
{
    for (size_t i = 0; i < res->n; i++)
        if (pol_dataset_copies_to(res->order[i], name))
            return true;
    return false;
}

bool ops_run_sealed(const ops_run_result *res)
{
    for (size_t i = 0; i < res->n; i++)
        if (res->v[i].b.gen)
            return true;
    return false;
}

/* Whether on-line disk `pm` has something for its rotation to do: its last
 * attempt failed or was cut off (the status says so until one succeeds),
 * or its plan copies or deletes — the rotation's own plan, never a rule of
 * ours — or it cannot be planned (away: its copy then says why). */
static bool to_do(const ops_run_in *in, const pol_medium *pm)
{
    bkp_media_entry *e = bkp_media_get(in->repo, pm->name);
    rst_unfinished u = e ? ops_attempt_state(bkp_repo_path(in->repo), &e->attempt) : RST_FINISHED;
    bkp_media_free(e);
    return u == RST_FAILED || u == RST_CUT_OFF || in->io->lacks(in->io->ctx, pm) != 0;
}

bool ops_run_copy_online(const ops_run_in *in, const ops_run_result *res, char *cause, size_t n,
                         bool *tried)
{
    const pol_policy *p = in->policy;
    bool failed = false, any = false;
    *tried = false;
    for (size_t k = 0; k < p->nmedia; k++) {
        const pol_medium *pm = &p->media[k];
        if (!wanted(res, pm->name) || pol_type_write_once(pm->type) || pm->offline)
            continue;
        /* A bucket is written when its rotation is due, not at every run; a
         * disk found holding all it should (planned, nothing to do) counts
         * as a copy that succeeds. */
        bool bucket = pol_medium_bucket(pm) != NULL;
        time_t due = in->io->medium_due(in->io->ctx, pm->name);
        any = true;
        *tried |= !bucket;
        if (bucket ? due > in->now : !(due && due <= in->now) && !to_do(in, pm)) {
            bkp_debug("%s: nothing to copy now", pm->name);
            continue;
        }
        *tried = true;
        int ex = in->io->copy(in->io->ctx, pm);
        if (ex) {
            bkp_strappend(cause, n, "%s%s:%d", *cause ? "," : "", pm->name, ex);
            bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR,
                    _("copying to the on-line medium %s failed (above); the generations are safe "
                      "in the repository, the next run copies them"),
                    pm->name);
            failed = true;
        }
    }
    /* A whole run with no on-line medium to copy to: the copies' condition
     * ends (the NAS taken out of the policy). */
    *tried |= !any && !in->dataset;
    return failed;
}

/* One sample: of the primary (`medium` NULL) or of an on-line disk's copy. */
static bool reread_one(const ops_run_in *in, bkp_repo *target, const char *medium, bool *data)
{
    bkp_verify_result res = {0};
    int rc = bkp_reread_sample(in->repo, target, medium, -1, in->policy->reread_every, in->workers,
                               &res);
    bool bad = rc < 0 || res.problems;
    json_t *fig = json_pack("{s:s, s:I, s:I, s:I}", "mode", "sample", "packs_read",
                            (json_int_t)res.packs_read, "bytes_read", (json_int_t)res.bytes_read,
                            "problems", (json_int_t)res.problems);
    bkp_audit_rec rec = {.op = "verify",
                         .medium = medium,
                         .failed = bad,
                         .figures = fig,
                         .error =
                             bad ? (res.nmessages ? res.messages[0] : bkp_strerror_en(rc)) : NULL};
    bool failed = in->io->audit(in->io->ctx, &rec) != 0 || bad;
    bool log_only = rc >= 0 && res.problems && res.log_problems == res.problems;
    *data |= bad && !log_only;
    if (log_only)
        bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR,
                _("the rolling re-read found the audit log of %s changed or not matching its "
                  "records (above); the packs it read are sound: run `bkp audit verify`, which "
                  "says what to do"),
                medium ? medium : _("the repository"));
    else if (bad && rc >= 0 && res.log_problems)
        bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR,
                _("the rolling re-read of %s found %llu problem(s) (above), the audit log's "
                  "among them: run `bkp audit verify`, which says what to do of the log, and "
                  "`bkp verify%s%s --read-data`"),
                medium ? medium : _("the repository"), (unsigned long long)res.problems,
                medium ? " --media " : "", medium ? medium : "");
    else if (bad)
        bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR,
                _("the rolling re-read of %s found %llu problem(s) (above); run `bkp verify%s%s "
                  "--read-data` and repair with `bkp verify%s%s --repair-from MEDIUM`"),
                medium ? medium : _("the repository"), (unsigned long long)res.problems,
                medium ? " --media " : "", medium ? medium : "", medium ? " --media " : "",
                medium ? medium : "");
    json_decref(fig);
    bkp_verify_result_clear(&res);
    return failed;
}

/* Whether the sample of `target` is due: a day after its last (the period,
 * when shorter). Each sample reads the share of the packs the time since
 * the last is of the period, so fewer samples read as much in all. */
static bool sample_due(const ops_run_in *in, const bkp_repo *target, const char *medium)
{
    int64_t pace =
        in->policy->reread_every < OPS_REREAD_PACE ? in->policy->reread_every : OPS_REREAD_PACE;
    time_t last = bkp_reread_last(in->repo, target, medium);
    return !last || in->now < last || in->now - last >= pace;
}

/* Each pack of the repository and of every on-line disk is re-read within
 * the policy's `verify: reread_every` (30 days by default). The targets
 * there are sampled together, so that the one condition of the re-read is
 * judged on all of them (a disk away is not: its damage is judged again
 * when it is back). */
bool ops_run_reread(const ops_run_in *in, bool sealed, bool *ran, bool *data)
{
    const pol_policy *p = in->policy;
    bkp_repo **copy = calloc(p->nmedia + 1, sizeof(*copy));
    bool failed = false, due = sealed || sample_due(in, in->repo, NULL);
    *data = *ran = false;
    if (!copy)
        return true;
    for (size_t k = 0; k < p->nmedia; k++)
        if (pol_medium_online(&p->media[k]) &&
            !in->io->open_online(in->io->ctx, &p->media[k], &copy[k]) && copy[k])
            due |= sample_due(in, copy[k], p->media[k].name);
    if (due) {
        failed |= reread_one(in, in->repo, NULL, data);
        for (size_t k = 0; k < p->nmedia; k++)
            if (copy[k])
                failed |= reread_one(in, copy[k], p->media[k].name, data);
        *ran = true;
    }
    for (size_t k = 0; k < p->nmedia; k++)
        bkp_repo_free(copy[k]);
    free(copy);
    return failed;
}

/* Has any medium taken a copy yet? Before the first rotation a drill could
 * only read the server's own repository: it proves nothing of the day the
 * server is lost, and it would stand in the status as done. */
static bool rotated_once(const ops_run_in *in)
{
    bkp_media_entry *reg;
    size_t n;
    bool any = false;
    if (bkp_media_list(in->repo, &reg, &n))
        return false;
    for (size_t i = 0; i < n; i++)
        any |= reg[i].last_write > 0;
    bkp_media_entries_free(reg, n);
    return any;
}

/* How the last record of a drill `e` (none: json NULL) stands. */
static ops_drills_end drill_state(const bkp_audit_entry *e)
{
    rb_drill_figures f;
    if (!e->json || e->ok)
        return OPS_DRILLS_FINE;
    rb_drill_figures_read(e, &f);
    return f.unstarted ? OPS_DRILLS_UNSTARTED : OPS_DRILLS_FAILED;
}

/* Unattended: their confirm steps are recorded as not rehearsed. None runs
 * before the first rotation of a policy that has media, and the first of a
 * runbook waits for its schedule's first time after the repository began
 * (a monthly drill on the 1st does not run at set-up, during the day's
 * work, because the 1st before it passed without one). */
ops_drills_end ops_run_drills(const ops_run_in *in, bool *failed, char *which, size_t n)
{
    const pol_policy *p = in->policy;
    ops_drills_end end = OPS_DRILLS_FINE;
    *failed = false;
    which[0] = '\0';
    if (p->ndrills && p->nmedia && !rotated_once(in)) {
        bkp_debug("scheduled drills wait for the first rotation");
        return end;
    }
    char *log = bkp_audit_path(in->repo);
    time_t began = log ? bkp_audit_first_time(log, bkp_repo_sign_pk(in->repo)) : 0;
    for (size_t i = 0; log && i < p->ndrills; i++) {
        char stem[256];
        bkp_audit_entry last;
        const bkp_audit_query q = {"drill", NULL, "runbook", stem};
        rb_runbook_stem(p->drills[i].runbook, stem, sizeof(stem));
        (void)bkp_audit_last(log, bkp_repo_sign_pk(in->repo), &q, &last);
        if (pol_is_due(&p->drills[i].schedule, last.time ? last.time : began, in->now)) {
            (void)in->io->drill(in->io->ctx, p->drills[i].runbook, stem);
            bkp_audit_entry_release(&last); /* then the record it left */
            (void)bkp_audit_last(log, bkp_repo_sign_pk(in->repo), &q, &last);
            ops_drills_end now = drill_state(&last);
            *failed |= now != OPS_DRILLS_FINE;
            if (now == OPS_DRILLS_FAILED)
                bkp_log(in->said_once ? BKP_LOG_INFO : BKP_LOG_ERROR,
                        _("the scheduled drill %s failed; its report (in the repository's "
                          "reports/) says which step"),
                        stem);
            else if (now == OPS_DRILLS_UNSTARTED)
                bkp_error(_("the scheduled drill %s could not start (why is above: its runbook, "
                            "which `bkp runbook show %s` checks, or the copies it reads); once "
                            "mended, rehearse it with `bkp drill %s`, else it is held again at "
                            "its next time"),
                          stem, p->drills[i].runbook, p->drills[i].runbook);
        }
        ops_drills_end st = drill_state(&last);
        if (st > end) /* as the policy spells it: what `bkp drill` and `runbook show` take */
            snprintf(which, n, "%s", p->drills[i].runbook);
        end = st > end ? st : end;
        bkp_audit_entry_release(&last);
    }
    free(log);
    return end;
}
