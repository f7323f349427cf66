/*
 * The evidence report's document (bkp/ops/report.h) from a real repository
 * in a temporary folder: the records of a period are gathered — backups
 * run, failed and suspicious, a rotation to the off-line disk, a
 * verification, a drill with its measured time, the key operations (an
 * export, a key-recovery drill) — each citing its record's number, the
 * data set's verdict taken from the status, its runbook loaded (or called
 * invalid), the audit chain checked; a period that ended before the
 * records gathers none of them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/ops/backup_record.h"
#include "bkp/ops/report.h"
#include "bkp/report/evidence.h"

#include "catalogue.h"
#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: usb-a, type: removable, path: %1$s/usb-a, location: offsite, offline: true }\n"
    "datasets:\n"
    "  - { name: emr-db, paths: [/srv/emr], schedule: daily 02:00, copy_to: [usb-a],"
    " runbook: %1$s/runbooks/emr-db.yaml }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 03:00, runbook: gone }\n";

/* The shipped runbook by its name, or a path the policy gives (the drills'
 * records name it by its stem: the report must match them); any other is
 * not there. */
static int load_runbook(void *ctx, const char *name, rb_runbook **out)
{
    char path[1024], stem[256];
    (void)ctx;
    rb_runbook_stem(name, stem, sizeof(stem));
    if (strcmp(stem, "emr-db"))
        return -ENOENT;
    snprintf(path, sizeof(path), "%s/policies/runbooks/emr-db.yaml", BKP_SOURCE_DIR);
    return rb_load(path, out);
}

static int setup(void **state)
{
    ops_repo *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(f, "ops-report", policy_text))
        return -1;
    /* Records 2 to 8 (1 is the log's creation). */
    if (ops_repo_record(f, "backup", "emr-db", false, NULL) ||
        ops_repo_record(f, "backup", "emr-db", true, NULL) ||
        ops_repo_record(f, "backup", "emr-db", true, json_pack("{s:b}", "suspicious", 1)) ||
        ops_repo_record(f, "verify", NULL, false, NULL) ||
        ops_repo_record(f, "drill", "emr-db", false,
                        json_pack("{s:s, s:f, s:i, s:b}", "runbook", "emr-db", "seconds", 95.5,
                                  "rto_target_seconds", 3600, "rto_met", 1)) ||
        ops_repo_record(f, "key-export", NULL, false, json_pack("{s:s}", "form", "paper")) ||
        ops_repo_record(
            f, "drill", "emr-db", false,
            json_pack("{s:s, s:f, s:b}", "runbook", "emr-db", "seconds", 120.0, "key_recovery", 1)))
        return -1;
    json_t *fig = json_pack("{s:[s]}", "generations", "emr-db:1");
    bkp_audit_rec rot = {.op = "rotate", .medium = "usb-a", .figures = fig};
    int rc = bkp_audit_append(f->r, &rot);
    json_decref(fig);
    if (rc)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ops_repo_free(*state);
    free(*state);
    return 0;
}

static json_t *report(ops_repo *f, time_t from, time_t to, const rst_status *status)
{
    ops_report_in in = {.repo = f->r,
                        .policy = f->p,
                        .from = from,
                        .to = to,
                        .status = status,
                        .load_runbook = load_runbook};
    rb_evidence ev;
    assert_int_equal(ops_report(&in, &ev), 0);
    json_t *j = rb_evidence_json(&ev); /* what --json prints, through the record's codec */
    assert_non_null(j);
    rb_evidence_clear(&ev);
    return j;
}

/* The status of both data sets as ops_status gives it (what the report
 * takes), through the status record's codec. */
