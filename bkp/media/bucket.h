/*
 * bucket.h — a repository copy in an S3 bucket with Object Lock: a medium
 * of type `object`.
 *
 * The bucket holds the layout of a disk medium, one object per file:
 *   BKP-LABEL                        the medium's label (label.h)
 *   repo/config, repo/keys/key       the repository's, byte for byte
 *   repo/packs/XX/ID                 packs, byte for byte (one name on every medium)
 *   repo/generations/DS/SEQ.gen      records, with their .cleared and the
 *   repo/generations/DS/SEQ.pruned   tombstones standing for those not copied
 *   repo/audit/primary.jsonl         the primary's audit log, a new version each time
 *   probe/canary-…                   the lock probes' canaries (ignored by readers)
 * There is no index: a copy fetched from the bucket indexes its packs from
 * their trailers. Nothing in the bucket is ever deleted or overwritten by a
 * rotation; a changed file (the audit copy, a re-labelled medium) becomes a
 * new version, and the old versions stay locked.
 *
 * Every object is uploaded with a retention (mode and retain-until date):
 * the server refuses to delete or shorten it before that date — in
 * COMPLIANCE mode whoever asks, root of the hospital and the credentials'
 * owner included. The order keeps a locked record from ever pointing at
 * something deletable:
 *  1. each pack a generation needs: uploaded when the bucket lacks it (the
 *     server checks Content-MD5, and its ETag must be our MD5), or its lock
 *     extended when it is there but locked for less than the generation;
 *  2. only when every pack is locked long enough: the records, tombstones
 *     and clearances, each locked until its generation's date;
 *  3. config, key file and label extended to the latest date of all;
 *  4. the audit log's copy, checked against the previous copy first.
 * A failure at any point leaves objects that are complete and locked, or
 * absent (an S3 upload appears whole or not at all); the next rotation
 * uploads what is still missing. No object needs deleting to finish or
 * undo a rotation: there are no lock files in the bucket.
 *
 * Whether the lock holds is never taken on trust: bkp_bucket_probe writes
 * a canary and tries to delete it.
 */
#ifndef BKP_BUCKET_H
#define BKP_BUCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/media/copy.h"
#include "bkp/media/label.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"
#include "bkp/s3/s3.h"

/* The key of a repository file `rel` in the bucket ("repo/" rel). */
#define BKP_BUCKET_REPO "repo/"

/* Check that the bucket keeps versions and has Object Lock (-ENOTSUP,
 * logged with how to make one that has), then write the medium's `label`,
 * the config and the key file of `r`, each locked (`mode`, `until`). A
 * bucket labelled for another repository is refused (-EEXIST), and one
 * labelled as another medium of this one unless `force`; not a label of
 * another repository that is a copy of `label` (its uuid), or one in front
 * of our registered label (`ours_behind`, bkp_bucket_find_label): those
 * were put in front by someone. `label` must name `r` (-EINVAL, not
 * logged: the caller checks the label it passes). `version`
 * (may be NULL) gets the version id the bucket gave the label: the registry
 * notes it, so that the label is found behind any number of versions put in
 * front of it (bkp_bucket_find_label). */
int bkp_bucket_label(bkp_repo *r, bkp_s3 *s, const bkp_label *label, bkp_s3_lock mode, time_t until,
                     bool force, bool ours_behind, char version[BKP_S3_VERSION_MAX + 1])
    __attribute__((warn_unused_result));

/* The label of the bucket: 0 with `*out`, -ENOENT when it has none,
 * -EBADMSG (logged) when it is not a valid label. */
int bkp_bucket_read_label(bkp_s3 *s, bkp_label *out) __attribute__((warn_unused_result));
/* The registered label `registered` through the label's versions: the
 * current one when it is ours (bkp_label_ours: naming `repository` and no
 * other key than `pk`, and that very label or its uuid signed by `pk`), else the version `version` the registry noted when it was
 * labelled (may be NULL), else the newest of ours among the newest versions
 * behind whatever was put in front (`*behind` then true: put it back in
 * front). The noted version is found however many versions were put in
 * front of it (each rotation extends its lock, so it cannot be deleted); a
 * registry without one looks at the newest BUCKET_FEW only. -ENOENT when
 * none of those is ours; else an S3 error (logged). */
