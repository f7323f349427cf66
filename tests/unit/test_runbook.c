/*
 * Runbooks: the design's example loads exactly as written; every malformed
 * runbook is refused with the line and a message a person can act on; rb_find
 * looks where its header says, in that order; the shipped templates load.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/log.h"
#include "policies/policy.h"
#include "restore/runbook.h"

static char logbuf[16384];

static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)ctx;
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Load `text` from a temporary file named `name`; returns rb_load's result. */
static int load_named(const char *name, const char *text, rb_runbook **out)
{
    char dir[] = "/tmp/bkp-test-runbook-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return -EIO;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    write_file(path, text);
    logbuf[0] = '\0';
    int r = rb_load(path, out);
    unlink(path);
    rmdir(dir);
    return r;
}

static int load_text(const char *text, rb_runbook **out)
{
    return load_named("r.yaml", text, out);
}

/* A runbook as the operator guide shows one. */
static const char design[] =
    "title: \"電子カルテDB 復旧手順\"\n"
    "datasets: [emr-db]\n"
    "owner: \"医療情報システム安全管理責任者\"\n"
    "rto: 4h\n"
    "steps:\n"
    "  - { who: \"システム担当\", confirm: \"感染端末をネットワークから切り離した\" }\n"
    "  - { who: \"システム担当\", confirm: \"攻撃者に無効化されたセキュリティ機能を復旧した\" }\n"
    "  - { who: \"システム担当\", confirm: \"侵入に使われた脆弱性を特定し是正した\" }\n"
    "  - { who: \"システム担当\", confirm: \"不正に作成・窃取されたID/パスワードを無効化した\" }\n"
    "  - { who: \"システム担当\", select: { dataset: emr-db, newest: verified, not: suspicious } "
    "}\n"
    "  - { who: \"システム担当\", verify: {} }\n"
    "  - { who: \"システム担当\", restore: { dataset: emr-db, to: /var/restore/emr } }\n"
    "  - { who: \"DB管理者\", run: \"pg_restore -d emr_restore $BKP_TARGET/emr.dump\" }\n"
    "  - { who: \"DB管理者\", check: \"test $(psql -tAc 'select count(*) from patients' "
    "emr_restore) -gt 0\" }\n";

static const rb_action design_actions[] = {RB_CONFIRM, RB_CONFIRM, RB_CONFIRM,
                                           RB_CONFIRM, RB_SELECT,  RB_VERIFY,
                                           RB_RESTORE, RB_RUN,     RB_CHECK};

/* The first nine steps of `rb` are the design's. */
static void assert_design_steps(const rb_runbook *rb)
{
    assert_true(rb->nsteps >= 9);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(rb->steps[i].action, design_actions[i]);
        assert_string_equal(rb->steps[i].who, i < 7 ? "システム担当" : "DB管理者");
        assert_null(rb->steps[i].what);
    }
    assert_string_equal(rb->steps[0].text, "感染端末をネットワークから切り離した");
    assert_string_equal(rb->steps[1].text, "攻撃者に無効化されたセキュリティ機能を復旧した");
    assert_string_equal(rb->steps[2].text, "侵入に使われた脆弱性を特定し是正した");
    assert_string_equal(rb->steps[3].text, "不正に作成・窃取されたID/パスワードを無効化した");
    const rb_select *sel = &rb->steps[4].select;
    assert_string_equal(sel->dataset, "emr-db");
    assert_true(sel->verified && sel->not_suspicious && sel->fallback);
    assert_int_equal(sel->before, 0);
    assert_null(rb->steps[5].medium);
    const rb_restore *res = &rb->steps[6].restore;
    assert_string_equal(res->dataset, "emr-db");
    assert_null(res->path);
    assert_string_equal(res->to, "/var/restore/emr");
    /* The guide's restores into a scratch database and checks it (the
     * template as root's shell for postgres: the dump is root's, 0600). */
    assert_non_null(strstr(rb->steps[7].text, "pg_restore -d emr_restore "));
    assert_non_null(strstr(rb->steps[7].text, "$BKP_TARGET/emr.dump"));
    assert_non_null(strstr(rb->steps[8].text, "select count(*) from patients"));
}

