/*
 * The mail of a run's alerts (bkp/host/notify_send.h): one mail for the
 * events of one run, named after the first of the most severe, with every
 * event's lines in Japanese then English (or English alone); one event
 * makes the mail it always made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/host/notify_send.h"

static const bkp_notify_target target = {.mail_to = "it@clinic.example"};

static bkp_notify_event event(const char *kind, const char *key, const char *state, int severity,
                              const char *en, const char *ja)
{
    return (bkp_notify_event){.kind = kind,
                              .key = key,
                              .state = state,
                              .since = 1767571200,
                              .summary = en,
                              .summary_ja = ja,
                              .severity = severity,
                              .host = "srv1",
                              .repository = "/var/lib/bkp/repo",
                              .facility = "さくら診療所"};
}

/* The mail's subject, decoded, into `out`. */
static void subject_of(const char *mail, char *out, size_t n)
{
    const char *at = strstr(mail, "Subject: =?UTF-8?B?");
    assert_non_null(at);
    at += strlen("Subject: =?UTF-8?B?");
    const char *end = strstr(at, "?=\n");
    assert_non_null(end);
    size_t got = 0;
    assert_int_equal(sodium_base642bin((unsigned char *)out, n - 1, at, (size_t)(end - at), NULL,
                                       &got, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    out[got] = '\0';
}

static size_t count(const char *s, const char *what)
{
    size_t k = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        k++;
    return k;
}

static void test_one_mail_a_run(void **state)
{
    (void)state;
    bkp_notify_event v[3] = {
        event("reminder", "due:usb-a", "overdue", 1, "usb-a is overdue",
              "usb-a の交換日を過ぎています"),
        event("reminder", "verdict:emr", "AT RISK", 2, "emr is AT RISK", "emr は要注意です"),
        event("raised", "drill", "failed", 2, "the drill failed", "訓練が失敗しました"),
    };
    char *mail = bkp_notify_mail(&target, v, 3), subject[512];
    assert_non_null(mail);
    subject_of(mail, subject, sizeof(subject));
    /* Named after the first of the most severe, and how many more. */
    assert_string_equal(
        subject, "[bkp さくら診療所 srv1] 異常 継続中 (再通知): emr は要注意です（ほか 2 件）");
    /* Every event, once in each language, in the order told. */
    assert_int_equal(count(mail, "  内容: "), 3);
    assert_int_equal(count(mail, "A notice from bkp on srv1"), 1);
    const char *a = strstr(mail, "usb-a の交換日"), *b = strstr(mail, "emr は要注意"),
               *c = strstr(mail, "訓練が失敗");
    assert_true(a && b && c && a < b && b < c);
    a = strstr(mail, "usb-a is overdue"), b = strstr(mail, "emr is AT RISK"),
    c = strstr(mail, "the drill failed");
    assert_true(a && b && c && a < b && b < c);
    assert_true(strstr(mail, "確認: bkp status") < strstr(mail, "A notice from bkp"));
    free(mail);
    /* One event: the mail it always was, no count. */
    mail = bkp_notify_mail(&target, &v[0], 1);
    subject_of(mail, subject, sizeof(subject));
    assert_string_equal(
        subject, "[bkp さくら診療所 srv1] 警告 継続中 (再通知): usb-a の交換日を過ぎています");
    assert_int_equal(count(mail, "  内容: "), 1);
    free(mail);
    /* English alone, where the policy's language is English. */
    bkp_notify_target en = target;
    en.english = true;
    mail = bkp_notify_mail(&en, v, 3);
    subject_of(mail, subject, sizeof(subject));
    assert_string_equal(subject,
                        "[bkp さくら診療所 srv1] ERROR reminder: verdict:emr AT RISK (and 2 more)");
    assert_null(strstr(mail, "内容"));
    assert_int_equal(count(mail, "  ERROR: "), 2);
    free(mail);
    assert_null(bkp_notify_mail(&target, v, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_mail_a_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
