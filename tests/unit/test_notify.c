/*
 * Alerts once per change (policies/notify.h): a condition is told when it
 * appears, when it changes and when it clears; repeated runs tell nothing in
 * between, except one reminder per period; conditions not judged keep their
 * state; one-off events are always told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/notify.h"

#define DAY 86400
static const time_t T0 = 1767571200;

/* The events of every call, in order. */
typedef struct told_log {
    pol_event v[16];
    size_t n;
} told_log;

static size_t decide(pol_notify_state *st, const pol_condition *c, time_t now, int64_t remind,
                     told_log *log, bool *told)
{
    size_t n = pol_notify_decide(st, c, 1, now, remind, &log->v[log->n], told);
    log->n += n;
    assert_true(log->n <= 16);
    return n;
}

static const char *kind(const told_log *log, size_t i)
{
    return pol_event_kind_name(log->v[i].kind);
}

static void test_once_per_change(void **unused)
{
    (void)unused;
    pol_notify_state state = {0};
    told_log ev = {0};
    pol_condition at_risk = {"verdict:emr", "AT RISK", "emr is AT RISK: connect usb-b", 1, NULL,
                             false,         NULL};
    bool told;
    assert_int_equal(decide(&state, &at_risk, T0, DAY, &ev, &told), 1);
    assert_true(told);
    assert_string_equal(kind(&ev, 0), "raised");
    /* Every 15 minutes for most of a day: nothing. */
    for (int k = 1; k < 95; k++) {
        assert_int_equal(decide(&state, &at_risk, T0 + k * 900, DAY, &ev, &told), 0);
        assert_false(told);
    }
    /* A day after it was told: one reminder, then quiet again. */
    assert_int_equal(decide(&state, &at_risk, T0 + DAY, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 1), "reminder");
    assert_int_equal(decide(&state, &at_risk, T0 + DAY + 900, DAY, &ev, NULL), 0);
    /* Worse: told at once, with what it was. */
    pol_condition nc = {"verdict:emr", "NON-COMPLIANT", "emr is NON-COMPLIANT", 2, NULL, false,
                        NULL};
    assert_int_equal(decide(&state, &nc, T0 + DAY + 1800, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 2), "changed");
    assert_string_equal(ev.v[2].previous, "AT RISK");
    assert_int_equal(ev.v[2].since, T0 + DAY + 1800);
    /* Fixed: cleared once; then nothing. */
    pol_condition ok = {"verdict:emr", NULL, "emr is COMPLIANT", 0, NULL, false, NULL};
    assert_int_equal(decide(&state, &ok, T0 + 2 * DAY, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 3), "cleared");
    assert_int_equal(decide(&state, &ok, T0 + 2 * DAY + 900, DAY, &ev, NULL), 0);
    assert_int_equal(state.n, 0);
    assert_string_equal(ev.v[3].previous, "NON-COMPLIANT");
    assert_int_equal(ev.v[3].since, T0 + DAY + 1800); /* when it began */
    pol_events_free(ev.v, ev.n);
    pol_notify_state_free(&state);
}

/* What one run of conditions `c` (n of them) at `now` tells, one letter a
 * condition into `out`: "n" raised, "r" a reminder, "-" nothing. */
static void run_of(pol_notify_state *st, const pol_condition *c, size_t n, time_t now, char *out)
{
    pol_event ev[8];
    bool told[8];
    assert_true(n <= 8);
    size_t k = pol_notify_decide(st, c, n, now, DAY, ev, told);
    for (size_t i = 0; i < n; i++) {
        out[i] = '-';
        for (size_t j = 0; told[i] && j < k; j++)
            if (!strcmp(ev[j].key, c[i].key))
                out[i] = ev[j].kind == POL_EVENT_REMINDER ? 'r'
                         : ev[j].kind == POL_EVENT_RAISED ? 'n'
                                                          : '?';
        /* What was told is no news until its next reminder. */
        assert_true(pol_notify_told(st, &c[i], now, DAY));
    }
    out[n] = '\0';
    pol_events_free(ev, k);
}

/* One late disk makes three lasting conditions, raised at three hours of a
 * day: their reminders come at the first run of each day (00:00 UTC), all
 * three from the second on (one mail a day), never one at each
 * condition's own hour; a condition no longer judged (a disk taken out of
 * the policy) changes nothing of it. */