static void test_design_example(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    assert_int_equal(load_named("emr-db.yaml", design, &rb), 0);
    assert_string_equal(rb->name, "emr-db");
    assert_string_equal(rb->title, "電子カルテDB 復旧手順");
    assert_string_equal(rb->owner, "医療情報システム安全管理責任者");
    assert_int_equal(rb->ndatasets, 1);
    assert_string_equal(rb->datasets[0], "emr-db");
    assert_int_equal(rb->rto, 4 * 3600);
    assert_null(rb->passphrase_note);
    assert_int_equal(rb->nsteps, 9);
    assert_design_steps(rb);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(rb->steps[i].line, 6 + (int)i);
        /* Only commands have a timeout; theirs defaults to an hour. */
        bool command = rb->steps[i].action == RB_RUN || rb->steps[i].action == RB_CHECK;
        assert_int_equal(rb->steps[i].timeout, command ? 3600 : 0);
    }
    rb_free(rb);
}

/* The header's example: a passphrase note, a timeout, a closing note. */
static void test_header_example(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    assert_int_equal(
        load_text("title: \"電子カルテDB 復旧手順\"\n"
                  "datasets: [emr-db]\n"
                  "passphrase_note: \"金庫の封筒 (事務長室)\"   # where, never the secret\n"
                  "steps:\n"
                  "  - { who: \"DB管理者\", run: \"pg_restore -d emr_restore x\", timeout: 30m }\n"
                  "  - { who: \"DB管理者\", note: \"病棟へ復旧を連絡する\", what: \"連絡\" }\n",
                  &rb),
        0);
    assert_string_equal(rb->name, "r");
    assert_string_equal(rb->passphrase_note, "金庫の封筒 (事務長室)");
    assert_null(rb->owner);
    assert_int_equal(rb->rto, 0);
    assert_int_equal(rb->steps[0].timeout, 1800);
    assert_int_equal(rb->steps[1].action, RB_NOTE);
    assert_string_equal(rb->steps[1].text, "病棟へ復旧を連絡する");
    assert_string_equal(rb->steps[1].what, "連絡");
    rb_free(rb);
}

/* Options other than the defaults, in block style. */
static void test_options(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    char *tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "JST-9", 1); /* a date alone is local midnight */
    tzset();
    int r = load_text("title: t\n"
                      "datasets: emr-db\n"
                      "steps:\n"
                      "  - who: a\n"
                      "    select: { newest: any, before: 2025-01-10T03:04:05Z, fallback: none }\n"
                      "  - who: a\n"
                      "    select:\n"
                      "      not: suspicious\n"
                      "      before: 2025-01-10\n"
                      "  - { who: a, verify: { medium: usb-a } }\n"
                      "  - { who: a, restore: { path: patients/2025, to: /srv/r } }\n"
                      "  - { who: a, check: \"true\", timeout: 7d }\n",
                      &rb);
    if (tz)
        setenv("TZ", tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(tz);
    assert_int_equal(r, 0);
    assert_int_equal(rb->ndatasets, 1);
    assert_int_equal(rb->nsteps, 5);
    const rb_select *s0 = &rb->steps[0].select, *s1 = &rb->steps[1].select;
    assert_null(s0->dataset); /* the runbook's first data set */
    assert_false(s0->verified);
    assert_false(s0->fallback);
    assert_true(s0->not_suspicious);
    assert_int_equal(s0->before, 1736478245);
    assert_int_equal(s1->before, 1736434800); /* 2025-01-09T15:00:00Z */
    assert_true(s1->verified && s1->fallback);
    assert_int_equal(rb->steps[1].line, 6);
    assert_string_equal(rb->steps[2].medium, "usb-a");
    assert_null(rb->steps[3].restore.dataset);
    assert_string_equal(rb->steps[3].restore.path, "patients/2025");
    assert_string_equal(rb->steps[3].restore.to, "/srv/r");
    assert_int_equal(rb->steps[4].timeout, 7 * 86400);
    rb_free(rb);
}

#define T "title: t\n"
#define D "datasets: [emr-db]\n"
#define S "steps:\n"
#define OK "  - { who: a, confirm: x }\n"
#define STEP(body) "  - { who: a, " body " }\n"