static void status_of(const char *emr_verdict, rst_status *out)
{
    json_t *j =
        json_pack("{s:s, s:[{s:s, s:s, s:i, s:[], s:{}, s:{}}, {s:s, s:s, s:i, s:[], s:{}, "
                  "s:{}}]}",
                  "verdict", "NON-COMPLIANT", "datasets", "dataset", "emr-db", "verdict", emr_verdict, "generations", 4,
                  "reasons", "counted", "required", "dataset", "lab", "verdict", "NON-COMPLIANT",
                  "generations", 0, "reasons", "counted", "required");
    assert_int_equal(rst_status_parse(j, out), 0);
    json_decref(j);
}

static json_int_t seq_of(json_t *a, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(a, i), "seq"));
}

static void test_period_gathered(void **state)
{
    ops_repo *f = *state;
    time_t now = bkp_now();
    rst_status status;
    status_of("AT RISK", &status);
    json_t *ev = report(f, now - OPS_DAY, now + 3600, &status);
    json_t *audit = json_object_get(ev, "audit");
    assert_true(json_is_true(json_object_get(audit, "ok")));
    assert_int_equal(json_integer_value(json_object_get(audit, "records")), 9);
    json_t *emr = json_array_get(json_object_get(ev, "datasets"), 0);
    assert_string_equal(json_string_value(json_object_get(emr, "dataset")), "emr-db");
    json_t *b = json_object_get(emr, "backups");
    assert_int_equal(json_integer_value(json_object_get(b, "ok")), 1);
    assert_int_equal(json_integer_value(json_object_get(b, "failed")), 1);
    assert_int_equal(json_integer_value(json_object_get(b, "suspicious")), 1);
    assert_int_equal(seq_of(json_object_get(b, "records"), 0), 2);
    assert_string_equal(json_string_value(json_object_get(emr, "verdict")), "AT RISK");
    assert_int_equal(json_integer_value(json_object_get(emr, "generations_kept")), 4);
    json_t *rot = json_object_get(emr, "rotations");
    assert_int_equal(json_array_size(rot), 1);
    assert_int_equal(seq_of(rot, 0), 9);
    /* The off-line copy came a day into the period, within the rule's 8 days. */
    assert_true(json_is_true(json_object_get(emr, "offline_gap_ok")));
    json_t *dr = json_object_get(emr, "drills");
    assert_int_equal(json_array_size(dr), 2);
    assert_int_equal(seq_of(dr, 0), 6);
    assert_true(json_real_value(json_object_get(json_array_get(dr, 0), "seconds")) == 95.5);
    assert_string_equal(json_string_value(json_object_get(json_object_get(emr, "runbook"), "name")),
                        "emr-db");
    json_t *lab = json_array_get(json_object_get(ev, "datasets"), 1);
    assert_true(json_is_true(json_object_get(json_object_get(lab, "runbook"), "invalid")));
    assert_int_equal(json_array_size(json_object_get(json_object_get(lab, "backups"), "records")),
                     0);
    json_t *ver = json_object_get(ev, "verifications");
    assert_int_equal(json_array_size(ver), 1);
    assert_int_equal(seq_of(ver, 0), 5);
    json_t *keys = json_object_get(ev, "key_operations");
    assert_int_equal(json_array_size(keys), 2);
    assert_int_equal(seq_of(keys, 0), 7);
    assert_int_equal(seq_of(keys, 1), 8);
    assert_true(json_is_true(json_object_get(json_array_get(keys, 1), "key_recovery")));
    assert_non_null(json_object_get(ev, "statement"));
    assert_non_null(json_object_get(ev, "fingerprint"));
    json_decref(ev);
    rst_status_clear(&status);
}

/* A backup record of `ds` ending at `when` (a test build's clock), as
 * cmd_backup.c writes one: the schedule it ran under, the generation it
 * sealed (NULL: none), how long it took; `failed` as recorded (a
 * suspicious generation is sealed and recorded failed). */
