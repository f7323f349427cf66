#include "bkp/keys/primitive.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

/* Below these lengths libsodium is as fast or faster: OpenSSL's cost per
 * call (a context made and freed) outweighs its speed per byte. Measured on
 * the development machines: keyed BLAKE2b breaks even under 256 bytes,
 * ChaCha20-Poly1305 near 1 KiB. */
#define HASH_MIN 256
#define AEAD_MIN 1024

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MAC *blake2bmac;
static EVP_CIPHER *chacha;
/* HMAC with its digest set and no key: each thread copies it once and keys the
 * copy, so the digest is fetched once. Read-only once made. */
static EVP_MAC_CTX *hmac_sha256;
static int use_openssl; /* keyed BLAKE2b and XChaCha20-Poly1305 */
static int use_hmac;    /* HMAC-SHA-256, checked on its own */
static int forced_sodium;

static int ossl_hash(uint8_t out[32], const void *m, size_t mlen, const uint8_t key[32])
{
    size_t size = 32, got = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(blake2bmac);
    int ok = c && EVP_MAC_init(c, key, 32, params) && EVP_MAC_update(c, m, mlen) &&
             EVP_MAC_final(c, out, &got, 32) && got == 32;
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -1;
}

/*
 * Each thread keeps one HMAC context keyed with the key it used last: every
 * chunk of a repository is named under its one chunk-ID key, and a keyed
 * context set back to its start (EVP_MAC_init without a key) skips the
 * allocation and the key's two blocks, which made a short input cost three
 * times keyed BLAKE2b. The key's copy lives in guarded memory (locked, left
 * out of core dumps); OpenSSL's context, which holds the key's hashed pads,
 * is wiped by OpenSSL when freed: when its thread ends, or when the thread
 * lets its keys go (bkp_prim_forget, called by bkp_keys_free).
 */
typedef struct keyed {
    EVP_MAC_CTX *c;
    uint8_t *key; /* 32 bytes, sodium_malloc'd */
} keyed;

static pthread_key_t keyed_slot;
static int keyed_slot_ok;

static void keyed_free(void *p)
{
    keyed *k = p;
    EVP_MAC_CTX_free(k->c);
    sodium_free(k->key); /* wipes the key's copy */
    free(k);
}

static EVP_MAC_CTX *keyed_ctx(const uint8_t key[32])
{
    keyed *k = pthread_getspecific(keyed_slot);
    if (!k) {
        if (!(k = calloc(1, sizeof(*k))))
            return NULL;
        if (!(k->key = sodium_malloc(32)) || pthread_setspecific(keyed_slot, k)) {
            keyed_free(k);
            return NULL;
        }
    }
    if (k->c && sodium_memcmp(k->key, key, 32) == 0)
        return EVP_MAC_init(k->c, NULL, 0, NULL) ? k->c : NULL;
    EVP_MAC_CTX_free(k->c);
    k->c = EVP_MAC_CTX_dup(hmac_sha256);
    if (!k->c || !EVP_MAC_init(k->c, key, 32, NULL)) {
        EVP_MAC_CTX_free(k->c);
        k->c = NULL;
        return NULL;
    }
    memcpy(k->key, key, 32);
    return k->c;
}

static int ossl_hmac(uint8_t out[32], const void *m, size_t mlen, const uint8_t key[32])
{
    size_t got = 0;
    EVP_MAC_CTX *c = keyed_ctx(key);
    return c && EVP_MAC_update(c, m, mlen) && EVP_MAC_final(c, out, &got, 32) && got == 32 ? 0
                                                                                             : -1;
}

static EVP_MAC_CTX *hmac_template(void)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (c && !EVP_MAC_CTX_set_params(c, params)) {
        EVP_MAC_CTX_free(c);
        c = NULL;
    }
    return c;
}

/* The XChaCha20 construction: a subkey from the key and the first 16 bytes
 * of the nonce, a 12-byte IETF nonce of four zero bytes and the last 8. */
static void xchacha_subkey(uint8_t sub[32], uint8_t n12[12], const uint8_t nonce[24],
                           const uint8_t key[32])
{
    crypto_core_hchacha20(sub, nonce, key, NULL);
    memset(n12, 0, 4);
    memcpy(n12 + 4, nonce + 16, 8);
}

/* 0 sealed; -1 OpenSSL failed before the output was touched (the caller
 * computes it with libsodium). Once the keystream has been applied, the
 * output may be the input (in place), so a failure then cannot fall back:
 * sealing the half-encrypted bytes again would give back the plaintext
 * under a valid tag. OpenSSL fails there only on misuse or a broken
 * library; the process stops before anything is stored. */
