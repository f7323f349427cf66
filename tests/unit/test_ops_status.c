/*
 * The status record (bkp/ops/status.h, bkp/report/status_doc.h) of a real repository in a
 * temporary folder: emr holds three generations, one of them on an off-line,
 * off-site disk written yesterday, and a drill record; lab has none. Then
 * the verdicts (emr COMPLIANT, lab NON-COMPLIANT, the worst NON-COMPLIANT),
 * the ages (the last backup a day old, the off-line copy two), the copies
 * on media, the last drill with what it measured, and the whole document
 * (the audit log checked and sound, a key-recovery drill due, the disk's
 * next rotation). An off-line copy older than the rule allows puts emr AT
 * RISK; a medium whose last check failed does not count; a generation
 * sealed as suspicious keeps emr AT RISK until it is cleared.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bkp/ops/status.h"

#include "bkp/ops/storage.h"

#include "ops_repo.h"

static const char policy_text[] =
    "repository: %1$s/repo\n"
    "passphrase_file: /etc/bkp/passphrase\n"
    "media:\n"
    "  - { name: usb-a, type: removable, path: %1$s/usb-a, location: offsite, offline: true,"
    " rotate_every: 7d }\n"
    "datasets:\n"
    /* emr's generations are sealed whole days before the real now, not at
     * the slots of a schedule, which would then be missed: it has none. */
    "  - { name: emr, paths: [/srv/emr], copy_to: [usb-a], runbook: emr }\n"
    "  - { name: lab, paths: [/srv/lab], schedule: daily 03:00, copy_to: [usb-a] }\n"
    "drills:\n"
    "  - { runbook: /etc/bkp/runbooks/monthly.yaml, schedule: monthly 1 05:00 }\n"
    "  - { runbook: weekly, schedule: weekly sun 05:00 }\n";

typedef struct fixture {
    ops_repo f;
    bkp_gen *g[3];
    pol_medium_state st[1];
    ops_status_in in;
} fixture;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    if (!x || ops_repo_new(&x->f, "ops-status", policy_text))
        return -1;
    for (int i = 0; i < 3; i++)
        if (ops_repo_seal(&x->f, "emr", (time_t)(3 - i) * OPS_DAY, &x->g[i]))
            return -1;
    /* emr:2, captured two days ago, went to usb-a yesterday. */
    if (ops_repo_register(&x->f, "usb-a", "removable", "offsite", x->g[1], OPS_DAY, true) ||
        ops_repo_record(&x->f, "drill", "emr", false,
                        json_pack("{s:s, s:f, s:i, s:b}", "runbook", "emr", "seconds", 42.5,
                                  "rto_target_seconds", 3600, "rto_met", 1)))
        return -1;
    x->st[0] = (pol_medium_state){.medium = &x->f.p->media[0], .last_write = bkp_now() - OPS_DAY};
    x->in = (ops_status_in){.repo = x->f.r, .policy = x->f.p, .states = x->st};
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fixture *x = *state;
    for (int i = 0; i < 3; i++)
        bkp_gen_free(x->g[i]);
    ops_repo_free(&x->f);
    free(x);
    return 0;
}

static const rst_dataset *dataset(const rst_status *s, const char *name)
{
    for (size_t i = 0; i < s->ndatasets; i++)
        if (!strcmp(s->datasets[i].name, name))
            return &s->datasets[i];
    fail_msg("no data set %s", name);
    return NULL;
}

/* The age of time `t` in days, to a minute. */
static void assert_days_old(time_t t, double days)
{
    double age = (double)(bkp_now() - t) / OPS_DAY;
    assert_true(age >= days - 0.001 && age <= days + 0.001);
}

