/*
 * The recovery kit as an archive carries it (bkp_kit_emit): the same files
 * and the same SHA256SUMS as the kit written on a disk, SHA256SUMS last, the
 * programs marked; and the names a reader of a medium accepts as a kit's.
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
#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/media/kit.h"
#include "testutil.h"

static void test_member_names(void **state)
{
    (void)state;
    const char *good[] = {"bkp",
                          "lib/bkp",
                          "README.txt",
                          "SHA256SUMS",
                          "FORMAT.md",
                          "procedure-emr.ja.md",
                          "lib/libsodium.so.23",
                          "lib/libstdc++.so.6",
                          "lib/locale/ja/LC_MESSAGES/bkp.mo"};
    const char *bad[] = {"",
                         "../x",
                         ".hidden",
                         "lib/../../x",
                         "lib/.so",
                         "lib/libx",
                         "lib/sub/libx.so.1",
                         "docs/FORMAT.md",
                         "a b.md",
                         "lib/",
                         "lib/locale/ja/LC_MESSAGES/other.mo",
                         "/etc/passwd"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_true(bkp_kit_member_ok(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_false(bkp_kit_member_ok(bad[i]));
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(bkp_kit_member_ok(longname));
}

typedef struct seen {
    size_t n, exec;
    char last[64];
    bkp_buf sums;
    int fail_at; /* the put that fails, 0: none */
} seen;

static int put(const char *name, const void *data, size_t len, bool exec, void *ctx)
{
    seen *s = ctx;
    assert_true(bkp_kit_member_ok(name));
    if (++s->n == (size_t)s->fail_at)
        return -EIO;
    s->exec += exec;
    /* The launcher, the program and its loader, which the launcher runs. */
    if (exec)
        assert_true(!strcmp(name, "bkp") || !strcmp(name, "lib/bkp") ||
                    !strncmp(name, "lib/ld-linux", 12));
    snprintf(s->last, sizeof(s->last), "%s", name);
    if (!strcmp(name, "SHA256SUMS")) {
        bkp_buf_reset(&s->sums);
        bkp_buf_put(&s->sums, data, len);
    }
    return 0;
}

static void test_emit(void **state)
{
    (void)state;
    const bkp_kit_doc docs[] = {{"FORMAT.md", "# format\n"}, {"procedure-emr.ja.md", "手順\n"}};
    seen s = {0};
    bkp_kit_result res, disk;
    bkp_buf_init(&s.sums);
    assert_int_equal(bkp_kit_emit(docs, 2, put, &s, &res), 0);
    assert_true(res.written);
    assert_string_equal(s.last, "SHA256SUMS");
    assert_int_equal(s.n, res.files + 1);
    assert_int_equal(s.exec, 3);
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, s.sums.data, s.sums.len);
    bkp_hex(hex, h, sizeof(h));
    assert_string_equal(res.sums, hex);
    assert_non_null(strstr((char *)s.sums.data, "  procedure-emr.ja.md\n"));
    /* The same kit as on a disk. */
    char dir[] = "/tmp/bkp-test-kit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(bkp_kit_write(dir, docs, 2, &disk), 0);
    assert_string_equal(disk.sums, res.sums);
    assert_int_equal(disk.files, res.files);
    test_rm_rf(dir);
    /* A put that fails stops it, with that error. */
    seen f = {.fail_at = 3};
    bkp_buf_init(&f.sums);
    assert_int_equal(bkp_kit_emit(docs, 2, put, &f, &res), -EIO);
    assert_int_equal(f.n, 3);
    bkp_buf_free(&f.sums);
    bkp_buf_free(&s.sums);
}

/* The procedures beside a disk's kit: written 0444 whatever the umask, a
 * stale one of that name form removed, nothing else touched (another file,
 * a person's procedure-notes.md, a link of that form, a folder), a name of
 * another form refused; without `prune` a stale one stays (its runbook did
 * not load); one that cannot be written does not stop the others and
 * leaves no stale file of its name. */
