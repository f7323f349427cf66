/*
 * repo.h — a content-addressed, encrypted object store in one directory.
 *
 *   config            JSON: format, version, repository ID, chunker sizes, signing key
 *   keys/key          the key slots: the master secret sealed under each
 *                     passphrase (Argon2id), signed (key_slots.h)
 *   keys/used         when each slot last opened it to write (informative)
 *   packs/XX/ID       immutable pack files
 *   index/ID          immutable index segments
 *   generations/DS/   sealed generation records of data set DS
 *   cache/            this host's files cache (encrypted)
 *   locks/            exclusive locks (prune)
 *
 * Adding objects takes no lock: they are content-addressed and immutable.
 * bkp_repo_put and bkp_repo_get may be called from several threads at once.
 *
 * A read-only handle is another type: what only reads takes a
 * `const bkp_repo *` (get, has, locate, the segment checks, the stamp),
 * what writes a `bkp_repo *` (put, flush, add_pack, the key file). A
 * restore holds the const one and cannot write by mistake. Reading still
 * changes caches inside the handle (the index's levels, open packs, the
 * damaged segments): memoisation, never a write of the repository
 * (repo_internal.h, struct bkp_repo_mut).
 *
 * A read through a const handle makes three writes, each a note of what was
 * read, never the repository's content, each under a lock of its own,
 * durable, and named _ro so that a search finds them all: the reader's
 * audit record (bkp_audit_append_ro, audit.h: append-only, the log's own
 * lock; refused on a copy on a medium, whose reads the program records
 * elsewhere), a check's note in a medium's registry entry
 * (bkp_media_update_ro, registry.h) and a re-read sample's state
 * (bkp_reread_save_ro, reread.h). No cast drops the const anywhere;
 * tests/unit/ro_handle_compile.c shows that a write through it does not
 * compile. A copy on a medium that a command reads is opened
 * BKP_REPO_READONLY, so a read never repairs it; only a rotation opens a
 * copy writable, and only `verify --repair-from` rewrites its packs.
 *
 * The opens, each ending in open_repo (repo.c): bkp_repo_alloc (absolute
 * path), the config, the keys (repo_keys.c: a passphrase opens the first
 * slot it can, keys/used marked on a writable open; bkp_repo_open_master
 * takes the secret from the key sheets and reads no key file), the config's
 * MAC and chunk-ID function (repo_config.c), the chunker, the clean-up pass
 * of a writable open (bkp_prune_recover, bkp_durable_cleanup), the index
 * (repo_index.c), orphan packs re-indexed, a format 2 config confirmed by a
 * stored blob (then upgraded on a primary's writable open), damaged
 * segments set aside. bkp_repo_open_copy first checks the copy's folders
 * (layout.h) and opens with the primary's keys: a writable open (a
 * rotation) replaces its key file unless the copy's list is newer
 * (-ESTALE); a read-only open accepts an older authentic list and marks
 * anything else (bkp_repo_key_file_unchecked, counted by verify).
 * bkp_repo_open_public (repo_public.c) reads the config and compares its
 * signing key with the pinned one: nothing decrypted, nothing written.
 */
#ifndef BKP_REPO_H
#define BKP_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/store/blob.h"
#include "bkp/store/chunker.h"
#include "bkp/store/index.h"
#include "bkp/store/pack.h"
#include "bkp/keys/keys.h"

typedef struct bkp_repo bkp_repo;

enum {
    BKP_REPO_READONLY = 1, /* never write: no clean-up pass, no index repair */
    BKP_REPO_COPY = 2,     /* set by bkp_repo_open_copy: a copy on a medium, not the primary */
    BKP_REPO_PUBLIC = 4,   /* set by bkp_repo_open_public: the public key only, no secret */
    /* A folder on a medium (set by bkp_repo_open_copy, given by whoever opens
     * a medium's folder with a passphrase or sheets): nothing under its
     * cache/ is opened, read, written or removed (FORMAT §5a). */
    BKP_REPO_MEDIUM = 8,
    /* Given by a caller that asks: to bkp_repo_open_copy, whether `path` is
     * a copy of `like` (another repository's -EXDEV is its answer, not
     * logged; the same UUID under another key is, as always); to
     * bkp_repo_open, whether the passphrase opens it (-EKEYREJECTED, not
     * logged). */
    BKP_REPO_ASKING = 16,
    /* Set by bkp_repo_open_primary_of: the primary, opened with the keys of
     * a copy of it. */
    BKP_REPO_OF_COPY = 32,
};

