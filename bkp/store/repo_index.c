/*
 * The repository's index, mostly off the heap: which table to trust, which
 * segments to load into memory, and when to move the memory to a new table.
 * index.h says how the pieces fit, itable.h why a table from the cache
 * folder cannot make a missing blob look stored.
 */
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/store/index_checked.h"
#include "bkp/store/itable.h"
#include "bkp/store/itable_levels.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"

static int cmp_name(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

static int push_name(uint8_t (**v)[BKP_ID_LEN], uint32_t *n, uint32_t *cap,
                     const uint8_t name[BKP_ID_LEN])
{
    if (*n == *cap) {
        uint32_t c = *cap ? 2 * *cap : 64;
        void *p = realloc(*v, (size_t)c * BKP_ID_LEN);
        if (!p)
            return -ENOMEM;
        *v = p;
        *cap = c;
    }
    memcpy((*v)[(*n)++], name, BKP_ID_LEN);
    return 0;
}

/* The names of the segments in index/, sorted. */
static int list_segments(bkp_repo *r, uint8_t (**out)[BKP_ID_LEN], uint32_t *n)
{
    uint8_t(*v)[BKP_ID_LEN] = NULL;
    uint32_t cnt = 0, cap = 0;
    int rc = 0;
    DIR *d = opendir(r->index_dir);
    struct dirent *e;
    if (!d) {
        rc = -errno;
        bkp_error(_("cannot read %s: %s"), r->index_dir, bkp_strerror(rc));
        return rc;
    }
    while (!rc && (e = readdir(d))) {
        uint8_t id[BKP_ID_LEN];
        if (bkp_unhex(id, BKP_ID_LEN, e->d_name) == 0) /* else temporary or set aside */
            rc = push_name(&v, &cnt, &cap, id);
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, BKP_ID_LEN, cmp_name);
    *out = v;
    *n = cnt;
    return 0;
}

/* Does this open keep its table in the repository's cache folder? */
static bool table_in_cache(const bkp_repo *r)
{
    return !(r->flags & (BKP_REPO_READONLY | BKP_REPO_COPY | BKP_REPO_MEDIUM));
}

/* Hold cache/index-lock: the manifest and the tables change only under
 * it, so that an open never takes a table being written for an orphan.
 * The descriptor, or -1 (a read-only open where there is none, or a lock
 * that cannot be taken: then only a concurrent writer could make this
 * open rebuild, never lose an entry). Only a writer of tables creates the
 * file: a repository that never had one has no tables to guard. A folder
 * on a medium has no writer of tables to wait for, and a medium is not
 * trusted: its lock is never opened (a FIFO planted there would hang the
 * open), and elsewhere only a regular file is, without following a link. */
static int cache_lock(const bkp_repo *r, bool create)
{
    char *p = bkp_repo_subpath(r, "cache/" BKP_ITABLE_LOCK);
    int fd = -1;
    if (p && create && table_in_cache(r)) {
        fd = bkp_lock_file(p);
    } else if (p && !(r->flags & BKP_REPO_MEDIUM) && (fd = bkp_open_regular(p)) >= 0 &&
               bkp_lock_fd(fd, true)) {
        close(fd);
        fd = -1;
    }
    free(p);
    return fd < 0 ? -1 : fd;
}

static void cache_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* r->covered: the segments of every table, sorted, without repeats. */
static int set_covered(bkp_repo *r)
{
    uint32_t nl = bkp_index_levels(r->mut->index), n = 0, cap = 0;
    uint8_t(*v)[BKP_ID_LEN] = NULL;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < nl; i++) {
        const uint8_t(*names)[BKP_ID_LEN];
        uint32_t k;
        bkp_index_level_names(r->mut->index, i, &names, &k);
        for (uint32_t j = 0; !rc && j < k; j++)
            rc = push_name(&v, &n, &cap, names[j]);
    }
    if (rc) {
        free(v);
        return rc;
    }
    if (n)
        qsort(v, n, BKP_ID_LEN, cmp_name);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!k || memcmp(v[k - 1], v[i], BKP_ID_LEN))
            memmove(v[k++], v[i], BKP_ID_LEN);
    free(r->covered);
    r->covered = v;
    r->ncovered = k;
    return 0;
}

