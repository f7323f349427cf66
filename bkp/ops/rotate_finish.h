/*
 * rotate_finish.h — the end of every rotation (a disk, an archive folder or
 * tape, an object bucket), written once: the record in the primary's audit
 * log, then what the medium needs before its pin (the disk's copy of the
 * log), then the pins, then the media registry. Why in that order, and
 * what a kill between any two of these writes leaves: rotate_finish.c.
 *
 * Ownership: everything in `ops_rotate_end` is borrowed for the call.
 * Errors: the first write that failed, as a step (below) and a
 * negative errno; each failure is logged where it happens.
 */
#ifndef BKP_OPS_ROTATE_FINISH_H
#define BKP_OPS_ROTATE_FINISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/media/registry.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/store/repo.h"

/* The steps of a rotation, each a place it can fail (rotate.c and its
 * drivers report theirs by these). */
typedef enum ops_rotate_step {
    OPS_ROTATE_DONE = 0,
    OPS_ROTATE_LABEL,     /* not the medium named, or not of this repository */
    OPS_ROTATE_PINS,      /* the primary is behind or beside a pin, or its log disagrees */
    OPS_ROTATE_OPEN,      /* the copy could not be made, locked (-EBUSY) or opened */
    OPS_ROTATE_COPY,      /* choosing or copying the generations */
    OPS_ROTATE_VERIFY,    /* the copy does not verify */
    OPS_ROTATE_RECORD,    /* the audit record could not be appended */
    OPS_ROTATE_LOG_COPY,  /* the audit log's copy (-EBADMSG: the host's log was cut) */
    OPS_ROTATE_PIN_WRITE, /* the pins */
    OPS_ROTATE_REGISTRY,  /* the media registry */
    /* The policy's settings for the medium cannot work (a bucket it does not
     * name, a credentials file that is missing or malformed): nothing was
     * tried. Never recorded; an on-line medium's attempt is noted, so that
     * the status says why its copies stopped. */
    OPS_ROTATE_SETTINGS,
} ops_rotate_step;

/* What the registry entry of the medium is told besides `last_seen`; what
 * it holds only when the rotation wrote it. */
typedef struct ops_rotate_seen {
    const char *path;      /* where it was seen (`path`), or NULL: a bucket */
    bool verified;         /* it was checked now (`last_verify`, `verify_ok`) */
    bool verify_recorded;  /* that check was of what this rotation wrote (an archive read back
                              before its name): it counts only once the audit record of the
                              rotation is written */
    bool verify_ok;
    const ops_held *held;  /* what it holds now, replacing the list; or NULL (or not `known`) */
    const ops_held *added; /* what it took now, appended to the list; or NULL */
    bool held_changed;     /* not written, but `held` changed: a prune before a copy that
                              failed (its list, made after the prune, replaces the old) */
} ops_rotate_seen;

typedef struct ops_rotate_end {
    bkp_repo *primary;  /* open writable */
    const char *medium; /* its name */
    bkp_gen **pick;     /* the generations chosen for it (`np`) */
    size_t np;
    bkp_gen *const *all; /* the primary's generations the rotation judged and copied from
                            (`nall`; ops_pins_write_of), or NULL: listed for the pin */
    size_t nall;
    ops_rotate_figures fig; /* the record's figures (the driver's) */
    int rc;             /* the rotation's first failure before its end, or 0 */
    ops_rotate_step at; /* where that failure happened (its reason in the record) */
    const char *where;  /* the medium's path or bucket, for that reason */
    bool took;          /* the medium took every chosen generation */
    bool seen;          /* the medium was reached: its registry entry is updated */
    const char *pin;    /* where the medium takes its pin, or NULL: none (a tape, a bucket,
                           a folder that took nothing) */
    /* Between the record and the pins, only when the medium took its copy
     * and nothing failed: the disk's copy of the audit log (and its seal).
     * NULL: nothing. A negative errno fails the rotation at OPS_ROTATE_LOG_COPY. */
    int (*before_pins)(void *ctx);
    void *ctx;
    /* How before_pins left the medium's sealed files, noted in the registry
     * for the inspector's report; NULL: not said (not a disk). */
    const bkp_media_sealed *sealed;
    /* Once the registry says the medium was written: what it holds now, in
     * bytes, noted in the registry (`bytes`) best-effort. A failure (warned
     * about; -ENOTSUP: it cannot say, not warned) or NULL: not measured. */
    int (*measure)(void *ctx, uint64_t *bytes);
    void *measure_ctx;
    /* A disk: the room left on it once written (`has_free`), and what this
     * rotation copied, noted with the bytes for `bkp status`'s warning. */
    bool has_free;
    uint64_t free_after, wrote;
    ops_rotate_seen note;
    time_t began;      /* when its copy began (ops_rotate_begin), 0: it did not */
    bool pruned_first; /* the medium's retention was applied before the copy */
    /* A failure before the copy alike its medium's last attempt's (the same
     * why: ops_rotate_failed_alike): the attempt is noted in the registry,
     * the record not appended again — the log says when it began, the
     * alerts once, and a copy that succeeds again when it ended. */
    bool alike;
} ops_rotate_end;

/* Note in the registry entry of `medium` that a rotation to it begins to
 * copy now, by this process (bkp_media_attempt), so that one cut off before
 * its end is known as such: the time noted, or 0 when it could not be (a
 * catalogue's note: the rotation goes on). The end's note is
 * ops_rotate_finish's. `failed_early`: a rotation that failed before it
 * began to copy, noted so that its failure is known — never over another
 * rotation's attempt that is still copying (its process alive). */
time_t ops_rotate_begin(bkp_repo *primary, const char *medium, bool failed_early);
/* Why the last attempt noted for `medium` failed, into `why` (`n` bytes,
 * "" when it did not fail, or has not ended): read before a rotation notes
 * its own, so that an on-line medium the nightly run finds failing in the
 * same words at every run (away, full) is recorded once, until it fails
 * otherwise or is written (ops_rotate_end.alike). */
void ops_rotate_last_failure(const bkp_repo *primary, const char *medium, char *why, size_t n);
/* Why a rotation stopped at `at` with `rc`, in English as its audit record
 * keeps it (the words a person saw, without what only the terminal needs),
 * into `buf`; true when it stopped before it wrote anything on the medium
 * (the wrong medium or none, a pin the primary is behind, another rotation
 * holding it): refused, not failed. */
bool ops_rotate_why(ops_rotate_step at, int rc, const char *where, char *buf, size_t n);
/* The same words in Japanese, for the record's `error_ja` (what a Japanese
 * reader is shown: the audit log, the evidence, the status). */
void ops_rotate_why_ja(ops_rotate_step at, int rc, const char *where, char *buf, size_t n);

/* End the rotation `e`: 0, or the first of these writes that failed
 * (`*step`: OPS_ROTATE_RECORD, _LOG_COPY, _PIN_WRITE or _REGISTRY). `*wrote`:
 * the rotation counts as a write of the medium (it took its copy, and
 * nothing failed up to its pins). */
int ops_rotate_finish(const ops_rotate_end *e, ops_rotate_step *step, bool *wrote);

#endif
