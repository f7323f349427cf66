/*
 * test_primitive.c — the blob format's keyed BLAKE2b, HMAC-SHA-256 and XChaCha20-Poly1305
 * (bkp/keys/primitive.h).
 *
 * The module may compute them with OpenSSL instead of libsodium; the format
 * depends on the bytes being the same. Proves, at every length around the
 * points where the implementation changes and up to a large chunk, that the
 * IDs and the sealed bytes equal libsodium's, that each opens the other's,
 * that sealing in place gives the same bytes, and that a flipped bit in the
 * ciphertext, the tag, the associated data or the nonce is refused with
 * nothing of the plaintext left in the output.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/keys/primitive.h"

#define BIG ((1u << 20) + 3)

static const size_t lens[] = {0,   1,    63,   255,  256,  257,        1023,       1024,
                              1025, 4096, 65536, 70001, 1u << 20, BIG};

static uint8_t key[32], nonce[24], ad[33];
static uint8_t *msg, *c_ref, *c_new, *out;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    msg = malloc(BIG);
    c_ref = malloc(BIG + 16);
    c_new = malloc(BIG + 16);
    out = malloc(BIG);
    if (!msg || !c_ref || !c_new || !out)
        return -1;
    randombytes_buf(key, sizeof(key));
    randombytes_buf(nonce, sizeof(nonce));
    randombytes_buf(ad, sizeof(ad));
    randombytes_buf(msg, BIG);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(msg);
    free(c_ref);
    free(c_new);
    free(out);
    bkp_prim_force_sodium(0);
    return 0;
}

static void hash_is_libsodiums(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t a[32], b[32];
        crypto_generichash(a, 32, msg, lens[i], key, 32);
        bkp_prim_keyed_hash(b, msg, lens[i], key);
        assert_memory_equal(a, b, 32);
    }
    /* Another key, another ID. */
    uint8_t k2[32], a[32], b[32];
    memcpy(k2, key, 32);
    k2[31] ^= 0x80;
    bkp_prim_keyed_hash(a, msg, 4096, key);
    bkp_prim_keyed_hash(b, msg, 4096, k2);
    assert_memory_not_equal(a, b, 32);
}

static void seal_is_libsodiums(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];
        crypto_aead_xchacha20poly1305_ietf_encrypt(c_ref, NULL, msg, n, ad, sizeof(ad), NULL, nonce,
                                                   key);
        bkp_prim_seal(c_new, msg, n, ad, sizeof(ad), nonce, key);
        assert_memory_equal(c_ref, c_new, n + 16);
        /* In place, as blob.c seals. */
        memcpy(c_new, msg, n);
        bkp_prim_seal(c_new, c_new, n, ad, sizeof(ad), nonce, key);
        assert_memory_equal(c_ref, c_new, n + 16);
        /* Each opens the other's. */
        assert_int_equal(bkp_prim_open(out, c_ref, n + 16, ad, sizeof(ad), nonce, key), 0);
        assert_memory_equal(out, msg, n);
        assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, c_new, n + 16,
                                                                    ad, sizeof(ad), nonce, key),
                         0);
        assert_memory_equal(out, msg, n);
    }
}

/* Nothing of a refused message may be left where the caller looks. */
static void assert_refused(size_t n, const uint8_t *c, const uint8_t *a, const uint8_t *nc)
{
    memset(out, 0xee, n);
    assert_int_equal(bkp_prim_open(out, c, n + 16, a, sizeof(ad), nc, key), -EBADMSG);
    for (size_t j = 0; j < n; j++)
        assert_true(out[j] == 0 || out[j] == 0xee);
}