static void test_reminders_together(void **unused)
{
    (void)unused;
    pol_notify_state st = {0};
    pol_condition c[3] = {
        {"due:usb-a", "overdue", "usb-a is overdue", 1, NULL, false, NULL},
        {"verdict:emr", "AT RISK", "emr is AT RISK", 1, NULL, false, NULL},
        {"drill", "failed", "the drill could not read usb-a", 2, NULL, false, NULL},
    };
    char said[8];
    pol_condition gone = {"due:old-disk", "overdue", "old-disk is overdue", 1, NULL, false, NULL};
    run_of(&st, &gone, 1, T0 - 30 * DAY, said);
    /* Raised at +0 h, +5 h and +14 h, each at a run of its own. */
    run_of(&st, c, 1, T0, said);
    assert_string_equal(said, "n");
    run_of(&st, c, 2, T0 + 5 * 3600, said);
    assert_string_equal(said, "-n");
    run_of(&st, c, 3, T0 + 14 * 3600, said);
    assert_string_equal(said, "--n");
    /* Every quarter of an hour for four days: how many runs tell a reminder. */
    int runs = 0, runs_day4 = 0;
    for (time_t t = T0 + 14 * 3600 + 900; t <= T0 + 4 * DAY; t += 900) {
        run_of(&st, c, 3, t, said);
        bool any = strchr(said, 'r') != NULL;
        runs += any;
        runs_day4 += any && t > T0 + 3 * DAY;
        if (any && t > T0 + 2 * DAY) /* aligned: all three together */
            assert_string_equal(said, "rrr");
    }
    assert_int_equal(runs_day4, 1);
    assert_int_equal(runs, 4); /* each on its own hour would be 9 */
    pol_notify_state_free(&st);
}

/* A verdict that only waits for the schedule (nothing to do): never raised
 * anew, nor reminded; told only as the change of one already told (better
 * than before), and its clearing then. */
static void test_waiting(void **unused)
{
    (void)unused;
    pol_notify_state state = {0};
    told_log ev = {0};
    pol_condition wait = {"verdict:emr", "AT RISK", "emr is AT RISK: 2 generations", 1, NULL,
                          true,          NULL};
    pol_condition ok = {"verdict:emr", NULL, "emr is COMPLIANT", 0, NULL, false, NULL};
    assert_int_equal(decide(&state, &wait, T0, DAY, &ev, NULL), 0);
    assert_int_equal(decide(&state, &wait, T0 + 2 * DAY, DAY, &ev, NULL), 0);
    assert_int_equal(decide(&state, &ok, T0 + 3 * DAY, DAY, &ev, NULL), 0); /* never told */
    pol_condition nc = {"verdict:emr", "NON-COMPLIANT", "emr is NON-COMPLIANT", 2, NULL, false,
                        NULL};
    assert_int_equal(decide(&state, &nc, T0 + 4 * DAY, DAY, &ev, NULL), 1);
    assert_int_equal(decide(&state, &wait, T0 + 5 * DAY, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 1), "changed");
    assert_int_equal(decide(&state, &wait, T0 + 7 * DAY, DAY, &ev, NULL), 0); /* no reminder */
    /* The same verdict gains a cause (a disk overdue): a change, told at
     * once, not a reminder a day later; kept through the state's file. */
    char *text = pol_notify_state_text(&state);
    pol_notify_state back;
    assert_int_equal(pol_notify_state_parse((const uint8_t *)text, strlen(text), &back), 0);
    assert_true(pol_notify_state_get(&back, "verdict:emr")->waiting);
    pol_notify_state_free(&back);
    free(text);
    pol_condition due = {"verdict:emr", "AT RISK", "emr is AT RISK: usb-b overdue", 1, NULL,
                         false,         NULL};
    assert_int_equal(decide(&state, &due, T0 + 7 * DAY + 3600, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 2), "changed");
    assert_int_equal(decide(&state, &due, T0 + 7 * DAY + 7200, DAY, &ev, NULL), 0);
    assert_false(pol_notify_state_get(&state, "verdict:emr")->waiting);
    assert_int_equal(decide(&state, &ok, T0 + 8 * DAY, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 3), "cleared");
    pol_events_free(ev.v, ev.n);
    pol_notify_state_free(&state);
}

