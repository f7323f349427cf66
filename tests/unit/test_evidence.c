/*
 * The evidence report for checklist item 3-② (bkp/report/evidence.h), from an
 * evidence JSON built by hand in the shape `bkp audit report --json` gives
 * (bkp/cli/cmd_report.c): two data sets, rotations ok and failed with their
 * sequence numbers, one off-line gap within the limit and one beyond it,
 * drills ok and failed, verifications, an intact audit chain.
 *
 *  - rb_evidence_statement: the answer is true only when every part holds;
 *    each part's ok flag turns false with exactly its own evidence (fewer
 *    than three generations; an off-line gap beyond offline_max_age, or no
 *    off-line rotation; too few copies, media types or off-site copies; no
 *    runbook or an invalid one; no successful drill; a broken audit chain)
 *    and no other part's; the evidence names the records (#seq) it rests on.
 *  - The media part answers the guideline's two kinds of media and one copy
 *    off-site, not a weaker rule_321; evidence of a year (many rotations)
 *    keeps every part, valid UTF-8, and cites each data set's newest rotation.
 *  - rb_evidence_render: the whole report in Japanese and English Markdown
 *    and English HTML, byte for byte against tests/golden/evidence.*.
 *
 * To regenerate after an intended change: BKP_UPDATE_GOLDEN=1 ./test_evidence,
 * then read the diff of tests/golden/ before committing it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libintl.h>

#include "bkp/report/evidence.h"
#include "restore/runbook_doc.h"

#include "catalogue.h"
#include "golden.h"
#define golden(name, text) golden_check("test_evidence", name, text)
#define DAY 86400

/* ---- the evidence, read as bkp reads it (its codec) and judged ---- */

static rb_evidence read_evidence(json_t *j)
{
    rb_evidence ev;
    assert_int_equal(rb_evidence_parse(j, &ev), 0);
    assert_true(rb_evidence_judge(&ev));
    return ev;
}

/* The statement of evidence `j`, as `bkp audit report --json` writes it. */
static json_t *statement_of(json_t *j)
{
    rb_evidence ev = read_evidence(j);
    json_t *all = rb_evidence_json(&ev), *st = json_incref(json_object_get(all, "statement"));
    assert_non_null(st);
    json_decref(all);
    rb_evidence_clear(&ev);
    return st;
}

static char *render_of(json_t *j, rb_format f, bool ja)
{
    rb_evidence ev = read_evidence(j);
    char *t = rb_evidence_render(&ev, f, ja);
    rb_evidence_clear(&ev);
    return t;
}

/* ---- the evidence, as `bkp audit report --json` gathers it ---- */

/* A rotation to `medium`: the policy keeps every medium off-line but "nas". */
static json_t *rotation(int seq, const char *time, const char *medium, bool ok)
{
    json_t *r = json_pack("{s:i, s:s, s:s, s:s}", "seq", seq, "time", time, "outcome",
                          ok ? "ok" : "failed", "medium", medium);
    assert_non_null(r);
    if (strcmp(medium, "nas"))
        json_object_set_new(r, "offline", json_true());
    if (!ok)
        json_object_set_new(r, "error", json_string("see the messages of bkp rotate"));
    return r;
}

static json_t *drill(int seq, const char *time, const char *runbook, bool ok, double seconds,
                     int failed_step, json_int_t target)
{
    json_t *d = json_pack("{s:i, s:s, s:s, s:s, s:s, s:f, s:I, s:b, s:i, s:i}", "seq", seq, "time",
                          time, "outcome", ok ? "ok" : "failed", "generation", "emr-db:41",
                          "runbook", runbook, "seconds", seconds, "rto_target_seconds", target,
                          "rto_met", 1, "failed_step", failed_step, "not_rehearsed", 4);
    assert_non_null(d);
    if (!ok)
        json_object_set_new(d, "error", json_string("step 9 (check) failed"));
    return d;
}

static json_t *brief_rec(int seq, const char *time, bool ok, const char *gen)
{
    json_t *r = json_pack("{s:i, s:s, s:s, s:s?}", "seq", seq, "time", time, "outcome",
                          ok ? "ok" : "failed", "generation", gen);
    assert_non_null(r);
    return r;
}

/*
 * Two data sets over January 2025 (offline_max_age 8 days):
 *  emr-db: rotations #12 usb-a ok, #15 usb-b failed, #16 usb-b ok, #20 tape ok;
 *          longest off-line gap 7.0 days; drills #18 failed, #22 ok; 4 of 5
 *          backups ok; 7 generations; 4 copies on 3 media types, 1 off-site.
 *  scans:  one rotation #13 usb-a ok, then none: the gap is 13.0 days, beyond
 *          the limit; drill #23 ok (no target time); 3 generations; of two
 *          backups one was suspicious.
 * Texts carry what each format must escape: a table bar, <, &, quotes.
 */
/* The members of `src` into `dst`; `src` released. */
static void merge(json_t *dst, json_t *src)
{
    assert_int_equal(json_object_update(dst, src), 0);
    json_decref(src);
}

