#include "bkp/store/blob.h"
#include "bkp/keys/primitive.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <sodium.h>
#include <zstd.h>

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

void bkp_blob_id(const bkp_keys *k, const void *data, size_t len, uint8_t id[BKP_ID_LEN])
{
    if (bkp_keys_id_hash(k) == BKP_ID_HMAC_SHA256)
        bkp_prim_hmac_sha256(id, data, len, bkp_keys_id_key(k));
    else
        bkp_prim_keyed_hash(id, data, len, bkp_keys_id_key(k));
}

static void make_ad(uint8_t ad[1 + BKP_ID_LEN], uint8_t type, const uint8_t id[BKP_ID_LEN])
{
    ad[0] = type;
    memcpy(ad + 1, id, BKP_ID_LEN);
}

/* zstd's contexts, one of each per thread, kept for its life (a context
 * costs more to make than a chunk to compress), freed when it ends. */
typedef struct zstd_state {
    ZSTD_CCtx *c;
    ZSTD_DCtx *d;
    bkp_buf other; /* a learning sample's second form */
} zstd_state;

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void state_free(void *arg)
{
    zstd_state *z = arg;
    ZSTD_freeCCtx(z->c);
    ZSTD_freeDCtx(z->d);
    bkp_buf_free(&z->other);
    free(z);
}

static void make_key(void)
{
    (void)pthread_key_create(&state_key, state_free);
}

static zstd_state *state(void)
{
    pthread_once(&state_once, make_key);
    zstd_state *z = pthread_getspecific(state_key);
    if (!z && (z = calloc(1, sizeof(*z))) && pthread_setspecific(state_key, z)) {
        free(z);
        z = NULL;
    }
    return z;
}

static ZSTD_CCtx *cctx(void)
{
    zstd_state *z = state();
    if (z && !z->c)
        z->c = ZSTD_createCCtx();
    return z ? z->c : NULL;
}

static ZSTD_DCtx *dctx(void)
{
    zstd_state *z = state();
    if (z && !z->d)
        z->d = ZSTD_createDCtx();
    return z ? z->d : NULL;
}

int bkp_comp_parse(const char *s, bkp_comp *c)
{
    char *end;
    if (!strcmp(s, "auto"))
        *c = (bkp_comp){.kind = BKP_COMP_AUTO, .level = BKP_COMP_AUTO_LEVEL};
    else if (!strcmp(s, "lz4"))
        *c = BKP_COMP_LZ4_1;
    else if (!strcmp(s, "none"))
        *c = BKP_COMP_STORED;
    else if (!strcmp(s, "zstd"))
        *c = (bkp_comp){.kind = BKP_COMP_ZSTD, .level = BKP_COMP_ZSTD_LEVEL};
    else if (!strncmp(s, "zstd:", 5) && s[5] >= '1' && s[5] <= '9') {
        long level = strtol(s + 5, &end, 10);
        if (*end || level < 1 || level > BKP_COMP_ZSTD_MAX)
            return -EINVAL;
        *c = (bkp_comp){.kind = BKP_COMP_ZSTD, .level = (int)level};
    } else
        return -EINVAL;
    return 0;
}

/* Auto's probe: whether LZ4 shrinks any of three slices of `plain` (its
 * start, middle and end, AUTO_SLICE bytes each, the first alone when the
 * blob is that short) by 1/32, into `dst` (at least
 * LZ4_compressBound(AUTO_SLICE) bytes). 4 KiB tell text from noise as well
 * as 16 did, and on small text files LZ4 over 16 KiB of each was a sixth of
 * a first backup's CPU. */
#define AUTO_SLICE (4 << 10)
static bool shrinks(void *dst, const uint8_t *plain, size_t len)
{
    size_t slice = len < AUTO_SLICE ? len : AUTO_SLICE;
    size_t at[3] = {0, len / 2 - slice / 2, len - slice};
    int bound = LZ4_compressBound((int)slice);
    for (int i = 0; i < (slice == len ? 1 : 3); i++) {
        int c = LZ4_compress_fast((const char *)plain + at[i], dst, (int)slice, bound, 1);
        if (c > 0 && (size_t)c < slice - slice / 32)
            return true;
    }
    return false;
}

/* `len` bytes of `plain` as zstd at `level` into `dst` (`cap` bytes): its
 * length, or 0 when it cannot be (no memory: the blob is stored). */
static size_t zstd_into(void *dst, size_t cap, const void *plain, size_t len, int level)
{
    ZSTD_CCtx *c = cctx();
    size_t n = c ? ZSTD_compressCCtx(c, dst, cap, plain, len, level) : 0;
    return c && !ZSTD_isError(n) ? n : 0;
}

