/*
 * browse.c — the folders of a browse handle (browse.h): the layout of data
 * sets and generations, and a generation's item stream made into a tree
 * when its folder is first entered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/store/layout.h"
#include "bkp/io/log.h"
#include "restore/browse_internal.h"

static rst_node *node_new(rst_node *parent, const char *name, size_t len)
{
    rst_node *n = calloc(1, sizeof(*n));
    if (!n || !(n->name = strndup(name, len))) {
        free(n);
        return NULL;
    }
    n->parent = parent;
    n->st.st_nlink = 1;
    bkp_item_init(&n->it);
    return n;
}

static void node_free(rst_node *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->link);
    bkp_item_clear(&n->it);
    rst_browse_node_data_free(n);
    free(n);
}

/* Where `name` is or would go among the sorted children of `dir`. */
static uint32_t kid_slot(const rst_node *dir, const char *name, size_t len, bool *found)
{
    uint32_t lo = 0, hi = dir->nkids;
    *found = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const char *k = dir->kids[mid]->name;
        int c = strncmp(k, name, len);
        if (!c)
            c = k[len] ? 1 : 0;
        if (!c) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static rst_node *kid_find(const rst_node *dir, const char *name, size_t len)
{
    bool found;
    uint32_t i = kid_slot(dir, name, len, &found);
    return found ? dir->kids[i] : NULL;
}

/* The child `name` of `dir`, made (empty) when absent; NULL on ENOMEM. */
static rst_node *kid_add(rst_node *dir, const char *name, size_t len)
{
    bool found = false;
    uint32_t i = dir->nkids;
    /* The walk stores names in order: the common case goes after the last. */
    if (dir->nkids && strncmp(dir->kids[dir->nkids - 1]->name, name, len) >= 0) {
        i = kid_slot(dir, name, len, &found);
        if (found)
            return dir->kids[i];
    }
    if (dir->nkids == dir->cap) {
        uint32_t cap = dir->cap ? 2 * dir->cap : 8;
        rst_node **k = realloc(dir->kids, cap * sizeof(*k));
        if (!k)
            return NULL;
        dir->kids = k;
        dir->cap = cap;
    }
    rst_node *n = node_new(dir, name, len);
    if (!n)
        return NULL;
    memmove(dir->kids + i + 1, dir->kids + i, (dir->nkids - i) * sizeof(*dir->kids));
    dir->kids[i] = n;
    dir->nkids++;
    return n;
}

/* A folder that was not stored: the layout (0555: everyone may list the
 * generations), or a folder above the captured paths, whose owner and mode
 * were never known (0700 root: a mount with --allow-other must never grant
 * more than the original tree did, and a 0644 file in a 0700 folder stays
 * out of reach of other users). */
#define LAYOUT_MODE 0555
#define UNKNOWN_MODE 0700

static void synthetic_dir(rst_node *n, time_t t, mode_t mode)
{
    n->st.st_mode = S_IFDIR | mode;
    n->st.st_uid = 0;
    n->st.st_gid = 0;
    n->st.st_mtime = n->st.st_ctime = n->st.st_atime = t;
    n->st.st_nlink = 2;
}

/* Folders count 2 plus their subfolders as links, as find(1) expects. */
static void count_links(rst_node *n)
{
    if (!S_ISDIR(n->st.st_mode))
        return;
    n->st.st_nlink = 2;
    for (uint32_t i = 0; i < n->nkids; i++) {
        count_links(n->kids[i]);
        n->st.st_nlink += S_ISDIR(n->kids[i]->st.st_mode);
    }
}

/* The node at `path` below `from`: components split on '/', empty ones and
 * "." skipped; ".." refused (NULL). With `make`, missing folders are made
 * (synthetic, time `t`) and the last component too. */
static rst_node *walk_to(rst_node *from, const char *path, bool make, time_t t)
{
    rst_node *n = from;
    for (const char *p = path; n && *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && !strncmp(p, "..", 2))
            return NULL;
        if (len && !(len == 1 && *p == '.')) {
            rst_node *k = kid_find(n, p, len);
            if (!k && make && (k = kid_add(n, p, len)) && p[len])
                synthetic_dir(k, t, UNKNOWN_MODE);
            n = k;
        }
        p += len + (p[len] == '/');
    }
    return n;
}