static json_t *fixed_evidence(void)
{
    json_t *emr = json_pack(
        "{s:s, s:s, s:i, s:{s:I, s:I, s:I, s:o}, s:I, s:s, s:[], s:{s:i, s:i, s:i, s:i, s:i},"
        " s:{s:i, s:i, s:i, s:i}, s:o, s:I, s:b, s:I, s:o, s:{s:s, s:s, s:s, s:I, s:I}, s:o}",
        "dataset", "emr-db", "description", "電子カルテ DB <本院> & \"分院\"", "priority", 1,
        "backups", "ok", (json_int_t)4, "failed", (json_int_t)1, "suspicious", (json_int_t)0,
        "records",
        json_pack("[o, o, o, o, o]", brief_rec(11, "2025-01-06T02:00:04Z", true, "emr-db:38"),
                  brief_rec(14, "2025-01-13T02:00:05Z", false, "emr-db:39"),
                  brief_rec(17, "2025-01-14T02:00:03Z", true, "emr-db:39"),
                  brief_rec(19, "2025-01-20T02:00:04Z", true, "emr-db:40"),
                  brief_rec(21, "2025-01-27T02:00:06Z", true, "emr-db:41")),
        "generations_kept", (json_int_t)7, "verdict", "COMPLIANT", "reasons", "counted", "copies",
        4, "media_types", 3, "offline", 2, "offsite", 1, "immutable", 3, "required", "copies", 3,
        "media_types", 2, "offline", 1, "offsite", 1, "rotations",
        json_pack("[o, o, o, o, o, o]", rotation(12, "2025-01-06T09:00:00Z", "usb-a", true),
                  rotation(15, "2025-01-13T09:00:00Z", "usb-b", false),
                  rotation(16, "2025-01-13T09:30:00Z", "usb-b", true),
                  rotation(19, "2025-01-20T02:10:00Z", "nas", true),
                  rotation(20, "2025-01-20T09:30:00Z", "tape", true),
                  rotation(21, "2025-01-27T02:10:00Z", "nas", true)),
        "offline_longest_gap_seconds", (json_int_t)(7 * DAY), "offline_gap_ok", 1,
        "offline_max_age_seconds", (json_int_t)(8 * DAY), "drills",
        json_pack("[o, o]", drill(18, "2025-01-15T10:00:00Z", "emr-db", false, 692.3, 9, 14400),
                  drill(22, "2025-01-22T10:00:00Z", "emr-db", true, 754.2, 0, 14400)),
        "runbook", "name", "emr-db", "file", "/etc/bkp/runbooks/emr-db.yaml", "title",
        "電子カルテDB | 復旧手順", "steps", (json_int_t)10, "rto_seconds", (json_int_t)14400,
        "copies_on_media",
        json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:b, s:b}]", "medium", "cloud", "type", "object",
                  "proven", "2025-01-20T09:00:00Z", "medium", "usb-a", "type", "removable",
                  "offline", 1, "offsite", 1));
    assert_non_null(emr);
    json_t *scans = json_pack(
        "{s:s, s:s, s:i, s:{s:I, s:I, s:I, s:o}, s:I, s:s, s:[s], s:{s:i, s:i, s:i, s:i, s:i},"
        " s:{s:i, s:i, s:i, s:i}, s:o, s:I, s:b, s:I, s:o, s:{s:s, s:s, s:s, s:I, s:I}}",
        "dataset", "scans", "description", "", "priority", 2, "backups", "ok", (json_int_t)1,
        "failed", (json_int_t)0, "suspicious", (json_int_t)1, "records",
        json_pack("[o, o]", brief_rec(10, "2025-01-05T03:00:00Z", true, "scans:7"),
                  brief_rec(24, "2025-01-28T03:00:00Z", true, "scans:8")),
        "generations_kept", (json_int_t)3, "verdict", "AT RISK", "reasons",
        "the newest off-line copy is 13 days old (the rule allows 8 days)", "counted", "copies", 3,
        "media_types", 2, "offline", 1, "offsite", 1, "immutable", 1, "required", "copies", 3,
        "media_types", 2, "offline", 1, "offsite", 1, "rotations",
        json_pack("[o]", rotation(13, "2025-01-06T10:00:00Z", "usb-a", true)),
        "offline_longest_gap_seconds", (json_int_t)(13 * DAY), "offline_gap_ok", 0,
        "offline_max_age_seconds", (json_int_t)(8 * DAY), "drills",
        json_pack("[o]", drill(23, "2025-01-22T11:00:00Z", "scans", true, 12.34, 0, 0)), "runbook",
        "name", "scans", "file", "/etc/bkp/runbooks/scans.yaml", "title", "スキャン文書 復旧手順",
        "steps", (json_int_t)4, "rto_seconds", (json_int_t)0);
    assert_non_null(scans);
    /* The nights of their schedules: emr-db's all made; two of scans' not. */
    merge(json_object_get(emr, "backups"),
          json_pack("{s:i, s:i, s:[]}", "scheduled", 4, "missed", 0, "missed_slots"));
    merge(json_object_get(scans, "backups"),
          json_pack("{s:i, s:i, s:[s, s]}", "scheduled", 24, "missed", 2, "missed_slots",
                    "2025-01-11T18:00:00Z", "2025-01-12T18:00:00Z"));
    json_t *ev = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:b, s:I, s:s}, s:[o, o], s:[o, o]}", "repository",
        "/var/lib/bkp/repo", "repository_id", "3f2a9c1e-0d4b-4e5f-8a7b-6c5d4e3f2a1b", "period",
        "from", "2025-01-01T00:00:00Z", "to", "2025-01-31T23:59:59Z", "generated",
        "2025-01-31T12:00:00Z", "audit", "ok", 1, "records", (json_int_t)24, "problem", "",
        "verifications", brief_rec(19, "2025-01-20T04:00:00Z", true, "emr-db:40"),
        brief_rec(25, "2025-01-29T04:00:00Z", false, "scans:8"), "datasets", emr, scans);
    assert_non_null(ev);
    return ev;
}

static json_t *dataset(json_t *ev, size_t i)
{
    json_t *d = json_array_get(json_object_get(ev, "datasets"), i);
    assert_non_null(d);
    return d;
}

/* The same evidence with scans' off-line copy renewed in time: every part holds. */
static json_t *all_hold(void)
{
    json_t *ev = fixed_evidence(), *s = dataset(ev, 1);
    json_array_append_new(json_object_get(s, "rotations"),
                          rotation(26, "2025-01-13T10:00:00Z", "usb-a", true));
    json_object_set_new(s, "offline_longest_gap_seconds", json_integer(7 * DAY));
    json_object_set_new(s, "offline_gap_ok", json_true());
    return ev;
}

static const char *const PARTS[] = {"generations", "offline",   "immutable", "media", "offsite",
                                    "rule",        "procedure", "drill",     "audit"};
#define NPARTS (sizeof(PARTS) / sizeof(*PARTS))

static json_t *part_of(json_t *st, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(st, "parts"), i, p)
    {
        const char *n = json_string_value(json_object_get(p, "part"));
        if (n && !strcmp(n, name))
            return p;
    }
    return NULL;
}

static const char *evidence_of(json_t *st, const char *name, const char *lang)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(part_of(st, name), "evidence"), lang));
    return s ? s : "";
}

/* The statement of `ev` (which is freed) must answer false with exactly the
 * part `bad` not met, or answer true when `bad` is NULL. */
static void judge(json_t *ev, const char *bad, const char *why)
{
    json_t *st = statement_of(ev);
    bool fine = true;
    assert_non_null(st);
    if (json_array_size(json_object_get(st, "parts")) != NPARTS) {
        print_error("%s: the statement has %zu part(s), not %zu\n", why,
                    json_array_size(json_object_get(st, "parts")), NPARTS);
        fine = false;
    }
    for (size_t i = 0; i < NPARTS; i++) {
        json_t *p = part_of(st, PARTS[i]);
        bool want = !bad || strcmp(bad, PARTS[i]);
        if (!p) {
            print_error("%s: no part %s in the statement\n", why, PARTS[i]);
            fine = false;
        } else if (json_is_true(json_object_get(p, "ok")) != want) {
            print_error("%s: part %s should be %s, is %s (evidence: %s)\n", why, PARTS[i],
                        want ? "met" : "not met", want ? "not met" : "met",
                        evidence_of(st, PARTS[i], "en"));
            fine = false;
        }
    }
    if (json_is_true(json_object_get(st, "answer")) != !bad) {
        print_error("%s: the answer should be %s\n", why, bad ? "false" : "true");
        fine = false;
    }
    json_decref(st);
    json_decref(ev);
    assert_true(fine);
}