static const struct bad {
    const char *text;
    int line;             /* the line the first message names */
    const char *expected; /* in that message */
} bad[] = {
    {T D S OK "colour: blue\n", 5, "unknown key 'colour' in the runbook"},
    {T D S STEP("confirm: x, mood: calm"), 4,
     "unknown key 'mood' in step 1 — the keys here are: who"},
    {T D S OK "  - { who: a }\n", 5, "step 2 has no action"},
    {T D S OK "  - { who: a, what: w }\n", 5, "one of confirm, select, verify, restore, run"},
    {T D S STEP("confirm: x, run: y"), 4, "step 1 has two actions, 'confirm' and 'run'"},
    {T D S STEP("note: x, verify: {}"), 4, "two actions"},
    {T D S "  - { confirm: x }\n", 4, "step 1 has no who"},
    {T D S "  - { who: \"\", confirm: x }\n", 4, "'who' is empty"},
    {T D S "  - { who: \"  \", confirm: x }\n", 4, "'who' is empty"},
    {T D S "  - { who: \"a=b\", confirm: x }\n", 4, "'who' holds '='"},
    {T D S "  - { who: [a, b], confirm: x }\n", 4, "'who' is a list here"},
    {T D S OK STEP("run: y, timeout: 30"), 5, "'timeout: 30' is not a duration"},
    {T D S OK STEP("run: y, timeout: 5y"), 5, "30s, 30m, 12h, 7d"},
    {T D S OK STEP("confirm: x, timeout: 5m"), 5, "'timeout' applies only to run and check"},
    {"rto: 4 hours\n" T D S OK, 1, "'rto: 4 hours' is not a duration"},
    {T D S STEP("select: { dataset: scans }"), 4,
     "step 1 names data set 'scans', which is not in this runbook's datasets [emr-db]"},
    {T D S STEP("restore: { dataset: scans, to: /r }"), 4, "names data set 'scans'"},
    {T D S "  - who: a\n    select:\n      newest: verified\n      dataset: scans\n", 7,
     "names data set 'scans'"},
    {T S STEP("select: { dataset: scans }") D, 3, "not in this runbook's datasets [emr-db]"},
    {T D S STEP("restore: { dataset: emr-db }"), 4, "has no 'to'"},
    {T D S "  - who: a\n    restore:\n      dataset: emr-db\n", 6,
     "add the folder to restore into"},
    {T D S STEP("restore: { to: restore/emr }"), 4, "'to: restore/emr' is not absolute"},
    {T D S STEP("restore: { to: /r, path: \"\" }"), 4, "'path' is empty"},
    {T D S STEP("restore: { to: /r, into: /s }"), 4, "unknown key 'into' in restore"},
    {T D S STEP("restore: /r"), 4, "'restore' is a value here — write 'restore: { dataset:"},
    {T D S STEP("select: { newest: latest }"), 4, "'newest: latest' — write 'newest: verified'"},
    {T D S STEP("select: { not: broken }"), 4, "'not: broken' — write 'not: suspicious'"},
    {T D S STEP("select: { fallback: maybe }"), 4, "'fallback: maybe' — write 'fallback: older'"},
    {T D S STEP("select: { before: 2025/01/10 }"), 4, "'before: 2025/01/10' is not a date"},
    {T D S STEP("select: { before: 2025-02-29 }"), 4, "is not a date"},
    {T D S STEP("select: { before: 2025-04-31 }"), 4, "is not a date"},
    {T D S STEP("select: { before: 2025-1-10 }"), 4, "is not a date"},
    {T D S STEP("select: { before: 2025-01-10T24:00:00Z }"), 4, "is not a date"},
    {T D S STEP("select: { before: 2025-01-10T10:00:00 }"), 4,
     "or 'before: 2025-01-31T09:00:00Z' (UTC)"},
    {T D S STEP("select: { before: \"2025-01-10 10:00\" }"), 4, "is not a date"},
    {T D S STEP("select: { dataset: emr-db, dataset: emr-db }"), 4,
     "'dataset' is given twice in select"},
    {T D S STEP("select: newest"), 4, "'select' is a value here"},
    {T D S STEP("verify: usb-a"), 4, "'verify' is a value here — write 'verify: {}'"},
    {T D S "  - who: a\n    verify:\n", 5, "'verify: { medium: usb-a }'"},
    {T D S STEP("verify: { disk: usb-a }"), 4, "unknown key 'disk' in verify"},
    {T D S STEP("verify: { medium: \"usb a\" }"), 4, "medium name 'usb a'"},
    {T D S STEP("confirm: [x, y]"), 4, "'confirm' is a list here — write a single value"},
    {T D S STEP("run: \"\""), 4, "'run' is empty"},
    {D S OK, 1, "no title"},
    {T S OK, 1, "no datasets"},
    {T D, 1, "no steps"},
    {T D "steps: []\n", 3, "'steps' is empty"},
    {T D "steps: do it\n", 3, "'steps' is a value here"},
    {T D S "  - confirm everything\n", 4, "step 1 is a value here"},
    {T "datasets: []\n" S OK, 2, "'datasets' is empty"},
    {T "datasets: [emr-db, emr-db]\n" S OK, 2, "data set 'emr-db' is listed twice"},
    {T "datasets: [\"bad name\"]\n" S OK, 2, "data set name 'bad name'"},
    {T "title: u\n" D S OK, 2, "'title' is given twice in the runbook"},
    {"title: \"\"\n" D S OK, 1, "'title' is empty"},
    {T D S "  - { who: a, confirm: x\n", 5, "check the indentation"},
    {T D S STEP("confirm: x, run_as: nobody"), 4, "'run_as' applies only to run and check"},
    {T D S STEP("run: y, run_as: \"no body\""), 4, "'run_as: no body' is not a user name"},
    {"run_as: -rf\n" T D S OK, 1, "'run_as: -rf' is not a user name"},
    {T D S STEP("run: y, env: [PGHOST]"), 4, "env entry 'PGHOST' is not NAME=value"},
    {T D S STEP("run: y, env: [\"-Secho x=1\"]"), 4, "env entry '-Secho x=1' is not NAME=value"},
    {T D S STEP("run: y, env: [\"BKP_PASSPHRASE_FILE=/p\"]"), 4, "BKP_ names are bkp's own"},
    {T D S STEP("note: y, env: [\"A=1\"]"), 4, "'env' applies only to run and check"},
    {"", 1, "the runbook is empty"},
    {"- a\n- b\n", 1, "the runbook is a list here"},
};

