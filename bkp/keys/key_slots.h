/*
 * key_slots.h — the key file as a list of slots: one master secret, sealed
 * under several passphrases.
 *
 * Each slot holds the master secret sealed under one passphrase, exactly as
 * the single key file of format 1 did (keys.h: Argon2id, XChaCha20-Poly1305,
 * 132 bytes), with an id, a label and its times. The list is a signed
 * envelope (envelope.h, magic "BKPKEY02", FORMAT §2): the repository's
 * signing key covers every slot, label and time, so anyone holding the
 * public key (an auditor, a medium's reader) can tell an authentic list from
 * an altered one, and only a holder of the master secret can write one.
 *
 * What a slot is worth: a passphrase opens the key files that carry its
 * slot. `passwd` and `remove` rewrite the primary's file and, at their next
 * rotation, every disk copy's; an archive or a medium not rotated since
 * keeps the slots it was written with, and with them the old passphrase. A
 * leaked passphrase is therefore retired on the media that are rewritten,
 * never on the ones that cannot be — and whoever held it with a key file in
 * hand could have taken the master secret itself (SECURITY.md says what to
 * do then).
 *
 * A file of format 1 (one sealed secret, FORMAT §2) reads as a list of one
 * slot with no label and unknown times, its id derived from its bytes; it
 * cannot be checked without its passphrase (it carries no signature). Every
 * change writes format 2.
 *
 * `keys/used` (FORMAT §2) remembers when each slot last opened the primary
 * for writing. It is a convenience for `bkp key list`, unsigned and never
 * used for a decision: a damaged one reads as "never".
 *
 * Errors: -EBADMSG a file that is malformed, altered, of another repository
 * or not signed by its key (not told apart: none may be used); -EPROTO an
 * unknown format or a slot asking for an Argon2id cost outside FORMAT §2's
 * bounds; -EKEYREJECTED no slot opens with the passphrase; -ENOSPC the list
 * is full; -EINVAL a label that is not one line of at most 64 bytes of
 * UTF-8; -ENOENT / -EEXIST (ambiguous) from bkp_key_slots_find; -ENOMEM.
 */
#ifndef BKP_KEY_SLOTS_H
#define BKP_KEY_SLOTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/io/bytes.h"
#include "bkp/keys/keys.h"

#define BKP_KEY_FILE_MAGIC2 "BKPKEY02"
#define BKP_KEY_SLOTS_MAX 16
#define BKP_KEY_LABEL_MAX 64          /* bytes of UTF-8 */
#define BKP_KEY_FILE_MAX (32U << 10)  /* 16 slots take about 8 KiB */
#define BKP_KEY_USED_MAX (4U << 10)

typedef struct bkp_key_slot {
    char id[17];                          /* 16 lower-case hex digits */
    char label[BKP_KEY_LABEL_MAX + 1];    /* "" when none */
    time_t created, changed;              /* 0: unknown (a format-1 file) */
    time_t used;                          /* from keys/used; 0: never, or unknown */
    uint8_t sealed[BKP_KEY_SEALED_LEN];   /* a format-1 key file (keys.h) */
} bkp_key_slot;

typedef struct bkp_key_slots {
    int version;     /* the format the file was read in: 1 or 2 */
    uint64_t serial; /* raised by every change; 0 for a file of format 1 */
    unsigned n;
    bkp_key_slot slot[BKP_KEY_SLOTS_MAX];
} bkp_key_slots;

/* Read a key file of either format: for format 2, the envelope is checked
 * with `pk` (the config's sign_public) before anything is parsed, and the
 * list must name `repo_id`. */
int bkp_key_slots_read(const uint8_t *data, size_t len, const uint8_t pk[32],
                       const uint8_t repo_id[16], bkp_key_slots *out)
    __attribute__((warn_unused_result));
/* The JSON inside an envelope already checked (for the fuzz target, and
 * bkp_key_slots_read): `repo_id` may be NULL to skip that comparison. */
int bkp_key_slots_parse(const uint8_t *json, size_t len, const uint8_t *repo_id,
                        bkp_key_slots *out) __attribute__((warn_unused_result));

/* A kind of key as records name it ("passphrase", "machine"; a sheet's
 * "paper", "shares") in the reader's words; any other as it is. */
const char *bkp_key_kind_words(const char *kind);

/* Try each slot with the passphrase, machine slots first (keys.h): the keys,
 * and in `*which` the slot that opened. Each wrong passphrase slot costs one
 * Argon2id run (about 0.2 s); a wrong machine slot, microseconds. */
int bkp_key_slots_open(const bkp_key_slots *s, const char *pass, size_t passlen, bkp_keys **out,
                       unsigned *which) __attribute__((warn_unused_result));

/* Changes, all in memory, each raising the serial: a new slot for `pass`
 * (its index, or a negative errno); a slot sealed again under a new
 * passphrase (id and label kept); a slot removed (never the last: -EPERM). */
int bkp_key_slots_add(bkp_key_slots *s, const bkp_keys *k, const char *pass, size_t passlen,
                      const char *label, time_t now) __attribute__((warn_unused_result));
/* A machine slot (keys.h): draws a new machine secret into `secret` (64 hex
 * digits and a NUL; the caller's guarded memory, to be written to a
 * root-only file that unattended runs give as their passphrase file) and
 * seals the master under it at the least cost. Its index, or a negative
 * errno (and `secret` wiped). `reseal` always seals at a passphrase's cost:
 * a machine slot given a person's passphrase becomes a passphrase slot. */
int bkp_key_slots_add_machine(bkp_key_slots *s, const bkp_keys *k,
                              char secret[BKP_MACHINE_SECRET_LEN + 1], const char *label,
                              time_t now) __attribute__((warn_unused_result));
int bkp_key_slots_reseal(bkp_key_slots *s, unsigned i, const bkp_keys *k, const char *pass,
                         size_t passlen, time_t now) __attribute__((warn_unused_result));
int bkp_key_slots_remove(bkp_key_slots *s, unsigned i) __attribute__((warn_unused_result));
/* The slot whose id is `id` or starts with it (at least 4 hex digits). */
int bkp_key_slots_find(const bkp_key_slots *s, const char *id);
/* Is `label` acceptable: valid UTF-8 of at most 64 bytes with no control
 * character (C0, DEL, C1), line or paragraph separator, or bidirectional
 * override that could make a terminal show something else? 0 or -EINVAL. */
int bkp_key_label_ok(const char *label);


/* The signed file of format 2 for `s`, by `k` (whose repository it names). */
int bkp_key_slots_render(const bkp_key_slots *s, const bkp_keys *k, bkp_buf *out)
    __attribute__((warn_unused_result));

/* keys/used in the folder `keys_dir`: fill each slot's `used` (a missing or
 * damaged file leaves them 0), and record that slot `which` of `s` opened at
 * `now`, the first time on each day (UTC) (best effort: a failure is logged at debug level and changes
 * nothing else). The parser is exposed for the fuzz target. */
void bkp_key_used_load(const char *keys_dir, bkp_key_slots *s);
void bkp_key_used_mark(const char *keys_dir, const bkp_key_slots *s, unsigned which, time_t now);
int bkp_key_used_parse(const uint8_t *json, size_t len, bkp_key_slots *s);

#endif