static void test_not_judged_keeps_state(void **unused)
{
    (void)unused;
    pol_notify_state state = {0};
    told_log ev = {0};
    pol_condition a = {"backup:emr", "failed", "the backup of emr failed", 2, NULL, false, NULL};
    pol_condition b = {"backup:ward", NULL, "", 0, NULL, false, NULL};
    assert_int_equal(decide(&state, &a, T0, DAY, &ev, NULL), 1);
    /* A run of ward alone says nothing of emr, which stays failed. */
    assert_int_equal(decide(&state, &b, T0 + 900, DAY, &ev, NULL), 0);
    assert_non_null(pol_notify_state_get(&state, "backup:emr"));
    /* No reminders when the period is 0. */
    assert_int_equal(decide(&state, &a, T0 + 30 * DAY, 0, &ev, NULL), 0);
    pol_events_free(ev.v, ev.n);
    pol_notify_state_free(&state);
}

static void test_one_off_events(void **unused)
{
    (void)unused;
    pol_notify_state state = {0};
    told_log ev = {0};
    pol_condition s = {NULL,  "suspicious", "emr:7 is suspicious: 80 % of files changed", 2, NULL,
                       false, NULL};
    assert_int_equal(decide(&state, &s, T0, DAY, &ev, NULL), 1);
    assert_int_equal(decide(&state, &s, T0 + 1, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 1), "event");
    assert_int_equal(state.n, 0);
    assert_null(ev.v[1].key);
    assert_string_equal(ev.v[1].state, "suspicious");
    pol_events_free(ev.v, ev.n);
    pol_notify_state_free(&state);
}

static void test_state_file(void **unused)
{
    (void)unused;
    const char *text =
        "{\"verdict:emr\": {\"state\": \"AT RISK\", \"since\": 5, \"told\": 6},"
        " \"bad\": {\"state\": 7}, \"worse\": [1],"
        " \"old\": {\"state\": \"x\", \"since\": 1, \"told\": -9223372036854775807}}";
    pol_notify_state st;
    assert_int_equal(pol_notify_state_parse((const uint8_t *)text, strlen(text), &st), 0);
    assert_int_equal(st.n, 1); /* the malformed ones are told again */
    const pol_notify_entry *e = pol_notify_state_get(&st, "verdict:emr");
    assert_non_null(e);
    assert_string_equal(e->state, "AT RISK");
    assert_int_equal(e->since, 5);
    assert_int_equal(e->told, 6);
    /* The text gives the same state back. */
    char *again = pol_notify_state_text(&st);
    pol_notify_state st2;
    assert_int_equal(pol_notify_state_parse((const uint8_t *)again, strlen(again), &st2), 0);
    assert_int_equal(st2.n, 1);
    assert_int_equal(pol_notify_state_get(&st2, "verdict:emr")->told, 6);
    free(again);
    pol_notify_state_free(&st2);
    pol_notify_state_free(&st);
    assert_int_equal(pol_notify_state_parse((const uint8_t *)"[", 1, &st), 0);
    assert_int_equal(st.n, 0);
    assert_int_equal(pol_notify_state_parse(NULL, 0, &st), 0);
    assert_int_equal(st.n, 0);
}

/* An event not delivered is told again: its key goes back to what it was. */
static void test_undo(void **unused)
{
    (void)unused;
    pol_notify_state state = {0}, before = {0};
    told_log ev = {0};
    pol_condition a = {"due:usb-b", "overdue", "usb-b is overdue", 1, NULL, false, NULL};
    pol_condition ok = {"due:usb-b", NULL, "usb-b is back", 0, NULL, false, NULL};
    assert_int_equal(decide(&state, &a, T0, DAY, &ev, NULL), 1);
    assert_int_equal(pol_notify_state_undo(&state, &before, "due:usb-b"), 0);
    assert_null(pol_notify_state_get(&state, "due:usb-b"));
    assert_int_equal(decide(&state, &a, T0 + 900, DAY, &ev, NULL), 1); /* raised again */
    assert_string_equal(kind(&ev, 1), "raised");
    char *text = pol_notify_state_text(&state);
    assert_int_equal(pol_notify_state_parse((const uint8_t *)text, strlen(text), &before), 0);
    free(text);
    assert_int_equal(decide(&state, &ok, T0 + 1800, DAY, &ev, NULL), 1);
    assert_int_equal(pol_notify_state_undo(&state, &before, "due:usb-b"), 0);
    assert_string_equal(pol_notify_state_get(&state, "due:usb-b")->state, "overdue");
    assert_int_equal(decide(&state, &ok, T0 + 2700, DAY, &ev, NULL), 1); /* cleared again */
    assert_string_equal(kind(&ev, 3), "cleared");
    assert_int_equal(ev.v[3].since, T0 + 900);
    pol_events_free(ev.v, ev.n);
    pol_notify_state_free(&before);
    pol_notify_state_free(&state);
}