/* ---- the statement ---- */

static void test_all_hold(void **state)
{
    (void)state;
    judge(all_hold(), NULL, "every part holds");
}

static void test_fixed_offline_beyond(void **state)
{
    (void)state;
    /* The fixed evidence: scans went 13 days without an off-line copy. */
    json_t *ev = fixed_evidence();
    json_t *st = statement_of(ev);
    assert_false(json_is_true(json_object_get(st, "answer")));
    const char *en = evidence_of(st, "offline", "en"), *ja = evidence_of(st, "offline", "ja");
    assert_non_null(
        strstr(en, "emr-db: longest time without a fresh off-line copy 7.0 days (at most 8)"));
    assert_non_null(
        strstr(en, "scans: longest time without a fresh off-line copy 13.0 days (at most 8)"));
    assert_non_null(strstr(ja, "scans: オフライン複製の最長間隔 13.0 日（上限 8 日）"));
    json_decref(st);
    judge(ev, "offline", "scans' gap of 13 days beyond 8");
}

/* Every copy on a hard disk: the two kinds hold (the server's own disk is
 * one), and the row says what the checklist's example is. */
static void test_media_all_disks(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_t *copies = json_object_get(dataset(ev, 0), "copies_on_media");
    json_array_remove(copies, 0); /* the bucket */
    json_t *st = statement_of(ev);
    assert_true(json_is_true(json_object_get(part_of(st, "media"), "ok")));
    assert_non_null(strstr(evidence_of(st, "media", "en"),
                           "Every copy is on a hard disk: the checklist's example of two kinds "
                           "is disk and tape"));
    assert_non_null(strstr(evidence_of(st, "media", "ja"), "ディスクとテープ"));
    json_decref(st);
    json_decref(ev);
    /* With the bucket, no such word. */
    ev = all_hold();
    st = statement_of(ev);
    assert_null(strstr(evidence_of(st, "media", "en"), "Every copy is on a hard disk"));
    json_decref(st);
    json_decref(ev);
}

/* How the disk's last rotation left its files, where the status said. */
static void test_immutable_files(void **state)
{
    (void)state;
    for (int set = 0; set < 2; set++) {
        json_t *ev = all_hold();
        json_t *usb = json_array_get(json_object_get(dataset(ev, 0), "copies_on_media"), 1);
        json_object_set_new(usb, "immutable_files", json_boolean(set));
        json_t *st = statement_of(ev);
        const char *en = evidence_of(st, "immutable", "en");
        if (set)
            assert_non_null(strstr(en, "(usb-a: off-line, its files made immutable at its last "
                                       "rotation)"));
        else
            assert_non_null(strstr(en, "(usb-a: off-line; its files read-only by their mode"));
        json_decref(st);
        json_decref(ev);
    }
}

static void test_generations(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(dataset(ev, 1), "generations_kept", json_integer(2));
    judge(ev, "generations", "scans keeps 2 generations");
    ev = all_hold();
    json_object_set_new(dataset(ev, 0), "generations_kept", json_integer(0));
    judge(ev, "generations", "emr-db keeps none");
    ev = all_hold(); /* three is enough (scans keeps exactly 3) */
    judge(ev, NULL, "three generations");
}

static void test_offline(void **state)
{
    (void)state;
    /* A gap just beyond the limit, as cmd_report judges it (gap > max). */
    json_t *ev = all_hold();
    json_object_set_new(dataset(ev, 0), "offline_longest_gap_seconds", json_integer(8 * DAY + 1));
    json_object_set_new(dataset(ev, 0), "offline_gap_ok", json_false());
    judge(ev, "offline", "emr-db's gap one second beyond 8 days");
    /* Exactly at the limit is within it. */
    ev = all_hold();
    json_object_set_new(dataset(ev, 0), "offline_longest_gap_seconds", json_integer(8 * DAY));
    judge(ev, NULL, "emr-db's gap of exactly 8 days");
    /* No off-line rotation at all (only a failed one): cmd_report says not ok. */
    ev = all_hold();
    json_t *s = dataset(ev, 1);
    json_object_set_new(s, "rotations",
                        json_pack("[o]", rotation(13, "2025-01-06T10:00:00Z", "usb-a", false)));
    json_object_set_new(s, "offline_longest_gap_seconds", json_integer(30 * DAY + DAY - 1));
    json_object_set_new(s, "offline_gap_ok", json_false());
    json_t *st = statement_of(ev);
    const char *en = evidence_of(st, "offline", "en"), *ja = evidence_of(st, "offline", "ja");
    if (!strstr(en, "scans: longest time without a fresh off-line copy 31.0 days (at most 8); "
                    "rotations none to an off-line medium in the period") ||
        strstr(en, "#13") || !strstr(ja, "ローテーション記録 期間内にオフライン媒体へのものなし")) {
        print_error("without a successful rotation the evidence should say so and cite no failed "
                    "one:\n  en: %s\n  ja: %s\n",
                    en, ja);
        json_decref(st);
        json_decref(ev);
        fail();
    }
    json_decref(st);
    judge(ev, "offline", "scans has no successful off-line rotation");
    /* The checklist asks whether it is done: a disk swapped late three
     * weeks ago, fresh at the period's end, meets the part, and the lapse
     * is said beside it; still late at the end, it does not. */
    ev = all_hold();
    s = dataset(ev, 0);
    json_object_set_new(s, "offline_longest_gap_seconds", json_integer(10 * DAY + DAY / 2));
    json_object_set_new(s, "offline_gap_ok", json_false());
    json_object_set_new(s, "offline_at_end_ok", json_true());
    json_object_set_new(s, "offline_lapses", json_integer(1));
    json_object_set_new(s, "offline_longest_gap_end", json_string("2025-01-20T10:00:00Z"));
    st = statement_of(ev);
    en = evidence_of(st, "offline", "en");
    ja = evidence_of(st, "offline", "ja");
    if (!strstr(en, "emr-db: an off-line copy within 8 days at the period's end; in the period it "
                    "was older 1 time(s), the longest 10.5 days, until 2025-01-20") ||
        !strstr(ja, "最長 10.5 日")) {
        print_error("a lapse that ended should be said beside the part met:\n  en: %s\n  ja: %s\n",
                    en, ja);
        json_decref(st);
        json_decref(ev);
        fail();
    }
    json_decref(st);
    /* And beside the answer, in the statement. */
    char *t = render_of(ev, RB_MARKDOWN, false);
    assert_non_null(t);
    if (!strstr(t, "In the period, the off-line copy of emr-db was older than the rule's 8 days 1 "
                   "time(s), the longest 10.5 days, until 2025-01-20")) {
        print_error("the lapse should be said beside the answer:\n%s\n", t);
        free(t);
        json_decref(ev);
        fail();
    }
    free(t);
    judge(ev, NULL, "emr-db's off-line copy late once, fresh at the end");
    ev = all_hold();
    json_object_set_new(dataset(ev, 0), "offline_at_end_ok", json_false());
    judge(ev, "offline", "emr-db's off-line copy older than the rule at the end");
    /* The copies to an on-line disk (nas) are not cited as the off-line
     * copy: it is within reach of what runs on the server. */
    ev = all_hold();
    s = dataset(ev, 1);
    json_object_set_new(s, "rotations",
                        json_pack("[o, o]", rotation(13, "2025-01-06T10:00:00Z", "usb-a", true),
                                  rotation(14, "2025-01-07T02:00:00Z", "nas", true)));
    st = statement_of(ev);
    en = evidence_of(st, "offline", "en");
    if (!strstr(en, "#13 (2025-01-06, usb-a)") || strstr(en, "#14")) {
        print_error("only the off-line medium's rotation should be cited: %s\n", en);
        json_decref(st);
        json_decref(ev);
        fail();
    }
    json_decref(st);
    json_decref(ev);
    /* No rotation records at all. */
    ev = all_hold();
    json_object_set_new(dataset(ev, 0), "rotations", json_array());
    json_object_set_new(dataset(ev, 0), "offline_gap_ok", json_false());
    judge(ev, "offline", "emr-db has no rotation");
}