int bkp_bucket_find_label(bkp_s3 *s, const bkp_label *registered, const uint8_t pk[32],
                          const char *repository, const char *version, bkp_label *out,
                          bool *behind)
    __attribute__((warn_unused_result));

/* Copy `gens` (sealed records of `src`) into the bucket as above; `until[i]`
 * is the retain-until date of `gens[i]`, `floor` the date of everything
 * else (tombstones, the audit copy), `mode` the lock. `tmpdir` holds a
 * working copy of the bucket's small objects for the time of the call.
 * `res` counts packs uploaded (and their bytes), packs present, locks
 * extended and records written. */
typedef struct bkp_bucket_result {
    bkp_copy_result copy;
    uint64_t extended; /* locks of objects already there, made longer */
    time_t until;      /* the latest retain-until of the copy */
} bkp_bucket_result;
int bkp_bucket_copy(bkp_repo *src, bkp_s3 *s, bkp_gen *const *gens, const time_t *until, size_t n,
                    bkp_s3_lock mode, time_t floor, const char *tmpdir, bkp_bucket_result *res)
    __attribute__((warn_unused_result));

/* Prune the bucket: generations `v[i]` (the working copy `copy`'s, from
 * bkp_bucket_fetch_meta opened writable as a copy) with `doomed[i]` are
 * deleted once every version of their record's files is unlocked at `now`
 * — the tombstone (locked until `floor`) uploaded first; then every pack
 * that no record left in the bucket lists in its signed SEQ.packs, once all
 * its versions are unlocked (none when a kept record has no list that
 * checks); then old probe canaries, and the versions of the audit copy
 * behind the current one once the current one is the working copy's (its
 * ETag the MD5 of those bytes). A version still locked is left and counted,
 * never asked to go. */
typedef struct bkp_bucket_prune_result {
    uint64_t generations;    /* records deleted, a tombstone in their place */
    uint64_t packs;          /* packs of which every version was deleted */
    uint64_t versions;       /* object versions deleted in all */
    uint64_t locked;         /* versions left because their lock has not passed */
    uint64_t audit_versions; /* superseded versions of the audit copy deleted */
    bool packs_kept_all;     /* a kept record has no list of its packs: none deleted */
} bkp_bucket_prune_result;
int bkp_bucket_prune(bkp_s3 *s, bkp_repo *copy, bkp_gen **v, const bool *doomed, size_t n,
                     time_t now, bkp_s3_lock mode, time_t floor, bkp_bucket_prune_result *res)
    __attribute__((warn_unused_result));

/* The bytes the bucket stores, every version of every object counted (the
 * medium is the whole bucket; what the clinic pays for: a version kept
 * under its lock counts until it goes; a delete marker counts nothing),
 * into `*bytes`, by one listing of versions: 0, or its error. */
int bkp_bucket_bytes(bkp_s3 *s, uint64_t *bytes) __attribute__((warn_unused_result));

/* What a probe found. */
typedef struct bkp_bucket_probe {
    bool proven; /* every attempt on the canary was refused */
    bool delete_refused, bypass_refused, shorten_refused, still_there;
    char key[128]; /* the canary */
    char version[BKP_S3_VERSION_MAX + 1];
    time_t until;      /* the canary's retain-until */
    char detail[1024]; /* what happened, in a sentence */
} bkp_bucket_probe;

/* Prove the lock: upload a canary locked (`mode`) for a day, then try to
 * delete that version, to delete it with the governance bypass, and to
 * shorten its retention; HEAD it after. `proven` only when the server
 * refused all three and the canary is still there. 0 when the probe ran
 * (whatever it found), else the error that stopped it (logged). */
