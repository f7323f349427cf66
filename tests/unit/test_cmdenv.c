/*
 * test_cmdenv.c — the environment and user of an operator's command
 * (bkp/host/cmdenv.h, bkp/host/hook.h).
 *
 * Proves that a command sees only the allowlist, the fixed PATH, its own
 * settings and the BKP_* variables it is given — never a passphrase source,
 * not even one its own settings name — that its own settings win over what
 * is inherited, and, end to end through a real /bin/sh, that a hook does not
 * inherit BKP_PASSPHRASE_COMMAND and that a user that does not exist is
 * refused before anything runs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/host/cmdenv.h"
#include "bkp/host/hook.h"

/* The value of NAME in `env`, or NULL. */
static const char *get(char **env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (!strncmp(env[i], name, n) && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static size_t count(char **env)
{
    size_t n = 0;
    while (env[n])
        n++;
    return n;
}

static void allowlist_only(void **state)
{
    (void)state;
    char *inherited[] = {"PATH=/home/evil/bin",
                         "LANG=ja_JP.UTF-8",
                         "LC_TIME=C",
                         "TZ=Asia/Tokyo",
                         "HOME=/root",
                         "USER=root",
                         "LOGNAME=root",
                         "TMPDIR=/var/tmp",
                         "BKP_PASSPHRASE_FILE=/etc/bkp/pass",
                         "BKP_PASSPHRASE_COMMAND=cat /etc/bkp/pass",
                         "BKP_PASSPHRASE=hunter2",
                         "BKP_POLICY=/etc/bkp/policy.yaml",
                         "LD_PRELOAD=/tmp/x.so",
                         "PGPASSWORD=secret",
                         "SSH_AUTH_SOCK=/tmp/agent",
                         "noequals",
                         "=novalue",
                         NULL};
    char *extra[] = {"BKP_TARGET=/sbx/var/restore/emr", "BKP_DRILL=1", "PGHOST=/run/pg"};
    char **env = NULL;
    size_t dropped = 99;
    assert_int_equal(bkp_cmdenv_build(inherited, extra, 3, NULL, &env, &dropped), 0);
    assert_int_equal(dropped, 0);
    assert_string_equal(get(env, "PATH"), BKP_CMD_PATH);
    assert_string_equal(get(env, "LANG"), "ja_JP.UTF-8");
    assert_string_equal(get(env, "LC_TIME"), "C");
    assert_string_equal(get(env, "TZ"), "Asia/Tokyo");
    assert_string_equal(get(env, "HOME"), "/root");
    assert_string_equal(get(env, "USER"), "root");
    assert_string_equal(get(env, "LOGNAME"), "root");
    assert_string_equal(get(env, "TMPDIR"), "/var/tmp");
    assert_string_equal(get(env, "BKP_TARGET"), "/sbx/var/restore/emr");
    assert_string_equal(get(env, "BKP_DRILL"), "1");
    assert_string_equal(get(env, "PGHOST"), "/run/pg");
    for (size_t i = 0; env[i]; i++) {
        assert_null(strstr(env[i], "PASSPHRASE"));
        assert_null(strstr(env[i], "hunter2"));
        assert_non_null(strchr(env[i], '='));
    }
    assert_null(get(env, "BKP_POLICY"));
    assert_null(get(env, "LD_PRELOAD"));
    assert_null(get(env, "PGPASSWORD"));
    assert_null(get(env, "SSH_AUTH_SOCK"));
    assert_int_equal(count(env), 11); /* 7 inherited + PATH + 3 of its own */
    bkp_cmdenv_free(env);
}

static void own_settings_win_and_secrets_never_pass(void **state)
{
    (void)state;
    char *inherited[] = {"TZ=UTC", "LANG=C", NULL};
    char *extra[] = {"TZ=Asia/Tokyo",
                     "PGPASSWORD=from-the-policy",
                     "BKP_PASSPHRASE_FILE=/p",
                     "BKP_PASSPHRASE_COMMAND=cat /p",
                     "X=1",
                     "X=2",
                     "bad"};
    char **env = NULL;
    size_t dropped = 0;
    assert_int_equal(bkp_cmdenv_build(inherited, extra, 7, NULL, &env, &dropped), 0);
    assert_int_equal(dropped, 2);
    assert_string_equal(get(env, "TZ"), "Asia/Tokyo");
    assert_string_equal(get(env, "PGPASSWORD"), "from-the-policy");
    assert_string_equal(get(env, "X"), "2");
    assert_null(get(env, "BKP_PASSPHRASE_FILE"));
    assert_null(get(env, "BKP_PASSPHRASE_COMMAND"));
    assert_int_equal(count(env), 5); /* TZ LANG PATH PGPASSWORD X */
    bkp_cmdenv_free(env);
    /* Nothing inherited at all: PATH alone. */
    assert_int_equal(bkp_cmdenv_build(NULL, NULL, 0, NULL, &env, NULL), 0);
    assert_int_equal(count(env), 1);
    assert_string_equal(get(env, "PATH"), BKP_CMD_PATH);
    bkp_cmdenv_free(env);
}

static void another_user_gets_its_own_home(void **state)
{
    (void)state;
    char *inherited[] = {"HOME=/root",       "USER=root", "LOGNAME=root",
                         "TMPDIR=/root/tmp", "LANG=C",    NULL};
    gid_t groups[] = {65534};
    bkp_cmd_user u = {.uid = 65534,
                      .gid = 65534,
                      .groups = groups,
                      .ngroups = 1,
                      .name = "nobody",
                      .home = "/nonexistent"};
    char **env = NULL;
    assert_int_equal(bkp_cmdenv_build(inherited, NULL, 0, &u, &env, NULL), 0);
    assert_string_equal(get(env, "HOME"), "/nonexistent");
    assert_string_equal(get(env, "USER"), "nobody");
    assert_string_equal(get(env, "LOGNAME"), "nobody");
    assert_null(get(env, "TMPDIR"));
    assert_string_equal(get(env, "LANG"), "C");
    bkp_cmdenv_free(env);
}

static void user_names(void **state)
{
    (void)state;
    assert_true(bkp_cmd_user_name_ok("nobody"));
    assert_true(bkp_cmd_user_name_ok("pg-drill_1.x"));
    assert_false(bkp_cmd_user_name_ok(""));
    assert_false(bkp_cmd_user_name_ok("-rf"));
    assert_false(bkp_cmd_user_name_ok("a b"));
    assert_false(bkp_cmd_user_name_ok("a/b"));
    assert_false(bkp_cmd_user_name_ok("abcdefghijabcdefghijabcdefghijabc"));
    bkp_cmd_user u;
    assert_int_equal(bkp_cmd_user_lookup("no-such-user-bkp-test", &u), -ENOENT);
    assert_int_equal(bkp_cmd_user_lookup("../x", &u), -EINVAL);
    assert_int_equal(bkp_cmd_user_lookup("root", &u), 0);
    assert_int_equal(u.uid, 0);
    assert_true(u.ngroups >= 1);
    bkp_cmd_user_clear(&u);
}

/* Through a real shell: what a hook prints of its environment. */
static void hook_sees_no_passphrase_source(void **state)
{
    (void)state;
    char out[] = "/tmp/bkp-test-cmdenv-XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    setenv("BKP_PASSPHRASE_COMMAND", "cat /etc/shadow", 1);
    setenv("BKP_PASSPHRASE_FILE", "/etc/bkp/passphrase", 1);
    setenv("SOMETHING_OF_THE_CALLER", "1", 1);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "env >%s", out);
    char *env[] = {"HOOK_OWN=yes"};
    bkp_hook_result r;
    assert_int_equal(bkp_hook_run(cmd, env, 1, 30, &r), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[4096];
    int own = 0;
    while (fgets(line, sizeof(line), f)) {
        assert_null(strstr(line, "BKP_PASSPHRASE"));
        assert_null(strstr(line, "SOMETHING_OF_THE_CALLER"));
        own += !strcmp(line, "HOOK_OWN=yes\n");
    }
    fclose(f);
    unlink(out);
    assert_int_equal(own, 1);
    unsetenv("BKP_PASSPHRASE_COMMAND");
    unsetenv("BKP_PASSPHRASE_FILE");
    unsetenv("SOMETHING_OF_THE_CALLER");
}

static void unknown_user_is_refused_before_anything_runs(void **state)
{
    (void)state;
    char mark[] = "/tmp/bkp-test-cmdenv-mark-XXXXXX";
    int fd = mkstemp(mark);
    assert_true(fd >= 0);
    close(fd);
    unlink(mark);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "touch %s", mark);
    bkp_hook_spec spec = {.command = cmd, .timeout = 30, .run_as = "no-such-user-bkp-test"};
    bkp_hook_result r;
    assert_int_equal(bkp_hook_exec(&spec, &r), -ENOENT);
    assert_int_not_equal(access(mark, F_OK), 0);
    /* A working directory that is not there: it did not start, and says so. */
    spec = (bkp_hook_spec){.command = cmd, .timeout = 30, .dir = "/nonexistent/bkp-test"};
    assert_int_equal(bkp_hook_exec(&spec, &r), -ENOENT);
    assert_int_not_equal(access(mark, F_OK), 0);
    /* As another user, when we are root: `id -u` is that user's. */
    if (geteuid() == 0) {
        spec = (bkp_hook_spec){
            .command = "test \"$(id -u)\" = 65534", .timeout = 30, .run_as = "nobody", .dir = "/"};
        bkp_cmd_user u;
        if (!bkp_cmd_user_lookup("nobody", &u)) {
            if (u.uid == 65534)
                assert_int_equal(bkp_hook_exec(&spec, &r), 0);
            bkp_cmd_user_clear(&u);
        }
    }
}

/* A failed command's last lines are kept for its alert: stdout and stderr
 * both, blank lines skipped, controls escaped, and a long output cut from
 * its start so that the end (what went wrong) stays. */
static void failed_hook_keeps_its_last_lines(void **state)
{
    (void)state;
    bkp_hook_spec spec = {
        .command = "echo one; echo two >&2; echo; printf 'pg_dump: error: \\033[31mrefused\\n\\n'; "
                   "exit 3",
        .timeout = 30,
        .quiet = true};
    bkp_hook_result r;
    assert_int_equal(bkp_hook_exec(&spec, &r), -ECHILD);
    assert_int_equal(r.exit_code, 3);
    assert_string_equal(r.tail, "one / two / pg_dump: error: \\x1b[31mrefused");
    /* A line indented with a tab (libpq's second line) is said without it. */
    spec.command = "printf 'connection failed\\n\\tIs the server running?\\n' >&2; exit 1";
    assert_int_equal(bkp_hook_exec(&spec, &r), -ECHILD);
    assert_string_equal(r.tail, "connection failed / Is the server running?");

    spec.command = "yes 'ここで失敗しました' | head -c 100000; echo; echo 最後の行; exit 1";
    assert_int_equal(bkp_hook_exec(&spec, &r), -ECHILD);
    size_t n = strlen(r.tail);
    assert_true(n > 0 && n < sizeof(r.tail));
    assert_string_equal(r.tail + n - strlen(" / 最後の行"), " / 最後の行");
    assert_true(((unsigned char)r.tail[0] & 0xC0) != 0x80); /* a whole first character */

    /* Nothing written: nothing kept; a command that never ends its output's
     * pipe (a daemon it started) does not hold us past its own end. */
    spec.command = "true";
    assert_int_equal(bkp_hook_exec(&spec, &r), 0);
    assert_string_equal(r.tail, "");
    spec.command = "(sleep 30 &) ; echo started";
    assert_int_equal(bkp_hook_exec(&spec, &r), 0);
    assert_string_equal(r.tail, "started");
    assert_true(r.seconds < 10);
    /* A daemon out of the group that holds the pipe and keeps writing. */
    spec.command = "setsid sh -c 'while :; do echo more; done' & echo started";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(bkp_hook_exec(&spec, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allowlist_only),
        cmocka_unit_test(own_settings_win_and_secrets_never_pass),
        cmocka_unit_test(another_user_gets_its_own_home),
        cmocka_unit_test(user_names),
        cmocka_unit_test(hook_sees_no_passphrase_source),
        cmocka_unit_test(unknown_user_is_refused_before_anything_runs),
        cmocka_unit_test(failed_hook_keeps_its_last_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