/* Does the manifest in `dir` list exactly the tables in use? (No manifest
 * lists none.) */
static bool manifest_is_ours(const bkp_repo *r, const char *dir, const uint8_t key[32])
{
    bkp_itable_level *v = NULL;
    uint32_t n = 0;
    int rc = bkp_itable_manifest_load(dir, key, &v, &n);
    bool same = rc == -ENOENT || (!rc && n == bkp_index_levels(r->mut->index));
    for (uint32_t i = 0; !rc && same && i < n; i++) {
        uint8_t tid[16];
        bkp_index_level_id(r->mut->index, i, tid);
        same = !memcmp(tid, v[i].tid, 16) && v[i].count == bkp_index_level_count(r->mut->index, i);
    }
    free(v);
    return same;
}

/* The manifest for the tables in use, durably (itable_levels.h). */
static int save_manifest(const bkp_repo *r, const char *dir, const uint8_t key[32])
{
    bkp_itable_level v[BKP_ITABLE_LEVELS_MAX];
    uint32_t n = bkp_index_levels(r->mut->index);
    if (n > BKP_ITABLE_LEVELS_MAX)
        return -E2BIG;
    for (uint32_t i = 0; i < n; i++) {
        bkp_index_level_id(r->mut->index, i, v[i].tid);
        v[i].count = bkp_index_level_count(r->mut->index, i);
    }
    return bkp_itable_manifest_save(dir, key, v, n);
}

/* Open table `lv` of the manifest in `dir`: 0, -ENOENT gone, -EBADMSG (a
 * table that does not check, or whose ID or count is not the manifest's). */
static int open_level(const char *dir, const uint8_t key[32], const bkp_itable_level *lv,
                      bkp_itable **t, uint8_t (**packs)[BKP_ID_LEN], uint32_t *np,
                      uint8_t (**cov)[BKP_ID_LEN], uint32_t *nc)
{
    char name[BKP_ITABLE_NAME_LEN];
    uint8_t tid[16];
    bkp_itable_name(lv->tid, name);
    char *p = bkp_path_join(dir, name);
    int fd = p ? bkp_open_regular(p) : -ENOMEM;
    free(p);
    int rc = fd < 0 ? fd : bkp_itable_open(fd, key, t, packs, np, cov, nc);
    if (rc)
        return rc == -ENOENT || rc == -ENOMEM || rc == -EBADMSG ? rc : -EBADMSG;
    bkp_itable_id(*t, tid);
    if (!memcmp(tid, lv->tid, 16) && bkp_itable_count(*t) == lv->count)
        return 0;
    bkp_itable_free(*t);
    free(*packs);
    free(*cov);
    return -EBADMSG;
}

/* Is every name of `cov` among the segments `names` (sorted)? */
static bool all_listed(const uint8_t (*cov)[BKP_ID_LEN], uint32_t nc,
                       const uint8_t (*names)[BKP_ID_LEN], uint32_t n)
{
    for (uint32_t i = 0; i < nc; i++)
        if (!n || !bsearch(cov[i], names, n, BKP_ID_LEN, cmp_name))
            return false;
    return true;
}

/* The tables of the manifest into the index, all or none: 1 used, 0 none
 * (no manifest, or refused: said why), -ENOMEM. */
