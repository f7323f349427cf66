/*
 * The status page for staff (bkp/report/status_page.c), byte for byte: rendered
 * from a fixed status document (what `bkp status --json` prints: a data set
 * COMPLIANT, one AT RISK with a medium overdue, one NON-COMPLIANT whose name
 * and description carry HTML; rotations; a drill within its target and one
 * over it; the audit log checked) in Japanese and English, against
 * tests/golden/status-page.*, in the time zone JST-9. Then what a reader must
 * find whatever the wording: no script and nothing from the network, every
 * string of the document escaped, the verdict as a word beside its colour,
 * the time made with its zone, a page for a phone and for one A4 sheet, and
 * an audit log called intact only when it was checked and found so.
 *
 * To regenerate after an intended change: BKP_UPDATE_GOLDEN=1
 * ./test_status_page, then read the diff of tests/golden/ before committing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "bkp/report/status_page.h"

#include "catalogue.h"
#include "golden.h"
#define golden(name, text) golden_check("test_status_page", name, text)

static const char status_text[] =
    "{\"generated\": \"2026-11-24T10:00:00Z\", \"verdict\": \"NON-COMPLIANT\","
    " \"datasets\": ["
    "  {\"dataset\": \"emr-db\", \"description\": \"電子カルテ データベース\", \"priority\": 1,"
    "   \"verdict\": \"COMPLIANT\", \"generations\": 7, \"last_backup\": \"2026-11-24T02:05:00Z\","
    "   \"reasons\": [], \"action\": \"\", \"ja\": {\"reasons\": [], \"action\": \"\"},"
    "   \"copies_on_media\": ["
    "    {\"medium\": \"usb-a\", \"type\": \"removable\", \"offline\": true, \"offsite\": true,"
    "     \"seq\": 40, \"captured\": \"2026-11-20T02:05:00Z\"}],"
    "   \"last_drill\": {\"time\": \"2026-11-01T05:00:12Z\", \"outcome\": \"ok\","
    "    \"seconds\": 4850.5, \"rto_target_seconds\": 14400, \"rto_met\": true,"
    "    \"runbook\": \"emr-db\", \"read_from\": \"all\"}},"
    "  {\"dataset\": \"scans\", \"description\": \"スキャン文書\", \"priority\": 2,"
    "   \"verdict\": \"AT RISK\", \"generations\": 3, \"last_backup\": \"2026-11-24T03:00:00Z\","
    "   \"reasons\": [\"usb-b is 3 days overdue for rotation\"],"
    "   \"action\": \"connect usb-b and run `bkp rotate usb-b` — 3 days overdue\","
    "   \"ja\": {\"reasons\": [\"usb-b はローテーションが 3 日遅れています\"],"
    "    \"action\": \"usb-b を接続して `bkp rotate usb-b` を実行 — 3 日超過\"},"
    "   \"copies_on_media\": [],"
    "   \"last_drill\": {\"time\": \"2026-10-02T05:00:00Z\", \"outcome\": \"ok\","
    "    \"seconds\": 9000, \"rto_target_seconds\": 3600, \"rto_met\": false,"
    "    \"read_from\": \"no_offline\"}},"
    "  {\"dataset\": \"<script>alert(1)</script>\", \"description\": \"a \\\"b\\\" & 'c'\","
    "   \"priority\": 3, \"verdict\": \"NON-COMPLIANT\", \"generations\": 0,"
    "   \"last_backup\": null, \"reasons\": [\"no generation of <script> exists yet\"],"
    "   \"action\": \"run `bkp backup <script>`\","
    "   \"ja\": {\"reasons\": [\"<script> の世代はまだありません\"],"
    "    \"action\": \"`bkp backup <script>` を実行\"},"
    "   \"copies_on_media\": [], \"last_drill\": null}],"
    " \"key_drill\": {\"last\": null, \"every_seconds\": 31536000, \"due\": true},"
    " \"rotations\": ["
    "  {\"medium\": \"usb-b\", \"type\": \"removable\", \"offline\": true, \"offsite\": true,"
    "   \"when\": \"2026-11-21T02:05:00Z\", \"kept_at\": \"院長の自宅 <金庫>\"},"
    "  {\"medium\": \"usb-a\", \"type\": \"removable\", \"offline\": true, \"offsite\": true,"
    "   \"when\": \"2026-11-28T02:05:00Z\"},"
    "  {\"medium\": \"tape\", \"type\": \"archive\", \"offline\": true, \"offsite\": false,"
    "   \"when\": \"2026-12-01T00:00:00Z\"}],"
    " \"audit\": {\"checked\": \"2026-11-24T10:00:00Z\", \"records\": 118, \"ok\": true,"
    "  \"absent\": false, \"problem\": \"\", \"restarts\": 0},"
    " \"media\": ["
    "  {\"medium\": \"usb-a\", \"type\": \"removable\", \"bytes\": 43912000000,"
    "   \"last_write\": \"2026-11-20T02:05:00Z\"},"
    "  {\"medium\": \"tape\", \"type\": \"archive\", \"bytes\": null,"
    "   \"last_write\": \"2026-11-01T00:00:00Z\"}],"
    " \"storage\": {\"stored\": 44000000000, \"packs\": 43900000000,"
    "  \"newest\": 64000000000, \"kept\": 1800000000000, \"generations\": 90,"
    "  \"datasets\": 3}}";

static json_t *fixture(void)
{
    json_error_t e;
    json_t *j = json_loads(status_text, 0, &e);
    if (!j)
        print_error("fixture: %s at %d\n", e.text, e.position);
    assert_non_null(j);
    return j;
}

/* The page of document `j`, read through the status record's codec as
 * a saved `bkp status --json` would be. */
