/*
 * bkp prune — apply each data set's retention: which generations go is the
 * policy's decision (policies/retention.c), how they go the core's
 * (bkp/prune.c). Never deleted: damaged records (what they hold is unknown),
 * generations inside lock_days (by the clock and by the signed timeline), the
 * newest, generations whose capture time is out of order (policies/
 * retention.h: they are never counted either), and while a data set has an
 * uncleared suspicious or out-of-order generation, every generation from
 * before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/clock.h"
#include "bkp/cli/cli.h"
#include "bkp/audit.h"
#include "bkp/i18n.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/prune.h"
#include "policies/retention.h"

enum { KEEP_DAMAGED = 1 << 12, KEEP_BEFORE_SUSPICIOUS = 1 << 13, KEEP_SUSPICIOUS = 1 << 14 };

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
    uint32_t first_suspicious = UINT32_MAX;
    if (!g || !at || !k) {
        for (size_t i = from; i < to; i++)
            keep[i] = POL_KEEP_NO_RULES; /* no memory to decide: keep */
        goto out;
    }
    for (size_t i = from; i < to; i++) {
        /* A damaged record may be the suspicious one: it holds like one. */
        if (v[i]->status) {
            keep[i] = KEEP_DAMAGED;
            if (v[i]->seq < first_suspicious)
                first_suspicious = v[i]->seq;
            continue;
        }
        if (v[i]->pruned)
            continue;
        if (bkp_gen_marked(v[i]) && !v[i]->cleared) {
            /* It stays until cleared, or the hold would vanish with it. */
            keep[i] |= KEEP_SUSPICIOUS;
            if (v[i]->seq < first_suspicious)
                first_suspicious = v[i]->seq;
        }
        /* A cleared mark is an operator's word that the generation is good,
         * its capture time included. */
        g[n] = (pol_gen){v[i]->finished, v[i]->seq, v[i]->cleared};
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
            keep[at[j]] |= KEEP_BEFORE_SUSPICIOUS;
    }
out:
    free(g);
    free(at);
    free(k);
}

/* Why a generation is kept: as programs read it, or with `people` as the
 * reader's language says it. */
static const char *why(unsigned k, bool people, char *buf, size_t n)
{
    if (k & KEEP_DAMAGED)
        return people ? _("damaged record: never deleted") : "damaged record: never deleted";
    if (k & KEEP_SUSPICIOUS)
        return people ? _("suspicious: kept until cleared") : "suspicious: kept until cleared";
    pol_keep_reasons(k & 0x3ff, people, buf, n);
    if (k & KEEP_BEFORE_SUSPICIOUS) {
        size_t l = strlen(buf);
        const char *sep = k & 0x3ff ? people ? C_("between reasons", ", ") : ", " : "";
        snprintf(buf + l, n - l, "%s%s", sep,
                 people ? _("before a suspicious generation") : "before a suspicious generation");
    }
    return buf;
}

void cli_prune_decide(cli *c, bkp_gen **v, size_t n, bool medium, unsigned *keep)
{
    time_t now = bkp_now();
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(v[j]->dataset, v[i]->dataset))
            j++;
        decide(c->policy, v, i, j, now, medium ? 3 : 0, keep);
        i = j;
    }
}

/* Apply retention to `*target` at `repo` (opened here when NULL): the
 * primary, or the copy on `medium`. Records go to the primary's audit log. */
