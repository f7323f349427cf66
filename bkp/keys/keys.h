/*
 * keys.h — the repository's secrets and the sealed key file.
 *
 * One random 32-byte master secret per repository; every working key is
 * derived from it with crypto_kdf (context "bkprepo1"):
 *   1 chunk-ID key (keyed BLAKE2b), 2 blob encryption key (XChaCha20-Poly1305),
 *   3 chunker gear seed, 4 Ed25519 signing seed, 5 config MAC key.
 * The key file seals the master secret and the repository ID under a key
 * stretched from the passphrase with Argon2id. Keys live in sodium_malloc
 * memory, are locked and wiped on free.
 */
#ifndef BKP_KEYS_H
#define BKP_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/io/bytes.h"

#define BKP_KEY_FILE_MAGIC "BKPKEY01"
#define BKP_PASSPHRASE_MIN 13
#define BKP_KEY_SEALED_LEN 132 /* a key file of format 1: one sealed secret */

typedef struct bkp_keys bkp_keys;

/* How chunk and tree blob IDs are computed from the chunk-ID key (FORMAT
 * §2, §4): fixed per repository by its config. */
typedef enum { BKP_ID_BLAKE2B = 0, BKP_ID_HMAC_SHA256 = 1 } bkp_id_hash;
/* Its name in a config's `chunk_id` and on the command line ("blake2b",
 * "hmac-sha256"), and back: 0, or -EINVAL for another name. */
const char *bkp_id_hash_name(bkp_id_hash h);
int bkp_id_hash_from_name(const char *name, bkp_id_hash *h);

/* A fresh random master secret bound to `repo_id`. */
int bkp_keys_generate(const uint8_t repo_id[16], bkp_keys **out);
/* Open a sealed key file: -EKEYREJECTED for a wrong passphrase (or a damaged
 * file: the two cannot be told apart by design), -EPROTO for an unknown format
 * or an Argon2id cost outside the bounds of FORMAT §2 (refused before any
 * work is done: at most four times the cost bkp writes). */
int bkp_keys_open(const uint8_t *file, size_t len, const char *pass, size_t passlen,
                  bkp_keys **out) __attribute__((warn_unused_result));
/* Is `file` a sealed secret whose format and Argon2id costs bkp_keys_open
 * would try? 0, or -EPROTO (checked before any work, as bkp_keys_open does).
 * `as_written`: costs no higher than bkp writes (a slot of a list, where
 * sixteen slots at four times the cost would make every open take a
 * minute), else up to four times that (a key file of format 1). */
int bkp_keys_sealed_ok(const uint8_t *file, size_t len, bool as_written);
/* Is `pass` long enough for a new passphrase (BKP_PASSPHRASE_MIN code
 * points of UTF-8)? Every medium carries the key file, so a short one can be
 * guessed at off-line. 0, or -EINVAL with the reason logged. */
int bkp_passphrase_strong(const char *pass, size_t passlen);
/* The keys of `master` (the secret a key file seals) for repository
 * `repo_id`, derived exactly as bkp_keys_open does: for a master secret typed
 * back from a paper sheet or combined from share sheets. Nothing here says
 * whether it is the right one: the caller compares bkp_keys_sign_pk with the
 * repository's config. The caller still wipes `master`. -ENOMEM, -EINVAL. */
int bkp_keys_from_master(const uint8_t master[32], const uint8_t repo_id[16], bkp_keys **out)
    __attribute__((warn_unused_result));
/*
 * What a sealed secret is sealed under, which sets how hard it is stretched:
 * a passphrase a person chose (Argon2id, 3 passes over 64 MiB: a thief of a
 * medium guesses slowly), or a machine secret — 256 random bits that bkp drew
 * itself (bkp_machine_secret_new) and an unattended host keeps in a root-only
 * file. Nothing guesses 256 bits, so a machine secret gets the least Argon2id
 * allows (1 pass over 8 KiB) and opens in microseconds, without the 64 MiB.
 * Only bkp_key_slots_add_machine seals with BKP_KEY_MACHINE, and only under
 * a secret it drew: a person's passphrase is never sealed cheaply.
 */