static int load_levels(bkp_repo *r, const char *dir, const uint8_t key[32],
                       const uint8_t (*names)[BKP_ID_LEN], uint32_t n)
{
    bkp_itable_level *v = NULL;
    uint32_t nv = 0;
    char *mpath = bkp_path_join(dir, BKP_ITABLE_MANIFEST);
    int rc = mpath ? bkp_itable_manifest_load(dir, key, &v, &nv) : -ENOMEM;
    if (rc == -ENOENT || rc == -ENOMEM) { /* none: built without a word */
        free(mpath);
        return rc == -ENOMEM ? rc : 0;
    }
    if (rc)
        bkp_warn(_("the blob index table %s does not check (%s): it was changed, cut short or "
                   "is another repository's; it is rebuilt from the index segments"),
                 mpath, bkp_strerror(rc));
    for (uint32_t i = 0; !rc && i < nv; i++) {
        bkp_itable *t = NULL;
        uint8_t(*packs)[BKP_ID_LEN] = NULL, (*cov)[BKP_ID_LEN] = NULL;
        uint32_t np = 0, nc = 0;
        char name[BKP_ITABLE_NAME_LEN];
        bkp_itable_name(v[i].tid, name);
        rc = open_level(dir, key, &v[i], &t, &packs, &np, &cov, &nc);
        if (rc == -ENOENT)
            bkp_warn(_("the blob index table %s/%s, listed in %s, is missing; the index is "
                       "rebuilt from the index segments"),
                     dir, name, mpath);
        else if (rc && rc != -ENOMEM)
            bkp_warn(_("the blob index table %s/%s does not check (%s): it was changed, cut "
                       "short or is another repository's; it is rebuilt from the index "
                       "segments"),
                     dir, name, bkp_strerror(rc));
        if (!rc && !all_listed((const uint8_t(*)[BKP_ID_LEN])cov, nc, names, n)) {
            bkp_info(_("the blob index table %s/%s is older than a change of the index (a "
                       "prune, or a damaged segment set aside); it is rebuilt from the index "
                       "segments"),
                     dir, name);
            rc = -ESTALE;
            bkp_itable_free(t);
            free(packs);
            free(cov);
        } else if (!rc) {
            rc = bkp_index_table_load(r->mut->index, t, packs, np, cov, nc);
            if (rc == -EBADMSG)
                bkp_warn(_("the blob index table %s/%s does not check (%s): it was changed, cut "
                           "short or is another repository's; it is rebuilt from the index "
                           "segments"),
                         dir, name, bkp_strerror(rc));
        }
    }
    free(v);
    free(mpath);
    bool used = !rc && nv;
    if (rc && bkp_index_levels(r->mut->index)) { /* some loaded: start again empty */
        bkp_index_free(r->mut->index);
        r->mut->index = NULL;
        if (bkp_index_new(&r->mut->index))
            return -ENOMEM;
    }
    if (rc == -ENOMEM)
        return rc;
    /* Refused: emptied, so that the next write is this open's own. */
    if (rc && table_in_cache(r) && (rc = bkp_itable_manifest_save(dir, key, NULL, 0)))
        bkp_debug("cannot empty %s/%s: %s", dir, BKP_ITABLE_MANIFEST, bkp_strerror(rc));
    return used ? 1 : 0;
}

/* Use the tables of cache/index-levels when they check and every segment
 * they list is still there; otherwise leave the index empty (the caller
 * rebuilds). A refused manifest is emptied (in a writable open) so that its
 * tables are orphans, removed with the others.
 *
 * A folder on a medium (a copy, or one opened with a passphrase by restore
 * --from or a drill: BKP_REPO_MEDIUM) never gets that far: nothing in its
 * cache/ folder is opened, read or written. No bkp writes tables there
 * (table_in_cache), so whatever a medium holds under cache/ was put there by
 * someone else, and a medium is not trusted: its index is built from its
 * own segments, each authenticated as it is loaded, exactly as after a
 * refused manifest (and past the memory bound, into tables in $TMPDIR). */
static int try_table(bkp_repo *r, const uint8_t key[32], uint8_t (*names)[BKP_ID_LEN], uint32_t n)
{
    if (r->flags & BKP_REPO_MEDIUM)
        return 0;
    char *dir = bkp_repo_subpath(r, "cache");
    if (!dir)
        return -ENOMEM;
    int lock = cache_lock(r, false);
    int rc = load_levels(r, dir, key, (const uint8_t(*)[BKP_ID_LEN])names, n);
    cache_unlock(lock);
    free(dir);
    return rc < 0 ? rc : rc ? set_covered(r) : 0;
}

/*
 * The tables no manifest lists, and the single table of the format before
 * levels: removed by a writable open, under the lock, and only while the
 * manifest on disk is the one in use. Such a table is what a kill between
 * writing a table and writing the manifest that lists it leaves (or between
 * the manifest and the removal of the tables a merge replaced): never an
 * entry lost, since a table is the mirror of segments that are still there.
 */