static void test_verdicts_and_ages(void **state)
{
    fixture *x = *state;
    rst_status st;
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_int_equal(st.verdict, POL_NON_COMPLIANT);
    assert_int_equal(st.ndatasets, 2);
    const rst_dataset *emr = dataset(&st, "emr"), *lab = dataset(&st, "lab");
    assert_int_equal(emr->verdict, POL_COMPLIANT);
    assert_int_equal(emr->generations, 3);
    assert_days_old(emr->last_backup, 1);
    assert_true(emr->offline_age >= 2 * OPS_DAY && emr->offline_age <= 2 * OPS_DAY + 60);
    assert_int_equal(emr->counted.copies, 3);
    assert_int_equal(emr->counted.offline, 1);
    assert_int_equal(emr->ncopies, 1);
    assert_string_equal(emr->copies[0].medium, "usb-a");
    assert_int_equal(emr->copies[0].seq, 2);
    assert_true(emr->copies[0].non_editable);
    assert_days_old(emr->copies[0].captured, 2);
    const rst_drill *dr = &emr->last_drill;
    assert_string_equal(dr->when.outcome, "ok");
    assert_true(dr->seconds == 42.5);
    assert_int_equal(dr->rto_met, RST_YES);
    assert_int_equal(dr->attended, RST_UNSAID); /* not in the record */
    assert_string_equal(dr->runbook, "emr");
    assert_int_equal(emr->last_verify.time, 0);
    assert_false(emr->has_shown); /* asked for programs only */
    assert_int_equal(lab->verdict, POL_NON_COMPLIANT);
    assert_int_equal(lab->generations, 0);
    assert_int_equal(lab->last_backup, 0);
    assert_int_equal(lab->last_drill.when.time, 0);
    assert_true(lab->en.nreasons > 0);
    assert_true(lab->ja.nreasons == lab->en.nreasons);
    /* As `--json` writes it: null for what is not there. */
    json_t *j = rst_status_json(&st);
    json_t *jl = json_array_get(json_object_get(j, "datasets"), 1);
    assert_string_equal(json_string_value(json_object_get(jl, "dataset")), "lab");
    assert_true(json_is_null(json_object_get(jl, "last_backup")));
    assert_true(json_is_null(json_object_get(jl, "last_drill")));
    assert_null(json_object_get(jl, "shown"));
    json_decref(j);
    rst_status_clear(&st);
}

/* A generation the change-rate guard marked: emr is AT RISK, the step is to
 * check and clear it, whatever was sealed after it; cleared, it is fine. */
/* One data set drilled by two runbooks: the weekly one's success since
 * does not hide the monthly one's failure; the monthly one's own success
 * ends it, and the newest drill is shown again. A runbook the policy no
 * longer names (a draft, renamed) leaves no failure behind. */
static void test_drill_failure_of_another_runbook(void **state)
{
    fixture *x = *state;
    rst_status st;
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", true,
                                     json_pack("{s:s, s:f}", "runbook", "monthly", "seconds", 3.0)),
                     0);
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", false,
                                     json_pack("{s:s, s:f, s:b}", "runbook", "weekly", "seconds",
                                               9.0, "attended", 1)),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    const rst_drill *dr = &dataset(&st, "emr")->last_drill;
    assert_string_equal(dr->when.outcome, "failed");
    assert_string_equal(dr->runbook, "monthly");
    /* The weekly one, attended, is not hidden by the failure shown. */
    const rst_drill *att = &dataset(&st, "emr")->last_attended;
    assert_string_equal(att->runbook, "weekly");
    assert_string_equal(att->when.outcome, "ok");
    rst_status_clear(&st);
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", false,
                                     json_pack("{s:s, s:f}", "runbook", "monthly", "seconds", 5.0)),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    dr = &dataset(&st, "emr")->last_drill;
    assert_string_equal(dr->when.outcome, "ok");
    assert_string_equal(dr->runbook, "monthly");
    assert_true(dr->seconds == 5.0);
    rst_status_clear(&st);
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", true,
                                     json_pack("{s:s, s:f}", "runbook", "draft", "seconds", 1.0)),
                     0);
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", false,
                                     json_pack("{s:s, s:f}", "runbook", "emr", "seconds", 2.0)),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    dr = &dataset(&st, "emr")->last_drill;
    assert_string_equal(dr->when.outcome, "ok");
    assert_string_equal(dr->runbook, "emr");
    rst_status_clear(&st);
}

/* A scheduled drill that could not start, its runbook unread and named
 * only by `drills:`, is filed under no data set: every data set shows it
 * until that runbook's next record, wherever that one is filed. */
