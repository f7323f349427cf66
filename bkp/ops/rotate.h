/*
 * rotate.h — a rotation: the newest clean generation of each data set the
 * policy sends to a medium, copied there, whatever the medium is. What
 * `bkp rotate MEDIUM` does, and `bkp run` for on-line disks and buckets;
 * the program only prints the result.
 *
 * One rotation, in this order, for every kind of medium (rotate.c):
 *  1. the medium reached and its label checked, without writing to it (a
 *     wrong disk is refused before anything else);
 *  2. the primary's generations listed, once, and judged against every
 *     medium's pin (pins.h: a primary behind or beside what a medium
 *     pinned must not be copied over it);
 *  3. the medium opened for the copy (its own locks);
 *  4. the plan (ops_rotate_plan below): what is chosen (rotate_choose.h),
 *     what the medium holds of it already, what its retention deletes after
 *     the copy. A dry run stops here: nothing written anywhere;
 *  5. the copy, the prune, the verify, the recovery kit — each as the
 *     medium's driver does it (rotate_driver.h: disk, archive, object);
 *  6. its end (rotate_finish.h): the audit record, the pins, the registry.
 *
 * Ownership: the handles of `in` are borrowed; `out` owns what it holds
 * until ops_rotate_out_clear. Errors: a negative errno, with the step that
 * failed in `out->step`; each failure is logged where it happens (what,
 * where, what to do).
 */
#ifndef BKP_OPS_ROTATE_H
#define BKP_OPS_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/media/bucket.h"
#include "bkp/media/copy.h"
#include "bkp/store/generation.h"
#include "bkp/media/kit.h"
#include "bkp/media/registry.h"
#include "bkp/ops/prune_medium.h"
#include "bkp/ops/rotate_finish.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"

/* The documents of the medium's recovery kit, asked for once the copy has
 * verified: `make` fills `*docs` and `*n`, owned by `*held` until `free`.
 * A NULL `make` gives a kit of the program alone. */
typedef struct ops_kit_docs {
    int (*make)(void *ctx, const bkp_kit_doc **docs, size_t *n, void **held);
    void (*free)(void *held);
    void *ctx;
} ops_kit_docs;

typedef struct ops_rotate_in {
    bkp_repo *primary;            /* open writable, its writer lock held by the caller */
    const pol_policy *policy;     /* may be NULL: every data set, no retention */
    const char *medium;           /* the medium's name */
    pol_medium_type type;         /* the policy's, else the label's: which driver */
    const pol_medium *pm;         /* its entry in the policy, or NULL (an object medium needs it) */
    const char *path;             /* where it is mounted or written (a folder, a device); NULL for a
                                     bucket */
    const bkp_media_entry *entry; /* its registry entry, or NULL: never labelled */
    const char *tmpdir;           /* where archives are read back; NULL: $TMPDIR, else /var/tmp */
    int workers;                  /* for the verify; 0: one per CPU */
    ops_kit_docs kit;
    bool keep_all; /* a policy was named and could not be read: no prune (never
                      guess "keep all") */
    bool dry_run;  /* the plan only: nothing written, nothing recorded */
    bool unsized;  /* a dry run that asks only what the copy would do (bkp run): the room it
                      needs is not measured */
    /* A disk too full for the copy: apply retention to its copy before the
     * copy, counting the generations about to come as there, rather than
     * after (what it deletes is the plan's `gone`). Until the copy is done
     * the disk then holds fewer generations than retention keeps. Only a
     * driver that prunes and locks nothing takes it; the others refuse it
     * (-EINVAL, usage). */
    bool prune_first;
} ops_rotate_in;

/* One generation the plan copies to the medium. */
typedef struct ops_plan_row {
    bkp_gen *gen;  /* borrowed from the plan's list of the primary */
    char name[96]; /* DATASET:SEQ */
    bool there;    /* the medium holds it already: nothing of it is copied */
    time_t until;  /* a medium that locks: the date it is locked until, set or extended to by
                      the copy; else 0 */
} ops_plan_row;

/* What a rotation will do, before it does anything: a value, made from the
 * primary's generations and the medium's (ops_rotate_plan_make). */