static void test_media(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(json_object_get(dataset(ev, 0), "counted"), "media_types", json_integer(1));
    judge(ev, "media", "emr-db on one media type");
    ev = all_hold();
    json_object_set_new(json_object_get(dataset(ev, 1), "counted"), "offsite", json_integer(0));
    judge(ev, "offsite", "scans with no copy off-site");
    ev = all_hold();
    json_object_set_new(json_object_get(dataset(ev, 1), "counted"), "immutable", json_integer(0));
    judge(ev, "immutable", "scans with no copy that cannot be edited");
    ev = all_hold();
    json_object_set_new(json_object_get(dataset(ev, 1), "counted"), "copies", json_integer(2));
    judge(ev, "media", "scans with two copies");
    ev = all_hold(); /* a stricter rule than the copies meet */
    json_object_set_new(json_object_get(dataset(ev, 0), "required"), "media_types",
                        json_integer(4));
    judge(ev, "media", "emr-db: the rule asks for 4 media types");
}

/* The part's title says what the guideline asks (two kinds of media, one
 * off-site: Q3, Q4 of docs/checklist-3-2.md). A policy whose rule_321 asks
 * for less (one media type, nothing off-site) does not make that true: the
 * copies on one kind of media, none off-site, do not meet it. */
static void test_media_rule_weaker_than_guideline(void **state)
{
    (void)state;
    for (int offsite = 0; offsite < 2; offsite++) {
        json_t *ev = all_hold();
        for (size_t i = 0; i < 2; i++) {
            json_object_set_new(dataset(ev, i), "counted",
                                json_pack("{s:i, s:i, s:i, s:i, s:i}", "copies", 3, "media_types",
                                          offsite ? 2 : 1, "offline", 1, "offsite", offsite ? 0 : 1,
                                          "immutable", 1));
            json_object_set_new(dataset(ev, i), "required",
                                json_pack("{s:i, s:i, s:i, s:i}", "copies", 3, "media_types", 1,
                                          "offline", 1, "offsite", 0));
        }
        judge(ev, offsite ? "offsite" : "media",
              offsite ? "nothing off-site, under a rule that asks no more"
                      : "one media type, under a rule that asks no more");
    }
}

static void test_procedure(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(dataset(ev, 1), "runbook", json_null());
    json_t *st = statement_of(ev);
    assert_non_null(strstr(evidence_of(st, "procedure", "en"), "scans: no valid runbook"));
    assert_non_null(strstr(evidence_of(st, "procedure", "ja"), "scans: 有効な手順書なし"));
    assert_non_null(strstr(evidence_of(st, "procedure", "en"),
                           "emr-db: runbook emr-db \"電子カルテDB | 復旧手順\" (10 steps)"));
    json_decref(st);
    judge(ev, "procedure", "scans has no runbook");
    ev = all_hold();
    json_object_set_new(dataset(ev, 0), "runbook",
                        json_pack("{s:s, s:b}", "name", "emr-db", "invalid", 1));
    judge(ev, "procedure", "emr-db's runbook does not load");
}

static void test_drill(void **state)
{
    (void)state;
    /* Only the failed drill #18 left for emr-db. */
    json_t *ev = all_hold();
    json_array_remove(json_object_get(dataset(ev, 0), "drills"), 1);
    json_t *st = statement_of(ev);
    const char *en = evidence_of(st, "drill", "en");
    assert_non_null(strstr(en, "emr-db: no successful drill in the period"));
    assert_null(strstr(en, "#18"));
    assert_non_null(strstr(evidence_of(st, "drill", "ja"), "emr-db: 期間内に成功した訓練なし"));
    json_decref(st);
    judge(ev, "drill", "emr-db's only drill failed");
    ev = all_hold();
    json_object_set_new(dataset(ev, 1), "drills", json_array());
    judge(ev, "drill", "scans was not drilled");
    ev = all_hold();
    json_object_del(dataset(ev, 1), "drills");
    judge(ev, "drill", "scans without a drills list");
    /* An unattended drill confirms the restore, said for what it is: nobody
     * followed the written steps. */
    ev = all_hold();
    json_object_set_new(json_array_get(json_object_get(dataset(ev, 1), "drills"), 0), "kind",
                        json_string("unattended"));
    st = statement_of(ev);
    en = evidence_of(st, "drill", "en");
    assert_non_null(strstr(en, "scans: drill #23 (2025-01-22, unattended) succeeded in 12.3 s (bkp "
                               "restored and checked the data; in this drill nobody followed the "
                               "written steps"));
    assert_true(strstr(en, "nobody followed") > strstr(en, "scans:")); /* emr-db's attended */
    assert_non_null(strstr(evidence_of(st, "drill", "ja"), "書かれた手順を人は行っていません"));
    json_decref(st);
    json_decref(ev);
    /* With the staff it failed (#18), unattended it succeeded (#22): the
     * failed one is not hidden behind the other. */
    ev = all_hold();
    json_object_set_new(json_array_get(json_object_get(dataset(ev, 0), "drills"), 1), "kind",
                        json_string("unattended"));
    st = statement_of(ev);
    en = evidence_of(st, "drill", "en");
    assert_non_null(strstr(en,
                           "emr-db: drill #22 (2025-01-22, unattended) succeeded in 754.2 s (in "
                           "this drill nobody followed the written steps; the last drill with "
                           "the staff, #18 of 2025-01-15, did not confirm the procedure)"));
    assert_non_null(strstr(evidence_of(st, "drill", "ja"), "職員との最後の訓練 #18（2025-01-15）"));
    json_decref(st);
    json_decref(ev);
}

