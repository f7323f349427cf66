/*
 * The figures a run adds to the metrics file (bkp/ops/run_metrics.h): one
 * entry per data set, the backup's figures only where a generation was
 * sealed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/ops/run_metrics.h"

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
    json_t *m = ops_run_metrics(&res, 7.0);
    assert_non_null(m);
    assert_true(json_real_value(json_object_get(m, "seconds")) == 7.0);
    json_t *ds = json_object_get(m, "datasets");
    assert_int_equal(json_array_size(ds), 2);
    json_t *a = json_array_get(ds, 0), *b = json_array_get(ds, 1);
    assert_string_equal(json_string_value(json_object_get(a, "dataset")), "emr");
    assert_true(json_is_false(json_object_get(a, "failed")));
    assert_int_equal(json_integer_value(json_object_get(a, "last_success")), 1700000000);
    assert_int_equal(json_integer_value(json_object_get(a, "read_bytes")), 1000);
    assert_int_equal(json_integer_value(json_object_get(a, "added_bytes")), 200);
    assert_true(json_real_value(json_object_get(a, "seconds")) == 2.5);
    assert_true(json_is_true(json_object_get(b, "failed")));
    assert_null(json_object_get(b, "read_bytes"));
    assert_null(json_object_get(b, "seconds"));
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_figures)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
