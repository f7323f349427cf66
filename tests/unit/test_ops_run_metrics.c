/*
 * The figures a run adds to the metrics file (bkp/ops/run_metrics.h): every
 * data set's outcome and last success, the backup's figures only where a
 * generation was sealed, each family announced once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/ops/run_metrics.h"

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_figures(void **state)
{
    (void)state;
    pol_dataset emr = {.name = "emr"}, pacs = {.name = "pacs"};
    bkp_gen g = {.seq = 3};
    ops_run_outcome v[2] = {
        {.d = &emr, .last_success = 1700000000},
        {.d = &pacs, .failed = true, .last_success = 0},
    };
    v[0].b.gen = &g;
    v[0].b.seconds = 2.5;
    v[0].b.stats.bytes_read = 1000;
    v[0].b.stats.stored_new = 200;
    ops_run_result res = {.v = v, .n = 2};
    bkp_buf m;
    bkp_buf_init(&m);
    ops_run_metrics(&res, 7.0, &m);
    bkp_buf_u8(&m, 0);
    assert_false(m.failed);
    const char *t = (const char *)m.data;
    assert_non_null(strstr(t, "\nbkp_run_duration_seconds 7.000\n"));
    assert_non_null(strstr(t, "\nbkp_last_success_timestamp_seconds{dataset=\"emr\"} 1700000000\n"));
    assert_non_null(strstr(t, "\nbkp_last_success_timestamp_seconds{dataset=\"pacs\"} 0\n"));
    assert_non_null(strstr(t, "\nbkp_last_run_failed{dataset=\"emr\"} 0\n"));
    assert_non_null(strstr(t, "\nbkp_last_run_failed{dataset=\"pacs\"} 1\n"));
    assert_non_null(strstr(t, "\nbkp_last_run_capture_seconds{dataset=\"emr\"} 2.500\n"));
    assert_non_null(strstr(t, "\nbkp_last_run_read_bytes{dataset=\"emr\"} 1000\n"));
    assert_non_null(strstr(t, "\nbkp_last_run_added_bytes{dataset=\"emr\"} 200\n"));
    /* pacs sealed nothing: no capture figures of it. */
    assert_null(strstr(t, "bkp_last_run_read_bytes{dataset=\"pacs\"}"));
    assert_null(strstr(t, "bkp_last_run_capture_seconds{dataset=\"pacs\"}"));
    assert_int_equal(count(t, "# TYPE bkp_last_run_failed gauge\n"), 1);
    assert_int_equal(count(t, "# HELP "), 6);
    bkp_buf_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_figures)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
