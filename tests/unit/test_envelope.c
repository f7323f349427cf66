/*
 * test_envelope.c — the signed envelope of the small signed files
 * (bkp/keys/envelope.h).
 *
 * Proves that a sealed envelope has the documented layout (checked with
 * libsodium directly, not with the code under test) and opens back to its
 * text; that a flipped byte anywhere, another kind's magic, a length that
 * runs past the end or stops short of it, a buffer too short to hold an
 * envelope and another key's signature are each refused as -EBADMSG,
 * leaving the outputs untouched; and that the bounded read tells a missing
 * file (-ENOENT) from one over its cap (-EBADMSG).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/keys/keys.h"

#include "testutil.h"

#define MAGIC "BKPTST01"
#define TEXT "{\"format\":\"bkp-test\",\"version\":1}"

typedef struct fixture {
    bkp_keys *k;
    bkp_buf env;
    char dir[64];
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    bkp_keys_free(f->k);
    bkp_buf_free(&f->env);
    test_rm_rf(f->dir);
    free(f);
    return 0;
}

static int setup(void **state)
{
    static const uint8_t repo_id[16] = {1, 2, 3};
    fixture *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f)
        return -1;
    bkp_buf_init(&f->env);
    strcpy(f->dir, "/tmp/bkp-test-envelope-XXXXXX");
    if (sodium_init() < 0 || bkp_keys_generate(repo_id, &f->k) ||
        bkp_envelope_seal(f->k, MAGIC, TEXT, &f->env) || !mkdtemp(f->dir))
        return teardown(state), -1;
    return 0;
}

/* Open `len` bytes of `data` with f's key: the result; the outputs must stay
 * untouched on failure. */
static int open_with(const fixture *f, const uint8_t *pk, const char *magic, const uint8_t *data,
                     size_t len)
{
    const uint8_t *text = (const uint8_t *)"unset";
    size_t tlen = 12345;
    int rc = bkp_envelope_open(pk ? pk : bkp_keys_sign_pk(f->k), magic, data, len, &text, &tlen);
    if (rc) {
        assert_string_equal((const char *)text, "unset");
        assert_int_equal(tlen, 12345);
    }
    return rc;
}

static void test_layout_and_round_trip(void **state)
{
    fixture *f = *state;
    const size_t tl = strlen(TEXT);
    const uint8_t *e = f->env.data;
    assert_int_equal(f->env.len, 8 + 4 + tl + 64);
    assert_memory_equal(e, MAGIC, 8);
    assert_int_equal(e[8] | e[9] << 8 | e[10] << 16 | (uint32_t)e[11] << 24, tl);
    assert_memory_equal(e + 12, TEXT, tl);
    assert_int_equal(crypto_sign_verify_detached(e + 12 + tl, e, 12 + tl, bkp_keys_sign_pk(f->k)),
                     0);

    const uint8_t *text = NULL;
    size_t tlen = 0;
    assert_int_equal(bkp_envelope_open(bkp_keys_sign_pk(f->k), MAGIC, e, f->env.len, &text, &tlen),
                     0);
    assert_ptr_equal(text, e + 12);
    assert_int_equal(tlen, tl);
    assert_memory_equal(text, TEXT, tl);

    /* An empty text is an envelope too; sealing replaces what `out` held. */
    assert_int_equal(bkp_envelope_seal(f->k, MAGIC, "", &f->env), 0);
    assert_int_equal(f->env.len, BKP_ENVELOPE_OVERHEAD);
    assert_int_equal(open_with(f, NULL, MAGIC, f->env.data, f->env.len), 0);
}