/* Create a repository at `path` (absent or an empty directory). Refuses a
 * passphrase shorter than BKP_PASSPHRASE_MIN characters with -EINVAL. Its
 * chunk IDs are HMAC-SHA-256 where that is clearly faster on this machine
 * (bkp_prim_hmac_sha256_faster), else keyed BLAKE2b; bkp_repo_init_ids
 * takes the choice. It is fixed for the repository's life (FORMAT §2). */
int bkp_repo_init(const char *path, const char *pass, size_t passlen)
    __attribute__((warn_unused_result));
int bkp_repo_init_ids(const char *path, const char *pass, size_t passlen, bkp_id_hash id_hash)
    __attribute__((warn_unused_result));

/* Open: read the config and key file, load the index, and (unless READONLY)
 * run the start-up clean-up pass. Logs what is wrong and what to do. */
int bkp_repo_open(const char *path, const char *pass, size_t passlen, unsigned flags,
                  bkp_repo **out) __attribute__((warn_unused_result));
/* The same with the master secret instead of the passphrase (typed back
 * from a paper sheet or combined from share sheets): the key file is not
 * read. -EKEYREJECTED (logged) when the secret's public key is not the config's:
 * sheets of another repository, mistyped, or of two different splits. The
 * caller keeps `master` in guarded memory and wipes it. */
int bkp_repo_open_master(const char *path, const uint8_t master[32], unsigned flags,
                         bkp_repo **out) __attribute__((warn_unused_result));
/* Load the index again from the segments (after a prune changed them), when
 * no put is in flight. */
int bkp_repo_reload(bkp_repo *r) __attribute__((warn_unused_result));
/* Open the repository copy at `path` (on a medium) with the keys of `like`:
 * -EXDEV (logged, unless BKP_REPO_ASKING) when it is not a copy of that
 * repository. */
int bkp_repo_open_copy(const char *path, const bkp_repo *like, unsigned flags, bkp_repo **out)
    __attribute__((warn_unused_result));
/* Open read-only the primary repository at `path` with the keys of `copy`,
 * a copy of it opened first (a disk read where its repository is): for the
 * record of what was done with the copy. -EXDEV (not logged) when `path`
 * holds another repository. The primary's list of key slots is as new as
 * any copy's or newer: a copy's list is of its last rotation, and a key
 * changed since leaves it behind until the next one. A primary's list
 * older than the copy's was put back (-ESTALE, said). */
int bkp_repo_open_primary_of(const char *path, const bkp_repo *copy, bkp_repo **out)
    __attribute__((warn_unused_result));
/* Start a copy of `like` at `path` (absent or empty): its config and sealed
 * key file, so the copy alone and the passphrase open it. */
int bkp_repo_init_copy(const bkp_repo *like, const char *path) __attribute__((warn_unused_result));
/* The folders of the layout under `path` (existing ones are fine): for a
 * copy assembled from elsewhere (an archive, a bucket). */
int bkp_repo_make_folders(const char *path) __attribute__((warn_unused_result));
/*
 * Open the repository at `path` with its public key alone (repo_public.c),
 * for an auditor who holds no secret: no key file and no passphrase is
 * read, nothing is written, nothing can be decrypted. The config's
 * `sign_public` must be `pk`, the key the auditor pinned off the machine:
 * -EKEYREJECTED (logged) when it is not — another repository, or a host
 * whose config and key file were swapped. -ENOENT (logged) no repository
 * there; -EBADMSG, -EPROTO a config this bkp does not read. The handle can
 * list and check what the key signed (generation records, tombstones,
 * clearances, pins, the audit log and its head marker: bkp_repo_sign_pk);
 * bkp_repo_keys returns NULL for it, and has no index: handing it to
 * anything that reads or writes objects is a programming error.
 */