static void test_bad_runbooks(void **state)
{
    (void)state;
    bkp_log_set_sink(sink, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        rb_runbook *rb = NULL;
        char where[32];
        int r = load_text(bad[i].text, &rb);
        snprintf(where, sizeof(where), "r.yaml:%d:", bad[i].line);
        /* The first message names the line and says what is wrong. */
        char *first = strstr(logbuf, "r.yaml:");
        char *eol = first ? strchr(first, '\n') : NULL;
        if (eol)
            *eol = '\0';
        bool ok = r == -EINVAL && first && !strncmp(first, where, strlen(where)) &&
                  strstr(first, bad[i].expected);
        if (eol)
            *eol = '\n';
        if (!ok) {
            bkp_log_set_sink(NULL, NULL);
            print_error("case %zu: want %s...%s, got (%d):\n%s", i, where, bad[i].expected, r,
                        logbuf);
            fail();
        }
        assert_null(rb);
        /* Every refusal ends by saying that nothing ran and how to check. */
        assert_non_null(strstr(logbuf, "nothing was run"));
    }
    bkp_log_set_sink(NULL, NULL);
}

/* run_as at the top and per step; env per step. */
static void test_run_as_and_env(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    assert_int_equal(
        load_text(T D "run_as: nobody\n" S OK STEP("run: y, env: [\"PGHOST=/run/pg\", \"A=b=c\"]")
                      STEP("check: z, run_as: root"),
                  &rb),
        0);
    assert_string_equal(rb->run_as, "nobody");
    assert_null(rb->steps[1].run_as);
    assert_string_equal(rb_step_user(rb, &rb->steps[1]), "nobody");
    assert_string_equal(rb_step_user(rb, &rb->steps[2]), "root");
    assert_int_equal(rb->steps[1].nenv, 2);
    assert_string_equal(rb->steps[1].env[0], "PGHOST=/run/pg");
    assert_string_equal(rb->steps[1].env[1], "A=b=c");
    assert_int_equal(rb_check_users(rb), 0); /* nobody and root exist */
    free(rb->run_as);
    rb->run_as = strdup("no-such-user-bkp-test");
    bkp_log_set_sink(sink, NULL);
    logbuf[0] = '\0';
    assert_int_equal(rb_check_users(rb), -ENOENT);
    bkp_log_set_sink(NULL, NULL);
    assert_non_null(strstr(logbuf, "r.yaml:3: step 2 (and any later one) runs as "
                                   "'no-such-user-bkp-test', which does not exist"));
    rb_free(rb);
}