static void tampering_is_refused(void **state)
{
    (void)state;
    static const size_t some[] = {1, 1024, 70001, BIG};
    for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
        size_t n = some[i];
        uint8_t a2[sizeof(ad)], n2[sizeof(nonce)];
        bkp_prim_seal(c_new, msg, n, ad, sizeof(ad), nonce, key);
        c_new[n / 2] ^= 0x01; /* the ciphertext */
        assert_refused(n, c_new, ad, nonce);
        c_new[n / 2] ^= 0x01;
        c_new[n + 15] ^= 0x40; /* the tag */
        assert_refused(n, c_new, ad, nonce);
        c_new[n + 15] ^= 0x40;
        memcpy(a2, ad, sizeof(ad)); /* the associated data: type and ID */
        a2[0] ^= 1;
        assert_refused(n, c_new, a2, nonce);
        memcpy(n2, nonce, sizeof(nonce)); /* the nonce, in its HChaCha20 part and after */
        n2[3] ^= 1;
        assert_refused(n, c_new, ad, n2);
        memcpy(n2, nonce, sizeof(nonce));
        n2[20] ^= 1;
        assert_refused(n, c_new, ad, n2);
        /* Untouched, it opens. */
        assert_int_equal(bkp_prim_open(out, c_new, n + 16, ad, sizeof(ad), nonce, key), 0);
        assert_memory_equal(out, msg, n);
    }
    assert_int_equal(bkp_prim_open(out, c_new, 15, ad, sizeof(ad), nonce, key), -EBADMSG);
}

static void hmac_is_libsodiums(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t a[32], b[32];
        crypto_auth_hmacsha256(a, msg, lens[i], key);
        bkp_prim_hmac_sha256(b, msg, lens[i], key);
        assert_memory_equal(a, b, 32);
    }
    /* Another key, another MAC, and not the keyed BLAKE2b of the bytes. */
    uint8_t k2[32], a[32], b[32], c[32];
    memcpy(k2, key, 32);
    k2[0] ^= 1;
    bkp_prim_hmac_sha256(a, msg, 4096, key);
    bkp_prim_hmac_sha256(b, msg, 4096, k2);
    bkp_prim_keyed_hash(c, msg, 4096, key);
    assert_memory_not_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
    /* Keys in turn (A, B, A, forgotten, B): the thread's keyed context is
     * re-keyed each time, never answering with the key before. */
    const uint8_t *order[] = {key, k2, key, NULL, k2, key};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!order[i]) {
            bkp_prim_forget();
            continue;
        }
        crypto_auth_hmacsha256(a, msg, 300 + i, order[i]);
        bkp_prim_hmac_sha256(b, msg, 300 + i, order[i]);
        assert_memory_equal(a, b, 32);
    }
}

static void *hmac_thread(void *arg)
{
    uint8_t *k = arg, a[32], b[32];
    for (size_t n = 0; n < 2000; n += 97) {
        crypto_auth_hmacsha256(a, msg, n, k);
        bkp_prim_hmac_sha256(b, msg, n, k);
        if (memcmp(a, b, 32))
            return arg;
    }
    return NULL;
}

/* Threads with keys of their own at once: each keeps its own context. */
static void hmac_threads_keep_their_keys(void **state)
{
    (void)state;
    uint8_t keys[4][32];
    pthread_t t[4];
    void *bad[4];
    for (int i = 0; i < 4; i++) {
        randombytes_buf(keys[i], 32);
        assert_int_equal(pthread_create(&t[i], NULL, hmac_thread, keys[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &bad[i]), 0);
        assert_null(bad[i]);
    }
}

/* The libsodium path, forced, gives the same bytes (and is what a machine
 * whose OpenSSL lacks the algorithms runs). */
static void forced_sodium_agrees(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    /* Debian's OpenSSL has both algorithms: the fast path must be the one
     * the other tests compared with libsodium, not a silent fallback. */
    assert_string_equal(bkp_prim_engine(), "openssl");
    uint8_t ha[32], hb[32];
    bkp_prim_keyed_hash(a, msg, 70001, key);
    bkp_prim_hmac_sha256(ha, msg, 70001, key);
    bkp_prim_seal(c_ref, msg, 70001, ad, sizeof(ad), nonce, key);
    bkp_prim_force_sodium(1);
    assert_string_equal(bkp_prim_engine(), "libsodium");
    bkp_prim_keyed_hash(b, msg, 70001, key);
    bkp_prim_hmac_sha256(hb, msg, 70001, key);
    bkp_prim_seal(c_new, msg, 70001, ad, sizeof(ad), nonce, key);
    bkp_prim_force_sodium(0);
    assert_memory_equal(a, b, 32);
    assert_memory_equal(ha, hb, 32);
    assert_memory_equal(c_ref, c_new, 70001 + 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_is_libsodiums),
        cmocka_unit_test(hmac_is_libsodiums),
        cmocka_unit_test(hmac_threads_keep_their_keys),
        cmocka_unit_test(seal_is_libsodiums),
        cmocka_unit_test(tampering_is_refused),
        cmocka_unit_test(forced_sodium_agrees),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