/* A drill confirms the procedure only when it restored the data set by the
 * data set's own runbook, undamaged, within the runbook's target time: the
 * newest successful drill of emr-db (#22) spoilt in each way in turn, with
 * the failed #18 beside it. */
static void test_drill_conditions(void **state)
{
    (void)state;
    static const char *const why[] = {"over its target time", "with damaged files",
                                      "of another runbook", "without a generation restored"};
    for (size_t w = 0; w < sizeof(why) / sizeof(*why); w++) {
        json_t *ev = all_hold(), *d = json_array_get(json_object_get(dataset(ev, 0), "drills"), 1);
        switch (w) {
        case 0:
            json_object_set_new(d, "rto_met", json_false());
            break;
        case 1:
            json_object_set_new(d, "damaged", json_integer(2));
            break;
        case 2:
            json_object_set_new(d, "runbook", json_string("scans"));
            break;
        case 3:
            json_object_del(d, "generation");
            break;
        }
        char what[96];
        snprintf(what, sizeof(what), "emr-db's only successful drill was %s", why[w]);
        judge(ev, "drill", what);
    }
    /* A runbook without a target time: any successful drill is within it. */
    json_t *ev = all_hold();
    judge(ev, NULL, "scans' drill #23 has no target time");
}

/* A document written before "immutable", "offsite" and "rule" were parts
 * of their own: those rows say not judged, with no "Not met" beside them. */
static void test_old_statement(void **state)
{
    (void)state;
    json_t *gathered = all_hold();
    rb_evidence ev = read_evidence(gathered);
    json_t *j = rb_evidence_json(&ev);
    rb_evidence_clear(&ev);
    json_decref(gathered);
    json_t *parts = json_object_get(json_object_get(j, "statement"), "parts");
    for (size_t i = json_array_size(parts); i-- > 0;) {
        const char *name = json_string_value(json_object_get(json_array_get(parts, i), "part"));
        if (!strcmp(name, "immutable") || !strcmp(name, "offsite") || !strcmp(name, "rule"))
            json_array_remove(parts, i);
    }
    rb_evidence old;
    assert_int_equal(rb_evidence_parse(j, &old), 0); /* read as it is: not judged again */
    char *t = rb_evidence_render(&old, RB_MARKDOWN, false);
    assert_non_null(t);
    assert_non_null(strstr(t, "| One copy is kept off-site | not judged |  |"));
    assert_null(strstr(t, "Not met — One copy is kept off-site"));
    free(t);
    rb_evidence_clear(&old);
    json_decref(j);
}

/* A data set NON-COMPLIANT now does not meet the rule's part, whatever it
 * counts (the media part judges the copies and their kinds alone). */
static void test_media_verdict(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(dataset(ev, 1), "verdict", json_string("NON-COMPLIANT"));
    judge(ev, "rule", "scans is NON-COMPLIANT now");
    ev = all_hold(); /* AT RISK is about age, which the off-line part judges */
    json_object_set_new(dataset(ev, 0), "verdict", json_string("AT RISK"));
    judge(ev, NULL, "emr-db is AT RISK now");
}

static void test_audit(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(
        ev, "audit",
        json_pack("{s:b, s:I, s:s}", "ok", 0, "records", (json_int_t)24, "problem",
                  "record 6 is not signed by this repository's key (edited or forged)"));
    json_t *st = statement_of(ev);
    assert_string_equal(
        evidence_of(st, "audit", "en"),
        "24 audit record(s); record 6 is not signed by this repository's key (edited or forged)");
    json_decref(st);
    /* With its code (what `bkp audit report` gives now), the problem is said
     * in each language, not the English inside the Japanese. */
    json_t *a = json_object_get(ev, "audit");
    json_object_set_new(a, "code", json_string("wrong_signature"));
    json_object_set_new(a, "detail", json_pack("{s:i}", "record", 6));
    st = statement_of(ev);
    assert_string_equal(
        evidence_of(st, "audit", "en"),
        "24 audit record(s); record 6 is not signed by this repository's key (edited or forged)");
    assert_string_equal(evidence_of(st, "audit", "ja"),
                        "監査記録 24 件、記録 6 にはこのリポジトリの鍵による署名がありません（編集"
                        "または偽造されています）");
    json_decref(st);
    judge(ev, "audit", "a record was edited");
    ev = all_hold();
    json_object_del(ev, "audit");
    judge(ev, "audit", "no audit part in the evidence");
}

/* No data set: nothing is shown, so nothing holds but the audit chain. */
static void test_no_datasets(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(ev, "datasets", json_array());
    json_t *st = statement_of(ev);
    assert_false(json_is_true(json_object_get(st, "answer")));
    for (size_t i = 0; i < NPARTS; i++) {
        json_t *p = part_of(st, PARTS[i]);
        assert_non_null(p);
        assert_int_equal(json_is_true(json_object_get(p, "ok")), !strcmp(PARTS[i], "audit"));
    }
    json_decref(st);
    json_decref(ev);
}

/* Every claim names its records: the rotations that succeeded (#12, #16, #20,
 * #13, #26), never the failed #15; the newest successful drill of each data
 * set (#22, #23), never the failed #18; with their dates and media. */