/* A backup that fails again of the same cause is told once; of another
 * cause (the hook's exit status, then the disk full), at once, as a change
 * of the failure that began before; a state kept before causes were (none
 * known) is told once more, with its cause. */
static void test_cause(void **unused)
{
    (void)unused;
    pol_notify_state state = {0};
    told_log ev = {0};
    pol_condition hook = {.key = "backup:emr",
                          .state = "failed",
                          .summary = "the backup of emr failed: before hook exited with status 2",
                          .severity = 2,
                          .cause = "before-hook:-10:2:0"};
    pol_condition full = hook, unknown = hook;
    full.summary = "the backup of emr failed: No space left on device";
    full.cause = "error:-28";
    unknown.cause = NULL;
    assert_int_equal(decide(&state, &hook, T0, DAY, &ev, NULL), 1);
    assert_true(pol_notify_told(&state, &hook, T0 + 900, DAY));
    assert_false(pol_notify_told(&state, &full, T0 + 900, DAY));
    assert_true(pol_notify_told(&state, &unknown, T0 + 900, DAY)); /* none known now: the same */
    /* A reminder due: to be told again (its words with it). */
    assert_false(pol_notify_told(&state, &hook, T0 + DAY, DAY));
    assert_true(pol_notify_told(&state, &hook, T0 + 30 * DAY, 0));
    for (int k = 1; k < 8; k++)
        assert_int_equal(decide(&state, &hook, T0 + k * 900, DAY, &ev, NULL), 0);
    assert_int_equal(decide(&state, &full, T0 + 8 * 900, DAY, &ev, NULL), 1);
    assert_string_equal(kind(&ev, 1), "changed");
    assert_string_equal(ev.v[1].previous, "failed");
    assert_string_equal(ev.v[1].cause, "error:-28");
    assert_int_equal(ev.v[1].since, T0); /* the failure began then */
    assert_int_equal(decide(&state, &full, T0 + 9 * 900, DAY, &ev, NULL), 0);
    /* Kept through the file. */
    char *text = pol_notify_state_text(&state);
    pol_notify_state back;
    assert_non_null(strstr(text, "\"cause\": \"error:-28\""));
    assert_int_equal(pol_notify_state_parse((const uint8_t *)text, strlen(text), &back), 0);
    assert_string_equal(pol_notify_state_get(&back, "backup:emr")->cause, "error:-28");
    free(text);
    /* A state without causes: told once more with its cause (never a new
     * cause hidden behind one not known), then quiet. */
    pol_notify_state old;
    const char *was = "{\"backup:emr\": {\"since\": 1767571200, \"state\": \"failed\", "
                      "\"told\": 1767571200}}";
    assert_int_equal(pol_notify_state_parse((const uint8_t *)was, strlen(was), &old), 0);
    assert_null(pol_notify_state_get(&old, "backup:emr")->cause);
    assert_false(pol_notify_told(&old, &hook, T0 + 900, DAY));
    assert_true(pol_notify_told(&old, &unknown, 1767571200 + 900, DAY));
    assert_int_equal(decide(&old, &hook, T0 + 900, DAY, &ev, NULL), 1);
    assert_string_equal(pol_notify_state_get(&old, "backup:emr")->cause, "before-hook:-10:2:0");
    assert_int_equal(decide(&old, &hook, T0 + 1800, DAY, &ev, NULL), 0);
    assert_int_equal(decide(&old, &full, T0 + 2700, DAY, &ev, NULL), 1);
    pol_notify_state_free(&old);
    pol_notify_state_free(&back);
    pol_events_free(ev.v, ev.n);
    pol_notify_state_free(&state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once_per_change),
        cmocka_unit_test(test_reminders_together),
        cmocka_unit_test(test_waiting),
        cmocka_unit_test(test_not_judged_keeps_state),
        cmocka_unit_test(test_one_off_events),
        cmocka_unit_test(test_state_file),
        cmocka_unit_test(test_undo),
        cmocka_unit_test(test_cause),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
