/*
 * repo_internal.h — the repository handle, shared by repo.c (create, open,
 * recover, close), repo_io.c (put, flush, get) and repo_public.c (opening
 * with the public key alone). Nothing else includes it.
 */
#ifndef BKP_REPO_INTERNAL_H
#define BKP_REPO_INTERNAL_H

#include <pthread.h>

#include "bkp/store/config.h"
#include "bkp/store/pack.h"
#include "bkp/store/repo.h"

#define MAX_OPEN_PACKS 256
#define MAX_WRITERS 32
#define MAX_FINISHING 4

/*
 * What reading a repository changes in its handle, and nothing else: the
 * lock that guards it, the index (a lookup through its tables keeps the
 * entry it found and the first error of a table), the cache of open pack
 * descriptors, the index segments found damaged, whether the segments
 * were checked already, and for a copy the UUID of its medium's label. A read through a `const bkp_repo *` may change these
 * through `mut` because each is memoisation of what is on disk: it never
 * writes the repository, and the same reads on a fresh handle give the same
 * answers. (The one file a read may leave behind is this host's
 * cache/index-checked, a list of segments already authenticated, which
 * only saves the next open some reading.) Everything a write changes —
 * the pack writers, the latched error, the tables' bookkeeping — stays in
 * struct bkp_repo, reachable only through a `bkp_repo *`.
 */
struct bkp_repo_mut {
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when puts reach 0, when quiesce ends, when a writer is free */
    bkp_index *index;
    int *fds;                   /* per pack number; -1 when closed */
    uint32_t fds_cap, fds_open;
    char **damaged;             /* index segments that failed to load or check */
    size_t ndamaged;
    bool checked;               /* the table's segments were authenticated */
    char *copy_memo;            /* bkp_repo_copy_memo: a copy's medium label UUID */
};

struct bkp_repo {
    char *path, *packs_dir, *index_dir;
    char *shown; /* bkp_repo_shown: how a person names it on a command line */
    char uuid[37];
    bkp_keys *keys;
    int slot;          /* the key slot that opened it, or -1 (sheets, or a copy) */
    char slot_id[17];  /* and its id */
    uint8_t slot_sealed[BKP_KEY_SEALED_LEN]; /* and its sealed secret, as it opened */
    bool key_file_unchecked; /* a copy whose key file would not open it alone */
    bool key_file_behind;    /* a copy whose key file is not the primary's as it is now */
    uint64_t keys_serial;    /* a copy opened to write: the list its key file holds now */
    bkp_chunker *chunker;
    unsigned flags;
    struct bkp_repo_mut *mut; /* owned; see above */
    /* One open pack per concurrent writer: the bytes are written outside the
     * lock. */
    struct {
        bkp_pack_writer *w;
        uint32_t num;
        bool busy;
    } writers[MAX_WRITERS];
    uint32_t first_new_pack; /* packs from here on still need an index segment */
    int err;                 /* latched: a pack failed to become durable */
    /* Packs being finished (fsync, rename) in the background, joined by flush. */
    pthread_t *finishing;
    size_t nfinishing, finishing_cap;
    uint8_t public_pk[32]; /* BKP_REPO_PUBLIC: the key given, checked against the config */
    /* The index off the heap (repo_index.c, index.h): the segments the
     * table was built from, and those whose entries are in memory. */
    uint8_t (*covered)[BKP_ID_LEN], (*in_memory)[BKP_ID_LEN];
    uint32_t ncovered, nin_memory, in_memory_cap;
    bool table_failed;          /* writing a table failed: memory grows instead */
    bool table_private;         /* another process changed the tables: ours stay in $TMPDIR */
    uint64_t index_max;         /* BKP_INDEX_MEMORY_MAX (tests set less) */
    int writers_max;            /* MAX_WRITERS (tests set less) */
    uint32_t segment_max;       /* BKP_INDEX_SEGMENT_ENTRIES (tests set less) */
    unsigned puts;              /* puts in flight */
    bool quiesce;               /* a put waits for the others to move the index to the table */
};

/* repo_index.c: load the index (table and segments) into r->index, which is
 * new and empty. Logged; -ENOMEM and the like (a bad table or segment is not
 * an error: it is rebuilt, or set aside). */
int bkp_repo_index_load(bkp_repo *r);
/* Note segment `name`, just written for entries in memory. */
int bkp_repo_index_wrote(bkp_repo *r, const char name[2 * BKP_ID_LEN + 1]);
/* After a flush, with no put in flight and the lock held: move the memory's
 * entries to a new table when there are more than the bound. Never fails the
 * caller (a table that cannot be written leaves the entries in memory). */
void bkp_repo_index_bound(bkp_repo *r);

/* repo_io.c: wait for packs being finished in the background. */
void bkp_repo_join_finishing(bkp_repo *r);

/* repo_keys.c: the keys of an open (logged; FORMAT §2). From the
 * passphrase and the key slots; from a master secret (sheets); and for a
 * copy, its key file compared with (`writable`: replaced by) the one of
 * `like`. `pk` is the config's sign_public. */
struct bkp_key_slots;
int bkp_repo_keys_load(bkp_repo *r, const char *pass, size_t passlen, const uint8_t pk[32]);
int bkp_repo_keys_master(bkp_repo *r, const uint8_t master[32], const uint8_t pk[32]);
int bkp_repo_keys_copy(bkp_repo *r, const bkp_repo *like, bool writable);
/* The other way round: `r` the primary, `copy` a copy of it (read-only). */
int bkp_repo_keys_of_copy(bkp_repo *r, const bkp_repo *copy);
/* Read the key file at `path` and check it (signature by `pk`, repository `uuid`). */
int bkp_repo_key_file_read(const char *path, const uint8_t pk[32], const char *uuid,
                           struct bkp_key_slots *out);

/* A handle for the repository at `path` (made absolute) with `flags`,
 * nothing read yet: what every open starts from. Logged; -ENOENT etc. */
int bkp_repo_alloc(const char *path, unsigned flags, bkp_repo **out);

/* repo_config.c. Once the key is open: the config's MAC (-EBADMSG, said,
 * when it does not match; a format 2 config has none), a copy's chunk-ID
 * function against its primary's `like` (may be NULL), and the function set
 * in the handle's keys. */
int bkp_repo_config_check(bkp_repo *r, const bkp_config *cfg, const bkp_buf *raw,
                          const bkp_repo *like);
/* Once the index is loaded, for a format 2 config of a repository opened on
 * its own (`primary`): its keyed BLAKE2b confirmed by a stored blob, or
 * -EBADMSG (said) when a blob shows HMAC-SHA-256; then, on a writable open,
 * the config rewritten as format 3. 0 otherwise. */
int bkp_repo_config_confirm(bkp_repo *r, const bkp_config *cfg, bool primary);

#endif