static void item_stat(struct archive_entry *e, const bkp_item *it, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = archive_entry_mode(e);
    st->st_uid = (uid_t)archive_entry_uid(e);
    st->st_gid = (gid_t)archive_entry_gid(e);
    st->st_size = archive_entry_size(e);
    st->st_rdev = archive_entry_rdev(e);
    st->st_nlink = 1;
    st->st_atim.tv_sec = archive_entry_atime(e);
    st->st_atim.tv_nsec = archive_entry_atime_nsec(e);
    st->st_mtim.tv_sec = archive_entry_mtime(e);
    st->st_mtim.tv_nsec = archive_entry_mtime_nsec(e);
    st->st_ctim.tv_sec = archive_entry_ctime(e);
    st->st_ctim.tv_nsec = archive_entry_ctime_nsec(e);
    uint64_t data = 0;
    for (uint32_t i = 0; i < it->nchunks; i++)
        data += it->chunks[i].len;
    st->st_blocks = (blkcnt_t)((data + 511) / 512);
    st->st_blksize = 4096;
}

/* Item `it` of the generation in folder `g` into the tree. An item the tree
 * cannot hold (a ".." in its path, a hard link to nothing before it) is
 * left out, said at -v: the tree blobs are authenticated, so only a writer
 * holding the key could have stored it. */
static int add_item(rst_node *g, bkp_item *it)
{
    struct archive_entry *e = it->entry;
    const char *path = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
    rst_node *same = hl ? walk_to(g, hl, false, 0) : NULL;
    if (!path || (hl && (!same || !S_ISREG(same->st.st_mode) || same->same))) {
        bkp_debug("%s: left out of the mount", path ? path : "?");
        return 0;
    }
    rst_node *n = walk_to(g, path, true, g->gen->finished);
    if (!n || n == g || n->it.nchunks || n->link || n->same) {
        bkp_debug("%s: left out of the mount", path);
        return n || strstr(path, "..") ? 0 : -ENOMEM;
    }
    item_stat(e, it, &n->st);
    if (same) {
        n->same = same;
        n->st = same->st;
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
        if (!(n->link = strdup(archive_entry_symlink(e) ? archive_entry_symlink(e) : "")))
            return -ENOMEM;
        n->st.st_size = (off_t)strlen(n->link);
    } else if (archive_entry_filetype(e) == AE_IFREG) {
        /* The chunk list and regions move to the node; the entry stays. */
        n->it.chunks = it->chunks;
        n->it.nchunks = it->nchunks;
        n->it.sparse = it->sparse;
        n->it.nsparse = it->nsparse;
        memcpy(n->it.content, it->content, BKP_ID_LEN);
        it->chunks = NULL, it->sparse = NULL;
        it->nchunks = it->nsparse = 0;
    }
    return 0;
}

/* Read the item stream of generation folder `g` once. */
static int load(rst_browse *b, rst_node *g)
{
    if (!g->gen || g->loaded)
        return g->loaded < 0 ? -EIO : 0;
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bkp_item_init(&it);
    int rc = bkp_tree_reader_new(b->r, g->gen->tree, g->gen->ntree, &tr);
    while (!rc && (rc = bkp_tree_reader_next(tr, &it)) > 0)
        rc = add_item(g, &it);
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    count_links(g);
    if (rc == -ENOMEM)
        return rc; /* tried again at the next look */
    g->loaded = rc < 0 ? -EIO : 1;
    if (rc < 0)
        bkp_error(_("the file list of %s:%u is damaged (%s); run `bkp verify`"), g->gen->dataset,
                  g->gen->seq, bkp_strerror(rc));
    return g->loaded < 0 ? -EIO : 0;
}

/* The generation folder `name` ("DATASET:SEQ") for `g` under `dir`. */
static int add_gen(rst_node *dir, bkp_gen *g)
{
    char name[96];
    bkp_gen_name(g, name, sizeof(name));
    rst_node *n = kid_add(dir, name, strlen(name));
    if (!n)
        return -ENOMEM;
    synthetic_dir(n, g->finished, LAYOUT_MODE);
    n->gen = g;
    if (dir->st.st_mtime < g->finished)
        dir->st.st_mtime = dir->st.st_ctime = dir->st.st_atime = g->finished;
    /* latest → the newest (the list is by sequence, so the last one added). */
    rst_node *l = kid_add(dir, "latest", 6);
    if (!l)
        return -ENOMEM;
    free(l->link);
    if (!(l->link = strdup(name)))
        return -ENOMEM;
    l->st.st_mode = S_IFLNK | 0777;
    l->st.st_size = (off_t)strlen(name);
    l->st.st_mtim = n->st.st_mtim;
    l->st.st_ctim = l->st.st_atim = n->st.st_mtim;
    return 0;
}

