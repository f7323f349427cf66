/*
 * config.h — the repository's config file (FORMAT §2): what it says, and the
 * MAC that binds it to the repository key.
 *
 * The config is plaintext JSON read before the key is opened (it names the
 * repository and its signing key), so every field is checked for shape by
 * bkp_config_parse; that the bytes are the ones `init` wrote is checked by
 * bkp_config_check once the key is open. Format 3 carries "mac": keyed
 * BLAKE2b-256 (sub-key 5, which only the passphrase unlocks) of the file's
 * bytes with the MAC's own 64 hex digits read as '0'. Format 2 had no MAC: it
 * is read only with the chunker sizes every bkp wrote, and upgraded to 3 by
 * the next writable open of a primary repository. Format 4 is format 3 with
 * "chunk_id": "hmac-sha256": the repository's chunk and tree blob IDs are
 * HMAC-SHA-256 rather than keyed BLAKE2b (which formats 2 and 3 use).
 */
#ifndef BKP_CONFIG_H
#define BKP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/keys/keys.h"

#define BKP_CONFIG_VERSION 4       /* the newest read */
#define BKP_CONFIG_MAX (64U << 10) /* a config is about 400 bytes; read no further */

typedef struct bkp_config {
    int version;         /* 2, 3 or 4 */
    char id[37];         /* repository UUID, lower case */
    char created[21];    /* YYYY-MM-DDTHH:MM:SSZ */
    uint8_t sign_pk[32]; /* Ed25519 public key */
    uint32_t chunk[3];   /* chunker min, avg, max */
    bkp_id_hash id_hash; /* format 4: HMAC-SHA-256; else keyed BLAKE2b */
    size_t mac_at;       /* format 3: offset of the MAC's hex digits in the bytes */
    uint8_t mac[32];     /* format 3 */
} bkp_config;

/* Parse the `len` bytes of a config into `*out`: 0; -EPROTO for a format or
 * version this bkp does not read; -EBADMSG when a field is missing, of the
 * wrong type or out of its range (chunker sizes: 4 KiB <= min < avg < max
 * <= 16 MiB, avg a power of two; format 2: exactly the defaults). `*why`
 * (may be NULL) receives a short reason. Nothing is logged. */
int bkp_config_parse(const uint8_t *buf, size_t len, bkp_config *out, const char **why);

/* 0 when the bytes `buf` parsed into `c` carry the MAC of key `k`;
 * -EBADMSG when they do not (a byte was changed), or -ENOKEY for a format 2
 * config, which carries none. */
int bkp_config_check(const bkp_config *c, const uint8_t *buf, size_t len, const bkp_keys *k);

/* The bytes of a config (malloc'd, `*len` set) for repository `id`, created
 * at `created`, with chunker sizes `chunk` and chunk IDs by `id_hash`, MACed
 * with `k`: format 4 for HMAC-SHA-256, format 3 for keyed BLAKE2b. */
char *bkp_config_render(const char *id, const char *created, const uint32_t chunk[3],
                        bkp_id_hash id_hash, const bkp_keys *k, size_t *len);

#endif
