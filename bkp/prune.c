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
    if (!rc)
        rc = bkp_prune_finish(bkp_repo_path(r), &intent);
out:
    if (rc)
        bkp_error("prune stopped: %s; every generation that remains is intact, and the next prune "
                  "starts over",
                  bkp_strerror(rc));
    bkp_intent_free(&intent);
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
