/*
 * test_audit_verify.c — bkp_audit_verify describes what it finds twice: in
 * English for what programs read (`problem`: --json, the records) and in
 * the reader's language for people (`problem_local`). A log with a record
 * altered, and one that ends in a torn record, under English and under a
 * Japanese reader (the build's catalogue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/audit/audit.h"
#include "bkp/io/i18n.h"

#include "catalogue.h"
#include "ops_repo.h"

static const char policy_text[] = "repository: %1$s/repo\n"
                                  "passphrase_file: /etc/bkp/passphrase\n"
                                  "datasets:\n"
                                  "  - { name: emr-db, paths: [/srv/emr] }\n";

typedef struct fixture {
    ops_repo o;
    char log[192];
} fixture;

/* A repository whose log holds three records: init, backup, prune. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    bkp_audit_rec backup = {.op = "backup"}, prune = {.op = "prune"};
    if (!f || ops_repo_new(&f->o, "audit-verify", policy_text) ||
        bkp_audit_append(f->o.r, &backup) || bkp_audit_append(f->o.r, &prune))
        return -1;
    snprintf(f->log, sizeof(f->log), "%s/audit/log.jsonl", f->o.repo);
    test_bind_catalogue();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ops_repo_free(&f->o);
    free(f);
    unsetenv("LANGUAGE");
    setlocale(LC_MESSAGES, "C");
    return 0;
}

/* The log's bytes, with `from` replaced by `to` once (same length), or
 * `tail` appended. */
static void change_log(const fixture *f, const char *from, const char *to, const char *tail)
{
    FILE *x = fopen(f->log, "r+");
    assert_non_null(x);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, x);
    buf[n] = '\0';
    if (from) {
        char *at = strstr(buf, from);
        assert_non_null(at);
        memcpy(at, to, strlen(to));
    } else {
        assert_true(n + strlen(tail) < sizeof(buf));
        strcat(buf, tail);
    }
    rewind(x);
    assert_int_equal(fwrite(buf, 1, strlen(buf), x), strlen(buf));
    assert_int_equal(fclose(x), 0);
}

static void language(bool ja)
{
    if (ja) {
        setenv("LANGUAGE", "ja", 1);
        assert_non_null(setlocale(LC_MESSAGES, "C.UTF-8"));
    } else {
        unsetenv("LANGUAGE");
        setlocale(LC_MESSAGES, "C");
    }
}

/* The check finds `code`, says it in English and in the reader's language,
 * and a reader of the JSON (the status page, the evidence statement) says
 * the same from the code. */
static void check(const fixture *f, bool ja, bkp_audit_code code, const char *english,
                  const char *shown)
{
    bkp_audit_check chk;
    char again[1024];
    language(ja);
    assert_int_equal(bkp_audit_verify(f->log, bkp_repo_sign_pk(f->o.r), NULL, &chk), 0);
    assert_true(chk.bad); /* checked, and found wanting: a flag, not a code */
    assert_int_equal(chk.why.code, code);
    assert_string_equal(chk.problem, english);
    assert_string_equal(chk.problem_local, shown);
    json_t *j = json_pack("{s:s}", "problem", chk.problem);
    bkp_audit_problem_to_json(&chk.why, j);
    assert_string_equal(json_string_value(json_object_get(j, "code")), bkp_audit_code_name(code));
    bkp_audit_problem back;
    assert_true(bkp_audit_problem_from_json(j, &back));
    bkp_audit_problem_text(&back, again, sizeof(again));
    assert_string_equal(again, shown);
    json_decref(j);
}

static void test_altered(void **state)
{
    fixture *f = *state;
    change_log(f, "\"op\":\"backup\"", "\"op\":\"bockup\"", NULL);
    const char *en = "record 2 is not signed by this repository's key (edited or forged)";
    check(f, false, BKP_AUDIT_WRONG_SIGNATURE, en, en);
    check(f, true, BKP_AUDIT_WRONG_SIGNATURE, en,
          "記録 2 にはこのリポジトリの鍵による署名がありません（編集または偽造されています）");
    change_log(f, "\"op\":\"bockup\"", "\"op\":\"backup\"", NULL);
}

static void test_torn(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->log, &st), 0);
    change_log(f, NULL, NULL, "{\"seq\":4,\"op\":");
    const char *en = "the log ends in a torn record after record 3 (a crash while writing)";
    check(f, false, BKP_AUDIT_TORN_END, en, en);
    check(f, true, BKP_AUDIT_TORN_END, en,
          "ログは記録 3 の後、書きかけの記録で終わっています（書き込み中の異常終了）");
    assert_int_equal(truncate(f->log, st.st_size), 0);
}

