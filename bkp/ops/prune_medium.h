/*
 * prune_medium.h — applying each data set's retention to a repository:
 * the primary (`bkp prune`, `bkp run`) or a copy on a medium (a rotation).
 * Which generations go is the policy's decision (policies/retention.c), how
 * they go the core's (bkp/store/prune.c: plan → apply → recover). Never deleted:
 * damaged records (what they hold is unknown), generations inside
 * lock_days (by the clock and by the signed timeline), the newest,
 * generations whose capture time is out of order (policies/retention.h:
 * they are never counted either), and while a data set has an uncleared
 * suspicious or out-of-order generation, every generation from before it.
 * On a medium at least three generations of each data set stay.
 *
 * Nothing is printed: the plan (each generation kept or deleted, and why)
 * and the figures come back for the program to show. Errors: a negative
 * errno, logged.
 */
#ifndef BKP_OPS_PRUNE_MEDIUM_H
#define BKP_OPS_PRUNE_MEDIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/store/prune.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"

/* The bits of a kept generation beside policies/retention.h's (0x3ff). */
enum {
    OPS_KEEP_DAMAGED = 1 << 12,
    OPS_KEEP_BEFORE_SUSPICIOUS = 1 << 13,
    OPS_KEEP_SUSPICIOUS = 1 << 14,
    OPS_KEEP_SETTLES = 1 << 15 /* its clearance settles a mark before it that stays */
};

/* What retention (`p`, may be NULL: no rules, all kept) keeps of `v` (all
 * generations, by data set then sequence): `keep[i]` non-zero for each
 * kept one (the reasons' bits); `medium`: at least three of each data set
 * stay. */
void ops_prune_decide(const pol_policy *p, bkp_gen **v, size_t n, bool medium, unsigned *keep);
/* The same on a medium's copy (`v`, `n` of them, in bkp_gen_order) once the
 * generations `coming` are on it too: what retention keeps of `v` (the
 * coming are counted, never deleted; one `v` holds already counts once).
 * 0 or -ENOMEM. */
int ops_prune_decide_with(const pol_policy *p, bkp_gen **v, size_t n, bkp_gen *const *coming,
                          size_t ncoming, unsigned *keep);

/* Why a generation is kept (`keep`'s bits): as programs read it, or with
 * `people` as the reader's language says it; into `buf`. */
const char *ops_prune_why(unsigned keep, bool people, char *buf, size_t n);

typedef struct ops_prune_in {
    bkp_repo *target;         /* open; the caller holds its prune lock (bkp_lock_prune_after) */
    bkp_repo *log;            /* whose audit log records the prune: the primary */
    const pol_policy *policy; /* may be NULL */
    const char *medium;       /* the medium `target` is the copy on, or NULL: the primary */
    bool dry_run;             /* plan only: nothing changed, nothing recorded */
    bool recompress;          /* also rewrite the packs that hold LZ4 blobs (prune.h) */
    /* Record only a prune that deleted, repacked or recompressed something,
     * or failed: `bkp run` prunes at every run, and a quarter hour's
     * nothing would bury the nights' records. */
    bool changes_only;
    /* Generations of `log` about to be copied to `target` (a rotation that
     * prunes first): counted by retention as if there, never deleted, and
     * the blobs of theirs `target` has already kept (bkp_prune_how). */
    bkp_gen *const *coming;
    size_t ncoming;
} ops_prune_in;

/* One generation of the plan (tombstones left out, damaged records kept). */
typedef struct ops_prune_row {
    char name[96]; /* DATASET:SEQ */
    char *dataset;
    uint32_t seq;
    unsigned keep; /* 0: deleted; else the reasons' bits */
} ops_prune_row;

typedef struct ops_prune_out {
    ops_prune_row *rows;
    size_t nrows;
    bool planned; /* the plan was made and the prune ran (or failed in bkp_prune) */
    bkp_prune_result res;
} ops_prune_out;

/* Finish what a killed prune left, decide, delete what retention lets go,
 * reload `target`'s index, and record it in `log`'s audit log (unless a dry
 * run). 0 or a negative errno (logged); `out` is filled as far as it got
 * either way: clear it with ops_prune_out_clear. */
int ops_prune_apply(const ops_prune_in *in, ops_prune_out *out);
void ops_prune_out_clear(ops_prune_out *out);

#endif