static void test_unreadable(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    bkp_log_set_sink(sink, NULL);
    logbuf[0] = '\0';
    assert_int_equal(rb_load("/nonexistent/bkp-runbook.yaml", &rb), -ENOENT);
    bkp_log_set_sink(NULL, NULL);
    assert_null(rb);
    assert_non_null(strstr(logbuf, "cannot read the runbook /nonexistent/bkp-runbook.yaml"));
    rb_free(NULL);
}

static void test_action_names(void **state)
{
    (void)state;
    static const char *const names[] = {"confirm", "select", "verify", "restore",
                                        "run",     "check",  "note"};
    for (rb_action a = RB_CONFIRM; a <= RB_NOTE; a++)
        assert_string_equal(rb_action_name(a), names[a]);
}

/* ---- rb_find ---- */

static char tmp[64];

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    for (char *p = strchr(path + strlen(tmp) + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    if (text)
        write_file(path, text);
}

static void expect_found(const char *name, const char *policy, const char *rel)
{
    char want[256];
    snprintf(want, sizeof(want), "%s/%s", tmp, rel);
    char *got = rb_find(name, policy, NULL);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_find(void **state)
{
    (void)state;
    char policy[128], path[128];
    strcpy(tmp, "/tmp/bkp-test-rbfind-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    snprintf(policy, sizeof(policy), "%s/policies/examples/p.yaml", tmp);
    put("policies/examples/p.yaml", "");
    put("policies/examples/runbooks/both.yaml", "");
    put("policies/runbooks/both.yaml", "");
    put("policies/runbooks/up.yaml", "");
    put("elsewhere/mine.yaml", "");

    /* runbooks/ beside the policy comes first, then ../runbooks/. */
    expect_found("both", policy, "policies/examples/runbooks/both.yaml");
    expect_found("up", policy, "policies/examples/../runbooks/up.yaml");
    /* A name with a '/' is a path, used as given. */
    snprintf(path, sizeof(path), "%s/elsewhere/mine.yaml", tmp);
    char *got = rb_find(path, policy, NULL);
    assert_non_null(got);
    assert_string_equal(got, path);
    free(got);

    /* Nothing found: NULL, and the message lists every place tried, in order. */
    bkp_log_set_sink(sink, NULL);
    logbuf[0] = '\0';
    assert_null(rb_find("bkp-test-no-such-runbook", policy, NULL));
    bkp_log_set_sink(NULL, NULL);
    char a[200], b[200];
    snprintf(a, sizeof(a), "%s/policies/examples/runbooks/bkp-test-no-such-runbook.yaml", tmp);
    snprintf(b, sizeof(b), "%s/policies/examples/../runbooks/bkp-test-no-such-runbook.yaml", tmp);
    char *pa = strstr(logbuf, a), *pb = strstr(logbuf, b),
         *pc = strstr(logbuf, "/etc/bkp/runbooks/bkp-test-no-such-runbook.yaml");
    assert_true(pa && pb && pc && pa < pb && pb < pc);

    /* Without a policy file only /etc/bkp/runbooks is searched. */
    bkp_log_set_sink(sink, NULL);
    logbuf[0] = '\0';
    assert_null(rb_find("bkp-test-no-such-runbook", NULL, NULL));
    bkp_log_set_sink(NULL, NULL);
    assert_null(strstr(logbuf, tmp));
    assert_non_null(strstr(logbuf, "/etc/bkp/runbooks/bkp-test-no-such-runbook.yaml"));
    /* A missing path is not searched for elsewhere. */
    snprintf(path, sizeof(path), "%s/elsewhere/gone.yaml", tmp);
    bkp_log_set_sink(sink, NULL);
    assert_null(rb_find(path, policy, NULL));
    bkp_log_set_sink(NULL, NULL);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    assert_int_equal(system(cmd), 0);
}

/* ---- the shipped templates ---- */

/* Is data set `name` defined in one of the example policies? */
static bool in_examples(const char *name)
{
    static const char *const files[] = {"hospital.yaml", "hospital-200-beds.yaml", "clinic.yaml"};
    bool found = false;
    for (size_t i = 0; i < sizeof(files) / sizeof(*files) && !found; i++) {
        char path[4096];
        pol_policy *p = NULL;
        snprintf(path, sizeof(path), "%s/policies/examples/%s", BKP_SOURCE_DIR, files[i]);
        assert_int_equal(pol_load(path, &p), 0);
        found = pol_dataset_find(p, name) != NULL;
        pol_free(p);
    }
    return found;
}

static void test_templates(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/policies/runbooks", BKP_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    bool emr = false;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        rb_runbook *rb = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (rb_load(path, &rb)) {
            print_error("%s does not load\n", path);
            fail();
        }
        n++;
        /* A template ends by telling people what to do next, and restores
         * only data sets that the example policies define. */
        assert_int_equal(rb->steps[rb->nsteps - 1].action, RB_NOTE);
        for (size_t i = 0; i < rb->ndatasets; i++)
            if (!in_examples(rb->datasets[i])) {
                print_error("%s: data set %s is in no example policy\n", path, rb->datasets[i]);
                fail();
            }
        if (!strcmp(rb->name, "emr-db")) {
            /* The design's example, plus where the passphrase is kept. */
            emr = true;
            assert_design_steps(rb);
            assert_non_null(rb->passphrase_note);
            assert_int_equal(rb->rto, 4 * 3600);
            /* The dump is root's, 0600: root's shell reads it for postgres. */
            assert_non_null(strstr(rb->steps[7].text, "runuser -u postgres -- pg_restore -d "
                                                      "emr_restore < \"$BKP_TARGET/emr.dump\""));
        }
        rb_free(rb);
    }
    closedir(d);
    assert_true(emr);
    assert_true(n >= 3);
}

/* Blocks that begin with a select follow the data sets' priority; the
 * confirms before them and the closing notes stay put. */
static int prio(const char *dataset, void *ctx)
{
    (void)ctx;
    return !strcmp(dataset, "karte") ? 1 : !strcmp(dataset, "scans") ? 2 : 99;
}

static void test_priority_order(void **state)
{
    (void)state;
    rb_runbook *rb = NULL;
    assert_int_equal(load_text("title: t\n"
                               "datasets: [scans, karte]\n"
                               "steps:\n"
                               "  - { who: a, confirm: isolated }\n"
                               "  - { who: a, select: { dataset: scans } }\n"
                               "  - { who: a, restore: { dataset: scans, to: /r/scans } }\n"
                               "  - { who: a, check: \"true\" }\n"
                               "  - { who: a, select: { dataset: karte } }\n"
                               "  - { who: a, restore: { dataset: karte, to: /r/karte } }\n"
                               "  - { who: a, note: done }\n",
                               &rb),
                     0);
    assert_true(rb_order_by_priority(rb, prio, NULL));
    const rb_action want[] = {RB_CONFIRM, RB_SELECT, RB_RESTORE, RB_SELECT,
                              RB_RESTORE, RB_CHECK,  RB_NOTE};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(rb->steps[i].action, want[i]);
    assert_string_equal(rb->steps[1].select.dataset, "karte");
    assert_string_equal(rb->steps[3].select.dataset, "scans");
    assert_string_equal(rb->steps[6].text, "done");
    assert_false(rb_order_by_priority(rb, prio, NULL)); /* already in order */
    rb_free(rb);
}

/* The name records and kits give a runbook the policy names by a path. */
static void test_stem(void **state)
{
    (void)state;
    char stem[64];
    rb_runbook_stem("/etc/bkp/runbooks/emr-db.yaml", stem, sizeof(stem));
    assert_string_equal(stem, "emr-db");
    rb_runbook_stem("clinic", stem, sizeof(stem));
    assert_string_equal(stem, "clinic");
    rb_runbook_stem("./x.yaml.yaml", stem, sizeof(stem));
    assert_string_equal(stem, "x.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_design_example), cmocka_unit_test(test_header_example),
        cmocka_unit_test(test_options),        cmocka_unit_test(test_bad_runbooks),
        cmocka_unit_test(test_unreadable),     cmocka_unit_test(test_action_names),
        cmocka_unit_test(test_find),           cmocka_unit_test(test_templates),
        cmocka_unit_test(test_stem),           cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_run_as_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