/* Its last record removed: the head marker names record 3, the log ends at
 * 2 — rolled back against the head. */
static void test_rolled_back(void **state)
{
    fixture *f = *state;
    FILE *x = fopen(f->log, "r");
    static char buf[1 << 16];
    assert_non_null(x);
    size_t n = fread(buf, 1, sizeof(buf) - 1, x);
    assert_int_equal(fclose(x), 0);
    buf[n] = '\0';
    char *third = strstr(buf, "{\"command\"");
    for (int i = 0; third && i < 2; i++)
        third = strchr(third + 1, '\n');
    assert_non_null(third);
    assert_int_equal(truncate(f->log, (off_t)(third + 1 - buf)), 0);
    const char *en = "the log was cut short: records 3 to 3 are missing at the end (its signed "
                     "head marker says the log reached record 3): the log was shortened; `bkp "
                     "audit restart REASON` records the loss and continues";
    check(f, false, BKP_AUDIT_ROLLED_BACK, en, en);
    check(f, true, BKP_AUDIT_ROLLED_BACK, en,
          "ログが途中で切れています: 末尾の記録 3 から 3 がありません（署名付きの先頭マーカーでは記"
          "録 3 まであります）: ログは短くされています。`bkp audit restart 理由` で失われたことを記"
          "録して続けます");
    x = fopen(f->log, "w");
    assert_non_null(x);
    assert_int_equal(fwrite(buf, 1, n, x), n);
    assert_int_equal(fclose(x), 0);
}

/* One pass gives both answers: the records sound by themselves (a signed
 * record after an edited one still counts) and the check; a walk told to
 * stop still checks the whole log. */
static int count_ops(const bkp_audit_entry *e, void *ctx)
{
    int *n = ctx;
    (*n)++;
    return !strcmp(e->op, "prune") ? 7 : 0;
}

static void test_each_sound(void **state)
{
    fixture *f = *state;
    bkp_audit_check chk;
    int n = 0;
    language(false);
    assert_int_equal(bkp_audit_each_sound(f->log, bkp_repo_sign_pk(f->o.r), count_ops, &n, &chk),
                     7);
    assert_int_equal(n, 3);
    assert_int_equal(chk.why.code, BKP_AUDIT_SOUND);
    assert_int_equal(chk.records, 3);
    change_log(f, "\"op\":\"backup\"", "\"op\":\"bockup\"", NULL);
    n = 0;
    assert_int_equal(bkp_audit_each_sound(f->log, bkp_repo_sign_pk(f->o.r), count_ops, &n, &chk),
                     7);
    assert_int_equal(n, 2); /* init and prune: the edited backup is not believed */
    assert_int_equal(chk.why.code, BKP_AUDIT_WRONG_SIGNATURE);
    assert_int_equal(chk.first_bad, 2);
    change_log(f, "\"op\":\"bockup\"", "\"op\":\"backup\"", NULL);
}

/* What a prune of the repository deleted, by its record: a tombstone's
 * own record, an older bkp's list; never a medium's prune. */
static void test_pruned(void **state)
{
    (void)state;
    json_t *fig = json_pack("{s:[s, i, s]}", "generations_deleted", "emr:1", 7, "emr:2");
    bkp_audit_entry e = {.op = "prune", .figures = fig};
    assert_string_equal(bkp_audit_pruned(&e, 0), "emr:1");
    assert_string_equal(bkp_audit_pruned(&e, 1), ""); /* not a string */
    assert_string_equal(bkp_audit_pruned(&e, 2), "emr:2");
    assert_null(bkp_audit_pruned(&e, 3));
    e.medium = "usb-a"; /* a medium's copy, not the repository */
    assert_null(bkp_audit_pruned(&e, 0));
    e = (bkp_audit_entry){.op = "prune-generation", .generation = "emr:3", .figures = fig};
    assert_string_equal(bkp_audit_pruned(&e, 0), "emr:3");
    assert_null(bkp_audit_pruned(&e, 1));
    e.op = "backup";
    assert_null(bkp_audit_pruned(&e, 0));
    json_decref(fig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_altered),     cmocka_unit_test(test_torn),
        cmocka_unit_test(test_rolled_back), cmocka_unit_test(test_each_sound),
        cmocka_unit_test(test_pruned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
