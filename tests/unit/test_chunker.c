/*
 * test_chunker.c — content-defined chunking (bkp/store/chunker.h).
 *
 * Proves that cut points depend only on the seed and the content (so the same
 * file chunks the same way on every run and differently in another
 * repository), that chunk sizes honour min/max and average about the
 * configured size, that an insert near the start of a large file changes only
 * the chunks around it (deduplication survives edits), and that the small-input
 * edge cases and invalid parameters behave as documented.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/chunker.h"

#define BIG (64U << 20)

typedef struct cuts {
    size_t *len;
    size_t n, cap;
} cuts;

static const uint8_t seed_a[32] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t seed_b[32] = {8, 7, 6, 5, 4, 3, 2, 1};

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static uint8_t *random_data(size_t len, uint8_t tag)
{
    uint8_t seed[randombytes_SEEDBYTES] = {tag, 0x42};
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    randombytes_buf_deterministic(p, len, seed);
    return p;
}

static bkp_chunker *new_chunker(const uint8_t seed[32])
{
    bkp_chunker *c = NULL;
    assert_int_equal(bkp_chunker_new(seed, BKP_CHUNK_MIN, BKP_CHUNK_AVG, BKP_CHUNK_MAX, &c), 0);
    assert_non_null(c);
    return c;
}

/* Chunk a whole buffer the way a streaming caller does: offer at most max
 * bytes (more is never looked at), with eof only when nothing follows. */
static void chunk_all(const bkp_chunker *c, const uint8_t *data, size_t len, cuts *out)
{
    size_t off = 0, max = bkp_chunker_max(c);
    memset(out, 0, sizeof(*out));
    while (off < len) {
        size_t avail = len - off < max ? len - off : max;
        bool eof = off + avail == len;
        size_t n = bkp_chunker_cut(c, data + off, avail, eof);
        assert_true(n > 0);
        assert_true(n <= avail);
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 64;
            out->len = realloc(out->len, out->cap * sizeof(*out->len));
            assert_non_null(out->len);
        }
        out->len[out->n++] = n;
        off += n;
    }
}

static void test_deterministic_per_seed(void **state)
{
    (void)state;
    size_t len = 16U << 20;
    uint8_t *data = random_data(len, 1);
    bkp_chunker *a1 = new_chunker(seed_a), *a2 = new_chunker(seed_a), *b = new_chunker(seed_b);
    cuts x, y, z;
    chunk_all(a1, data, len, &x);
    chunk_all(a2, data, len, &y);
    chunk_all(b, data, len, &z);

    assert_true(x.n > 4);
    assert_int_equal(x.n, y.n);
    assert_memory_equal(x.len, y.len, x.n * sizeof(*x.len));
    /* Another repository's secret gives other cut points. */
    assert_false(x.n == z.n && memcmp(x.len, z.len, x.n * sizeof(*x.len)) == 0);

    free(x.len);
    free(y.len);
    free(z.len);
    bkp_chunker_free(a1);
    bkp_chunker_free(a2);
    bkp_chunker_free(b);
    free(data);
}

