/*
 * test_audit_last.c — bkp_audit_last: the last record of the sound part of
 * the log that matches a query (an op, an outcome, one figure), in the
 * log's order. What `run` asks before a scheduled drill, what `status` asks
 * of the key-recovery drill, what every command asks of the policy
 * recorded. And bkp_audit_each_sound: a tail appended without the key (a
 * forged "drill ok" to silence a reminder) is never seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "bkp/audit/audit.h"
#include "bkp/keys/keys.h"
#include "bkp/store/repo.h"
#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "datasets:\n"
    "  - { name: emr-db, paths: [/srv/emr], schedule: daily 02:00 }\n";

static ops_repo f;
static char *log_path;
static bool timed; /* a test build: the records carry the times set */

static time_t day(int month, int d)
{
    struct tm tm = {.tm_year = 126, .tm_mon = month - 1, .tm_mday = d};
    return timegm(&tm);
}

/* Append a signed record of `op` at `when` with `figures` (a JSON text). */
static int record(const char *op, time_t when, bool failed, const char *figures)
{
    char t[32];
    snprintf(t, sizeof(t), "%lld", (long long)when);
    setenv("BKP_NOW", t, 1);
    json_t *fig = figures ? json_loads(figures, 0, NULL) : NULL;
    bkp_audit_rec rec = {.op = op, .failed = failed, .figures = fig};
    int rc = bkp_audit_append(f.r, &rec);
    json_decref(fig);
    unsetenv("BKP_NOW");
    return rc;
}

static int setup(void **state)
{
    (void)state;
    timed = bkp_clock_is_test();
    setenv("BKP_NOW", "2025-12-01T00:00:00Z", 1); /* the log begins before its records */
    int made = ops_repo_new(&f, "audit-last", policy_text);
    unsetenv("BKP_NOW");
    if (made || record("drill", day(1, 1), false, "{\"runbook\":\"emr\",\"key_recovery\":true}") ||
        record("drill", day(2, 1), true, "{\"runbook\":\"emr\",\"key_recovery\":true}") ||
        record("drill", day(3, 1), false, "{\"runbook\":\"pacs\",\"key_recovery\":false}") ||
        record("policy", day(3, 2), false, "{\"digest\":\"aa\"}") ||
        record("policy", day(3, 3), false, "{\"digest\":\"bb\"}") ||
        record("drill", day(3, 4), false, "{\"runbook\":7}"))
        return -1;
    log_path = bkp_audit_path(f.r);
    return log_path ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(log_path);
    ops_repo_free(&f);
    return 0;
}

static const uint8_t *pk(void)
{
    return bkp_repo_sign_pk(f.r);
}

/* The last record matching `q` under key `k` into `e` (released first):
 * its record, NULL when none. */
static const json_t *last(bkp_audit_entry *e, const uint8_t *k, bkp_audit_query q)
{
    bkp_audit_entry_release(e);
    bool found = bkp_audit_last(log_path, k, &q, e);
    assert_int_equal(found, e->json != NULL);
    return e->json;
}

static void test_figure_equals(void **state)
{
    (void)state;
    bkp_audit_entry e = {0};
    const json_t *j = last(&e, pk(), (bkp_audit_query){"drill", NULL, "runbook", "emr"});
    assert_non_null(j);
    assert_string_equal(e.outcome, "failed");
    assert_false(e.ok);
    if (timed)
        assert_int_equal(e.time, day(2, 1)); /* the failed one is the last drill of emr */
    j = last(&e, pk(), (bkp_audit_query){"drill", "ok", "runbook", "emr"});
    assert_non_null(j);
    if (timed)
        assert_int_equal(e.time, day(1, 1));
    /* A figure of another type never matches a string. */
    j = last(&e, pk(), (bkp_audit_query){"drill", NULL, "runbook", "7"});
    assert_null(j);
    assert_int_equal(e.time, 0);
    bkp_audit_entry_release(&e);
}

static void test_figure_true(void **state)
{
    (void)state;
    bkp_audit_entry e = {0};
    assert_non_null(last(&e, pk(), (bkp_audit_query){"drill", "ok", "key_recovery", NULL}));
    assert_string_equal(json_string_value(json_object_get(e.figures, "runbook")),
                        "emr"); /* pacs's is false, February's failed */
    if (timed)
        assert_int_equal(e.time, day(1, 1));
    bkp_audit_entry_release(&e);
}

