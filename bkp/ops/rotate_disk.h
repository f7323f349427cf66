/*
 * rotate_disk.h — a rotation to a disk: what `bkp rotate MEDIUM` and
 * `bkp run` (for on-line disks) do, the program only printing the result.
 *
 * In this order: the label at the disk's mount point is checked
 * (medium_label.h: a wrong disk is refused before anything is written);
 * the primary's generations are listed, once for the whole rotation, and
 * checked against every medium's pin (pins.h: a primary behind or beside
 * what a medium pinned must not be copied over it); the
 * repository copy PATH/repo is created when absent and opened under its
 * own rotate and writer locks; the newest clean generation of each data set
 * the policy sends there is chosen (rotate_choose.h) and copied
 * (bkp/copy.h: each pack read back and authenticated before it counts);
 * the copy is pruned by retention, keeping at least three of each data set
 * (prune_medium.h); it is verified whole; its recovery kit is written; the
 * rotation is recorded in the primary's audit log; the log is copied onto
 * the disk; the sealed files are made immutable where the file system
 * allows; the primary's heads are pinned on the disk and in the primary;
 * and the media registry is updated. Why in that order: rotate_disk.c.
 *
 * Errors: a negative errno, with the step that failed in `out->step`; each
 * failure is logged where it happens (what, where, what to do).
 */
#ifndef BKP_OPS_ROTATE_DISK_H
#define BKP_OPS_ROTATE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bkp/copy.h"
#include "bkp/kit.h"
#include "bkp/ops/prune_medium.h"
#include "bkp/ops/rotate_finish.h"
#include "bkp/repo.h"
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
    bkp_repo *primary;        /* open writable, its writer lock held by the caller */
    const pol_policy *policy; /* may be NULL: every data set, no retention */
    const char *medium;       /* the medium's name */
    const char *path;         /* where it is mounted */
    const json_t *entry;      /* its registry entry, or NULL: never labelled */
    int workers;              /* for the verify; 0: one per CPU */
    ops_kit_docs kit;
    bool keep_all;            /* a policy was named and could not be read: no prune (never
                                 guess "keep all") */
} ops_rotate_in;

/* Where a rotation stopped: the first step that failed (ops_rotate_step, rotate_finish.h). */
typedef struct ops_rotate_out {
    json_t *copied;       /* ["DATASET:SEQ"] chosen for the medium (copied now or held) */
    bkp_copy_result copy; /* what was copied now, and what was there */
    bool copied_all;      /* every chosen generation is on the medium */
    ops_prune_out prune;  /* the retention applied to the copy */
    int prune_rc;         /* its outcome (a failure is warned about; the copy stands) */
    bool verified;        /* the verify ran to its end (`verify_rc` >= 0) */
    int verify_rc;        /* 0 checked (problems: `verify_problems`), < 0 could not check */
    uint64_t verify_problems;
    json_t *held;         /* what the copy holds after it: [{dataset, seq, uuid, finished}] */
    bool kit_written;     /* the kit is there (`kit`: new, or the same bytes already) */
    bkp_kit_result kit;
    bool wrote;           /* the rotation counts as a write of the medium */
    ops_rotate_step step; /* OPS_ROTATE_DONE, or where it failed */
    int rc;               /* that step's negative errno */
} ops_rotate_out;

/* Rotate to the disk of `in`; `out` is filled as far as it got (clear it
 * with ops_rotate_out_clear). 0, or `out->rc`. */
int ops_rotate_disk(const ops_rotate_in *in, ops_rotate_out *out);
void ops_rotate_out_clear(ops_rotate_out *out);

#endif
