/*
 * medium.h — labels on media, and the registry of media in the primary
 * repository.
 *
 * A label is the file BKP-LABEL at the top of a medium (a mount point, or
 * the folder of an archive medium): JSON naming the medium's UUID, name,
 * type (disk | removable | archive), location (onsite | offsite), the
 * repository it belongs to and its key's fingerprint, and when it was
 * labelled. It is how the tool
 * knows which physical disk it is talking to.
 *
 * The registry is one JSON file per medium, REPO/media/NAME.json: the label,
 * the path it was last seen at, and what is known of its copies: last seen,
 * last write, last verify, and the generations it holds. Updates are
 * read-modify-write under an flock on media/.lock, each a durable replace.
 * The registry is a catalog, rebuilt by the next rotation; the signed audit
 * log is the tamper-evident history.
 */
#ifndef BKP_MEDIUM_H
#define BKP_MEDIUM_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "bkp/store/repo.h"

#define BKP_LABEL_FILE "BKP-LABEL"

/* A medium name: like a data set name (letters, digits, '.', '_', '-'). */
bool bkp_medium_name_ok(const char *name);
bool bkp_medium_type_ok(const char *type);
bool bkp_medium_location_ok(const char *location);

/* A new label (JSON) for a medium of repository `r`. */
json_t *bkp_label_new(const bkp_repo *r, const char *name, const char *type, const char *location);

/* The label for a medium labelled anew, `old` being the label found on it
 * (NULL: none): a new reference, NULL without memory. A disk whose label
 * is the one the registry of `r` holds for the medium it names (and for no
 * other) keeps its identity (`uuid`) under its new name, type and location:
 * the copy on it holds tombstones bound to that identity (tombstone.c: a
 * "not copied" tombstone counts only on the medium it names), and a fresh
 * one would make every such record look planted from another medium. The
 * caller then forgets the old name, so no two media share an identity.
 * Anything else — no label, an invalid one, another repository's, one
 * copied from another disk or planted, an identity the registry does not
 * hold for that name — gets a fresh identity, as bkp_label_new. */
json_t *bkp_label_renew(bkp_repo *r, const json_t *old, const char *name, const char *type,
                        const char *location);

/* No label is larger: it is read no further. */
#define BKP_LABEL_MAX (64U << 10)

/* True when `label` is a label in every field: format and version, `uuid`
 * and `repository` lower-case UUIDs, `name`, `type` and `location` as their
 * _ok functions say, `created` a time, and `fingerprint` — the repository
 * key's, as pubkey.h prints it — absent (labels written before it) or in
 * exactly that form; version 1, or 2 with "signature" 128 hex digits and
 * the fingerprint present. A caller of bkp_label_read or
 * bkp_media_get may use each of these fields without checking it again. */
bool bkp_label_valid(const json_t *label);

/*
 * A label of version 2 is signed by the repository's key (FORMAT.md §8):
 * "fingerprint" names the key and "signature" is its Ed25519 signature of
 * "bkp-label-2\n" and the label without "signature", compact, keys sorted,
 * ASCII only. A bucket's label is signed, so that a label put in front of it
 * (any fields, our uuid and repository too) is told from ours without the
 * registry; a disk's label need not be (the disk is in the operator's hands).
 */
/* A signed copy of `label` by `k` (version 2, its fingerprint `k`'s): a new
 * reference, or NULL without memory. */
json_t *bkp_label_signed(const json_t *label, const bkp_keys *k);
/* Is `label` (valid) of version 2 and signed by `pk`? */
bool bkp_label_signed_by(const json_t *label, const uint8_t pk[32]);
/* Is `label` (valid) the repository's own: naming `repository`, without a
 * fingerprint or with `pk`'s, and either the very label `registered` (the
 * registry's, may be NULL) or signed by `pk` with the registered uuid (any
 * uuid without a registry)? The one test of a bucket's label, by rotation,
 * labelling and fetch. */
bool bkp_label_ours(const json_t *label, const json_t *registered, const uint8_t pk[32],
                    const char *repository);

/* Parse `len` bytes (at most BKP_LABEL_MAX) into a valid label `*out` (a new
 * reference): 0, or -EBADMSG (nothing logged). */
int bkp_label_parse(const void *buf, size_t len, json_t **out);

/* Read the label of the medium at `path`: 0 with `*out`, -ENOENT when there
 * is none, -EBADMSG when it is not a valid label (logged, naming the file and
 * how to relabel the medium). */
