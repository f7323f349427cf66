/*
 * intent.h — the prune intent (locks/prune-intent): what an interrupted
 * prune still has to delete, signed with the repository key.
 *
 * The intent is the only file bkp ever reads that makes it delete, so it is
 * data, not an instruction, until it has passed every check: its Ed25519
 * signature by the repository's signing key (a medium or a host user without
 * the key cannot write one), the repository ID, and every name it lists (64
 * lowercase hex digits, within the counts below, so that no name can leave
 * its directory). The checks against the repository it was found in (does
 * it belong to this copy?) are prune.c's: see bkp_prune_recover.
 * The format is in docs/FORMAT.md ("Prune intent").
 *
 * Functions return 0 or a negative errno: -EBADMSG for a file that fails a
 * check (forged, damaged, another repository's), -ENOMEM.
 */
#ifndef BKP_INTENT_H
#define BKP_INTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/io/bytes.h"
#include "bkp/store/index.h"
#include "bkp/keys/keys.h"

#define BKP_INTENT_FILE "prune-intent"
/* A prune deletes at most this many packs (about 16 TiB of 16 MiB packs)
 * and lists at most this many index segments, old and new each. */
#define BKP_INTENT_MAX_PACKS (1U << 20)
#define BKP_INTENT_MAX_SEGMENTS (1U << 16)
/* 67 bytes a name (quotes, comma) plus the fixed fields and the signature:
 * a larger file is refused before it is read. */
#define BKP_INTENT_MAX_BYTES                                                                       \
    ((size_t)(BKP_INTENT_MAX_PACKS + 2 * BKP_INTENT_MAX_SEGMENTS) * 67 + 4096)

typedef struct bkp_intent {
    bool index_written; /* the new index is durable: finishing may delete */
    uint8_t (*packs)[BKP_ID_LEN]; /* packs to delete */
    uint8_t (*old_segs)[BKP_ID_LEN]; /* index segments to delete (unless also new) */
    uint8_t (*new_segs)[BKP_ID_LEN]; /* the new index: must all be present */
    size_t npacks, nold, nnew;
} bkp_intent;

/* Append one name to a list of the intent (-E2BIG past the format's caps). */
int bkp_intent_add(uint8_t (**list)[BKP_ID_LEN], size_t *n, const uint8_t id[BKP_ID_LEN]);
/* The signed file of `in` for the repository of `k`, in `out` (reset first). */
int bkp_intent_encode(const bkp_intent *in, const bkp_keys *k, bkp_buf *out);
/* Check the signature of the file `buf` with `k`, then parse it. On any
 * failure `out` is empty and -EBADMSG (or -ENOMEM) is returned. */
int bkp_intent_decode(const uint8_t *buf, size_t len, const bkp_keys *k, bkp_intent *out)
    __attribute__((warn_unused_result));
/* Parse the body of an intent whose signature was checked: every field's
 * type, every name's form, the counts, and that it names repository
 * `repo_id`. Split from decode so that it can be fuzzed. */
int bkp_intent_parse(const uint8_t *body, size_t len, const uint8_t repo_id[16], bkp_intent *out)
    __attribute__((warn_unused_result));
bool bkp_intent_lists(const uint8_t (*list)[BKP_ID_LEN], size_t n, const uint8_t id[BKP_ID_LEN]);
void bkp_intent_free(bkp_intent *in);

/* Is `s` exactly 64 lowercase hex digits (an object's name)? */
bool bkp_is_object_name(const char *s);

#endif