/* Folders for the generations of `b->gens` (of one data set when `one`). */
static int layout(rst_browse *b, bool one)
{
    for (size_t i = 0; i < b->ngens; i++) {
        bkp_gen *g = b->gens[i];
        char name[96];
        if (g->pruned)
            continue;
        if (g->status) {
            bkp_warn(_("%s: its generation record is damaged or forged; it is not shown; run `bkp "
                       "verify`"),
                     bkp_gen_name(g, name, sizeof(name)));
            continue;
        }
        rst_node *dir = one ? b->root : kid_add(b->root, g->dataset, strlen(g->dataset));
        if (!dir)
            return -ENOMEM;
        if (dir != b->root && !S_ISDIR(dir->st.st_mode))
            synthetic_dir(dir, 0, LAYOUT_MODE);
        if (b->root->st.st_mtime < g->finished)
            b->root->st.st_mtime = b->root->st.st_ctime = b->root->st.st_atime = g->finished;
        int rc = add_gen(dir, g);
        if (rc)
            return rc;
    }
    count_links(b->root);
    return 0;
}

/* Does `spec` name a data set that has generations? Keeps them in `b`. */
static int dataset_of(rst_browse *b, const char *spec)
{
    if (!bkp_dataset_name_ok(spec))
        return 0;
    int rc = bkp_gen_list(b->r, spec, &b->gens, &b->ngens);
    if (rc)
        return rc;
    for (size_t i = 0; i < b->ngens; i++)
        if (!b->gens[i]->pruned && !b->gens[i]->status)
            return 1;
    bkp_gen_list_free(b->gens, b->ngens);
    b->gens = NULL;
    b->ngens = 0;
    return 0;
}

int rst_browse_new(const bkp_repo *r, const char *spec, rst_browse **out)
{
    rst_browse *b = calloc(1, sizeof(*b));
    if (!b || !(b->root = node_new(NULL, "", 0))) {
        free(b);
        return -ENOMEM;
    }
    b->r = r;
    synthetic_dir(b->root, 0, LAYOUT_MODE);
    int rc = spec ? dataset_of(b, spec) : 0;
    if (!spec && !(rc = bkp_gen_list(r, NULL, &b->gens, &b->ngens)))
        rc = layout(b, false);
    else if (rc == 1)
        rc = layout(b, true);
    else if (!rc) {
        /* One generation at the root. */
        if (!(b->gens = calloc(1, sizeof(*b->gens))))
            rc = -ENOMEM;
        else if (!(rc = bkp_gen_resolve(r, spec, &b->gens[0]))) {
            b->ngens = 1;
            b->root->gen = b->gens[0];
            synthetic_dir(b->root, b->gens[0]->finished, LAYOUT_MODE);
        }
    }
    if (rc < 0) {
        rst_browse_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void rst_browse_free(rst_browse *b)
{
    if (!b)
        return;
    node_free(b->root);
    rst_browse_cache_clear(b);
    bkp_gen_list_free(b->gens, b->ngens);
    free(b);
}

int rst_browse_lookup(rst_browse *b, const char *path, rst_node **out)
{
    rst_node *n = b->root;
    bool damaged = false;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, "/");
        if (len) {
            int rc = load(b, n);
            if (rc == -ENOMEM)
                return rc;
            damaged |= rc < 0;
            if (!S_ISDIR(n->st.st_mode))
                return -ENOTDIR;
            rst_node *k = kid_find(n, p, len);
            if (!k)
                return damaged ? -EIO : -ENOENT;
            n = k;
        }
        p += len + (p[len] == '/');
    }
    *out = n;
    return 0;
}

void rst_browse_stat(const rst_node *n, struct stat *st)
{
    *st = n->st;
    st->st_ino = 0;
}

const char *rst_browse_link(const rst_node *n)
{
    return S_ISLNK(n->st.st_mode) ? n->link : NULL;
}

int rst_browse_list(rst_browse *b, rst_node *dir,
                    int (*fn)(const char *name, const struct stat *st, void *ctx), void *ctx)
{
    if (!S_ISDIR(dir->st.st_mode))
        return -ENOTDIR;
    /* A damaged item stream still shows what was read before the damage
     * (said once by load). */
    int rc = load(b, dir), x = 0;
    if (rc == -ENOMEM)
        return rc;
    for (uint32_t i = 0; i < dir->nkids && !x; i++)
        x = fn(dir->kids[i]->name, &dir->kids[i]->st, ctx);
    return x;
}

char *rst_browse_path(const rst_node *n)
{
    size_t len = 0;
    for (const rst_node *p = n; p && !p->gen; p = p->parent)
        len += strlen(p->name) + 1;
    char *s = malloc(len + 1), *end = s ? s + len : NULL;
    if (!s)
        return NULL;
    *end = '\0';
    for (const rst_node *p = n; p && !p->gen; p = p->parent) {
        size_t k = strlen(p->name);
        end -= k;
        memcpy(end, p->name, k);
        *--end = '/';
    }
    return s;
}
