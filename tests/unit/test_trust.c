/*
 * StrictModes: a policy, runbook or passphrase file is believed only when it
 * and every folder above it are beyond the reach of other users; each
 * refusal says which chmod or chown to run.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/host/trust.h"
#include "catalogue.h"
#include "testutil.h"

static char logbuf[4096];

static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)ctx;
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

#define FIX_LEN (sizeof(bkp_trust_fix) + 8)

static int stat_rule(mode_t type_mode, uid_t uid, unsigned flags, uid_t euid, char *fix)
{
    struct stat st = {.st_mode = type_mode, .st_uid = uid};
    bkp_trust_fix f;
    memset(&f, 0, sizeof(f));
    int rc = bkp_trust_stat("/x", &st, flags, euid, &f);
    snprintf(fix, FIX_LEN, "%d: `%s`", (int)f.why, f.command);
    return rc;
}

/* The rule alone, for users other than the one running the tests. */
static void test_rule(void **state)
{
    (void)state;
    char fix[FIX_LEN];
    assert_int_equal(stat_rule(S_IFREG | 0644, 0, 0, 0, fix), 0);
    assert_int_equal(stat_rule(S_IFREG | 0644, 1000, 0, 1000, fix), 0);
    assert_int_equal(stat_rule(S_IFREG | 0644, 0, 0, 1000, fix), 0); /* root's file, alice runs */
    assert_int_equal(stat_rule(S_IFREG | 0664, 0, 0, 0, fix), -EPERM);
    assert_non_null(strstr(fix, "`chmod go-w /x`"));
    assert_int_equal(stat_rule(S_IFREG | 0646, 0, 0, 0, fix), -EPERM);
    assert_int_equal(stat_rule(S_IFREG | 0644, 1000, 0, 0, fix), -EPERM);
    assert_non_null(strstr(fix, "`chown root /x`"));
    assert_int_equal(stat_rule(S_IFREG | 0666, 1000, 0, 0, fix), -EPERM);
    assert_non_null(strstr(fix, "chown root /x && chmod go-w /x"));
    /* Folders: not writable by others, unless sticky and a trusted user's. */
    assert_int_equal(stat_rule(S_IFDIR | 0755, 0, 0, 0, fix), 0);
    assert_int_equal(stat_rule(S_IFDIR | 01777, 0, 0, 0, fix), 0);
    assert_int_equal(stat_rule(S_IFDIR | 0777, 0, 0, 0, fix), -EPERM);
    assert_int_equal(stat_rule(S_IFDIR | 0775, 0, 0, 0, fix), -EPERM);
    assert_int_equal(stat_rule(S_IFDIR | 01777, 1000, 0, 0, fix), -EPERM);
    /* A secret: the invoking user's own, and private. */
    assert_int_equal(stat_rule(S_IFREG | 0600, 0, BKP_TRUST_SECRET, 0, fix), 0);
    assert_int_equal(stat_rule(S_IFREG | 0400, 1000, BKP_TRUST_SECRET, 1000, fix), 0);
    assert_int_equal(stat_rule(S_IFREG | 0600, 0, BKP_TRUST_SECRET, 1000, fix), -EPERM);
    assert_int_equal(stat_rule(S_IFREG | 0600, 65534, BKP_TRUST_SECRET, 0, fix), -EPERM);
    assert_non_null(strstr(fix, "`chown root /x`"));
    assert_int_equal(stat_rule(S_IFREG | 0640, 0, BKP_TRUST_SECRET, 0, fix), -EPERM);
    assert_non_null(strstr(fix, "`chmod 600 /x`"));
    /* A folder above a secret may be root's. */
    assert_int_equal(stat_rule(S_IFDIR | 0755, 0, BKP_TRUST_SECRET, 1000, fix), 0);
    assert_int_equal(stat_rule(S_IFIFO | 0600, 0, 0, 0, fix), -EPERM);
}

