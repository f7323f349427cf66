/*
 * filescache.h — remember what an unchanged file contained.
 *
 * An entry matches when the path, mode, device, inode, size, mtime and ctime
 * (nanoseconds) are all the same; then a file's chunk list is reused without
 * reading it, and a folder's or a file's extended attributes and ACLs are not
 * read when it had none. Stored per data set in cache/files-NAME (FORMAT.md
 * §8) as a stream of sealed segments in walk order (walk.h): a backup reads
 * the previous cache one segment at a time, merged with its walk, while it
 * writes the next one, so memory does not grow with the number of files and
 * the cache has no size limit short of the disk. Reading (up to two segments
 * ahead) and sealing run in a thread of their own each, beside the walk
 * (filescache.c); a reader or writer is used by one caller thread.
 *
 * Paths are patient data too: every segment is encrypted and authenticated,
 * bound to the data set, to the cache it belongs to and to its place in it;
 * a cache cut short ends with the last whole segment. A cache that cannot be
 * read only costs a full read, and says so (bkp_fcache_problem).
 *
 * A saved cache ends with a stamp: the index segments the index was made of
 * (filescache_stamp.c says why that is enough). While the index is still
 * made of all of them, the cache vouches for its chunk lists: an unchanged
 * file's chunks need no index lookup (bkp_fcache_vouches).
 */
#ifndef BKP_FILESCACHE_H
#define BKP_FILESCACHE_H

#include "bkp/store/tree.h"

typedef struct bkp_fstat {
    uint64_t dev, ino, size;
    int64_t mtime, ctime; /* nanoseconds */
    uint32_t mode;
} bkp_fstat;

/* What a file carried besides its stat and content. Changing any of it
 * changes the ctime, so an unchanged file without xattrs or ACLs needs no
 * more than a stat: its flags are taken from here. */
typedef struct bkp_fextra {
    bool ext; /* it has xattrs or ACLs (or this is not known): read them */
    uint64_t fflags_set, fflags_clear;
} bkp_fextra;
/* What entry `e` (read from disk) carries besides its stat. */
void bkp_fextra_of(struct archive_entry *e, bkp_fextra *x);

#define BKP_FCACHE_ID_LEN 16 /* the random name of one cache */

/* The previous capture's cache, read as the walk proceeds. */
typedef struct bkp_fcache bkp_fcache;

/* Open the data set's cache. Never fails for a missing or unreadable cache
 * (that is an empty one: see bkp_fcache_problem); `found` is whether it
 * could be read. */
int bkp_fcache_open(bkp_repo *r, const char *dataset, bkp_fcache **out, bool *found);
void bkp_fcache_free(bkp_fcache *c);
/*
 * Look `path` up; paths must come in walk order (a path out of order is
 * reported new). 1 when it is cached with the same `st`: a regular file's
 * chunks, sparse map and content hash are copied into `it` (when `it` is not NULL) and the
 * extras into `x` (never NULL); 0 when it is cached with another stat (it changed: a
 * regular file's former content hash goes to `old_content`); -ENOENT when it
 * is new. -ENOMEM when the chunks cannot be copied.
 */
int bkp_fcache_lookup(bkp_fcache *c, const char *path, const bkp_fstat *st, bkp_item *it,
                      uint8_t old_content[BKP_ID_LEN], bkp_fextra *x);
/* The cache's next entry, in walk order, for a reader apart from the one a
 * capture looks up in (a source server's agent is told what we hold): its
 * path (valid until the next call) and stat, and a regular file's chunks
 * into `it` (when not NULL). 1; 0 at the end; -ENOMEM. */
int bkp_fcache_next(bkp_fcache *c, const char **path, bkp_fstat *st, bkp_item *it);
/* Regular files of the cache never looked up: gone since it was written.
 * Reads the rest of the cache. */