int bkp_bucket_probe_lock(bkp_s3 *s, bkp_s3_lock mode, bkp_bucket_probe *out)
    __attribute__((warn_unused_result));

/*
 * What a copy fetched from a bucket is believed by (bucket_trust.c): one
 * rule. Anyone holding the bucket's credentials can put any number of
 * versions in front of ours, never take ours away; so
 *  1. the key: the primary's (`like`) when it is at hand; else the key named
 *     by the newest label, of the bucket's newest BKP_BUCKET_TRIES, that is
 *     signed by the key it names and that the sheets (`master`) or the
 *     passphrase open — the passphrase through the newest key file that key
 *     signed and that takes it. Only when no label is signed (an earlier bkp
 *     labelled the bucket) do the configs name the key, the same way.
 *  2. every small object: the newest of its newest BKP_BUCKET_TRIES versions
 *     that verifies under that key (bkp_bucket_verifies), and nothing else;
 *     the audit log's copy by its own rule (bkp_bucket_fetch_audit).
 * Packs are believed by their content (bkp_bucket_fetch_packs).
 */
#define BKP_BUCKET_TRIES 8
typedef struct bkp_bucket_trust {
    /* Given (borrowed): the primary, or the sheets' master secret, or the
     * passphrase; the registry's label of the medium when at hand. */
    const bkp_repo *like;
    const uint8_t *master;
    const char *pass;
    size_t plen;
    const bkp_label *registered;
    /* The key the person expects (typed from the key sheet), when `pinned`:
     * only that key is looked for. */
    bool pinned;
    uint8_t pin[32];
    /* Found by bkp_bucket_trust_find. */
    uint8_t pk[32];     /* the repository's signing key */
    char id[37];        /* its uuid */
    uint8_t rid[16];    /* the same, as bytes */
    const bkp_keys *keys; /* the primary's, or `own` */
    bkp_keys *own;
    uint8_t *key_file; /* the key file that took the passphrase */
    size_t key_len;
    bool by_label;   /* the key was named by a signed label (else a config) */
    bool config_mac; /* a config under the MAC names it: no format 2 one is taken */
} bkp_bucket_trust;
/* Step 1: 0 with the key found; -EKEYREJECTED (logged) when neither the
 * sheets nor the passphrase open any key a label or config names;
 * -EKEYREVOKED (logged) when `pinned` and none names that key (as a disk
 * under another key, the exit code of a wrong key); -ENOENT (logged) when
 * the bucket names none; -EINVAL with nothing to open it
 * with; else an S3 error. The fingerprint found is said, to compare with
 * paper. */
int bkp_bucket_trust_find(bkp_s3 *s, const char *medium, bkp_bucket_trust *t)
    __attribute__((warn_unused_result));
/* Step 2 for repository file `rel` (BKP_LABEL_FILE for the label), of
 * bytes `b`: the label the repository's (bkp_label_ours), naming it; the
 * config naming the key under the keys' MAC (format 3 and later); the key
 * file signed by it (the one that took the passphrase); a record signed by
 * it, of its kind, for the data set and sequence it is named for; the audit
 * copy always (bkp_bucket_fetch_audit checks its chain). */
bool bkp_bucket_verifies(const bkp_bucket_trust *t, const char *rel, const uint8_t *b, size_t len);
void bkp_bucket_trust_clear(bkp_bucket_trust *t);

/* Fetch the small objects of the bucket (label, config, key file, records,
 * tombstones, clearances, audit copy) into `dir` (an empty folder):
 * `dir`/BKP-LABEL and the repository copy `dir`/repo, still without packs,
 * each the newest version that verifies under `t` (found already). Every
 * key is checked against the layout and every size against its cap before
 * a byte is kept; anything else in the bucket is left alone (probe
 * canaries) or reported. `f` (may be NULL) lists what was hidden. */
typedef struct bkp_bucket_fetch bkp_bucket_fetch; /* below */
int bkp_bucket_fetch_meta(bkp_s3 *s, const char *dir, const bkp_bucket_trust *t,
                          bkp_bucket_fetch *f) __attribute__((warn_unused_result));

