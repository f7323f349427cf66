/*
 * bkp audit report [--from DATE] [--to DATE] [--format md|html] [--json] [--lang ja|en]
 *
 * The evidence an inspector asks for under checklist item 3-②, for a period
 * (default: the last 30 days), gathered from the signed audit log — every
 * claim names the records (by sequence number) it rests on — and from the
 * repository as it is now: per data set, backups run and failed, generations
 * kept, the 3-2-1 verdict, rotations and the longest gap between off-line
 * copies, verifications, drills with their measured recovery time, the
 * integrity of the audit chain, every key operation (key_ops below), and a
 * closing statement (はい / いいえ).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/pubkey.h"
#include "restore/evidence.h"
#include "restore/runbook.h"

#define DAY 86400

typedef struct scan {
    time_t from, to;
    json_t *records; /* the records of the period, and the off-line rotations before it */
    const pol_policy *p;
} scan;

static bool offline_medium(const pol_policy *p, const char *name)
{
    const pol_medium *m = name ? pol_medium_find(p, name) : NULL;
    return m && m->offline;
}

static int collect(json_t *j, void *ctx)
{
    scan *s = ctx;
    time_t t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
    const char *op = json_string_value(json_object_get(j, "op"));
    bool before = t < s->from;
    /* Rotations before the period tell how old the off-line copy was at its start. */
    if (t > s->to ||
        (before && !(op && !strcmp(op, "rotate") &&
                     offline_medium(s->p, json_string_value(json_object_get(j, "medium"))))))
        return 0;
    json_t *r = json_deep_copy(j);
    json_object_del(r, "sig");
    json_object_del(r, "prev");
    json_object_set_new(r, "before_period", json_boolean(before));
    json_array_append_new(s->records, r);
    return 0;
}

static bool is(json_t *r, const char *op)
{
    const char *o = json_string_value(json_object_get(r, "op"));
    return o && !strcmp(o, op);
}

static bool ok(json_t *r)
{
    const char *o = json_string_value(json_object_get(r, "outcome"));
    return o && !strcmp(o, "ok");
}

static bool names_dataset(json_t *r, const char *ds)
{
    const char *d = json_string_value(json_object_get(r, "dataset"));
    if (d)
        return !strcmp(d, ds);
    size_t i, l = strlen(ds);
    json_t *g;
    json_array_foreach(json_object_get(json_object_get(r, "figures"), "generations"), i, g)
    {
        const char *n = json_string_value(g);
        if (n && !strncmp(n, ds, l) && n[l] == ':')
            return true;
    }
    return false;
}

/* The capture time of the newest generation of `ds` a rotation left on its
 * medium (recorded since media exist), or 0. */
static time_t captured_of(json_t *r, const char *ds)
{
    const char *c = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "figures"), "captured"), ds));
    time_t t = c ? bkp_iso_parse(c) : -1;
    return t > 0 ? t : 0;
}

static json_t *brief(json_t *r)
{
    return json_pack("{s:O, s:O, s:O?, s:O?, s:O?, s:O?}", "seq", json_object_get(r, "seq"), "time",
                     json_object_get(r, "time"), "outcome", json_object_get(r, "outcome"), "medium",
                     json_object_get(r, "medium"), "generation", json_object_get(r, "generation"),
                     "error", json_object_get(r, "error"));
}