static void touch(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

/* Real files, as the user running the tests (root here, or anyone). */
static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-trust-XXXXXX", sub[64], file[80], link[80], *real = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/etc", dir);
    snprintf(file, sizeof(file), "%s/policy.yaml", sub);
    snprintf(link, sizeof(link), "%s/link.yaml", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    touch(file, 0644);
    assert_int_equal(symlink(file, link), 0);
    bkp_log_set_sink(sink, NULL);

    assert_int_equal(bkp_trust_file(file, 0, "policy", NULL), 0);
    assert_int_equal(bkp_trust_file(link, 0, "policy", &real), 0);
    assert_string_equal(real, file); /* read through the path checked */
    free(real);
    assert_int_equal(bkp_trust_file(dir, 0, "policy", NULL), -EPERM); /* a folder */
    assert_int_equal(bkp_trust_file("/nonexistent/p.yaml", 0, "policy", NULL), -ENOENT);

    logbuf[0] = '\0';
    assert_int_equal(chmod(file, 0666), 0);
    assert_int_equal(bkp_trust_file(link, 0, "policy", NULL), -EPERM);
    assert_non_null(strstr(logbuf, "chmod go-w"));
    assert_int_equal(chmod(file, 0644), 0);

    logbuf[0] = '\0';
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(bkp_trust_file(file, 0, "policy", NULL), -EPERM);
    assert_non_null(strstr(logbuf, "the folder"));
    assert_non_null(strstr(logbuf, "chmod go-w"));
    assert_int_equal(chmod(sub, 01777), 0); /* sticky, ours: like /tmp */
    assert_int_equal(bkp_trust_file(file, 0, "policy", NULL), 0);
    assert_int_equal(chmod(sub, 0755), 0);

    assert_int_equal(bkp_trust_file(file, BKP_TRUST_SECRET, "passphrase file", NULL), -EPERM);
    assert_int_equal(chmod(file, 0600), 0);
    assert_int_equal(bkp_trust_file(file, BKP_TRUST_SECRET, "passphrase file", NULL), 0);
    if (geteuid() == 0) { /* another owner, mode 0600: still refused */
        logbuf[0] = '\0';
        assert_int_equal(chown(file, 65534, (gid_t)-1), 0);
        assert_int_equal(bkp_trust_file(file, BKP_TRUST_SECRET, "passphrase file", NULL), -EPERM);
        assert_non_null(strstr(logbuf, "chown root"));
        assert_int_equal(bkp_trust_file(file, 0, "policy", NULL), -EPERM);
    }
    bkp_log_set_sink(NULL, NULL);
    test_rm_rf(dir);
}

/* A refusal is one whole sentence, in the reader's language: the English
 * wording as it always was, and the Japanese one from the catalogue. */
static void test_sentences(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-trust-XXXXXX", file[64], want[512];
    bkp_i18n_saved saved;
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/policy.yaml", dir);
    touch(file, 0666);
    bkp_log_set_sink(sink, NULL);
    logbuf[0] = '\0';
    bkp_i18n_begin(&saved, "en");
    assert_int_equal(bkp_trust_file(file, 0, N_("policy"), NULL), -EPERM);
    bkp_i18n_end(&saved);
    snprintf(want, sizeof(want),
             "policy %s is writable by group or others (mode 0666), so others could change the "
             "commands bkp runs — run `chmod go-w %s` and try again\n",
             file, file);
    assert_string_equal(logbuf, want);
    logbuf[0] = '\0';
    bkp_i18n_begin(&saved, "ja");
    assert_int_equal(bkp_trust_file(file, 0, N_("policy"), NULL), -EPERM);
    assert_int_equal(bkp_trust_file(file, BKP_TRUST_SECRET, N_("passphrase file"), NULL), -EPERM);
    bkp_i18n_end(&saved);
    snprintf(want, sizeof(want),
             "ポリシー %s はグループや他のユーザーが書き込めます（モード 0666）。このままでは"
             "他のユーザーが、bkp が実行するコマンドを書き換えられます。`chmod go-w "
             "%s` を実行してからやり直してください\n",
             file, file);
    assert_memory_equal(logbuf, want, strlen(want));
    assert_non_null(strstr(logbuf + strlen(want), "パスフレーズのファイル"));
    assert_non_null(strstr(logbuf + strlen(want), "読めます"));
    bkp_log_set_sink(NULL, NULL);
    test_rm_rf(dir);
}

/* A file about to be made (a machine key): its folder and those above are
 * checked before anything is written, and the path comes back resolved. */
static void test_new_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-trust-XXXXXX", sub[64], want[96], *real = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/etc", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    bkp_log_set_sink(sink, NULL);
    char path[96], rel[96];
    snprintf(path, sizeof(path), "%s/etc/machine.key", dir);
    snprintf(want, sizeof(want), "%s/etc/machine.key", dir);
    assert_int_equal(bkp_trust_new_file(path, "machine key", &real), 0);
    assert_string_equal(real, want);
    free(real);
    /* Through "..", resolved to the real folder. */
    snprintf(rel, sizeof(rel), "%s/etc/../etc/machine.key", dir);
    assert_int_equal(bkp_trust_new_file(rel, "machine key", &real), 0);
    assert_string_equal(real, want);
    free(real);
    real = NULL;
    logbuf[0] = '\0';
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(bkp_trust_new_file(path, "machine key", &real), -EPERM);
    assert_null(real);
    assert_non_null(strstr(logbuf, "chmod go-w"));
    assert_non_null(strstr(logbuf, "the secret it holds")); /* what is at stake: a secret */
    assert_int_equal(chmod(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/etc/", dir);
    assert_int_equal(bkp_trust_new_file(path, "machine key", &real), -EINVAL);
    assert_int_equal(bkp_trust_new_file("/nonexistent/machine.key", "machine key", &real), -ENOENT);
    bkp_log_set_sink(NULL, NULL);
    test_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_new_file),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
