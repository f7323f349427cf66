/*
 * The run's cycle (bkp/ops/run.h) with a real repository in a temporary
 * folder: two data sets of different priority are sealed in priority order
 * and the due drill runs; a second run at the same clock seals nothing (not
 * due) and runs no drill (its record is there); a failing before hook fails
 * its data set alone, the other is sealed; the copies go to the on-line
 * disk the data sets name, never to the off-line one; the failure is a
 * condition told once, not again at the next run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/store/seal.h"
#include "bkp/media/registry.h"
#include "bkp/ops/run.h"

#include "catalogue.h"
#include "ops_repo.h"

/* %2$s: the before hook of emr. */
static const char policy_text[] =
    OPS_POLICY_HEAD "datasets:\n"
                    "  - name: scans\n"
                    "    priority: 2\n"
                    "    paths: [%1$s/src]\n"
                    "    schedule: daily 03:00\n"
                    "    copy_to: [nas, usb-a]\n"
                    "  - name: emr\n"
                    "    priority: 1\n"
                    "    paths: [%1$s/src]\n"
                    "    schedule: daily 02:00\n"
                    "%2$s"
                    "drills:\n"
                    "  - { runbook: /etc/bkp/runbooks/monthly.yaml, schedule: monthly 1 05:00 }\n";

typedef struct fixture {
    ops_repo f;
    time_t now;
    char sealed[8][32]; /* the data sets captured, in order */
    size_t nsealed;
    char drilled[8][64]; /* the drills run, by stem */
    size_t ndrilled;
    char copied[8][32];
    size_t ncopied;
    ops_run_io io;
    ops_run_in in;
} fixture;

static int audit(void *ctx, const bkp_audit_rec *rec)
{
    fixture *x = ctx;
    return bkp_audit_append(x->f.r, rec);
}

/* Capture and seal `d`, as the program's backup does (no guard). */
static int backup(void *ctx, const pol_dataset *d, ops_run_backup *b)
{
    fixture *x = ctx;
    bkp_capture_opts o = {
        .dataset = d->name, .paths = (const char *const *)d->paths, .npaths = d->npaths};
    bkp_capture cap;
    memset(b, 0, sizeof(*b));
    snprintf(x->sealed[x->nsealed++], sizeof(x->sealed[0]), "%s", d->name);
    int rc = bkp_capture_run(x->f.r, &o, &cap);
    if (!rc)
        rc = bkp_gen_seal(x->f.r, d->name, &cap, x->now - 1, x->now, NULL, &b->gen);
    b->stats = cap.stats;
    bkp_capture_clear(&cap);
    return rc ? 1 : 0;
}

static time_t never_due(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 0;
}

static int put_written(bkp_media_entry *e, void *ctx)
{
    e->label = *(const bkp_label *)ctx;
    e->last_write = 1767225600; /* 2026-01-01 */
    return 0;
}

/* The copy to an on-line disk, as the registry records it: the first
 * rotation, after which scheduled drills run. */
static int copy(void *ctx, const pol_medium *m)
{
    fixture *x = ctx;
    snprintf(x->copied[x->ncopied++], sizeof(x->copied[0]), "%s", m->name);
    bkp_label l;
    assert_int_equal(ops_label_new(x->f.r, m->name, "disk", "onsite", &l), 0);
    assert_int_equal(bkp_media_update(x->f.r, m->name, put_written, &l), 0);
    return 0;
}

static int no_disk(void *ctx, const pol_medium *m, bkp_repo **out)
{
    (void)ctx;
    (void)m;
    *out = NULL;
    return -ENOENT;
}

/* The drill "runs" and leaves its record, as the program's does. */
static int drill(void *ctx, const char *runbook, const char *stem)
{
    fixture *x = ctx;
    (void)runbook;
    snprintf(x->drilled[x->ndrilled++], sizeof(x->drilled[0]), "%s", stem);
    return ops_repo_record(&x->f, "drill", NULL, false, json_pack("{s:s}", "runbook", stem));
}

static void setup_with(fixture *x, const char *before)
{
    char yaml[4096];
    memset(x, 0, sizeof(*x));
    /* The hook goes into the text ops_repo_new formats with the top folder alone. */
    snprintf(yaml, sizeof(yaml), policy_text, "%1$s", before);
    assert_int_equal(ops_repo_new(&x->f, "run", yaml), 0);
    x->now = bkp_now();
    x->io = (ops_run_io){.ctx = x,
                         .audit = audit,
                         .backup = backup,
                         .medium_due = never_due,
                         .copy = copy,
                         .open_online = no_disk,
                         .drill = drill};
    x->in =
        (ops_run_in){.repo = x->f.r, .policy = x->f.p, .now = x->now, .workers = 1, .io = &x->io};
}

static size_t generations(fixture *x, const char *name)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    assert_int_equal(bkp_gen_list(x->f.r, name, &v, &n), 0);
    bkp_gen_list_free(v, n);
    return n;
}

/* The first run, emr's before hook `before`: both data sets, by priority. */
static void first_run(fixture *x, const char *before, ops_run_result *res)
{
    setup_with(x, before);
    assert_int_equal(ops_run_datasets(&x->in, res), 0);
    assert_int_equal(res->n, 2);
    assert_string_equal(res->v[0].d->name, "emr"); /* priority 1 first */
    assert_string_equal(res->v[1].d->name, "scans");
}

