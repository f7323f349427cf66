/*
 * guard.h — the change-rate guard: does a generation change far more than
 * this data set's recent history? (Ransomware that encrypts the files rewrites
 * most of them at once, and its output does not compress.)
 *
 * Two signals, each against the median of the last generations:
 *  - the share of files added, changed (content differs) or deleted;
 *  - how incompressible the new data is (stored / plaintext bytes), when the
 *    new data is a large share of the data set.
 * A pure function; thresholds come from the policy (`guard:`), with defaults.
 */
#ifndef POL_GUARD_H
#define POL_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policies/policy.h"

typedef struct pol_change {
    uint64_t files, added, changed, deleted;
    uint64_t bytes, bytes_new, stored_new;
} pol_change;

/* What the guard found: which signal jumped, with its figures, so that it
 * is said in the reader's language where it is shown (pol_guard_reason). */
typedef enum { POL_GUARD_QUIET, POL_GUARD_CHANGED, POL_GUARD_INCOMPRESSIBLE } pol_guard_signal;

typedef struct pol_guard_verdict {
    pol_guard_signal signal;
    double share, usual;                /* CHANGED: files moved, and usually (0..1) */
    uint64_t added, changed, deleted;   /* CHANGED */
    double new_share, stored, stored_usual; /* INCOMPRESSIBLE: new data's share, stored/new now and usually */
} pol_guard_verdict;

/* Fills `v` and returns true when the generation `now` is suspicious given
 * `history` (older generations, any order); `v` is QUIET otherwise. */
bool pol_guard_check(const pol_guard *g, const pol_change *history, size_t nhistory,
                     const pol_change *now, pol_guard_verdict *v);

/* What jumped and what to check, into `buf`: in English when `english`
 * (as the signed record and the audit keep it; no language is switched,
 * so any thread may ask), else through the catalogue; "" for a QUIET
 * verdict. Returns buf. */
const char *pol_guard_reason(const pol_guard_verdict *v, bool english, char *buf, size_t n);

/* The share of files that changed in `c`, 0..1 (against the files before it). */
double pol_change_fraction(const pol_change *c);

#endif
