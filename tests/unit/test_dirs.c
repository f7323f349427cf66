/*
 * test_dirs.c — folders of a restore made and finished by descriptor
 * (restore/dirs.h).
 *
 * Proves that folders are made 0700 while the restore runs and end with
 * their recorded mode and times once finished, children before parents
 * (a parent of mode 0555 or 0311 does not stop its children being set);
 * that a folder moved away during the restore and replaced by another is
 * reported and neither it nor the replacement is touched, and that a folder
 * gone is not made again; and that a folder already in the target (--force)
 * is taken over at once: owned by the restore and mode 0700, so its former
 * owner cannot move it while the restore fills it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include "restore/dirs.h"

#include "testutil.h"

static char top[64], box[128], outside[128];
static int boxfd = -1;
static struct archive *awd;
static int flags;

static int setup(void **state)
{
    (void)state;
    if (test_box("dirs", top, box, outside))
        return -1;
    boxfd = open(box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    awd = archive_write_disk_new();
    if (boxfd < 0 || !awd)
        return -1;
    archive_write_disk_set_standard_lookup(awd);
    flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_FFLAGS;
    if (geteuid() == 0)
        flags |= ARCHIVE_EXTRACT_OWNER;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    archive_write_free(awd);
    close(boxfd);
    /* Modes 0311 and the like: make every folder readable before removing. */
    char cmd[192];
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", top, top);
    return system(cmd) == 0 ? 0 : -1;
}

static void dir_item(bkp_item *it, const char *path, unsigned mode, int64_t mtime)
{
    bkp_item_init(it);
    it->entry = archive_entry_new();
    assert_non_null(it->entry);
    archive_entry_set_pathname(it->entry, path);
    archive_entry_set_filetype(it->entry, AE_IFDIR);
    archive_entry_set_perm(it->entry, mode);
    archive_entry_set_uid(it->entry, geteuid());
    archive_entry_set_gid(it->entry, getegid());
    archive_entry_set_mtime(it->entry, mtime, 123456789);
    archive_entry_set_atime(it->entry, mtime - 1000, 5);
}

static void make(rst_dirs *d, const char *path, unsigned mode, int64_t mtime)
{
    bkp_item it;
    dir_item(&it, path, mode, mtime);
    assert_true(rst_dirs_takes(d, &it, path));
    assert_int_equal(rst_dirs_make(d, &it, path), 0);
    bkp_item_clear(&it);
}

static void stat_in_box(const char *rel, struct stat *st)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", box, rel);
    assert_int_equal(lstat(p, st), 0);
}

static void makes_then_finishes(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        unsigned mode;
    } tree[] = {{"a", 0755}, {"a/b", 0555}, {"a/b/c", 0700}, {"a/b/c/deep", 0750},
                {"a/d", 0311}, {"a/d/e", 0777}, {"ab", 0700}, {"ab/c", 01777}};
    const size_t n = sizeof(tree) / sizeof(tree[0]);
    rst_dirs *d = rst_dirs_new(boxfd, awd, flags);
    struct stat st;
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        make(d, tree[i].path, tree[i].mode, 1000000000 + (int64_t)i);
    for (size_t i = 0; i < n; i++) {
        stat_in_box(tree[i].path, &st);
        assert_int_equal(st.st_mode & 07777, 0700);
    }
    /* A writer puts a file in a folder: its mtime moves, and is set after. */
    char p[512];
    snprintf(p, sizeof(p), "%s/a/b/c/file", box);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rst_dirs_finish(d), 0);
    for (size_t i = 0; i < n; i++) {
        stat_in_box(tree[i].path, &st);
        assert_int_equal(st.st_mode & 07777, tree[i].mode);
        assert_int_equal(st.st_mtim.tv_sec, 1000000000 + (int64_t)i);
        assert_int_equal(st.st_mtim.tv_nsec, 123456789);
        assert_int_equal(st.st_atim.tv_sec, 1000000000 + (int64_t)i - 1000);
    }
    rst_dirs_free(d);
}

static void moved_is_reported(void **state)
{
    (void)state;
    rst_dirs *d = rst_dirs_new(boxfd, awd, flags);
    char from[512], to[512];
    struct stat st;
    assert_non_null(d);
    make(d, "m", 0755, 1200000000);
    make(d, "m/n", 0755, 1200000000);
    make(d, "kept", 0751, 1200000000);
    /* Moved away, another folder put in its place. */
    snprintf(from, sizeof(from), "%s/m", box);
    snprintf(to, sizeof(to), "%s/m", outside);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(mkdir(from, 0770), 0);
    assert_int_equal(chmod(from, 0770), 0);
    /* m/n is gone, m is another folder: both reported; kept is set. */
    assert_int_equal(rst_dirs_finish(d), 2);
    stat_in_box("m", &st);
    assert_int_equal(st.st_mode & 07777, 0770);
    assert_int_not_equal(st.st_mtim.tv_sec, 1200000000);
    snprintf(from, sizeof(from), "%s/m/n", box);
    assert_int_not_equal(lstat(from, &st), 0); /* not made again */
    assert_int_equal(lstat(to, &st), 0);       /* the one moved away: untouched */
    assert_int_equal(st.st_mode & 07777, 0700);
    stat_in_box("kept", &st);
    assert_int_equal(st.st_mode & 07777, 0751);
    rst_dirs_free(d);
}

static void existing_is_taken_over(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/there", box);
    assert_int_equal(mkdir(p, 0777), 0);
    assert_int_equal(chmod(p, 0777), 0);
    assert_int_equal(chown(p, 65534, 65534), 0);
    rst_dirs *d = rst_dirs_new(boxfd, awd, flags);
    assert_non_null(d);
    make(d, "there", 0750, 1300000000);
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(rst_dirs_finish(d), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_uid, 0);
    rst_dirs_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(makes_then_finishes, setup, teardown),
        cmocka_unit_test_setup_teardown(moved_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_is_taken_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
