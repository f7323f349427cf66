/*
 * test_blob.c — sealed blobs (bkp/store/blob.h with keys from bkp/keys/keys.h).
 *
 * Proves that what is sealed opens to the same bytes (compressible,
 * incompressible, empty), that compressible data really is stored smaller,
 * and that nothing else opens: any flipped bit, a truncation, another type,
 * another ID, or another repository's keys all give -EBADMSG, so a damaged or
 * substituted object can never be restored as if it were good.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>
#include <sodium.h>

#include "bkp/store/blob.h"
#include "bkp/keys/keys.h"

static const uint8_t repo_a[16] = "repository-A...";
static const uint8_t repo_b[16] = "repository-B...";

typedef struct fixture {
    bkp_keys *k;
    bkp_buf sealed, plain;
} fixture;

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    bkp_buf_init(&f->sealed);
    bkp_buf_init(&f->plain);
    if (sodium_init() < 0 || bkp_keys_generate(repo_a, &f->k) != 0)
        return teardown(state), -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_buf_free(&f->sealed);
    bkp_buf_free(&f->plain);
    bkp_keys_free(f->k);
    free(f);
    return 0;
}

static uint8_t *random_data(size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    randombytes_buf(p, len);
    return p;
}

static uint8_t *text_data(size_t len)
{
    static const char line[] = "2024-05-01 12:00:00 host sshd[42]: Accepted publickey for root\n";
    uint8_t *p = malloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)line[i % (sizeof(line) - 1)];
    return p;
}

static void seal_open(fixture *f, const uint8_t *data, size_t len, bkp_comp compress)
{
    uint8_t id[BKP_ID_LEN];
    bkp_blob_id(f->k, data, len, id);
    bkp_buf_reset(&f->sealed);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_DATA, id, data, len, compress, &f->sealed), 0);
    assert_int_equal(
        bkp_blob_open(f->k, BKP_BLOB_DATA, id, f->sealed.data, f->sealed.len, &f->plain), 0);
    assert_int_equal(f->plain.len, len);
    if (len)
        assert_memory_equal(f->plain.data, data, len);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    size_t len = 1U << 20;
    uint8_t *text = text_data(len), *rnd = random_data(len);

    /* Compressible: LZ4 is used, the sealed form is far smaller. */
    seal_open(f, text, len, BKP_COMP_LZ4_1);
    assert_true(f->sealed.len < len / 4);
    /* Same data with compression off: stored as is. */
    seal_open(f, text, len, BKP_COMP_STORED);
    assert_true(f->sealed.len >= len);
    assert_true(f->sealed.len <= len + BKP_BLOB_OVERHEAD);
    /* Incompressible: stored, at most the documented overhead. */
    seal_open(f, rnd, len, BKP_COMP_LZ4_1);
    assert_true(f->sealed.len >= len);
    assert_true(f->sealed.len <= len + BKP_BLOB_OVERHEAD);
    /* Empty and tiny. */
    seal_open(f, rnd, 0, BKP_COMP_LZ4_1);
    assert_true(f->sealed.len <= BKP_BLOB_OVERHEAD);
    seal_open(f, rnd, 1, BKP_COMP_LZ4_1);
    seal_open(f, text, 200, BKP_COMP_LZ4_1);

    free(text);
    free(rnd);
}

static void test_seal_appends_and_is_randomised(void **state)
{
    fixture *f = *state;
    uint8_t id[BKP_ID_LEN] = {0};
    uint8_t *text = text_data(4096);
    bkp_buf_reset(&f->sealed);
    bkp_buf_put(&f->sealed, "HEAD", 4);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_TREE, id, text, 4096, BKP_COMP_LZ4_1, &f->sealed),
                     0);
    size_t one = f->sealed.len - 4;
    assert_memory_equal(f->sealed.data, "HEAD", 4);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_TREE, id, text, 4096, BKP_COMP_LZ4_1, &f->sealed),
                     0);
    assert_int_equal(f->sealed.len, 4 + 2 * one);
    /* A fresh nonce each time: equal plaintexts do not give equal ciphertexts. */
    assert_memory_not_equal(f->sealed.data + 4, f->sealed.data + 4 + one, one);
    assert_int_equal(
        bkp_blob_open(f->k, BKP_BLOB_TREE, id, f->sealed.data + 4 + one, one, &f->plain), 0);
    assert_memory_equal(f->plain.data, text, 4096);
    free(text);
}

