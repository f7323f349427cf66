/*
 * annex.h — the backup section of a hospital's operations rules (運用管理規程):
 * the annex that the 2024 fee revision's Q&A (疑義解釈資料その8 問2) asks to
 * be attached, rendered from the policy in force and a few facts from the
 * audit log. The data sets and their priority, the generations each keeps,
 * the media with their non-editable function and where they are kept, the
 * off-line procedure, the recovery procedures with their targets and last
 * drills, where the key is kept (never a secret), and the table of the
 * guideline's service levels (12.2): target, frequency, generations,
 * method, storage place. Nothing is looked up: text from values.
 */
#ifndef RST_ANNEX_H
#define RST_ANNEX_H

#include <stdbool.h>

#include <jansson.h>

#include "policies/policy.h"
#include "bkp/report/doc.h"

/* The annex of policy `p` (borrowed) in format `f`, in Japanese when `ja`
 * (through the message catalogue, whatever the locale), else English.
 * `facts` (borrowed; NULL: none known) is what the caller gathered:
 *   {"generated": "YYYY-MM-DD",
 *    "audit": "ok" | "none" | "unreadable",          the log was read or not
 *    "runbooks": {NAME: {"title", "owner", "rto_seconds", "passphrase_note"}
 *                       | {"invalid": true}},
 *    "drills":    {RUNBOOK: {"time", "outcome", "seconds", "rto_met"}},
 *    "rotations": {MEDIUM: {"time", "outcome"}},
 *    "probes":    {MEDIUM: {"time", "outcome"}}}
 * each entry the newest of its kind. Returns the text (malloc'd), or NULL
 * when out of memory. */
char *rst_annex_render(const pol_policy *p, json_t *facts, rb_format f, bool ja);

#endif