static void record_at(ops_repo *f, const char *when, const char *ds, const char *schedule,
                      const char *gen, bool failed, long long ms)
{
    setenv("BKP_NOW", when, 1);
    json_t *fig = json_pack("{s:s?, s:I}", "schedule", schedule, "milliseconds", (json_int_t)ms);
    bkp_audit_rec rec = {
        .op = "backup", .dataset = ds, .generation = gen, .failed = failed, .figures = fig};
    assert_int_equal(bkp_audit_append(f->r, &rec), 0);
    json_decref(fig);
    unsetenv("BKP_NOW");
}

/* The nights its schedule asked for in the period, since the data set has
 * had that schedule, and those none took: a count of the backups made
 * cannot show them. A generation sealed and recorded failed (suspicious)
 * was made; a failed run that sealed nothing took no night; one caught up
 * in the morning took its night; a backup of 25 hours took the night it
 * began on, not the one it ended on; the last night is still within its
 * grace. A schedule changed counts from the first backup under the new
 * one; a data set never backed up under its schedule has no count. */
static void test_missed_nights(void **state)
{
    (void)state;
    if (!bkp_clock_is_test())
        skip();
    setenv("TZ", "UTC0", 1);
    tzset();
    ops_repo f;
    setenv("BKP_NOW", "2026-03-01T00:00:00Z", 1);
    assert_int_equal(ops_repo_new(&f, "ops-report-nights", policy_text), 0);
    unsetenv("BKP_NOW");
    const char *d2 = "daily 02:00", *d3 = "daily 03:00";
    record_at(&f, "2026-03-01T02:05:00Z", "emr-db", d2, "emr-db:1", false, 300000);
    record_at(&f, "2026-03-02T02:05:00Z", "emr-db", d2, "emr-db:2", true, 300000);
    record_at(&f, "2026-03-03T02:05:00Z", "emr-db", d2, NULL, true, 0);
    record_at(&f, "2026-03-04T09:10:00Z", "emr-db", d2, "emr-db:3", false, 600000);
    record_at(&f, "2026-03-06T03:00:00Z", "emr-db", d2, "emr-db:4", false, 25 * 3600000LL);
    record_at(&f, "2026-03-01T03:05:00Z", "lab", "weekly sun 03:00", "lab:1", false, 1000);
    record_at(&f, "2026-03-04T03:05:00Z", "lab", d3, "lab:2", false, 1000);
    record_at(&f, "2026-03-05T03:05:00Z", "lab", d3, "lab:3", false, 1000);
    setenv("BKP_NOW", "2026-03-07T04:00:00Z", 1);
    json_t *ev = report(&f, bkp_iso_parse("2026-02-20T00:00:00Z"), bkp_now(), NULL);
    unsetenv("BKP_NOW");
    json_t *b = json_object_get(json_array_get(json_object_get(ev, "datasets"), 0), "backups");
    assert_int_equal(json_integer_value(json_object_get(b, "scheduled")), 6);
    assert_int_equal(json_integer_value(json_object_get(b, "missed")), 2);
    json_t *slots = json_object_get(b, "missed_slots");
    assert_string_equal(json_string_value(json_array_get(slots, 0)), "2026-03-03T02:00:00Z");
    assert_string_equal(json_string_value(json_array_get(slots, 1)), "2026-03-06T02:00:00Z");
    json_t *lab = json_object_get(json_array_get(json_object_get(ev, "datasets"), 1), "backups");
    assert_int_equal(json_integer_value(json_object_get(lab, "scheduled")), 3);
    assert_int_equal(json_integer_value(json_object_get(lab, "missed")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(lab, "missed_slots"), 0)),
                        "2026-03-06T03:00:00Z");
    /* Read back through the codec, as a saved document is. */
    rb_evidence back;
    assert_int_equal(rb_evidence_parse(ev, &back), 0);
    assert_true(back.datasets[0].has_slots);
    assert_int_equal(back.datasets[0].slots_missed, 2);
    assert_int_equal(back.datasets[0].nmissed, 2);
    rb_evidence_clear(&back);
    json_decref(ev);
    /* A backup without the policy (no schedule named) starts the count
     * again: nothing under the schedule since, no count. */
    record_at(&f, "2026-03-07T05:00:00Z", "lab", NULL, "lab:4", false, 1000);
    setenv("BKP_NOW", "2026-03-07T06:00:00Z", 1);
    ev = report(&f, bkp_iso_parse("2026-02-20T00:00:00Z"), bkp_now(), NULL);
    unsetenv("BKP_NOW");
    lab = json_object_get(json_array_get(json_object_get(ev, "datasets"), 1), "backups");
    assert_null(json_object_get(lab, "scheduled"));
    json_decref(ev);
    /* The generations held at the end of a period that ended before the
     * report: sealed up to then (the suspicious one too, recorded failed),
     * less those a prune up to then deleted; what came after is not. */
    setenv("BKP_NOW", "2026-03-07T07:00:00Z", 1);
    /* The prune's record of a generation before its tombstone, then its
     * summary naming it again: deleted once. */
    bkp_audit_rec one = {.op = "prune-generation", .dataset = "emr-db", .generation = "emr-db:1"};
    assert_int_equal(bkp_audit_append(f.r, &one), 0);
    json_t *gone = json_pack("{s:[s, s]}", "generations_deleted", "emr-db:1", "lab:1");
    bkp_audit_rec prune = {.op = "prune", .figures = gone};
    assert_int_equal(bkp_audit_append(f.r, &prune), 0);
    json_decref(gone);
    char *log = bkp_audit_path(f.r);
    bkp_audit_entry last;
    assert_true(bkp_audit_last(log, bkp_repo_sign_pk(f.r),
                               &(bkp_audit_query){"prune", NULL, NULL, NULL}, &last));
    uint64_t prune_seq = last.seq;
    assert_true(prune_seq > 1);
    bkp_audit_entry_release(&last);
    free(log);
    /* A prune that failed lists what it meant to delete: nothing deleted. */
    setenv("BKP_NOW", "2026-03-07T08:00:00Z", 1);
    gone = json_pack("{s:[s]}", "generations_deleted", "emr-db:2");
    prune = (bkp_audit_rec){.op = "prune", .failed = true, .figures = gone};
    assert_int_equal(bkp_audit_append(f.r, &prune), 0);
    json_decref(gone);
    record_at(&f, "2026-03-09T02:05:00Z", "emr-db", d2, "emr-db:5", false, 1000);
    /* The clock set back: a backup dated in the period, written after one
     * past it, is not counted for it (the log's order). */
    record_at(&f, "2026-03-05T02:05:00Z", "emr-db", d2, "emr-db:6", false, 1000);
    setenv("BKP_NOW", "2026-03-10T00:00:00Z", 1);
    ev = report(&f, bkp_iso_parse("2026-03-01T00:00:00Z"), bkp_iso_parse("2026-03-07T06:30:00Z"),
                NULL);
    json_t *emr = json_array_get(json_object_get(ev, "datasets"), 0);
    assert_int_equal(json_integer_value(json_object_get(emr, "generations_at_end")), 4);
    json_decref(ev);
    ev = report(&f, bkp_iso_parse("2026-03-01T00:00:00Z"), bkp_iso_parse("2026-03-07T23:59:59Z"),
                NULL);
    emr = json_array_get(json_object_get(ev, "datasets"), 0);
    assert_int_equal(json_integer_value(json_object_get(emr, "generations_at_end")), 3);
    /* The last record that changed them: the one before the tombstone. */
    assert_int_equal(json_integer_value(json_object_get(emr, "generations_at_end_record")),
                     (json_int_t)prune_seq - 1);
    lab = json_array_get(json_object_get(ev, "datasets"), 1);
    assert_int_equal(json_integer_value(json_object_get(lab, "generations_at_end")), 3);
    const char *part = json_string_value(json_object_get(
        json_object_get(
            json_array_get(json_object_get(json_object_get(ev, "statement"), "parts"), 0),
            "evidence"),
        "en"));
    assert_non_null(part);
    assert_non_null(strstr(part, "emr-db: 3 generation(s) held (backup and prune records up to #"));
    assert_non_null(strstr(part, "(at the period's end, 2026-03-07 23:59"));
    json_decref(ev);
    unsetenv("BKP_NOW");
    ops_repo_free(&f);
}