static void remove_orphans(bkp_repo *r, const uint8_t key[32])
{
    char *dir = bkp_repo_subpath(r, "cache");
    int lock = dir ? cache_lock(r, false) : -1;
    DIR *d = lock >= 0 && manifest_is_ours(r, dir, key) ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        uint8_t tid[16], mine[16];
        bool keep = !bkp_itable_name_parse(e->d_name, tid) && strcmp(e->d_name, "index-table");
        for (uint32_t i = 0; !keep && i < bkp_index_levels(r->mut->index); i++) {
            bkp_index_level_id(r->mut->index, i, mine);
            keep = !memcmp(tid, mine, 16) && strcmp(e->d_name, "index-table");
        }
        if (!keep && bkp_durable_unlink_at(dirfd(d), e->d_name))
            bkp_debug("cannot remove %s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    cache_unlock(lock);
    free(dir);
}

/* Add the segment at `*path` to the damaged ones (taking the string). */
static void note_damaged(const bkp_repo *r, char **path)
{
    char **d = realloc(r->mut->damaged, (r->mut->ndamaged + 1) * sizeof(*d));
    if (d) {
        r->mut->damaged = d;
        r->mut->damaged[r->mut->ndamaged++] = *path;
        *path = NULL;
    }
}

/* Load segment `name` into memory; a damaged one is noted, not an error. */
static int load_segment(bkp_repo *r, const uint8_t name[BKP_ID_LEN], bkp_buf *seg)
{
    char hex[2 * BKP_ID_LEN + 1];
    bkp_hex(hex, name, BKP_ID_LEN);
    char *p = bkp_path_join(r->index_dir, hex);
    /* No segment is larger than one blob: refuse to read more. */
    int x = p ? bkp_read_file(p, seg, 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16) : -ENOMEM;
    if (x == -EFBIG)
        x = -EBADMSG;
    if (!x)
        x = bkp_index_segment_load(r->mut->index, seg->data, seg->len, r->keys);
    if (!x)
        x = push_name(&r->in_memory, &r->nin_memory, &r->in_memory_cap, name);
    if (x == -ENOMEM) {
        free(p);
        return x;
    }
    /* A damaged segment is not fatal: the packs are the truth, and
     * reindexing finds every pack the segments do not name. */
    if (x && x != -EBADMSG) {
        bkp_warn(_("cannot read index segment %s: %s; its packs are indexed from their "
                   "trailers"),
                 p, bkp_strerror(x));
    } else if (x) {
        note_damaged(r, &p);
        bkp_debug("index segment %s is unreadable (%s)", hex, bkp_strerror(x));
    }
    free(p);
    return 0;
}

/* Is `name` among the segments whose entries are in memory (not sorted)? */
static bool has_in_memory(const bkp_repo *r, const uint8_t name[BKP_ID_LEN])
{
    for (uint32_t i = 0; i < r->nin_memory; i++)
        if (!memcmp(r->in_memory[i], name, BKP_ID_LEN))
            return true;
    return false;
}

/* covered ∪ in_memory, sorted, without repeats. */
static int union_names(const bkp_repo *r, uint8_t (**out)[BKP_ID_LEN], uint32_t *n)
{
    uint32_t total = r->ncovered + r->nin_memory, k = 0;
    uint8_t(*v)[BKP_ID_LEN] = malloc(((size_t)total + 1) * BKP_ID_LEN);
    if (!v)
        return -ENOMEM;
    if (r->ncovered)
        memcpy(v, r->covered, (size_t)r->ncovered * BKP_ID_LEN);
    if (r->nin_memory)
        memcpy(v[r->ncovered], r->in_memory, (size_t)r->nin_memory * BKP_ID_LEN);
    if (total)
        qsort(v, total, BKP_ID_LEN, cmp_name);
    for (uint32_t i = 0; i < total; i++)
        if (!k || memcmp(v[k - 1], v[i], BKP_ID_LEN))
            memmove(v[k++], v[i], BKP_ID_LEN);
    *out = v;
    *n = k;
    return 0;
}

/* Remove the tables that were replaced (their names in `gone`): after the
 * manifest that no longer lists them is durable. One left is an orphan. */
static void remove_replaced(const char *dir, uint8_t (*gone)[16], uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        char name[BKP_ITABLE_NAME_LEN];
        bkp_itable_name(gone[i], name);
        char *p = bkp_path_join(dir, name);
        int rc = p ? bkp_durable_unlink(p) : -ENOMEM;
        if (rc)
            bkp_debug("cannot remove %s: %s", p ? p : name, bkp_strerror(rc));
        free(p);
    }
}