int bkp_comp_learned_level(bkp_comp_learn *l)
{
    uint64_t at1 = atomic_load_explicit(&l->at1, memory_order_relaxed);
    uint64_t at3 = atomic_load_explicit(&l->at3, memory_order_relaxed);
    return at3 && at3 < at1 - at1 / 16 ? 3 : 1;
}

/* A large blob's zstd form into `dst` under auto with learner `l`: at the
 * level learnt, or as a sample, at levels 1 and 3, the smaller kept and
 * both sizes learnt. Its length, or 0 as zstd_into. */
static size_t zstd_learning(bkp_comp_learn *l, void *dst, size_t cap, const void *plain, size_t len)
{
    uint64_t n = atomic_fetch_add_explicit(&l->seen, 1, memory_order_relaxed);
    if (n >= BKP_COMP_LEARN_FIRST && n % BKP_COMP_LEARN_EVERY)
        return zstd_into(dst, cap, plain, len, bkp_comp_learned_level(l));
    size_t z1 = zstd_into(dst, cap, plain, len, 1);
    zstd_state *st = state();
    uint8_t *other = st ? bkp_buf_reserve(&st->other, cap) : NULL;
    size_t z3 = other ? zstd_into(other, cap, plain, len, 3) : 0;
    if (z1 && z3) {
        atomic_fetch_add_explicit(&l->at1, z1, memory_order_relaxed);
        atomic_fetch_add_explicit(&l->at3, z3, memory_order_relaxed);
    }
    if (z3 && (!z1 || z3 < z1)) {
        memcpy(dst, other, z3);
        return z3;
    }
    return z1;
}

int bkp_blob_seal(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *plain,
                  size_t len, bkp_comp comp, bkp_buf *out)
{
    uint8_t ad[1 + BKP_ID_LEN];
    if (len > BKP_BLOB_MAX_RAW)
        return -E2BIG;
    if (comp.kind == BKP_COMP_DEFAULT) {
        comp.kind = BKP_COMP_AUTO;
        comp.level = BKP_COMP_AUTO_LEVEL;
    }
    size_t lz4_bound = (size_t)LZ4_compressBound((int)len), zstd_bound = ZSTD_compressBound(len);
    size_t bound = lz4_bound > zstd_bound ? lz4_bound : zstd_bound;
    /* Room for the worst case: the plaintext frame is built in place after
     * the nonce and encrypted where it stands. */
    uint8_t *base = bkp_buf_reserve(out, NONCE_LEN + 5 + (bound > len ? bound : len) + TAG_LEN);
    if (!base)
        return -ENOMEM;
    uint8_t *frame = base + NONCE_LEN;
    size_t flen = 0, keep = len - len / 32; /* what a compressed form must be under */
    bool small = len >= 64;
    bkp_comp_learn *learn = NULL;
    if (small && comp.kind == BKP_COMP_AUTO) {
        comp.kind = shrinks(frame + 5, plain, len) ? BKP_COMP_ZSTD : BKP_COMP_NONE;
        if (len <= BKP_COMP_AUTO_SMALL)
            comp.level = BKP_COMP_AUTO_SMALL_LEVEL;
        else
            learn = comp.learn;
    }
    if (small && comp.kind == BKP_COMP_LZ4) {
        /* LZ4's acceleration: 1 for data, more where speed matters more
         * than size (the files cache, rewritten every run). */
        int c = LZ4_compress_fast(plain, (char *)frame + 5, (int)len, (int)lz4_bound,
                                  comp.level > 0 ? comp.level : 1);
        if (c > 0 && (size_t)c < keep) {
            frame[0] = 1;
            flen = 5 + (size_t)c;
        }
    }
    if (small && comp.kind == BKP_COMP_ZSTD) {
        size_t z = learn ? zstd_learning(learn, frame + 5, zstd_bound, plain, len)
                         : zstd_into(frame + 5, zstd_bound, plain, len, comp.level);
        if (z && z < keep) {
            frame[0] = 2;
            flen = 5 + z;
        }
    }
    if (flen) {
        bkp_le32(frame + 1, (uint32_t)len);
    } else {
        frame[0] = 0;
        memcpy(frame + 1, plain, len);
        flen = 1 + len;
    }
    randombytes_buf(base, NONCE_LEN);
    make_ad(ad, type, id);
    bkp_prim_seal(frame, frame, flen, ad, sizeof(ad), base, bkp_keys_blob_key(k));
    out->len += NONCE_LEN + flen + TAG_LEN;
    return 0;
}

