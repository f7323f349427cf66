#include "bkp/keys/keys.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "bkp/keys/primitive.h"

#define KDF_CONTEXT "bkprepo1"
#define HEADER_LEN (8 + 4 + 8 + 8 + crypto_pwhash_SALTBYTES + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define SECRET_LEN (32 + 16)
_Static_assert(HEADER_LEN + SECRET_LEN + 16 == BKP_KEY_SEALED_LEN, "FORMAT §2: 132 bytes");

/* Argon2id cost: about 0.15 s and 64 MiB here; stored in the file so it can grow. */
#define PWHASH_OPS 3ULL
#define PWHASH_MEM (64ULL << 20)
/* What a key file may ask for: four times what bkp writes. The header is
 * authenticated only by the key it makes us derive, so these bounds are all
 * that stands between a forged file and 4 GiB of memory or minutes of work. */
#define PWHASH_OPS_MAX (4 * PWHASH_OPS)
#define PWHASH_MEM_MAX (4 * PWHASH_MEM)
/* A machine secret: 256 bits bkp drew itself, which no guessing reaches, so
 * stretching it would only cost every unattended run time and memory. It
 * gets the least Argon2id allows (one pass over 8 KiB: microseconds). */
#define MACHINE_OPS 1ULL
#define MACHINE_MEM 8192ULL

struct bkp_keys {
    uint8_t master[32];
    uint8_t repo_id[16];
    uint8_t id_key[32];
    uint8_t blob_key[32];
    uint8_t gear_seed[32];
    uint8_t sign_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES];
    bkp_id_hash id_hash; /* set from the config by the open; BLAKE2b until then */
};

static int derive(bkp_keys *k)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    if (crypto_kdf_derive_from_key(k->id_key, 32, 1, KDF_CONTEXT, k->master) ||
        crypto_kdf_derive_from_key(k->blob_key, 32, 2, KDF_CONTEXT, k->master) ||
        crypto_kdf_derive_from_key(k->gear_seed, 32, 3, KDF_CONTEXT, k->master) ||
        crypto_kdf_derive_from_key(seed, sizeof(seed), 4, KDF_CONTEXT, k->master))
        return -EINVAL;
    crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
    sodium_memzero(seed, sizeof(seed));
    return 0;
}

static bkp_keys *keys_alloc(void)
{
    bkp_keys *k = sodium_malloc(sizeof(*k));
    if (k)
        memset(k, 0, sizeof(*k));
    return k;
}

int bkp_keys_generate(const uint8_t repo_id[16], bkp_keys **out)
{
    bkp_keys *k = keys_alloc();
    if (!k)
        return -ENOMEM;
    crypto_kdf_keygen(k->master);
    memcpy(k->repo_id, repo_id, 16);
    if (derive(k)) {
        bkp_keys_free(k);
        return -EINVAL;
    }
    *out = k;
    return 0;
}

int bkp_keys_from_master(const uint8_t master[32], const uint8_t repo_id[16], bkp_keys **out)
{
    bkp_keys *k = keys_alloc();
    if (!k)
        return -ENOMEM;
    memcpy(k->master, master, 32);
    memcpy(k->repo_id, repo_id, 16);
    if (derive(k)) {
        bkp_keys_free(k);
        return -EINVAL;
    }
    *out = k;
    return 0;
}

int bkp_keys_dup(const bkp_keys *k, bkp_keys **out)
{
    bkp_keys *c = sodium_malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    memcpy(c, k, sizeof(*c));
    *out = c;
    return 0;
}

void bkp_keys_free(bkp_keys *k)
{
    if (k) {
        sodium_free(k); /* sodium_free wipes the memory */
        bkp_prim_forget();
    }
}

