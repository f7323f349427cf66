/*
 * Alerts once per change (policies/notify.h): a condition is told when it
 * appears, when it changes and when it clears; repeated runs tell nothing in
 * between, except one reminder per period; conditions not judged keep their
 * state; one-off events are always told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policies/notify.h"

#define DAY 86400
static const time_t T0 = 1767571200;

static const char *kind(json_t *events, size_t i)
{
    return json_string_value(json_object_get(json_array_get(events, i), "event"));
}

static void test_once_per_change(void **unused)
{
    (void)unused;
    json_t *state = json_object(), *ev = json_array();
    pol_condition at_risk = {"verdict:emr", "AT RISK", "emr is AT RISK: connect usb-b", 1, NULL};
    bool told;
    assert_int_equal(pol_notify_decide(state, &at_risk, 1, T0, DAY, ev, &told), 1);
    assert_true(told);
    assert_string_equal(kind(ev, 0), "raised");
    /* Every 15 minutes for most of a day: nothing. */
    for (int k = 1; k < 95; k++) {
        assert_int_equal(pol_notify_decide(state, &at_risk, 1, T0 + k * 900, DAY, ev, &told), 0);
        assert_false(told);
    }
    /* A day after it was told: one reminder, then quiet again. */
    assert_int_equal(pol_notify_decide(state, &at_risk, 1, T0 + DAY, DAY, ev, NULL), 1);
    assert_string_equal(kind(ev, 1), "reminder");
    assert_int_equal(pol_notify_decide(state, &at_risk, 1, T0 + DAY + 900, DAY, ev, NULL), 0);
    /* Worse: told at once, with what it was. */
    pol_condition nc = {"verdict:emr", "NON-COMPLIANT", "emr is NON-COMPLIANT", 2, NULL};
    assert_int_equal(pol_notify_decide(state, &nc, 1, T0 + DAY + 1800, DAY, ev, NULL), 1);
    assert_string_equal(kind(ev, 2), "changed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 2), "previous")),
                        "AT RISK");
    /* Fixed: cleared once; then nothing. */
    pol_condition ok = {"verdict:emr", NULL, "emr is COMPLIANT", 0, NULL};
    assert_int_equal(pol_notify_decide(state, &ok, 1, T0 + 2 * DAY, DAY, ev, NULL), 1);
    assert_string_equal(kind(ev, 3), "cleared");
    assert_int_equal(pol_notify_decide(state, &ok, 1, T0 + 2 * DAY + 900, DAY, ev, NULL), 0);
    assert_int_equal(json_object_size(state), 0);
    json_decref(state);
    json_decref(ev);
}

static void test_not_judged_keeps_state(void **unused)
{
    (void)unused;
    json_t *state = json_object(), *ev = json_array();
    pol_condition a = {"backup:emr", "failed", "the backup of emr failed", 2, NULL};
    pol_condition b = {"backup:ward", NULL, "", 0, NULL};
    assert_int_equal(pol_notify_decide(state, &a, 1, T0, DAY, ev, NULL), 1);
    /* A run of ward alone says nothing of emr, which stays failed. */
    assert_int_equal(pol_notify_decide(state, &b, 1, T0 + 900, DAY, ev, NULL), 0);
    assert_non_null(json_object_get(state, "backup:emr"));
    /* No reminders when the period is 0. */
    assert_int_equal(pol_notify_decide(state, &a, 1, T0 + 30 * DAY, 0, ev, NULL), 0);
    json_decref(state);
    json_decref(ev);
}

static void test_one_off_events(void **unused)
{
    (void)unused;
    json_t *state = json_object(), *ev = json_array();
    pol_condition s = {NULL, "suspicious", "emr:7 is suspicious: 80 % of files changed", 2, NULL};
    assert_int_equal(pol_notify_decide(state, &s, 1, T0, DAY, ev, NULL), 1);
    assert_int_equal(pol_notify_decide(state, &s, 1, T0 + 1, DAY, ev, NULL), 1);
    assert_string_equal(kind(ev, 1), "event");
    assert_int_equal(json_object_size(state), 0);
    json_decref(state);
    json_decref(ev);
}

static void test_state_file(void **unused)
{
    (void)unused;
    const char *text = "{\"verdict:emr\": {\"state\": \"AT RISK\", \"since\": 5, \"told\": 6},"
                       " \"bad\": {\"state\": 7}, \"worse\": [1]}";
    json_t *st = pol_notify_state_parse((const uint8_t *)text, strlen(text));
    assert_int_equal(json_object_size(st), 1); /* the malformed ones are told again */
    assert_non_null(json_object_get(st, "verdict:emr"));
    json_decref(st);
    st = pol_notify_state_parse((const uint8_t *)"[", 1);
    assert_non_null(st);
    assert_int_equal(json_object_size(st), 0);
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once_per_change),
        cmocka_unit_test(test_not_judged_keeps_state),
        cmocka_unit_test(test_one_off_events),
        cmocka_unit_test(test_state_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
