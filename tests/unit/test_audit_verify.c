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

#include "bkp/audit.h"
#include "bkp/i18n.h"

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

static void check(const fixture *f, bool ja, const char *english, const char *shown)
{
    bkp_audit_check chk;
    if (ja) {
        setenv("LANGUAGE", "ja", 1);
        assert_non_null(setlocale(LC_MESSAGES, "C.UTF-8"));
    } else {
        unsetenv("LANGUAGE");
        setlocale(LC_MESSAGES, "C");
    }
    assert_int_equal(bkp_audit_verify(f->log, bkp_repo_sign_pk(f->o.r), NULL, &chk), 1);
    assert_string_equal(chk.problem, english);
    assert_string_equal(chk.problem_local, shown);
}

static void test_altered(void **state)
{
    fixture *f = *state;
    change_log(f, "\"op\":\"backup\"", "\"op\":\"bockup\"", NULL);
    const char *en = "record 2 is not signed by this repository's key (edited or forged)";
    check(f, false, en, en);
    check(f, true, en, "記録 2 にはこのリポジトリの鍵による署名がありません（編集または偽造されています）");
    change_log(f, "\"op\":\"bockup\"", "\"op\":\"backup\"", NULL);
}

static void test_torn(void **state)
{
    fixture *f = *state;
    change_log(f, NULL, NULL, "{\"seq\":4,\"op\":");
    const char *en = "the log ends in a torn record after record 3 (a crash while writing)";
    check(f, false, en, en);
    check(f, true, en, "ログは記録 3 の後、書きかけの記録で終わっています（書き込み中の異常終了）");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_altered),
        cmocka_unit_test(test_torn),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