/* The bucket's copy of the primary's audit log (BKP_AUDIT_COPY), by one
 * rule. Every rotation writes it anew, so the bucket holds one version a
 * rotation, each the start of the next (but across an operator's restart,
 * bkp_audit_restart); anyone holding the credentials may put versions in
 * front (ours, older or cut short: a rollback; or their own), never take
 * ours away. So: of the versions that check under `pk`, the one that goes
 * furthest — of two, the longer where one continues the other, else the one
 * whose record where they part is a restart of the log, else the one whose
 * records reach the later signed time by more than a clock's tolerance
 * (else none can tell: two histories). The versions are read newest
 * first, each whole under its cap and checked as the bytes it is, but for
 * those whose ETag (the MD5 of a single-part upload) is the MD5 of the
 * start of a copy read that checks: older copies of it, which a rotation's
 * honest history is all made of. At most so many are read, and so many
 * bytes; those left are counted (`untried`), never taken for clean. 0 with
 * the bytes taken in `log` (malloc'd) and what was found in `out`; -ENOENT
 * (not logged) when the bucket holds no version; -EBADMSG (logged) when
 * none read checks; else an S3 error. Each version passed over is said;
 * the rest, bkp_bucket_audit_say. */
typedef enum bkp_bucket_audit_state {
    BKP_BUCKET_AUDIT_CURRENT,      /* the current version goes furthest */
    BKP_BUCKET_AUDIT_RESTARTED,    /* the same; an older history (`other`) before the restart
                                      it records where they part */
    BKP_BUCKET_AUDIT_ROLLED_BACK,  /* it checks, and a version behind it goes further */
    BKP_BUCKET_AUDIT_FORGED,       /* it does not check: the furthest that does is taken */
    BKP_BUCKET_AUDIT_OTHER_LONGER, /* taken; another history (`other`) checks too, and no
                                      restart where they part tells them apart */
    BKP_BUCKET_AUDIT_UNDECIDED,    /* taken, the furthest of those read; others were left
                                      unread (`untried`) */
} bkp_bucket_audit_state;
typedef struct bkp_bucket_audit {
    bkp_bucket_audit_state state;
    char version[BKP_S3_VERSION_MAX + 1]; /* the version taken */
    time_t written;                       /* its Last-Modified */
    uint64_t records;                     /* its records */
    char current[BKP_S3_VERSION_MAX + 1]; /* the current version (behind any delete marker) */
    time_t current_written;
    uint64_t current_records;           /* 0 when it does not check */
    bool hidden;                        /* a delete marker is in front of the current version */
    char other[BKP_S3_VERSION_MAX + 1]; /* another history that checks ("": none) */
    time_t other_written;
    uint64_t other_records;
    bool two_histories;   /* one that no restart where they part explains */
    size_t versions;      /* versions listed (not delete markers) */
    size_t tried, failed; /* read and checked; of which did not check */
    uint64_t untried;     /* neither read nor known to be older copies */
} bkp_bucket_audit;
int bkp_bucket_fetch_audit(bkp_s3 *s, const uint8_t pk[32], bkp_buf *log, bkp_bucket_audit *out)
    __attribute__((warn_unused_result));
/* The state's stable word, for --json ("current", "restarted",
 * "rolled_back", "forged", "two_histories", "undecided"). */
const char *bkp_bucket_audit_state_name(bkp_bucket_audit_state s);
/* Did someone with the credentials put anything there: a delete marker, a
 * rollback, a version that does not check, two histories, versions left
 * untried? */
bool bkp_bucket_audit_tampered(const bkp_bucket_audit *a);
/* Warn of what `a` found in front of the version taken (an older history
 * before a restart only at -v). Nothing when the current version was taken
 * as it is. */
void bkp_bucket_audit_say(const bkp_bucket_audit *a);

