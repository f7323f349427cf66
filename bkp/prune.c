#include "bkp/prune.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkp/durable.h"
#include "bkp/intent.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/repack.h"
#include "bkp/tree.h"

static int mark_id(bkp_index *used, const uint8_t id[BKP_ID_LEN])
{
    bkp_index_entry e = {0};
    memcpy(e.id, id, BKP_ID_LEN);
    return bkp_index_insert(used, &e) < 0 ? -ENOMEM : 0;
}

static bool is_doomed(const bkp_gen *g, bkp_gen *const *doomed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (doomed[i]->seq == g->seq && !strcmp(doomed[i]->dataset, g->dataset))
            return true;
    return false;
}

/* Every blob a remaining generation needs (the doomed ones do not count,
 * whether or not they are deleted yet). Any doubt aborts. */
static int mark(bkp_repo *r, bkp_index *used, bkp_gen *const *doomed, size_t ndoomed)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = bkp_gen_list(r, NULL, &v, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char name[96];
        bkp_gen_name(v[i], name, sizeof(name));
        if ((v[i]->pruned && !v[i]->status) || is_doomed(v[i], doomed, ndoomed))
            continue;
        if (v[i]->status) {
            bkp_error("%s: its record is damaged, so what it needs is unknown; prune deletes no "
                      "pack until `bkp verify` is clean",
                      name);
            rc = -EBADMSG;
            break;
        }
        for (size_t t = 0; !rc && t < v[i]->ntree; t++)
            rc = mark_id(used, v[i]->tree + t * BKP_ID_LEN);
        bkp_tree_reader *tr = NULL;
        bkp_item it;
        bkp_item_init(&it);
        if (!rc)
            rc = bkp_tree_reader_new(r, v[i]->tree, v[i]->ntree, &tr);
        int x;
        while (!rc && (x = bkp_tree_reader_next(tr, &it)) > 0)
            for (uint32_t k = 0; !rc && k < it.nchunks; k++)
                rc = mark_id(used, it.chunks[k].id);
        if (!rc && x < 0) {
            bkp_error("%s: its file list cannot be read (%s); prune deletes no pack until `bkp "
                      "verify --read-data` is clean",
                      name, bkp_strerror(x));
            rc = x;
        }
        bkp_item_clear(&it);
        bkp_tree_reader_free(tr);
    }
    bkp_gen_list_free(v, n);
    return rc;
}

typedef struct sweep {
    const bkp_index *used;
    uint32_t *total, *live;
    uint64_t *total_bytes, *live_bytes;
} sweep;

static void count(const bkp_index_entry *e, void *ctx)
{
    sweep *s = ctx;
    bool live = bkp_index_lookup(s->used, e->id) != NULL;
    s->total[e->pack]++;
    s->live[e->pack] += live;
    s->total_bytes[e->pack] += e->len;
    s->live_bytes[e->pack] += live ? e->len : 0;
}

/* Live blobs of the packs being repacked, copied into new packs. */
typedef struct repack {
    bkp_repacker rp;
    const bool *moving;
    const bkp_index *used;
    bkp_index *fresh;
    int err;
} repack;

/* A new pack is durable: the fresh index names it and its blobs. */
static int adopt(const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *pe, uint32_t n, void *ctx)
{
    repack *p = ctx;
    return bkp_index_add_pack_entries(p->fresh, id, pe, n);
}

static void move_entry(const bkp_index_entry *e, void *ctx)
{
    repack *p = ctx;
    if (!p->err && p->moving[e->pack] && bkp_index_lookup(p->used, e->id))
        p->err = bkp_repacker_add(&p->rp, e->type, e->id);
}

typedef struct keep_ctx {
    bkp_index *out;
    const bool *doomed;
    uint32_t *map; /* old pack number -> new */
    int err;
} keep_ctx;

static void keep_entry(const bkp_index_entry *e, void *ctx)
{
    keep_ctx *k = ctx;
    if (k->doomed[e->pack] || k->err)
        return;
    bkp_index_entry n = *e;
    n.pack = k->map[e->pack];
    if (bkp_index_insert(k->out, &n) < 0)
        k->err = -ENOMEM;
}

