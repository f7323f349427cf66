/* prune_medium.c — see prune_medium.h. */
#include "bkp/ops/prune_medium.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/prune_recover.h"
#include "policies/retention.h"

/* The newest cleared generation before `s` (where the suspicion begins)
 * settles the marks, and the damaged records, before it (bkp_gen_suspicion):
 * kept while one of them stays, or deleting it (and its clearance) would
 * raise their suspicion again. */
static void keep_settling(bkp_gen **v, size_t from, size_t s, unsigned *keep)
{
    size_t c = s;
    while (c > from &&
           !(bkp_gen_marked(v[c - 1]) && v[c - 1]->cleared && !v[c - 1]->status && !v[c - 1]->pruned))
        c--;
    if (c-- == from)
        return; /* none cleared before it */
    for (size_t i = from; i < c; i++) {
        bool damaged = v[i]->status && !v[i]->pruned;
        bool settled = !v[i]->status && !v[i]->pruned && bkp_gen_marked(v[i]) && !v[i]->cleared;
        if ((damaged || settled) && keep[i]) {
            keep[c] |= OPS_KEEP_SETTLES;
            return;
        }
    }
}

/* Decide for the generations v[from, to) of one data set. */
static void decide(const pol_policy *p, bkp_gen **v, size_t from, size_t to, time_t now,
                   int min_keep, unsigned *keep)
{
    const pol_dataset *d = p ? pol_dataset_find(p, v[from]->dataset) : NULL;
    pol_retention none = {0}, rules = d ? d->retention : none;
    /* On a medium at least `min_keep` stay, whatever the data set's rules say
     * (and with no rules at all, everything does). */
    bool any = rules.keep_last || rules.keep_hourly || rules.keep_daily || rules.keep_weekly ||
               rules.keep_monthly || rules.keep_yearly;
    if (any && rules.keep_last < min_keep)
        rules.keep_last = min_keep;
    size_t n = 0;
    pol_gen *g = calloc(to - from + 1, sizeof(*g));
    size_t *at = calloc(to - from + 1, sizeof(*at));
    unsigned *k = calloc(to - from + 1, sizeof(*k));
    /* Under suspicion from the owner's rule: what is marked from there on
     * stays until cleared, and the clean generations before it may be all
     * that is left. A mark a later clearance settled holds nothing. */
    size_t s = from + bkp_gen_suspicion(v + from, to - from);
    uint32_t first_suspicious = s < to ? v[s]->seq : UINT32_MAX;
    if (!g || !at || !k) {
        for (size_t i = from; i < to; i++)
            keep[i] = POL_KEEP_NO_RULES; /* no memory to decide: keep */
        goto out;
    }
    for (size_t i = from; i < to; i++) {
        if (v[i]->status) {
            keep[i] = OPS_KEEP_DAMAGED;
            continue;
        }
        if (v[i]->pruned)
            continue;
        bool suspect = bkp_gen_marked(v[i]) && !v[i]->cleared;
        if (i >= s && suspect)
            keep[i] |= OPS_KEEP_SUSPICIOUS; /* or the hold would vanish with it */
        /* A cleared mark is an operator's word that the generation is good,
         * its capture time included; one not cleared fills no slot of the
         * rules (it may hold encrypted files), settled or not. */
        g[n] = (pol_gen){v[i]->finished, v[i]->seq, v[i]->cleared, suspect};
        at[n++] = i;
    }
    pol_retention_select(&rules, g, n, now, k);
    /* A capture time out of order (backdated, or from the future: written by
     * a host that lied about the time) holds like a suspicious mark: what
     * came before it may be all the good history there is. */
    for (size_t j = 0; j < n; j++)
        if ((k[j] & POL_KEEP_TIME) && !v[at[j]]->cleared && v[at[j]]->seq < first_suspicious)
            first_suspicious = v[at[j]]->seq;
    for (size_t j = 0; j < n; j++) {
        keep[at[j]] |= k[j];
        /* The clean generations before a suspicious one may be all that is left. */
        if (first_suspicious != UINT32_MAX && v[at[j]]->seq < first_suspicious)
            keep[at[j]] |= OPS_KEEP_BEFORE_SUSPICIOUS;
    }
    keep_settling(v, from, s, keep);
out:
    free(g);
    free(at);
    free(k);
}

const char *ops_prune_why(unsigned k, bool people, char *buf, size_t n)
{
    if (k & OPS_KEEP_DAMAGED)
        return people ? _("damaged record: never deleted") : "damaged record: never deleted";
    if (k & OPS_KEEP_SUSPICIOUS)
        return people ? _("suspicious: kept until cleared") : "suspicious: kept until cleared";
    if ((k & OPS_KEEP_SETTLES) && !(k & 0x3ff))
        return people ? _("cleared: settles an earlier suspicious generation that is kept")
                      : "cleared: settles an earlier suspicious generation that is kept";
    pol_keep_reasons(k & 0x3ff, people, buf, n);
    if (k & OPS_KEEP_BEFORE_SUSPICIOUS) {
        size_t l = strlen(buf);
        const char *sep = k & 0x3ff ? people ? C_("between reasons", ", ") : ", " : "";
        snprintf(buf + l, n - l, "%s%s", sep,
                 people ? _("before a suspicious generation") : "before a suspicious generation");
    }
    return buf;
}

void ops_prune_decide(const pol_policy *p, bkp_gen **v, size_t n, bool medium, unsigned *keep)
{
    time_t now = bkp_now();
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(v[j]->dataset, v[i]->dataset))
            j++;
        decide(p, v, i, j, now, medium ? 3 : 0, keep);
        i = j;
    }
}

