/*
 * pins.h — the primary against what each medium pinned (bkp/media/pin.h).
 *
 * A rotation, `run`, `verify --media` and `status` ask here before they
 * trust the primary as the newest history. A medium that is plugged in is
 * read itself — its pin is the one a rollback of the primary cannot reach;
 * one that is away is judged by the copy of its pin kept in the primary
 * (media/NAME.pin), which still catches records deleted or a log cut on the
 * primary alone.
 *
 * Errors: a negative errno, logged: what could not be read or compared, and
 * for a refusal (ops_pins_guard) what was found and what to do.
 */
#ifndef BKP_OPS_PINS_H
#define BKP_OPS_PINS_H

#include <stdbool.h>
#include <stddef.h>

#include "bkp/media/label.h"
#include "bkp/media/pin.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"

/* One way the primary falls short of the pin of a medium. */
typedef struct ops_pin_found {
    char medium[BKP_MEDIUM_NAME_MAX + 1];
    bool on_medium; /* its own pin, read on it (else the primary's copy of it) */
    bkp_pin_finding f;
} ops_pin_found;

typedef struct ops_pin_findings {
    ops_pin_found *v;
    size_t n;
} ops_pin_findings;
void ops_pin_findings_clear(ops_pin_findings *f);

/* What primary `r` lacks of the pins of the media, into `*out`; returns
 * how many, or a negative errno (logged). `only`: that medium alone, read
 * at `only_path`; else every registered one, at the path `p` (may be
 * NULL) gives it or the registry's. */
int ops_pins_check(const bkp_repo *r, const pol_policy *p, const char *only, const char *only_path,
                   ops_pin_findings *out);
/* The same against the primary's generations `v` (bkp_gen_list of `r`, all
 * data sets; borrowed), as a caller that holds them already read them: the
 * pins of every medium are read first, then the audit log once for all. */
int ops_pins_check_of(const bkp_repo *r, const pol_policy *p, bkp_gen *const *v, size_t n,
                      const char *only, const char *only_path, ops_pin_findings *out);
/* Log the findings and what to do; `doing` names what is refused. */
void ops_pins_refuse(const ops_pin_findings *found, const char *doing);
/* The same against the primary's generations `v` (as ops_pins_check_of):
 * a rotation reads them once, under the primary's writer lock, and copies
 * and pins from the very list judged here. */
int ops_pins_guard_of(bkp_repo *r, const pol_policy *p, bkp_gen *const *v, size_t n,
                      const char *doing);
/* Pin the primary's heads on medium `name` at `path` (the medium's own pin
 * first), and keep a copy in the primary; logged on failure. */
int ops_pins_write(bkp_repo *r, const char *name, const char *path);
/* The same, pinning the heads of `v` (as ops_pins_check_of; NULL: listed
 * now). The audit log is read now: the pin names its last line, the
 * rotation's own record included. */
int ops_pins_write_of(bkp_repo *r, const char *name, const char *path, bkp_gen *const *v,
                      size_t n);

#endif