/* Segments of the new index, as they are written: named in the intent. */
typedef struct written {
    const char *dir;
    bkp_intent *in;
} written;

static int write_one(const bkp_buf *seg, void *ctx)
{
    written *w = ctx;
    char hex[2 * BKP_ID_LEN + 1];
    uint8_t id[BKP_ID_LEN];
    int rc = bkp_index_segment_store(w->dir, seg, hex);
    if (!rc && !(rc = bkp_unhex(id, BKP_ID_LEN, hex)))
        rc = bkp_intent_add(&w->in->new_segs, &w->in->nnew, id);
    return rc;
}

/* The directories recovery reads and deletes in, each opened once and
 * without following a symbolic link: every deletion is an unlinkat of one
 * name that matches the format, so no name and no planted link can make it
 * reach outside the repository. */
typedef struct rdirs {
    int locks, index, packs;
} rdirs;

static void close_dirs(rdirs *d)
{
    int *fds[] = {&d->locks, &d->index, &d->packs};
    for (size_t i = 0; i < 3; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    d->locks = d->index = d->packs = -1;
}

static int open_sub(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int open_dirs(const char *repo, rdirs *d)
{
    int root = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    d->locks = d->index = d->packs = -1;
    if (root < 0)
        return -errno;
    d->locks = open_sub(root, "locks");
    d->index = open_sub(root, "index");
    d->packs = open_sub(root, "packs");
    close(root);
    int rc = d->locks < 0 ? d->locks : d->index < 0 ? d->index : d->packs < 0 ? d->packs : 0;
    if (rc) {
        d->locks = d->locks < 0 ? -1 : d->locks;
        d->index = d->index < 0 ? -1 : d->index;
        d->packs = d->packs < 0 ? -1 : d->packs;
        close_dirs(d);
    }
    return rc;
}

static int unlink_pack(int packs, const uint8_t id[BKP_ID_LEN])
{
    char hex[2 * BKP_ID_LEN + 1], sub[3];
    bkp_hex(hex, id, BKP_ID_LEN);
    memcpy(sub, hex, 2);
    sub[2] = '\0';
    int fd = open_sub(packs, sub);
    if (fd < 0)
        return fd;
    int rc = bkp_unlink_sealed_at(fd, hex);
    int x = bkp_fsync_fd(fd);
    rc = rc ? rc : x;
    close(fd);
    return rc;
}

/* Step 4, also run by recovery: old segments (not rewritten), packs, intent. */
static int finish(const rdirs *d, const bkp_intent *in)
{
    char hex[2 * BKP_ID_LEN + 1];
    int rc = 0;
    for (size_t i = 0; !rc && i < in->nold; i++) {
        if (bkp_intent_lists((const uint8_t(*)[BKP_ID_LEN])in->new_segs, in->nnew, in->old_segs[i]))
            continue;
        bkp_hex(hex, in->old_segs[i], BKP_ID_LEN);
        int x = bkp_unlink_sealed_at(d->index, hex);
        rc = x == -ENOENT ? 0 : x;
    }
    if (!rc)
        rc = bkp_fsync_fd(d->index);
    for (size_t i = 0; !rc && i < in->npacks; i++) {
        int x = unlink_pack(d->packs, in->packs[i]);
        rc = x == -ENOENT ? 0 : x;
    }
    if (!rc)
        rc = bkp_durable_unlink_at(d->locks, BKP_INTENT_FILE);
    return rc;
}

/* Is `in` this repository's own? Its signature says it was written with
 * the repository key, but a copy on a medium shares key and ID with the
 * primary, so an intent of the primary (or of another copy) copied onto a
 * medium would verify there too. What tells them apart is the index it was
 * written against: finishing deletes the old segments it names and leaves
 * every other segment, and those (the new index, which must be here in
 * full, and anything else) must not name one pack it deletes. Segment names
 * are hashes of sealed bytes with a random nonce, so the primary's never
 * occur on a copy: there its new index is absent, and the copy's own
 * segments still name the packs, so nothing is deleted. A replayed old
 * intent of this very repository passes, and deletes only packs no segment
 * names. Any doubt (a segment that stays and cannot be read) refuses. */
static const char *foreign(const rdirs *d, const bkp_intent *in, const bkp_keys *k)
{
    const uint8_t(*news)[BKP_ID_LEN] = (const uint8_t(*)[BKP_ID_LEN])in->new_segs;
    const uint8_t(*olds)[BKP_ID_LEN] = (const uint8_t(*)[BKP_ID_LEN])in->old_segs;
    bkp_index *stays = NULL;
    bkp_buf seg;
    const char *why = NULL;
    size_t found_new = 0;
    int fd = fcntl(d->index, F_DUPFD_CLOEXEC, 0);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    bkp_buf_init(&seg);
    if (!dir || bkp_index_new(&stays)) {
        if (fd >= 0 && !dir)
            close(fd);
        why = "its index folder cannot be read";
        goto out;
    }
    while (!why && (e = readdir(dir))) {
        uint8_t id[BKP_ID_LEN];
        if (!bkp_is_object_name(e->d_name) || bkp_unhex(id, BKP_ID_LEN, e->d_name))
            continue; /* temporary files, set-aside segments */
        bool is_new = bkp_intent_lists(news, in->nnew, id);
        if (!is_new && bkp_intent_lists(olds, in->nold, id))
            continue; /* goes */
        found_new += is_new;
        int x = bkp_read_file_at(d->index, e->d_name, &seg,
                                 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16);
        if (!x)
            x = bkp_index_segment_load(stays, seg.data, seg.len, k);
        if (x)
            why = "an index segment that would stay cannot be read, so what it names is unknown";
    }
    if (!why && found_new != in->nnew)
        why = "the new index it names is not in this repository: it was written for another "
              "copy, or the index was damaged";
    for (size_t i = 0; !why && i < in->npacks; i++) {
        uint32_t num;
        if (bkp_index_find_pack(stays, in->packs[i], &num) == 0)
            why = "it would delete packs that this repository's index still uses: it was "
                  "written for another copy";
    }
out:
    if (dir)
        closedir(dir);
    bkp_index_free(stays);
    bkp_buf_free(&seg);
    return why;
}

/* Intents this process refused, for the audit log ("PATH: why; fate"). */
#define MAX_REJECTED 16
static char *rejected[MAX_REJECTED];
static size_t nrejected;

size_t bkp_prune_rejections(const char *const **out)
{
    *out = (const char *const *)rejected;
    return nrejected;
}

static void note_rejected(const char *repo, const char *why, const char *fate)
{
    char *s = NULL;
    if (nrejected < MAX_REJECTED &&
        asprintf(&s, "%s/locks/%s: %s; %s", repo, BKP_INTENT_FILE, why, fate) >= 0)
        rejected[nrejected++] = s;
}

/* Set a rejected intent aside under a name no reader takes for an intent:
 * evidence, never executed, never silently dropped. */
static void reject(const rdirs *d, const char *repo, const char *why, unsigned how)
{
    char to[64] = "";
    if (how & BKP_RECOVER_READONLY) {
        bkp_warn("%s/locks/%s is not a valid prune intent of this repository: %s. It is not "
                 "executed and nothing was changed; the next backup or `bkp prune` sets it aside",
                 repo, BKP_INTENT_FILE, why);
        note_rejected(repo, why, "reported by a read-only open, left in place");
        return;
    }
    int x = -EEXIST;
    for (int n = 0; x == -EEXIST && n < 100; n++) {
        snprintf(to, sizeof(to), "%s.rejected-%lld%s%.0d", BKP_INTENT_FILE, (long long)time(NULL),
                 n ? "-" : "", n);
        x = bkp_durable_rename_at(d->locks, BKP_INTENT_FILE, d->locks, to,
                                  BKP_DURABLE_NOREPLACE);
    }
    char fate[96];
    snprintf(fate, sizeof(fate), "%s%s", x ? "could not be set aside: " : "set aside as ",
             x ? bkp_strerror(x) : to);
    note_rejected(repo, why, fate);
    bkp_error("%s/locks/%s is not a valid prune intent of this repository: %s. It was not "
              "executed and nothing was deleted; %s%s. If no prune of this repository was "
              "interrupted, someone wrote it there: check who can write to %s, then run `bkp "
              "verify`",
              repo, BKP_INTENT_FILE, why, x ? "it could not be set aside: " : "it was set aside as ",
              x ? bkp_strerror(x) : to, repo);
}

/* The intent file of `d`, checked: 0 with `in`, -ENOENT when there is none,
 * -EBADMSG with `*why` when it fails a check, another errno if unreadable. */
static int load_intent(const rdirs *d, const bkp_keys *k, bkp_intent *in, const char **why)
{
    bkp_buf file;
    bkp_buf_init(&file);
    int rc = bkp_read_file_at(d->locks, BKP_INTENT_FILE, &file, BKP_INTENT_MAX_BYTES);
    memset(in, 0, sizeof(*in));
    if (rc == -EFBIG || rc == -EBADMSG || rc == -ELOOP) {
        *why = rc == -EFBIG ? "larger than any intent" : "not a regular file";
        rc = -EBADMSG;
    } else if (!rc && (rc = bkp_intent_decode(file.data, file.len, k, in)) == -EBADMSG) {
        *why = "its signature does not verify with this repository's key, or a field is "
               "malformed";
    }
    bkp_buf_free(&file);
    return rc;
}

bool bkp_prune_doomed(const char *repo, const bkp_keys *k, const char *hex)
{
    rdirs d;
    bkp_intent in;
    const char *why = NULL;
    uint8_t id[BKP_ID_LEN];
    bool doomed = false;
    if (!bkp_is_object_name(hex) || bkp_unhex(id, BKP_ID_LEN, hex) || open_dirs(repo, &d))
        return false;
    /* Only an intent written with the key counts: a planted one must not
     * hide packs from re-indexing either. */
    if (load_intent(&d, k, &in, &why) == 0)
        doomed = bkp_intent_lists((const uint8_t(*)[BKP_ID_LEN])in.packs, in.npacks, id);
    bkp_intent_free(&in);
    close_dirs(&d);
    return doomed;
}

int bkp_prune_recover(const char *repo, const bkp_keys *k, unsigned how, bool *finished)
{
    rdirs d;
    bkp_intent in = {0};
    const char *why = NULL;
    if (finished)
        *finished = false;
    int rc = open_dirs(repo, &d);
    if (rc)
        return 0; /* no intent can be read, so none is acted on; the open reports the rest */
    rc = load_intent(&d, k, &in, &why);
    /* A live prune is doing it now; a dead one left it to us. A read-only
     * open leaves locks alone (judging one stale would remove it). */
    if (rc == -ENOENT || (!(how & (BKP_RECOVER_MINE | BKP_RECOVER_READONLY)) &&
                          bkp_lock_is_held(repo, "prune"))) {
        rc = 0;
        goto out;
    }
    if (rc && rc != -EBADMSG) {
        bkp_warn("cannot read %s/locks/%s (%s); it is not acted on", repo, BKP_INTENT_FILE,
                 bkp_strerror(rc));
        rc = 0;
        goto out;
    }
    if (!rc && in.index_written)
        why = foreign(&d, &in, k);
    rc = 0;
    if (why) {
        reject(&d, repo, why, how);
    } else if (how & BKP_RECOVER_READONLY) {
        bkp_warn("a prune of %s is under way or was interrupted; if interrupted, the next "
                 "backup or `bkp prune` finishes it (nothing was changed now)",
                 repo);
    } else if (!in.index_written) {
        /* Only intents whose new index was written completely are finished;
         * an earlier one is dropped: the old segments and packs stay, and
         * the next prune starts over. Either way nothing in use goes. */
        if (unlinkat(d.locks, BKP_INTENT_FILE, 0) == 0)
            bkp_warn("dropped an interrupted prune that had deleted no pack yet");
    } else if ((rc = finish(&d, &in))) {
        bkp_error("cannot finish an interrupted prune of %s (%s); nothing writes to this "
                  "repository until it is finished: fix the cause and run `bkp prune`",
                  repo, bkp_strerror(rc));
    } else {
        bkp_warn("finished a prune of %s that was interrupted", repo);
        if (finished)
            *finished = true;
    }
out:
    bkp_intent_free(&in);
    close_dirs(&d);
    return rc;
}

/* The current segment names into `in`; -EIO when they cannot all be listed
 * (a prune that forgot one would keep naming packs it deletes). */
static int segment_names(const char *idir, bkp_intent *in)
{
    DIR *d = opendir(idir);
    struct dirent *e;
    uint8_t id[BKP_ID_LEN];
    int rc = d ? 0 : -EIO;
    while (!rc && (e = readdir(d)))
        if (bkp_is_object_name(e->d_name) && !bkp_unhex(id, BKP_ID_LEN, e->d_name))
            rc = bkp_intent_add(&in->old_segs, &in->nold, id);
    if (d)
        closedir(d);
    return rc;
}

/* Sign and write `in`, then read back what recovery would: the prune
 * finishes from exactly the checked intent a recovery would finish from. */
static int write_intent(bkp_repo *r, const char *ldir, bkp_intent *in)
{
    bkp_buf text;
    bkp_intent back;
    bkp_buf_init(&text);
    int rc = bkp_intent_encode(in, bkp_repo_keys(r), &text);
    if (rc == -E2BIG)
        bkp_error("this prune would delete more than %u packs at once; prune fewer generations "
                  "at a time",
                  BKP_INTENT_MAX_PACKS);
    if (!rc)
        rc = bkp_durable_write(ldir, BKP_INTENT_FILE, text.data, text.len, 0);
    if (!rc)
        rc = bkp_intent_decode(text.data, text.len, bkp_repo_keys(r), &back);
    if (!rc) {
        bkp_intent_free(in);
        *in = back;
    }
    bkp_buf_free(&text);
    return rc;
}

int bkp_prune(bkp_repo *r, bkp_gen *const *doomed, size_t ndoomed, bool dry_run,
              bkp_prune_result *res)
{
    const bkp_index *x = bkp_repo_index(r);
    uint32_t np = bkp_index_pack_count(x);
    bkp_index *used = NULL, *fresh = NULL;
    sweep s = {0};
    bool *dead = calloc(np + 1, sizeof(*dead));
    uint32_t *map = calloc(np + 1, sizeof(*map));
    char *idir = bkp_repo_subpath(r, "index"), *ldir = bkp_repo_subpath(r, "locks");
    char *pdir = bkp_repo_subpath(r, "packs");
    bkp_intent intent = {0};
    rdirs dirs = {-1, -1, -1};
    int rc = 0;

    memset(res, 0, sizeof(*res));
    s.total = calloc(np + 1, sizeof(*s.total));
    s.live = calloc(np + 1, sizeof(*s.live));
    s.total_bytes = calloc(np + 1, sizeof(*s.total_bytes));
    s.live_bytes = calloc(np + 1, sizeof(*s.live_bytes));
    bool *moving = calloc(np + 1, sizeof(*moving));
    repack rp = {0};
    if (!dead || !map || !idir || !ldir || !pdir || !s.total || !s.live || !s.total_bytes ||
        !s.live_bytes || !moving || bkp_index_new(&used)) {
        rc = -ENOMEM;
        goto out;
    }
    res->generations = ndoomed;
    /* Every remaining record readable before any is deleted: a prune that
     * would stop at mark must not have deleted generations first. */
    {
        bkp_gen **all = NULL;
        size_t na = 0;
        if ((rc = bkp_gen_list(r, NULL, &all, &na)))
            goto out;
        for (size_t i = 0; i < na && !rc; i++)
            if (all[i]->status) {
                char name[96];
                bkp_error("%s: its %s is damaged; prune changes nothing until `bkp verify` is "
                          "clean",
                          bkp_gen_name(all[i], name, sizeof(name)),
                          all[i]->pruned ? "tombstone" : "record");
                rc = -EBADMSG;
            }
        bkp_gen_list_free(all, na);
        if (rc)
            goto out;
    }
    for (size_t i = 0; !dry_run && i < ndoomed && !rc; i++)
        if ((rc = bkp_gen_prune(r, doomed[i])))
            bkp_error("cannot delete %s:%u: %s", doomed[i]->dataset, doomed[i]->seq, bkp_strerror(rc));
    if (rc)
        goto out;
    /* In a dry run the doomed records are still there: leave them unmarked. */
    if ((rc = mark(r, used, doomed, ndoomed)))
        goto out;
    s.used = used;
    bkp_index_foreach(x, count, &s);
    for (uint32_t p = 0; p < np; p++) {
        /* Mostly empty: its live blobs move to new packs, then it goes too. */
        bool mostly_empty = s.live[p] && s.live_bytes[p] * 2 < s.total_bytes[p];
        if (mostly_empty) {
            moving[p] = true;
            res->packs_repacked++;
        }
        if ((s.total[p] && !s.live[p]) || mostly_empty) {
            struct stat st;
            char *path = bkp_pack_path(pdir, bkp_index_pack_id(x, p));
            dead[p] = true;
            res->packs += !mostly_empty;
            if (path && stat(path, &st) == 0)
                res->bytes += (uint64_t)st.st_size;
            free(path);
            if (!rc)
                rc = bkp_intent_add(&intent.packs, &intent.npacks, bkp_index_pack_id(x, p));
            if (mostly_empty) /* its live part is written again */
                res->bytes -= s.live_bytes[p] < res->bytes ? s.live_bytes[p] : 0;
        } else {
            res->packs_kept++;
            res->packs_partly_used += s.live[p] < s.total[p];
        }
    }
    if (rc || dry_run || (!res->packs && !res->packs_repacked))
        goto out;
    if ((rc = segment_names(idir, &intent))) {
        bkp_error("cannot list %s", idir);
        goto out;
    }
    if ((rc = write_intent(r, ldir, &intent)))
        goto out;
    /* The full index of what stays, under new names. */
    if ((rc = bkp_index_new(&fresh)))
        goto out;
    for (uint32_t p = 0; p < np && !rc; p++)
        if (!dead[p])
            rc = bkp_index_add_pack(fresh, bkp_index_pack_id(x, p), &map[p]);
    keep_ctx k = {fresh, dead, map, 0};
    if (!rc)
        bkp_index_foreach(x, keep_entry, &k);
    rc = rc ? rc : k.err;
    /* The new packs are durable (finish fsyncs) before the index naming them
     * is written, and that index before any old pack goes. */
    rp = (repack){.rp = {.repo = r, .dir = pdir, .done = adopt}, .moving = moving, .used = used,
                  .fresh = fresh};
    rp.rp.ctx = &rp;
    if (!rc && res->packs_repacked) {
        bkp_index_foreach(x, move_entry, &rp);
        rc = rp.err ? rp.err : bkp_repacker_flush(&rp.rp);
    }
    written w = {idir, &intent};
    if (!rc)
        rc = bkp_index_segments_encode(fresh, 0, bkp_index_pack_count(fresh), bkp_repo_keys(r),
                                       BKP_INDEX_SEGMENT_ENTRIES, write_one, &w);
    if (!rc) {
        intent.index_written = true;
        rc = write_intent(r, ldir, &intent);
    }
    if (!rc && (rc = open_dirs(bkp_repo_path(r), &dirs)) == 0)
        rc = finish(&dirs, &intent);
out:
    if (rc)
        bkp_error("prune stopped: %s; every generation that remains is intact, and the next prune "
                  "starts over",
                  bkp_strerror(rc));
    bkp_intent_free(&intent);
    close_dirs(&dirs);
    bkp_repacker_free(&rp.rp);
    bkp_index_free(used);
    bkp_index_free(fresh);
    free(s.total);
    free(s.live);
    free(s.total_bytes);
    free(s.live_bytes);
    free(moving);
    free(dead);
    free(map);
    free(idir);
    free(ldir);
    free(pdir);
    return rc;
}