/* A period that ended before the repository was made: nothing of it can be
 * said, and today's state is not given for it (-ENODATA, no document). */
static void test_period_before_records(void **state)
{
    ops_repo *f = *state;
    time_t now = bkp_now();
    rst_status status;
    status_of("COMPLIANT", &status);
    ops_report_in in = {.repo = f->r,
                        .policy = f->p,
                        .from = now - 10 * OPS_DAY,
                        .to = now - 5 * OPS_DAY,
                        .status = &status,
                        .load_runbook = load_runbook};
    rb_evidence ev;
    assert_int_equal(ops_report(&in, &ev), -ENODATA);
    assert_int_equal(ev.ndatasets, 0);
    assert_null(ev.repository);
    rst_status_clear(&status);
}

/* A restore by the runbook that people attended is listed beside the
 * drills as a recovery and confirms the procedure as an attended drill
 * does; a restore by hand (no runbook named), or by the runbook with
 * nobody attending, is not listed. */
static void test_restore_by_runbook(void **state)
{
    ops_repo *f = *state;
    time_t now = bkp_now();
    bkp_audit_rec hand = {.op = "restore",
                          .dataset = "emr-db",
                          .generation = "emr-db:1",
                          .figures = json_pack("{s:i}", "files", 3)};
    assert_int_equal(bkp_audit_append(f->r, &hand), 0);
    json_decref(hand.figures);
    bkp_audit_rec real = {.op = "restore",
                          .dataset = "emr-db",
                          .generation = "emr-db:1",
                          .figures =
                              json_pack("{s:s, s:b, s:f, s:i, s:b, s:b}", "runbook", "emr-db",
                                        "drill", 0, "seconds", 40.0, "rto_target_seconds", 3600,
                                        "rto_met", 1, "attended", 1)};
    assert_int_equal(bkp_audit_append(f->r, &real), 0);
    json_decref(real.figures);
    /* By the runbook, nobody attending (a script's): not listed. */
    bkp_audit_rec script = {.op = "restore",
                            .dataset = "emr-db",
                            .generation = "emr-db:1",
                            .figures =
                                json_pack("{s:s, s:b, s:f, s:i, s:b, s:b}", "runbook", "emr-db",
                                          "drill", 0, "seconds", 30.0, "rto_target_seconds", 3600,
                                          "rto_met", 1, "attended", 0)};
    assert_int_equal(bkp_audit_append(f->r, &script), 0);
    json_decref(script.figures);
    rst_status status;
    test_bind_catalogue();
    status_of("COMPLIANT", &status);
    ops_report_in in = {.repo = f->r,
                        .policy = f->p,
                        .from = now - OPS_DAY,
                        .to = now + 3600,
                        .status = &status,
                        .load_runbook = load_runbook};
    rb_evidence ev;
    assert_int_equal(ops_report(&in, &ev), 0);
    const rb_ev_dataset *d = &ev.datasets[0];
    assert_string_equal(d->name, "emr-db");
    assert_int_equal(d->ndrills, 3); /* the two drills of setup, then the attended restore */
    const rb_ev_drill *r = &d->drills[2];
    assert_int_equal(r->kind, RB_EV_RECOVERY);
    assert_int_equal(r->e.seq, 11); /* not 10, the restore by hand */
    /* It confirms emr-db's procedure, named as what it was (lab has no
     * drill: the part is not met for the whole). */
    assert_true(rb_evidence_judge(&ev));
    const rb_ev_part *part = &ev.parts[RB_EV_DRILL];
    assert_true(strstr(part->en, "emr-db: the restore by runbook #11 (") &&
                strstr(part->en, ", attended, not a drill) succeeded in 40.0 s"));
    assert_non_null(strstr(part->ja, "emr-db: 手順書による復元 #11（"));
    /* Through the document's codec, as --json writes it and a reader reads it. */
    json_t *j = rb_evidence_json(&ev);
    json_t *dr = json_object_get(json_array_get(json_object_get(j, "datasets"), 0), "drills");
    assert_string_equal(json_string_value(json_object_get(json_array_get(dr, 2), "kind")),
                        "recovery");
    rb_evidence back;
    assert_int_equal(rb_evidence_parse(j, &back), 0);
    assert_int_equal(back.datasets[0].drills[2].kind, RB_EV_RECOVERY);
    rb_evidence_clear(&back);
    json_decref(j);
    rb_evidence_clear(&ev);
    rst_status_clear(&status);
}