/* What fetching the packs found. */
struct bkp_bucket_fetch {
    uint64_t bytes, packs;
    /* Packs whose current version does not check: `stale[i]` was taken
     * from its older version `stale_version[i]` instead (`nstale`), or no
     * version checks (`damaged`, after them in the same arrays). */
    uint8_t (*bad)[BKP_ID_LEN];
    char (*bad_version)[BKP_S3_VERSION_MAX + 1]; /* "" for the damaged ones */
    size_t nstale, ndamaged;
    /* Small objects (label, config, key file, records…) whose current
     * version is a delete marker or not of its kind: an older one was used.
     * Their repository paths ("config", "keys/key", "generations/…"). */
    char (*hidden)[256];
    size_t nhidden;
};
void bkp_bucket_fetch_clear(bkp_bucket_fetch *f);

/* The packs some generations need, by hex ID, from their signed lists
 * (SEQ.packs) in a working copy: what a prune keeps, what a restore fetches. */
typedef struct bkp_bucket_packset {
    char (*v)[2 * BKP_ID_LEN + 1];
    size_t n, cap;
    bool sorted;
} bkp_bucket_packset;
/* Add the packs of generation `g` from its list in `copy`: all of them, or
 * none with -ENOENT (no list: rotated before lists were written) or
 * -EBADMSG (a list that does not check or names another record). */
int bkp_bucket_packset_add(bkp_repo *copy, const bkp_gen *g, bkp_bucket_packset *set)
    __attribute__((warn_unused_result));
/* Sort the set, each pack once. */
void bkp_bucket_packset_sort(bkp_bucket_packset *set);
/* Is pack `hex` in the set (sorted first)? */
bool bkp_bucket_packset_has(const bkp_bucket_packset *set, const char *hex);
void bkp_bucket_packset_free(bkp_bucket_packset *set);

/* Then its packs into `copy` (the repository opened at `dir`/repo): those
 * in `want` (sorted), or every one when `want` is NULL. Each is checked
 * whole (bkp_pack_check) before it is kept; a pack whose current version is
 * damaged or forged is taken from its newest older version that checks (a
 * warning says so). Both kinds are listed in `f`. The copy is reloaded
 * (its index rebuilt from the packs' trailers). */
int bkp_bucket_fetch_packs(bkp_s3 *s, bkp_repo *copy, const bkp_bucket_packset *want,
                           bkp_bucket_fetch *f) __attribute__((warn_unused_result));

/* Upload `src`'s config or key file (`rel`) as the current version in the
 * bucket, locked (`mode`) until `until`: the repair of a hidden or forged one. */
int bkp_bucket_put_file(bkp_s3 *s, bkp_repo *src, const char *rel, bkp_s3_lock mode, time_t until)
    __attribute__((warn_unused_result));

/* Upload pack `id` of `src` (a repository or a copy holding a good one) as
 * the current version of its key, locked (`mode`) until the later of
 * `until` and the retention of version `keep` (the good older version, may
 * be NULL or ""), once it is checked whole (bkp_pack_check): a damaged pack
 * is never locked into the bucket. Rotation uploads with it; so does the
 * repair of a pack damaged or forged there. `*bytes` (may be NULL) counts. */
int bkp_bucket_put_pack(bkp_s3 *s, bkp_repo *src, const uint8_t id[BKP_ID_LEN], const char *keep,
                        bkp_s3_lock mode, time_t until, uint64_t *bytes)
    __attribute__((warn_unused_result));

/* The JSON of a signed list of packs (SEQ.packs, FORMAT §9c), bytes already
 * authenticated: it must name `dataset`, `seq` and `record` (the record's
 * hash, hex); `fn` is called with each pack's hex ID (its non-zero return
 * stops and is returned). -EBADMSG when it is not such a list. */
int bkp_bucket_packs_parse(const uint8_t *text, size_t len, const char *dataset, uint32_t seq,
                           const char *record, int (*fn)(const char *hex, void *ctx), void *ctx);

#endif
