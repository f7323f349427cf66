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
#include <unistd.h>

#include <sodium.h>

#include "bkp/durable.h"
#include "bkp/i18n.h"
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
        bkp_error("cannot read %s: %s", r->index_dir, bkp_strerror(rc));
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
        bkp_warn("cannot read index segment %s: %s; its packs are indexed from their trailers",
                 p, bkp_strerror(x));
    } else if (x) {
        note_damaged(r, &p);
        bkp_debug("index segment %s is unreadable (%s)", hex, bkp_strerror(x));
    }
    free(p);
    return 0;
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
        rc = bkp_repo_check_segments(r);
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

int bkp_repo_check_segments(bkp_repo *r)
{
    bkp_buf seg, plain;
    int rc = 0;
    if (r->checked)
        return 0;
    bkp_buf_init(&seg);
    bkp_buf_init(&plain);
    for (uint32_t i = 0; !rc && i < r->ncovered; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, r->covered[i], BKP_ID_LEN);
        char *p = bkp_path_join(r->index_dir, hex);
        int x = p ? bkp_read_file(p, &seg, 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16) : -ENOMEM;
        x = x == -EFBIG ? -EBADMSG : x ? x : bkp_index_segment_check(seg.data, seg.len, r->keys, &plain);
        bkp_buf_reset(&plain);
        if (x == -ENOMEM)
            rc = x;
        else if (x)
            note_damaged(r, &p);
        free(p);
    }
    bkp_buf_free(&seg);
    bkp_buf_free(&plain);
    /* Checked once: a later call (verify after an open) finds none twice. */
    r->checked = true;
    return rc;
}
