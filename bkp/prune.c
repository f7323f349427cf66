#include "bkp/prune.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/durable.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/repack.h"
#include "bkp/tree.h"

#define INTENT "prune-intent"

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

static int write_one(const bkp_buf *seg, void *ctx)
{
    json_t *names = ctx;
    char hex[2 * BKP_ID_LEN + 1];
    int rc = bkp_index_segment_store(json_string_value(json_object_get(names, "dir")), seg, hex);
    json_array_append_new(json_object_get(names, "written"), json_string(hex));
    return rc;
}

/* Step 4, also run by recovery: old segments (not rewritten), packs, intent. */
static int finish(const char *repo, json_t *intent)
{
    char *idir = bkp_path_join(repo, "index"), *pdir = bkp_path_join(repo, "packs");
    char *ldir = bkp_path_join(repo, "locks");
    json_t *keep = json_object_get(intent, "new_segments"), *v;
    size_t i, j;
    int rc = idir && pdir && ldir ? 0 : -ENOMEM;
    json_array_foreach(json_object_get(intent, "old_segments"), i, v) {
        bool rewritten = false;
        json_t *k;
        json_array_foreach(keep, j, k) rewritten |= json_equal(k, v);
        char *p = rc || rewritten ? NULL : bkp_path_join(idir, json_string_value(v));
        int x = p ? bkp_unlink_sealed(p) : 0;
        if (x && x != -ENOENT)
            rc = x;
        free(p);
    }
    if (!rc)
        rc = bkp_fsync_dir(idir);
    json_array_foreach(json_object_get(intent, "packs"), i, v) {
        uint8_t id[BKP_ID_LEN];
        if (rc || bkp_unhex(id, BKP_ID_LEN, json_string_value(v)))
            continue;
        char *p = bkp_pack_path(pdir, id);
        int x = p ? bkp_unlink_sealed(p) : 0;
        if (x && x != -ENOENT)
            rc = x;
        if (p) {
            *strrchr(p, '/') = '\0';
            (void)bkp_fsync_dir(p);
        }
        free(p);
    }
    if (!rc) {
        char *ip = bkp_path_join(ldir, INTENT);
        if (ip && unlink(ip) < 0 && errno != ENOENT)
            rc = -errno;
        free(ip);
        if (!rc)
            rc = bkp_fsync_dir(ldir);
    }
    free(idir);
    free(pdir);
    free(ldir);
    return rc;
}

static json_t *load_intent(const char *repo)
{
    char *ldir = bkp_path_join(repo, "locks");
    char *ip = ldir ? bkp_path_join(ldir, INTENT) : NULL;
    json_t *intent = ip ? json_load_file(ip, 0, NULL) : NULL;
    free(ip);
    free(ldir);
    return intent;
}

bool bkp_prune_doomed(const char *repo, const char *hex)
{
    json_t *intent = load_intent(repo), *v;
    size_t i;
    bool doomed = false;
    json_array_foreach(json_object_get(intent, "packs"), i, v) doomed |= !strcmp(json_string_value(v), hex);
    json_decref(intent);
    return doomed;
}

int bkp_prune_recover(const char *repo, bool mine)
{
    char *ldir = bkp_path_join(repo, "locks");
    char *ip = ldir ? bkp_path_join(ldir, INTENT) : NULL;
    json_t *intent = ip ? json_load_file(ip, 0, NULL) : NULL;
    int rc = 0;
    /* A live prune is doing it now; a dead one left it to us. */
    if (intent && (mine || !bkp_lock_is_held(repo, "prune"))) {
        /* Only intents whose new index was written completely are finished;
         * an earlier one is dropped: the old segments and packs stay, and
         * the next prune starts over. Either way nothing in use goes. */
        if (json_is_true(json_object_get(intent, "index_written"))) {
            rc = finish(repo, intent);
            if (rc)
                bkp_error("cannot finish an interrupted prune (%s); nothing writes to this "
                          "repository until it is finished: fix the cause and run `bkp prune`",
                          bkp_strerror(rc));
            else
                bkp_warn("finished a prune that was interrupted");
        } else if (unlink(ip) == 0) {
            bkp_warn("dropped an interrupted prune that had deleted no pack yet");
        }
    }
    json_decref(intent);
    free(ip);
    free(ldir);
    return rc;
}

/* The current segment names; NULL when they cannot all be listed (a prune
 * that forgot one would keep naming packs it deletes). */
static json_t *segment_names(const char *idir)
{
    json_t *a = json_array();
    DIR *d = opendir(idir);
    struct dirent *e;
    uint8_t id[BKP_ID_LEN];
    if (!d || !a) {
        json_decref(a);
        if (d)
            closedir(d);
        return NULL;
    }
    while ((e = readdir(d)))
        if (!bkp_unhex(id, BKP_ID_LEN, e->d_name) &&
            json_array_append_new(a, json_string(e->d_name)) != 0) {
            json_decref(a);
            a = NULL;
            break;
        }
    closedir(d);
    return a;
}

static int write_intent(const char *ldir, json_t *intent)
{
    char *text = json_dumps(intent, JSON_COMPACT);
    int rc = text ? bkp_durable_write(ldir, INTENT, text, strlen(text), 0) : -ENOMEM;
    free(text);
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
    json_t *intent = NULL;
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
    json_t *packs = json_array();
    for (uint32_t p = 0; p < np; p++) {
        char hex[2 * BKP_ID_LEN + 1];
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
            bkp_hex(hex, bkp_index_pack_id(x, p), BKP_ID_LEN);
            json_array_append_new(packs, json_string(hex));
            if (mostly_empty) /* its live part is written again */
                res->bytes -= s.live_bytes[p] < res->bytes ? s.live_bytes[p] : 0;
        } else {
            res->packs_kept++;
            res->packs_partly_used += s.live[p] < s.total[p];
        }
    }
    if (dry_run || (!res->packs && !res->packs_repacked)) {
        json_decref(packs);
        goto out;
    }
    json_t *old = segment_names(idir);
    if (!old) {
        json_decref(packs);
        rc = -EIO;
        bkp_error("cannot list %s", idir);
        goto out;
    }
    intent = json_pack("{s:o, s:o, s:b}", "packs", packs, "old_segments", old, "index_written", 0);
    if (!intent) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = write_intent(ldir, intent)))
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
    json_t *names = json_pack("{s:s, s:[]}", "dir", idir, "written");
    if (!rc && !names)
        rc = -ENOMEM;
    if (!rc)
        rc = bkp_index_segments_encode(fresh, 0, bkp_index_pack_count(fresh), bkp_repo_keys(r),
                                       1U << 20, write_one, names);
    if (!rc) {
        json_object_set(intent, "new_segments", json_object_get(names, "written"));
        json_object_set_new(intent, "index_written", json_true());
        rc = write_intent(ldir, intent);
    }
    json_decref(names);
    if (!rc)
        rc = finish(bkp_repo_path(r), intent);
out:
    if (rc)
        bkp_error("prune stopped: %s; every generation that remains is intact, and the next prune "
                  "starts over",
                  bkp_strerror(rc));
    json_decref(intent);
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