static void test_cites_records(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_t *st = statement_of(ev);
    const char *en = evidence_of(st, "offline", "en"), *ja = evidence_of(st, "offline", "ja");
    const char *want[] = {"#12 (2025-01-06, usb-a)", "#16 (2025-01-13, usb-b)",
                          "#20 (2025-01-20, tape)", "#13 (2025-01-06, usb-a)",
                          "#26 (2025-01-13, usb-a)"};
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
        if (!strstr(en, want[i]) || !strstr(ja, want[i])) {
            print_error("the off-line evidence should cite %s:\n  en: %s\n  ja: %s\n", want[i], en,
                        ja);
            fail();
        }
    }
    assert_null(strstr(en, "#15"));
    assert_null(strstr(ja, "#15"));
    /* Each rotation is cited under its own data set. */
    const char *scans = strstr(en, "scans:");
    assert_non_null(scans);
    assert_true(strstr(en, "#12 ") < scans && strstr(en, "#20 ") < scans &&
                strstr(en, "#13 ") > scans);
    en = evidence_of(st, "drill", "en");
    ja = evidence_of(st, "drill", "ja");
    assert_string_equal(en, "emr-db: drill #22 (2025-01-22, attended) succeeded in 754.2 s; "
                            "scans: drill #23 (2025-01-22, attended) succeeded in 12.3 s");
    assert_string_equal(ja, "emr-db: 訓練 #22（2025-01-22、立会いあり）成功、所要 754.2 秒。"
                            "scans: 訓練 #23（2025-01-22、立会いあり）成功、所要 12.3 秒");
    assert_string_equal(evidence_of(st, "generations", "en"),
                        "emr-db: 7 generation(s) kept; scans: 3 generation(s) kept (as of the day "
                        "this report was made)");
    assert_string_equal(evidence_of(st, "generations", "ja"),
                        "emr-db: 7 世代を保持。scans: 3 世代を保持（この報告書を作成した日の時点）");
    /* Each requirement its own row: the media named by kind (the server's
     * own disk counted, said), the non-editable ones and why, the off-site
     * ones. */
    assert_string_equal(evidence_of(st, "media", "en"),
                        "emr-db: 4 copies (at least 3) on 3 kind(s) of media (at least 2): the "
                        "server's own disk, cloud (object storage (S3)), usb-a (removable disk); "
                        "scans: 3 copies (at least 3) on 2 kind(s) of media (at least 2): the "
                        "server's own disk (as of the day this report was made; the server's own "
                        "disk counts as one kind, a disk carried away as another)");
    assert_string_equal(evidence_of(st, "immutable", "en"),
                        "emr-db: 3 non-editable (at least 1) (cloud: on-line Object Lock, "
                        "non-editable, proven on 2025-01-20) (usb-a: off-line); scans: 1 "
                        "non-editable (at least 1) (as of the day this report was made; "
                        "non-editable: copies on media kept off-line, their files read-only and "
                        "immutable where the file system allows, and buckets whose Object Lock a "
                        "test write proved (`bkp media probe`))");
    assert_string_equal(evidence_of(st, "offsite", "en"),
                        "emr-db: 1 off-site (at least 1): usb-a; scans: 1 off-site (at least 1) "
                        "(as of the day this report was made; off-site as the policy declares "
                        "each medium's location, which bkp cannot see)");
    assert_string_equal(evidence_of(st, "audit", "en"),
                        "24 audit record(s); chain and signatures intact");
    assert_string_equal(evidence_of(st, "audit", "ja"),
                        "監査記録 24 件、ハッシュ連鎖と署名に異常なし");
    json_decref(st);
    json_decref(ev);
}

/* The number of the record `seq` cited in `text` as "#seq" (not "#seqN"). */
static bool cites(const char *text, int seq)
{
    char tag[24];
    int n = snprintf(tag, sizeof(tag), "#%d", seq);
    for (const char *p = text; (p = strstr(p, tag)); p += n)
        if (p[n] < '0' || p[n] > '9')
            return true;
    return false;
}

/* A year's evidence (the period an inspection asks about): three data sets
 * with weekly rotations to two disks. The off-line evidence still cites the
 * newest rotation of each data set, which is what shows the copy is fresh. */
static void test_a_year(void **state)
{
    (void)state;
    json_t *ev = all_hold(), *sets = json_object_get(ev, "datasets");
    json_t *third = json_deep_copy(dataset(ev, 1));
    json_object_set_new(third, "dataset", json_string("images"));
    json_array_append_new(sets, third);
    int seq = 100, last[3];
    for (size_t k = 0; k < 3; k++) {
        json_t *rot = json_array();
        for (int w = 0; w < 52; w++) {
            char t[32];
            snprintf(t, sizeof(t), "2025-%02d-%02dT09:00:00Z", 1 + w / 5, 1 + (w % 5) * 6);
            json_array_append_new(rot, rotation(seq, t, w % 2 ? "usb-b" : "usb-a", true));
            last[k] = seq++;
        }
        json_object_set_new(dataset(ev, k), "rotations", rot);
    }
    json_t *st = statement_of(ev);
    bool fine = true;
    for (const char *lang = "en"; lang; lang = strcmp(lang, "en") ? NULL : "ja") {
        const char *text = evidence_of(st, "offline", lang);
        size_t n = strlen(text);
        for (size_t k = 0; k < 3; k++)
            if (!cites(text, last[k])) {
                print_error("a year of rotations: the off-line evidence (%s, %zu bytes) does not "
                            "cite #%d, the newest rotation of data set %zu; it ends: ...%s\n",
                            lang, n, last[k], k + 1, n > 60 ? text + n - 60 : text);
                fine = false;
            }
    }
    json_decref(st);
    json_decref(ev);
    assert_true(fine);
}

/* However long the evidence grows, no part is lost and every text stays
 * valid UTF-8 (JSON strings must be): rotations are added to emr-db until
 * its text passes any fixed buffer, with a Japanese data set after it. */
static void test_long_evidence(void **state)
{
    (void)state;
    json_t *ev = all_hold();
    json_object_set_new(dataset(ev, 1), "dataset", json_string("画像データ"));
    json_t *rot = json_object_get(dataset(ev, 0), "rotations");
    char bad[256] = "";
    for (int i = 0; i < 400; i++) {
        json_array_append_new(rot, rotation(1000 + i, "2025-01-27T09:00:00Z", "usb-a", true));
        json_t *st = statement_of(ev);
        size_t n = json_array_size(json_object_get(st, "parts"));
        if (n != NPARTS && !*bad)
            snprintf(bad, sizeof(bad),
                     "with %zu rotations the statement has %zu part(s), not %zu "
                     "(the off-line part is %s)",
                     json_array_size(rot), n, NPARTS, part_of(st, "offline") ? "there" : "missing");
        json_decref(st);
    }
    json_decref(ev);
    if (*bad) {
        print_error("%s\n", bad);
        fail();
    }
}

/* ---- the report ---- */

static void render_golden(const char *name, rb_format f, bool ja)
{
    json_t *ev = fixed_evidence();
    char *t = render_of(ev, f, ja);
    bool same = golden(name, t);
    free(t);
    json_decref(ev);
    assert_true(same);
}

static void test_render_md_ja(void **state)
{
    (void)state;
    render_golden("evidence.ja.md", RB_MARKDOWN, true);
}

static void test_render_md_en(void **state)
{
    (void)state;
    render_golden("evidence.en.md", RB_MARKDOWN, false);
}

static void test_render_html_en(void **state)
{
    (void)state;
    render_golden("evidence.en.html", RB_HTML, false);
}

/* A source down for a night, tried again at every quarter hour until it
 * answered: one failure of the night, its attempts said beside it, not
 * the headline an inspector reads. */
