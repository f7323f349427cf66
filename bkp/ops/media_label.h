/*
 * media_label.h — `bkp media label`: whether a folder or device may take a
 * medium's label, the repository copy on a disk made or checked before its
 * label is touched, and the registry of the primary told (bkp/media/registry.h):
 * the new label, and the disk's former name forgotten.
 *
 * A tape cannot carry a label file: its label lives in the registry and
 * travels inside every archive written to it. A disk already labelled, or
 * a name registered for another disk, takes a label only when forced, as
 * the registry then forgets what it knew of that disk.
 *
 * Errors: a negative errno; each refusal is logged (what, where, what to
 * do) as -EPERM.
 */
#ifndef BKP_OPS_MEDIA_LABEL_H
#define BKP_OPS_MEDIA_LABEL_H

#include <stdbool.h>

#include "bkp/media/registry.h"
#include "bkp/store/repo.h"

/* May `path` take the label of medium `name` of `type`, whose registry
 * entry is `entry` (may be NULL)? A device only as an archive medium; a
 * labelled disk, or a name registered for another disk, only when `force`.
 * `*device`: `path` is a device; `*old`: the label found there, version 0
 * when none. 0 when it may; -EPERM (logged) when refused; a label that
 * cannot be read as bkp_label_read says, unless `force`. */
int ops_label_may(const char *path, const char *name, const char *type,
                  const bkp_media_entry *entry, bool force, bool *device, bkp_label *old);

/* The copy of primary `r` on the disk at `path` (PATH/repo): made when
 * there is none, else opened to prove it is a copy of `r`. 0 or as
 * bkp_repo_init_copy / bkp_repo_open_copy (a copy of another repository is
 * refused). */
int ops_label_copy(bkp_repo *r, const char *path);

/* The disk at `path` was labelled `old` (version 0: none) under another name
 * of this repository: that medium is removed from the registry (said). */
void ops_label_forget_old(bkp_repo *r, const char *name, const char *path, const bkp_label *old);

/* Medium `name` of `r` now carries label `lab`, at `path`, seen and
 * labelled now; a new disk under an old name starts a new history. 0 or a
 * negative errno (bkp_media_update). */
int ops_label_register(bkp_repo *r, const char *name, const char *path, const bkp_label *lab);

#endif
