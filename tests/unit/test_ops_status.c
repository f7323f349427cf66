/*
 * The status document (bkp/ops/status.h) of a real repository in a
 * temporary folder: emr holds three generations, one of them on an off-line,
 * off-site disk written yesterday, and a drill record; lab has none. Then
 * the verdicts (emr COMPLIANT, lab NON-COMPLIANT, the worst NON-COMPLIANT),
 * the ages (the last backup a day old, the off-line copy two), the copies
 * on media, the last drill with what it measured, and the whole document
 * (the audit log checked and sound, a key-recovery drill due, the disk's
 * next rotation). An off-line copy older than the rule allows puts emr AT
 * RISK; a medium whose last check failed does not count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/ops/status.h"

#include "bkp/ops/storage.h"

#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: usb-a, type: removable, path: %1$s/usb-a, location: offsite, offline: true,"
    " rotate_every: 7d }\n"
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, copy_to: [usb-a] }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 03:00, copy_to: [usb-a] }\n";

typedef struct fixture {
    ops_repo f;
    bkp_gen *g[3];
    pol_medium_state st[1];
    ops_status_in in;
} fixture;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    if (!x || ops_repo_new(&x->f, "ops-status", policy_text))
        return -1;
    for (int i = 0; i < 3; i++)
        if (ops_repo_seal(&x->f, "emr", (time_t)(3 - i) * OPS_DAY, &x->g[i]))
            return -1;
    /* emr:2, captured two days ago, went to usb-a yesterday. */
    if (ops_repo_register(&x->f, "usb-a", "removable", "offsite", x->g[1], OPS_DAY, true) ||
        ops_repo_record(&x->f, "drill", "emr", false,
                        json_pack("{s:s, s:f, s:i, s:b}", "runbook", "emr", "seconds", 42.5,
                                  "rto_target_seconds", 3600, "rto_met", 1)))
        return -1;
    x->st[0] = (pol_medium_state){&x->f.p->media[0], bkp_now() - OPS_DAY};
    x->in = (ops_status_in){.repo = x->f.r, .policy = x->f.p, .states = x->st};
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fixture *x = *state;
    for (int i = 0; i < 3; i++)
        bkp_gen_free(x->g[i]);
    ops_repo_free(&x->f);
    free(x);
    return 0;
}

static json_t *dataset(json_t *all, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(
        all, i, d) if (!strcmp(json_string_value(json_object_get(d, "dataset")), name)) return d;
    fail_msg("no data set %s", name);
    return NULL;
}

/* The age of ISO time `v` in days, to a minute. */
static void assert_days_old(json_t *v, double days)
{
    double age = (double)(bkp_now() - bkp_iso_parse(json_string_value(v))) / OPS_DAY;
    assert_true(age >= days - 0.001 && age <= days + 0.001);
}

static void test_verdicts_and_ages(void **state)
{
    fixture *x = *state;
    int worst = -1;
    json_t *all = ops_status(&x->in, &worst, NULL);
    assert_non_null(all);
    assert_int_equal(worst, POL_NON_COMPLIANT);
    assert_int_equal(json_array_size(all), 2);
    json_t *emr = dataset(all, "emr"), *lab = dataset(all, "lab");
    assert_string_equal(json_string_value(json_object_get(emr, "verdict")), "COMPLIANT");
    assert_int_equal(json_integer_value(json_object_get(emr, "generations")), 3);
    assert_days_old(json_object_get(emr, "last_backup"), 1);
    json_int_t age = json_integer_value(json_object_get(emr, "offline_age_seconds"));
    assert_true(age >= 2 * OPS_DAY && age <= 2 * OPS_DAY + 60);
    json_t *cnt = json_object_get(emr, "counted");
    assert_int_equal(json_integer_value(json_object_get(cnt, "copies")), 3);
    assert_int_equal(json_integer_value(json_object_get(cnt, "offline")), 1);
    json_t *m = json_array_get(json_object_get(emr, "copies_on_media"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "medium")), "usb-a");
    assert_int_equal(json_integer_value(json_object_get(m, "seq")), 2);
    assert_true(json_is_true(json_object_get(m, "non_editable")));
    assert_days_old(json_object_get(m, "captured"), 2);
    json_t *dr = json_object_get(emr, "last_drill");
    assert_string_equal(json_string_value(json_object_get(dr, "outcome")), "ok");
    assert_true(json_real_value(json_object_get(dr, "seconds")) == 42.5);
    assert_true(json_is_true(json_object_get(dr, "rto_met")));
    assert_true(json_is_null(json_object_get(emr, "last_verify")));
    assert_null(json_object_get(emr, "shown")); /* asked for programs only */
    assert_non_null(json_object_get(emr, "ja"));
    assert_string_equal(json_string_value(json_object_get(lab, "verdict")), "NON-COMPLIANT");
    assert_int_equal(json_integer_value(json_object_get(lab, "generations")), 0);
    assert_true(json_is_null(json_object_get(lab, "last_backup")));
    assert_true(json_is_null(json_object_get(lab, "last_drill")));
    assert_true(json_array_size(json_object_get(lab, "reasons")) > 0);
    json_decref(all);
}

