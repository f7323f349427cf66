/*
 * Which generations a rotation copies (bkp/ops/rotate_choose.h): the newest
 * clean one of each data set the policy sends to the medium. A newest record
 * that is damaged, a tombstone, marked suspicious by the change-rate guard
 * (unless cleared), or later than one so marked, or captured out of time
 * order (backdated or in the future) is passed over for the next older
 * clean one; a data set with no
 * clean record sends nothing; a data set not copied to the medium sends
 * nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/io/clock.h"
#include "bkp/ops/rotate_choose.h"
#include "policies/policy.h"

#define DAY 86400
#define NGEN 6

static const char policy_text[] =
    "repository: /srv/bkp/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: usb, type: removable, path: /media/bkp, location: offsite, offline: true }\n"
    "  - { name: nas, type: disk, path: /mnt/nas, location: onsite }\n"
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, copy_to: [usb, nas] }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 03:00, copy_to: [nas] }\n";

typedef struct fixture {
    bkp_gen g[NGEN];
    bkp_gen *v[NGEN];
    pol_policy *p;
} fixture;

/* emr:1..4 then lab:1..2, each a day apart, the newest yesterday. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    time_t now = bkp_now();
    for (int i = 0; i < NGEN; i++) {
        bkp_gen *g = &f->g[i];
        bool emr = i < 4;
        g->dataset = emr ? "emr" : "lab";
        g->seq = (uint32_t)(emr ? i + 1 : i - 3);
        g->finished = now - (time_t)((emr ? 4 - i : 6 - i) * DAY);
        g->started = g->finished - 60;
        f->v[i] = g;
    }
    assert_int_equal(
        pol_load_buffer("t.yaml", (const uint8_t *)policy_text, sizeof(policy_text) - 1, &f->p), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pol_free(f->p);
    free(f);
    return 0;
}

/* Choose for `medium`; the names chosen, "ds:seq" joined by spaces, in `out`. */
static const char *choose(fixture *f, const pol_policy *p, const char *medium, char *out, size_t n)
{
    bkp_gen *pick[NGEN];
    size_t k = ops_rotate_choose(p, medium, f->v, NGEN, pick);
    out[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        char name[32];
        strncat(out, i ? " " : "", n - strlen(out) - 1);
        strncat(out, bkp_gen_name(pick[i], name, sizeof(name)), n - strlen(out) - 1);
    }
    return out;
}

static void test_newest_of_each(void **state)
{
    fixture *f = *state;
    char s[128];
    assert_string_equal(choose(f, f->p, "nas", s, sizeof(s)), "emr:4 lab:2");
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:4");
    assert_string_equal(choose(f, f->p, "tape", s, sizeof(s)), "");
    assert_string_equal(choose(f, NULL, "anything", s, sizeof(s)), "emr:4 lab:2");
}

static void test_damaged_and_pruned_passed_over(void **state)
{
    fixture *f = *state;
    char s[128];
    f->g[3].status = -EBADMSG;
    f->g[2].pruned = true;
    f->g[5].status = -EBADMSG;
    f->g[4].status = -EBADMSG;
    assert_string_equal(choose(f, f->p, "nas", s, sizeof(s)), "emr:2");
}

static void test_suspicious_unless_cleared(void **state)
{
    fixture *f = *state;
    char s[128];
    f->g[3].suspicious = true;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:3");
    f->g[3].cleared = true;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:4");
    /* emr:3 marked, emr:4 after it unmarked (the same encrypted files do
     * not change again): neither goes, until it is cleared or a later one
     * is (after the files were restored, that night's backup is marked and
     * cleared). */
    f->g[3].suspicious = f->g[3].cleared = false;
    f->g[2].suspicious = true;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:2");
    f->g[3].suspicious = true;
    f->g[3].cleared = true;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:4");
    /* A damaged record may be a marked one: it holds like one; a damaged
     * tombstone is no capture and holds nothing. */
    f->g[2].suspicious = f->g[3].suspicious = f->g[3].cleared = false;
    f->g[2].status = -EBADMSG;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:2");
    f->g[2].pruned = true;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:4");
}

/* A record that claims to be captured tomorrow, or before its predecessor,
 * does not become "the newest" (restic #22057's attack, retention.h). */
static void test_time_out_of_order(void **state)
{
    fixture *f = *state;
    char s[128];
    time_t was = f->g[3].finished;
    f->g[3].finished = bkp_now() + 2 * DAY;
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:3");
    f->g[3].finished = f->g[0].finished - DAY; /* backdated below emr:1 */
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:3");
    f->g[3].cleared = true; /* an operator vouched for it */
    assert_string_equal(choose(f, f->p, "usb", s, sizeof(s)), "emr:4");
    f->g[3].finished = was;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_newest_of_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_and_pruned_passed_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspicious_unless_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_out_of_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