static void test_id_is_keyed(void **state)
{
    fixture *f = *state;
    bkp_keys *other = NULL;
    uint8_t a[BKP_ID_LEN], b[BKP_ID_LEN], c[BKP_ID_LEN];
    assert_int_equal(bkp_keys_generate(repo_b, &other), 0);
    bkp_blob_id(f->k, "content", 7, a);
    bkp_blob_id(f->k, "content", 7, b);
    bkp_blob_id(other, "content", 7, c);
    assert_memory_equal(a, b, BKP_ID_LEN);
    /* IDs do not reveal content to someone without the key. */
    assert_memory_not_equal(a, c, BKP_ID_LEN);
    bkp_blob_id(f->k, "contenT", 7, b);
    assert_memory_not_equal(a, b, BKP_ID_LEN);
    bkp_keys_free(other);
}

static void test_every_bit_flip_rejected(void **state)
{
    fixture *f = *state;
    uint8_t *text = text_data(300), *rnd = random_data(120);
    const uint8_t *inputs[] = {text, rnd};
    size_t lens[] = {300, 120};
    for (int which = 0; which < 2; which++) {
        uint8_t id[BKP_ID_LEN];
        bkp_blob_id(f->k, inputs[which], lens[which], id);
        bkp_buf_reset(&f->sealed);
        assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_DATA, id, inputs[which], lens[which],
                                       BKP_COMP_LZ4_1, &f->sealed),
                         0);
        uint8_t *s = f->sealed.data;
        for (size_t i = 0; i < f->sealed.len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                s[i] ^= (uint8_t)(1U << bit);
                int r = bkp_blob_open(f->k, BKP_BLOB_DATA, id, s, f->sealed.len, &f->plain);
                s[i] ^= (uint8_t)(1U << bit);
                if (r != -EBADMSG)
                    fail_msg("flip of bit %d of byte %zu (input %d): %d", bit, i, which, r);
            }
        }
        /* Truncated or extended. */
        for (size_t cut = 0; cut < f->sealed.len; cut += 7)
            assert_int_equal(bkp_blob_open(f->k, BKP_BLOB_DATA, id, s, cut, &f->plain), -EBADMSG);
        bkp_buf_u8(&f->sealed, 0);
        assert_int_equal(
            bkp_blob_open(f->k, BKP_BLOB_DATA, id, f->sealed.data, f->sealed.len, &f->plain),
            -EBADMSG);
        /* Unharmed, it still opens. */
        assert_int_equal(
            bkp_blob_open(f->k, BKP_BLOB_DATA, id, f->sealed.data, f->sealed.len - 1, &f->plain),
            0);
        assert_memory_equal(f->plain.data, inputs[which], lens[which]);
    }
    free(text);
    free(rnd);
}

static void test_wrong_type_id_or_keys(void **state)
{
    fixture *f = *state;
    uint8_t *text = text_data(5000);
    uint8_t id[BKP_ID_LEN], other_id[BKP_ID_LEN];
    bkp_keys *other = NULL, *same_repo = NULL;
    bkp_blob_id(f->k, text, 5000, id);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_DATA, id, text, 5000, BKP_COMP_LZ4_1, &f->sealed),
                     0);
    const uint8_t *s = f->sealed.data;
    size_t n = f->sealed.len;

    /* Another type: a data blob cannot be passed off as a tree or index. */
    for (uint8_t t = BKP_BLOB_TREE; t <= BKP_BLOB_CACHE; t++)
        assert_int_equal(bkp_blob_open(f->k, t, id, s, n, &f->plain), -EBADMSG);
    /* Another ID, even one bit off. */
    for (size_t i = 0; i < BKP_ID_LEN; i += 5) {
        memcpy(other_id, id, BKP_ID_LEN);
        other_id[i] ^= 0x80;
        assert_int_equal(bkp_blob_open(f->k, BKP_BLOB_DATA, other_id, s, n, &f->plain), -EBADMSG);
    }
    /* Another repository's keys, and new keys that claim the same repository ID. */
    assert_int_equal(bkp_keys_generate(repo_b, &other), 0);
    assert_int_equal(bkp_keys_generate(repo_a, &same_repo), 0);
    assert_int_equal(bkp_blob_open(other, BKP_BLOB_DATA, id, s, n, &f->plain), -EBADMSG);
    assert_int_equal(bkp_blob_open(same_repo, BKP_BLOB_DATA, id, s, n, &f->plain), -EBADMSG);
    /* Control: the right type, ID and keys open it. */
    assert_int_equal(bkp_blob_open(f->k, BKP_BLOB_DATA, id, s, n, &f->plain), 0);
    assert_memory_equal(f->plain.data, text, 5000);

    bkp_keys_free(other);
    bkp_keys_free(same_repo);
    free(text);
}

