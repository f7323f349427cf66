/*
 * test_shares.c — split custody of the master secret (bkp/keys/shares.h).
 *
 * Proves that any K of N shares give the master secret back, through their
 * sheets' text as well; that K-1 shares do not (refused, and interpolated
 * anyway they give another secret); and that shares of different splits or
 * repositories, a repeated share or a paper sheet are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/keys/shares.h"
#include "bkp/keys/sheet.h"

static uint8_t master[32], repo_id[16];

static void split(unsigned k, unsigned n, bkp_sheet *out)
{
    assert_int_equal(bkp_shares_split(master, repo_id, k, n, out), 0);
}

static int combine(const bkp_sheet *const *s, size_t count, uint8_t got[32])
{
    const char *why = NULL;
    int rc = bkp_shares_combine(s, count, got, &why);
    assert_true(rc == 0 ? why == NULL : why != NULL);
    return rc;
}

/* Every subset of size K of the N shares (bit masks), through the text of each sheet. */
static void test_any_k_of_n(void **state)
{
    bkp_sheet sh[5];
    split(3, 5, sh);
    int subsets = 0;
    for (unsigned mask = 0; mask < 32; mask++) {
        if (__builtin_popcount(mask) != 3)
            continue;
        bkp_sheet back[3];
        const bkp_sheet *pick[3];
        size_t m = 0;
        for (unsigned i = 0; i < 5; i++) {
            if (!(mask & (1u << i)))
                continue;
            char text[BKP_SHEET_TEXT_MAX];
            int line;
            assert_int_equal(bkp_sheet_format(&sh[i], text), 0);
            assert_int_equal(bkp_sheet_parse(text, strlen(text), &back[m], &line), 0);
            pick[m] = &back[m];
            m++;
        }
        uint8_t got[32];
        assert_int_equal(combine(pick, 3, got), 0);
        assert_memory_equal(got, master, 32);
        subsets++;
    }
    assert_int_equal(subsets, 10);
    /* More than K given: still the secret. */
    const bkp_sheet *all[5] = {&sh[4], &sh[0], &sh[2], &sh[1], &sh[3]};
    uint8_t got[32];
    assert_int_equal(combine(all, 5, got), 0);
    assert_memory_equal(got, master, 32);
    /* No share is the secret itself. */
    for (int i = 0; i < 5; i++)
        assert_memory_not_equal(sh[i].secret, master, 32);
}

static void test_fewer_than_k(void **state)
{
    for (unsigned k = 2; k <= 5; k++) {
        bkp_sheet sh[5];
        split(k, 5, sh);
        const bkp_sheet *pick[5];
        uint8_t got[32];
        for (unsigned i = 0; i < k - 1; i++)
            pick[i] = &sh[i + 1];
        assert_int_equal(combine(pick, k - 1, got), -EINVAL);
        if (k == 2)
            continue; /* one share: nothing to interpolate */
        /* A forger who claims K-1 suffices gets another secret. */
        bkp_sheet forged[4];
        for (unsigned i = 0; i < k - 1; i++) {
            forged[i] = sh[i + 1];
            forged[i].k = (uint8_t)(k - 1);
            pick[i] = &forged[i];
        }
        assert_int_equal(combine(pick, k - 1, got), 0);
        assert_memory_not_equal(got, master, 32);
    }
}

static void test_mixed_sets(void **state)
{
    bkp_sheet a[3], b[3];
    uint8_t got[32];
    split(2, 3, a);
    split(2, 3, b);
    /* Two splits of the same secret: each works alone... */
    const bkp_sheet *pa[2] = {&a[0], &a[2]}, *pb[2] = {&b[1], &b[2]};
    assert_int_equal(combine(pa, 2, got), 0);
    assert_memory_equal(got, master, 32);
    assert_int_equal(combine(pb, 2, got), 0);
    assert_memory_equal(got, master, 32);
    /* ...a repeated share is refused (it adds nothing). */
    const bkp_sheet *twice[2] = {&a[1], &a[1]};
    const char *why = NULL;
    assert_int_equal(bkp_shares_combine(twice, 2, got, &why), -EINVAL);
    assert_string_equal(why, "the same share was given twice");
    /* The same number from two splits is not said to be one sheet twice. */
    const bkp_sheet *alike[2] = {&a[1], &b[1]};
    assert_int_equal(bkp_shares_combine(alike, 2, got, &why), -EINVAL);
    assert_non_null(strstr(why, "two different splits"));
    /* Another repository's share, a paper sheet, a different split. */
    bkp_sheet other = a[1];
    other.repo_id[0] ^= 1;
    const bkp_sheet *po[2] = {&a[0], &other};
    assert_int_equal(combine(po, 2, got), -EINVAL);
    bkp_sheet paper = {.kind = BKP_SHEET_PAPER};
    const bkp_sheet *pp[2] = {&a[0], &paper};
    assert_int_equal(combine(pp, 2, got), -EINVAL);
    bkp_sheet c[4];
    split(2, 4, c);
    const bkp_sheet *pc[2] = {&a[0], &c[1]};
    assert_int_equal(combine(pc, 2, got), -EINVAL);
    assert_int_equal(combine(pc, 0, got), -EINVAL);
}

static void test_bounds(void **state)
{
    static bkp_sheet many[BKP_SHEET_SHARES_MAX];
    assert_int_equal(bkp_shares_split(master, repo_id, 1, 3, many), -EINVAL);
    assert_int_equal(bkp_shares_split(master, repo_id, 4, 3, many), -EINVAL);
    assert_int_equal(bkp_shares_split(master, repo_id, 2, 256, many), -EINVAL);
    split(200, BKP_SHEET_SHARES_MAX, many);
    const bkp_sheet *pick[200];
    for (int i = 0; i < 200; i++)
        pick[i] = &many[BKP_SHEET_SHARES_MAX - 1 - i];
    uint8_t got[32];
    assert_int_equal(combine(pick, 200, got), 0);
    assert_memory_equal(got, master, 32);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(master, sizeof(master));
    randombytes_buf(repo_id, sizeof(repo_id));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_k_of_n),
        cmocka_unit_test(test_fewer_than_k),
        cmocka_unit_test(test_mixed_sets),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
