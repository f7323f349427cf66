/*
 * test_pax.c — a source server's trees as a pax archive (pax.h): what the
 * agent writes of a tree (a folder, files, a file of two names, a link
 * pointing out, an excluded name) reads back entry by entry under the
 * backup server's rule, in walk order, the second name a hard link to the
 * first and the link mark taken off; and the rule refuses what no walk of
 * the paths asked for gives (a name with "..", an absolute one, one
 * outside the paths, the same twice, out of order, a hard link to a file
 * not marked, a link without a target).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "bkp/capture/pax.h"
#include "bkp/io/bytes.h"

static int put(void *ctx, const void *buf, size_t len)
{
    bkp_buf_put(ctx, buf, len);
    return ((bkp_buf *)ctx)->failed ? -ENOMEM : 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_send_and_check(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-pax-XXXXXX", p[600];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/tree", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/tree/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/tree/sub/a.txt", dir);
    write_file(p, "first name");
    char q[600];
    snprintf(q, sizeof(q), "%s/tree/z-second", dir);
    assert_int_equal(link(p, q), 0);
    snprintf(p, sizeof(p), "%s/tree/out", dir);
    assert_int_equal(symlink("/etc", p), 0);
    snprintf(p, sizeof(p), "%s/tree/skip.tmp", dir);
    write_file(p, "excluded");

    char root[600], pat[] = "*.tmp";
    snprintf(root, sizeof(root), "%s/tree", dir);
    char *roots[] = {root}, *ex[] = {pat};
    bkp_pax_send_opts o = {.roots = roots, .nroots = 1, .exclude = ex, .nexclude = 1};
    bkp_buf b;
    bkp_buf_init(&b);
    uint64_t unreadable = 7;
    assert_int_equal(bkp_pax_send(&o, put, &b, &unreadable), 0);
    assert_int_equal(unreadable, 0);

    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_memory(a, b.data, b.len), ARCHIVE_OK);
    bkp_pax_check k;
    assert_int_equal(bkp_pax_check_init(&k, roots, 1), 0);
    struct archive_entry *e;
    const char *want[] = {"", "/out", "/sub", "/sub/a.txt", "/z-second"};
    size_t n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *path, *why;
        assert_int_equal(bkp_pax_check_entry(&k, e, &path, &why), 0);
        assert_true(n < 5);
        snprintf(p, sizeof(p), "%s%s", root, want[n]);
        assert_string_equal(path, p);
        assert_int_equal(archive_entry_xattr_count(e), 0); /* the mark is off */
        if (n == 1)
            assert_string_equal(archive_entry_symlink(e), "/etc");
        if (n == 4) {
            snprintf(q, sizeof(q), "%s/sub/a.txt", root + 1);
            assert_non_null(archive_entry_hardlink(e));
            assert_string_equal(archive_entry_hardlink(e), q);
        }
        n++;
    }
    assert_int_equal(n, 5);
    bkp_pax_check_clear(&k);
    archive_read_free(a);
    bkp_buf_free(&b);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* One entry of `type` named `name` (a hard link to `link` when given),
 * checked against the roots /srv/a and /srv/b after `before`. */
static int check(const char *before, const char *name, mode_t type, const char *link,
                 bool marked, const char **why)
{
    char r1[] = "/srv/a", r2[] = "/srv/b";
    char *roots[] = {r1, r2};
    bkp_pax_check k;
    const char *path;
    assert_int_equal(bkp_pax_check_init(&k, roots, 2), 0);
    struct archive_entry *e = archive_entry_new();
    int rc = 0;
    if (before) {
        archive_entry_set_pathname(e, before);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, 1);
        if (marked)
            archive_entry_xattr_add_entry(e, BKP_PAX_LINKS, "1", 1);
        assert_int_equal(bkp_pax_check_entry(&k, e, &path, why), 0);
        archive_entry_clear(e);
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    if (type == AE_IFREG)
        archive_entry_set_size(e, 1);
    if (link)
        archive_entry_set_hardlink(e, link);
    rc = bkp_pax_check_entry(&k, e, &path, why);
    archive_entry_free(e);
    bkp_pax_check_clear(&k);
    return rc;
}

static void test_rule(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(check(NULL, "srv/a/x", AE_IFREG, NULL, false, &why), 0);
    assert_int_equal(check(NULL, "srv/a/", AE_IFDIR, NULL, false, &why), 0);
    assert_int_equal(check("srv/a/x", "srv/b/y", AE_IFREG, NULL, false, &why), 0);
    assert_int_equal(check("srv/a/x", "srv/b/y", AE_IFREG, "srv/a/x", true, &why), 0);
    static const struct {
        const char *before, *name, *link, *says;
        mode_t type;
    } bad[] = {
        {NULL, "srv/a/../etc", NULL, "not a walked path", AE_IFREG},
        {NULL, "/srv/a/x", NULL, "not a walked path", AE_IFREG},
        {NULL, "srv/a//x", NULL, "not a walked path", AE_IFREG},
        {NULL, "srv/a/./x", NULL, "not a walked path", AE_IFREG},
        {NULL, "srv/a/x/", NULL, "not a walked path", AE_IFREG},
        {NULL, "", NULL, "not a walked path", AE_IFREG},
        {NULL, "srv/c", NULL, "outside the paths", AE_IFREG},
        {NULL, "srv/ab", NULL, "outside the paths", AE_IFREG},
        {NULL, "etc/shadow", NULL, "outside the paths", AE_IFREG},
        {"srv/b/y", "srv/a/x", NULL, "outside the paths", AE_IFREG},
        {"srv/a/x", "srv/a/x", NULL, "sent twice", AE_IFREG},
        {"srv/a/y", "srv/a/x", NULL, "sent twice", AE_IFREG},
        {"srv/a/x", "srv/a/y", "srv/a/x", "a hard link to no file", AE_IFREG},
        {NULL, "srv/a/y", "srv/a/../../etc/passwd", "a hard link to no file", AE_IFREG},
        {NULL, "srv/a/l", NULL, "without a target", AE_IFLNK},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int rc = check(bad[i].before, bad[i].name, bad[i].type, bad[i].link, false, &why);
        if (rc != -EBADMSG || !strstr(why, bad[i].says))
            fail_msg("%s after %s: %d, %s (expected: %s)", bad[i].name,
                     bad[i].before ? bad[i].before : "-", rc, rc ? why : "taken", bad[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_and_check),
        cmocka_unit_test(test_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