static void test_drill_unstarted_of_no_dataset(void **state)
{
    fixture *x = *state;
    rst_status st;
    assert_int_equal(ops_repo_record(&x->f, "drill", NULL, true,
                                     json_pack("{s:s, s:b, s:b}", "runbook", "monthly", "drill", 1,
                                               "unstarted", 1)),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    for (int i = 0; i < 2; i++) {
        const rst_drill *dr = &dataset(&st, i ? "lab" : "emr")->last_drill;
        assert_string_equal(dr->when.outcome, "failed");
        assert_string_equal(dr->runbook, "monthly");
    }
    rst_status_clear(&st);
    /* Mended, it ran for emr: the failure is gone from both. */
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", false,
                                     json_pack("{s:s, s:f}", "runbook", "monthly", "seconds", 4.0)),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_string_equal(dataset(&st, "emr")->last_drill.when.outcome, "ok");
    assert_string_equal(dataset(&st, "emr")->last_drill.runbook, "monthly");
    assert_int_equal(dataset(&st, "lab")->last_drill.when.time, 0);
    rst_status_clear(&st);
    /* emr's drills of that runbook are emr's alone from then on. */
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", true,
                                     json_pack("{s:s, s:f}", "runbook", "monthly", "seconds", 2.0)),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_string_equal(dataset(&st, "emr")->last_drill.when.outcome, "failed");
    assert_int_equal(dataset(&st, "lab")->last_drill.when.time, 0);
    rst_status_clear(&st);
}

/* A rotation's record for `medium` (ok or failed), with the serial of the
 * key list it left there (0: not said, as records before it). */
static void rotated_with(fixture *x, const char *medium, bool failed, int serial)
{
    json_t *fig = serial ? json_pack("{s:i}", "keys_serial", serial) : NULL;
    bkp_audit_rec rec = {.op = "rotate", .medium = medium, .failed = failed, .figures = fig};
    assert_int_equal(bkp_audit_append(x->f.r, &rec), 0);
    json_decref(fig);
}

static void rotated(fixture *x, const char *medium, bool failed)
{
    rotated_with(x, medium, failed, 0);
}

/* A key change after a disk's last rotation: the disk opens with the
 * passphrases of before until its next one, and the status says which;
 * by the log's order, so that a rotation in the second of the change
 * counts as after it, and a failed one does not. */
static void test_keys_behind(void **state)
{
    fixture *x = *state;
    rst_status st;
    rotated(x, "usb-a", false);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_int_equal(st.key_changed, 0);
    assert_false(st.media[0].keys_behind);
    rst_status_clear(&st);
    assert_int_equal(ops_repo_record(&x->f, "key-remove", NULL, false,
                                     json_pack("{s:s, s:s, s:I}", "slot", "6fae0123456789ab",
                                               "kind", "passphrase", "serial", (json_int_t)3)),
                     0);
    rotated(x, "usb-a", true);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_true(st.key_changed > 0);
    assert_true(st.media[0].keys_behind);
    json_t *j = rst_status_json(&st);
    rst_status back;
    assert_int_equal(rst_status_parse(j, &back), 0);
    assert_true(back.media[0].keys_behind);
    assert_int_equal(back.key_changed, st.key_changed);
    json_decref(j);
    rst_status_clear(&back);
    rst_status_clear(&st);
    rotated(x, "usb-a", false); /* the same second as the change */
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_false(st.media[0].keys_behind);
    rst_status_clear(&st);
    /* A rotation that opened the disk before a change and ended after it:
     * the list it left (2) is older than the change's (3), whatever the
     * order of the records. */
    rotated_with(x, "usb-a", false, 2);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_true(st.media[0].keys_behind);
    rst_status_clear(&st);
    rotated_with(x, "usb-a", false, 3);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_false(st.media[0].keys_behind);
    rst_status_clear(&st);
}

/* A key-recovery drill with share sheets of an older split than the last
 * does not count, and is said; one with the new split's sheets does. */
