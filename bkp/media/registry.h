/*
 * registry.h — the registry of media in the primary repository: one entry
 * per medium, REPO/media/NAME.json (FORMAT.md §9c): its label, where it was
 * last seen, when it was labelled, seen, written and verified, the
 * generations it holds, and what a kind of medium notes besides (a
 * bucket's lock probe and where its label is, a kit's fingerprint, the
 * re-read sample's state).
 *
 * An entry is a typed value inside the program; this file is its one codec
 * (bkp_media_entry_parse, bkp_media_entry_json) and its store. Updates are
 * read-modify-write under an flock on media/.lock, each a durable replace.
 * The registry is a catalog, rebuilt by the next rotation; the signed audit
 * log is the tamper-evident history.
 */
#ifndef BKP_REGISTRY_H
#define BKP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/audit/reread.h"
#include "bkp/media/label.h"
#include "bkp/s3/s3.h"
#include "bkp/store/repo.h"

/* A generation a medium holds. */
typedef struct bkp_media_held {
    char dataset[BKP_MEDIUM_NAME_MAX + 1];
    uint32_t seq;
    char uuid[37];
    char finished[32]; /* the end of its capture, as its record says it */
} bkp_media_held;

/* The last lock probe of an object medium. */
typedef struct bkp_media_probe {
    time_t when; /* 0: never probed */
    bool proven;
    char *detail; /* what was tried and seen (English), or NULL */
} bkp_media_probe;

/* The verdict of the last verification of a medium's copy. */
typedef enum bkp_media_verified {
    BKP_MEDIA_NEVER = 0,
    BKP_MEDIA_VERIFIED,
    BKP_MEDIA_FAILED,
} bkp_media_verified;

/* How a disk's last rotation left its sealed files ("sealed"): read-only
 * by their mode, and immutable too where the file system takes it. */
typedef enum bkp_media_sealed {
    BKP_SEALED_UNKNOWN = 0, /* not said: not a disk, or written by a bkp before */
    BKP_SEALED_MODE,        /* "mode": read-only by their mode alone */
    BKP_SEALED_IMMUTABLE,   /* "immutable": and the immutable attribute set */
} bkp_media_sealed;

/* The last rotation to a medium that began to copy: noted as it begins and
 * again as it ends, so that one which never ended (killed, the server
 * stopped) is told apart from one that failed and one that worked. */
typedef struct bkp_media_attempt {
    time_t began;      /* 0: none noted */
    time_t ended;      /* 0: not ended — still running (its process alive) or cut off */
    bool failed;       /* ended without the medium counting as written */
    bool full;         /* failed because the medium was full ("full": true) */
    bool pruned_first; /* and its retention had been applied before the copy ("pruned_first") */
    long pid;          /* the rotating process, on `host` */
    char host[65];
    char why[256];    /* when failed: why, in English as the audit record says it; "" unsaid */
    char why_ja[512]; /* the same in Japanese; "" unsaid */
} bkp_media_attempt;

typedef struct bkp_media_entry {
    bkp_label label;     /* version 0 only in a new entry being updated */
    char *path;          /* where it was last seen; NULL for a bucket */
    time_t labelled, last_seen, last_write, last_verify; /* 0: never */
    bkp_media_verified verify;
    bkp_media_held *held; /* what the copy holds, n_held of them */
    size_t n_held;
    bool held_known;      /* the list was ever made */
    bkp_media_probe probe;
    char label_version[BKP_S3_VERSION_MAX + 1]; /* where a bucket's label is; "" unknown */
    char kit_sha256[65];                        /* the recovery kit's fingerprint; "" none */
    uint64_t bytes;    /* what it held after its last rotation, in bytes; 0: not measured */
    /* A disk: its file system's free bytes after that rotation, beside what
     * a rotation to it copies ("free_after", "wrote": that rotation's copy,
     * or after a first copy what one interval of backups adds,
     * ops_rotate_next_copy); `has_free` false: not said. */
    bool has_free;
    uint64_t free_after, wrote;
    bkp_media_sealed sealed; /* how that rotation left its sealed files */
    bkp_reread reread; /* the re-read sample's state; empty when none */
    bkp_media_attempt attempt;
} bkp_media_entry;

/* Free what `e` holds and empty it (not `e` itself). */
void bkp_media_entry_clear(bkp_media_entry *e);
/* Free a list of `n` entries (bkp_media_list). */
void bkp_media_entries_free(bkp_media_entry *v, size_t n);

/* Parse `len` bytes of the registry entry of medium `name` into `*out`: 0,
 * or -EBADMSG unless its label is valid and named `name`, `path` absolute,
 * its times times, `verify_ok` a boolean and `held` a list of {dataset,
 * seq, uuid, finished}; -ENOMEM. A re-read state that bkp_reread_parse
 * would refuse at `now`, a `label_version`, `kit_sha256`, `bytes`, `probe` or
 * `attempt` out of shape is dropped alone; other keys are ignored. Nothing is logged. */