static int stretch(uint8_t key[32], const char *pass, size_t passlen, const uint8_t *salt,
                   uint64_t ops, uint64_t mem)
{
    if (crypto_pwhash(key, 32, pass, passlen, salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -ENOMEM;
    return 0;
}

int bkp_keys_seal(const bkp_keys *k, const char *pass, size_t passlen, bkp_key_kind kind,
                  bkp_buf *out)
{
    uint64_t ops = kind == BKP_KEY_MACHINE ? MACHINE_OPS : PWHASH_OPS;
    uint64_t mem = kind == BKP_KEY_MACHINE ? MACHINE_MEM : PWHASH_MEM;
    uint8_t *hdr, *ct, secret[SECRET_LEN];
    uint8_t *key = sodium_malloc(32);
    int r;
    if (!key)
        return -ENOMEM;
    bkp_buf_reset(out);
    hdr = bkp_buf_reserve(out, HEADER_LEN + SECRET_LEN + 16);
    if (!hdr) {
        sodium_free(key);
        return -ENOMEM;
    }
    memcpy(hdr, BKP_KEY_FILE_MAGIC, 8);
    bkp_le32(hdr + 8, 1);
    bkp_le64(hdr + 12, ops);
    bkp_le64(hdr + 20, mem);
    uint8_t *salt = hdr + 28, *nonce = salt + crypto_pwhash_SALTBYTES;
    randombytes_buf(salt, crypto_pwhash_SALTBYTES);
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    r = stretch(key, pass, passlen, salt, ops, mem);
    if (r)
        goto out;
    memcpy(secret, k->master, 32);
    memcpy(secret + 32, k->repo_id, 16);
    ct = hdr + HEADER_LEN;
    /* The whole header is associated data: changing the cost or salt fails. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, secret, SECRET_LEN, hdr, HEADER_LEN, NULL,
                                               nonce, key);
    out->len = HEADER_LEN + SECRET_LEN + 16;
out:
    sodium_memzero(secret, sizeof(secret));
    sodium_free(key);
    return r;
}

int bkp_keys_sealed_ok(const uint8_t *file, size_t len, bool as_written)
{
    if (len != HEADER_LEN + SECRET_LEN + 16 || memcmp(file, BKP_KEY_FILE_MAGIC, 8) != 0 ||
        bkp_get_le32(file + 8) != 1)
        return -EPROTO;
    uint64_t ops = bkp_get_le64(file + 12), mem = bkp_get_le64(file + 20);
    /* Bounds keep a forged file from making us spin or allocate without end. */
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > (as_written ? PWHASH_OPS : PWHASH_OPS_MAX) ||
        mem < 8192 || mem > (as_written ? PWHASH_MEM : PWHASH_MEM_MAX))
        return -EPROTO;
    return 0;
}

bkp_key_kind bkp_keys_sealed_kind(const uint8_t *file)
{
    return bkp_get_le64(file + 12) == MACHINE_OPS && bkp_get_le64(file + 20) == MACHINE_MEM
               ? BKP_KEY_MACHINE
               : BKP_KEY_PASSPHRASE;
}

int bkp_machine_secret_new(char out[BKP_MACHINE_SECRET_LEN + 1])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof(raw));
    bkp_hex(out, raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    return 0;
}

int bkp_keys_open(const uint8_t *file, size_t len, const char *pass, size_t passlen,
                  bkp_keys **out)
{
    uint8_t *key = NULL, secret[SECRET_LEN];
    int r = bkp_keys_sealed_ok(file, len, false);
    if (r)
        return r;
    uint64_t ops = bkp_get_le64(file + 12), mem = bkp_get_le64(file + 20);
    key = sodium_malloc(32);
    if (!key)
        return -ENOMEM;
    r = stretch(key, pass, passlen, file + 28, ops, mem);
    if (r)
        goto out;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            secret, NULL, NULL, file + HEADER_LEN, SECRET_LEN + 16, file, HEADER_LEN,
            file + 28 + crypto_pwhash_SALTBYTES, key) != 0) {
        r = -EKEYREJECTED;
        goto out;
    }
    r = bkp_keys_from_master(secret, secret + 32, out);
out:
    sodium_memzero(secret, sizeof(secret));
    sodium_free(key);
    return r;
}

const uint8_t *bkp_keys_repo_id(const bkp_keys *k)
{
    return k->repo_id;
}
const char *bkp_id_hash_name(bkp_id_hash h)
{
    return h == BKP_ID_HMAC_SHA256 ? "hmac-sha256" : "blake2b";
}

int bkp_id_hash_from_name(const char *name, bkp_id_hash *h)
{
    if (!strcmp(name, "blake2b"))
        *h = BKP_ID_BLAKE2B;
    else if (!strcmp(name, "hmac-sha256"))
        *h = BKP_ID_HMAC_SHA256;
    else
        return -EINVAL;
    return 0;
}

void bkp_keys_set_id_hash(bkp_keys *k, bkp_id_hash h)
{
    k->id_hash = h;
}

bkp_id_hash bkp_keys_id_hash(const bkp_keys *k)
{
    return k->id_hash;
}

const uint8_t *bkp_keys_id_key(const bkp_keys *k)
{
    return k->id_key;
}
const uint8_t *bkp_keys_blob_key(const bkp_keys *k)
{
    return k->blob_key;
}
const uint8_t *bkp_keys_gear_seed(const bkp_keys *k)
{
    return k->gear_seed;
}
const uint8_t *bkp_keys_sign_pk(const bkp_keys *k)
{
    return k->sign_pk;
}

void bkp_keys_master_for_paper(const bkp_keys *k, uint8_t out[32])
{
    memcpy(out, k->master, sizeof(k->master));
}

void bkp_keys_config_mac(const bkp_keys *k, uint8_t mac[32], const void *msg, size_t len)
{
    uint8_t key[32];
    /* Derived when needed: sub-key 5 is used once per open. */
    crypto_kdf_derive_from_key(key, sizeof(key), 5, KDF_CONTEXT, k->master);
    crypto_generichash(mac, 32, msg, len, key, sizeof(key));
    sodium_memzero(key, sizeof(key));
}

void bkp_keys_sign(const bkp_keys *k, uint8_t sig[64], const void *msg, size_t len)
{
    crypto_sign_detached(sig, NULL, msg, len, k->sign_sk);
}

int bkp_sig_verify(const uint8_t pk[32], const uint8_t sig[64], const void *msg, size_t len)
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -EBADMSG;
}