int bkp_label_read(const char *path, json_t **out);
/* Is the repository folder `repo` on a medium: a label file at
 * REPO/BKP-LABEL (an archive extracted) or REPO/../BKP-LABEL (a disk's
 * copy)? Its name alone, unread: for what a reader must not write there
 * (a planted one beside a primary only makes its readers write less). */
bool bkp_medium_folder(const char *repo);

/* What a label found on a medium is, for medium `name` of repository `r`
 * whose registry entry is `entry` (NULL: never labelled). */
typedef enum bkp_label_verdict {
    BKP_LABEL_OURS = 0,     /* that medium, the disk registered under its name */
    BKP_LABEL_OTHER_REPO,   /* another repository's medium */
    BKP_LABEL_OTHER_KEY,    /* this repository's, labelled for another repository key */
    BKP_LABEL_OTHER_NAME,   /* another medium of this repository */
    BKP_LABEL_OTHER_DISK,   /* this name, but not the disk registered under it */
    BKP_LABEL_UNREGISTERED, /* this name, which the registry does not hold */
} bkp_label_verdict;

/* The fields of `label` (valid: bkp_label_read) that a judgement and its
 * refusal name, and the disk `entry` registered (NULL when none); each NULL
 * when absent. Borrowed from the two documents. */
typedef struct bkp_label_fields {
    const char *name, *uuid, *repository, *fingerprint;
    const char *registered_uuid;
} bkp_label_fields;
void bkp_label_fields_of(const json_t *label, const json_t *entry, bkp_label_fields *f);

/* Judge `label` (valid: bkp_label_read) in that order, the first that
 * applies: the one place where a label is held against a medium's name,
 * the repository, its key and the registry. Pure: nothing read, nothing
 * logged (ops/medium_check.h says what to do). */
bkp_label_verdict bkp_label_judge(const bkp_repo *r, const json_t *label, const char *name,
                                  const json_t *entry);

/* Write `label` onto the medium at `path`, durably; an existing label is
 * replaced only with `replace` (-EEXIST otherwise). */
int bkp_label_write(const char *path, const json_t *label, bool replace)
    __attribute__((warn_unused_result));

/* Parse `len` bytes of the registry entry of medium `name` into `*out` (a
 * new reference): 0, or -EBADMSG unless its label is valid and named `name`,
 * `path` absolute, its times times, `verify_ok` a boolean and `held` a list
 * of {dataset, seq, uuid, finished}. A re-read state that bkp_reread_valid
 * refuses at `now` is dropped from the entry alone. Nothing is logged. */
int bkp_media_entry_parse(const void *buf, size_t len, const char *name, time_t now, json_t **out);

/* The registry entry of medium `name` into `*out` (a new reference; NULL
 * on failure): 0; -ENOENT when it is not registered; -EBADMSG or -EFBIG when
 * its entry is not valid (a warning says so, and the entry is ignored until
 * the next write replaces it); -EINVAL for a name no medium may have;
 * another negative errno (-EIO, -ENOMEM) when it cannot be read. */
int bkp_media_read(const bkp_repo *r, const char *name, json_t **out);

/* The same for readers to which "not registered", "not valid" and "cannot
 * be read" all mean "nothing known of it": NULL in each case. */
json_t *bkp_media_get(const bkp_repo *r, const char *name);

/* Every valid registry entry, sorted by name (an array; never NULL but on
 * ENOMEM); a file whose name or content is not an entry's is reported and
 * left out. */
json_t *bkp_media_list(const bkp_repo *r);

/* Read-modify-write the entry of `name` under the registry lock: `fn` gets
 * the entry (an empty object when new) and changes it in place; returning
 * non-zero leaves the registry unchanged. */
int bkp_media_update(bkp_repo *r, const char *name, int (*fn)(json_t *entry, void *ctx), void *ctx)
    __attribute__((warn_unused_result));
/* The same through a read-only handle: a check's note on a medium (when it
 * was seen and verified, a sample's state) is not the repository's content,
 * and a verify that reads a medium keeps it without opening the primary as
 * a writer (which would hold its writer's lock for the whole read, and run
 * the writer's clean-up on a folder that may be a medium's copy). With the
 * audit append (audit.h, bkp_audit_append_ro) and the sample state
 * (reread.h, bkp_reread_save_ro), one of the three writes a read handle may
 * make; each is under a lock of its own and written durably. */
int bkp_media_update_ro(const bkp_repo *r, const char *name, int (*fn)(json_t *entry, void *ctx),
                        void *ctx) __attribute__((warn_unused_result));

/* Remove medium `name` from the registry (it was relabelled or destroyed). */
int bkp_media_forget(bkp_repo *r, const char *name) __attribute__((warn_unused_result));

#endif
