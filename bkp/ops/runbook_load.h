/*
 * runbook_load.h — a recovery procedure (restore/runbook.h) as the commands use
 * it: loaded by its name from where the policy says, believed only when no
 * one else may change it, its restores in the order of the data sets'
 * priority; and where usable copies of its data sets are today, which the
 * printed procedure and `runbook show --json` list. `runbook`, `restore
 * --runbook`, `drill`, `policy check`, `audit report` and a disk's recovery
 * kit all load through here.
 *
 * Errors: a negative errno, logged (which file, what is wrong).
 */
#ifndef BKP_OPS_RUNBOOK_LOAD_H
#define BKP_OPS_RUNBOOK_LOAD_H

#include "bkp/media/registry.h"
#include "bkp/store/repo.h"
#include "policies/policy.h"
#include "restore/runbook.h"
#include "restore/runbook_doc.h"

/* Load runbook `name` (a path, or a name found beside policy `p`, which
 * may be NULL) into `*out`. Its `run` and `check` steps run as root: a file
 * others may change is refused (bkp/host/trust.h), and it is read through the
 * path checked. -EINVAL for a runbook not found, refused or invalid (what
 * the operator fixes), another negative errno when it cannot be read. */
int ops_runbook_load(const pol_policy *p, const char *name, rb_runbook **out);

/* Does runbook `rb` fit policy `p`: it restores `dataset`, the data set
 * whose `runbook:` names it (NULL: a drill's)? 0, or -EINVAL, said: its
 * drill would not rehearse that data set. A data set it restores that `p`
 * does not have is warned of only (one no longer backed up may still be
 * kept, and restored). */
int ops_runbook_fits(const pol_policy *p, const rb_runbook *rb, const char *dataset);

/* A runbook the policy names: loaded, or NULL when it did not load. */
typedef struct ops_runbook_named {
    const char *name; /* the policy's */
    rb_runbook *rb;
} ops_runbook_named;

/* The runbooks `p`'s data sets and drills name, each once, loaded as ops_runbook_load
 * does, into `*out` (`*n` of them, malloc'd; ops_runbook_list_free). 0, or
 * the error of the last one that did not load (its `rb` NULL), or -ENOMEM
 * (nothing listed). */
int ops_runbook_list(const pol_policy *p, ops_runbook_named **out, size_t *n);
void ops_runbook_list_free(ops_runbook_named *v, size_t n);

/* Where usable copies of `rb`'s data sets are, as primary `r` (may be NULL)
 * and its media registry know, into `out` (empty at first): per data set,
 * the newest generation neither failed nor marked suspicious (and not
 * cleared) in the primary, then on each medium. A medium is off-line as
 * policy `p` says (may be NULL: as its type is, pol_type_offline). 0, or
 * -ENOMEM, or the error of a registry that cannot be listed. */
int ops_runbook_copies(const bkp_repo *r, const pol_policy *p, const rb_runbook *rb,
                       rb_copies *out);

/* Every generation of `rb`'s data sets that the medium of registry entry
 * `e` (may be NULL: none) holds, newest first, one row each as
 * ops_runbook_copies gives them, but those primary `r` marks suspicious:
 * what the medium's own procedure lists. 0 or -ENOMEM. */
int ops_runbook_held(const bkp_repo *r, const pol_policy *p, const bkp_media_entry *e,
                     const rb_runbook *rb, rb_copies *out);

/* The data sets of `p` (may be NULL) that are one folder each, what a
 * procedure restores as the folder's contents (restore/procedure.h), into
 * `out` (its strings `p`'s; rb_folders_clear), and when `p` has a bucket,
 * the policy a new machine writes to reach it (`out->recovery`): its
 * repository (never read there), its language, its data sets by name and
 * paths (what a policy must have; nothing is backed up there) and its
 * buckets. 0 or -ENOMEM. */
int ops_runbook_folders(const pol_policy *p, rb_folders *out);

#endif
