/*
 * prune_recover.h — what an interrupted prune left, finished or refused.
 *
 * The recovery step of a prune (prune.h: plan -> apply -> recover). Every
 * open of a repository calls bkp_prune_recover before it loads the index,
 * so this module needs no open repository: the path, its keys and the
 * signed intent in locks/ (intent.h) are all it reads. Errors are 0 or a
 * negative errno code, logged here.
 */
#ifndef BKP_PRUNE_RECOVER_H
#define BKP_PRUNE_RECOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "bkp/store/intent.h"
#include "bkp/keys/keys.h"

enum {
    BKP_RECOVER_MINE = 1,     /* the caller holds the prune lock */
    BKP_RECOVER_READONLY = 2, /* report only: delete, drop and rename nothing */
};

/* Finish an interrupted prune of the repository at `repo`, opened with `k`:
 * delete what its intent lists, or drop an intent from before its index was
 * written. Unless BKP_RECOVER_MINE, nothing is done while a live prune
 * holds the lock. Called by every open before the index is loaded.
 * Only an intent that passes every check is acted on: signed with `k`'s
 * key for this repository ID, every field well-formed (intent.h), and
 * written for this very copy (its new index here in full, and no segment
 * that stays naming a pack it deletes). One that fails is never executed:
 * a writable open sets it aside as locks/prune-intent.rejected-TIME, logs
 * why and what to do, and goes on (0); a read-only open only warns.
 * `*finished` (may be NULL) says whether packs and segments were deleted
 * (an index already loaded must then be reloaded). An error (an intent
 * that passed but could not be finished) must stop the caller: the packs
 * listed are not to be used. */
int bkp_prune_recover(const char *repo, const bkp_keys *k, unsigned how, bool *finished)
    __attribute__((warn_unused_result));

/* The intents this process refused ("PATH: why; what became of it"), for
 * the audit log. */
size_t bkp_prune_rejections(const char *const **out);

/* Is pack `hex` listed for deletion by a pending prune intent that passes
 * the signature and format checks? */
bool bkp_prune_doomed(const char *repo, const bkp_keys *k, const char *hex);

/* The last step of a prune and of its recovery (for prune.c): delete the
 * old segments and the packs `in` lists, then the intent, each durably. */
int bkp_prune_finish(const char *repo, const bkp_intent *in) __attribute__((warn_unused_result));

#endif