int bkp_blob_unframe(const uint8_t *frame, size_t flen, bkp_buf *out)
{
    bkp_buf_reset(out);
    if (flen < 1)
        return -EBADMSG;
    if (frame[0] == 0) {
        bkp_buf_put(out, frame + 1, flen - 1);
        return out->failed ? -ENOMEM : 0;
    }
    if (frame[0] != 1 && frame[0] != 2)
        return -EPROTO;
    if (flen < 5)
        return -EBADMSG;
    uint32_t raw = bkp_get_le32(frame + 1);
    if (raw > BKP_BLOB_MAX_RAW)
        return -EBADMSG;
    if (frame[0] == 2) {
        /* The frame must say its size, and say this one: then it decodes
         * into the `raw` bytes made for it, and no further. */
        unsigned long long said = ZSTD_getFrameContentSize(frame + 5, flen - 5);
        if (said != raw)
            return -EBADMSG;
    }
    uint8_t *d = bkp_buf_reserve(out, raw ? raw : 1);
    if (!d)
        return -ENOMEM;
    if (frame[0] == 1) {
        int n = LZ4_decompress_safe((const char *)frame + 5, (char *)d, (int)(flen - 5), (int)raw);
        if (n < 0 || (uint32_t)n != raw)
            return -EBADMSG;
    } else {
        ZSTD_DCtx *z = dctx();
        if (!z)
            return -ENOMEM;
        size_t n = ZSTD_decompressDCtx(z, d, raw, frame + 5, flen - 5);
        if (ZSTD_isError(n) || n != raw)
            return -EBADMSG;
    }
    out->len = raw;
    return 0;
}

/* Authenticate and decrypt `sealed` into a new frame (`*frame`, `*flen`;
 * the caller frees it). */
static int open_frame(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN],
                      const void *sealed, size_t slen, uint8_t **frame, size_t *flen)
{
    uint8_t ad[1 + BKP_ID_LEN];
    const uint8_t *s = sealed;
    *frame = NULL;
    /* Neither LZ4's nor zstd's frame of the largest blob is longer than
     * its worst case, a little over the raw size. */
    if (slen < NONCE_LEN + 1 + TAG_LEN ||
        slen - NONCE_LEN - TAG_LEN >
            5 + ZSTD_compressBound(BKP_BLOB_MAX_RAW) + BKP_BLOB_MAX_RAW / 255 + 16)
        return -EBADMSG;
    *flen = slen - NONCE_LEN - TAG_LEN;
    *frame = malloc(*flen);
    if (!*frame)
        return -ENOMEM;
    make_ad(ad, type, id);
    int r = bkp_prim_open(*frame, s + NONCE_LEN, slen - NONCE_LEN, ad, sizeof(ad), s,
                          bkp_keys_blob_key(k));
    if (r) {
        free(*frame);
        *frame = NULL;
    }
    return r;
}

int bkp_blob_open(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN], const void *sealed,
                  size_t slen, bkp_buf *out)
{
    uint8_t *frame;
    size_t flen;
    bkp_buf_reset(out);
    int r = open_frame(k, type, id, sealed, slen, &frame, &flen);
    if (!r)
        r = bkp_blob_unframe(frame, flen, out);
    free(frame);
    return r;
}

int bkp_blob_comp_of(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN],
                     const void *sealed, size_t slen, bkp_comp_kind *kind)
{
    uint8_t *frame;
    size_t flen;
    int r = open_frame(k, type, id, sealed, slen, &frame, &flen);
    if (!r) {
        static const bkp_comp_kind kinds[] = {BKP_COMP_NONE, BKP_COMP_LZ4, BKP_COMP_ZSTD};
        r = frame[0] < 3 ? 0 : -EPROTO;
        if (!r)
            *kind = kinds[frame[0]];
    }
    free(frame);
    return r;
}

int bkp_blob_check(const bkp_keys *k, uint8_t type, const uint8_t id[BKP_ID_LEN],
                   const void *sealed, size_t slen, bkp_buf *plain)
{
    uint8_t h[BKP_ID_LEN];
    int rc = bkp_blob_open(k, type, id, sealed, slen, plain);
    if (rc || (type != BKP_BLOB_DATA && type != BKP_BLOB_TREE))
        return rc;
    bkp_blob_id(k, plain->data, plain->len, h);
    return sodium_memcmp(h, id, BKP_ID_LEN) ? -EBADMSG : 0;
}
