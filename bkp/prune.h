/*
 * prune.h — delete generations and every pack no remaining generation needs.
 *
 * The caller decides which records go (retention is policy) and holds the
 * prune lock (lock.h), so no writer runs meanwhile. The transaction:
 *   1. each doomed record is replaced by its signed tombstone (chains verify);
 *   2. mark: every tree and chunk of every remaining generation; if any of
 *      them cannot be read, nothing more is deleted (never delete when unsure);
 *   3. packs none of whose blobs are marked are doomed; a signed intent
 *      (locks/prune-intent, intent.h) lists them and the current segments;
 *   4. a full index without the doomed packs is written, the old segments
 *      are deleted, then the doomed packs, then the intent.
 * A crash at any point leaves every remaining generation restorable: the
 * next writable open finishes step 4 from the intent before it loads the
 * index (bkp_prune_recover), and the index can always be rebuilt from packs.
 * A pack less than half of whose bytes are live is repacked: its live blobs
 * are read back authenticated and written to new packs, which are durable
 * before the index that names them; then it goes like the others.
 */
#ifndef BKP_PRUNE_H
#define BKP_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/generation.h"
#include "bkp/repo.h"

typedef struct bkp_prune_result {
    uint64_t generations, packs, bytes; /* deleted (or, dry run, that would be) */
    uint64_t packs_kept, packs_partly_used;
    uint64_t packs_repacked; /* mostly empty: live blobs moved, then deleted */
} bkp_prune_result;

int bkp_prune(bkp_repo *r, bkp_gen *const *doomed, size_t ndoomed, bool dry_run,
              bkp_prune_result *res) __attribute__((warn_unused_result));

enum {
    BKP_RECOVER_MINE = 1,     /* the caller holds the prune lock */
    BKP_RECOVER_READONLY = 2, /* report only: delete, drop and rename nothing */
};

/* Finish an interrupted prune of the repository at `repo`, opened with `k`:
 * delete what its intent lists, or drop an intent from before its index was
 * written. Unless BKP_RECOVER_MINE, nothing is done while a live prune
 * holds the lock. Called by every open before the index is loaded.
 * Only an intent that passes every check is acted on: signed with `k`'s
 * key for this repository ID, every field well-formed (intent.h), and
 * written for this very copy (its new index here in full, and no segment
 * that stays naming a pack it deletes). One that fails is never executed:
 * a writable open sets it aside as locks/prune-intent.rejected-TIME, logs
 * why and what to do, and goes on (0); a read-only open only warns.
 * `*finished` (may be NULL) says whether packs and segments were deleted
 * (an index already loaded must then be reloaded). An error (an intent
 * that passed but could not be finished) must stop the caller: the packs
 * listed are not to be used. */
int bkp_prune_recover(const char *repo, const bkp_keys *k, unsigned how, bool *finished)
    __attribute__((warn_unused_result));

/* The intents this process refused ("PATH: why; what became of it"), for
 * the audit log. */
size_t bkp_prune_rejections(const char *const **out);

/* Is pack `hex` listed for deletion by a pending prune intent that passes
 * the signature and format checks? */
bool bkp_prune_doomed(const char *repo, const bkp_keys *k, const char *hex);

#endif