/* Write the memory, merged with tables [first, levels), as a table in
 * `dir` and open it: read back whole (bkp_itable_open checks every block).
 * In the cache folder it is committed as index-table-<its ID>. */
static int write_level(bkp_repo *r, uint32_t first, const char *dir, bool cache,
                       const uint8_t key[32], bkp_itable **t, uint8_t (**cov)[BKP_ID_LEN],
                       uint32_t *nc)
{
    uint8_t(*packs)[BKP_ID_LEN] = NULL, tid[16];
    uint32_t np;
    bkp_dfile *f = NULL;
    int rc = bkp_dfile_open(&f, dir, BKP_DURABLE_PRIVATE), fd = -1;
    if (!rc)
        rc = bkp_index_table_write(r->mut->index, first, f, key,
                                   (const uint8_t(*)[BKP_ID_LEN])r->in_memory, r->nin_memory);
    if (!rc && (fd = open(bkp_dfile_path(f), O_RDONLY | O_CLOEXEC)) < 0)
        rc = -errno;
    if (!rc && !(rc = bkp_itable_open(fd, key, t, &packs, &np, cov, nc)) && cache) {
        char name[BKP_ITABLE_NAME_LEN];
        bkp_itable_id(*t, tid);
        bkp_itable_name(tid, name);
        rc = bkp_dfile_commit(f, dir, name, BKP_DURABLE_PRIVATE);
        f = NULL; /* freed by the commit */
        if (rc) {
            bkp_itable_free(*t);
            free(*cov);
        }
    }
    bkp_dfile_abort(f); /* outside the cache, or on failure: the temporary goes */
    free(packs);
    return rc;
}

/*
 * The memory to a new table, merged with the newest tables when the policy
 * says (itable_levels.h), and used. In the cache folder, under the lock,
 * in this order: the table (temp, fsync, rename, fsync the folder), then the
 * manifest that lists it in place of the tables it replaces (the same way),
 * then the removal of those. A kill before the manifest leaves an orphan
 * table and the old manifest, whose tables are all still there; a kill
 * after it leaves the replaced tables as orphans. Either way the next
 * writable open removes the orphans and loses no entry; and a table that is
 * lost or refused is rebuilt from the segments, which are the truth.
 * Elsewhere (a read-only open, a copy, or another process changed the
 * manifest since this one read it): an unlinked file in $TMPDIR.
 */
static int write_table(bkp_repo *r)
{
    uint8_t key[32], (*cov)[BKP_ID_LEN] = NULL, gone[BKP_ITABLE_LEVELS_MAX][16];
    uint32_t nc = 0, first = bkp_index_levels_to_merge(r->mut->index, r->index_max), ngone = 0;
    bkp_itable *t = NULL;
    bool cache = table_in_cache(r) && !r->table_private;
    const char *tmp = getenv("TMPDIR");
    char *dir = cache ? bkp_repo_subpath(r, "cache") : strdup(tmp && *tmp ? tmp : "/tmp");
    int lock = cache && dir ? cache_lock(r, true) : -1;
    bkp_itable_key(r->keys, key);
    if (cache && dir && !manifest_is_ours(r, dir, key)) {
        bkp_debug("the blob index tables in %s changed under this run: its own go to $TMPDIR", dir);
        r->table_private = true;
        cache = false;
        free(dir);
        dir = strdup(tmp && *tmp ? tmp : "/tmp");
    }
    int rc = dir ? write_level(r, first, dir, cache, key, &t, &cov, &nc) : -ENOMEM;
    for (uint32_t i = first; !rc && i < bkp_index_levels(r->mut->index); i++)
        bkp_index_level_id(r->mut->index, i, gone[ngone++]);
    if (!rc) {
        bkp_debug("blob index: a table of %llu entries (%u merged into it), %u tables before",
                  (unsigned long long)bkp_itable_count(t), bkp_index_levels(r->mut->index) - first,
                  bkp_index_levels(r->mut->index));
        bkp_index_table_attach(r->mut->index, first, t, cov, nc);
        r->nin_memory = 0;
        rc = set_covered(r);
    }
    if (!rc && cache && !(rc = save_manifest(r, dir, key)))
        remove_replaced(dir, gone, ngone);
    cache_unlock(lock);
    sodium_memzero(key, sizeof(key));
    free(dir);
    return rc;
}