static void test_key_drill_old_split(void **state)
{
    fixture *x = *state;
    rst_status st;
    assert_int_equal(ops_repo_record(&x->f, "key-split", NULL, false,
                                     json_pack("{s:[sssss]}", "sums", "AAAAAAAA", "BBBBBBBB",
                                               "CCCCCCCC", "DDDDDDDD", "EEEEEEEE")),
                     0);
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", false,
                                     json_pack("{s:s, s:b, s:{s:s, s:[sss]}}", "runbook", "emr",
                                               "key_recovery", 1, "key_sheets", "kind", "shares",
                                               "sums", "AAAAAAAA", "ZZZZZZZZ", "CCCCCCCC")),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_int_equal(st.key_drill.last, 0);
    assert_true(st.key_drill.old_split > 0);
    json_t *j = rst_status_json(&st);
    rst_status back;
    assert_int_equal(rst_status_parse(j, &back), 0);
    assert_int_equal(back.key_drill.old_split, st.key_drill.old_split);
    json_decref(j);
    rst_status_clear(&back);
    rst_status_clear(&st);
    assert_int_equal(ops_repo_record(&x->f, "drill", "emr", false,
                                     json_pack("{s:s, s:b, s:{s:s, s:[sss]}}", "runbook", "emr",
                                               "key_recovery", 1, "key_sheets", "kind", "shares",
                                               "sums", "EEEEEEEE", "BBBBBBBB", "CCCCCCCC")),
                     0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_true(st.key_drill.last > 0);
    assert_int_equal(st.key_drill.old_split, 0);
    assert_int_equal(st.key_drill.new_split, 0);
    assert_false(st.key_drill.due);
    rst_status_clear(&st);
    /* Split again after it: the new sheets are not rehearsed, a drill is due. */
    assert_int_equal(
        ops_repo_record(&x->f, "key-split", NULL, false,
                        json_pack("{s:[sss]}", "sums", "FFFFFFFF", "GGGGGGGG", "HHHHHHHH")),
        0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_true(st.key_drill.new_split > 0);
    assert_true(st.key_drill.due);
    rst_status_clear(&st);
}

static void test_suspicious_until_cleared(void **state)
{
    fixture *x = *state;
    rst_status st;
    bkp_gen *g = NULL, *after = NULL;
    bkp_gen_guard guard = {.suspicious = true, .reason = "90% of the files changed", .change = 0.9};
    assert_int_equal(ops_repo_seal_guarded(&x->f, "emr", OPS_DAY / 2, &guard, &g), 0);
    assert_int_equal(ops_repo_seal(&x->f, "emr", OPS_DAY / 4, &after), 0); /* a good night */
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    const rst_dataset *emr = dataset(&st, "emr");
    assert_int_equal(emr->verdict, POL_AT_RISK);
    assert_string_equal(emr->en.reasons[0],
                        "emr:4 was sealed as suspicious and nobody has cleared it");
    assert_non_null(strstr(rst_next(&emr->en), "bkp generations --clear-suspicious emr:4"));
    rst_status_clear(&st);
    assert_int_equal(bkp_gen_clear(x->f.r, g), 0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    assert_int_equal(dataset(&st, "emr")->verdict, POL_COMPLIANT);
    rst_status_clear(&st);
    bkp_gen_free(g);
    bkp_gen_free(after);
}

static int set_bytes(bkp_media_entry *e, void *ctx)
{
    e->bytes = *(const uint64_t *)ctx;
    return 0;
}

static void test_document(void **state)
{
    fixture *x = *state;
    ops_status_log log;
    rst_status st;
    /* What usb-a held after its last rotation, as the rotation notes it. */
    const uint64_t held = 123456789;
    assert_int_equal(bkp_media_update(x->f.r, "usb-a", set_bytes, (void *)&held), 0);
    assert_int_equal(ops_status(&x->in, &st, &log), 0);
    assert_int_equal(ops_status_doc(&x->in, &st, &log), 0);
    assert_int_equal(st.verdict, POL_NON_COMPLIANT);
    assert_int_equal(st.nmedia, 1);
    assert_string_equal(st.media[0].medium, "usb-a");
    assert_int_equal(st.media[0].type, POL_REMOVABLE);
    assert_int_equal(st.media[0].bytes, held);
    assert_days_old(st.media[0].written, 1);
    assert_true(st.audit.ok);
    assert_int_equal(st.audit.records, 2); /* init, drill */
    assert_int_equal(st.audit.why.code, BKP_AUDIT_SOUND);
    /* Never held, on the repository's first day: not due yet (it is, once
     * key_drill_every has passed since the creation). */
    assert_false(st.key_drill.due);
    assert_int_equal(st.key_drill.last, 0);
    log.created -= x->in.policy->key_drill_every + 1;
    rst_key_drill later = ops_key_drill_status(&log, x->in.policy);
    assert_true(later.due);
    /* usb-a, written yesterday every seven days: done then (the calendar's
     * row of the last week), and it comes back in six. */
    assert_true(st.nrotations >= 2);
    assert_string_equal(st.rotations[0].medium, "usb-a");
    assert_true(st.rotations[0].done);
    assert_days_old(st.rotations[0].when, 1);
    assert_string_equal(st.rotations[1].medium, "usb-a");
    assert_false(st.rotations[1].done);
    assert_days_old(st.rotations[1].when, -6);
    assert_days_old(st.generated, 0);
    /* What a copy needs: the packs and the rest; emr's newest generation
     * holds the one file of 15 bytes, its three generations 45. */
    assert_true(st.has_storage);
    assert_true(st.storage.packs > 0 && st.storage.packs < st.storage.stored);
    assert_int_equal(st.storage.newest, 15);
    assert_int_equal(st.storage.kept, 45);
    assert_int_equal(st.storage.generations, 3);
    assert_int_equal(st.storage.datasets, 1);
    /* The JSON: "done" only on a turn done, the audit's code. */
    json_t *j = rst_status_json(&st);
    json_t *turns = json_object_get(j, "rotations");
    assert_true(json_is_true(json_object_get(json_array_get(turns, 0), "done")));
    assert_null(json_object_get(json_array_get(turns, 1), "done"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "audit"), "code")),
                        "");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "storage"), "newest")),
                     15);
    json_t *m = json_array_get(json_object_get(j, "media"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "medium")), "usb-a");
    assert_int_equal(json_integer_value(json_object_get(m, "bytes")), held);
    json_decref(j);
    rst_status_clear(&st);
}

