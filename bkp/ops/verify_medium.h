/*
 * verify_medium.h — what `bkp verify` checks of a repository copy (the
 * primary, or the copy on a medium): the whole, or a rolling sample of its
 * packs; and of a medium besides its copy, and what it leaves in the
 * registry: the recovery
 * kit against its SHA256SUMS (bkp/media/kit.h), each finding a problem of the
 * check with what to do, and the medium's entry stamped with the time and
 * outcome of the check (`last_verify`, `verify_ok`), which `media list`,
 * `status` and the evidence report read.
 *
 * Errors: a negative errno from the registry (logged by bkp/media/medium.h).
 */
#ifndef BKP_OPS_VERIFY_MEDIUM_H
#define BKP_OPS_VERIFY_MEDIUM_H

#include <stdbool.h>

#include "bkp/io/bytes.h"
#include "bkp/audit/audit.h"
#include "bkp/media/bucket.h"
#include "bkp/store/repo.h"
#include "bkp/audit/verify.h"

/* Check `target`, primary `r` or a copy of it on medium `medium` (NULL: the
 * primary), into `res`: with `sample` > 0 the rolling re-read of that
 * percentage of the packs read longest ago (bkp/audit/reread_sample.h), else
 * bkp_verify, reading every pack back with `read_data`. The current
 * versions of a bucket's objects that did not check (`bucket`, may be NULL)
 * count as problems even when a locked older version stood in for them.
 * `r`, a read handle, keeps only a sample's state (bkp/audit/reread_sample.h).
 * 0 when it ran (problems counted in `res`), negative when it could not. */
int ops_verify_check(const bkp_repo *r, const bkp_repo *target, const char *medium, double sample,
                     bool read_data, int workers, const bkp_bucket_fetch *bucket,
                     bkp_verify_result *res) __attribute__((warn_unused_result));

/* Check the recovery kit of medium `what`, mounted at `path`, into `res`
 * (one problem per finding, printed and kept); `optional`: a medium with
 * no kit is fine (a folder of archives may have one, a tape has none).
 * Returns `rc` (the check so far: 0, or a negative errno when it could not
 * run); the kit's findings are counted in `res` either way. */
int ops_verify_kit(const char *what, const char *path, bool optional, int rc,
                   bkp_verify_result *res);

/* What a check of primary `r`, or of its copy on `medium` (NULL: the
 * primary), leaves: the audit record, through `append(ctx, rec)` (NULL:
 * appended to `r`, or `w` when given) (`repair` when `fixed`, the packs
 * repaired, is given, else `verify`; failed when `rc` is negative, `res`
 * counts problems or the medium pinned history the primary lacks, `behind`) with `mode` and the
 * figures of `res`; then, when the check ran (`rc` >= 0), the medium's
 * registry entry stamped: seen and checked now, clean or not. 0, or -EIO
 * when either could not be written (logged). Nothing is written to a
 * repository opened with the public key alone. `w` is `r` writable, which
 * the registry's stamp needs (given with `medium`); without it the record is
 * appended through the read handle (audit.h, bkp_audit_append_ro). */
int ops_verify_record(const bkp_repo *r, bkp_repo *w, const char *medium, const char *mode, int rc,
                      bool behind, const bkp_verify_result *res, const bkp_strlist *fixed,
                      int (*append)(void *ctx, const bkp_audit_rec *rec), void *ctx);

#endif
