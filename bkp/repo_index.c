/*
 * The repository's index, mostly off the heap: which table to trust, which
 * segments to load into memory, and when to move the memory to a new table.
 * index.h says how the pieces fit, itable.h why a table from the cache
 * folder cannot make a missing blob look stored.
 */
#include "bkp/repo.h"
#include "bkp/repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/durable.h"
#include "bkp/fdio.h"
#include "bkp/i18n.h"
#include "bkp/index_checked.h"
#include "bkp/itable.h"
#include "bkp/log.h"

#define TABLE_NAME "index-table"

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
    return !(r->flags & (BKP_REPO_READONLY | BKP_REPO_COPY));
}

/* Use cache/index-table when it checks and every segment it lists is
 * still there; otherwise leave the index empty (the caller rebuilds). */
static int try_table(bkp_repo *r, const uint8_t key[32], uint8_t (*names)[BKP_ID_LEN], uint32_t n)
{
    uint8_t(*packs)[BKP_ID_LEN] = NULL, (*cov)[BKP_ID_LEN] = NULL;
    uint32_t np = 0, nc = 0;
    bkp_itable *t = NULL;
    char *p = bkp_repo_subpath(r, "cache/" TABLE_NAME);
    int fd = p ? bkp_open_regular(p) : -ENOMEM;
    int rc = fd < 0 ? fd : bkp_itable_open(fd, key, &t, &packs, &np, &cov, &nc);
    if (rc == -ENOENT || rc == -ENOMEM) {
        free(p);
        return rc == -ENOMEM ? rc : 0;
    }
    if (rc) {
        bkp_warn(_("the blob index table %s does not check (%s): it was changed, cut short or "
                   "is another repository's; it is rebuilt from the index segments"),
                 p, bkp_strerror(rc));
        free(p);
        return 0;
    }
    for (uint32_t i = 0; i < nc; i++)
        if (!n || !bsearch(cov[i], names, n, BKP_ID_LEN, cmp_name)) {
            bkp_info(_("the blob index table %s is older than a change of the index (a prune, "
                       "or a damaged segment set aside); it is rebuilt from the index segments"),
                     p);
            bkp_itable_free(t);
            free(packs);
            free(cov);
            free(p);
            return 0;
        }
    free(p);
    r->covered = cov;
    r->ncovered = nc;
    return bkp_index_table_load(r->index, t, packs, np);
}