/* One data set's part of the report. */
static json_t *dataset_part(cli *c, const pol_dataset *d, json_t *records, json_t *status,
                            const scan *s)
{
    const pol_policy *p = s->p;
    json_t *backups = json_array(), *rot = json_array(), *drills = json_array();
    size_t i, bok = 0, bfail = 0, bsusp = 0;
    json_t *r;
    time_t last_off = 0;
    int64_t gap = 0;
    json_array_foreach(records, i, r)
    {
        bool pre = json_is_true(json_object_get(r, "before_period"));
        time_t t = bkp_iso_parse(json_string_value(json_object_get(r, "time")));
        if (is(r, "backup") && names_dataset(r, d->name) && !pre) {
            bool susp = json_is_true(json_object_get(json_object_get(r, "figures"), "suspicious"));
            bok += ok(r) && !susp;
            bfail += !ok(r) && !susp;
            bsusp += susp;
            json_array_append_new(backups, brief(r));
        } else if (is(r, "rotate") && (names_dataset(r, d->name) || captured_of(r, d->name))) {
            const char *m = json_string_value(json_object_get(r, "medium"));
            if (!pre)
                json_array_append_new(rot, brief(r));
            if (ok(r) && offline_medium(p, m)) {
                /* The copy is as old as the generation it holds, not the rotation. */
                time_t base = captured_of(r, d->name) ? captured_of(r, d->name) : t;
                time_t start = last_off ? last_off : s->from;
                if (!pre && t - start > gap)
                    gap = t - start;
                if (base > last_off)
                    last_off = base;
            }
        } else if (is(r, "drill") && names_dataset(r, d->name) && !pre) {
            json_t *f = json_object_get(r, "figures"), *b = brief(r);
            json_object_set(b, "runbook", json_object_get(f, "runbook"));
            json_object_set(b, "seconds", json_object_get(f, "seconds"));
            json_object_set(b, "rto_target_seconds", json_object_get(f, "rto_target_seconds"));
            json_object_set(b, "rto_met", json_object_get(f, "rto_met"));
            json_object_set(b, "failed_step", json_object_get(f, "failed_step"));
            json_object_set(b, "not_rehearsed", json_object_get(f, "not_rehearsed"));
            json_object_set(b, "damaged", json_object_get(f, "damaged"));
            json_array_append_new(drills, b);
        }
    }
    time_t end = s->to < bkp_now() ? s->to : bkp_now();
    if (end - (last_off ? last_off : s->from) > gap)
        gap = end - (last_off ? last_off : s->from);
    /* The status of now, for this data set. */
    json_t *st = NULL;
    json_array_foreach(status, i, r) if (!strcmp(json_string_value(json_object_get(r, "dataset")),
                                                 d->name)) st = r;
    /* Its written procedure. */
    rb_runbook *rb = NULL;
    json_t *runbook = json_null();
    if (d->runbook && !cli_runbook_load(c, d->runbook, &rb))
        runbook = json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", rb->name, "file", rb->file,
                            "title", rb->title, "steps", (json_int_t)rb->nsteps, "rto_seconds",
                            (json_int_t)rb->rto);
    else if (d->runbook)
        runbook = json_pack("{s:s, s:b}", "name", d->runbook, "invalid", 1);
    rb_free(rb);
    return json_pack(
        "{s:s, s:s, s:i, s:{s:I, s:I, s:I, s:o}, s:O, s:O, s:O, s:O, s:O, s:O*, s:o, "
        "s:I, s:b, s:I, s:o, s:o}",
        "dataset", d->name, "description", d->description ? d->description : "", "priority",
        d->priority, "backups", "ok", (json_int_t)bok, "failed", (json_int_t)bfail, "suspicious",
        (json_int_t)bsusp, "records", backups, "generations_kept",
        json_object_get(st, "generations"), "verdict", json_object_get(st, "verdict"), "reasons",
        json_object_get(st, "reasons"), "counted", json_object_get(st, "counted"), "required",
        json_object_get(st, "required"), "copies_on_media", json_object_get(st, "copies_on_media"),
        "rotations", rot, "offline_longest_gap_seconds", (json_int_t)gap, "offline_gap_ok",
        last_off && gap <= p->rule.offline_max_age, "offline_max_age_seconds",
        (json_int_t)p->rule.offline_max_age, "drills", drills, "runbook", runbook);
}

/* ---- key operations: every use and change of the key in the period ---- */

/* The operations on the key the log records (cmd_key.c, keyfrom.c, and the
 * passphrase slots'), named here so that each appears once it is recorded. */