/* A frame that authenticates (made with the real key) but whose LZ4 length
 * lies is refused, not decompressed into a wrong-sized result. */
static void test_lying_lz4_length(void **state)
{
    fixture *f = *state;
    uint8_t id[BKP_ID_LEN] = {7};
    uint8_t *text = text_data(4096);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_TREE, id, text, 4096, BKP_COMP_LZ4_1, &f->sealed),
                     0);
    size_t n = f->sealed.len, flen = n - 24 - 16;
    uint8_t *frame = malloc(flen), nonce[24], ad[1 + BKP_ID_LEN];
    assert_non_null(frame);
    ad[0] = BKP_BLOB_TREE;
    memcpy(ad + 1, id, BKP_ID_LEN);
    memcpy(nonce, f->sealed.data, 24);
    assert_int_equal(
        crypto_aead_xchacha20poly1305_ietf_decrypt(frame, NULL, NULL, f->sealed.data + 24, n - 24,
                                                   ad, sizeof(ad), nonce, bkp_keys_blob_key(f->k)),
        0);
    assert_int_equal(frame[0], 1); /* LZ4 was used */
    const uint32_t lies[] = {4095, 4097, BKP_BLOB_MAX_RAW + 1};
    for (size_t i = 0; i < sizeof(lies) / sizeof(*lies); i++) {
        bkp_le32(frame + 1, lies[i]);
        crypto_aead_xchacha20poly1305_ietf_encrypt(f->sealed.data + 24, NULL, frame, flen, ad,
                                                   sizeof(ad), NULL, nonce,
                                                   bkp_keys_blob_key(f->k));
        assert_int_equal(bkp_blob_open(f->k, BKP_BLOB_TREE, id, f->sealed.data, n, &f->plain),
                         -EBADMSG);
    }
    free(frame);
    free(text);
}

/* The frame's kind after decryption (frame[0]) of what `comp` seals. */
static int kind_of(fixture *f, const uint8_t *data, size_t len, bkp_comp comp)
{
    uint8_t id[BKP_ID_LEN] = {3}, ad[1 + BKP_ID_LEN];
    bkp_buf_reset(&f->sealed);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_DATA, id, data, len, comp, &f->sealed), 0);
    size_t flen = f->sealed.len - 24 - 16;
    uint8_t *frame = malloc(flen);
    assert_non_null(frame);
    ad[0] = BKP_BLOB_DATA;
    memcpy(ad + 1, id, BKP_ID_LEN);
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
                         frame, NULL, NULL, f->sealed.data + 24, f->sealed.len - 24, ad, sizeof(ad),
                         f->sealed.data, bkp_keys_blob_key(f->k)),
                     0);
    int kind = frame[0];
    free(frame);
    /* What prune --recompress asks: the same kind, from the tag alone; and
     * the sizes never call a compressed blob stored. */
    static const bkp_comp_kind kinds[] = {BKP_COMP_NONE, BKP_COMP_LZ4, BKP_COMP_ZSTD};
    bkp_comp_kind said;
    assert_int_equal(
        bkp_blob_comp_of(f->k, BKP_BLOB_DATA, id, f->sealed.data, f->sealed.len, &said), 0);
    assert_int_equal(said, kinds[kind]);
    if (kind)
        assert_false(bkp_blob_surely_stored((uint32_t)f->sealed.len, (uint32_t)len));
    else
        assert_int_equal(bkp_blob_surely_stored((uint32_t)f->sealed.len, (uint32_t)len), len > 128);
    f->sealed.data[f->sealed.len - 1] ^= 1;
    assert_int_equal(
        bkp_blob_comp_of(f->k, BKP_BLOB_DATA, id, f->sealed.data, f->sealed.len, &said), -EBADMSG);
    f->sealed.data[f->sealed.len - 1] ^= 1;
    assert_int_equal(
        bkp_blob_open(f->k, BKP_BLOB_DATA, id, f->sealed.data, f->sealed.len, &f->plain), 0);
    assert_int_equal(f->plain.len, len);
    assert_memory_equal(f->plain.data, data, len);
    return kind;
}