static void test_document(void **state)
{
    fixture *x = *state;
    int worst = -1;
    ops_status_log log;
    json_t *all = ops_status(&x->in, &worst, &log);
    json_t *doc = ops_status_doc(&x->in, all, worst, &log);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "NON-COMPLIANT");
    json_t *audit = json_object_get(doc, "audit");
    assert_true(json_is_true(json_object_get(audit, "ok")));
    assert_int_equal(json_integer_value(json_object_get(audit, "records")), 2); /* init, drill */
    assert_string_equal(json_string_value(json_object_get(audit, "code")), "");
    /* Never held, on the repository's first day: not due yet (it is, once
     * key_drill_every has passed since the creation). */
    json_t *kd = json_object_get(doc, "key_drill");
    assert_true(json_is_false(json_object_get(kd, "due")));
    assert_true(json_is_null(json_object_get(kd, "last")));
    log.created -= x->in.policy->key_drill_every + 1;
    json_t *later = ops_key_drill_status(&log, x->in.policy);
    assert_true(json_is_true(json_object_get(later, "due")));
    json_decref(later);
    /* usb-a, written yesterday every seven days: done then (the calendar's
     * row of the last week), and it comes back in six. */
    json_t *done = json_array_get(json_object_get(doc, "rotations"), 0);
    assert_string_equal(json_string_value(json_object_get(done, "medium")), "usb-a");
    assert_true(json_is_true(json_object_get(done, "done")));
    assert_days_old(json_object_get(done, "when"), 1);
    json_t *turn = json_array_get(json_object_get(doc, "rotations"), 1);
    assert_string_equal(json_string_value(json_object_get(turn, "medium")), "usb-a");
    assert_null(json_object_get(turn, "done"));
    assert_days_old(json_object_get(turn, "when"), -6);
    assert_days_old(json_object_get(doc, "generated"), 0);
    /* What a copy needs: the packs and the rest; emr's newest generation
     * holds the one file of 15 bytes, its three generations 45. */
    json_t *sto = json_object_get(doc, "storage");
    json_int_t stored = json_integer_value(json_object_get(sto, "stored"));
    json_int_t packs = json_integer_value(json_object_get(sto, "packs"));
    assert_true(packs > 0 && packs < stored);
    assert_int_equal(json_integer_value(json_object_get(sto, "newest")), 15);
    assert_int_equal(json_integer_value(json_object_get(sto, "kept")), 45);
    assert_int_equal(json_integer_value(json_object_get(sto, "generations")), 3);
    assert_int_equal(json_integer_value(json_object_get(sto, "datasets")), 1);
    json_decref(doc);
}

/* The bytes of the files below `top`/`sub` ("" for `top` itself). */
static uint64_t folder_bytes(const char *top, const char *sub)
{
    char cmd[512], out[64] = "";
    snprintf(cmd, sizeof(cmd),
             "find '%s/%s' -type f -printf '%%s\\n' | awk '{s += $1} END {print s + 0}'", top, sub);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof(out), p));
    pclose(p);
    return strtoull(out, NULL, 10);
}

/* The packs counted are the packs folder's bytes; this host's cache and
 * locks are not carried by a copy and not counted. */