static void test_flipped_byte(void **state)
{
    fixture *f = *state;
    uint8_t *e = malloc(f->env.len);
    assert_non_null(e);
    /* Every byte is covered: magic, length, text and the signature itself. */
    for (size_t i = 0; i < f->env.len; i++)
        for (unsigned bit = 0; bit < 8; bit += 7) {
            memcpy(e, f->env.data, f->env.len);
            e[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(open_with(f, NULL, MAGIC, e, f->env.len), -EBADMSG);
        }
    free(e);
}

static void test_wrong_magic(void **state)
{
    fixture *f = *state;
    /* Another kind of signed file, validly signed by the same key. */
    assert_int_equal(open_with(f, NULL, "BKPTST02", f->env.data, f->env.len), -EBADMSG);
    bkp_buf other;
    bkp_buf_init(&other);
    assert_int_equal(bkp_envelope_seal(f->k, "BKPTST02", TEXT, &other), 0);
    assert_int_equal(open_with(f, NULL, MAGIC, other.data, other.len), -EBADMSG);
    bkp_buf_free(&other);
}

static void test_bad_length(void **state)
{
    fixture *f = *state;
    const size_t tl = strlen(TEXT);
    uint8_t *e = malloc(f->env.len + 64);
    assert_non_null(e);
    /* The length field is the signed one, re-signed here so that only the
     * length is wrong: past the end, far past it, short of it. */
    const uint32_t lens[] = {(uint32_t)tl + 1, (uint32_t)tl + 64, UINT32_MAX,
                             UINT32_MAX - 11,  (uint32_t)tl - 1,  0};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        memcpy(e, f->env.data, f->env.len);
        e[8] = (uint8_t)lens[i], e[9] = (uint8_t)(lens[i] >> 8);
        e[10] = (uint8_t)(lens[i] >> 16), e[11] = (uint8_t)(lens[i] >> 24);
        bkp_keys_sign(f->k, e + 12 + tl, e, 12 + tl);
        assert_int_equal(open_with(f, NULL, MAGIC, e, f->env.len), -EBADMSG);
    }
    /* Trailing bytes after a valid signature are not part of it. */
    memcpy(e, f->env.data, f->env.len);
    memset(e + f->env.len, 0, 64);
    assert_int_equal(open_with(f, NULL, MAGIC, e, f->env.len + 1), -EBADMSG);
    assert_int_equal(open_with(f, NULL, MAGIC, e, f->env.len + 64), -EBADMSG);
    free(e);
}

static void test_short_buffer(void **state)
{
    fixture *f = *state;
    /* Every prefix of a valid envelope, down to nothing, each in a block of
     * its own size: the sanitizer build sees any read past its end. */
    for (size_t n = 0; n < f->env.len; n++) {
        uint8_t *e = malloc(n ? n : 1);
        assert_non_null(e);
        memcpy(e, f->env.data, n);
        assert_int_equal(open_with(f, NULL, MAGIC, e, n), -EBADMSG);
        free(e);
    }
}

static void test_other_key(void **state)
{
    fixture *f = *state;
    static const uint8_t repo_id[16] = {1, 2, 3};
    bkp_keys *other = NULL;
    bkp_buf env;
    bkp_buf_init(&env);
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    assert_int_equal(open_with(f, bkp_keys_sign_pk(other), MAGIC, f->env.data, f->env.len),
                     -EBADMSG);
    /* The same text under the same magic, signed by another key. */
    assert_int_equal(bkp_envelope_seal(other, MAGIC, TEXT, &env), 0);
    assert_int_equal(open_with(f, NULL, MAGIC, env.data, env.len), -EBADMSG);
    assert_int_equal(open_with(f, bkp_keys_sign_pk(other), MAGIC, env.data, env.len), 0);
    bkp_buf_free(&env);
    bkp_keys_free(other);
}

static void test_load(void **state)
{
    fixture *f = *state;
    char path[128];
    bkp_buf data;
    bkp_buf_init(&data);
    snprintf(path, sizeof(path), "%s/missing", f->dir);
    assert_int_equal(bkp_envelope_load(path, 1 << 16, &data), -ENOENT);

    assert_int_equal(bkp_durable_write(f->dir, "env", f->env.data, f->env.len, 0), 0);
    snprintf(path, sizeof(path), "%s/env", f->dir);
    assert_int_equal(bkp_envelope_load(path, f->env.len, &data), 0);
    assert_int_equal(data.len, f->env.len);
    assert_memory_equal(data.data, f->env.data, f->env.len);
    /* One byte over the caller's cap: refused as damaged, not read whole. */
    assert_int_equal(bkp_envelope_load(path, f->env.len - 1, &data), -EBADMSG);
    bkp_buf_free(&data);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_layout_and_round_trip),
        T(test_flipped_byte),
        T(test_wrong_magic),
        T(test_bad_length),
        T(test_short_buffer),
        T(test_other_key),
        T(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
