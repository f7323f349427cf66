/*
 * test_beneath.c — folders inside a drill's sandbox, never outside it
 * (restore/beneath.h).
 *
 * Proves that a folder is made and opened beneath the sandbox, through a
 * link that stays inside it; that a path through an absolute link, or a
 * relative one that climbs out, is refused with nothing made outside; that
 * a dangling link is not made into a folder through; and that "." and ".."
 * are refused before any lookup.
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

#include <cmocka.h>

#include "restore/beneath.h"

#include "testutil.h"

static char top[64], box[128], outside[128];

static int setup(void **state)
{
    (void)state;
    return test_box("beneath", top, box, outside);
}

static int teardown(void **state)
{
    (void)state;
    test_rm_rf(top);
    return 0;
}

static bool outside_empty(void)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/x", outside);
    struct stat st;
    return stat(p, &st) != 0;
}

static void makes_and_opens_beneath(void **state)
{
    (void)state;
    int b = open(box, O_RDONLY | O_DIRECTORY), fd = -1;
    assert_true(b >= 0);
    assert_int_equal(rst_beneath_mkdir(b, "var/restore/emr", 0755, &fd), 0);
    struct stat st, want;
    char p[256];
    snprintf(p, sizeof(p), "%s/var/restore/emr", box);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(stat(p, &want), 0);
    assert_true(st.st_ino == want.st_ino && st.st_dev == want.st_dev);
    assert_int_equal(st.st_mode & 07777, 0755); /* exactly, not through the umask */
    close(fd);
    /* Again: it is there, and found. */
    assert_int_equal(rst_beneath_mkdir(b, "var//restore/emr/", 0700, &fd), 0);
    close(fd);
    /* A link that stays inside is followed (where openat2 is there). */
    snprintf(p, sizeof(p), "%s/var/inside", box);
    assert_int_equal(symlink("restore", p), 0);
    int rc = rst_beneath_mkdir(b, "var/inside/emr/sub", 0700, &fd);
    assert_true(rc == 0 || rc == -ELOOP);
    if (!rc)
        close(fd);
    close(b);
}

static void links_out_are_refused(void **state)
{
    (void)state;
    int b = open(box, O_RDONLY | O_DIRECTORY), fd = -1;
    char p[256];
    assert_true(b >= 0);
    snprintf(p, sizeof(p), "%s/evil", box);
    assert_int_equal(symlink(outside, p), 0); /* absolute */
    snprintf(p, sizeof(p), "%s/up", box);
    assert_int_equal(symlink("../outside", p), 0); /* relative, climbing out */
    snprintf(p, sizeof(p), "%s/dangling", box);
    char target[256];
    snprintf(target, sizeof(target), "%s/x", outside);
    assert_int_equal(symlink(target, p), 0); /* to a folder that is not there yet */
    int rc = rst_beneath_mkdir(b, "evil/x", 0700, &fd);
    assert_true(rc == -EXDEV || rc == -ELOOP);
    rc = rst_beneath_mkdir(b, "up/x", 0700, &fd);
    assert_true(rc == -EXDEV || rc == -ELOOP);
    rc = rst_beneath_mkdir(b, "dangling", 0700, &fd);
    assert_true(rc == -EXDEV || rc == -ELOOP);
    rc = rst_beneath_mkdir(b, "dangling/y", 0700, &fd);
    assert_true(rc == -EXDEV || rc == -ELOOP);
    assert_true(outside_empty());
    assert_int_equal(rst_beneath_mkdir(b, "a/../../outside/x", 0700, &fd), -EINVAL);
    assert_int_equal(rst_beneath_mkdir(b, "./x", 0700, &fd), -EINVAL);
    assert_int_equal(rst_beneath_mkdir(b, "/x", 0700, &fd), -EINVAL);
    assert_int_equal(rst_beneath_mkdir(b, "", 0700, &fd), -EINVAL);
    assert_true(outside_empty());
    close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(makes_and_opens_beneath, setup, teardown),
        cmocka_unit_test_setup_teardown(links_out_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