static void test_storage(void **state)
{
    fixture *x = *state;
    const char *repo = x->f.repo;
    ops_storage s = {0};
    char big[256];
    bkp_gen **v = NULL;
    size_t n = 0;
    assert_int_equal(bkp_gen_list(x->f.r, NULL, &v, &n), 0);
    ops_storage_count(&s, v, n);
    bkp_gen_list_free(v, n);
    assert_int_equal(s.newest, 15);
    assert_int_equal(ops_storage_files(x->f.r, &s), 0);
    assert_int_equal(s.packs, folder_bytes(repo, "packs"));
    assert_int_equal(s.stored, folder_bytes(repo, "") - folder_bytes(repo, "cache") -
                                   folder_bytes(repo, "locks"));
    uint64_t before = s.stored;
    snprintf(big, sizeof(big), "%s/cache/big", repo);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    assert_int_equal(fseek(f, 1 << 20, SEEK_SET), 0);
    assert_int_equal(fputc('x', f), 'x');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ops_storage_files(x->f.r, &s), 0);
    assert_int_equal(s.stored, before);
    assert_true(ops_storage_ratio(&s) > 1); /* 15 bytes of files take packs, records, keys */
}

static void test_offline_copy_too_old(void **state)
{
    fixture *x = *state;
    int worst;
    /* usb-a still holds emr:1, captured three days ago, written just after;
     * the rule allows two. */
    x->f.p->rule.offline_max_age = 2 * OPS_DAY;
    assert_int_equal(
        ops_repo_register(&x->f, "usb-a", "removable", "offsite", x->g[0], OPS_DAY, true), 0);
    json_t *all = ops_status(&x->in, &worst, NULL);
    json_t *emr = dataset(all, "emr");
    assert_string_equal(json_string_value(json_object_get(emr, "verdict")), "AT RISK");
    json_int_t age = json_integer_value(json_object_get(emr, "offline_age_seconds"));
    assert_true(age >= 3 * OPS_DAY && age <= 3 * OPS_DAY + 60);
    json_decref(all);
}

static void test_failed_check_does_not_count(void **state)
{
    fixture *x = *state;
    int worst;
    assert_int_equal(
        ops_repo_register(&x->f, "usb-a", "removable", "offsite", x->g[1], OPS_DAY, false), 0);
    x->in.shown = true;
    json_t *all = ops_status(&x->in, &worst, NULL);
    json_t *emr = dataset(all, "emr");
    assert_string_equal(json_string_value(json_object_get(emr, "verdict")), "NON-COMPLIANT");
    assert_int_equal(json_array_size(json_object_get(emr, "copies_on_media")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(emr, "counted"), "copies")),
                     2);
    assert_non_null(json_object_get(emr, "shown"));
    json_decref(all);
}

/* Lines appended to the log without the key — a failed backup's record
 * without its outcome (which crashed status once), and a drill that never
 * ran — are not the sound log: status neither crashes on them nor believes
 * them, and its "audit" part says the log does not check. */
static void test_forged_records_not_believed(void **state)
{
    fixture *x = *state;
    int worst;
    char *log = bkp_audit_path(x->f.r);
    FILE *fp = fopen(log, "a");
    assert_non_null(fp);
    fputs("{\"op\":\"backup\",\"dataset\":\"lab\",\"error\":\"x\"}\n", fp);
    fputs("{\"op\":\"drill\",\"dataset\":\"lab\",\"time\":\"2026-01-01T00:00:00Z\","
          "\"outcome\":\"ok\"}\n",
          fp);
    assert_int_equal(fclose(fp), 0);
    free(log);
    ops_status_log found;
    json_t *all = ops_status(&x->in, &worst, &found);
    assert_non_null(all);
    json_t *lab = dataset(all, "lab");
    assert_true(json_is_null(json_object_get(lab, "last_drill")));
    assert_true(json_is_null(json_object_get(lab, "last_backup_run")));
    json_t *emr = dataset(all, "emr"); /* what the sound log says is kept */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(emr, "last_drill"), "outcome")), "ok");
    json_t *doc = ops_status_doc(&x->in, all, worst, &found);
    assert_non_null(doc);
    json_t *a = json_object_get(doc, "audit");
    assert_true(json_is_false(json_object_get(a, "ok")));
    /* The first line without the key has no time: its code and place. */
    assert_string_equal(json_string_value(json_object_get(a, "code")), "not_a_record");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "detail"), "record")), 3);
    assert_string_equal(json_string_value(json_object_get(a, "problem")),
                        "record 3 is not an audit record (no op or time)");
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verdicts_and_ages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_copy_too_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_check_does_not_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_records_not_believed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
