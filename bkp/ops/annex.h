/*
 * annex.h — the facts the regulation annex (bkp/report/annex.h) cites beyond
 * the policy: the runbooks the policy names (loaded through the program's
 * loader, which checks who may change them), and from the primary's audit
 * log — read, not verified: `bkp audit verify` does that — the last drill
 * of each runbook, the last rotation of each medium (and the last that
 * succeeded) and its last lock probe.
 */
#ifndef BKP_OPS_ANNEX_H
#define BKP_OPS_ANNEX_H

#include "bkp/report/annex.h"
#include "policies/policy.h"
#include "restore/runbook.h"

/* The facts for policy `p` into `*out` (rst_annex_facts_clear frees them):
 * 0, or -ENOMEM (`*out` empty). A log that cannot be read is said (a
 * warning) and marked in `out->audit`, not a failure. `load` loads runbook
 * `name` into `*rb` (0, or non-zero: the annex calls it unreadable). */
int ops_annex_facts(const pol_policy *p, int (*load)(void *ctx, const char *name, rb_runbook **rb),
                    void *ctx, rst_annex_facts *out);

#endif