/* Past the bound, the memory goes to a table; a failure is a warning. */
static void bound(bkp_repo *r, uint64_t max)
{
    if (r->table_failed || bkp_index_memory_count(r->mut->index) <= max)
        return;
    int rc = write_table(r);
    if (rc) {
        r->table_failed = true;
        bkp_warn(_("cannot write the blob index table in %s/cache (%s); this run keeps the "
                   "index in memory, which grows with the number of blobs"),
                 r->path, bkp_strerror(rc));
    }
}

void bkp_repo_index_bound(bkp_repo *r)
{
    pthread_mutex_lock(&r->mut->lock);
    bound(r, r->index_max);
    pthread_mutex_unlock(&r->mut->lock);
}

int bkp_repo_index_wrote(bkp_repo *r, const char name[2 * BKP_ID_LEN + 1])
{
    uint8_t id[BKP_ID_LEN];
    if (bkp_unhex(id, BKP_ID_LEN, name))
        return -EINVAL;
    pthread_mutex_lock(&r->mut->lock);
    int rc = push_name(&r->in_memory, &r->nin_memory, &r->in_memory_cap, id);
    pthread_mutex_unlock(&r->mut->lock);
    return rc;
}

int bkp_repo_index_load(bkp_repo *r)
{
    uint8_t key[32], (*names)[BKP_ID_LEN] = NULL;
    uint32_t n = 0;
    bkp_buf seg;
    int rc = list_segments(r, &names, &n);
    if (rc)
        return rc;
    free(r->covered);
    r->covered = NULL;
    r->ncovered = r->nin_memory = 0;
    r->table_failed = r->table_private = false;
    bkp_itable_key(r->keys, key);
    rc = try_table(r, key, names, n);
    bool had_table = bkp_index_levels(r->mut->index) > 0;
    /* The segments the table holds are authenticated too (not loaded), so
     * a damaged one is named and set aside as before, whatever the table. */
    r->mut->checked = false;
    if (!rc && had_table)
        rc = bkp_repo_check_segments(r, false);
    bkp_buf_init(&seg);
    for (uint32_t i = 0; !rc && i < n; i++) {
        if (r->ncovered && bsearch(names[i], r->covered, r->ncovered, BKP_ID_LEN, cmp_name))
            continue;
        rc = load_segment(r, names[i], &seg);
        if (!rc)
            bound(r, r->index_max);
    }
    bkp_buf_free(&seg);
    free(names);
    /* A rebuilt index is kept for the next open; a few new segments stay
     * in memory until they add up (each table costs a Bloom filter test on
     * every lookup). */
    if (!rc && table_in_cache(r))
        bound(r, had_table ? r->index_max / 4 : 0);
    if (!rc && table_in_cache(r) && !r->table_failed && !r->table_private)
        remove_orphans(r, key);
    sodium_memzero(key, sizeof(key));
    return rc;
}

/* Read and authenticate the segment `name` at `path`, unless `seen` lists
 * it as it is now (its stat goes to `now`): 1 skipped, 0 good, -EBADMSG
 * damaged (or unreadable), -ENOMEM. The stat comes from the descriptor that
 * is read, so the file read is the one listed. */
static int check_one(const bkp_repo *r, const char *path, const uint8_t name[BKP_ID_LEN],
                     const bkp_checked *seen, bkp_seg_seen *now, bkp_buf *seg, bkp_buf *plain)
{
    struct stat st;
    int fd = bkp_open_regular(path), x = 0;
    if (fd < 0)
        return fd == -ENOMEM ? fd : -EBADMSG;
    if (fstat(fd, &st) != 0)
        x = -EBADMSG;
    else
        bkp_seg_seen_of(now, name, &st);
    if (!x && bkp_checked_has(seen, now)) {
        close(fd);
        return 1;
    }
    /* No segment is larger than one blob: refuse to read more. */
    if (!x && (uint64_t)st.st_size > 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16)
        x = -EBADMSG;
    bkp_buf_reset(seg);
    uint8_t *p = x ? NULL : bkp_buf_reserve(seg, (size_t)st.st_size);
    if (!x && !p)
        x = -ENOMEM;
    if (!x && bkp_pread_full(fd, p, (size_t)st.st_size, 0) != 0)
        x = -EBADMSG;
    close(fd);
    if (!x)
        x = bkp_index_segment_check(p, (size_t)st.st_size, r->keys, plain);
    bkp_buf_reset(plain);
    return x == -ENOMEM ? x : x ? -EBADMSG : 0;
}

