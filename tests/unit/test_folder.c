/*
 * test_folder.c — a restored file's folder, entered without following any
 * link (restore/folder.h).
 *
 * Proves that missing folders are made and the folder opened beneath the
 * target; that no symbolic link is followed at all — not one leading out,
 * not a dangling one, not even one that stays inside (the restore makes
 * links from the item list, and a file must never land through one); that
 * ".." and absolute paths are refused; and that a path longer than PATH_MAX
 * (taken one component at a time) is made and refused the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include <cmocka.h>

#include "restore/folder.h"

#include "testutil.h"

static char top[64], box[128], outside[128];

static int setup(void **state)
{
    (void)state;
    return test_box("folder", top, box, outside);
}

static int teardown(void **state)
{
    (void)state;
    test_rm_rf(top);
    return 0;
}

/* nftw cannot go past PATH_MAX; rm can. */
static int teardown_deep(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

static bool outside_empty(void)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/x", outside);
    struct stat st;
    return stat(p, &st) != 0;
}

static void same_file(int fd, const char *path)
{
    struct stat st, want;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(stat(path, &want), 0);
    assert_true(st.st_ino == want.st_ino && st.st_dev == want.st_dev);
}

static void makes_and_opens(void **state)
{
    (void)state;
    int b = open(box, O_RDONLY | O_DIRECTORY), fd = -1;
    char p[256];
    assert_true(b >= 0);
    assert_int_equal(rst_folder_open(b, "var/restore/emr", &fd), 0);
    snprintf(p, sizeof(p), "%s/var/restore/emr", box);
    same_file(fd, p);
    close(fd);
    assert_int_equal(rst_folder_open(b, "var//restore/emr/", &fd), 0);
    same_file(fd, p);
    close(fd);
    assert_int_equal(rst_folder_open(b, ".", &fd), 0);
    same_file(fd, box);
    close(fd);
    close(b);
}

static void no_link_is_followed(void **state)
{
    (void)state;
    int b = open(box, O_RDONLY | O_DIRECTORY), fd = -1;
    char p[256], target[256];
    assert_true(b >= 0);
    assert_int_equal(mkdir(strcat(strcpy(p, box), "/real"), 0755), 0);
    snprintf(p, sizeof(p), "%s/inside", box);
    assert_int_equal(symlink("real", p), 0); /* stays inside: still refused */
    snprintf(p, sizeof(p), "%s/evil", box);
    assert_int_equal(symlink(outside, p), 0);
    snprintf(p, sizeof(p), "%s/dangling", box);
    snprintf(target, sizeof(target), "%s/x", outside);
    assert_int_equal(symlink(target, p), 0);
    assert_int_equal(rst_folder_open(b, "inside", &fd), -ELOOP);
    assert_int_equal(rst_folder_open(b, "inside/x", &fd), -ELOOP);
    assert_int_equal(rst_folder_open(b, "evil/x", &fd), -ELOOP);
    assert_int_equal(rst_folder_open(b, "dangling", &fd), -ELOOP);
    assert_int_equal(rst_folder_open(b, "dangling/y", &fd), -ELOOP);
    assert_true(outside_empty());
    assert_int_equal(rst_folder_open(b, "real/../../outside/x", &fd), -EINVAL);
    assert_int_equal(rst_folder_open(b, "/x", &fd), -EINVAL);
    assert_true(outside_empty());
    close(b);
}

/* rst_folder_enter makes nothing: a missing folder is -ENOENT, and what is
 * there is opened as rst_folder_open would. */
static void enter_makes_nothing(void **state)
{
    (void)state;
    int b = open(box, O_RDONLY | O_DIRECTORY), fd = -1;
    char p[256];
    struct stat st;
    assert_true(b >= 0);
    assert_int_equal(rst_folder_enter(b, "not/there", &fd), -ENOENT);
    snprintf(p, sizeof(p), "%s/not", box);
    assert_int_not_equal(lstat(p, &st), 0);
    assert_int_equal(rst_folder_open(b, "is/there", &fd), 0);
    close(fd);
    assert_int_equal(rst_folder_enter(b, "is/there", &fd), 0);
    snprintf(p, sizeof(p), "%s/is/there", box);
    same_file(fd, p);
    close(fd);
    assert_int_equal(rst_folder_enter(b, "is/there/../../..", &fd), -EINVAL);
    close(b);
}

/* Longer than PATH_MAX: one component at a time, and a link deep down is
 * refused there too. */
static void past_path_max(void **state)
{
    (void)state;
    int b = open(box, O_RDONLY | O_DIRECTORY), fd = -1;
    char name[121], *path = calloc(1, 40 * 121 + 16);
    assert_true(b >= 0 && path);
    memset(name, 'd', 120);
    name[120] = '\0';
    for (int i = 0; i < 40; i++)
        strcat(strcat(path, i ? "/" : ""), name);
    assert_int_equal(rst_folder_open(b, path, &fd), 0);
    assert_int_equal(fchdir(fd), 0);
    close(fd);
    assert_int_equal(symlink(outside, "evil"), 0);
    assert_int_equal(chdir("/"), 0);
    strcat(path, "/evil/x");
    assert_int_equal(rst_folder_open(b, path, &fd), -ELOOP);
    assert_true(outside_empty());
    free(path);
    close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(makes_and_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(no_link_is_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(enter_makes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(past_path_max, setup, teardown_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