/* zstd and auto: compressible data is stored as zstd, smaller than LZ4's;
 * what does not compress is stored as it is; each opens to its bytes. */
static void test_zstd_and_auto(void **state)
{
    fixture *f = *state;
    size_t len = 1U << 20;
    uint8_t *text = text_data(len), *rnd = random_data(len);
    assert_int_equal(kind_of(f, text, len, BKP_COMP_LZ4_1), 1);
    size_t lz4 = f->sealed.len;
    assert_int_equal(kind_of(f, text, len, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = 3}), 2);
    assert_true(f->sealed.len < lz4);
    assert_int_equal(kind_of(f, text, len, (bkp_comp){.kind = BKP_COMP_AUTO, .level = 3}), 2);
    assert_int_equal(kind_of(f, rnd, len, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = 3}), 0);
    assert_int_equal(kind_of(f, rnd, len, (bkp_comp){.kind = BKP_COMP_AUTO, .level = 3}), 0);
    assert_int_equal(kind_of(f, text, 63, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = 19}), 0);
    /* Auto's probe looks at the start, the middle and the end: a scan
     * whose middle compresses is compressed, one that nowhere does is not
     * tried. */
    memcpy(rnd + len / 2 - 32768, text, 65536);
    assert_int_equal(kind_of(f, rnd, len, (bkp_comp){.kind = BKP_COMP_AUTO, .level = 1}), 2);
    assert_true(f->sealed.len < len - 32768);
    bkp_comp c;
    assert_int_equal(bkp_comp_parse("auto", &c), 0);
    assert_int_equal(c.level, BKP_COMP_AUTO_LEVEL);
    free(text);
    free(rnd);
}

/* Bytes of two kinds, `len` of them from `seed`: short runs of a pool of
 * tokens (zstd's level 3 finds about a third more of them than level 1:
 * like a tree of binaries), or rows of a database dump with random fields
 * (level 3 comes out larger than level 1, as on a clinic's dump). */
static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static uint8_t *learning_data(size_t len, bool level3_pays, uint64_t seed)
{
    uint8_t pool[256 * 8 + 16], *p = malloc(len);
    assert_non_null(p);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof(pool); i++)
        pool[i] = (uint8_t)next(&x);
    x ^= seed * 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < len;) {
        char row[96];
        size_t n = 4 + next(&x) % 12;
        if (!level3_pays) {
            unsigned id = (unsigned)(next(&x) % 1000000), key = (unsigned)next(&x);
            n = (size_t)snprintf(row, sizeof(row), "INSERT INTO karte VALUES (%u, '%08x', %u);\n",
                                 id, key, (unsigned)(next(&x) % 100));
        }
        const uint8_t *from = level3_pays ? pool + next(&x) % 256 * 8 : (const uint8_t *)row;
        n = n < len - i ? n : len - i;
        memcpy(p + i, from, n);
        i += n;
    }
    return p;
}

/* Auto learns, for a data set's large blobs, whether zstd's level 3 pays:
 * on bytes where it does it then seals them at level 3, on bytes where it
 * does not at level 1; a sample keeps the smaller form; each opens. */
static void test_auto_learns_level(void **state)
{
    fixture *f = *state;
    size_t len = 256U << 10;
    for (int pays = 0; pays < 2; pays++) {
        bkp_comp_learn learn = {0};
        bkp_comp a = {.kind = BKP_COMP_AUTO, .level = BKP_COMP_AUTO_LEVEL, .learn = &learn};
        size_t at1 = 0, at3 = 0, kept = 0;
        for (uint64_t i = 0; i < BKP_COMP_LEARN_FIRST + 2; i++) {
            uint8_t *d = learning_data(len, pays, i);
            /* Before it knows, each blob is a sample: the smaller form. */
            if (i < BKP_COMP_LEARN_FIRST) {
                assert_int_equal(kind_of(f, d, len, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = 1}), 2);
                at1 = f->sealed.len;
                assert_int_equal(kind_of(f, d, len, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = 3}), 2);
                at3 = f->sealed.len;
            }
            seal_open(f, d, len, a);
            kept = f->sealed.len;
            if (i < BKP_COMP_LEARN_FIRST)
                assert_int_equal(kept, at1 < at3 ? at1 : at3);
            free(d);
        }
        assert_int_equal(atomic_load(&learn.seen), BKP_COMP_LEARN_FIRST + 2);
        assert_int_equal(bkp_comp_learned_level(&learn), pays ? 3 : 1);
        /* Learnt: the next blob, no sample, at that level. */
        uint8_t *d = learning_data(len, pays, 99);
        assert_int_equal(kind_of(f, d, len, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = pays ? 3 : 1}), 2);
        size_t want = f->sealed.len;
        assert_int_equal(kind_of(f, d, len, a), 2);
        assert_int_equal(f->sealed.len, want);
        if (pays)
            assert_true(at3 < at1 - at1 / 16);
        else
            assert_true(at3 >= at1 - at1 / 16);
        /* A small blob is sealed at auto's small level, and is no sample. */
        assert_int_equal(kind_of(f, d, BKP_COMP_AUTO_SMALL, a), 2);
        assert_int_equal(atomic_load(&learn.seen), BKP_COMP_LEARN_FIRST + 3);
        free(d);
    }
}