static int prune_repo(cli *c, const char *repo, bkp_repo **target, const bkp_lock *self,
                      const char *medium)
{
    pol_policy *p = c->policy; /* loaded by the dispatcher when named */
    bkp_lock *lock = NULL;
    bkp_gen **v = NULL, **doomed = NULL;
    unsigned *keep = NULL;
    size_t n = 0, nd = 0;
    int ex = EXIT_FAILED, rc;
    if (!repo)
        return EXIT_USAGE;
    if (!c->dry_run && (rc = bkp_lock_prune_after(repo, "bkp prune", self, &lock)))
        return rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
    if (cli_policy_named(c) && !p) {
        bkp_lock_release(lock);
        return EXIT_USAGE; /* a policy was named and is malformed: never guess "keep all" */
    }
    /* A writer that prunes after its writes has the repository open already. */
    if (!*target && (ex = cli_open_repo(c, c->dry_run ? BKP_REPO_READONLY : 0, target)))
        goto out;
    ex = EXIT_FAILED;
    /* The lock is ours: finish what a killed prune before us left (the open's
     * own recovery defers to the lock holder, which is now us; it needs the
     * keys, to check the intent), then load the index without what went. */
    bool finished = false;
    if (!c->dry_run && (bkp_prune_recover(bkp_repo_path(*target), bkp_repo_keys(*target),
                                          BKP_RECOVER_MINE, &finished) ||
                        (finished && bkp_repo_reload(*target))))
        goto out;
    if ((rc = bkp_gen_list(*target, NULL, &v, &n))) {
        bkp_error(_("cannot list the generations: %s"), bkp_strerror(rc));
        goto out;
    }
    keep = calloc(n + 1, sizeof(*keep));
    doomed = calloc(n + 1, sizeof(*doomed));
    if (!keep || !doomed)
        goto out;
    cli_prune_decide(c, v, n, medium != NULL, keep);
    /* Inside another command's --json (run, rotate), nothing is printed here:
     * one JSON document per command; what this prune did is in the audit log. */
    bool quiet = c->json && strcmp(c->command ? c->command : "", "prune") != 0;
    json_t *plan = c->json && !quiet ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        char name[96], reasons[160];
        if (v[i]->pruned && !v[i]->status)
            continue;
        bkp_gen_name(v[i], name, sizeof(name));
        if (!keep[i])
            doomed[nd++] = v[i];
        if (plan)
            json_array_append_new(plan,
                                  json_pack("{s:s, s:i, s:b, s:s}", "dataset", v[i]->dataset, "seq",
                                            (int)v[i]->seq, "keep", keep[i] != 0, "why",
                                            why(keep[i], false, reasons, sizeof(reasons))));
        else if ((c->tty || c->dry_run) && !quiet)
            cli_row((const char *[]){name, keep[i] ? _("keep") : _("delete"),
                                     keep[i] ? why(keep[i], true, reasons, sizeof(reasons)) : ""},
                    (const int[]){24, 7, 0}, 3);
    }
    bkp_prune_result res;
    rc = bkp_prune(*target, doomed, nd, c->dry_run, &res);
    /* The handle outlives the prune (bkp run, rotate): it must not know deleted packs. */
    if (!rc && !c->dry_run && (res.packs || res.packs_repacked) && (rc = bkp_repo_reload(*target)))
        bkp_error(_("cannot reload the index after pruning: %s"), bkp_strerror(rc));
    if (!c->dry_run) {
        json_t *gone = json_array();
        for (size_t i = 0; i < nd; i++) {
            char name[96];
            json_array_append_new(gone, json_string(bkp_gen_name(doomed[i], name, sizeof(name))));
        }
        json_t *fig =
            json_pack("{s:o, s:I, s:I, s:I}", "generations_deleted", gone, "packs_deleted",
                      (json_int_t)res.packs, "packs_repacked", (json_int_t)res.packs_repacked,
                      "bytes_freed", (json_int_t)res.bytes);
        bkp_audit_rec rec = {.op = "prune",
                             .medium = medium,
                             .failed = rc != 0,
                             .figures = fig,
                             .error = rc ? bkp_strerror(rc) : NULL};
        if (cli_audit(c, &rec) && !rc)
            rc = -EIO;
        json_decref(fig);
    }
    if (plan) {
        cli_print_json(json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I}", "dry_run", c->dry_run,
                                 "plan", plan, "generations_deleted", (json_int_t)res.generations,
                                 "packs_deleted", (json_int_t)res.packs, "packs_repacked",
                                 (json_int_t)res.packs_repacked, "bytes_freed",
                                 (json_int_t)res.bytes, "packs_kept", (json_int_t)res.packs_kept));
    } else if (!rc && (c->tty || c->dry_run) && !quiet) {
        char sz[32];
        printf(c->dry_run ? _("would delete %llu generation(s) and %llu pack(s), would repack %llu "
                              "mostly empty one(s) (%s freed); %llu pack(s) kept, %llu of them "
                              "partly used\n")
                          : _("deleted %llu generation(s) and %llu pack(s), repacked %llu mostly "
                              "empty one(s) (%s freed); %llu pack(s) kept, %llu of them partly "
                              "used\n"),
               (unsigned long long)res.generations, (unsigned long long)res.packs,
               (unsigned long long)res.packs_repacked, cli_size(sz, sizeof(sz), res.bytes),
               (unsigned long long)res.packs_kept, (unsigned long long)res.packs_partly_used);
    }
    ex = rc ? EXIT_FAILED : EXIT_OK;
out:
    free(keep);
    free(doomed);
    bkp_gen_list_free(v, n);
    bkp_lock_release(lock);
    return ex;
}

int cli_prune(cli *c, const bkp_lock *self)
{
    const char *repo = cli_repo_path(c);
    return repo ? prune_repo(c, repo, &c->r, self, NULL) : EXIT_USAGE;
}

int cli_prune_medium(cli *c, const char *path, bkp_repo *target, const bkp_lock *self,
                     const char *medium)
{
    return prune_repo(c, path, &target, self, medium);
}

int cmd_prune(cli *c)
{
    return cli_prune(c, NULL);
}
