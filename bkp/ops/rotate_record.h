/*
 * rotate_record.h — what every kind of rotation (a disk, an archive
 * folder or tape, an object bucket) leaves behind it besides the copy: its
 * record in the primary's audit log, the list of what the medium holds
 * (for the registry, bkp/medium.h), and the recovery kit (bkp/kit.h).
 *
 * Errors: a negative errno; the audit log's own errors are logged by
 * bkp_audit_append, a kit that cannot be written is warned about here.
 */
#ifndef BKP_OPS_ROTATE_RECORD_H
#define BKP_OPS_ROTATE_RECORD_H

#include <stddef.h>

#include <jansson.h>

#include "bkp/generation.h"
#include "bkp/kit.h"
#include "bkp/repo.h"

/* Append to the audit log of `primary` the record of a rotation to
 * `medium` (figures `fig`, to which the capture time of each generation of
 * `pick` — what the medium holds after it — is added); a failed one with
 * why (English, its `error`) and, when it stopped before writing anything,
 * `refused` among its figures. 0 or a negative errno: what was done must
 * not go unrecorded. */
int ops_rotate_record(bkp_repo *primary, const char *medium, bool failed, const char *why,
                      bool refused, bkp_gen **pick, size_t np, json_t *fig);

/* What the copy `dst` holds now: [{dataset, seq, uuid, finished}] (never
 * NULL but without memory; empty when its records cannot be listed). */
json_t *ops_held_list(bkp_repo *dst);

/* Write the recovery kit at `dir`, the folder of medium `medium`, with
 * `docs`: 0 with `*res`, or the error, warned about (the copy is complete
 * without it, but a clean machine then needs bkp installed to read it). */
int ops_kit_write(const char *dir, const char *medium, const bkp_kit_doc *docs, size_t ndocs,
                  bkp_kit_result *res);
/* The warning of a kit that could not be written (`rc`), or whose
 * documents could not be made. */
void ops_kit_warn(const char *medium, int rc);

#endif