static void test_retries_one_failure(void **state)
{
    (void)state;
    json_t *ev = fixed_evidence();
    json_t *d = dataset(ev, 0);
    json_object_set_new(
        d, "backups",
        json_pack("{s:I, s:I, s:I, s:o}", "ok", (json_int_t)2, "failed", (json_int_t)4,
                  "suspicious", (json_int_t)0, "records",
                  json_pack("[o, o, o, o, o, o]",
                            brief_rec(11, "2025-01-06T02:00:04Z", true, "emr-db:38"),
                            brief_rec(12, "2025-01-07T02:00:04Z", false, NULL),
                            brief_rec(13, "2025-01-07T02:15:04Z", false, NULL),
                            brief_rec(14, "2025-01-07T02:30:04Z", false, NULL),
                            brief_rec(15, "2025-01-07T02:45:04Z", true, "emr-db:39"),
                            brief_rec(16, "2025-01-08T02:00:04Z", false, "emr-db:40"))));
    char *t = render_of(ev, RB_MARKDOWN, false);
    if (!strstr(t, "2 succeeded, failed on 2 day(s) (4 attempts: a failed backup is tried again "
                   "at every run), 0 suspicious")) {
        print_error("the retries should count as one failure:\n%s\n", t);
        free(t);
        json_decref(ev);
        fail();
    }
    free(t);
    json_decref(ev);
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* What the golden files show, said once more in words: the answer row and
 * the closing line agree with the statement, in both answers and languages;
 * every Markdown table row has as many cells as its header; HTML tables close. */
static void test_render_shape(void **state)
{
    (void)state;
    for (int hold = 0; hold < 2; hold++) {
        json_t *ev = hold ? all_hold() : fixed_evidence();
        char *ja = render_of(ev, RB_MARKDOWN, true);
        char *en = render_of(ev, RB_MARKDOWN, false);
        char *html = render_of(ev, RB_HTML, false);
        assert_non_null(ja);
        assert_non_null(en);
        assert_non_null(html);
        assert_non_null(strstr(ja, hold ? "| 3-② への回答 | はい |" : "| 3-② への回答 | いいえ |"));
        assert_non_null(strstr(ja, hold ? "\n回答: はい\n" : "\n回答: いいえ\n"));
        assert_non_null(
            strstr(en, hold ? "| Answer for item 3-② | yes |" : "| Answer for item 3-② | no |"));
        assert_non_null(strstr(en, hold ? "\nAnswer: yes\n" : "\nAnswer: no\n"));
        assert_non_null(strstr(html, hold ? "<td>Answer for item 3-②</td><td>yes</td>"
                                          : "<td>Answer for item 3-②</td><td>no</td>"));
        /* The statement table: six rows, the off-line one met only when all hold. */
        assert_non_null(strstr(ja, "| 要件 | 充足 | 根拠 |"));
        assert_non_null(strstr(
            ja,
            hold ? "| 1 世代以上をオフラインで保管し、期間末に基準の日数以内の複製がある | はい |"
                 : "| 1 世代以上をオフラインで保管し、期間末に基準の日数以内の複製がある | いいえ "
                   "|"));
        assert_int_equal(count(ja, "| はい |") + count(ja, "| いいえ |"),
                         NPARTS + 1); /* the parts and the answer */
        /* Markdown tables: each row has the header's number of cells. */
        const char *const texts[] = {ja, en};
        for (size_t k = 0; k < 2; k++) {
            size_t cols = 0;
            for (const char *l = texts[k]; l && *l;) {
                const char *e = strchr(l, '\n');
                size_t n = e ? (size_t)(e - l) : strlen(l);
                if (n && *l == '|') {
                    size_t bars = 0;
                    for (size_t i = 0; i < n; i++)
                        bars += l[i] == '|' && (i == 0 || l[i - 1] != '\\');
                    if (!cols)
                        cols = bars;
                    else if (bars != cols) {
                        print_error("a Markdown row has %zu cells, its table %zu: %.*s\n", bars - 1,
                                    cols - 1, (int)n, l);
                        fail();
                    }
                } else {
                    cols = 0;
                }
                l = e ? e + 1 : NULL;
            }
        }
        assert_int_equal(count(html, "<table>"), count(html, "</table>"));
        assert_int_equal(count(html, "<tr>"), count(html, "</tr>"));
        assert_int_equal(count(html, "<td>") + count(html, "<td class=\"box\">"),
                         count(html, "</td>"));
        assert_null(strstr(html, "<本院>"));
        assert_non_null(strstr(html, "&lt;本院&gt; &amp; &quot;分院&quot;"));
        assert_non_null(strstr(html, "</body></html>\n"));
        free(ja);
        free(en);
        free(html);
        json_decref(ev);
    }
}

/* The section on the key (evidence_keys.c): every key operation with its
 * time, who, result and figures — a secret-named figure never — in both
 * languages and in HTML; "none" for an empty list; nothing at all for
 * evidence gathered without the list (the golden reports above). */
static void test_key_operations(void **state)
{
    (void)state;
    json_t *ev = fixed_evidence();
    char *plain = render_of(ev, RB_MARKDOWN, false);
    assert_null(strstr(plain, "Key operations"));
    free(plain);
    json_t *ops = json_pack(
        "[{s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}, {s:i, s:s, s:s, s:s, s:s, s:s, s:{s:i, "
        "s:i}}, {s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:[i, i, i], s:i, s:i, s:s}},"
        " {s:i, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:i, s:i}}},"
        " {s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s}}]",
        "seq", 30, "time", "2025-01-10T09:00:00Z", "op", "key-export", "outcome", "ok", "user",
        "root", "host", "srv1", "figures", "format", "md", "lang", "ja", "seq", 31, "time",
        "2025-01-10T09:05:00Z", "op", "key-split", "outcome", "ok", "user", "root", "host", "srv1",
        "figures", "shares", 5, "threshold", 3, "seq", 32, "time", "2025-01-20T10:00:00Z", "op",
        "key-from", "outcome", "ok", "user", "root", "host", "new-srv", "figures", "kind", "shares",
        "shares", 1, 3, 5, "threshold", 3, "of", 5, "secret", "NEVER-SHOWN", "seq", 33, "time",
        "2025-01-20T10:01:00Z", "op", "drill", "key_recovery", 1, "outcome", "ok", "user", "root",
        "host", "new-srv", "medium", "usb-a", "figures", "runbook", "emr-db", "key_sheets", "kind",
        "shares", "threshold", 3, "of", 5, "seq", 34, "time", "2025-01-25T10:00:00Z", "op",
        "key-passwd", "outcome", "failed", "user", "root", "host", "srv1", "figures", "label",
        "事務長");
    assert_non_null(ops);
    json_object_set_new(ev, "key_operations", ops);
    char *en = render_of(ev, RB_MARKDOWN, false);
    char *ja = render_of(ev, RB_MARKDOWN, true);
    char *html = render_of(ev, RB_HTML, false);
    assert_non_null(strstr(en, "## Key operations\n"));
    assert_non_null(strstr(en,
                           "| #30 | 2025-01-10 09:00 UTC | the key printed on a paper sheet (the "
                           "same key as every sheet) | "
                           "root@srv1 | ok | format md; language ja |"));
    assert_non_null(strstr(en,
                           "| #31 | 2025-01-10 09:05 UTC | the key split into share sheets (the "
                           "same key as every sheet) | "
                           "root@srv1 | ok | share sheets 5; sheets needed 3 |"));
    assert_non_null(strstr(en, "| opened with the key sheets | root@new-srv | ok | kind share "
                               "sheets; share sheets 1,3,5; sheets needed 3; sheets made 5 |"));
    assert_non_null(strstr(en, "| key-recovery drill | root@new-srv | ok | medium usb-a; runbook "
                               "emr-db; kind share sheets; sheets needed 3; sheets made 5 |"));
    assert_non_null(strstr(en, "| a passphrase changed | root@srv1 | failed | label 事務長 |"));
    assert_null(strstr(en, "NEVER-SHOWN"));
    /* Before the statement, after the verifications. */
    assert_true(strstr(en, "## Key operations") > strstr(en, "## Verifications"));
    assert_true(strstr(en, "## Key operations") < strstr(en, "## Statement"));
    assert_non_null(strstr(ja, "## 鍵の操作\n"));
    assert_non_null(strstr(ja, "| 鍵の復旧訓練 |"));
    assert_non_null(strstr(ja, "| パスフレーズを変更 | root@srv1 | 失敗 |"));
    /* The kinds of key in the reader's words, not as recorded. */
    assert_non_null(strstr(ja, "種類 分割シート; "));
    assert_null(strstr(ja, "kind shares"));
    assert_null(strstr(ja, "NEVER-SHOWN"));
    assert_non_null(strstr(html, "<td>the key split into share sheets (the same key as every "
                                 "sheet)</td>"));
    assert_null(strstr(html, "NEVER-SHOWN"));
    free(en);
    free(ja);
    free(html);
    json_object_set_new(ev, "key_operations", json_array());
    en = render_of(ev, RB_MARKDOWN, false);
    ja = render_of(ev, RB_MARKDOWN, true);
    assert_non_null(strstr(en, "No key operation in the period."));
    assert_non_null(strstr(ja, "期間内に鍵の操作はありません。"));
    free(en);
    free(ja);
    json_decref(ev);
}

/* The record's one codec (evidence_doc.h): what it reads it writes back
 * the same, judged or not; a key operation's figures keep their integers
 * and lose a secret; what is out of shape is refused whole. */
static void test_codec(void **state)
{
    (void)state;
    json_t *j = all_hold();
    json_object_set_new(j, "key_operations",
                        json_pack("[{s:i, s:s, s:s, s:s, s:{s:i, s:[i, i], s:s, s:{s:s}}}]",
                                  "seq", 32, "time", "2025-01-20T10:00:00Z", "op", "key-from",
                                  "outcome", "ok", "figures", "threshold", 3, "shares", 1, 3,
                                  "passphrase", "NEVER", "key_sheets", "kind", "shares"));
    rb_evidence ev = read_evidence(j), back;
    json_t *out = rb_evidence_json(&ev);
    assert_non_null(out);
    assert_int_equal(rb_evidence_parse(out, &back), 0);
    json_t *again = rb_evidence_json(&back);
    assert_true(json_equal(out, again));
    json_t *fig = json_object_get(json_array_get(json_object_get(out, "key_operations"), 0),
                                  "figures");
    assert_int_equal(json_integer_value(json_object_get(fig, "threshold")), 3);
    assert_string_equal(json_string_value(json_object_get(fig, "shares")), "1,3");
    assert_string_equal(json_string_value(json_object_get(fig, "kind")), "shares");
    assert_null(json_object_get(fig, "passphrase"));
    assert_true(back.judged);
    assert_true(back.answer);
    assert_string_equal(back.parts[RB_EV_AUDIT].en,
                        "24 audit record(s); chain and signatures intact");
    json_decref(again);
    rb_evidence_clear(&back);
    rb_evidence_clear(&ev);
    /* Out of shape: each refused, nothing left behind. */
    static const char *const bad[] = {
        "[]",
        "{\"datasets\": [{\"description\": \"no name\"}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"FINE\"}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"drills\": [{\"kind\": \"remote\"}]}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"drills\": [{\"seconds\": -1}]}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"runbook\": {\"title\": \"no name\"}}]}",
        "{\"period\": {\"from\": \"2025-13-01T00:00:00Z\"}}",
        "{\"period\": {\"since_creation\": true}}",
        "{\"verifications\": [{\"seq\": -1}]}",
        "{\"statement\": {\"parts\": [{\"part\": \"luck\"}]}}",
        "{\"statement\": {\"parts\": [{\"part\": \"audit\"}, {\"part\": \"audit\"}]}}",
        "{\"audit\": {\"ok\": \"yes\"}}",
#define B(x) "{\"datasets\": [{\"dataset\": \"emr\", \"backups\": {" x "}}]}"
        /* The slots of the schedule: all three or none, as many named as kept, in order. */
        B("\"scheduled\": 31, \"missed\": 3"),
        B("\"scheduled\": 31, \"missed\": 3, \"missed_slots\": []"),
        B("\"missed\": 1, \"missed_slots\": [\"2025-01-02T02:00:00Z\"]"),
        B("\"scheduled\": 31, \"missed_slots\": []"),
        B("\"scheduled\": 2, \"missed\": 3, \"missed_slots\": []"),
        B("\"scheduled\": 0, \"missed\": 0, \"missed_slots\": []"),
        B("\"scheduled\": 31, \"missed\": 2, \"missed_slots\": [\"2025-01-03T02:00:00Z\", "
          "\"2025-01-02T02:00:00Z\"]"),
        B("\"scheduled\": 31, \"missed\": 2, \"missed_slots\": [\"2025-01-02T02:00:00Z\", "
          "\"2025-01-02T02:00:00Z\"]"),
        B("\"scheduled\": 31, \"missed\": 1, \"missed_slots\": [7]"),
#undef B
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_non_null(b);
        if (rb_evidence_parse(b, &ev) != -EBADMSG)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(ev.ndatasets, 0);
        json_decref(b);
    }
    json_decref(out);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_hold),
        cmocka_unit_test(test_fixed_offline_beyond),
        cmocka_unit_test(test_media_all_disks),
        cmocka_unit_test(test_immutable_files),
        cmocka_unit_test(test_generations),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_media),
        cmocka_unit_test(test_media_rule_weaker_than_guideline),
        cmocka_unit_test(test_media_verdict),
        cmocka_unit_test(test_old_statement),
        cmocka_unit_test(test_procedure),
        cmocka_unit_test(test_drill_conditions),
        cmocka_unit_test(test_drill),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_no_datasets),
        cmocka_unit_test(test_cites_records),
        cmocka_unit_test(test_retries_one_failure),
        cmocka_unit_test(test_a_year),
        cmocka_unit_test(test_long_evidence),
        cmocka_unit_test(test_render_md_ja),
        cmocka_unit_test(test_render_md_en),
        cmocka_unit_test(test_render_html_en),
        cmocka_unit_test(test_render_shape),
        cmocka_unit_test(test_key_operations),
        cmocka_unit_test(test_codec),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
