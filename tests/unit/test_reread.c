/*
 * The rolling re-read's plan (bkp/audit/reread.c), on an index of ten packs made
 * in memory: a sample reads the packs read longest ago, never-read ones
 * first and ties by name; its size is the percentage rounded up; every pack
 * not read since `due` is added whatever the percentage; a state that is
 * not of its shape is refused whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/store/blob.h"
#include "bkp/io/bytes.h"
#include "bkp/store/index.h"
#include "bkp/audit/reread.h"

#define NPACKS 10

typedef struct fixture {
    bkp_index *x;
    char hex[NPACKS][2 * BKP_ID_LEN + 1];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || bkp_index_new(&f->x))
        return -1;
    for (int i = 0; i < NPACKS; i++) {
        uint8_t id[BKP_ID_LEN];
        uint32_t num;
        memset(id, 0x10 * (NPACKS - i), sizeof(id)); /* pack i's name sorts after pack i+1's */
        if (bkp_index_add_pack(f->x, id, &num))
            return -1;
        bkp_hex(f->hex[i], id, BKP_ID_LEN);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_index_free(f->x);
    free(f);
    return 0;
}

/* Pack i last read at time 1000 + i, except those in `never`. */
static bkp_reread state_of(fixture *f, const int *never, size_t nnever)
{
    bkp_reread s = {0};
    assert_int_equal(bkp_reread_set(&s, "last_run", 2000, 3000), 0);
    for (int i = 0; i < NPACKS; i++) {
        bool skip = false;
        for (size_t k = 0; k < nnever; k++)
            skip |= never[k] == i;
        if (!skip)
            assert_int_equal(bkp_reread_set(&s, f->hex[i], 1000 + i, 3000), 0);
    }
    assert_int_equal(bkp_reread_seal(&s), 0);
    return s;
}

static void test_oldest_first(void **state)
{
    fixture *f = *state;
    size_t n = 0;
    bkp_reread s = state_of(f, (int[]){7, 3}, 2);
    char **plan = bkp_reread_plan(f->x, &s, 30, 0, &n);
    assert_int_equal(n, 3);
    /* Never read: packs 3 and 7, by name (7's sorts first); then pack 0. */
    assert_string_equal(plan[0], f->hex[7]);
    assert_string_equal(plan[1], f->hex[3]);
    assert_string_equal(plan[2], f->hex[0]);
    /* Marked read now: they are read last the next time. */
    assert_int_equal(bkp_reread_mark(&s, plan, n, 2500), 0);
    assert_int_equal(s.last_run, 2500);
    assert_int_equal(s.n, NPACKS);
    bkp_strv_free(plan, n);
    plan = bkp_reread_plan(f->x, &s, 30, 0, &n);
    assert_int_equal(n, 3);
    assert_string_equal(plan[0], f->hex[1]);
    assert_string_equal(plan[1], f->hex[2]);
    assert_string_equal(plan[2], f->hex[4]);
    bkp_strv_free(plan, n);
    bkp_reread_free(&s);
}

static void test_rounded_up_and_due(void **state)
{
    fixture *f = *state;
    size_t n = 0;
    bkp_reread s = state_of(f, NULL, 0);
    char **plan = bkp_reread_plan(f->x, &s, 11, 0, &n); /* 1.1 packs: 2 */
    assert_int_equal(n, 2);
    bkp_strv_free(plan, n);
    plan = bkp_reread_plan(f->x, &s, 0, 0, &n); /* nothing asked, nothing due */
    assert_int_equal(n, 0);
    bkp_strv_free(plan, n);
    plan = bkp_reread_plan(f->x, &s, 0, 1005, &n); /* read before 1005: packs 0–4 */
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(plan[i], f->hex[i]);
    bkp_strv_free(plan, n);
    plan = bkp_reread_plan(f->x, &s, 100, 0, &n);
    assert_int_equal(n, NPACKS);
    bkp_strv_free(plan, n);
    bkp_reread_free(&s);
}

static void test_state_shape(void **state)
{
    fixture *f = *state;
    bkp_reread s = state_of(f, NULL, 0), out;
    char *text = bkp_reread_text(&s);
    assert_int_equal(bkp_reread_parse(text, strlen(text), 3000, &out), 0);
    assert_int_equal(out.n, s.n);
    assert_int_equal(out.last_run, 2000);
    assert_memory_equal(out.v, s.v, s.n * sizeof(*s.v));
    assert_int_equal(bkp_reread_at(&out, out.v[0].id), out.v[0].at);
    bkp_reread_free(&out);
    free(text);
    bkp_reread_free(&s);
    /* A time far ahead would keep a pack out of every sample: refused. */
    assert_int_equal(bkp_reread_set(&s, f->hex[0], 3000 + 2 * 86400, 3000), -EBADMSG);
    /* A pack named twice is not a state. */
    assert_int_equal(bkp_reread_set(&s, f->hex[0], 1, 3000), 0);
    assert_int_equal(bkp_reread_set(&s, f->hex[0], 2, 3000), 0);
    assert_int_equal(bkp_reread_seal(&s), -EBADMSG);
    bkp_reread_free(&s);
    /* A pack's name as bkp writes it, lower case: one key a pack. */
    char upper[2 * BKP_ID_LEN + 1];
    for (size_t i = 0; i <= 2 * BKP_ID_LEN; i++)
        upper[i] = (char)(f->hex[0][i] >= 'a' ? f->hex[0][i] - 32 : f->hex[0][i]);
    assert_int_equal(bkp_reread_set(&s, upper, 1, 3000), -EBADMSG);
    static const char *const bad[] = {"[]", "{\"zz\": 1}", "{\"last_run\": -1}",
                                      "{\"last_run\": \"1\"}", "{\"last_run\": 1, \"last_run\": 2}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(bkp_reread_parse(bad[i], strlen(bad[i]), 3000, &out), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_oldest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rounded_up_and_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_shape, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
