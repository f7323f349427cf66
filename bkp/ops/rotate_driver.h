/*
 * rotate_driver.h — what a kind of medium does in a rotation (rotate.h):
 * one driver per kind, one row per medium type in rotate.c's table.
 *
 * rotate.c keeps the order and what every rotation shares: the primary's
 * generations listed once and judged against the pins, the plan, the
 * dry run, the figures, the end (rotate_finish.h). A driver keeps what is
 * its medium's alone: how it is reached and its label checked, what it
 * holds, how the generations get onto it (packs into a repository copy,
 * tar streams, objects under a lock), how it is pruned and checked, where
 * its kit and its pin go.
 *
 * Adding a kind of medium: its type word in the policy (policies/policy.c),
 * one file with its `ops_medium_driver`, one row in rotate.c's table.
 * tests/unit/test_rotate.c rotates to a stub driver to keep that true.
 *
 * Every hook notes its own failure in `t->out` (ops_rotate_fail) and logs
 * it where it happens. `copy`, `end` and `figures` are required; another
 * NULL hook is a step the medium does not have.
 */
#ifndef BKP_OPS_ROTATE_DRIVER_H
#define BKP_OPS_ROTATE_DRIVER_H

#include "bkp/ops/rotate.h"

typedef struct ops_medium_driver ops_medium_driver;

/* One rotation under way. */
typedef struct ops_rotation {
    const ops_rotate_in *in;
    ops_rotate_out *out;
    const ops_medium_driver *drv;
    void *d;      /* the driver's own state: `drv->size` bytes, zeroed */
    time_t began; /* when its copy began (ops_rotate_begin), 0: it did not */
    bool alike;   /* it failed before its copy as the last attempt did (rotate_finish.h) */
    bool keys_behind; /* a dry run: the copy's key file is not the primary's (the driver's) */
} ops_rotation;

struct ops_medium_driver {
    const char *name; /* in messages and tests */
    size_t size;      /* of its state */
    /* 1. Reach the medium and check that it is the one named, writing
     * nothing (before the pins are judged, so that a wrong disk is named as
     * such). NULL: nothing to check before the pins. */
    int (*reach)(ops_rotation *t);
    /* 3. Open it for the copy: its locks, the copy made when absent. In a
     * dry run, open what is there to read, create nothing. */
    int (*open)(ops_rotation *t);
    /* 4. What it holds now, for the plan of a dry run (a rotation's copy
     * finds it as it goes): `*v` (`*n`) owned by the driver until
     * `release`; `*listed` false when it cannot say (a tape). */
    int (*held)(ops_rotation *t, bkp_gen ***v, size_t *n, bool *listed);
    bool prunes; /* its retention deletes (else it is write-once) */
    bool locks;  /* it locks what it holds until a date (a prune waits for it) */
    /* A medium that locks: the date generation `g` is to be locked until
     * (each row of the plan gets it; the copy sets or extends it). */
    time_t (*until)(ops_rotation *t, const bkp_gen *g);
    /* 4b. A dry run: what the copy of the plan's picks would write (packs,
     * bytes) and the room the medium has, into `out->plan` (`sized`).
     * NULL: it cannot say (a tape, a bucket). Nothing is written. */
    int (*room)(ops_rotation *t);
    /* 5. Copy the plan's generations (`out->plan`): 0 or the error. */
    int (*copy)(ops_rotation *t);
    /* After a complete copy: its prune, its verify, its kit. A failed
     * prune is warned about (the copy stands); a failed verify fails. */
    void (*after)(ops_rotation *t);
    /* What the medium holds once written (its pins too: rotate_finish.h
     * measures last), in bytes — what a disk or a bucket of that kind will
     * need — for the registry and `bkp status`: 0 or the error (not said:
     * warned about by the end), -ENOTSUP or NULL: it cannot say (a tape). */
    int (*measure)(ops_rotation *t, uint64_t *bytes);
    /* 6. Its part of the end: where the pin goes, what comes before it,
     * what the registry is told; and its figures for the audit record. */
    void (*end)(ops_rotation *t, ops_rotate_end *e);
    int (*figures)(ops_rotation *t, ops_rotate_figures *f); /* 0 or -ENOMEM */
    void (*release)(ops_rotation *t);
};

/* The drivers of the kinds of medium bkp has. */
extern const ops_medium_driver ops_medium_disk, ops_medium_archive, ops_medium_object;

/* Note the first failure (`rc` non-zero) of the rotation at `step`;
 * returns `rc`. */
int ops_rotate_fail(ops_rotate_out *o, ops_rotate_step step, int rc);

/* Rotate with `drv` whatever the medium's type (rotate.c's table chooses
 * it for ops_rotate): for a test's stub driver. */
int ops_rotate_with(const ops_medium_driver *drv, const ops_rotate_in *in, ops_rotate_out *out);

#endif