typedef enum { BKP_KEY_PASSPHRASE, BKP_KEY_MACHINE } bkp_key_kind;
#define BKP_MACHINE_SECRET_LEN 64 /* hex digits */
/* Seal `k` under `pass` into `out` (the bytes of a key file). */
int bkp_keys_seal(const bkp_keys *k, const char *pass, size_t passlen, bkp_key_kind kind,
                  bkp_buf *out);
/* The kind a sealed secret (already checked by bkp_keys_sealed_ok) was
 * written as, told by its Argon2id cost. */
bkp_key_kind bkp_keys_sealed_kind(const uint8_t *file);
/* A new machine secret: 32 random bytes as 64 lower-case hex digits and a
 * NUL (the caller keeps `out` in guarded memory and wipes it). 0. */
int bkp_machine_secret_new(char out[BKP_MACHINE_SECRET_LEN + 1]);
/* A copy of `k` in guarded memory (for a repository copy opened with them). */
int bkp_keys_dup(const bkp_keys *k, bkp_keys **out);
void bkp_keys_free(bkp_keys *k);

const uint8_t *bkp_keys_repo_id(const bkp_keys *k);  /* 16 bytes */
const uint8_t *bkp_keys_id_key(const bkp_keys *k);   /* 32 bytes */
/* The ID function of the repository these keys open: BKP_ID_BLAKE2B in keys
 * just made or opened, until the open sets the config's (a copy's keys,
 * bkp_keys_dup, keep it). */
void bkp_keys_set_id_hash(bkp_keys *k, bkp_id_hash h);
bkp_id_hash bkp_keys_id_hash(const bkp_keys *k);
const uint8_t *bkp_keys_blob_key(const bkp_keys *k); /* 32 bytes */
const uint8_t *bkp_keys_gear_seed(const bkp_keys *k);/* 32 bytes */
const uint8_t *bkp_keys_sign_pk(const bkp_keys *k);  /* 32 bytes */
/* The master secret itself, copied into `out` (which the caller wipes):
 * only for putting it on paper, whole (`bkp key export --paper`) or split
 * into shares (`bkp key split`). Nothing else needs it: every working key
 * comes from the accessors above. */
void bkp_keys_master_for_paper(const bkp_keys *k, uint8_t out[32]);
/* The MAC that binds the repository config to the key (FORMAT §2): keyed
 * BLAKE2b-256 of `msg` under sub-key 5, which only the passphrase unlocks. */
void bkp_keys_config_mac(const bkp_keys *k, uint8_t mac[32], const void *msg, size_t len);
/* Ed25519 detached signature of `msg`. */
void bkp_keys_sign(const bkp_keys *k, uint8_t sig[64], const void *msg, size_t len);
/* 0 if `sig` is `pk`'s signature of `msg`, else -EBADMSG. */
int bkp_sig_verify(const uint8_t pk[32], const uint8_t sig[64], const void *msg, size_t len);

/*
 * Where the passphrase comes from, in this order: `file` (a --passphrase-file
 * option, may be NULL), $BKP_PASSPHRASE_FILE, $BKP_PASSPHRASE_COMMAND, then a
 * no-echo prompt on the terminal (asked twice when `confirm`). A file readable
 * by group or others is refused. The result is sodium_malloc'd; free it with
 * bkp_passphrase_free. -ENOENT when no source is available.
 */
int bkp_passphrase_get(const char *file, int confirm, char **out, size_t *len);
/* A new passphrase (key add, key passwd): from `file` (a
 * --new-passphrase-file option, checked as a passphrase file is) or else a
 * no-echo prompt asked twice; never from the environment, which holds the
 * current one. Checked with bkp_passphrase_strong. -ENOENT with no terminal. */
int bkp_passphrase_new(const char *file, char **out, size_t *len);
void bkp_passphrase_free(char *p, size_t len);
/* Whether a passphrase can be asked for: this process has a terminal. */
bool bkp_passphrase_can_ask(void);

#endif