static int ossl_seal(uint8_t *c, const uint8_t *m, size_t mlen, const uint8_t *ad, size_t adlen,
                     const uint8_t nonce[24], const uint8_t key[32])
{
    uint8_t sub[32], n12[12];
    int n = 0, fin = 0;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    xchacha_subkey(sub, n12, nonce, key);
    int ready = x && EVP_EncryptInit_ex2(x, chacha, sub, n12, NULL) &&
                (!adlen || EVP_EncryptUpdate(x, NULL, &n, ad, (int)adlen));
    sodium_memzero(sub, sizeof(sub));
    if (!ready) {
        EVP_CIPHER_CTX_free(x);
        return -1;
    }
    if (!EVP_EncryptUpdate(x, c, &n, m, (int)mlen) || (size_t)n != mlen ||
        !EVP_EncryptFinal_ex(x, c + n, &fin) || fin != 0 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, c + mlen) <= 0) {
        fputs("bkp: OpenSSL failed in the middle of an encryption; stopping before anything "
              "is stored\n",
              stderr);
        abort();
    }
    EVP_CIPHER_CTX_free(x);
    return 0;
}

/* 0 authentic; -EBADMSG the tag does not verify; -1 OpenSSL failed
 * otherwise (the caller asks libsodium). */
static int ossl_open(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *ad, size_t adlen,
                     const uint8_t nonce[24], const uint8_t key[32])
{
    uint8_t sub[32], n12[12];
    size_t mlen = clen - 16;
    int n = 0, fin = 0, r = -1;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    xchacha_subkey(sub, n12, nonce, key);
    /* OpenSSL decrypts before it checks the tag: on a refusal the output
     * is wiped, so no unauthenticated byte outlives this call. */
    if (x && EVP_DecryptInit_ex2(x, chacha, sub, n12, NULL) &&
        (!adlen || EVP_DecryptUpdate(x, NULL, &n, ad, (int)adlen)) &&
        EVP_DecryptUpdate(x, m, &n, c, (int)mlen) && (size_t)n == mlen &&
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(c + mlen)) > 0)
        r = EVP_DecryptFinal_ex(x, m + n, &fin) > 0 ? 0 : -EBADMSG;
    EVP_CIPHER_CTX_free(x);
    sodium_memzero(sub, sizeof(sub));
    if (r != 0)
        sodium_memzero(m, mlen);
    return r;
}

/* Both implementations on fixed inputs: the same IDs, the same sealed
 * bytes, each opening the other's, both refusing a changed tag. */
#define AGREE_MAX 70001

static int agree_on(uint8_t *m, uint8_t *c1, uint8_t *c2, uint8_t *p)
{
    static const size_t lens[] = {HASH_MIN, AEAD_MIN, 4096 + 7, AGREE_MAX};
    uint8_t key[32], nonce[24], ad[33], h1[32], h2[32];
    unsigned long long cl;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)(0xa0 + i);
    memset(ad, 0x33, sizeof(ad));
    for (size_t i = 0; i < AGREE_MAX; i++)
        m[i] = (uint8_t)(i * 31 + (i >> 8));
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = lens[k];
        crypto_generichash(h1, 32, m, n, key, 32);
        if (ossl_hash(h2, m, n, key) || memcmp(h1, h2, 32))
            return 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(c1, &cl, m, n, ad, sizeof(ad), NULL, nonce, key);
        if (ossl_seal(c2, m, n, ad, sizeof(ad), nonce, key) || memcmp(c1, c2, n + 16))
            return 0;
        if (ossl_open(p, c1, n + 16, ad, sizeof(ad), nonce, key) || memcmp(p, m, n))
            return 0;
        c1[n + 3] ^= 1;
        if (ossl_open(p, c1, n + 16, ad, sizeof(ad), nonce, key) != -EBADMSG)
            return 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, NULL, NULL, c1, n + 16, ad, sizeof(ad),
                                                       nonce, key) == 0)
            return 0;
    }
    return 1;
}

/* HMAC-SHA-256 alike in both, at lengths around a block's, under two keys
 * in turn (the thread's keyed context re-keyed and reused). */
static int agree_hmac(const uint8_t *m)
{
    static const size_t lens[] = {0, 55, 64, 65, 4096 + 7, AGREE_MAX};
    uint8_t key[2][32], h1[32], h2[32];
    for (size_t i = 0; i < 32; i++) {
        key[0][i] = (uint8_t)(i * 7 + 1);
        key[1][i] = (uint8_t)(i * 11 + 3);
    }
    for (size_t k = 0; k < 2 * sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = lens[k % (sizeof(lens) / sizeof(lens[0]))];
        crypto_auth_hmacsha256(h1, m, n, key[k & 1]);
        if (ossl_hmac(h2, m, n, key[k & 1]) || memcmp(h1, h2, 32))
            return 0;
    }
    return 1;
}

