/*
 * generation.h — sealed generation records.
 *
 * generations/DATASET/SEQ.gen (SEQ: ten digits) holds
 *   "BKPGEN01" | u32le length | JSON record | Ed25519 signature (64 bytes)
 * the signature covering everything before it. The record names the tree
 * blobs and the BLAKE2b-256 of the previous record's file of the same data
 * set ("prev"), so the records of a data set form a hash chain. A record is
 * written last, after every object it names is durable, with no-replace:
 * two writers never share a sequence number.
 */
#ifndef BKP_GENERATION_H
#define BKP_GENERATION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bkp/capture/capture.h"
#include "bkp/store/layout.h"
#include "bkp/store/repo.h"

#define BKP_GEN_MAGIC "BKPGEN01"

/* A capture's figures as its record keeps them ("stats", FORMAT.md §7). A
 * figure an earlier bkp did not write reads as 0. */
typedef struct bkp_gen_stats {
    uint64_t files, dirs, hardlinks, other, bytes, bytes_read, files_unchanged;
    uint64_t chunks, chunks_new, bytes_new, stored_new;
    uint64_t files_added, files_changed, files_touched, files_deleted;
} bkp_gen_stats;

/* A path the capture could not read, left out (as recorded: invalid UTF-8
 * as \xNN). */
typedef struct bkp_gen_error {
    char *path, *message;
} bkp_gen_error;

typedef struct bkp_gen {
    char *dataset;
    uint32_t seq;
    char uuid[37];
    time_t started, finished;
    uint8_t *tree; /* concatenated tree blob IDs */
    size_t ntree;
    uint8_t hash[BKP_ID_LEN]; /* BLAKE2b-256 of the record file */
    uint8_t prev[BKP_ID_LEN];
    bool has_prev;
    /* What the record says of its capture (typed by the parse): */
    bkp_gen_stats stats;
    char **paths;          /* the captured paths as recorded (invalid UTF-8 as \xNN) */
    size_t npaths;         /* 0: a stream's */
    bkp_gen_error *errors; /* paths that could not be read, left out */
    size_t nerrors;
    uint64_t items;        /* the tree's items */
    uint64_t tree_bytes;   /* and their bytes */
    uint32_t tree_version; /* of its item stream (tree.h) */
    char *host, *user;     /* who captured it, as recorded */
    int64_t uid;
    /* The "guard": the change-rate guard's verdict, and a capture time that
     * the clock or the chain makes doubtful. */
    bool guarded;       /* the record has one */
    bool suspicious;    /* it marked the record (bkp_gen_marked) */
    char *guard_reason; /* why, or NULL */
    char *guard_time;   /* the capture time's doubt, or NULL */
    bool judged;        /* the change-rate guard judged it: */
    double change;      /* the share of files that changed */
    /* A tombstone's (pruned): its reason, the medium it was written for
     * (NULL: none), and when prune wrote it (0: not said). */
    char *reason, *medium;
    time_t pruned_at;
    char *text; /* the record or tombstone as signed (JSON), for --json */
    size_t ntext;
    char *file;   /* its path */
    int status;   /* 0, or -EBADMSG when the signature or format is bad */
    bool cleared; /* a signed clearance (SEQ.cleared) names this record */
    bool pruned;  /* a tombstone (SEQ.pruned): the record was deleted by prune;
                   * hash and prev are the deleted record's, tree is empty */
    bool foreign; /* a "not copied" tombstone found where it does not count (the
                   * primary, or another medium's copy): status is -EBADMSG */
} bkp_gen;

/* Sealing a new record is seal.h's: it sits above this file, the audit log
 * and the media's pins. */

/* Delete a sealed record, leaving a signed tombstone (DATASET/SEQ.pruned:
 * "BKPPRN01" | u32le length | JSON | signature) that carries its hash and its
 * prev, so the chain of the records around it still verifies. The tombstone
 * is durable before the record goes. */
int bkp_gen_prune(bkp_repo *r, const bkp_gen *g) __attribute__((warn_unused_result));

/* Write into `dir` — the generations/DATASET folder of a copy on a medium
 * that does not hold record `g` — the tombstone of `g` ("reason": "not
 * copied", "medium": `medium`, the UUID of that medium's label), signed with
 * the keys of `r`, so the chain of the records the copy does hold verifies.
 * It counts only on that medium's copy (bkp_gen_list). An existing one is
 * kept. -EINVAL without a medium. */
