/*
 * test_lock.c — the one lock mechanism (bkp/io/lock.h): an exclusive flock on
 * an open descriptor, and the named locks built on it.
 *
 * Proves that a held lock refuses a second holder with -EBUSY (exit code 3
 * in the program), that closing the descriptor frees it, that bkp_lock_file
 * creates its file and waits for nobody when it is free, and that a named
 * lock excludes a second taker until it is released.
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

#include <cmocka.h>

#include "bkp/io/lock.h"

#include "testutil.h"

static void test_fd_lock_excludes(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-lock-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int a = bkp_lock_file(path);
    assert_true(a >= 0);
    /* Another open file description of the same file is another holder. */
    int b = open(path, O_RDWR | O_CLOEXEC);
    assert_true(b >= 0);
    assert_int_equal(bkp_lock_fd(b, false), -EBUSY);
    close(a);
    assert_int_equal(bkp_lock_fd(b, false), 0);
    close(b);
    test_rm_rf(dir);
}

static void test_named_lock_excludes(void **state)
{
    (void)state;
    char dir[] = "/tmp/bkp-test-lock-XXXXXX", locks[64];
    assert_non_null(mkdtemp(dir));
    snprintf(locks, sizeof(locks), "%s/locks", dir);
    assert_int_equal(mkdir(locks, 0700), 0);
    bkp_lock *one = NULL, *two = NULL;
    assert_int_equal(bkp_lock_take(dir, "run", "test", &one), 0);
    assert_true(bkp_lock_is_held(dir, "run"));
    /* The same name again while its holder lives (here: this process, by
     * another descriptor, which the flock tells apart): refused, not waited
     * on, and the holder's lock left in place. */
    assert_int_equal(bkp_lock_take(dir, "run", "test", &two), -EBUSY);
    assert_null(two);
    assert_true(bkp_lock_is_held(dir, "run"));
    bkp_lock_release(one);
    assert_false(bkp_lock_is_held(dir, "run"));
    assert_int_equal(bkp_lock_take(dir, "run", "test", &two), 0);
    bkp_lock_release(two);
    test_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_lock_excludes),
        cmocka_unit_test(test_named_lock_excludes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
