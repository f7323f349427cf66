/*
 * key_slots_edit.h — changing the passphrases that open the repository
 * (bkp key add | passwd | remove; key_slots.h holds the list itself).
 *
 * A change is an edit: ops_keys_edit_begin takes the repository's "keys"
 * lock (lock.h) and reads the list, so that two changes never lose one
 * another; the rules decide which slot a command acts on and whether a new
 * passphrase may be used; one change is made in memory, recorded in the
 * audit log, then the list is replaced durably; ops_keys_edit_end releases
 * the lock. The program asks for the new passphrase (a prompt, or a file)
 * between the choice of slot and the change, and prints the outcome.
 *
 * What each change leaves behind: each disk copy gets the new list at its
 * next rotation; archives keep the list they were written with, and with it
 * an old passphrase (key_slots.h says why, SECURITY.md what to do).
 *
 * Errors: every refusal and failure is logged here, with what to do next.
 * -EINVAL a refusal of what was asked (a slot that is not there, the last
 * one, the one in use, a passphrase already in use, a machine key's file
 * that cannot be used: ask differently); -EBUSY the "keys" lock is held;
 * -ESTALE the list changed since the repository was opened; any other
 * negative errno a failure (nothing recorded, or the list not written).
 */
#ifndef BKP_OPS_KEY_SLOTS_EDIT_H
#define BKP_OPS_KEY_SLOTS_EDIT_H

#include <stddef.h>
#include <time.h>

#include "bkp/keys/key_slots.h"
#include "bkp/io/lock.h"
#include "bkp/store/repo.h"

typedef struct ops_keys_edit {
    bkp_repo *r;      /* borrowed: open for writing with the keys */
    bkp_lock *lock;   /* the "keys" lock, NULL when reading only */
    bkp_key_slots *s; /* the list as read, then as changed */
} ops_keys_edit;

/* Read the slots of `r` into `e`, under the "keys" lock when `lock` (every
 * change). 0, or a negative errno (-EBUSY: the lock is held); `e` must be
 * ended either way. */
int ops_keys_edit_begin(bkp_repo *r, bool lock, ops_keys_edit *e)
    __attribute__((warn_unused_result));
/* Read the slots of `r` into `e` to list them, with no lock: `e->r` stays
 * NULL, so nothing can be changed through `e`. 0 or a negative errno; `e`
 * must be ended either way. */
int ops_keys_read(const bkp_repo *r, ops_keys_edit *e) __attribute__((warn_unused_result));
void ops_keys_edit_end(ops_keys_edit *e);

/* "machine" for a slot sealed under a machine secret (keys.h), else
 * "passphrase": the word of `bkp key list` and of the audit records. */
const char *ops_key_kind(const bkp_key_slot *x);

/* Which slot `verb` ("passwd" or "remove") acts on: the slot `id` names
 * (NULL: none given — passwd then changes the passphrase in use), checked
 * before any passphrase is asked for. The rules: remove never takes the
 * last slot, nor the one this command was opened with; passwd without an ID
 * needs a passphrase in use, not the machine key. 0 with `*i`. */
int ops_keys_pick(const ops_keys_edit *e, const char *verb, const char *id, int *i)
    __attribute__((warn_unused_result));
/* Is there room for one more slot? 0, or -EINVAL (logged). */
int ops_keys_room(const ops_keys_edit *e);

/* The changes, each recorded and stored (0, or the index of the new slot):
 * a new slot for `pass`, labelled `label`; slot `i` sealed again under
 * `pass` (after it the old passphrase no longer opens this copy); slot `i`
 * removed, a copy of it into `*gone`. A `pass` that opens a slot already is
 * refused: it would retire nothing. The caller wipes `pass`. After a
 * failure the list in memory may hold the change that was not stored:
 * end the edit, do not store it otherwise. */
int ops_keys_add(ops_keys_edit *e, const char *pass, size_t plen, const char *label, time_t now)
    __attribute__((warn_unused_result));
int ops_keys_passwd(ops_keys_edit *e, int i, const char *pass, size_t plen, time_t now)
    __attribute__((warn_unused_result));
int ops_keys_remove(ops_keys_edit *e, int i, bkp_key_slot *gone)
    __attribute__((warn_unused_result));

/* A machine slot (keys.h) whose secret bkp draws and writes to a new
 * private file at `file` (refused where a later run would refuse it as a
 * passphrase file, trust.h). `label` NULL: "machine HOST". Its index, and
 * in `*path` (malloc'd) the file's resolved path. */
int ops_keys_add_machine(ops_keys_edit *e, const char *file, const char *label, time_t now,
                         char **path) __attribute__((warn_unused_result));

#endif