static void test_sizes_and_average(void **state)
{
    (void)state;
    uint8_t *data = random_data(BIG, 2);
    bkp_chunker *c = new_chunker(seed_a);
    cuts x;
    size_t total = 0;
    chunk_all(c, data, BIG, &x);
    for (size_t i = 0; i < x.n; i++) {
        total += x.len[i];
        if (i + 1 < x.n)
            assert_in_range(x.len[i], BKP_CHUNK_MIN, BKP_CHUNK_MAX);
        else
            assert_in_range(x.len[i], 1, BKP_CHUNK_MAX);
    }
    assert_int_equal(total, BIG);
    /* The mean of ~64 chunks: normalised chunking keeps it near the average
     * (a little above it, since nothing is cut before min). */
    double mean = (double)BIG / (double)x.n;
    assert_true(mean >= 0.75 * BKP_CHUNK_AVG);
    assert_true(mean <= 1.5 * BKP_CHUNK_AVG);
    free(x.len);
    bkp_chunker_free(c);
    free(data);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The BLAKE2b-256 of every chunk, sorted for bsearch. */
static uint8_t (*chunk_ids(const uint8_t *data, const cuts *x))[32]
{
    uint8_t(*ids)[32] = malloc(x->n * 32);
    size_t off = 0;
    assert_non_null(ids);
    for (size_t i = 0; i < x->n; i++) {
        crypto_generichash(ids[i], 32, data + off, x->len[i], NULL, 0);
        off += x->len[i];
    }
    qsort(ids, x->n, 32, cmp_id);
    return ids;
}

static void test_insert_changes_few_chunks(void **state)
{
    (void)state;
    static const uint8_t ins[] = "hello";
    uint8_t *a = random_data(BIG, 3);
    uint8_t *b = malloc(BIG + 5);
    assert_non_null(b);
    memcpy(b, a, 1000);
    memcpy(b + 1000, ins, 5);
    memcpy(b + 1005, a + 1000, BIG - 1000);

    bkp_chunker *c = new_chunker(seed_a);
    cuts xa, xb;
    chunk_all(c, a, BIG, &xa);
    chunk_all(c, b, BIG + 5, &xb);
    uint8_t(*ia)[32] = chunk_ids(a, &xa), (*ib)[32] = chunk_ids(b, &xb);
    size_t shared = 0;
    for (size_t i = 0; i < xb.n; i++)
        if (bsearch(ib[i], ia, xa.n, 32, cmp_id))
            shared++;
    assert_true(xa.n > 30);
    /* Only the chunks around the insert are new; the rest deduplicate. */
    assert_true(xb.n - shared <= 3);
    assert_true(shared + 3 >= xa.n);
    assert_true(shared < xb.n); /* the insert itself is somewhere */

    free(ia);
    free(ib);
    free(xa.len);
    free(xb.len);
    bkp_chunker_free(c);
    free(a);
    free(b);
}

static void test_small_inputs(void **state)
{
    (void)state;
    uint8_t *data = random_data(2 * BKP_CHUNK_MAX, 4);
    bkp_chunker *c = new_chunker(seed_a);

    /* Less than min: one chunk of everything at eof, "need more" before it. */
    assert_int_equal(bkp_chunker_cut(c, data, 1, true), 1);
    assert_int_equal(bkp_chunker_cut(c, data, 1000, true), 1000);
    assert_int_equal(bkp_chunker_cut(c, data, 1000, false), 0);
    assert_int_equal(bkp_chunker_cut(c, data, 0, true), 0);
    /* Exactly min. */
    assert_int_equal(bkp_chunker_cut(c, data, BKP_CHUNK_MIN, true), BKP_CHUNK_MIN);
    assert_int_equal(bkp_chunker_cut(c, data, BKP_CHUNK_MIN, false), 0);
    /* Between min and max without eof: the caller must offer max bytes. */
    assert_int_equal(bkp_chunker_cut(c, data, BKP_CHUNK_AVG, false), 0);
    size_t n = bkp_chunker_cut(c, data, BKP_CHUNK_AVG, true);
    assert_in_range(n, BKP_CHUNK_MIN + 1, BKP_CHUNK_AVG);
    /* Exactly max: a cut in (min, max], the same with or without eof. */
    n = bkp_chunker_cut(c, data, BKP_CHUNK_MAX, false);
    assert_in_range(n, BKP_CHUNK_MIN + 1, BKP_CHUNK_MAX);
    assert_int_equal(bkp_chunker_cut(c, data, BKP_CHUNK_MAX, true), n);
    /* More than max is never cut beyond max and looks only at max bytes. */
    assert_int_equal(bkp_chunker_cut(c, data, 2 * BKP_CHUNK_MAX, false), n);

    /* A run of zeros (holes, disk images) makes the gear hash constant after
     * 64 bytes; with this seed that constant is no cut point, so zeros are cut
     * at exactly max and every such chunk dedupes. */
    uint8_t *zero = calloc(1, 2 * BKP_CHUNK_MAX);
    assert_non_null(zero);
    assert_int_equal(bkp_chunker_cut(c, zero, 2 * BKP_CHUNK_MAX, false), BKP_CHUNK_MAX);
    free(zero);
    bkp_chunker_free(c);
    free(data);
}

static void test_invalid_parameters(void **state)
{
    (void)state;
    static const struct {
        uint32_t min, avg, max;
    } bad[] = {
        {BKP_CHUNK_AVG, BKP_CHUNK_AVG, BKP_CHUNK_MAX},     /* min == avg */
        {BKP_CHUNK_MAX, BKP_CHUNK_AVG, BKP_CHUNK_MAX},     /* min > avg */
        {BKP_CHUNK_MIN, BKP_CHUNK_MAX, BKP_CHUNK_MAX},     /* avg == max */
        {BKP_CHUNK_MIN, BKP_CHUNK_AVG, BKP_CHUNK_AVG / 2}, /* max < avg */
        {BKP_CHUNK_MIN, BKP_CHUNK_AVG + 1, BKP_CHUNK_MAX}, /* avg not a power of two */
        {BKP_CHUNK_MIN, 3U << 19, BKP_CHUNK_MAX},          /* avg not a power of two */
        {0, BKP_CHUNK_AVG, BKP_CHUNK_MAX},                 /* min too small */
        {0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        bkp_chunker *c = NULL;
        assert_int_equal(bkp_chunker_new(seed_a, bad[i].min, bad[i].avg, bad[i].max, &c), -EINVAL);
        assert_null(c); /* output written only on success */
    }
    /* A small but valid configuration is accepted and honoured. */
    bkp_chunker *c = NULL;
    assert_int_equal(bkp_chunker_new(seed_a, 64, 256, 1024, &c), 0);
    assert_int_equal(bkp_chunker_max(c), 1024);
    uint8_t *data = random_data(1 << 16, 5);
    cuts x;
    chunk_all(c, data, 1 << 16, &x);
    for (size_t i = 0; i + 1 < x.n; i++)
        assert_in_range(x.len[i], 64, 1024);
    assert_true(x.n > 16);
    free(x.len);
    free(data);
    bkp_chunker_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_deterministic_per_seed, setup),
        cmocka_unit_test_setup(test_sizes_and_average, setup),
        cmocka_unit_test_setup(test_insert_changes_few_chunks, setup),
        cmocka_unit_test_setup(test_small_inputs, setup),
        cmocka_unit_test_setup(test_invalid_parameters, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