static void test_op_only(void **state)
{
    (void)state;
    bkp_audit_entry e = {0};
    assert_non_null(last(&e, pk(), (bkp_audit_query){.op = "policy"}));
    assert_string_equal(json_string_value(json_object_get(e.figures, "digest")), "bb");
    assert_null(last(&e, pk(), (bkp_audit_query){.op = "backup"}));
    bkp_audit_entry_release(&e);
}

static void test_no_log(void **state)
{
    (void)state;
    bkp_audit_entry e = {.time = 42};
    assert_false(
        bkp_audit_last("/nonexistent/audit.log", pk(), &(bkp_audit_query){.op = "drill"}, &e));
    assert_int_equal(e.time, 0);
    assert_null(e.json);
    assert_false(bkp_audit_last(NULL, pk(), &(bkp_audit_query){.op = "drill"}, &e));
}

static int count(const bkp_audit_entry *e, void *ctx)
{
    (void)e;
    ++*(size_t *)ctx;
    return 0;
}

/* An insider without the key appends a successful key-recovery drill in
 * the records' own form: it is not signed, so neither the query nor a walk
 * of the sound part sees it — nor anything after it. */
static void test_forged_tail(void **state)
{
    (void)state;
    size_t n = 0;
    bkp_audit_check chk;
    assert_int_equal(bkp_audit_each_sound(log_path, pk(), count, &n, &chk), 0);
    assert_false(chk.bad);
    assert_int_equal(n, chk.records);
    FILE *x = fopen(log_path, "a");
    assert_non_null(x);
    fputs("{\"seq\":8,\"op\":\"drill\",\"time\":\"2026-12-01T00:00:00Z\",\"outcome\":\"ok\","
          "\"figures\":{\"runbook\":\"emr\",\"key_recovery\":true},\"sig\":\"00\"}\n",
          x);
    assert_int_equal(fclose(x), 0);
    size_t m = 0;
    assert_int_equal(bkp_audit_each_sound(log_path, pk(), count, &m, &chk), 0);
    assert_true(chk.bad);
    assert_int_equal(m, n); /* the sound part only */
    assert_int_equal(chk.first_bad, n + 1);
    bkp_audit_entry e = {0};
    assert_non_null(last(&e, pk(), (bkp_audit_query){"drill", "ok", "key_recovery", NULL}));
    assert_string_equal(json_string_value(json_object_get(e.figures, "runbook")), "emr");
    if (timed)
        assert_int_equal(e.time, day(1, 1)); /* not the forged December one */
    /* Under another key, nothing of the log is sound. */
    uint8_t other[32] = {1};
    assert_null(last(&e, other, (bkp_audit_query){.op = "policy"}));
    bkp_audit_entry_release(&e);
}

/* One byte of a record in the middle changed: that record counts for
 * nothing, and the signed records after it still say what happened. */
static void test_changed_record_skipped(void **state)
{
    (void)state;
    FILE *x = fopen(log_path, "r+");
    assert_non_null(x);
    char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof(buf) - 1, x);
    buf[len] = '\0';
    char *at = strstr(buf, "\"failed\"");
    assert_non_null(at);
    assert_int_equal(fseek(x, (long)(at - buf) + 6, SEEK_SET), 0);
    fputc('X', x); /* "failed" -> "failXd" */
    assert_int_equal(fclose(x), 0);
    bkp_audit_entry e = {0};
    assert_non_null(last(&e, pk(), (bkp_audit_query){"drill", NULL, "runbook", "emr"}));
    assert_string_equal(e.outcome, "ok"); /* January's */
    assert_non_null(last(&e, pk(), (bkp_audit_query){.op = "policy"}));
    assert_string_equal(json_string_value(json_object_get(e.figures, "digest")), "bb");
    bkp_audit_entry_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figure_equals), cmocka_unit_test(test_figure_true),
        cmocka_unit_test(test_op_only),       cmocka_unit_test(test_no_log),
        cmocka_unit_test(test_forged_tail),   cmocka_unit_test(test_changed_record_skipped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
