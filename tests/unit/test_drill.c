/*
 * What a drill leaves behind (restore/drill_report.c), without a terminal, a medium
 * or a policy: the shipped emr-db runbook with a result made by hand (a
 * confirm not rehearsed, the restore of one data set done, or the check
 * failed), then its report files (every form, 0600 in a folder made 0700,
 * the JSON the same document), its audit records (one per data set
 * restored, one when none was reached, the failed step's detail as the
 * error, the sheets of a key-recovery drill), the sandbox rules and who
 * attests which role's steps (restore/attest.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "restore/drill_report.h"
#include "restore/procedure.h"
#include "restore/runbook.h"

#include "catalogue.h"
#include "testutil.h"

typedef struct fixture {
    rb_runbook *rb;
    rb_result res;
    rb_env env;
    char top[64], box[128], outside[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char path[1024];
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    if (!f || rb_load(path, &f->rb) || test_box("drill", f->top, f->box, f->outside))
        return -1;
    f->res.steps = calloc(f->rb->nsteps, sizeof(*f->res.steps));
    for (size_t i = 0; i < f->rb->nsteps; i++)
        f->res.steps[i].status = f->rb->steps[i].action == RB_CONFIRM ? RB_NOT_REHEARSED : RB_DONE;
    f->res.ok = true;
    f->res.seconds = 93.5;
    f->res.files = 3;
    f->res.restored = calloc(1, sizeof(*f->res.restored));
    if (f->res.restored) {
        f->res.restored[0] = (rb_restored){
            .dataset = "emr-db", .generation = "emr-db:7", .source = "usb-a", .damaged = 0};
        f->res.nrestored = 1;
    }
    snprintf(f->res.generation, sizeof(f->res.generation), "emr-db:7");
    snprintf(f->res.source, sizeof(f->res.source), "usb-a");
    f->env = (rb_env){.drill = true, .sandbox = "/var/tmp/bkp-drill-x"};
    *state = f;
    return f->res.steps && f->res.restored ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->top);
    rb_result_clear(&f->res);
    rb_free(f->rb);
    free(f);
    return 0;
}

static size_t confirms(const rb_runbook *rb)
{
    size_t n = 0;
    for (size_t i = 0; i < rb->nsteps; i++)
        n += rb->steps[i].action == RB_CONFIRM;
    return n;
}

static void test_report_files(void **state)
{
    fixture *f = *state;
    char dir[256], path[512];
    struct stat st;
    rb_report report;
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "yamada", &report), 0);
    setenv("TZ", "JST-9", 1);
    tzset();
    char *stem = rb_report_stem(f->rb, 1764000000); /* 2025-11-24T16:00:00Z */
    assert_string_equal(stem, "drill-emr-db-20251125T010000+0900"); /* the server's day */
    snprintf(dir, sizeof(dir), "%s/reports/new", f->box);
    assert_int_equal(rb_report_write(&report, dir, stem), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    static const char *const suffix[] = {".ja.md", ".en.md", ".ja.html", ".en.html", ".json"};
    assert_int_equal(report.reports.n, 5);
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/%s%s", dir, stem, suffix[i]);
        assert_string_equal(report.reports.v[i], path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_true(st.st_size > 100);
    }
    /* The .json: the report as --json prints it, without the files. */
    json_t *back = json_load_file(path, 0, NULL);
    char *text = rb_report_json(&report, false);
    json_t *same = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, same));
    assert_string_equal(json_string_value(json_object_get(back, "started")),
                        "2025-11-24T16:00:00Z");
    assert_string_equal(json_string_value(json_object_get(back, "user")), "yamada");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(back, "restored"), 0), "source")),
                        "usb-a");
    assert_int_equal(json_array_size(json_object_get(back, "steps")), f->rb->nsteps);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(back, "steps"), 0), "status")),
                        "not rehearsed");
    assert_null(json_object_get(back, "reports"));
    assert_null(json_object_get(back, "key_recovery"));
    assert_false(json_is_true(json_object_get(back, "attended")));
    json_decref(same);
    free(text);
    json_decref(back);
    /* With the files: what --json prints. */
    text = rb_report_json(&report, true);
    same = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(same, "reports")), 5);
    json_decref(same);
    free(text);
    /* A second drill in the same second: its reports beside the first's,
     * never over them (each is somebody's evidence). */
    rb_report again;
    snprintf(path, sizeof(path), "%s/%s.ja.md", dir, stem);
    assert_int_equal(stat(path, &st), 0);
    off_t first = st.st_size;
    f->res.seconds = 1.5; /* another report */
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "sato", &again), 0);
    assert_int_equal(rb_report_write(&again, dir, stem), 0);
    assert_int_equal(again.reports.n, 5);
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/%s-2%s", dir, stem, suffix[i]);
        assert_string_equal(again.reports.v[i], path);
    }
    snprintf(path, sizeof(path), "%s/%s.ja.md", dir, stem);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, first);
    assert_string_not_equal(again.reports_sha256.v[0], report.reports_sha256.v[0]);
    rb_report_clear(&again);
    /* A folder that cannot be made: the error, and no path listed. */
    rb_report_clear(&report);
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "yamada", &report), 0);
    snprintf(path, sizeof(path), "%s/%s.json/sub", dir, stem);
    assert_int_not_equal(rb_report_write(&report, path, stem), 0);
    assert_int_equal(report.reports.n, 0);
    free(stem);
    rb_report_clear(&report);
}

