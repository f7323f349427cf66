/*
 * verify_repair.h — `bkp verify --repair-from`: the packs a check found
 * missing or damaged in a repository copy (the primary, or the copy on a
 * disk) put back from another copy of the same repository, each copy read
 * back and authenticated before the damaged file is set aside
 * (bkp_copy_pack), then the whole copy read back to prove the repair.
 *
 * The caller opens both copies (a medium is found by its name in the
 * program) and prints what came of it; a bucket's repair is
 * object_medium.h's (ops_object_repair).
 *
 * Errors: a negative errno; a pack that cannot be repaired is logged with
 * what to do (another copy, or a restore from the source).
 */
#ifndef BKP_OPS_VERIFY_REPAIR_H
#define BKP_OPS_VERIFY_REPAIR_H

#include <stdbool.h>

#include "bkp/io/bytes.h"
#include "bkp/io/lock.h"
#include "bkp/store/repo.h"
#include "bkp/audit/verify.h"

/* The repository a repair source names when it is a path (it has a '/', or
 * something of that name exists): the repository at `from` when it holds a
 * config, else `from`/repo (a disk's mount point). `*out` (malloc'd) NULL
 * when `from` is a medium's name. 0, or -ENOMEM. */
int ops_repair_source_path(const char *from, char **out);

/* The writer's lock of `target` for a repair from `src` (held by `*lock`;
 * `lock` NULL: the caller holds it already, only the check is made):
 * -EINVAL, with nothing taken and nothing logged, when `src` is `target`
 * itself (the same folder); -EBUSY when another run holds it. */
int ops_repair_lock(const bkp_repo *target, const bkp_repo *src, bkp_lock **lock);

typedef struct ops_repair_out {
    bkp_strlist fixed; /* the packs replaced, hex IDs (ops_repair_out_clear) */
    int left;      /* packs not repaired: the source lacks them, or the copy failed */
} ops_repair_out;

/* Replace each bad pack of `res` (what bkp_verify found in `target`) with
 * its copy in `src`; `sealed`: the packs put back are made immutable, as
 * the rest of a sealed medium. Then `res` holds the read-back of the whole
 * of `target`. Returns bkp_verify's answer: 0 when it ran (the problems
 * that remain counted in `res`), negative when it could not. Clear `*out` afterwards in every case. */
int ops_verify_repair(bkp_repo *target, bkp_repo *src, bool sealed, int workers,
                      bkp_verify_result *res, ops_repair_out *out)
    __attribute__((warn_unused_result));
void ops_repair_out_clear(ops_repair_out *out);

#endif
