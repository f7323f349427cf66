/*
 * The change-rate guard: a simulated mass encryption is flagged, ordinary
 * nightly changes are not, a data set that always changes a lot is judged
 * against its own history, tiny data sets do not flap, and new data that
 * stops compressing is flagged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "policies/guard.h"

static const pol_guard defaults = {.enabled = true, .max_change = 0.2, .factor = 5, .min_files = 10};

/* Seven quiet nights of a 10,000-file data set: about 1 % changes, compressible. */
static void quiet_history(pol_change *h, int n)
{
    for (int i = 0; i < n; i++)
        h[i] = (pol_change){.files = 10000, .added = 50, .changed = 60, .deleted = 20,
                            .bytes = 2000000000, .bytes_new = 20000000, .stored_new = 9000000};
}

static void test_mass_encryption(void **state)
{
    (void)state;
    pol_change h[7];
    pol_guard_verdict why;
    char text[512];
    quiet_history(h, 7);
    /* Half the files rewritten with random bytes. */
    pol_change now = {.files = 10000, .changed = 5000, .bytes = 2000000000,
                      .bytes_new = 1000000000, .stored_new = 1000500000};
    assert_true(pol_guard_check(&defaults, h, 7, &now, &why));
    assert_non_null(strstr(pol_guard_reason(&why, true, text, sizeof(text)), "50% of the files changed (0 added, 5000 changed, 0 deleted), against 1.3% usually"));
    /* Encrypted copies added and the originals deleted: the same. */
    now = (pol_change){.files = 10000, .added = 4000, .deleted = 4000, .bytes = 2000000000,
                       .bytes_new = 800000000, .stored_new = 800400000};
    assert_true(pol_guard_check(&defaults, h, 7, &now, &why));
}

static void test_normal_nights(void **state)
{
    (void)state;
    pol_change h[7];
    pol_guard_verdict why;
    quiet_history(h, 7);
    /* The benchmark's 1 % mutation, and a busier night of 5 %: no alarm. */
    pol_change now = {.files = 10021, .added = 52, .changed = 103, .deleted = 31,
                      .bytes = 2150000000, .bytes_new = 20000000, .stored_new = 12000000};
    assert_false(pol_guard_check(&defaults, h, 7, &now, &why));
    now.changed = 500;
    assert_false(pol_guard_check(&defaults, h, 7, &now, &why));
    /* The first generations have no history to jump from. */
    assert_false(pol_guard_check(&defaults, h, 0, &now, &why));
    assert_int_equal(why.signal, POL_GUARD_QUIET);
    char text[8] = "x";
    assert_string_equal(pol_guard_reason(&why, true, text, sizeof(text)), "");
}

static void test_own_history(void **state)
{
    (void)state;
    pol_guard_verdict why;
    /* A scratch area that rewrites 40 % of its files every night. */
    pol_change h[5];
    for (int i = 0; i < 5; i++)
        h[i] = (pol_change){.files = 1000, .changed = 400, .bytes = 1 << 30};
    pol_change now = {.files = 1000, .changed = 450, .bytes = 1 << 30};
    assert_false(pol_guard_check(&defaults, h, 5, &now, &why));
    /* ... unless it jumps far beyond that: everything plus new files. */
    pol_guard strict = defaults;
    strict.factor = 2;
    now = (pol_change){.files = 1500, .added = 500, .changed = 1000, .bytes = 1 << 30};
    assert_true(pol_guard_check(&strict, h, 5, &now, &why));
}

static void test_small_and_disabled(void **state)
{
    (void)state;
    pol_change h[3];
    pol_guard_verdict why;
    quiet_history(h, 3);
    /* Three files of a five-file data set: 60 %, but below min_files. */
    pol_change now = {.files = 5, .changed = 3, .bytes = 5000};
    assert_false(pol_guard_check(&defaults, h, 3, &now, &why));
    pol_guard off = defaults;
    off.enabled = false;
    now = (pol_change){.files = 10000, .changed = 9000, .bytes = 1 << 30};
    assert_false(pol_guard_check(&off, h, 3, &now, &why));
}

static void test_incompressible(void **state)
{
    (void)state;
    pol_change h[7];
    pol_guard_verdict why;
    char text[512];
    quiet_history(h, 7);
    /* Few files, but a large share of new data that no longer compresses
     * (a database file encrypted in place). */
    pol_change now = {.files = 10000, .changed = 3, .bytes = 2000000000, .bytes_new = 700000000,
                      .stored_new = 699000000};
    assert_true(pol_guard_check(&defaults, h, 7, &now, &why));
    assert_non_null(strstr(pol_guard_reason(&why, true, text, sizeof(text)), "does not compress"));
    /* The same amount of compressible new data is only a big night. */
    now.stored_new = 300000000;
    assert_false(pol_guard_check(&defaults, h, 7, &now, &why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mass_encryption), cmocka_unit_test(test_normal_nights),
        cmocka_unit_test(test_own_history),     cmocka_unit_test(test_small_and_disabled),
        cmocka_unit_test(test_incompressible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