/* The policy's words. */
static void test_comp_words(void **state)
{
    (void)state;
    bkp_comp c;
    static const char *const good[] = {"auto", "lz4", "none", "zstd:1", "zstd:19"};
    static const bkp_comp_kind kinds[] = {BKP_COMP_AUTO, BKP_COMP_LZ4, BKP_COMP_NONE,
                                          BKP_COMP_ZSTD, BKP_COMP_ZSTD};
    static const int levels[] = {-1, -1, -1, 1, 19}; /* -1: not looked at */
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        assert_int_equal(bkp_comp_parse(good[i], &c), 0);
        assert_int_equal(c.kind, kinds[i]);
        if (levels[i] >= 0)
            assert_int_equal(c.level, levels[i]);
    }
    assert_int_equal(bkp_comp_parse("zstd", &c), 0);
    assert_int_equal(c.level, BKP_COMP_ZSTD_LEVEL);
    static const char *const bad[] = {"", "zstd:0", "zstd:20", "zstd:3x", "zstd:", "gzip", "LZ4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(bkp_comp_parse(bad[i], &c), -EINVAL);
}

/* Frames as a decrypted blob holds them: a zstd frame that does not say
 * its size, or says another than the frame's length field, or is cut, is
 * damage; an unknown kind is -EPROTO. */
static void test_unframe(void **state)
{
    fixture *f = *state;
    uint8_t *text = text_data(4096), frame[8192];
    size_t z = ZSTD_compress(frame + 5, sizeof(frame) - 5, text, 4096, 3);
    assert_false(ZSTD_isError(z));
    frame[0] = 2;
    bkp_le32(frame + 1, 4096);
    assert_int_equal(bkp_blob_unframe(frame, 5 + z, &f->plain), 0);
    assert_memory_equal(f->plain.data, text, 4096);
    bkp_le32(frame + 1, 4095);
    assert_int_equal(bkp_blob_unframe(frame, 5 + z, &f->plain), -EBADMSG);
    bkp_le32(frame + 1, BKP_BLOB_MAX_RAW + 1);
    assert_int_equal(bkp_blob_unframe(frame, 5 + z, &f->plain), -EBADMSG);
    bkp_le32(frame + 1, 4096);
    assert_int_equal(bkp_blob_unframe(frame, 5 + z - 3, &f->plain), -EBADMSG);
    assert_int_equal(bkp_blob_unframe(frame, 4, &f->plain), -EBADMSG);
    frame[0] = 3;
    assert_int_equal(bkp_blob_unframe(frame, 5 + z, &f->plain), -EPROTO);
    free(text);
}

static void test_too_big_refused(void **state)
{
    fixture *f = *state;
    uint8_t id[BKP_ID_LEN] = {0};
    uint8_t *big = calloc(1, BKP_BLOB_MAX_RAW + 1);
    assert_non_null(big);
    assert_int_equal(bkp_blob_seal(f->k, BKP_BLOB_DATA, id, big, BKP_BLOB_MAX_RAW + 1,
                                   BKP_COMP_LZ4_1, &f->sealed),
                     -E2BIG);
    assert_int_equal(f->sealed.len, 0);
    free(big);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip),
        T(test_seal_appends_and_is_randomised),
        T(test_id_is_keyed),
        T(test_every_bit_flip_rejected),
        T(test_wrong_type_id_or_keys),
        T(test_lying_lz4_length),
        T(test_too_big_refused),
        T(test_zstd_and_auto),
        T(test_auto_learns_level),
        T(test_comp_words),
        T(test_unframe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
