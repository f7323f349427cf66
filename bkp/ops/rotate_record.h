/*
 * rotate_record.h — what every kind of rotation (a disk, an archive
 * folder or tape, an object bucket) leaves behind it besides the copy: its
 * record in the primary's audit log, the list of what the medium holds
 * (for the registry, bkp/media/registry.h), and the recovery kit (bkp/media/kit.h).
 *
 * Errors: a negative errno; the audit log's own errors are logged by
 * bkp_audit_append, a kit that cannot be written is warned about here.
 */
#ifndef BKP_OPS_ROTATE_RECORD_H
#define BKP_OPS_ROTATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/audit/audit.h"
#include "bkp/store/generation.h"
#include "bkp/media/kit.h"
#include "bkp/media/registry.h"
#include "bkp/store/repo.h"

/* What the audit record of a rotation says of it (FORMAT.md §9b, op
 * "rotate"): one type for every kind of medium, filled by its driver
 * (rotate_driver.h, `figures`); a part left unset is not in the record. */
typedef struct ops_rotate_figures {
    char (*generations)[96]; /* "DATASET:SEQ" copied or archived now (owned) */
    size_t ngenerations;
    uint64_t bytes;
    bool packs_given; /* packs, packs_present and records are said */
    uint64_t packs, packs_present, records;
    long held;            /* generations the medium holds after it; -1: not said */
    char kit_sha256[65];  /* the recovery kit it carries now; "": none */
    uint64_t keys_serial; /* the list of key slots its key file holds now; 0: not said */
    const char *mode;     /* a bucket's lock, "compliance" or "governance"; NULL: no lock */
    uint64_t locks_extended;
    time_t retain_until;
} ops_rotate_figures;

/* Add generation name `name` ("DATASET:SEQ"): 0 or -ENOMEM. */
int ops_rotate_figures_add(ops_rotate_figures *f, const char *name);
void ops_rotate_figures_clear(ops_rotate_figures *f);

/* Append to the audit log of `primary` the record of a rotation to
 * `medium` (its figures `fig`, and the capture time of each generation of
 * `pick` — what the medium holds after it); a failed one with why
 * (English, its `error`; in Japanese, `why_ja`, may be NULL, the figure
 * `error_ja`) and, when it stopped before writing anything, `refused` among
 * its figures. 0 or a negative errno: what was done must not go
 * unrecorded. */
int ops_rotate_record(bkp_repo *primary, const char *medium, bool failed, const char *why,
                      const char *why_ja, bool refused, bkp_gen **pick, size_t np,
                      const ops_rotate_figures *fig);

/* A rotation's record read back (its op "rotate"): the one place its
 * figures' names are spelled for the log's readers (the evidence report,
 * the annex, a bucket's proof). What is absent or of another type, and any
 * record of another op, reads as unsaid. */
/* Did it stop before it wrote anything? */
bool ops_rotation_refused(const bkp_audit_entry *e);
/* The serial of the list of key slots it left on its medium; 0: not said. */
uint64_t ops_rotation_keys_serial(const bkp_audit_entry *e);
/* The lock its generations took on a bucket ("compliance", "governance");
 * NULL: none said. */
const char *ops_rotation_lock(const bkp_audit_entry *e);
/* The `i`-th generation it copied ("DATASET:SEQ"; "" when that figure is
 * not a string), NULL past the last. */
const char *ops_rotation_generation(const bkp_audit_entry *e, size_t i);
/* The capture time of the newest generation of `ds` it left on its medium
 * (recorded since media exist), or 0. */
time_t ops_rotation_captured(const bkp_audit_entry *e, const char *ds);

/* What a medium holds, or took now, as its registry entry lists it. */
typedef struct ops_held {
    bkp_media_held *v;
    size_t n;
    bool known; /* the list was made (else the registry keeps the one it has) */
} ops_held;

/* Add generation `g` to `h`: 0 or -ENOMEM. A record without its capture
 * time is not added (the registry would refuse the entry). */
int ops_held_add(ops_held *h, const bkp_gen *g);
void ops_held_clear(ops_held *h);
/* Their names, "DATASET:SEQ", into the figures of a rotation's record: 0
 * or -ENOMEM. */
int ops_held_figures(const ops_held *h, ops_rotate_figures *f);

/* What the copy `dst` holds now, its intact records (not `known` when they
 * cannot be listed). 0 or -ENOMEM. */
int ops_held_of(bkp_repo *dst, ops_held *out);

/* Write the recovery kit at `dir`, the folder of medium `medium`, with
 * `docs`: 0 with `*res`, or the error, warned about (the copy is complete
 * without it, but a clean machine then needs bkp installed to read it). */
int ops_kit_write(const char *dir, const char *medium, const bkp_kit_doc *docs, size_t ndocs,
                  bkp_kit_result *res);
/* The warning of a kit that could not be written (`rc`), or whose
 * documents could not be made. */
void ops_kit_warn(const char *medium, int rc);

#endif