/* A backup's record as the program writes it, read back as the status and
 * the report read it; a record without those figures reads as unsaid. */
static void test_backup_record(void **state)
{
    (void)state;
    bkp_gen g = {.uuid = "c0a57de8-f4c8-496e-a38e-a5bfba630036"};
    bkp_capture_stats st = {.files = 3, .bytes = 100};
    bkp_hook_result hr = {.exit_code = 0, .seconds = 1.5};
    ops_backup_figures f = {.schedule = "daily 02:00",
                            .gen = &g,
                            .stats = &st,
                            .seconds = 90.4,
                            .suspicious = true,
                            .stream = &hr};
    bkp_audit_rec rec = {0};
    ops_backup_rec(&f, &rec);
    assert_string_equal(rec.op, "backup");
    assert_non_null(rec.figures);
    bkp_audit_entry e = {.op = "backup", .time = 1764000000, .figures = rec.figures};
    assert_true(ops_backup_suspicious(&e));
    assert_string_equal(ops_backup_schedule(&e), "daily 02:00");
    assert_int_equal(ops_backup_began(&e), 1764000000 - 90);
    assert_int_equal(json_integer_value(json_object_get(rec.figures, "files")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(rec.figures, "stream"), "milliseconds")),
        1500);
    json_decref(rec.figures);
    /* Nothing sealed, no schedule: no figures of a capture. */
    ops_backup_rec(&(ops_backup_figures){.stats = &st}, &rec);
    e.figures = rec.figures;
    assert_int_equal(json_object_size(rec.figures), 0);
    assert_false(ops_backup_suspicious(&e));
    assert_null(ops_backup_schedule(&e));
    assert_int_equal(ops_backup_began(&e), 1764000000);
    json_decref(rec.figures);
}

