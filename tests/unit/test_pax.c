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
#include "bkp/host/wire.h"
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
    bkp_pax_sent sent = {.unreadable = 7};
    o.stamps = -1;
    assert_int_equal(bkp_pax_send(&o, put, &b, &sent), 0);
    assert_int_equal(sent.unreadable, 0);
    assert_int_equal(sent.unchanged, 0);

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
            int len = snprintf(q, sizeof(q), "%s/sub/a.txt", root + 1);
            assert_true(len > 0 && (size_t)len < sizeof(q));
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

/* Entries `before` (each "T:name", T one of d folder, f file, F file of
 * two names, h a hard link to srv/a/x, l symbolic link), then one of `type` named `name` (a hard
 * link to `link` when given), checked against the roots /srv/a and /srv/b:
 * the last check's result. */
static int check(const char *const *before, const char *name, mode_t type, const char *link,
                 const char **why)
{
    char r1[] = "/srv/a", r2[] = "/srv/b";
    char *roots[] = {r1, r2};
    bkp_pax_check k;
    const char *path;
    assert_int_equal(bkp_pax_check_init(&k, roots, 2), 0);
    struct archive_entry *e = archive_entry_new();
    for (size_t i = 0; before && before[i]; i++) {
        char t = before[i][0];
        archive_entry_clear(e);
        archive_entry_set_pathname(e, before[i] + 2);
        archive_entry_set_filetype(e, t == 'd' ? AE_IFDIR : t == 'l' ? AE_IFLNK : AE_IFREG);
        if (t == 'l')
            archive_entry_set_symlink(e, "/etc");
        if (t == 'f' || t == 'F')
            archive_entry_set_size(e, 1);
        if (t == 'F')
            archive_entry_xattr_add_entry(e, BKP_PAX_LINKS, "2", 1);
        if (t == 'h')
            archive_entry_set_hardlink(e, "srv/a/x");
        assert_int_equal(bkp_pax_check_entry(&k, e, &path, why), 0);
    }
    archive_entry_clear(e);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    if (type == AE_IFREG)
        archive_entry_set_size(e, 1);
    if (link)
        archive_entry_set_hardlink(e, link);
    int rc = bkp_pax_check_entry(&k, e, &path, why);
    archive_entry_free(e);
    bkp_pax_check_clear(&k);
    return rc;
}

static void test_rule(void **state)
{
    (void)state;
    const char *why;
    static const char *const root_a
        [] = {"d:srv/a", NULL},
  *const a_x[] = {"d:srv/a", "f:srv/a/x", NULL}, *const a_xx[] = {"d:srv/a", "F:srv/a/x", NULL},
  *const both[] = {"d:srv/a", "F:srv/a/x", "d:srv/b", NULL},
  *const twice[] = {"d:srv/a", "F:srv/a/x", "h:srv/a/y", NULL},
  *const a_y[] = {"d:srv/a", "f:srv/a/y", NULL}, *const b_y[] = {"d:srv/b", "f:srv/b/y", NULL},
  *const a_l[] = {"d:srv/a", "l:srv/a/l", NULL}, *const a_f[] = {"d:srv/a", "f:srv/a/f", NULL},
  *const a_sub[] = {"d:srv/a", "d:srv/a/s", "f:srv/a/s/x", NULL};
    assert_int_equal(check(NULL, "srv/a/", AE_IFDIR, NULL, &why), 0);
    assert_int_equal(check(root_a, "srv/a/x", AE_IFREG, NULL, &why), 0);
    assert_int_equal(check(a_x, "srv/b", AE_IFDIR, NULL, &why), 0);
    assert_int_equal(check(both, "srv/b/y", AE_IFREG, "srv/a/x", &why), 0);
    assert_int_equal(check(a_sub, "srv/a/t", AE_IFREG, NULL, &why), 0);
    assert_int_equal(check(a_xx, "srv/a/y", AE_IFREG, "srv/a/x", &why), 0);
    static const struct {
        const char *const *before;
        const char *name, *link, *says;
        mode_t type;
    } bad[] = {
        {root_a, "srv/a/../etc", NULL, "not a walked path", AE_IFREG},
        {root_a, "/srv/a/x", NULL, "not a walked path", AE_IFREG},
        {root_a, "srv/a//x", NULL, "not a walked path", AE_IFREG},
        {root_a, "srv/a/./x", NULL, "not a walked path", AE_IFREG},
        {root_a, "srv/a/x/", NULL, "not a walked path", AE_IFREG},
        {root_a, "", NULL, "not a walked path", AE_IFREG},
        {root_a, "srv/c", NULL, "outside the paths", AE_IFREG},
        {root_a, "srv/ab", NULL, "outside the paths", AE_IFREG},
        {NULL, "etc/shadow", NULL, "outside the paths", AE_IFREG},
        {b_y, "srv/a/x", NULL, "outside the paths", AE_IFREG},
        {a_x, "srv/a/x", NULL, "sent twice", AE_IFREG},
        {a_y, "srv/a/x", NULL, "sent twice", AE_IFREG},
        {NULL, "srv/a/x", NULL, "folder was not sent", AE_IFREG},
        {a_l, "srv/a/l/passwd", NULL, "folder was not sent", AE_IFREG},
        {a_f, "srv/a/f/x", NULL, "folder was not sent", AE_IFREG},
        {root_a, "srv/a/s/x", NULL, "folder was not sent", AE_IFREG},
        {a_x, "srv/a/y", "srv/a/x", "a hard link to no file", AE_IFREG},
        {root_a, "srv/a/y", "srv/a/../../etc/passwd", "a hard link to no file", AE_IFREG},
        {twice, "srv/a/z", "srv/a/x", "a hard link to no file", AE_IFREG},
        {root_a, "srv/a/l", NULL, "without a target", AE_IFLNK},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int rc = check(bad[i].before, bad[i].name, bad[i].type, bad[i].link, &why);
        if (rc != -EBADMSG || !strstr(why, bad[i].says))
            fail_msg("%s: %d, %s (expected: %s)", bad[i].name, rc, rc ? why : "taken", bad[i].says);
    }
}