int bkp_repo_open_public(const char *path, const uint8_t pk[32], bkp_repo **out)
    __attribute__((warn_unused_result));
/* Was `r` opened with the public key alone? */
bool bkp_repo_is_public(const bkp_repo *r);
/* The Ed25519 public key that every signature of `r` is checked with: the
 * config's, which the key file's matches for a repository opened with it. */
const uint8_t *bkp_repo_sign_pk(const bkp_repo *r);

/* Abandon unfinished packs (they were never referenced) and free. */
void bkp_repo_free(bkp_repo *r);

const char *bkp_repo_path(const bkp_repo *r);
/* How a person names `r` on a command line, for the hints of messages
 * (`bkp generations %s` lists them): "--repo PATH", unless the one who
 * opened it said otherwise with bkp_repo_set_shown ("--from cloud --policy
 * recovery.yaml" for a copy fetched from a bucket into a folder that is
 * gone when the command ends). 0 or -ENOMEM. */
const char *bkp_repo_shown(const bkp_repo *r);
int bkp_repo_set_shown(bkp_repo *r, const char *args);
/* Was `r` opened as a copy (bkp_repo_open_copy)? Decided by the caller that
 * opened it, never by what the folder holds: a primary cannot be made to
 * pass for a copy by planting files in it (generation.h, tombstones). */
bool bkp_repo_is_copy(const bkp_repo *r);
/* What `find` answers for copy `r` (a malloc'd string, or NULL), asked once
 * per handle: the first answer that is not NULL is kept in the handle and a
 * copy of it returned by every later call (malloc'd; NULL on -ENOMEM). For
 * the label of the medium a copy is on (generation.h, bkp_gen_copy_medium),
 * which no command changes while it holds the copy open. `find` must not
 * call back into this function for `r`. */
char *bkp_repo_copy_memo(const bkp_repo *r, char *(*find)(const bkp_repo *r));
const char *bkp_repo_uuid(const bkp_repo *r);
const bkp_keys *bkp_repo_keys(const bkp_repo *r);

/* A copy opened read-only whose own key file is missing, damaged or not
 * this repository's: it was read with the primary's keys, but would not
 * open on its own with a passphrase (verify reports it). */
bool bkp_repo_key_file_unchecked(const bkp_repo *r);
/* A copy opened read-only whose key file is not the primary's as it is now
 * (an older list of key slots, or one unchecked): a retired passphrase may
 * still open it until a rotation brings it up to date. */
bool bkp_repo_key_file_behind(const bkp_repo *r);
/* A copy opened to write (a rotation): the serial of the list of key slots
 * its key file holds, the primary's when it was opened; 0: unknown. A key
 * change after that open leaves the copy behind, whatever the rotation's
 * record says of its time. */
uint64_t bkp_repo_copy_keys_serial(const bkp_repo *r);

struct bkp_key_slots;
/* The repository's key slots, as its key file holds them now (checked as
 * an open checks them), with their last use. Logged; -EBADMSG, -ENOENT. */
int bkp_repo_key_slots(const bkp_repo *r, struct bkp_key_slots *out)
    __attribute__((warn_unused_result));
/* Replace the key file with `s`, signed (durably: the old list or the new
 * one survives a crash). The caller holds the repository's "keys" lock
 * and read `s` under it, so no other change of the list is lost. Logged. */
int bkp_repo_key_slots_store(bkp_repo *r, const struct bkp_key_slots *s)
    __attribute__((warn_unused_result));
/* The slot of `s` that the repository was opened with: its index; -ENOENT
 * when it was opened with key sheets or is a copy; -ESTALE when that slot
 * is no longer in `s` as it was (removed, or its passphrase changed since). */
int bkp_repo_key_slot_in(const bkp_repo *r, const struct bkp_key_slots *s);
const bkp_chunker *bkp_repo_chunker(const bkp_repo *r);
/* `sub` below the repository (malloc'd). */
char *bkp_repo_subpath(const bkp_repo *r, const char *sub);

/*
 * Store `data` as a blob of `type` unless a blob with its ID exists.
 * `id` receives the ID; `*added` (may be NULL) is set to the sealed bytes
 * written (0 when deduplicated). Thread-safe.
 */