static void test_priority_then_not_due(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    first_run(&x, "", &res);
    assert_string_equal(x.sealed[0], "emr");
    assert_string_equal(x.sealed[1], "scans");
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(res.v[i].what, "sealed");
        assert_true(res.v[i].ran);
        assert_false(res.v[i].failed);
        assert_non_null(res.v[i].b.gen);
        assert_int_equal(res.v[i].b.gen->seq, 1);
        assert_int_equal(res.v[i].generations, 1);
        assert_int_equal(res.v[i].last_success, x.now);
    }
    assert_false(ops_run_failed(&res));
    assert_false(ops_run_wants_prune(x.f.p));
    /* No scheduled drill before the first copy to a medium. */
    assert_false(ops_run_drills(&x.in));
    assert_int_equal(x.ndrilled, 0);
    /* nas is on-line and named; usb-a is off-line: `bkp rotate`'s. */
    assert_false(ops_run_copy_online(&x.in, &res));
    assert_int_equal(x.ncopied, 1);
    assert_string_equal(x.copied[0], "nas");
    assert_false(ops_run_drills(&x.in));
    assert_int_equal(x.ndrilled, 1);
    assert_string_equal(x.drilled[0], "monthly");
    ops_run_result_free(&res);
    assert_int_equal(generations(&x, "emr"), 1);
    assert_int_equal(generations(&x, "scans"), 1);

    /* The same clock again: nothing due, nothing captured, no drill. */
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_int_equal(res.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(res.v[i].what, "not due");
        assert_false(res.v[i].ran);
        assert_null(res.v[i].b.gen);
        assert_int_equal(res.v[i].generations, 1);
        assert_int_equal(strncmp(res.v[i].detail, "next ", 5), 0);
    }
    assert_int_equal(x.nsealed, 2);
    /* The drill's record has the log's clock, a moment after the run's. */
    x.in.now = bkp_now();
    assert_false(ops_run_drills(&x.in));
    assert_int_equal(x.ndrilled, 1);
    ops_run_result_free(&res);
    assert_int_equal(generations(&x, "emr"), 1);
    assert_int_equal(generations(&x, "scans"), 1);
    ops_repo_free(&x.f);
}

static void test_failing_hook_fails_its_dataset_alone(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    first_run(&x, "    before: { command: \"exit 3\", timeout: 30s }\n", &res);
    assert_string_equal(res.v[0].what, "failed");
    assert_string_equal(res.v[0].detail, "before hook exited with status 3");
    assert_true(res.v[0].ran);
    assert_true(res.v[0].failed);
    assert_null(res.v[0].b.gen);
    assert_string_equal(res.v[1].what, "sealed");
    assert_non_null(res.v[1].b.gen);
    assert_int_equal(x.nsealed, 1); /* emr was never captured */
    assert_string_equal(x.sealed[0], "scans");
    assert_true(ops_run_failed(&res));

    /* The conditions: emr's backup failed, scans' is fine; the steps after. */
    ops_alerts al = {0};
    bool told[8] = {0};
    ops_run_alert_outcomes(&al, &res);
    assert_false(ops_run_after(&x.in, &res, &al));
    assert_int_equal(al.n, 6); /* 2 backups, copy-online, verify, drill, usb-a not connected */
    assert_string_equal(al.v[0].key, "backup:emr");
    assert_string_equal(al.v[0].state, "failed");
    /* The advice of its cause: the hook, run by hand; and the same in Japanese. */
    assert_string_equal(al.v[0].summary, "the backup of emr failed: before hook exited with status "
                                         "3 — run its hook `exit 3` by hand as the policy runs it, "
                                         "and fix what it says");
    assert_non_null(al.v[0].summary_ja);
    assert_non_null(strstr(al.v[0].summary_ja, "フック `exit 3` を手で実行"));
    assert_string_equal(al.v[1].key, "backup:scans");
    assert_null(al.v[1].state);
    assert_string_equal(al.v[2].key, "copy-online");
    assert_string_equal(al.v[3].key, "verify");
    assert_null(al.v[3].state);
    assert_string_equal(al.v[4].key, "drill");
    /* Told once per change: the failure now, not again at the next run. */
    assert_int_equal(ops_alerts_tell(x.f.r, x.f.p, &al, x.now, told, audit, &x), 0);
    assert_true(told[0]);
    memset(told, 0, sizeof(told));
    assert_int_equal(ops_alerts_tell(x.f.r, x.f.p, &al, x.now, told, audit, &x), 0);
    assert_false(told[0]);
    ops_alerts_free(&al);
    ops_run_result_free(&res);
    assert_int_equal(generations(&x, "emr"), 0);
    assert_int_equal(generations(&x, "scans"), 1);
    /* The hook's record is in the audit log, failed. */
    char *log = bkp_audit_path(x.f.r);
    json_t *rec = bkp_audit_last(log, bkp_repo_sign_pk(x.f.r),
                                 &(bkp_audit_query){"hook-before", "failed", NULL, NULL}, NULL);
    assert_non_null(rec);
    json_decref(rec);
    free(log);
    ops_repo_free(&x.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_then_not_due),
        cmocka_unit_test(test_failing_hook_fails_its_dataset_alone),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