/* The bytes of the files below `top`/`sub` ("" for `top` itself). */
static uint64_t folder_bytes(const char *top, const char *sub)
{
    char cmd[512], out[64] = "";
    snprintf(cmd, sizeof(cmd),
             "find '%s/%s' -type f -printf '%%s\\n' | awk '{s += $1} END {print s + 0}'", top, sub);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof(out), p));
    pclose(p);
    return strtoull(out, NULL, 10);
}

/* The packs counted are the packs folder's bytes; this host's cache and
 * locks are not carried by a copy and not counted. */
static void test_storage(void **state)
{
    fixture *x = *state;
    const char *repo = x->f.repo;
    rst_storage s = {0};
    char big[256];
    bkp_gen **v = NULL;
    size_t n = 0;
    assert_int_equal(bkp_gen_list(x->f.r, NULL, &v, &n), 0);
    ops_storage_count(&s, v, n);
    bkp_gen_list_free(v, n);
    assert_int_equal(s.newest, 15);
    assert_int_equal(ops_storage_files(x->f.r, &s), 0);
    assert_int_equal(s.packs, folder_bytes(repo, "packs"));
    assert_int_equal(s.stored, folder_bytes(repo, "") - folder_bytes(repo, "cache") -
                                   folder_bytes(repo, "locks"));
    uint64_t before = s.stored;
    snprintf(big, sizeof(big), "%s/cache/big", repo);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    assert_int_equal(fseek(f, 1 << 20, SEEK_SET), 0);
    assert_int_equal(fputc('x', f), 'x');
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ops_storage_files(x->f.r, &s), 0);
    assert_int_equal(s.stored, before);
    assert_true(rst_storage_ratio(&s) > 1); /* 15 bytes of files take packs, records, keys */
}

static void test_offline_copy_too_old(void **state)
{
    fixture *x = *state;
    rst_status st;
    /* usb-a still holds emr:1, captured three days ago, written just after;
     * the rule allows two. */
    x->f.p->rule.offline_max_age = 2 * OPS_DAY;
    assert_int_equal(
        ops_repo_register(&x->f, "usb-a", "removable", "offsite", x->g[0], OPS_DAY, true), 0);
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    const rst_dataset *emr = dataset(&st, "emr");
    assert_int_equal(emr->verdict, POL_AT_RISK);
    assert_true(emr->offline_age >= 3 * OPS_DAY && emr->offline_age <= 3 * OPS_DAY + 60);
    rst_status_clear(&st);
}