int bkp_repo_put(bkp_repo *r, uint8_t type, const void *data, size_t len, uint8_t id[BKP_ID_LEN],
                 uint64_t *added) __attribute__((warn_unused_result));
/* The same, compressed as `comp` says (blob.h; bkp_repo_put: BKP_COMP_DEFAULT,
 * LZ4): each capture its own data set's choice, several at once. */
int bkp_repo_put_as(bkp_repo *r, bkp_comp comp, uint8_t type, const void *data, size_t len,
                    uint8_t id[BKP_ID_LEN], uint64_t *added) __attribute__((warn_unused_result));
/* Make every blob put so far durable: finish packs, write an index segment.
 * Thread-safe: puts of other threads wait for it, those in flight end first. */
int bkp_repo_flush(bkp_repo *r) __attribute__((warn_unused_result));

/* Index pack `id`, already durable in packs/ (a copy, or one found without a
 * segment), with the blobs of its trailer; the next flush writes its segment. */
int bkp_repo_add_pack(bkp_repo *r, const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *ents,
                      uint32_t n) __attribute__((warn_unused_result));
/* Is blob `id` stored (or being stored by this process: a blob put but not
 * yet flushed counts, though bkp_repo_get cannot read it before the flush)? */
bool bkp_repo_has(const bkp_repo *r, const uint8_t id[BKP_ID_LEN]);
/* Fetch, authenticate, decompress, and check the plaintext against its ID.
 * -ENODATA missing (not indexed or pack gone), -EBADMSG corrupt. Thread-safe. */
int bkp_repo_get(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN], bkp_buf *out)
    __attribute__((warn_unused_result));
/* The same, on the blob's tag alone: its AEAD, under the repository key,
 * binds the plaintext to its type and ID, so only a writer holding the key
 * could have sealed other bytes under that ID. Hashing the plaintext again
 * (two thirds of a restore's CPU) is left to `verify --read-data` and to
 * reading restored files back (`restore --verify`, drills). */
int bkp_repo_get_sealed(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN], bkp_buf *out)
    __attribute__((warn_unused_result));
/* How blob `id` is compressed (bkp_blob_comp_of), its tag checked and
 * nothing decompressed: what `prune --recompress` asks of each blob. */
int bkp_repo_comp_of(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN],
                     bkp_comp_kind *kind) __attribute__((warn_unused_result));
/* Where blob `id` lives; -ENOENT if unknown. */
int bkp_repo_locate(const bkp_repo *r, const uint8_t id[BKP_ID_LEN], uint8_t pack[BKP_ID_LEN],
                    bkp_index_entry *entry);
const bkp_index *bkp_repo_index(const bkp_repo *r);
/* Entries per index segment this handle writes: BKP_INDEX_SEGMENT_ENTRIES
 * (index.h), less in tests. */
uint32_t bkp_repo_segment_entries(const bkp_repo *r);
/* Read and check the index segments the blob index table holds (index.h),
 * which the open does not load: with `all` every one (verify), else those
 * whose file changed since one was last found good (index_checked.h). The
 * damaged ones join the list below. One segment in memory at a time.
 * 0, -ENOMEM. */
int bkp_repo_check_segments(const bkp_repo *r, bool all) __attribute__((warn_unused_result));
/* Index segments that failed to load on open (their packs were re-indexed),
 * or a check. */
size_t bkp_repo_damaged_segments(const bkp_repo *r);
const char *bkp_repo_damaged_segment(const bkp_repo *r, size_t i);
/* The index segments the index is made of now, sorted (allocated), for a
 * files cache to record; -EAGAIN when it cannot vouch for the index: a pack
 * no segment names yet (before a flush), a write error, or a segment found
 * damaged in this open. */
int bkp_repo_index_stamp(const bkp_repo *r, uint8_t (**names)[BKP_ID_LEN], uint32_t *n);
/* Whether the index is still made of every segment in `names` (a stamp of
 * an earlier open), none damaged: then it still holds every entry it held. */
bool bkp_repo_index_holds(const bkp_repo *r, const uint8_t (*names)[BKP_ID_LEN], uint32_t n);

#endif
