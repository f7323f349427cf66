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

/* Fills `reason` (what jumped, and what to check) and returns true when the
 * generation `now` is suspicious given `history` (older generations, any order). */
bool pol_guard_check(const pol_guard *g, const pol_change *history, size_t nhistory,
                     const pol_change *now, char *reason, size_t n);

/* The share of files that changed in `c`, 0..1 (against the files before it). */
double pol_change_fraction(const pol_change *c);

#endif