static void test_failed_check_does_not_count(void **state)
{
    fixture *x = *state;
    rst_status st;
    assert_int_equal(
        ops_repo_register(&x->f, "usb-a", "removable", "offsite", x->g[1], OPS_DAY, false), 0);
    x->in.shown = true;
    assert_int_equal(ops_status(&x->in, &st, NULL), 0);
    const rst_dataset *emr = dataset(&st, "emr");
    assert_int_equal(emr->verdict, POL_NON_COMPLIANT);
    assert_int_equal(emr->ncopies, 0);
    assert_int_equal(emr->counted.copies, 2);
    assert_true(emr->has_shown);
    assert_true(emr->shown.nreasons > 0);
    rst_status_clear(&st);
}

/* Lines appended to the log without the key — a failed backup's record
 * without its outcome (which crashed status once), and a drill that never
 * ran — are not the sound log: status neither crashes on them nor believes
 * them, and its "audit" part says the log does not check. */
static void test_forged_records_not_believed(void **state)
{
    fixture *x = *state;
    rst_status st;
    char *log = bkp_audit_path(x->f.r);
    FILE *fp = fopen(log, "a");
    assert_non_null(fp);
    fputs("{\"op\":\"backup\",\"dataset\":\"lab\",\"error\":\"x\"}\n", fp);
    fputs("{\"op\":\"drill\",\"dataset\":\"lab\",\"time\":\"2026-01-01T00:00:00Z\","
          "\"outcome\":\"ok\"}\n",
          fp);
    assert_int_equal(fclose(fp), 0);
    free(log);
    ops_status_log found;
    assert_int_equal(ops_status(&x->in, &st, &found), 0);
    const rst_dataset *lab = dataset(&st, "lab");
    assert_int_equal(lab->last_drill.when.time, 0);
    assert_int_equal(lab->last_backup_run.time, 0);
    const rst_dataset *emr = dataset(&st, "emr"); /* what the sound log says is kept */
    assert_string_equal(emr->last_drill.when.outcome, "ok");
    assert_int_equal(ops_status_doc(&x->in, &st, &found), 0);
    assert_false(st.audit.ok);
    /* The first line without the key has no time: its code and place. */
    assert_int_equal(st.audit.why.code, BKP_AUDIT_NOT_RECORD);
    assert_int_equal(st.audit.why.at, 3);
    assert_string_equal(st.audit.problem, "record 3 is not an audit record (no op or time)");
    json_t *j = rst_status_json(&st), *a = json_object_get(j, "audit");
    assert_string_equal(json_string_value(json_object_get(a, "code")), "not_a_record");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "detail"), "record")),
                     3);
    json_decref(j);
    rst_status_clear(&st);
}

/* The codec: what it writes it reads back the same, and it refuses a
 * member of the wrong type, an unknown verdict or a time bkp never writes. */