static bool is_damaged(const bkp_repo *r, const char *path)
{
    for (size_t i = 0; i < r->mut->ndamaged; i++)
        if (!strcmp(r->mut->damaged[i], path))
            return true;
    return false;
}

int bkp_repo_check_segments(const bkp_repo *r, bool all)
{
    bkp_buf seg, plain;
    bkp_checked seen = {0}, good = {0};
    uint8_t key[32];
    int rc = 0, read = 0;
    if (r->mut->checked)
        return 0;
    char *cache = table_in_cache(r) ? bkp_repo_subpath(r, "cache") : NULL;
    bkp_itable_key(r->keys, key);
    if (cache && !all)
        bkp_checked_load(cache, key, &seen);
    bkp_buf_init(&seg);
    bkp_buf_init(&plain);
    for (uint32_t i = 0; !rc && i < r->ncovered; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_seg_seen now;
        bkp_hex(hex, r->covered[i], BKP_ID_LEN);
        char *p = bkp_path_join(r->index_dir, hex);
        int x = !p                 ? -ENOMEM
                : is_damaged(r, p) ? 1
                                   : check_one(r, p, r->covered[i], &seen, &now, &seg, &plain);
        if (x == -ENOMEM)
            rc = x;
        else if (x < 0)
            note_damaged(r, &p);
        else if (!is_damaged(r, p) && bkp_checked_add(&good, &now))
            rc = -ENOMEM;
        read += x == 0;
        free(p);
    }
    bkp_buf_free(&seg);
    bkp_buf_free(&plain);
    /* Remembered for the next open when something changed; a list that
     * cannot be saved costs that open a full read, nothing else. */
    if (!rc && cache && (read || good.n != seen.n)) {
        bkp_checked_sort(&good);
        int x = bkp_checked_save(cache, key, &good);
        if (x)
            bkp_debug("cannot save %s/index-checked: %s", cache, bkp_strerror(x));
    }
    sodium_memzero(key, sizeof(key));
    bkp_checked_free(&seen);
    bkp_checked_free(&good);
    free(cache);
    /* Read whole once: a later call (verify after an open) finds none twice. */
    r->mut->checked = all;
    return rc;
}

/*
 * What a files cache may vouch for (filescache.h). The index is exactly the
 * entries of the segments in covered ∪ in_memory once every pack is named
 * by one (after a flush); a segment is immutable and named by its hash, so
 * while it stays in index/ its entries stay in the index. Nothing removes
 * an entry but the removal of a segment: a prune deletes every old segment
 * before any pack (prune_recover.c), a damaged one is renamed aside.
 */
int bkp_repo_index_stamp(const bkp_repo *r, uint8_t (**names)[BKP_ID_LEN], uint32_t *n)
{
    *names = NULL;
    *n = 0;
    pthread_mutex_lock(&r->mut->lock);
    bool whole =
        !r->mut->ndamaged && !r->err && r->first_new_pack == bkp_index_pack_count(r->mut->index);
    int rc = whole ? union_names(r, names, n) : -EAGAIN;
    pthread_mutex_unlock(&r->mut->lock);
    return rc;
}

bool bkp_repo_index_holds(const bkp_repo *r, const uint8_t (*names)[BKP_ID_LEN], uint32_t n)
{
    bool all = true;
    pthread_mutex_lock(&r->mut->lock);
    if (r->mut->ndamaged)
        all = false; /* a segment is going aside: its entries may be too */
    for (uint32_t i = 0; all && i < n; i++)
        all = (r->ncovered && bsearch(names[i], r->covered, r->ncovered, BKP_ID_LEN, cmp_name)) ||
              has_in_memory(r, names[i]);
    pthread_mutex_unlock(&r->mut->lock);
    return all;
}
