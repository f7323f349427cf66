/*
 * primitive.h — the bulk primitives of the blob format, computed fast.
 *
 * Every data and tree blob is named by a keyed hash of its plaintext — keyed
 * BLAKE2b-256, or HMAC-SHA-256 in a repository whose config says so (FORMAT
 * §2) — and sealed with XChaCha20-Poly1305-IETF (FORMAT.md §4). These are
 * where a backup, a restore and a verification spend their CPU: libsodium's
 * builds do about 0.6 GB/s (BLAKE2b) and 1.3 GB/s (XChaCha20-Poly1305) a
 * core on the x86-64 servers bkp runs on, OpenSSL's about 0.8 and 4 GB/s,
 * and OpenSSL's SHA-256 about 1.6 GB/s where the CPU has SHA instructions
 * (0.4 where it has not, which is why the choice is made per machine at init).
 *
 * This module computes the *same bytes* as libsodium's
 * crypto_generichash(out, 32, m, mlen, key, 32), crypto_auth_hmacsha256 and
 * crypto_aead_xchacha20poly1305_ietf_{encrypt,decrypt} — nothing in the
 * format changes, a repository written by one build is read by the other —
 * with OpenSSL's implementations where they are available: BLAKE2BMAC with a
 * 32-byte output is keyed BLAKE2b-256 by definition (RFC 7693), and
 * XChaCha20-Poly1305 is ChaCha20-Poly1305 (RFC 8439) under the subkey
 * HChaCha20(key, nonce[0..16]) with the nonce 0^4 || nonce[16..24]
 * (draft-irtf-cfrg-xchacha), the subkey made by libsodium; HMAC (RFC 2104)
 * over SHA-256 is the same function in both.
 *
 * Trust: the first call compares both implementations on fixed inputs
 * (several lengths, a tampered tag refused by both); on any difference, or
 * where OpenSSL lacks the algorithms (a FIPS-only configuration), every call
 * goes to libsodium (HMAC-SHA-256 is checked and falls back on its own).
 * Short inputs of keyed BLAKE2b and XChaCha20-Poly1305 always go to
 * libsodium, whose fixed cost per call is lower; HMAC-SHA-256 keeps a keyed
 * context per thread and takes OpenSSL at every length. Which one runs the
 * first two is reported by bkp_prim_engine().
 *
 * Thread-safe: no state is shared but the fetched algorithm objects, made once.
 */
#ifndef BKP_PRIMITIVE_H
#define BKP_PRIMITIVE_H

#include <stddef.h>
#include <stdint.h>

#define BKP_PRIM_KEY_LEN 32
#define BKP_PRIM_NONCE_LEN 24
#define BKP_PRIM_TAG_LEN 16

/* Keyed BLAKE2b with a 32-byte output and a 32-byte key. */
void bkp_prim_keyed_hash(uint8_t out[32], const void *m, size_t mlen,
                         const uint8_t key[BKP_PRIM_KEY_LEN]);

/* HMAC-SHA-256 with a 32-byte key. */
void bkp_prim_hmac_sha256(uint8_t out[32], const void *m, size_t mlen,
                          const uint8_t key[BKP_PRIM_KEY_LEN]);

/* Let go of this thread's keyed HMAC context (bkp_keys_free calls it, so
 * no copy of a chunk-ID key outlives the keys in the thread that freed
 * them; other threads' go when they end). */
void bkp_prim_forget(void);

/* 1 when HMAC-SHA-256 takes clearly less CPU than keyed BLAKE2b on this
 * machine (under 0.8 of its time over 4 MiB, best of three runs each), else
 * 0. About 20 ms; `init` asks it to choose a new repository's chunk IDs. */
int bkp_prim_hmac_sha256_faster(void);

/* Encrypt `mlen` bytes of `m` into `c` (which may be `m`: in place) and write
 * the 16-byte tag at c + mlen, as libsodium's combined mode does. */
void bkp_prim_seal(uint8_t *c, const uint8_t *m, size_t mlen, const uint8_t *ad, size_t adlen,
                   const uint8_t nonce[BKP_PRIM_NONCE_LEN], const uint8_t key[BKP_PRIM_KEY_LEN]);

/* Authenticate and decrypt `clen` bytes of ciphertext-and-tag `c` into `m`
 * (clen - 16 bytes; `m` may not overlap `c`). 0, or -EBADMSG when the tag
 * does not verify — then `m` holds nothing the caller may use. */
int bkp_prim_open(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *ad, size_t adlen,
                  const uint8_t nonce[BKP_PRIM_NONCE_LEN], const uint8_t key[BKP_PRIM_KEY_LEN])
    __attribute__((warn_unused_result));

/* "openssl" or "libsodium": what serves long inputs in this process. */
const char *bkp_prim_engine(void);

/* For the unit test: force libsodium (1) or the default choice (0). */
void bkp_prim_force_sodium(int on);

#endif