/* The lock is the caller's: finish what a killed prune before us left (the
 * open's own recovery defers to the lock holder, which is now us; it needs
 * the keys, to check the intent), then load the index without what went. */
static int recover(bkp_repo *target)
{
    bool finished = false;
    int rc = bkp_prune_recover(bkp_repo_path(target), bkp_repo_keys(target), BKP_RECOVER_MINE,
                               &finished);
    return rc ? rc : finished ? bkp_repo_reload(target) : 0;
}

/* The plan of `v` into `out->rows`, and the generations that go into
 * `doomed` (`*nd` of them). */
static int plan(bkp_gen **v, size_t n, const unsigned *keep, ops_prune_out *out, bkp_gen **doomed,
                size_t *nd)
{
    if (!(out->rows = calloc(n + 1, sizeof(*out->rows))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->pruned && !v[i]->status)
            continue;
        ops_prune_row *row = &out->rows[out->nrows++];
        bkp_gen_name(v[i], row->name, sizeof(row->name));
        row->seq = v[i]->seq;
        row->keep = keep[i];
        if (!(row->dataset = strdup(v[i]->dataset)))
            return -ENOMEM;
        if (!keep[i])
            doomed[(*nd)++] = v[i];
    }
    return 0;
}

/* The audit record of a prune that was applied (`rc` its outcome). */
static int record(const ops_prune_in *in, bkp_gen **doomed, size_t nd, const bkp_prune_result *res,
                  int rc)
{
    json_t *gone = json_array();
    for (size_t i = 0; i < nd; i++) {
        char name[96];
        json_array_append_new(gone, json_string(bkp_gen_name(doomed[i], name, sizeof(name))));
    }
    json_t *fig = json_pack("{s:o, s:I, s:I, s:I}", "generations_deleted", gone, "packs_deleted",
                            (json_int_t)res->packs, "packs_repacked",
                            (json_int_t)res->packs_repacked, "bytes_freed", (json_int_t)res->bytes);
    if (in->recompress)
        json_object_set_new(fig, "packs_recompressed",
                            json_integer((json_int_t)res->packs_recompressed));
    bkp_audit_rec rec = {.op = "prune",
                         .medium = in->medium,
                         .failed = rc != 0,
                         .figures = fig,
                         .error = rc ? bkp_strerror_en(rc) : NULL};
    int arc = bkp_audit_append(in->log, &rec);
    json_decref(fig);
    return arc;
}

int ops_prune_decide_with(const pol_policy *p, bkp_gen **v, size_t n, bkp_gen *const *coming,
                          size_t ncoming, unsigned *keep)
{
    size_t m = 0;
    bkp_gen **all = calloc(n + ncoming + 1, sizeof(*all));
    unsigned *k = calloc(n + ncoming + 1, sizeof(*k));
    if (!all || !k) {
        free(all);
        free(k);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        all[m++] = v[i];
    for (size_t c = 0; c < ncoming; c++) {
        bool there = false;
        for (size_t i = 0; i < n && !there; i++)
            there = v[i]->seq == coming[c]->seq && !strcmp(v[i]->dataset, coming[c]->dataset);
        if (!there)
            all[m++] = coming[c];
    }
    qsort(all, m, sizeof(*all), bkp_gen_order);
    ops_prune_decide(p, all, m, true, k);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < m; a++)
            if (all[a] == v[i])
                keep[i] = k[a];
    free(all);
    free(k);
    return 0;
}

int ops_prune_apply(const ops_prune_in *in, ops_prune_out *out)
{
    bkp_gen **v = NULL, **doomed = NULL;
    unsigned *keep = NULL;
    size_t n = 0, nd = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if (!in->dry_run && (rc = recover(in->target)))
        return rc;
    if ((rc = bkp_gen_list(in->target, NULL, &v, &n))) {
        bkp_error(_("cannot list the generations: %s"), bkp_strerror(rc));
        return rc;
    }
    keep = calloc(n + 1, sizeof(*keep));
    doomed = calloc(n + 1, sizeof(*doomed));
    rc = keep && doomed ? 0 : -ENOMEM;
    if (!rc && in->ncoming)
        rc = ops_prune_decide_with(in->policy, v, n, in->coming, in->ncoming, keep);
    else if (!rc)
        ops_prune_decide(in->policy, v, n, in->medium != NULL, keep);
    if (!rc)
        rc = plan(v, n, keep, out, doomed, &nd);
    if (!rc) {
        out->planned = true;
        rc = bkp_prune(in->target, doomed, nd,
                       (bkp_prune_how){.dry_run = in->dry_run,
                                       .recompress = in->recompress,
                                       .coming_from = in->ncoming ? in->log : NULL,
                                       .coming = in->coming,
                                       .ncoming = in->ncoming},
                       &out->res);
        /* The handle outlives the prune (bkp run, rotate): it must not know
         * deleted packs. */
        if (!rc && !in->dry_run &&
            (out->res.packs || out->res.packs_repacked || out->res.packs_recompressed) &&
            (rc = bkp_repo_reload(in->target)))
            bkp_error(_("cannot reload the index after pruning: %s"), bkp_strerror(rc));
        const bkp_prune_result *r = &out->res;
        bool idle = !rc && !nd && !r->packs && !r->packs_repacked && !r->packs_recompressed;
        if (!in->dry_run && !(idle && in->changes_only) && record(in, doomed, nd, r, rc) && !rc)
            rc = -EIO;
    }
    free(keep);
    free(doomed);
    bkp_gen_list_free(v, n);
    return rc;
}

void ops_prune_out_clear(ops_prune_out *out)
{
    for (size_t i = 0; i < out->nrows; i++)
        free(out->rows[i].dataset);
    free(out->rows);
    memset(out, 0, sizeof(*out));
}