/* On the heap: the first call may come from a worker with a small stack. */
static int agree(void)
{
    uint8_t *buf = malloc(4 * (AGREE_MAX + 16));
    int ok = buf && agree_on(buf, buf + (AGREE_MAX + 16), buf + 2 * (AGREE_MAX + 16),
                             buf + 3 * (AGREE_MAX + 16));
    /* HMAC on its own: a fault of it leaves the other two on OpenSSL. */
    use_hmac = buf && hmac_sha256 && keyed_slot_ok && agree_hmac(buf);
    free(buf);
    return ok;
}

static void init(void)
{
    blake2bmac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
    chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    hmac_sha256 = hmac_template();
    __atomic_store_n(&keyed_slot_ok, pthread_key_create(&keyed_slot, keyed_free) == 0,
                     __ATOMIC_RELEASE);
    use_openssl = blake2bmac && chacha && agree();
}

static int openssl_on(void)
{
    pthread_once(&once, init);
    return use_openssl && !forced_sodium;
}

static int hmac_on(void)
{
    pthread_once(&once, init);
    return use_hmac && !forced_sodium;
}

void bkp_prim_forget(void)
{
    /* Nothing to forget before the first hash: no initialisation (and its
     * self-check) for a process that closes keys it never hashed with. */
    keyed *k = __atomic_load_n(&keyed_slot_ok, __ATOMIC_ACQUIRE) ? pthread_getspecific(keyed_slot)
                                                                 : NULL;
    if (k) {
        (void)pthread_setspecific(keyed_slot, NULL);
        keyed_free(k);
    }
}

void bkp_prim_keyed_hash(uint8_t out[32], const void *m, size_t mlen, const uint8_t key[32])
{
    if (mlen >= HASH_MIN && openssl_on() && ossl_hash(out, m, mlen, key) == 0)
        return;
    crypto_generichash(out, 32, m, mlen, key, 32);
}

void bkp_prim_hmac_sha256(uint8_t out[32], const void *m, size_t mlen, const uint8_t key[32])
{
    /* Every length: with the thread's keyed context OpenSSL is the faster
     * even for a few bytes. */
    if (hmac_on() && ossl_hmac(out, m, mlen, key) == 0)
        return;
    crypto_auth_hmacsha256(out, m, mlen, key);
}

/* Seconds of CPU this thread spent in `hash` over `len` bytes, the best of
 * three runs: the best is the one least disturbed by anything else. */
static double best_of_three(void (*hash)(uint8_t *, const void *, size_t, const uint8_t *),
                            const uint8_t *m, size_t len, const uint8_t key[32])
{
    double best = 1e9;
    uint8_t out[32];
    for (int i = 0; i < 3; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        hash(out, m, len, key);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        best = s < best ? s : best;
    }
    return best;
}

int bkp_prim_hmac_sha256_faster(void)
{
    enum { LEN = 4 << 20 };
    uint8_t key[32] = {0}, *m = calloc(1, LEN);
    if (!m)
        return 0;
    double blake = best_of_three(bkp_prim_keyed_hash, m, LEN, key);
    double sha = best_of_three(bkp_prim_hmac_sha256, m, LEN, key);
    free(m);
    return sha < blake * 0.8;
}

void bkp_prim_seal(uint8_t *c, const uint8_t *m, size_t mlen, const uint8_t *ad, size_t adlen,
                   const uint8_t nonce[24], const uint8_t key[32])
{
    if (mlen >= AEAD_MIN && mlen <= INT_MAX && adlen <= INT_MAX && openssl_on() &&
        ossl_seal(c, m, mlen, ad, adlen, nonce, key) == 0)
        return;
    crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, m, mlen, ad, adlen, NULL, nonce, key);
}

int bkp_prim_open(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *ad, size_t adlen,
                  const uint8_t nonce[24], const uint8_t key[32])
{
    if (clen < 16)
        return -EBADMSG;
    if (clen - 16 >= AEAD_MIN && clen <= INT_MAX && adlen <= INT_MAX && openssl_on()) {
        int r = ossl_open(m, c, clen, ad, adlen, nonce, key);
        if (r != -1)
            return r;
    }
    return crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL, c, clen, ad, adlen, nonce,
                                                      key) == 0
               ? 0
               : -EBADMSG;
}

const char *bkp_prim_engine(void)
{
    return openssl_on() ? "openssl" : "libsodium";
}

void bkp_prim_force_sodium(int on)
{
    forced_sodium = on;
}
