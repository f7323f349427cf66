/*
 * Telling a run's alerts (bkp/ops/alerts.h) to a notify command: each event
 * is handed to the command on its own, and one the command refuses is
 * told again at the next run — that one alone, never the others of its run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/ops/alerts.h"

#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "notify:\n"
    "  command: { command: \"grep -q backup:emr && exit 1; exit 0\", timeout: 30s }\n"
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr] }\n"
    "  - { name: scans, paths: [/srv/scans] }\n";

static int no_audit(void *ctx, const bkp_audit_rec *rec)
{
    (void)ctx;
    (void)rec;
    return 0;
}

static void test_one_refused_alone_told_again(void **state)
{
    (void)state;
    ops_repo f;
    assert_int_equal(ops_repo_new(&f, "ops-alerts", policy_text), 0);
    ops_alerts al = {0};
    /* Scans' first: the one after emr's refusal must not take it. */
    assert_true(ops_alert(&al, "backup:scans", "failed", 2, "the backup of %s failed", "scans"));
    assert_true(ops_alert(&al, "backup:emr", "failed", 2, "the backup of %s failed", "emr"));
    assert_true(ops_alert(&al, "backup:lab", "failed", 2, "the backup of %s failed", "lab"));
    bool told[3] = {0};
    time_t now = bkp_now();
    assert_int_not_equal(ops_alerts_tell(f.r, f.p, &al, now, told, no_audit, NULL), 0);
    assert_true(told[0] && told[1] && told[2]); /* all three were new */
    memset(told, 0, sizeof(told));
    (void)ops_alerts_tell(f.r, f.p, &al, now + 60, told, no_audit, NULL);
    assert_false(told[0]); /* taken the first time */
    assert_true(told[1]);  /* refused: told again */
    assert_false(told[2]); /* taken, though after the refused one */
    ops_alerts_free(&al);
    ops_repo_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_refused_alone_told_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