int bkp_gen_tombstone(bkp_repo *r, const char *dir, const bkp_gen *g, const char *medium)
    __attribute__((warn_unused_result));
/* The label UUID of the medium that copy `r` is on (REPO/BKP-LABEL for an
 * archive extracted, REPO/../BKP-LABEL for a disk copy), naming the same
 * repository; NULL for the primary or when there is none (malloc'd). A
 * folder opened by path is a copy only when its audit log's signed marker
 * says so (bkp_audit_role), or when it has neither log nor marker (then
 * verify says it checks it as a copy, and no command appends to it). */
char *bkp_gen_copy_medium(const bkp_repo *r);
/* Record, next to a sealed record, a signed clearance of its suspicious mark
 * ("BKPCLR01" | u32le length | JSON | signature, in DATASET/SEQ.cleared). The
 * record itself is never rewritten. */
int bkp_gen_clear(bkp_repo *r, const bkp_gen *g) __attribute__((warn_unused_result));

/* All generations (of `dataset`, or all when NULL), sorted by data set then
 * sequence, tombstones of pruned ones included (pruned = true) so chains can
 * be checked. Records whose signature fails are listed with status -EBADMSG,
 * as are "not copied" tombstones found outside their medium's copy (foreign). */
int bkp_gen_list(const bkp_repo *r, const char *dataset, bkp_gen ***out, size_t *n);
void bkp_gen_list_free(bkp_gen **g, size_t n);
/* That order, for qsort of a list of bkp_gen pointers. */
int bkp_gen_order(const void *a, const void *b);
void bkp_gen_free(bkp_gen *g);
/* Free what `g` holds and empty it (not `g` itself). */
void bkp_gen_empty(bkp_gen *g);

/* Did the change-rate guard mark the record suspicious? (Whether an
 * operator cleared the mark since is g->cleared.) */
bool bkp_gen_marked(const bkp_gen *g);
/* Where the suspicion over one data set begins, among its records v[0, n)
 * in ascending sequence: the oldest marked and not cleared that no later
 * cleared one follows (a cleared mark after it says the files were checked
 * since: after restoring them, the night that brought them back is marked
 * too, and clearing that one ends it). That record and every later one are
 * under suspicion: none goes to a medium, and the data set is at risk. n
 * when none is. A damaged record holds as a marked one (it may be); a
 * tombstone is passed over. */
size_t bkp_gen_suspicion(bkp_gen *const *v, size_t n);
/* Among records `v` (`n`, grouped by data set, each in ascending sequence,
 * as bkp_gen_list gives them): the data set of the first under such a
 * suspicion (borrowed from `v`), or NULL. */
const char *bkp_gen_suspect_in(bkp_gen *const *v, size_t n);
/* The same of repository `r`, its name into `ds` (`n` bytes): true when one
 * is; false when none is or the records cannot be listed. */
bool bkp_gen_suspect_any(const bkp_repo *r, char *ds, size_t n);
/* DATASET:latest, DATASET:SEQ or a unique UUID prefix (at least 4 digits).
 * -ENOENT when nothing matches, -EINVAL when ambiguous; logs why. */
int bkp_gen_resolve(const bkp_repo *r, const char *spec, bkp_gen **out);

/* The parsers behind the signatures, for bytes already authenticated (the
 * JSON of a record, a tombstone, a clearance): 0, or -EBADMSG when a field is
 * missing, mistyped or names something else. A tombstone is also checked
 * against where it was found: `dataset`, `seq`, and `medium` (the label UUID
 * of the copy it is on, NULL on the primary). On failure `g` keeps what was
 * parsed for bkp_gen_free. */
int bkp_gen_record_parse(const uint8_t *text, size_t len, const char *repo_uuid, bkp_gen *g);
/* The record of `g` (its identity, chain, capture and guard) in
 * repository `repo_uuid`, as text to sign (malloc'd), or NULL without
 * memory: what bkp_gen_record_parse reads back to the same `g`. The one
 * emitter of records (seal.h fills `g` from a capture). */
char *bkp_gen_record_text(const bkp_gen *g, const char *repo_uuid);
int bkp_gen_tombstone_parse(const uint8_t *text, size_t len, const char *dataset, uint32_t seq,
                            const char *medium, bkp_gen *g);
int bkp_gen_clearance_parse(const uint8_t *text, size_t len, const bkp_gen *g);

/* "emr-db:42" into `buf`. */
const char *bkp_gen_name(const bkp_gen *g, char *buf, size_t n);

#endif