static char *render(json_t *j, bool ja)
{
    rst_status st;
    assert_int_equal(rst_status_parse(j, &st), 0);
    char *t = rst_status_page(&st, ja);
    assert_non_null(t);
    rst_status_clear(&st);
    return t;
}

static size_t count_of(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static int setup(void **state)
{
    /* A zone without the time-zone database: "JST", nine hours east. */
    setenv("TZ", "JST-9", 1);
    tzset();
    return test_catalogue_setup(state);
}

static void test_golden(void **state)
{
    (void)state;
    json_t *j = fixture();
    char *ja = render(j, true), *en = render(j, false);
    bool same = golden("status-page.ja.html", ja) & golden("status-page.en.html", en);
    free(ja);
    free(en);
    json_decref(j);
    assert_true(same);
}

/* Is there an attribute named on...= (an event handler) in `t`? */
static bool handler(const char *t)
{
    for (const char *p = strstr(t, "=\""); p; p = strstr(p + 2, "=\"")) {
        const char *a = p;
        while (a > t && a[-1] != ' ' && a[-1] != '<')
            a--;
        if (!strncmp(a, "on", 2))
            return true;
    }
    return false;
}

/* No script, nothing fetched, every string escaped. */
static void test_self_contained(void **state)
{
    (void)state;
    json_t *j = fixture();
    for (int ja = 0; ja < 2; ja++) {
        char *t = render(j, ja);
        assert_null(strstr(t, "<script"));
        assert_null(strstr(t, "http"));
        assert_null(strstr(t, "src="));
        assert_null(strstr(t, "url("));
        assert_null(strstr(t, "@import"));
        assert_false(handler(t));
        assert_non_null(strstr(t, "&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_non_null(strstr(t, "data-dataset=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert_non_null(strstr(t, "a &quot;b&quot; &amp; &#39;c&#39;"));
        assert_non_null(strstr(t, "<meta name=\"viewport\""));
        assert_non_null(strstr(t, "@page{size:A4"));
        assert_non_null(strstr(t, "@media print"));
        free(t);
    }
    json_decref(j);
}

/* What a clerk must find, in either language. */
static void test_content(void **state)
{
    (void)state;
    json_t *j = fixture();
    char *en = render(j, false), *ja = render(j, true);
    assert_non_null(strstr(en, "<html lang=\"en\">"));
    assert_non_null(strstr(ja, "<html lang=\"ja\">"));
    /* The verdict: a colour and always a word. */
    assert_non_null(strstr(en, "class=\"verdict v-risk\" data-verdict=\"AT RISK\">AT RISK<"));
    assert_non_null(strstr(ja, "class=\"verdict v-risk\" data-verdict=\"AT RISK\">要注意<"));
    assert_non_null(strstr(ja, "data-verdict=\"COMPLIANT\">適合<"));
    assert_non_null(strstr(ja, "data-verdict=\"NON-COMPLIANT\">不適合<"));
    /* The next action in the page's language, first under "today". */
    assert_non_null(strstr(en, "scans: connect usb-b and run <code>bkp rotate usb-b</code>"));
    /* Commands are code, as in the reports; never a bare backquote. */
    assert_null(strchr(en, '`'));
    assert_null(strchr(ja, '`'));
    assert_non_null(strstr(ja, "<code>bkp backup &lt;script&gt;</code> を実行"));
    assert_non_null(strstr(ja, "scans: usb-b を接続して"));
    assert_true(strstr(ja, "id=\"today\"") < strstr(ja, "usb-b を接続して"));
    /* Local time, with the zone. */
    assert_non_null(strstr(en, "2026-11-24 19:00 JST"));
    /* The calendar: which medium, which day, where kept; overdue said. */
    assert_non_null(strstr(en, "data-state=\"overdue\" data-medium=\"usb-b\""));
    /* The clerk brings the off-line disk whose turn has passed, once; the
     * disk whose turn is coming stays where it is kept. */
    const char *bring = strstr(en, "data-bring=\"usb-b\">Bring usb-b from 院長の自宅 &lt;金庫&gt; "
                                   "to the backup server for its copy, overdue by 3 days.");
    assert_non_null(bring);
    assert_true(strstr(en, "id=\"today\"") < bring && bring < strstr(en, "id=\"datasets\""));
    assert_null(strstr(bring + 1, "data-bring=\"usb-b\""));
    assert_null(strstr(en, "data-bring=\"usb-a\""));
    assert_null(strstr(en, "data-bring=\"tape\""));
    assert_non_null(strstr(ja, "data-bring=\"usb-b\">usb-b を院長の自宅 &lt;金庫&gt;から"));
    /* The calendar says where each is kept, in the policy's words. */
    assert_non_null(strstr(en, "off-site, off-line<br>院長の自宅 &lt;金庫&gt;</td>"));
    assert_non_null(strstr(en, "2026-11-28 (Saturday)"));
    assert_non_null(strstr(en, "2026-12-01 (Tuesday)</td><td>tape</td><td>on-site, off-line"));
    /* Drills against their target. */
    assert_non_null(strstr(en, "1 h 20 min"));
    assert_non_null(strstr(en, "4 h 00 min: within the target"));
    assert_non_null(strstr(en, "1 h 00 min: OVER the target"));
    /* A drill that read the server itself says so; one from the disk does not. */
    assert_non_null(strstr(en, "data-read-from=\"no_offline\">read from the server itself: the "
                               "off-line disk was not connected"));
    assert_int_equal(count_of(en, "data-read-from="), 1);
    /* Ages of the copies. */
    assert_non_null(strstr(en, "data-medium=\"usb-a\" data-age-seconds=\"374100\""));
    assert_non_null(strstr(en, "4 days"));
    assert_non_null(strstr(en, "118 record(s)"));
    free(en);
    free(ja);
    json_decref(j);
}

/* "Intact" only after a check that found it so; a damaged or unchecked log
 * says so. */
static void test_audit(void **state)
{
    (void)state;
    json_t *j = fixture();
    json_t *a = json_object_get(j, "audit");
    json_object_set_new(a, "ok", json_false());
    json_object_set_new(a, "problem", json_string("record 7: bad signature"));
    char *t = render(j, false);
    assert_non_null(strstr(t, "data-state=\"damaged\""));
    assert_non_null(strstr(t, "NOT intact: record 7: bad signature"));
    assert_null(strstr(t, "are intact"));
    /* The clerk is told first thing, and the officer what to run. */
    const char *todo = strstr(t, "<li class=\"todo late\" data-audit=\"damaged\">Tell the "
                                 "system officer today");
    assert_non_null(todo);
    assert_true(todo < strstr(t, "id=\"audit\""));
    assert_null(strstr(t, "Nothing is due today"));
    assert_non_null(strstr(t, "data-audit=\"damaged\">the audit log: `bkp audit verify`"));
    free(t);
    /* With the problem's code, the page says it in its own language: a
     * Japanese page has no English inside its Japanese sentence. */
    json_object_set_new(a, "problem",
                        json_string("record 7 is not signed by this repository's "
                                    "key (edited or forged)"));
    json_object_set_new(a, "code", json_string("wrong_signature"));
    json_object_set_new(a, "detail", json_pack("{s:i}", "record", 7));
    t = render(j, true);
    assert_non_null(strstr(t, "監査ログは完全ではありません: 記録 7 にはこのリポジトリの鍵による"
                              "署名がありません（編集または偽造されています）。"));
    assert_null(strstr(t, "is not signed"));
    free(t);
    t = render(j, false);
    assert_non_null(strstr(t, "NOT intact: record 7 is not signed by this repository&#39;s key"));
    free(t);
    json_object_set_new(a, "code", json_string("rolled_back"));
    json_object_set_new(a, "detail", json_pack("{s:i, s:i}", "record", 118, "last_record", 120));
    t = render(j, true);
    assert_non_null(strstr(t, "記録 118"));
    assert_null(strstr(t, "is not signed"));
    assert_non_null(strstr(t, "data-audit=\"damaged\""));
    free(t);
    /* A clock set back is said in the log's section, but is no alarm. */
    json_object_set_new(a, "code", json_string("time_backwards"));
    json_object_set_new(a, "detail",
                        json_pack("{s:i, s:s, s:s}", "record", 3, "time", "2026-11-02T05:00:00Z",
                                  "earlier", "2026-11-28T17:42:22Z"));
    t = render(j, false);
    assert_non_null(strstr(t, "data-state=\"damaged\""));
    assert_null(strstr(t, "data-audit=\"damaged\""));
    /* But someone is asked to look, and the times are the reader's. */
    assert_non_null(
        strstr(t, "<li class=\"todo late\" data-audit=\"fault\">Ask the system officer"));
    assert_non_null(strstr(t, "not a sign of an intrusion by itself"));
    assert_null(strstr(t, "Nothing is due today"));
    free(t);
    t = render(j, true);
    assert_non_null(strstr(t, "data-audit=\"fault\""));
    assert_null(strstr(t, "2026-11-02T05:00:00Z"));
    free(t);
    /* A log that cannot be read is said as that, never as harmless. */
    json_object_set_new(a, "code", json_string("unreadable"));
    json_object_set_new(a, "detail", json_pack("{s:s}", "error", "Bad message"));
    t = render(j, false);
    assert_non_null(strstr(t, "data-audit=\"fault\">Tell the system officer today"));
    assert_null(strstr(t, "not a sign of an intrusion"));
    free(t);
    json_object_del(j, "audit");
    t = render(j, false);
    assert_non_null(strstr(t, "data-state=\"unchecked\""));
    assert_non_null(strstr(t, "was not checked"));
    assert_null(strstr(t, "intact"));
    assert_null(strstr(t, "data-audit")); /* not checked is not found wanting */
    free(t);
    json_decref(j);
}

/* Two data sets that one step sees to: one line names both. */
static void test_one_step_one_line(void **state)
{
    (void)state;
    json_t *j = fixture(), *sets = json_object_get(j, "datasets");
    json_t *emr = json_array_get(sets, 0), *scans = json_array_get(sets, 1);
    json_object_set(emr, "verdict", json_object_get(scans, "verdict"));
    json_object_set(emr, "reasons", json_object_get(scans, "reasons"));
    json_object_set(emr, "action", json_object_get(scans, "action"));
    json_object_set(emr, "ja", json_object_get(scans, "ja"));
    char *t = render(j, false);
    assert_non_null(strstr(t, "emr-db, scans: ask the system officer to see to it — usb-b is 3 "
                              "days overdue for rotation"));
    assert_null(strstr(t, ">scans: ask the system officer"));
    free(t);
    t = render(j, true);
    assert_non_null(strstr(t, "emr-db、scans: システム担当者に対応を依頼してください"));
    free(t);
    /* The same step for another reason: each its own line, its reason kept. */
    json_object_set_new(emr, "reasons", json_pack("[s]", "no off-line copy of emr-db exists"));
    t = render(j, false);
    assert_non_null(strstr(t, ">emr-db: ask the system officer to see to it — no off-line copy"));
    assert_non_null(strstr(t, ">scans: ask the system officer"));
    free(t);
    json_decref(j);
}

/* Nothing to do: said, not an empty list. */
static void test_nothing_due(void **state)
{
    (void)state;
    json_t *j = fixture(), *sets = json_object_get(j, "datasets");
    json_array_remove(sets, 2);
    json_array_remove(sets, 1);
    json_object_set_new(json_object_get(j, "key_drill"), "due", json_false());
    json_array_remove(json_object_get(j, "rotations"), 0); /* usb-b's, overdue */
    char *t = render(j, false);
    assert_non_null(strstr(t, "Nothing is due today."));
    assert_null(strstr(t, "class=\"todo\""));
    free(t);
    json_decref(j);
}

/* A medium the policy keeps on-line (an archive folder on a NAS) is no
 * one's to bring: not in the calendar of the off-line media. */
static void test_online_not_carried(void **state)
{
    (void)state;
    json_t *j = fixture();
    json_object_set_new(json_array_get(json_object_get(j, "rotations"), 2), "offline",
                        json_false());
    char *t = render(j, false);
    assert_null(strstr(t, "data-medium=\"tape\""));
    assert_non_null(strstr(t, "data-medium=\"usb-a\""));
    free(t);
    json_decref(j);
}

/* A green badge with a disk's turn due: the step is routine, said so, not
 * "something to do" as beside a data set at risk. */
static void test_compliant_routine_task(void **state)
{
    (void)state;
    json_t *j = fixture(), *emr = json_array_get(json_object_get(j, "datasets"), 0);
    json_object_set_new(emr, "action", json_string("connect usb-a and run `bkp rotate usb-a`"));
    json_object_set_new(json_object_get(emr, "ja"), "action",
                        json_string("usb-a を接続して `bkp rotate usb-a` を実行"));
    char *en = render(j, false), *ja = render(j, true);
    assert_int_equal(count_of(en, "A routine task is due: see &quot;What to do today&quot;."), 1);
    assert_int_equal(count_of(en, "Something to do:"), 2); /* the two others, not green */
    assert_int_equal(count_of(ja, "定例の作業があります"), 1);
    /* Its step is the disk's turn: said as what it is, not as something
     * to see to without a reason. */
    assert_non_null(strstr(en, ">emr-db: a routine step for the system officer — connect usb-a"));
    assert_null(strstr(en, ">emr-db: ask the system officer to see to it<"));
    free(en);
    free(ja);
    json_decref(j);
}

/* A drill that failed restored nothing to time: no time shown, and its
 * target not said to be passed. */
static void test_failed_drill_not_timed(void **state)
{
    (void)state;
    json_t *j = fixture(), *scans = json_array_get(json_object_get(j, "datasets"), 1);
    json_t *dr = json_object_get(scans, "last_drill");
    json_object_set_new(dr, "outcome", json_string("failed"));
    json_object_set_new(dr, "seconds", json_real(0.4));
    char *en = render(j, false);
    assert_non_null(strstr(en, "<td>-</td><td data-rto-met=\"\">1 h 00 min: not measured (the "
                               "drill failed)</td>"));
    assert_null(strstr(en, "OVER the target"));
    free(en);
    json_decref(j);
}

/* usb-b plugged in for its copy, overdue, not made yet: the page asks for
 * the copy, not to bring it from home nor to take it away. */
static void test_connected_for_its_copy(void **state)
{
    (void)state;
    json_t *j = fixture();
    json_object_set_new(j, "connected",
                        json_pack("[{s:s, s:s, s:s, s:b}]", "medium", "usb-b", "path", "/mnt/usb-b",
                                  "last_write", "2026-11-07T02:05:00Z", "left", 0));
    char *en = render(j, false), *ja = render(j, true);
    assert_non_null(
        strstr(en, "usb-b is connected to the backup server for its copy, not made yet"));
    assert_null(strstr(en, "Bring usb-b"));
    assert_null(strstr(en, "usb-b is still connected"));
    assert_non_null(strstr(ja, "data-waiting=\"usb-b\""));
    free(en);
    free(ja);
    json_decref(j);
}

/* A data set's newest backups show signs of ransomware: no disk is asked
 * for; each due is held, with why, until the system officer has checked. */
static void test_suspicion_holds_the_disks(void **state)
{
    (void)state;
    json_t *j = fixture(), *emr = json_array_get(json_object_get(j, "datasets"), 0);
    json_object_set_new(emr, "suspicious", json_integer(21));
    json_object_set_new(emr, "verdict", json_string("AT RISK"));
    char *en = render(j, false), *ja = render(j, true);
    assert_null(strstr(en, "data-bring="));
    assert_non_null(strstr(en, "data-hold=\"usb-b\""));
    assert_non_null(strstr(en, "Do not bring usb-b to the backup server yet"));
    assert_non_null(strstr(en, "(emr-db:21)"));
    assert_null(strstr(ja, "data-bring="));
    assert_non_null(strstr(ja, "data-hold=\"usb-b\""));
    free(en);
    free(ja);
    /* usb-b plugged in for its copy meanwhile: it goes now, no copy. */
    json_object_set_new(j, "connected",
                        json_pack("[{s:s, s:s, s:s, s:b, s:b}]", "medium", "usb-b", "path",
                                  "/mnt/usb-b", "last_write", "2026-11-07T02:05:00Z", "left", 1,
                                  "due", 1));
    en = render(j, false);
    assert_non_null(strstr(en, "usb-b is connected to the backup server: ask the system officer "
                               "to unmount it now"));
    assert_non_null(strstr(en, "umount /mnt/usb-b</code> now (no copy to it while emr-db:21"));
    assert_null(strstr(en, "data-waiting="));
    assert_null(strstr(en, "data-rotate="));
    assert_null(strstr(en, "Do not bring usb-b"));
    free(en);
    json_decref(j);
}

/* The key drill as the status judges it: one with an older split's sheets
 * is said (it does not count, the old sheets are still kept), and a drill
 * due because the sheets were split again names the new split. */
static void test_key_drill_split(void **state)
{
    (void)state;
    json_t *j = fixture(), *kd = json_object_get(j, "key_drill");
    json_object_set_new(kd, "old_split", json_string("2026-11-20T10:00:00Z"));
    json_object_set_new(kd, "new_split", json_string("2026-11-18T10:00:00Z"));
    char *t = render(j, false);
    assert_non_null(strstr(t, "data-key-drill=\"old-split\""));
    assert_non_null(strstr(t, "with share sheets of an older split than the newest"));
    assert_non_null(strstr(t, "opening an off-line copy with the new key sheets, split again on"));
    assert_int_equal(count_of(t, "<li class=\"cmd\" data-key-drill"), 1);
    free(t);
    t = render(j, true);
    assert_null(strstr(t, "older split"));
    assert_null(strstr(t, "split again"));
    free(t);
    /* Not due, but the old split's drill still said, and its command. */
    json_object_set_new(kd, "due", json_false());
    t = render(j, false);
    assert_non_null(strstr(t, "data-key-drill=\"old-split\""));
    assert_null(strstr(t, "split again on"));
    assert_int_equal(count_of(t, "<li class=\"cmd\" data-key-drill"), 1);
    free(t);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_self_contained),
        cmocka_unit_test(test_content),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_one_step_one_line),
        cmocka_unit_test(test_nothing_due),
        cmocka_unit_test(test_online_not_carried),
        cmocka_unit_test(test_compliant_routine_task),
        cmocka_unit_test(test_failed_drill_not_timed),
        cmocka_unit_test(test_connected_for_its_copy),
        cmocka_unit_test(test_suspicion_holds_the_disks),
        cmocka_unit_test(test_key_drill_split),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