/* Add the segment at `*path` to the damaged ones (taking the string). */
static void note_damaged(bkp_repo *r, char **path)
{
    char **d = realloc(r->damaged, (r->ndamaged + 1) * sizeof(*d));
    if (d) {
        r->damaged = d;
        r->damaged[r->ndamaged++] = *path;
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
        x = bkp_index_segment_load(r->index, seg->data, seg->len, r->keys);
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

/*
 * Merge memory and table into a new table and use it. In the cache folder:
 * written whole to a temporary file, fsynced and renamed over the old one
 * (durable.h), so a kill leaves the old table or the new one, each true for
 * the segments it lists; the old one stays open until the new one is read.
 * Elsewhere: an unlinked file in $TMPDIR, gone with the process.
 */
static int write_table(bkp_repo *r)
{
    uint8_t key[32], (*names)[BKP_ID_LEN] = NULL, (*packs)[BKP_ID_LEN] = NULL,
                     (*cov)[BKP_ID_LEN] = NULL;
    uint32_t n = 0, np, nc;
    bkp_itable *t = NULL;
    bkp_dfile f = {.fd = -1};
    bool cache = table_in_cache(r);
    const char *tmp = getenv("TMPDIR");
    char *dir = cache ? bkp_repo_subpath(r, "cache") : strdup(tmp && *tmp ? tmp : "/tmp");
    int fd = -1, rc = dir ? union_names(r, &names, &n) : -ENOMEM;
    bkp_itable_key(r->keys, key);
    if (!rc)
        rc = bkp_dfile_open(&f, dir, BKP_DURABLE_PRIVATE);
    if (!rc)
        rc = bkp_index_table_write(r->index, &f, key, (const uint8_t(*)[BKP_ID_LEN])names, n);
    if (!rc && cache) {
        char *p = bkp_path_join(dir, TABLE_NAME);
        rc = bkp_dfile_commit(&f, dir, TABLE_NAME, BKP_DURABLE_PRIVATE);
        fd = rc ? rc : p ? bkp_open_regular(p) : -ENOMEM;
        free(p);
    } else if (!rc) {
        fd = open(f.tmp, O_RDONLY | O_CLOEXEC);
        fd = fd < 0 ? -errno : fd;
    }
    bkp_dfile_abort(&f); /* after a commit: nothing left to remove */
    rc = rc ? rc : fd < 0 ? fd : bkp_itable_open(fd, key, &t, &packs, &np, &cov, &nc);
    sodium_memzero(key, sizeof(key));
    free(packs);
    free(cov);
    free(dir);
    if (rc) {
        free(names);
        return rc;
    }
    bkp_index_table_attach(r->index, t);
    free(r->covered);
    r->covered = names;
    r->ncovered = n;
    r->nin_memory = 0;
    return 0;
}

/* Past the bound, the memory goes to a table; a failure is a warning. */
static void bound(bkp_repo *r, uint64_t max)
{
    if (r->table_failed || bkp_index_memory_count(r->index) <= max)
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
    pthread_mutex_lock(&r->lock);
    bound(r, r->index_max);
    pthread_mutex_unlock(&r->lock);
}

int bkp_repo_index_wrote(bkp_repo *r, const char name[2 * BKP_ID_LEN + 1])
{
    uint8_t id[BKP_ID_LEN];
    if (bkp_unhex(id, BKP_ID_LEN, name))
        return -EINVAL;
    pthread_mutex_lock(&r->lock);
    int rc = push_name(&r->in_memory, &r->nin_memory, &r->in_memory_cap, id);
    pthread_mutex_unlock(&r->lock);
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
    r->table_failed = false;
    bkp_itable_key(r->keys, key);
    rc = try_table(r, key, names, n);
    sodium_memzero(key, sizeof(key));
    bool had_table = r->covered != NULL;
    /* The segments the table holds are authenticated too (not loaded), so
     * a damaged one is named and set aside as before, whatever the table. */
    r->checked = false;
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
    /* A rebuilt table is kept for the next open; a few new segments stay in
     * memory until they add up (a table is rewritten whole). */
    if (!rc && table_in_cache(r))
        bound(r, had_table ? r->index_max / 4 : 0);
    return rc;
}

/* Read and authenticate the segment `name` at `path`, unless `seen` lists
 * it as it is now (its stat goes to `now`): 1 skipped, 0 good, -EBADMSG
 * damaged (or unreadable), -ENOMEM. The stat comes from the descriptor that
 * is read, so the file read is the one listed. */
static int check_one(bkp_repo *r, const char *path, const uint8_t name[BKP_ID_LEN],
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
    for (size_t i = 0; i < r->ndamaged; i++)
        if (!strcmp(r->damaged[i], path))
            return true;
    return false;
}

int bkp_repo_check_segments(bkp_repo *r, bool all)
{
    bkp_buf seg, plain;
    bkp_checked seen = {0}, good = {0};
    uint8_t key[32];
    int rc = 0, read = 0;
    if (r->checked)
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
    r->checked = all;
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
int bkp_repo_index_stamp(bkp_repo *r, uint8_t (**names)[BKP_ID_LEN], uint32_t *n)
{
    *names = NULL;
    *n = 0;
    pthread_mutex_lock(&r->lock);
    bool whole = !r->ndamaged && !r->err && r->first_new_pack == bkp_index_pack_count(r->index);
    int rc = whole ? union_names(r, names, n) : -EAGAIN;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

bool bkp_repo_index_holds(bkp_repo *r, const uint8_t (*names)[BKP_ID_LEN], uint32_t n)
{
    bool all = true;
    pthread_mutex_lock(&r->lock);
    if (r->ndamaged)
        all = false; /* a segment is going aside: its entries may be too */
    for (uint32_t i = 0; all && i < n; i++)
        all = (r->ncovered && bsearch(names[i], r->covered, r->ncovered, BKP_ID_LEN, cmp_name)) ||
              has_in_memory(r, names[i]);
    pthread_mutex_unlock(&r->lock);
    return all;
}