static void test_procedures_write(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-proc-XXXXXX", p[256], q[256];
    struct stat st;
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/procedure-old.ja.md", dir);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/notes.md", dir);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/procedure-notes.md", dir);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof(p), "%s/procedure-link.en.md", dir);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    snprintf(p, sizeof(p), "%s/procedure-dir.en.md", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    mode_t old = umask(077);
    const bkp_kit_doc docs[] = {{"procedure-emr.ja.md", "手順\n"},
                                {"procedure-emr.en.md", "steps\n"}};
    /* Without prune, the stale one stays. */
    assert_int_equal(bkp_kit_procedures_write(dir, docs, 2, false), 0);
    snprintf(p, sizeof(p), "%s/procedure-old.ja.md", dir);
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(bkp_kit_procedures_write(dir, docs, 2, true), 0);
    umask(old);
    snprintf(p, sizeof(p), "%s/procedure-notes.md", dir);
    assert_int_equal(lstat(p, &st), 0);
    snprintf(p, sizeof(p), "%s/procedure-emr.ja.md", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0444);
    snprintf(p, sizeof(p), "%s/procedure-old.ja.md", dir);
    assert_int_equal(lstat(p, &st), -1);
    snprintf(p, sizeof(p), "%s/notes.md", dir);
    assert_int_equal(lstat(p, &st), 0);
    snprintf(p, sizeof(p), "%s/procedure-link.en.md", dir);
    assert_int_equal(lstat(p, &st), 0);
    snprintf(q, sizeof(q), "%s/procedure-dir.en.md", dir);
    assert_int_equal(lstat(q, &st), 0);
    /* Rewritten over what is there, never through a link at its name. */
    const bkp_kit_doc over[] = {{"procedure-link.en.md", "x\n"}};
    assert_int_equal(bkp_kit_procedures_write(dir, over, 1, true), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    /* A folder at one name: that one fails, the other is written. */
    const bkp_kit_doc two[] = {{"procedure-dir.en.md", "x\n"}, {"procedure-ok.en.md", "y\n"}};
    assert_true(bkp_kit_procedures_write(dir, two, 2, true) < 0);
    snprintf(p, sizeof(p), "%s/procedure-ok.en.md", dir);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    const bkp_kit_doc bad[] = {{"../evil.md", "x\n"}};
    assert_int_equal(bkp_kit_procedures_write(dir, bad, 1, true), -EINVAL);
    const bkp_kit_doc other[] = {{"README.md", "x\n"}};
    assert_int_equal(bkp_kit_procedures_write(dir, other, 1, true), -EINVAL);
    const bkp_kit_doc lang[] = {{"procedure-emr.fr.md", "x\n"}};
    assert_int_equal(bkp_kit_procedures_write(dir, lang, 1, true), -EINVAL);
    test_rm_rf(dir);
}

/* What a check found: "why:name" lines. */
typedef struct findings {
    char text[1024];
    int n;
} findings;

static void note(const char *name, int why, void *ctx)
{
    findings *f = ctx;
    size_t at = strlen(f->text);
    snprintf(f->text + at, sizeof(f->text) - at, "%d:%s\n", why, name);
    f->n++;
}

static int check(const char *dir, findings *f)
{
    memset(f, 0, sizeof(*f));
    return bkp_kit_check(dir, note, f);
}

/* A kit checks as written; a changed byte, a missing file, a planted one, a
 * damaged list are each found, by name; no kit is -ENOENT. */