/* A drill attended by the people named is attended only when every
 * confirm step was confirmed: one no terminal asked is not. */
static void test_attended_by_what_happened(void **state)
{
    fixture *f = *state;
    rb_report report;
    rb_attest sato = {.all = "佐藤"};
    f->env = (rb_env){.drill = true, .interactive = true, .attest = &sato};
    size_t left = 0;
    for (size_t i = 0; i < f->rb->nsteps; i++)
        if (f->res.steps[i].status == RB_NOT_REHEARSED && !left++)
            f->res.steps[i].status = RB_DONE; /* the first confirmed, the rest not */
    assert_true(left > 1);
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "root", &report), 0);
    assert_false(report.attended);
    rb_report_clear(&report);
    for (size_t i = 0; i < f->rb->nsteps; i++)
        if (f->res.steps[i].status == RB_NOT_REHEARSED)
            f->res.steps[i].status = RB_DONE;
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "root", &report), 0);
    assert_true(report.attended);
    rb_report_clear(&report);
}

static void test_record_done(void **state)
{
    fixture *f = *state;
    bkp_audit_rec rec;
    rb_report report;
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "yamada", &report), 0);
    assert_int_equal(bkp_strlist_add(&report.reports, "/r/drill.ja.md"), 0);
    assert_int_equal(bkp_strlist_add(&report.reports, "/r/odd\\name.md"), 0);
    assert_int_equal(rb_record_count(&report), 1);
    rb_record(&report, 0, &rec);
    json_t *fig = rec.figures;
    assert_string_equal(rec.op, "drill");
    assert_string_equal(rec.dataset, "emr-db");
    assert_string_equal(rec.generation, "emr-db:7");
    assert_string_equal(rec.medium, "usb-a");
    assert_false(rec.failed);
    assert_null(rec.error);
    assert_string_equal(json_string_value(json_object_get(fig, "runbook")), "emr-db");
    assert_int_equal(json_integer_value(json_object_get(fig, "not_rehearsed")),
                     (json_int_t)confirms(f->rb));
    assert_int_equal(rb_not_rehearsed(&report), confirms(f->rb));
    assert_string_equal(json_string_value(json_array_get(json_object_get(fig, "reports"), 0)),
                        "/r/drill.ja.md");
    assert_true(json_is_null(json_object_get(fig, "attested_by"))); /* unattended */
    assert_false(json_is_true(json_object_get(fig, "attended")));
    assert_null(json_object_get(fig, "key_recovery"));
    assert_int_equal(json_is_true(json_object_get(fig, "rto_met")), report.rto_met);
    /* Read back typed, as the status, the evidence and `audit check` do. */
    bkp_audit_entry e = {.op = "drill", .figures = fig};
    rb_drill_figures df;
    rb_drill_figures_read(&e, &df);
    assert_string_equal(df.runbook, "emr-db");
    assert_int_equal(df.not_rehearsed, (int64_t)confirms(f->rb));
    assert_int_equal(df.rto_met, report.rto_met ? RST_YES : RST_NO);
    assert_int_equal(df.attended, RST_NO);
    assert_true(rb_drill_figures_unattended(&df));
    assert_null(df.attested_by);
    assert_false(df.key_recovery);
    assert_true(df.seconds >= 0);
    assert_true(bkp_audit_names_report(&e, NULL, "drill.ja.md"));
    assert_false(bkp_audit_names_report(&e, NULL, "drill.en.md"));
    /* A name kept escaped (a backslash doubled) is still found by its own. */
    assert_true(bkp_audit_names_report(&e, NULL, "odd\\name.md"));
    assert_false(bkp_audit_names_report(&e, "00", NULL));
    assert_true(bkp_audit_keeps_sums(&e));
    json_decref(fig);
    /* Figures of other types, or out of range, read as unsaid. */
    fig = json_pack("{s:s, s:i, s:i, s:I, s:s, s:[i]}", "seconds", "x", "rto_met", 1, "runbook", 5,
                    "not_rehearsed", (json_int_t)-2, "attended", "yes", "reports", 7);
    e.figures = fig;
    rb_drill_figures_read(&e, &df);
    assert_true(df.seconds < 0);
    assert_int_equal(df.rto_met, RST_UNSAID);
    assert_int_equal(df.attended, RST_UNSAID);
    assert_false(rb_drill_figures_unattended(&df)); /* nothing said, nothing not rehearsed */
    /* One kind for every reader: a record from before drills said whether
     * they were attended is unattended when its people's steps were not
     * rehearsed; a key-recovery drill is of its own kind. */
    rb_drill_figures old = {.attended = RST_UNSAID, .not_rehearsed = 3};
    assert_true(rb_drill_figures_unattended(&old));
    old.not_rehearsed = 0;
    assert_false(rb_drill_figures_unattended(&old));
    rb_drill_figures said = {.attended = RST_YES, .not_rehearsed = 3};
    assert_false(rb_drill_figures_unattended(&said));
    rb_drill_figures key = {.attended = RST_NO, .key_recovery = true};
    assert_false(rb_drill_figures_unattended(&key));
    assert_null(df.runbook);
    assert_int_equal(df.not_rehearsed, -1);
    assert_int_equal(df.rto_target, -1);
    assert_false(bkp_audit_names_report(&e, NULL, "7"));
    assert_false(bkp_audit_keeps_sums(&e));
    json_decref(fig);
    /* A restore by runbook, attested, of a key-recovery kind, from the
     * off-line disk. */
    rb_report_clear(&report);
    rb_attest sato = {.all = "佐藤"};
    f->env = (rb_env){.drill = false, .attest = &sato};
    for (size_t i = 0; i < f->rb->nsteps; i++) /* each confirm attested: done */
        if (f->res.steps[i].status == RB_NOT_REHEARSED)
            f->res.steps[i].status = RB_DONE;
    bkp_sheets_used sheets = {
        .kind = BKP_SHEET_SHARE, .threshold = 2, .of = 3, .nshares = 2, .shares = {1, 3}};
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "root", &report), 0);
    report.key_recovery = &sheets;
    report.read_from = "key_recovery";
    rb_record(&report, 0, &rec);
    fig = rec.figures;
    assert_string_equal(rec.op, "restore");
    assert_string_equal(json_string_value(json_object_get(fig, "attested_by")), "佐藤");
    assert_true(json_is_true(json_object_get(fig, "attended")));
    assert_string_equal(json_string_value(json_object_get(fig, "read_from")), "key_recovery");
    assert_true(json_is_true(json_object_get(fig, "key_recovery")));
    json_t *ks = json_object_get(fig, "key_sheets");
    assert_string_equal(json_string_value(json_object_get(ks, "kind")), "shares");
    assert_int_equal(json_integer_value(json_object_get(ks, "threshold")), 2);
    assert_int_equal(json_integer_value(json_object_get(ks, "of")), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(ks, "shares"), 1)), 3);
    e.figures = fig;
    rb_drill_figures_read(&e, &df);
    assert_true(df.key_recovery);
    assert_int_equal(df.attended, RST_YES);
    assert_string_equal(df.attested_by, "佐藤");
    assert_string_equal(df.read_from, "key_recovery");
    json_decref(fig);
    rb_report_clear(&report);
}