static bool key_op(json_t *r)
{
    static const char *const ops[] = {"key-export", "key-split",  "key-from",
                                      "key-add",    "key-passwd", "key-remove"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        if (is(r, ops[i]))
            return true;
    /* A key-recovery drill (cmd_drill.c) is a use of the sheets too. */
    return is(r, "drill") &&
           json_is_true(json_object_get(json_object_get(r, "figures"), "key_recovery"));
}

static json_t *key_ops(json_t *records)
{
    json_t *out = json_array(), *r;
    size_t i;
    json_array_foreach(records, i, r)
    {
        if (json_is_true(json_object_get(r, "before_period")) || !key_op(r))
            continue;
        json_t *f = json_object_get(r, "figures"), *fig = json_object();
        if (is(r, "drill")) { /* what the drill proved, not its report files */
            json_t *d = json_pack("{s:O?, s:O?, s:O?}", "runbook", json_object_get(f, "runbook"),
                                  "seconds", json_object_get(f, "seconds"), "key_sheets",
                                  json_object_get(f, "key_sheets"));
            json_object_update(fig, d);
            json_decref(d);
        } else if (json_is_object(f))
            json_object_update(fig, f);
        json_array_append_new(
            out,
            json_pack("{s:O, s:O, s:O, s:b, s:O?, s:O?, s:O?, s:O?, s:O?, s:o}", "seq",
                      json_object_get(r, "seq"), "time", json_object_get(r, "time"), "op",
                      json_object_get(r, "op"), "key_recovery", is(r, "drill"), "outcome",
                      json_object_get(r, "outcome"), "user", json_object_get(r, "user"), "host",
                      json_object_get(r, "host"), "dataset", json_object_get(r, "dataset"),
                      "medium", json_object_get(r, "medium"), "figures", fig));
    }
    return out;
}

static time_t parse_day(const char *s, bool end_of_day)
{
    if (!s)
        return -1;
    time_t t = bkp_iso_parse(s);
    if (t > 0)
        return t;
    char buf[32];
    snprintf(buf, sizeof(buf), "%.10sT00:00:00Z", s);
    t = strlen(s) == 10 ? bkp_iso_parse(buf) : -1;
    return t > 0 && end_of_day ? t + DAY - 1 : t;
}

int cli_audit_report(cli *c)
{
    pol_policy *p = cli_policy(c);
    time_t now = bkp_now();
    scan s = {
        .to = c->period_to ? parse_day(c->period_to, true) : now, .records = json_array(), .p = p};
    s.from = c->from ? parse_day(c->from, false) : s.to - 30 * DAY;
    int f = 0, ex = cli_format(c, &f), worst = 0;
    if (!p || ex || s.from < 0 || s.to < 0 || s.from > s.to) {
        if (p && !ex)
            bkp_error(
                _("give the period as --from YYYY-MM-DD --to YYYY-MM-DD (UTC days), the first "
                  "not after the second"));
        json_decref(s.records);
        return EXIT_USAGE;
    }
    char *log = bkp_audit_path(c->r);
    bkp_audit_check chk;
    int vrc = bkp_audit_verify(log, bkp_keys_sign_pk(bkp_repo_keys(c->r)), NULL, &chk);
    (void)bkp_audit_each(log, collect, &s);
    free(log);
    json_t *status = cli_status(c, &worst), *sets = json_array(), *verifs = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(s.records, i,
                       r) if (is(r, "verify") && !json_is_true(json_object_get(r, "before_period")))
        json_array_append_new(verifs, brief(r));
    for (size_t k = 0; k < p->ndatasets; k++)
        json_array_append_new(sets, dataset_part(c, &p->datasets[k], s.records, status, &s));
    char from[32], to[32], gen[32];
    bkp_iso_time(from, sizeof(from), s.from);
    bkp_iso_time(to, sizeof(to), s.to);
    bkp_iso_time(gen, sizeof(gen), now);
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:b, s:I, s:s}, s:o, s:o}",
                           "repository", bkp_repo_path(c->r), "repository_id", bkp_repo_uuid(c->r),
                           "period", "from", from, "to", to, "generated", gen, "audit", "ok",
                           vrc == 0, "records", (json_int_t)chk.records, "problem",
                           vrc == 0 ? "" : chk.problem, "verifications", verifs, "datasets", sets);
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->r), fp); /* pinned on paper with the report */
    json_object_set_new(ev, "fingerprint", json_string(fp));
    json_object_set_new(ev, "key_operations", key_ops(s.records));
    json_object_set_new(ev, "statement", rb_evidence_statement(ev));
    json_decref(status);
    json_decref(s.records);
    if (c->json) {
        cli_print_json(ev);
    } else {
        char *text = rb_evidence_render(ev, (rb_format)f, cli_lang_ja(c));
        if (text)
            fputs(text, stdout);
        free(text);
        json_decref(ev);
        if (!text)
            return EXIT_FAILED;
    }
    return vrc < 0 ? EXIT_FAILED : EXIT_OK;
}