uint64_t bkp_fcache_unseen(bkp_fcache *c);
/* NULL, or what made the cache unusable (past `found`) or cut its use short:
 * the operator is warned once (in the reader's language: _() of it), and it
 * is in the backup's figures (English, as returned). */
const char *bkp_fcache_problem(const bkp_fcache *c);
/* Whether every chunk of the entries the cache holds is still in the index
 * (its stamp matched at open): a hit needs no lookup. */
bool bkp_fcache_vouches(const bkp_fcache *c);

/* The next cache, written as the items of a capture leave, in walk order. */
typedef struct bkp_fcache_writer bkp_fcache_writer;
int bkp_fcache_writer_new(bkp_repo *r, const char *dataset, bkp_fcache_writer **out);
/* Add an entry (for a folder, `it` has no chunks). A regular file's
 * `it->content` is stored with it and handed back by the next lookup that
 * finds it unchanged instead of being recomputed, so it must be
 * bkp_item_content_hash of `st->size` and `it`'s chunks (the caller enters a
 * file whose size changed while it was read with timestamps no lookup
 * matches). An entry out of walk order, or too large for a segment, is left
 * out: that file is read again next time. Write errors are latched and
 * reported by commit. */
int bkp_fcache_add(bkp_fcache_writer *w, const char *path, const bkp_fstat *st, const bkp_item *it,
                   const bkp_fextra *x);
/* Publish the cache (durably, in place of the previous one) and free `w`.
 * A failure is logged with what it costs (the next backup reads every file),
 * and returned. */
int bkp_fcache_commit(bkp_fcache_writer *w);
/* Drop an unfinished cache: the previous one stays. */
void bkp_fcache_writer_free(bkp_fcache_writer *w);

/* filescache_stamp.c. Append the stamp of `r`'s index to cache `f` (none,
 * and 0, when the index cannot vouch now); an error is a write error. */
struct bkp_dfile;
int bkp_fcache_stamp_write(bkp_repo *r, const char *dataset,
                           const uint8_t cache_id[BKP_FCACHE_ID_LEN], struct bkp_dfile *f);
/* Whether the cache open as `fd` (`size` bytes, segments from `start`) ends
 * with a stamp of its own whose segments `r`'s index is still made of. */
bool bkp_fcache_stamp_holds(bkp_repo *r, const char *dataset,
                            const uint8_t cache_id[BKP_FCACHE_ID_LEN], int fd, uint64_t size,
                            uint64_t start);
/* The stamp's blob ID: the data set and the cache, in a domain of its own. */
void bkp_fcache_stamp_id(const char *dataset, const uint8_t cache_id[BKP_FCACHE_ID_LEN],
                         uint8_t out[BKP_ID_LEN]);
/* The same parse on the cache's bytes `buf` (`len`, segments from `start`):
 * 0 with `*names` (n of them, pointing into `plain`), -ENOENT when it ends
 * with no stamp, -EBADMSG when the stamp is not whole, its own, or sealed
 * under `k`. The fuzz target's door. */
int bkp_fcache_stamp_parse(const bkp_keys *k, const char *dataset,
                           const uint8_t cache_id[BKP_FCACHE_ID_LEN], const uint8_t *buf,
                           size_t len, size_t start, bkp_buf *plain,
                           const uint8_t (**names)[BKP_ID_LEN], uint32_t *n);

/* Check a decrypted segment (§8) completely before any of it is used: its
 * version (`version`, the one its file's magic names: 3 or 4), its index,
 * every entry's structure, and that paths rise in walk order, after `after`
 * (`alen` bytes; alen 0: the first segment). 0, with the entry count,
 * whether it is the final segment, and its last path (into `p`); -EBADMSG
 * otherwise. */
int bkp_fcache_segment_check(const uint8_t *p, size_t len, uint32_t version, uint64_t index,
                             const char *after, size_t alen, uint32_t *entries, bool *final,
                             const char **last, size_t *last_len);

#endif