static void test_record_failed(void **state)
{
    fixture *f = *state;
    bkp_audit_rec rec;
    rb_report report;
    size_t last = f->rb->nsteps;
    /* Nothing restored, the last step failed: one record, for the
     * runbook's first data set, with the step's detail as the error. */
    f->res.nrestored = 0;
    f->res.ok = false;
    f->res.failed_step = last;
    f->res.steps[last - 1].status = RB_FAILED;
    snprintf(f->res.steps[last - 1].detail, sizeof(f->res.steps[last - 1].detail),
             "check failed with exit 1");
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "yamada", &report), 0);
    assert_int_equal(rb_record_count(&report), 1);
    rb_record(&report, 0, &rec);
    json_t *fig = rec.figures;
    assert_true(rec.failed);
    assert_string_equal(rec.dataset, f->rb->datasets[0]);
    assert_null(rec.generation);
    assert_null(rec.medium);
    assert_string_equal(rec.error, "check failed with exit 1");
    assert_int_equal(json_integer_value(json_object_get(fig, "failed_step")), (json_int_t)last);
    assert_false(json_is_true(json_object_get(fig, "rto_met")));
    json_decref(fig);
    /* Failed with no step named (it could not start a step): still an error. */
    rb_report_clear(&report);
    f->res.failed_step = 0;
    assert_int_equal(rb_report_make(f->rb, &f->env, &f->res, 1764000000, "yamada", &report), 0);
    rb_record(&report, 0, &rec);
    assert_non_null(rec.error);
    json_decref(rec.figures);
    rb_report_clear(&report);
}

