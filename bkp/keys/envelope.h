/*
 * envelope.h — the signed envelope of bkp's small signed files: generation
 * records, clearances, tombstones, pins and the audit head marker.
 *
 *   MAGIC (8 bytes) | u32le length | JSON text (length bytes) | signature
 *
 * the signature being the Ed25519 signature (64 bytes), by the repository's
 * signing key, of everything before it: magic, length and text. The magic
 * names the kind of file, so a file of one kind never passes for another;
 * the length must reach exactly to the signature, so no byte lies outside
 * what was signed. Each kind's JSON is documented in docs/FORMAT.md.
 *
 * Ownership: `magic` is 8 bytes, not a C string (no NUL is read or written);
 * every pointer is borrowed for the call, except `*text` from
 * bkp_envelope_open, which points into the caller's `data`. Output
 * parameters are written only on success.
 *
 * Errors: -EBADMSG for an envelope that is malformed, of another kind or
 * not signed by the key (the three are not told apart: none may be used),
 * -ENOMEM, and from bkp_envelope_load whatever reading the file returns
 * (-ENOENT when it is missing).
 */
#ifndef BKP_ENVELOPE_H
#define BKP_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bkp/io/bytes.h"
#include "bkp/keys/keys.h"

#define BKP_ENVELOPE_OVERHEAD (8 + 4 + 64) /* magic, length, signature */

/* Seal the NUL-terminated JSON `text` under `magic`, signed with `k`, into
 * `out` (initialised by the caller, its content replaced on success; the
 * caller frees it). -ENOMEM, or -EFBIG for a text the length cannot say. */
int bkp_envelope_seal(const bkp_keys *k, const char magic[8], const char *text, bkp_buf *out)
    __attribute__((warn_unused_result));

/* Check `len` bytes at `data`: kind `magic`, a length that ends exactly at
 * the signature, and the signature by `pk`. 0 with `*text`/`*text_len` the
 * JSON's place inside `data` (authenticated, not yet parsed), or -EBADMSG. */
int bkp_envelope_open(const uint8_t pk[32], const char magic[8], const uint8_t *data, size_t len,
                      const uint8_t **text, size_t *text_len) __attribute__((warn_unused_result));

/* Read the file at `path` into `data` (reset first; the caller frees it),
 * refusing one longer than `max` bytes as -EBADMSG: a file that large is
 * not one this program wrote, and reading it whole is what an attacker who
 * planted it wants. -ENOENT when it is missing, another -errno when it
 * cannot be read. */
int bkp_envelope_load(const char *path, size_t max, bkp_buf *data)
    __attribute__((warn_unused_result));

/* Seal JSON `j` (stolen; written compact with sorted keys, as every reader
 * re-derives it) under `magic`, signed with `k`, and write it durably as
 * `dir`/`name` with bkp_durable_write's `flags`. -EFBIG when the envelope
 * would exceed `max` bytes (its readers' cap), -ENOMEM, or what the write
 * returns (-EEXIST with BKP_DURABLE_NOREPLACE). */
int bkp_envelope_store(const bkp_keys *k, const char magic[8], json_t *j, size_t max,
                       const char *dir, const char *name, unsigned flags)
    __attribute__((warn_unused_result));

#endif