static void test_codec_round_trip(void **state)
{
    fixture *x = *state;
    ops_status_log log;
    rst_status st, back;
    x->in.shown = true;
    assert_int_equal(ops_status(&x->in, &st, &log), 0);
    assert_int_equal(ops_status_doc(&x->in, &st, &log), 0);
    json_t *j = rst_status_json(&st);
    assert_non_null(j);
    assert_int_equal(rst_status_parse(j, &back), 0);
    json_t *again = rst_status_json(&back);
    assert_true(json_equal(j, again));
    assert_int_equal(back.ndatasets, 2);
    assert_true(back.datasets[0].has_shown);
    assert_string_equal(back.datasets[0].ja.reasons[0], st.datasets[0].ja.reasons[0]);
    assert_true(back.datasets[0].last_drill.seconds == 42.5);
    json_decref(again);
    rst_status_clear(&back);
    static const char *const bad[] = {
        "{\"verdict\": \"FINE\"}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"generations\": \"3\"}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"last_backup\": \"2026-13-01T00:00:00Z\"}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"last_backup\": \"9999-12-31T23:59:60Z\"}]}",
        "{\"datasets\": [{\"description\": \"no name\"}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"reasons\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
        "\"7\"]}]}",
        "{\"rotations\": [{\"medium\": \"usb-a\", \"type\": \"floppy\"}]}",
        "{\"datasets\": [\"emr\"]}",
        /* a suspicion is a risk, never beside COMPLIANT; a sequence from 1 */
        "{\"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"COMPLIANT\", \"suspicious\": 3}]}",
        "{\"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT RISK\", \"suspicious\": 0}]}",
        /* "action" is the first of "actions"; at most POL_ACTIONS, none empty */
        "{\"verdict\": \"AT RISK\", \"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT "
        "RISK\", "
        "\"action\": \"b\", \"actions\": [\"a\", \"b\"]}]}",
        "{\"verdict\": \"AT RISK\", \"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT "
        "RISK\", "
        "\"action\": \"\", \"actions\": [\"a\"]}]}",
        "{\"verdict\": \"AT RISK\", \"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT "
        "RISK\", "
        "\"action\": \"a\", \"actions\": [\"a\", \"\"]}]}",
        "{\"verdict\": \"AT RISK\", \"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT "
        "RISK\", "
        "\"action\": \"1\", \"actions\": [\"1\",\"2\",\"3\","
        "\"4\",\"5\"]}]}",
        "[]",
        /* a rotation that did not finish: a state bkp writes, and when it began */
        "{\"verdict\": \"COMPLIANT\", \"media\": [{\"medium\": \"usb-a\", \"type\": \"removable\", "
        "\"unfinished\": "
        "{\"state\": \"paused\", \"began\": \"2026-11-28T08:40:00Z\"}}]}",
        "{\"verdict\": \"COMPLIANT\", \"media\": [{\"medium\": \"usb-a\", \"type\": \"removable\", "
        "\"unfinished\": "
        "{\"state\": \"failed\"}}]}",
        "{\"verdict\": \"COMPLIANT\", \"media\": [{\"medium\": \"usb-a\", \"type\": \"removable\", "
        "\"unfinished\": "
        "\"failed\"}]}",
    };
    /* A document of a bkp before "actions": its one action reads as the
     * first; with "actions", all of them, in order. */
    static const char *const good[] = {
        "{\"verdict\": \"AT RISK\", \"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT "
        "RISK\", \"action\": \"a\"}]}",
        "{\"verdict\": \"AT RISK\", \"datasets\": [{\"dataset\": \"emr\", \"verdict\": \"AT "
        "RISK\", \"action\": \"a\", \"actions\": [\"a\", \"b\"]}]}",
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *g = json_loads(good[i], 0, NULL);
        assert_int_equal(rst_status_parse(g, &back), 0);
        assert_int_equal(back.datasets[0].en.nactions, i + 1);
        assert_string_equal(rst_next(&back.datasets[0].en), "a");
        if (i)
            assert_string_equal(back.datasets[0].en.actions[1], "b");
        rst_status_clear(&back);
        json_decref(g);
    }
    /* A failed rotation reads back with its reason, and writes back the same. */
    const char *failed =
        "{\"verdict\": \"COMPLIANT\", \"media\": [{\"medium\": \"usb-a\", \"type\": \"removable\", "
        "\"bytes\": null, \"last_write\": null, \"unfinished\": {\"state\": "
        "\"failed\", \"began\": \"2026-11-28T08:40:00Z\", \"why\": \"the medium "
        "is full: No space left on device\", \"full\": true, \"pruned_first\": false}}]}";
    json_t *fj = json_loads(failed, 0, NULL);
    assert_int_equal(rst_status_parse(fj, &back), 0);
    assert_int_equal(back.nmedia, 1);
    assert_int_equal(back.media[0].unfinished, RST_FAILED);
    assert_string_equal(back.media[0].why, "the medium is full: No space left on device");
    assert_true(back.media[0].full);
    json_t *fa = rst_status_json(&back);
    assert_true(json_equal(json_object_get(fa, "media"), json_object_get(fj, "media")));
    json_decref(fa);
    json_decref(fj);
    rst_status_clear(&back);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_non_null(b);
        if (rst_status_parse(b, &back) != -EBADMSG)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(back.ndatasets, 0);
        json_decref(b);
    }
    json_decref(j);
    rst_status_clear(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verdicts_and_ages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drill_failure_of_another_runbook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drill_unstarted_of_no_dataset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_drill_old_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspicious_until_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_copy_too_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_check_does_not_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_records_not_believed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