/* A runbook of two data sets that failed after restoring the first: each
 * gets a failed record, the one not reached without a generation, so that
 * neither data set's status nor evidence shows the drill as passed. One
 * that succeeded records what it restored only. */
static void test_record_failed_each_dataset(void **state)
{
    fixture *f = *state;
    char path[1024];
    rb_runbook *rb;
    snprintf(path, sizeof(path), "%s/policies/runbooks/clinic.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0);
    assert_int_equal(rb->ndatasets, 2);
    rb_step_result *steps = calloc(rb->nsteps, sizeof(*steps));
    assert_non_null(steps);
    rb_restored karte = {.dataset = "karte", .generation = "karte:3", .source = "usb-a"};
    rb_result res = {.steps = steps,
                     .ok = false,
                     .failed_step = rb->nsteps,
                     .restored = &karte,
                     .nrestored = 1,
                     .seconds = 12.0};
    steps[rb->nsteps - 1].status = RB_FAILED;
    snprintf(steps[rb->nsteps - 1].detail, sizeof(steps[0].detail), "no generation of scans");
    rb_report report;
    bkp_audit_rec rec;
    assert_int_equal(rb_report_make(rb, &f->env, &res, 1764000000, "yamada", &report), 0);
    assert_int_equal(rb_record_count(&report), 2);
    rb_record(&report, 0, &rec);
    assert_string_equal(rec.dataset, "karte");
    assert_string_equal(rec.generation, "karte:3");
    assert_true(rec.failed);
    json_decref(rec.figures);
    rb_record(&report, 1, &rec);
    assert_string_equal(rec.dataset, "scans");
    assert_null(rec.generation);
    assert_true(rec.failed);
    assert_string_equal(rec.error, "no generation of scans");
    json_decref(rec.figures);
    rb_report_clear(&report);
    /* Succeeded, having restored karte alone: karte's record only. */
    res.ok = true;
    res.failed_step = 0;
    steps[rb->nsteps - 1].status = RB_DONE;
    assert_int_equal(rb_report_make(rb, &f->env, &res, 1764000000, "yamada", &report), 0);
    assert_int_equal(rb_record_count(&report), 1);
    rb_report_clear(&report);
    free(steps);
    rb_free(rb);
}

static void test_sandbox(void **state)
{
    fixture *f = *state;
    char path[256];
    assert_true(rb_sandbox_check(f->box)); /* empty */
    snprintf(path, sizeof(path), "%s/not-yet", f->box);
    assert_true(rb_sandbox_check(path)); /* new */
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/not-yet/x", f->box);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/not-yet", f->box);
    assert_false(rb_sandbox_check(path)); /* not empty */
    snprintf(path, sizeof(path), "%s/not-yet/x", f->box);
    assert_false(rb_sandbox_check(path)); /* a file */
    assert_false(rb_sandbox_check("/"));
    assert_false(rb_sandbox_check("/tmp/.."));
}

/* --attest: a name for every role, a name per role, what is refused, and
 * the line the report, the record and the page give. */
