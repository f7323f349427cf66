/*
 * The backup section of the operations rules (bkp/report/annex.c), byte for
 * byte: rendered from a fixed policy (a disk, two removable disks, a tape,
 * object storage; a data set keeping two generations; one without a
 * procedure) and fixed facts from an audit log, in Japanese and English
 * Markdown and Japanese HTML, against tests/golden/annex.*. Then what a
 * reader must find whatever the wording: the note on fewer than three
 * generations, the blank for who rotates, "no drill recorded", and never the
 * passphrase file's contents.
 *
 * To regenerate after an intended change: BKP_UPDATE_GOLDEN=1 ./test_annex,
 * then read the diff of tests/golden/ before committing it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "policies/policy.h"
#include "policies/retention.h"
#include "bkp/report/annex.h"

#include "catalogue.h"
#include "golden.h"
#define golden(name, text) golden_check("test_annex", name, text)

static const char policy_text[] =
    "repository: /srv/bkp/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: nas, type: disk, path: /mnt/nas, location: onsite }\n"
    "  - { name: usb-a, type: removable, path: /media/bkp, location: offsite, offline: true, "
    "rotate_every: 7d }\n"
    "  - { name: usb-b, type: removable, path: /media/bkp, location: offsite, offline: true, "
    "rotate_every: 7d }\n"
    "  - { name: tape, type: archive, path: /dev/nst0, location: offsite, offline: true, "
    "rotate_every: 30d }\n"
    "  - { name: cloud, type: object, endpoint: https://s3.example.jp, bucket: bkp-lock, "
    "credentials_file: /etc/bkp/s3.cred, location: offsite, lock: { days: 40 } }\n"
    "datasets:\n"
    "  - name: scans\n"
    "    description: \"スキャン文書 | 紹介状\"\n"
    "    priority: 2\n"
    "    paths: [/srv/scans, /srv/letters]\n"
    "    schedule: weekly sun 03:00\n"
    "    retention: { keep_last: 2 }\n"
    "    copy_to: [usb-a, usb-b]\n"
    "  - name: emr-db\n"
    "    description: \"電子カルテ データベース\"\n"
    "    priority: 1\n"
    "    paths: [/var/backups/emr]\n"
    "    schedule: daily 02:00\n"
    "    retention: { keep_last: 7, keep_daily: 14, keep_monthly: 12, lock_days: 7 }\n"
    "    copy_to: [nas, usb-a, usb-b, tape, cloud]\n"
    "    runbook: emr-db\n"
    "  - name: pacs\n"
    "    priority: 3\n"
    "    paths: [/srv/pacs/export]\n"
    "    schedule: monthly 1 01:00\n"
    "    copy_to: [tape]\n"
    "    runbook: pacs\n"
    "drills:\n"
    "  - { runbook: emr-db, schedule: monthly 1 05:00 }\n";

static pol_policy *fixture(void)
{
    pol_policy *p = NULL;
    assert_int_equal(
        pol_load_buffer("hospital.yaml", (const uint8_t *)policy_text, sizeof(policy_text) - 1, &p),
        0);
    return p;
}

/* A time as the log writes it. */
static time_t at(const char *iso)
{
    time_t t = bkp_iso_parse(iso);
    assert_true(t > 0);
    return t;
}

/* What `bkp policy print --regulation` gathers (bkp/ops/annex.h), for the
 * fixture: a runbook with its last drill and one that does not load; the
 * disks' and the tape's rotations (the tape's last failed); the bucket's
 * probe. The strings are borrowed: the facts are not cleared. */
typedef struct facts_buf {
    rst_annex_runbook books[2];
    rst_annex_medium media[3];
    rst_annex_facts f;
} facts_buf;

static const rst_annex_facts *facts(facts_buf *b)
{
    memset(b, 0, sizeof(*b));
    b->books[0] = (rst_annex_runbook){
        .name = "emr-db",
        .title = "電子カルテDB 復旧手順",
        .owner = "医療情報システム安全管理責任者",
        .passphrase_note = "金庫の封筒 (事務長室)",
        .rto = 14400,
        .drill = {
            .time = at("2026-11-01T05:00:12Z"), .ok = true, .seconds = 4850.5, .rto_met = RST_YES}};
    b->books[1] = (rst_annex_runbook){.name = "pacs", .invalid = true};
    rst_cited usb = {.time = at("2026-11-20T09:12:00Z"), .ok = true, .seconds = -1};
    b->media[0] = (rst_annex_medium){.name = "usb-a", .last = usb, .last_ok = usb};
    b->media[1] = (rst_annex_medium){
        .name = "tape",
        .last = {.time = at("2026-11-02T10:00:00Z"), .seconds = -1},
        .last_ok = {.time = at("2026-10-02T10:00:00Z"), .ok = true, .seconds = -1}};
    b->media[2] = (rst_annex_medium){
        .name = "cloud", .probe = {.time = at("2026-10-30T08:00:00Z"), .ok = true, .seconds = -1}};
    b->f = (rst_annex_facts){.generated = at("2026-11-24T00:00:00Z"),
                             .audit = RST_LOG_READ,
                             .runbooks = b->books,
                             .nrunbooks = 2,
                             .media = b->media,
                             .nmedia = 3};
    return &b->f;
}

static char *render(rb_format f, bool ja)
{
    pol_policy *p = fixture();
    facts_buf b;
    char *t = rst_annex_render(p, facts(&b), f, ja);
    pol_free(p);
    assert_non_null(t);
    return t;
}