static void test_check(void **state)
{
    (void)state;
    const bkp_kit_doc docs[] = {{"FORMAT.md", "# format\n"}};
    bkp_kit_result res;
    findings f;
    char dir[] = "/tmp/bkp-test-kit-XXXXXX", path[512];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(check(dir, &f), -ENOENT);
    assert_int_equal(bkp_kit_write(dir, docs, 1, &res), 0);
    assert_int_equal(check(dir, &f), 0);
    /* One byte of the program changed. */
    snprintf(path, sizeof(path), "%s/bkp-recovery/lib/bkp", dir);
    assert_int_equal(chmod(path, 0644), 0);
    FILE *fp = fopen(path, "r+");
    assert_non_null(fp);
    int c = fgetc(fp);
    fseek(fp, 0, SEEK_SET);
    fputc(c ^ 1, fp);
    fclose(fp);
    assert_int_equal(check(dir, &f), 1);
    assert_string_equal(f.text, "-74:lib/bkp\n"); /* -EBADMSG */
    /* Missing, and something planted. */
    snprintf(path, sizeof(path), "%s/bkp-recovery/FORMAT.md", dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/bkp-recovery/lib/extra.so.1", dir);
    assert_int_equal(symlink("/bin/sh", path), 0);
    assert_int_equal(check(dir, &f), 3);
    assert_non_null(strstr(f.text, "-2:FORMAT.md\n"));
    assert_non_null(strstr(f.text, "-17:lib/extra.so.1\n"));
    /* Written again, it checks. */
    assert_int_equal(bkp_kit_write(dir, docs, 1, &res), 0);
    assert_int_equal(check(dir, &f), 0);
    /* A listed file replaced by a link to a file of the host with the
     * same bytes is not followed: it is missing. A planted name's escape
     * bytes never reach the reader. */
    char host[512];
    snprintf(host, sizeof(host), "%s/host-readme", dir);
    snprintf(path, sizeof(path), "%s/bkp-recovery/README.txt", dir);
    assert_int_equal(rename(path, host), 0);
    assert_int_equal(symlink(host, path), 0);
    snprintf(path, sizeof(path), "%s/bkp-recovery/\x1b[2Jplanted", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(check(dir, &f), 2);
    assert_non_null(strstr(f.text, "-2:README.txt\n"));
    assert_non_null(strstr(f.text, "-17:?[2Jplanted\n"));
    /* A kit with a link in it is written again (it was not intact). */
    res.written = false;
    assert_int_equal(bkp_kit_write(dir, docs, 1, &res), 0);
    assert_true(res.written);
    assert_int_equal(check(dir, &f), 0);
    /* A list that is no kit's is one finding, not one per file. */
    snprintf(path, sizeof(path), "%s/bkp-recovery/SHA256SUMS", dir);
    assert_int_equal(chmod(path, 0644), 0);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("not a list\n", fp);
    fclose(fp);
    assert_int_equal(check(dir, &f), 1);
    assert_string_equal(f.text, "-74:SHA256SUMS\n");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(check(dir, &f), 1);
    assert_string_equal(f.text, "-2:SHA256SUMS\n");
    test_rm_rf(dir);
}

/* SHA256SUMS as read from a medium: the list bkp writes parses to its
 * names and hashes; anything else names no file at all. */
static void test_sums_parse(void **state)
{
    (void)state;
    const char *h = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char good[400];
    snprintf(good, sizeof(good), "%s  bkp\n%s  lib/libsodium.so.23\n%s  FORMAT.md", h, h, h);
    bkp_kit_sum *s = NULL;
    size_t n = 0;
    assert_int_equal(bkp_kit_sums_parse(good, strlen(good), &s, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[1].name, "lib/libsodium.so.23");
    assert_int_equal(s[2].sha256[0], 0x00);
    assert_int_equal(s[2].sha256[31], 0xff);
    bkp_kit_sums_free(s, n);

    char bad[7][400];
    snprintf(bad[0], 400, "%s  bkp\n%s  bkp\n", h, h);        /* twice */
    snprintf(bad[1], 400, "%s  bkp\n%s  SHA256SUMS\n", h, h); /* itself */
    snprintf(bad[2], 400, "%s  lib/../../etc/passwd\n", h);   /* no member */
    snprintf(bad[3], 400, "%s bkp\n", h);                     /* one space */
    snprintf(bad[4], 400, "%s  bkp\n\n", h);                  /* blank line */
    snprintf(bad[5], 400, "%.63sg  bkp\n", h);                /* not hex */
    snprintf(bad[6], 400, "%s", "");                          /* empty */
    for (size_t i = 0; i < 7; i++) {
        s = (bkp_kit_sum *)1;
        n = 9;
        assert_int_equal(bkp_kit_sums_parse(bad[i], strlen(bad[i]), &s, &n), -EBADMSG);
        assert_ptr_equal(s, (bkp_kit_sum *)1); /* outputs only on success */
        assert_int_equal(n, 9);
    }
    /* A NUL inside a name is no name. */
    char nul[80];
    snprintf(nul, sizeof(nul), "%s  bkp", h);
    nul[67] = '\0';
    assert_int_equal(bkp_kit_sums_parse(nul, 68, &s, &n), -EBADMSG);
    /* No more lines than a kit has files. */
    size_t cap = (BKP_KIT_FILES_MAX + 1) * 90, len = 0;
    char *many = malloc(cap);
    assert_non_null(many);
    for (unsigned i = 0; i <= BKP_KIT_FILES_MAX; i++)
        len += (size_t)snprintf(many + len, cap - len, "%s  lib/libx%u.so.1\n", h, i);
    assert_int_equal(bkp_kit_sums_parse(many, len, &s, &n), -EBADMSG);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_names),     cmocka_unit_test(test_emit),
        cmocka_unit_test(test_procedures_write), cmocka_unit_test(test_check),
        cmocka_unit_test(test_sums_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