/* Told what the backup server holds of one file (its stat), the agent sends
 * it without its bytes, marked; the other as it is. A record out of order
 * makes it give the rest up. */
static void test_unchanged(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-pax-XXXXXX", a[600], b[600];
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    write_file(a, "held already");
    write_file(b, "new");
    struct stat st;
    assert_int_equal(lstat(a, &st), 0);
    bkp_buf rec, frame;
    bkp_buf_init(&rec);
    bkp_buf_init(&frame);
    bkp_wire_stamp w = {.path = a,
                        .plen = (uint32_t)strlen(a),
                        .size = (uint64_t)st.st_size,
                        .mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                        .ctime = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec,
                        .mode = st.st_mode};
    bkp_wire_stamp_put(&rec, &w);
    w.size++; /* b: another size, sent whole */
    w.path = b;
    bkp_wire_stamp_put(&rec, &w);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(bkp_wire_send(p[1], BKP_WIRE_STAMPS, rec.data, rec.len), 0);
    close(p[1]);

    char *roots[] = {dir};
    bkp_pax_send_opts o = {.roots = roots, .nroots = 1, .stamps = p[0]};
    bkp_pax_sent sent;
    assert_int_equal(bkp_pax_send(&o, put, &frame, &sent), 0);
    close(p[0]);
    assert_int_equal(sent.unchanged, 1);

    struct archive *ar = archive_read_new();
    archive_read_support_format_tar(ar);
    assert_int_equal(archive_read_open_memory(ar, frame.data, frame.len), ARCHIVE_OK);
    bkp_pax_check k;
    assert_int_equal(bkp_pax_check_init(&k, roots, 1), 0);
    struct archive_entry *e;
    int n = 0;
    while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
        const char *path, *why;
        assert_int_equal(bkp_pax_check_entry(&k, e, &path, &why), 0);
        assert_int_equal(archive_entry_xattr_count(e), 0);
        if (!strcmp(path, a)) {
            assert_true(k.unchanged);
            assert_int_equal(k.size, (uint64_t)st.st_size);
            assert_int_equal(archive_entry_size(e), 0);
        } else if (!strcmp(path, b)) {
            assert_false(k.unchanged);
            assert_int_equal(archive_entry_size(e), 3);
        }
        n++;
    }
    assert_int_equal(n, 3); /* the folder, a, b */
    bkp_pax_check_clear(&k);
    archive_read_free(ar);
    bkp_buf_free(&rec);
    bkp_buf_free(&frame);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_and_check),
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
