/*
 * rotate_archive.h — a rotation to an archive medium (tape, optical, a
 * write-once folder): what `bkp rotate MEDIUM` does for a medium of type
 * archive, the program only printing the result.
 *
 * In this order: for a folder, the label at its path is checked
 * (medium_label.h; a tape carries its label inside each archive instead);
 * the primary is checked against every medium's pin (pins.h); what a killed
 * rotation left in the folder is removed (bkp_durable_cleanup); the
 * generations the policy sends there are chosen (rotate_choose.h); each one
 * not there yet becomes one tar stream DATASET@SEQ.tar (bkp/archive.h),
 * beginning with the recovery kit, written to a temporary name, read back
 * and verified (archive_check.h), and only then given its name — never
 * reused, never rewritten; a tape receives the stream as it is, not read
 * back; a folder takes the recovery kit beside its archives too; the
 * rotation is recorded in the primary's audit log (rotate_record.h); a
 * folder that took archives takes the pins (pins.h); the media registry is
 * updated. Why in that order: rotate_archive.c.
 *
 * Errors: a negative errno, with the step that failed in `out->step`
 * (rotate_disk.h's steps: LABEL, PINS, COPY for the writing, VERIFY for a
 * read-back that does not verify, RECORD, PIN_WRITE, REGISTRY); each
 * failure is logged where it happens (what, where, what to do).
 */
#ifndef BKP_OPS_ROTATE_ARCHIVE_H
#define BKP_OPS_ROTATE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bkp/kit.h"
#include "bkp/ops/rotate_disk.h"
#include "bkp/repo.h"
#include "policies/policy.h"

typedef struct ops_archive_in {
    bkp_repo *primary;        /* open writable, its writer lock held by the caller */
    const pol_policy *policy; /* may be NULL: every data set */
    const char *medium;       /* the medium's name */
    const char *path;         /* its folder, or a device (a tape) */
    const json_t *entry;      /* its registry entry, or NULL: never labelled */
    const char *tmpdir;       /* where archives are read back and packs built; NULL: $TMPDIR,
                                 else /var/tmp */
    int workers;              /* for the read-back's verify; 0: one per CPU */
    ops_kit_docs kit;         /* the recovery kit's documents (rotate_disk.h) */
} ops_archive_in;

typedef struct ops_archive_out {
    bool device;          /* `path` is a device: written, not read back */
    json_t *written;      /* ["DATASET:SEQ"] written now, in order */
    json_t *added;        /* the same as [{dataset, seq, uuid, finished}] */
    size_t present;       /* chosen generations whose archive was there already */
    uint64_t bytes;       /* the size of the streams written now */
    bool kit_written;     /* a folder's kit beside the archives is there (`kit`) */
    bkp_kit_result kit;
    ops_rotate_step step; /* OPS_ROTATE_DONE, or where it failed */
    int rc;               /* that step's negative errno */
} ops_archive_out;

/* Rotate to the archive medium of `in`; `out` is filled as far as it got
 * (clear it with ops_archive_out_clear). 0, or `out->rc`. */
int ops_rotate_archive(const ops_archive_in *in, ops_archive_out *out);
void ops_archive_out_clear(ops_archive_out *out);

#endif
