/*
 * test_audit_last.c — bkp_audit_last: the last record of the log that
 * matches a query (an op, an outcome, one figure), in the log's order.
 * What `run` asks before a scheduled drill, what `status` asks of the
 * key-recovery drill, what every command asks of the policy recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "bkp/audit.h"

static char path[] = "/tmp/bkp-test-audit-last-XXXXXX";

static const char *const log_lines[] = {
    "{\"op\":\"drill\",\"time\":\"2026-01-01T00:00:00Z\",\"outcome\":\"ok\","
    "\"figures\":{\"runbook\":\"emr\",\"key_recovery\":true}}",
    "{\"op\":\"drill\",\"time\":\"2026-02-01T00:00:00Z\",\"outcome\":\"failed\","
    "\"figures\":{\"runbook\":\"emr\",\"key_recovery\":true}}",
    "not json: a torn or foreign line is passed over",
    "{\"op\":\"drill\",\"time\":\"2026-03-01T00:00:00Z\",\"outcome\":\"ok\","
    "\"figures\":{\"runbook\":\"pacs\",\"key_recovery\":false}}",
    "{\"op\":\"policy\",\"time\":\"2026-03-02T00:00:00Z\",\"figures\":{\"digest\":\"aa\"}}",
    "{\"op\":\"policy\",\"time\":\"2026-03-03T00:00:00Z\",\"figures\":{\"digest\":\"bb\"}}",
    "{\"op\":\"drill\",\"time\":\"2026-03-04T00:00:00Z\",\"outcome\":\"ok\","
    "\"figures\":{\"runbook\":7}}",
};

static int setup(void **state)
{
    (void)state;
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return -1;
    for (size_t i = 0; i < sizeof(log_lines) / sizeof(*log_lines); i++)
        fprintf(f, "%s\n", log_lines[i]);
    return fclose(f);
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

static time_t day(int month, int d)
{
    struct tm tm = {.tm_year = 126, .tm_mon = month - 1, .tm_mday = d};
    return timegm(&tm);
}

static void test_figure_equals(void **state)
{
    (void)state;
    time_t when;
    json_t *j = bkp_audit_last(path, &(bkp_audit_query){"drill", NULL, "runbook", "emr"}, &when);
    assert_non_null(j);
    assert_int_equal(when, day(2, 1)); /* the failed one is the last drill of emr */
    json_decref(j);
    j = bkp_audit_last(path, &(bkp_audit_query){"drill", "ok", "runbook", "emr"}, &when);
    assert_int_equal(when, day(1, 1));
    json_decref(j);
    /* A figure of another type never matches a string. */
    j = bkp_audit_last(path, &(bkp_audit_query){"drill", NULL, "runbook", "7"}, &when);
    assert_null(j);
    assert_int_equal(when, 0);
}

static void test_figure_true(void **state)
{
    (void)state;
    time_t when;
    json_t *j = bkp_audit_last(path, &(bkp_audit_query){"drill", "ok", "key_recovery", NULL}, &when);
    assert_int_equal(when, day(1, 1)); /* pacs's is false, February's failed */
    json_decref(j);
}

static void test_op_only(void **state)
{
    (void)state;
    json_t *j = bkp_audit_last(path, &(bkp_audit_query){.op = "policy"}, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "figures"), "digest")),
                        "bb");
    json_decref(j);
    assert_null(bkp_audit_last(path, &(bkp_audit_query){.op = "backup"}, NULL));
}

static void test_no_log(void **state)
{
    (void)state;
    time_t when = 42;
    assert_null(bkp_audit_last("/nonexistent/audit.log", &(bkp_audit_query){.op = "drill"}, &when));
    assert_int_equal(when, 0);
    assert_null(bkp_audit_last(NULL, &(bkp_audit_query){.op = "drill"}, &when));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figure_equals),
        cmocka_unit_test(test_figure_true),
        cmocka_unit_test(test_op_only),
        cmocka_unit_test(test_no_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
