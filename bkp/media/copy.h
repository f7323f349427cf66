/*
 * copy.h — sealed generations copied to a repository copy on a medium.
 *
 * The copy receives, in this order, so that a medium pulled out or full at
 * any moment remains a valid repository holding everything it held before:
 *  1. each pack holding a blob of the generations that the copy lacks: its
 *     bytes go to a temporary file, which is fsynced, dropped from the page
 *     cache, read back and checked whole (bkp_pack_check) before its rename;
 *  2. an index segment for those packs (without it, the next open of the
 *     copy re-indexes them from their trailers);
 *  3. per data set, in sequence order up to the newest generation copied:
 *     the records, byte for byte (with their clearances), and for each record
 *     not copied the primary's tombstone or a new one ("not copied"), so the
 *     chain verifies on the medium alone.
 * Packs are copied as they are, so a pack has one name on every medium.
 * A re-run after a failure copies only what is still missing.
 */
#ifndef BKP_COPY_H
#define BKP_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/audit/audit.h" /* BKP_AUDIT_COPY */
#include "bkp/store/generation.h"
#include "bkp/store/index.h"
#include "bkp/store/repo.h"

typedef struct bkp_copy_result {
    uint64_t packs, bytes;  /* copied and verified now */
    uint64_t packs_present; /* needed and already on the copy */
    uint64_t records;       /* records written now */
} bkp_copy_result;

/* Copy `gens` (sealed records of `src`, not tombstones) into `dst`, a copy
 * of the same repository (bkp_repo_open_copy). Logs what failed and what to
 * do; -ENOSPC when the medium is full. */
int bkp_copy_generations(bkp_repo *src, bkp_repo *dst, bkp_gen *const *gens, size_t n,
                         bkp_copy_result *res) __attribute__((warn_unused_result));
/* The same, the records of `src` taken from `all` (bkp_gen_list of `src`,
 * every data set; borrowed) instead of listed again: a rotation copies from
 * the list its pins were checked against. Each record copied is read for
 * its bytes, which must hash as the record of `all` did (-EBADMSG, logged,
 * when the file changed in between). NULL `all`: listed now. */
int bkp_copy_generations_of(bkp_repo *src, bkp_gen *const *all, size_t nall, bkp_repo *dst,
                            bkp_gen *const *gens, size_t n, bkp_copy_result *res)
    __attribute__((warn_unused_result));

/* Add to `packs` (a set of pack IDs: entries with only `id`) every pack of
 * `src` holding a blob of `g` — tree blobs and file chunks — that `dst`
 * lacks (every one when `dst` is NULL). -ENOENT (logged) when `src` lacks a
 * blob; a file list that cannot be read is logged with its error. */
int bkp_copy_needed_packs(bkp_repo *src, bkp_repo *dst, const bkp_gen *g, bkp_index *packs)
    __attribute__((warn_unused_result));

/* Step 3 alone: the records of `gens`' data sets into `dst`, with the
 * tombstones standing for those not copied (`dst` labelled beside it). */
int bkp_copy_records(bkp_repo *src, bkp_repo *dst, bkp_gen *const *gens, size_t n,
                     bkp_copy_result *res) __attribute__((warn_unused_result));

/* The most bytes a file of a repository copy's layout may hold, by its path
 * `rel` relative to the copy (BKP-LABEL beside config, as in an archive):
 * 0 when `rel` is no part of that layout (anything that could escape, a
 * name of another shape, a pack under the wrong folder). */
uint64_t bkp_copy_member_max(const char *rel);

/* Copy one pack of `src` into `dst`, read back and checked before its rename
 * (and indexed at the next flush of `dst`). -EEXIST when `dst` has it,
 * unless `replace`: then a pack there (damaged) is set aside as
 * packs/XX/.damaged-ID once the copy is proven, and the copy takes its name. */
int bkp_copy_pack(bkp_repo *src, bkp_repo *dst, const uint8_t id[BKP_ID_LEN], bool replace,
                  uint64_t *bytes) __attribute__((warn_unused_result));

/* Replace the copy of the audit log on `dst` with the log of `src`, unless
 * the copy has records the log of `src` lacks or differs from it: then the
 * host's log was cut or edited; it is reported (-EBADMSG) and the copy kept. */
int bkp_copy_audit(bkp_repo *src, bkp_repo *dst) __attribute__((warn_unused_result));

#endif