static void test_attest(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    char path[1024];
    snprintf(path, sizeof(path), "%s/policies/runbooks/clinic.yaml", BKP_SOURCE_DIR);
    assert_int_equal(rb_load(path, &rb), 0); /* confirms of 院長 and 保守業者 */
    rb_attest a = {0};
    assert_false(rb_attest_given(&a));
    assert_false(rb_attest_given(NULL));
    assert_null(rb_attest_who(NULL, "院長"));
    assert_null(rb_attest_text(&a, rb, NULL));

    /* One name: every role, and the line is the name alone. */
    assert_int_equal(rb_attest_add(&a, "山田"), 0);
    assert_true(rb_attest_given(&a));
    assert_string_equal(rb_attest_who(&a, "院長"), "山田");
    assert_string_equal(rb_attest_who(&a, "保守業者"), "山田");
    assert_int_equal(rb_attest_check(&a, rb, true), 0);
    char *t = rb_attest_text(&a, rb, NULL);
    assert_string_equal(t, "山田");
    free(t);
    assert_int_equal(rb_attest_add(&a, "鈴木"), -EINVAL); /* a second name without a role */

    /* A role named: its steps are that person's, the rest the name's. */
    assert_int_equal(rb_attest_add(&a, "保守業者=佐藤"), 0);
    assert_string_equal(rb_attest_who(&a, "保守業者"), "佐藤");
    assert_string_equal(rb_attest_who(&a, "院長"), "山田");
    assert_int_equal(rb_attest_check(&a, rb, true), 0);
    t = rb_attest_text(&a, rb, NULL);
    assert_string_equal(t, "山田 (院長), 佐藤 (保守業者)");
    free(t);
    assert_int_equal(rb_attest_add(&a, "保守業者=高橋"), -EINVAL); /* one person a role */
    assert_int_equal(rb_attest_add(&a, "=高橋"), -EINVAL);
    assert_int_equal(rb_attest_add(&a, "院長="), -EINVAL);
    assert_int_equal(rb_attest_add(&a, ""), -EINVAL);

    /* Roles only: a role left unnamed attests nothing, and the line says
     * which role the one named attested (not a plain name, which would read
     * as every step); a drill may go on so, a restore may not (it would
     * stop halfway); a role the runbook gives no confirm to is refused. */
    rb_attest b = {0};
    assert_int_equal(rb_attest_add(&b, "院長=山田"), 0);
    assert_null(rb_attest_who(&b, "保守業者"));
    assert_false(rb_attest_complete(&b, rb));
    t = rb_attest_text(&b, rb, NULL);
    assert_string_equal(t, "山田 (院長)");
    free(t);
    assert_int_equal(rb_attest_check(&b, rb, false), 0);
    assert_int_equal(rb_attest_check(&b, rb, true), -EINVAL);
    assert_true(rb_attest_complete(&a, rb));
    /* Names: blank, not printable, too long. */
    assert_int_equal(rb_attest_add(&b, "保守業者= "), -EINVAL);
    assert_int_equal(rb_attest_add(&b, "保守業者=\x8e\x52"), -EINVAL); /* Shift_JIS */
    assert_int_equal(rb_attest_add(&b, "保守業者=a\x1b[31m"), -EINVAL);
    char long_name[RB_ATTEST_NAME_MAX + 16];
    snprintf(long_name, sizeof(long_name), "保守業者=%0*d", RB_ATTEST_NAME_MAX + 1, 0);
    assert_int_equal(rb_attest_add(&b, long_name), -EINVAL);
    assert_int_equal(rb_attest_add(&b, "院長 =佐藤"), 0); /* another role, as typed */
    assert_int_equal(rb_attest_check(&b, rb, false), -EINVAL);
    rb_attest c = {0};
    assert_int_equal(rb_attest_add(&c, "システム担当=山田"), 0);
    assert_int_equal(rb_attest_check(&c, rb, false), -EINVAL); /* emr-db's role, not the clinic's */
    static char roles[RB_ATTEST_MAX + 1][16]; /* borrowed by `c` */
    for (int i = 1; i <= RB_ATTEST_MAX; i++) {
        snprintf(roles[i], sizeof(roles[i]), "r%d=x", i);
        assert_int_equal(rb_attest_add(&c, roles[i]), i < RB_ATTEST_MAX ? 0 : -EINVAL);
    }
    rb_free(rb);
}

int main(void)
{
    test_bind_catalogue();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_report_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attended_by_what_happened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_failed_each_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
        cmocka_unit_test(test_attest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
