/*
 * What prune keeps of a data set under a suspicion and after one
 * (bkp/ops/prune_medium.h, ops_prune_decide): a generation marked and not
 * cleared fills no slot of the retention, so a month is kept by its newest
 * clean generation, never by the ransomware night; a mark a later clearance
 * settled holds no history; and the cleared generation that settles a mark
 * (or a damaged record) which stays is kept, or deleting it with its
 * clearance would raise the suspicion again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/io/clock.h"
#include "bkp/ops/prune_medium.h"
#include "policies/policy.h"
#include "policies/retention.h"

#define DAY 86400
#define MAXGEN 64

typedef struct fixture {
    bkp_gen g[MAXGEN];
    bkp_gen *v[MAXGEN];
    unsigned keep[MAXGEN];
    size_t n;
    pol_policy *p;
} fixture;

/* `n` generations of e, one a day at 02:00 UTC, the newest on `last`. */
static void days(fixture *f, size_t n, const char *last, const char *retention)
{
    char text[512];
    snprintf(text, sizeof(text),
             "repository: /srv/bkp/repo\npassphrase_file: /etc/bkp/passphrase\n"
             "datasets:\n  - { name: e, paths: [/srv/e], schedule: daily 02:00, retention: %s }\n",
             retention);
    memset(f, 0, sizeof(*f));
    assert_int_equal(pol_load_buffer("t.yaml", (const uint8_t *)text, strlen(text), &f->p), 0);
    time_t end = bkp_iso_parse(last);
    for (size_t i = 0; i < n; i++) {
        bkp_gen *g = &f->g[i];
        g->dataset = "e";
        g->seq = (uint32_t)(i + 1);
        g->finished = end - (time_t)(n - 1 - i) * DAY;
        g->started = g->finished - 60;
        f->v[i] = g;
    }
    f->n = n;
}

static void decide(fixture *f)
{
    ops_prune_decide(f->p, f->v, f->n, false, f->keep);
}

/* e:SEQ's reasons. */
static unsigned kept(const fixture *f, uint32_t seq)
{
    return f->keep[seq - 1];
}

/* The ransomware night on the last day of January, the night after it
 * marked too and cleared once the files were restored: January is kept by
 * its newest clean night, the marked one goes, and so does the cleared one
 * with nothing left for it to settle. */
static void test_settled_month(void **state)
{
    (void)state;
    if (!bkp_clock_is_test())
        skip();
    setenv("BKP_NOW", "2026-03-15T12:00:00Z", 1);
    fixture f;
    /* e:1 on 2026-01-15 … e:60 on 2026-03-15 */
    days(&f, 60, "2026-03-15T02:00:00Z", "{ keep_daily: 7, keep_monthly: 12 }");
    uint32_t jan31 = 17, feb1 = 18, jan30 = 16;
    f.g[jan31 - 1].suspicious = true;
    f.g[feb1 - 1].suspicious = true;
    f.g[feb1 - 1].cleared = true;
    decide(&f);
    assert_int_equal(kept(&f, jan31), 0);
    assert_true(kept(&f, jan30) & POL_KEEP_MONTHLY);
    assert_int_equal(kept(&f, feb1), 0);
    for (uint32_t s = 1; s < jan30; s++)
        assert_int_equal(kept(&f, s) & OPS_KEEP_BEFORE_SUSPICIOUS, 0);
    pol_free(f.p);
    unsetenv("BKP_NOW");
}

/* A damaged record stays for ever and holds like a mark: the cleared
 * generation after it, which settles it, stays too. */
static void test_cleared_kept_while_it_settles(void **state)
{
    (void)state;
    fixture f;
    days(&f, 10, "2026-03-15T02:00:00Z", "{ keep_last: 2 }");
    f.g[1].status = -74; /* e:2, damaged */
    f.g[3].suspicious = f.g[3].cleared = true; /* e:4 */
    decide(&f);
    assert_true(kept(&f, 2) & OPS_KEEP_DAMAGED);
    assert_true(kept(&f, 4) & OPS_KEEP_SETTLES);
    assert_int_equal(kept(&f, 1), 0);
    assert_int_equal(kept(&f, 3), 0);
    assert_int_equal(kept(&f, 5), 0);
    assert_true(kept(&f, 10) & POL_KEEP_LAST);
    pol_free(f.p);
    /* Nothing before it to settle: it goes by the rules alone. */
    days(&f, 10, "2026-03-15T02:00:00Z", "{ keep_last: 2 }");
    f.g[3].suspicious = f.g[3].cleared = true;
    decide(&f);
    assert_int_equal(kept(&f, 4), 0);
    pol_free(f.p);
}

/* A suspicion not settled: the marked one and everything before it stay;
 * the marked one takes no slot (keep_last goes to clean ones after it). */
static void test_unsettled_holds(void **state)
{
    (void)state;
    fixture f;
    days(&f, 8, "2026-03-15T02:00:00Z", "{ keep_last: 1 }");
    f.g[4].suspicious = true; /* e:5 */
    decide(&f);
    assert_true(kept(&f, 5) & OPS_KEEP_SUSPICIOUS);
    for (uint32_t s = 1; s < 5; s++)
        assert_true(kept(&f, s) & OPS_KEEP_BEFORE_SUSPICIOUS);
    assert_true(kept(&f, 8) & POL_KEEP_LAST);
    assert_int_equal(kept(&f, 6), 0);
    pol_free(f.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settled_month),
        cmocka_unit_test(test_cleared_kept_while_it_settles),
        cmocka_unit_test(test_unsettled_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