typedef struct ops_rotate_plan {
    bkp_gen **v; /* the primary's generations, read once: judged, chosen from, pinned */
    size_t n;
    bkp_gen **pick; /* the chosen ones (`np`), borrowed from `v`, in its order */
    ops_plan_row *rows;
    size_t np;
    bool listed;         /* the medium's generations were read (else `there` is false and
                            `gone` empty: a tape, a medium never written) */
    size_t held_before;  /* how many of the primary's generations it held (listed) */
    bool prunes;         /* the medium's retention deletes (a write-once medium: never) */
    ops_prune_row *gone; /* the medium's generations its retention deletes after the copy */
    bool locked;         /* the medium locks what it holds: each of `gone` goes once its lock
                            has passed, not before */
    size_t ngone;
    /* A dry run to a medium that can say (a disk): what the copy would
     * write — the packs it lacks, as large as they are in the primary —
     * and what its file system has free. */
    bool sized;
    uint64_t need_packs, need_bytes, free_bytes;
    /* A disk whose key file is not the primary's list of key slots as it is
     * now (a key added, changed or removed since): the rotation brings it
     * up to date, so that a retired passphrase leaves the disk. */
    bool keys_behind;
} ops_rotate_plan;

/* Make the plan of a rotation to `medium` from the primary's records `v`
 * (`n`, grouped by data set, each by ascending sequence; the plan keeps
 * the array and frees it) and the medium's `held` (`nheld`, the same order,
 * borrowed; NULL with `listed` false when unknown). `prunes`: what the
 * retention of `policy` deletes after the copy, at least three of each
 * data set kept. 0 or -ENOMEM. Touches no repository and no medium. */
int ops_rotate_plan_make(const pol_policy *policy, const char *medium, bkp_gen **v, size_t n,
                         bkp_gen **held, size_t nheld, bool listed, bool prunes,
                         ops_rotate_plan *plan);
void ops_rotate_plan_clear(ops_rotate_plan *plan);
/* What a rotation to the medium of `plan` copies, for the warning that
 * the next may not fit: `copied` (this one's) when it added to what the
 * medium held; for a first copy to it (a new disk seeded: it copies
 * everything, the next only what is new), what the backups of one
 * rotation interval `every` (a day when 0) added — the new bytes of the
 * chosen generations sealed within it before the newest, each data set's
 * first generation left out (it holds all that came before it). */
uint64_t ops_rotate_next_copy(const ops_rotate_plan *plan, uint64_t copied, int64_t every);
/* Whether the rotation of `plan` (a dry run's) would write: a chosen
 * generation the medium does not hold, one its retention deletes, its key
 * file behind the primary's, or a medium whose generations could not be
 * listed. */
bool ops_rotate_plan_acts(const ops_rotate_plan *plan);
/* The names of the plan's generations into the figures of the rotation's
 * record: 0 or -ENOMEM. */
int ops_rotate_plan_figures(const ops_rotate_plan *plan, ops_rotate_figures *f);

typedef struct ops_rotate_out {
    ops_rotate_plan plan; /* what is chosen for the medium (copied now, or there already) */
    bkp_copy_result copy; /* what was copied now (an archive medium: its `bytes`), and what
                             was there */
    bool copied_all;      /* every chosen generation is on the medium */
    bool pruned_first;    /* prune_first: its prune ran, before the copy */
    /* An archive medium: */
    bool device;    /* `path` is a device: written, not read back */
    ops_held added; /* the generations archived now, in order */
    size_t present; /* chosen generations whose archive was there already */
    /* An object medium: */
    uint64_t locks_extended; /* locks of objects already there, made longer */
    time_t retain_until;     /* the latest retain-until of the copy */
    /* The retention applied to the copy (a disk's rows; a bucket's figures). */
    ops_prune_out prune;
    bkp_bucket_prune_result bucket_prune;
    int prune_rc;  /* its outcome (a failure is warned about; the copy stands) */
    bool verified; /* the verify ran to its end (`verify_rc` >= 0) */
    int verify_rc; /* 0 checked (problems: `verify_problems`), < 0 could not check */
    uint64_t verify_problems;
    ops_held held;    /* what the medium holds after it (`known` once listed) */
    bool kit_written; /* the kit is there (`kit`: new, or the same bytes already) */
    bkp_kit_result kit;
    /* A disk: its file system's free bytes once written (`has_free`), and
     * what a rotation to it copies (ops_rotate_next_copy), for the warning
     * that the next copy may not fit. */
    bool has_free;
    uint64_t free_after, next_copy;
    bool wrote;           /* the rotation counts as a write of the medium */
    bool usage;           /* the failure is the operator's to fix (a label, a policy entry) */
    ops_rotate_step step; /* OPS_ROTATE_DONE, or where it failed */
    int rc;               /* that step's negative errno */
} ops_rotate_out;

/* Rotate to the medium of `in`; `out` is filled as far as it got (clear it
 * with ops_rotate_out_clear). 0, or `out->rc`. */
int ops_rotate(const ops_rotate_in *in, ops_rotate_out *out);
void ops_rotate_out_clear(ops_rotate_out *out);

#endif
