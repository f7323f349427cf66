/*
 * prune.h — delete generations and every pack no remaining generation needs.
 *
 * Three steps, each in its own place: plan (prune.c, make_plan: what would
 * go, nothing changed; a dry run stops there), apply (prune.c, apply_plan:
 * the transaction below) and recover (prune_recover.h: what an interrupted
 * apply left, finished or refused by the next open).
 *
 * The caller decides which records go (retention is policy) and holds the
 * prune lock (lock.h), so no writer runs meanwhile. The transaction:
 *   1. each doomed record is replaced by its signed tombstone (chains verify);
 *   2. mark: every tree and chunk of every remaining generation; if any of
 *      them cannot be read, nothing more is deleted (never delete when unsure);
 *   3. packs none of whose blobs are marked are doomed; a signed intent
 *      (locks/prune-intent, intent.h) lists them and the current segments;
 *   4. a full index without the doomed packs is written (a segment at a
 *      time, from the old segments read one at a time: prune_internal.h),
 *      the old segments are deleted, then the doomed packs, then the intent.
 * A crash at any point leaves every remaining generation restorable: the
 * next writable open finishes step 4 from the intent before it loads the
 * index (bkp_prune_recover), and the index can always be rebuilt from packs.
 * A pack less than half of whose bytes are live is repacked: its live blobs
 * are read back authenticated and written to new packs, which are durable
 * before the index that names them; then it goes like the others.
 *
 * Asked to recompress, prune repacks in the same way every pack that holds
 * a live LZ4 blob (FORMAT.md §3; what bkp wrote before zstd): the new packs
 * hold each blob as the default compression seals it (blob.h, auto). The
 * new packs are written before the old ones go, so a prune takes no more
 * of them at once than half the free space of the repository's file
 * system would hold; what is left waits for the next prune.
 */
#ifndef BKP_PRUNE_H
#define BKP_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/store/prune_recover.h"
#include "bkp/store/repo.h"

typedef struct bkp_prune_result {
    uint64_t generations, packs, bytes; /* deleted (or, dry run, that would be) */
    uint64_t packs_kept, packs_partly_used;
    uint64_t packs_repacked;     /* mostly empty: live blobs moved, then deleted */
    uint64_t packs_recompressed; /* held LZ4 blobs: moved and sealed anew, then deleted */
    uint64_t packs_lz4_left;     /* held LZ4 blobs, left for a later prune (free space) */
    uint64_t bytes_recompressed; /* the recompressed packs' live bytes, as they were */
} bkp_prune_result;

typedef struct bkp_prune_how {
    bool dry_run;    /* the plan only: nothing changed */
    bool recompress; /* also rewrite the packs that hold live LZ4 blobs */
    /* Generations of `coming_from` (the primary) to be copied here after
     * the prune (a rotation's prune before its copy): their blobs count as
     * needed, so that the packs an interrupted copy brought ahead of their
     * records stay, and are not deleted only to be copied again. */
    bkp_repo *coming_from;
    bkp_gen *const *coming;
    size_t ncoming;
} bkp_prune_how;

/* `res->bytes` is what the deleted packs held less what was written again
 * in their place (in a dry run: less their live bytes, as they are now). */
int bkp_prune(bkp_repo *r, bkp_gen *const *doomed, size_t ndoomed, bkp_prune_how how,
              bkp_prune_result *res) __attribute__((warn_unused_result));

#endif