/* An evidence report's record as `audit report -o` writes it, read back as
 * `audit check` reads it. */
static void test_report_record(void **state)
{
    (void)state;
    bkp_audit_rec rec;
    ops_report_rec("/srv/ev\\1.md", "ab", 1764000000, 1766592000, true, &rec);
    assert_string_equal(rec.op, "report");
    assert_non_null(rec.figures);
    bkp_audit_entry e = {.op = "report", .figures = rec.figures};
    time_t from, to;
    bool answer;
    assert_true(ops_report_rec_read(&e, &from, &to, &answer));
    assert_int_equal(from, 1764000000);
    assert_int_equal(to, 1766592000);
    assert_true(answer);
    assert_true(bkp_audit_names_report(&e, "ab", NULL));
    assert_true(bkp_audit_names_report(&e, NULL, "ev\\1.md"));
    e.op = "drill";
    assert_false(ops_report_rec_read(&e, &from, &to, &answer));
    json_decref(rec.figures);
}

/* Sheets of an older split than the last before their use: a key-from or a
 * key-recovery drill that took one is marked with that split's record
 * (the rule the status keeps, bkp_audit_sheets_older), a split before the
 * period counted; sheets of the last split are not. The report says so in
 * words, and its codec keeps it. */
static void test_sheets_of_older_split(void **state)
{
    ops_repo *f = *state;
    time_t now = bkp_now();
    char before[32];
    snprintf(before, sizeof(before), "%lld", (long long)(now - 3 * OPS_DAY));
    setenv("BKP_NOW", before, 1);
    json_t *sums = json_pack("{s:[sss]}", "sums", "AAAAAAAA", "BBBBBBBB", "CCCCCCCC");
    bkp_audit_rec split = {.op = "key-split", .figures = sums};
    assert_int_equal(bkp_audit_append(f->r, &split), 0); /* #10, before the period */
    json_decref(sums);
    unsetenv("BKP_NOW");
    assert_int_equal(ops_repo_record(f, "key-from", NULL, false,
                                     json_pack("{s:s, s:[ss]}", "kind", "shares", "sums",
                                               "AAAAAAAA", "ZZZZZZZZ")),
                     0); /* #11: an older split's */
    assert_int_equal(
        ops_repo_record(f, "drill", "emr-db", false,
                        json_pack("{s:s, s:b, s:{s:[ss]}}", "runbook", "emr-db", "key_recovery", 1,
                                  "key_sheets", "sums", "AAAAAAAA", "CCCCCCCC")),
        0); /* #12: the last split's */
    assert_int_equal(ops_repo_record(f, "key-split", NULL, false,
                                     json_pack("{s:[ss]}", "sums", "PPPPPPPP", "QQQQQQQQ")),
                     0); /* #13 */
    assert_int_equal(
        ops_repo_record(f, "drill", "emr-db", false,
                        json_pack("{s:s, s:b, s:{s:[ss]}}", "runbook", "emr-db", "key_recovery", 1,
                                  "key_sheets", "sums", "AAAAAAAA", "CCCCCCCC")),
        0); /* #14: #10's, older than #13 */
    rst_status status;
    test_bind_catalogue();
    status_of("COMPLIANT", &status);
    ops_report_in in = {.repo = f->r,
                        .policy = f->p,
                        .from = now - OPS_DAY,
                        .to = now + 3600,
                        .status = &status,
                        .load_runbook = load_runbook};
    rb_evidence ev;
    assert_int_equal(ops_report(&in, &ev), 0);
    uint64_t older[16] = {0};
    for (size_t i = 0; i < ev.nkey_ops; i++)
        if (ev.key_ops[i].e.seq < 16)
            older[ev.key_ops[i].e.seq] = ev.key_ops[i].older_split;
    assert_int_equal(older[11], 10);
    assert_int_equal(older[12], 0);
    assert_int_equal(older[13], 0);
    assert_int_equal(older[14], 13);
    assert_int_equal(older[8], 0); /* setup's drill names no sheets: not judged */
    json_t *j = rb_evidence_json(&ev);
    rb_evidence back;
    assert_int_equal(rb_evidence_parse(j, &back), 0);
    assert_int_equal(back.nkey_ops, ev.nkey_ops);
    for (size_t i = 0; i < ev.nkey_ops; i++)
        assert_int_equal(back.key_ops[i].older_split, ev.key_ops[i].older_split);
    char *en = rb_evidence_render(&back, RB_MARKDOWN, false);
    assert_non_null(strstr(en, "ok, with sheets of a split older than #10: enough of the old "
                               "sheets are still kept |"));
    assert_non_null(strstr(en, "older than #13: enough of the old sheets are still kept, and the "
                               "new ones were not rehearsed; not counted"));
    free(en);
    rb_evidence_clear(&back);
    json_decref(j);
    rb_evidence_clear(&ev);
    rst_status_clear(&status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_period_gathered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_before_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_by_runbook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sheets_of_older_split, setup, teardown),
        cmocka_unit_test(test_missed_nights),
        cmocka_unit_test(test_backup_record),
        cmocka_unit_test(test_report_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