static void test_golden(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        rb_format f;
        bool ja;
    } cases[] = {{"annex.ja.md", RB_MARKDOWN, true},
                 {"annex.en.md", RB_MARKDOWN, false},
                 {"annex.ja.html", RB_HTML, true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *t = render(cases[i].f, cases[i].ja);
        bool same = golden(cases[i].name, t);
        free(t);
        assert_true(same);
    }
}

/* What a reader must find, in either language. */
static void test_content(void **state)
{
    (void)state;
    char *en = render(RB_MARKDOWN, false), *ja = render(RB_MARKDOWN, true);
    /* Two disks swapped weekly at one mount point: each comes back every
     * fourteen days; the tape alone, every thirty. */
    assert_non_null(strstr(en, "| usb-a | every 14 days, in turn with usb-b |"));
    assert_non_null(strstr(en, "| usb-b | every 14 days, in turn with usb-a |"));
    assert_non_null(strstr(en, "| tape | every 30 days |"));
    assert_non_null(strstr(ja, "| usb-a | 14 日ごと（usb-b と交互） |"));
    assert_non_null(strstr(en, "FEWER THAN THREE"));
    assert_non_null(strstr(ja, "3世代未満"));
    assert_non_null(strstr(en, "to be filled in by the facility"));
    assert_non_null(strstr(ja, "医療機関で記入"));
    assert_null(strstr(en, "not yet proven"));
    assert_non_null(strstr(en, "proven by `bkp media probe` on 2026-10-30"));
    assert_non_null(strstr(en, "2026-11-01: succeeded in 1 h 20 min, within the target"));
    assert_non_null(strstr(en, "pacs (could not be read)"));
    assert_non_null(strstr(en, "金庫の封筒 (事務長室)"));
    /* The service-level table's columns, in the guideline's words. */
    assert_non_null(strstr(ja, "| 対象 | 頻度 | 復旧できる世代 | 方法 | 保存場所 |"));
    /* Markdown table bars in a description are escaped. */
    assert_non_null(strstr(en, "スキャン文書 \\| 紹介状"));
    /* Priority order: emr-db (1) before scans (2). */
    assert_true(strstr(en, "| 1 | 電子カルテ") < strstr(en, "| 2 | スキャン"));
    free(en);
    free(ja);
}

/* A drill that took longer than its target says so, in either language. */
static void test_drill_over_target(void **state)
{
    (void)state;
    pol_policy *p = fixture();
    facts_buf b;
    facts(&b);
    b.books[0].drill.seconds = 5 * 3600;
    b.books[0].drill.rto_met = RST_NO;
    char *en = rst_annex_render(p, &b.f, RB_MARKDOWN, false);
    char *ja = rst_annex_render(p, &b.f, RB_MARKDOWN, true);
    assert_non_null(strstr(en, "2026-11-01: succeeded in 5 h 00 min, OVER the target"));
    assert_non_null(strstr(ja, "2026-11-01: 成功（5 時間 00 分、目標時間を超過）"));
    assert_null(strstr(en, "unattended"));
    assert_null(strstr(en, "within the target"));
    free(en);
    free(ja);
    pol_free(p);
}

/* A drill nobody followed the steps of says so: the annex is the rules'
 * record of how the procedure was confirmed. */
static void test_drill_unattended(void **state)
{
    (void)state;
    pol_policy *p = fixture();
    facts_buf b;
    facts(&b);
    b.books[0].drill.unattended = true;
    char *en = rst_annex_render(p, &b.f, RB_MARKDOWN, false);
    char *ja = rst_annex_render(p, &b.f, RB_MARKDOWN, true);
    assert_non_null(strstr(en, "2026-11-01: succeeded in 1 h 20 min, within the target "
                               "(unattended: nobody followed the written steps)<br>with the "
                               "staff: none recorded"));
    assert_non_null(
        strstr(ja, "目標時間内）（無人: 書かれた手順を人は行っていません）<br>職員との訓練: "));
    free(en);
    free(ja);
    /* The last drill with the staff, cited beside the unattended one. */
    b.books[0].attended = (rst_cited){.time = at("2026-10-30T05:00:00Z"), .ok = false};
    en = rst_annex_render(p, &b.f, RB_MARKDOWN, false);
    assert_non_null(strstr(en, "with the staff: 2026-10-30: failed"));
    free(en);
    pol_free(p);
}

/* Without facts: no drill recorded, no rotation, the object lock not proven,
 * and blanks for where the passphrase and the paper key are. */
static void test_no_facts(void **state)
{
    (void)state;
    pol_policy *p = fixture();
    char *t = rst_annex_render(p, NULL, RB_MARKDOWN, false);
    assert_non_null(t);
    assert_non_null(strstr(t, "no drill recorded"));
    assert_non_null(strstr(t, "none recorded"));
    assert_non_null(strstr(t, "not yet proven: run `bkp media probe cloud`"));
    assert_non_null(strstr(t, "Where the passphrase is kept: ____"));
    assert_non_null(strstr(t, "Where the paper key or its shares are kept, apart from the "
                              "passphrase: ____"));
    free(t);
    pol_free(p);
}

static void test_generations(void **state)
{
    (void)state;
    pol_retention r = {.keep_last = 2, .keep_daily = 5, .keep_weekly = 3};
    assert_int_equal(pol_retention_keeps(&r), 5);
    pol_retention none = {.lock_days = 9};
    assert_int_equal(pol_retention_keeps(&none), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_content),
        cmocka_unit_test(test_drill_over_target),
        cmocka_unit_test(test_drill_unattended),
        cmocka_unit_test(test_no_facts),
        cmocka_unit_test(test_generations),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