int bkp_media_entry_parse(const void *buf, size_t len, const char *name, time_t now,
                          bkp_media_entry *out);
/* `e` as its JSON (a new reference, NULL without memory): the registry
 * file, and what `bkp media --json` shows. */
json_t *bkp_media_entry_json(const bkp_media_entry *e);

/* The registry entry of medium `name` into `*out`: 0; -ENOENT when it is
 * not registered; -EBADMSG or -EFBIG when its entry is not valid (a warning
 * says so, and the entry is ignored until the next write replaces it);
 * -EINVAL for a name no medium may have; another negative errno (-EIO,
 * -ENOMEM) when it cannot be read. `*out` is empty unless 0. */
int bkp_media_read(const bkp_repo *r, const char *name, bkp_media_entry *out);

/* The same for readers to which "not registered", "not valid" and "cannot
 * be read" all mean "nothing known of it": a new entry, NULL in each case
 * (bkp_media_free). */
bkp_media_entry *bkp_media_get(const bkp_repo *r, const char *name);
void bkp_media_free(bkp_media_entry *e);

/* Every valid registry entry, sorted by name: 0 with `*out` (`*n` of
 * them, NULL when none; bkp_media_entries_free), or -ENOMEM, or the error
 * of a registry folder that cannot be read (not "no media"). A file whose
 * name or content is not an entry's is reported and left out. */
int bkp_media_list(const bkp_repo *r, bkp_media_entry **out, size_t *n);

/* Read-modify-write the entry of `name` under the registry lock: `fn` gets
 * the entry (empty, label version 0, when new) and changes it in place;
 * returning non-zero leaves the registry unchanged. An entry left without
 * a label (a note on a medium never labelled) is not written: 0. One whose
 * label names another medium is refused: -EINVAL. */
typedef int (*bkp_media_update_fn)(bkp_media_entry *e, void *ctx);
int bkp_media_update(bkp_repo *r, const char *name, bkp_media_update_fn fn, void *ctx)
    __attribute__((warn_unused_result));
/* The same through a read-only handle: a check's note on a medium (when it
 * was seen and verified, a sample's state) is not the repository's content,
 * and a verify that reads a medium keeps it without opening the primary as
 * a writer (which would hold its writer's lock for the whole read, and run
 * the writer's clean-up on a folder that may be a medium's copy). With the
 * audit append (audit.h, bkp_audit_append_ro) and the sample state
 * (reread.h, bkp_reread_save_ro), one of the three writes a read handle may
 * make; each is under a lock of its own and written durably. */
int bkp_media_update_ro(const bkp_repo *r, const char *name, bkp_media_update_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/* What a medium holds, as the registry and --json list it: [{dataset,
 * seq, uuid, finished}] (a new array; NULL without memory). */
json_t *bkp_media_held_json(const bkp_media_held *v, size_t n);

/* Replace what `e` holds by `v` (n, copied): 0 or -ENOMEM. */
int bkp_media_entry_set_held(bkp_media_entry *e, const bkp_media_held *v, size_t n);
/* Add `v` (n) to what `e` holds, one it holds already (same data set and
 * seq) replaced by the new one: 0 or -ENOMEM. */
int bkp_media_entry_add_held(bkp_media_entry *e, const bkp_media_held *v, size_t n);

/* Remove medium `name` from the registry (it was relabelled or destroyed). */
int bkp_media_forget(bkp_repo *r, const char *name) __attribute__((warn_unused_result));

/* The label for a medium labelled anew, `old` being the label found on it
 * (NULL: none), into `*out`: 0 or -EINVAL. A disk whose label is the one
 * the registry of `r` holds for the medium it names (and for no other)
 * keeps its identity (`uuid`) under its new name, type and location: the
 * copy on it holds tombstones bound to that identity (tombstone.c: a "not
 * copied" tombstone counts only on the medium it names), and a fresh one
 * would make every such record look planted from another medium. The
 * caller then forgets the old name, so no two media share an identity.
 * Anything else — no label, another repository's, one copied from another
 * disk or planted, an identity the registry does not hold for that name —
 * gets a fresh identity, as bkp_label_make. */
int bkp_label_renew(bkp_repo *r, const bkp_label *old, const char *name, const char *type,
                    const char *location, bkp_label *out);

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

/* Judge `label` in that order, the first that applies: the one place where
 * a label is held against a medium's name, the repository, its key and the
 * registry. Pure: nothing read, nothing logged (ops/medium_check.h says
 * what to do). */
bkp_label_verdict bkp_label_judge(const bkp_repo *r, const bkp_label *label, const char *name,
                                  const bkp_media_entry *entry);

#endif
