#include "bkp/store/prune.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/store/intent.h"
#include "bkp/io/lock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/prune_internal.h"
#include "bkp/store/repack.h"
#include "bkp/store/tree.h"

/*
 * The blobs a remaining generation needs, as a Bloom filter under random
 * keys of this run: about 2 bytes a blob, where a hash table of entries
 * cost 70 (a prune of ten million blobs held 700 MiB for it). Why that is
 * safe: every needed ID is added, so "not needed" is always right and no
 * needed blob is ever deleted; a false "needed" (well under 1 % of the dead
 * blobs) only keeps a dead blob, and its pack, until a later prune, whose
 * other keys find it.
 */
#define USED_PROBES 7
typedef struct used_set {
    uint64_t *bits, mask; /* mask: bits - 1, a power of two */
    uint8_t k1[crypto_shorthash_KEYBYTES], k2[crypto_shorthash_KEYBYTES];
} used_set;

/* For at most `n` IDs: at least 16 bits each, and 1 Mbit at least (so that
 * a small repository's false "needed" is vanishingly rare). */
static int used_new(used_set *u, uint64_t n)
{
    uint64_t bits = (uint64_t)1 << 20;
    while (bits < n * 16 && bits < ((uint64_t)1 << 40))
        bits *= 2;
    u->mask = bits - 1;
    u->bits = calloc(bits / 64, sizeof(uint64_t));
    randombytes_buf(u->k1, sizeof(u->k1));
    randombytes_buf(u->k2, sizeof(u->k2));
    return u->bits ? 0 : -ENOMEM;
}

static void used_free(used_set *u)
{
    free(u->bits);
    u->bits = NULL;
}

/* Probe i of `id`: h1 + i × h2 (two keyed SipHashes). */
static void probes(const used_set *u, const uint8_t id[BKP_ID_LEN], uint64_t *h1, uint64_t *h2)
{
    uint8_t a[8], b[8];
    crypto_shorthash(a, id, BKP_ID_LEN, u->k1);
    crypto_shorthash(b, id, BKP_ID_LEN, u->k2);
    memcpy(h1, a, 8);
    memcpy(h2, b, 8);
    *h2 |= 1;
}

static int mark_id(used_set *u, const uint8_t id[BKP_ID_LEN])
{
    uint64_t h1, h2;
    probes(u, id, &h1, &h2);
    for (int i = 0; i < USED_PROBES; i++, h1 += h2)
        u->bits[(h1 & u->mask) / 64] |= (uint64_t)1 << (h1 % 64);
    return 0;
}

static bool is_used(const used_set *u, const uint8_t id[BKP_ID_LEN])
{
    uint64_t h1, h2;
    probes(u, id, &h1, &h2);
    for (int i = 0; i < USED_PROBES; i++, h1 += h2)
        if (!(u->bits[(h1 & u->mask) / 64] & (uint64_t)1 << (h1 % 64)))
            return false;
    return true;
}

static bool is_doomed(const bkp_gen *g, bkp_gen *const *doomed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (doomed[i]->seq == g->seq && !strcmp(doomed[i]->dataset, g->dataset))
            return true;
    return false;
}

/* Every blob generation `g` of `r` needs into `used`; with `only_in`, only
 * those that repository has (the rest cannot keep a pack of it, and would
 * only crowd the set). */
static int mark_gen(bkp_repo *r, const bkp_gen *g, used_set *used, const bkp_repo *only_in)
{
    char name[96];
    int rc = 0, x = 0;
    bkp_gen_name(g, name, sizeof(name));
    for (size_t t = 0; !rc && t < g->ntree; t++)
        if (!only_in || bkp_repo_has(only_in, g->tree + t * BKP_ID_LEN))
            rc = mark_id(used, g->tree + t * BKP_ID_LEN);
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bkp_item_init(&it);
    if (!rc)
        rc = bkp_tree_reader_new(r, g->tree, g->ntree, &tr);
    while (!rc && (x = bkp_tree_reader_next(tr, &it)) > 0)
        for (uint32_t k = 0; !rc && k < it.nchunks; k++)
            if (!only_in || bkp_repo_has(only_in, it.chunks[k].id))
                rc = mark_id(used, it.chunks[k].id);
    if (!rc && x < 0) {
        bkp_error(_("%s: its file list cannot be read (%s); prune deletes no pack until `bkp "
                    "verify --read-data` is clean"),
                  name, bkp_strerror(x));
        rc = x;
    }
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    return rc;
}

/* Every blob a remaining generation needs (the doomed ones do not count,
 * whether or not they are deleted yet), and the coming ones of `how`. Any
 * doubt aborts. */
static int mark(bkp_repo *r, used_set *used, bkp_gen *const *doomed, size_t ndoomed,
                const bkp_prune_how *how)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = bkp_gen_list(r, NULL, &v, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char name[96];
        if ((v[i]->pruned && !v[i]->status) || is_doomed(v[i], doomed, ndoomed))
            continue;
        if (v[i]->status) {
            bkp_error(_("%s: its record is damaged, so what it needs is unknown; prune deletes no "
                        "pack until `bkp verify` is clean"),
                      bkp_gen_name(v[i], name, sizeof(name)));
            rc = -EBADMSG;
            break;
        }
        rc = mark_gen(r, v[i], used, NULL);
    }
    for (size_t i = 0; !rc && how->coming_from && i < how->ncoming; i++)
        rc = mark_gen(how->coming_from, how->coming[i], used, r);
    bkp_gen_list_free(v, n);
    return rc;
}

typedef struct sweep {
    const used_set *used;
    uint32_t *total, *live;
    uint64_t *total_bytes, *live_bytes;
} sweep;

static void count(const bkp_index_entry *e, void *ctx)
{
    sweep *s = ctx;
    bool live = is_used(s->used, e->id);
    s->total[e->pack]++;
    s->live[e->pack] += live;
    s->total_bytes[e->pack] += e->len;
    s->live_bytes[e->pack] += live ? e->len : 0;
}

/* Live blobs of the packs being repacked, copied into new packs. */
typedef struct repack {
    bkp_repacker rp;
    const bool *moving;
    const used_set *used;
    bkp_stays *out;
    int err;
} repack;

/* A new pack is durable (the repacker fsyncs it and its folder before it
 * calls this): the new index may name it and its blobs. */
static int adopt(const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *pe, uint32_t n, void *ctx)
{
    repack *p = ctx;
    return bkp_stays_add(p->out, id, pe, n);
}

static void move_entry(const bkp_index_entry *e, void *ctx)
{
    repack *p = ctx;
    if (!p->err && p->moving[e->pack] && is_used(p->used, e->id))
        p->err = bkp_repacker_add(&p->rp, e->type, e->id);
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
        bkp_error(_("this prune would delete more than %u packs at once; prune fewer generations "
                    "at a time"),
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

/*
 * The plan: what a prune would delete, computed without changing anything
 * (a dry run stops here). `dead` are the packs that go: unused, or mostly
 * empty (`moving`: their live blobs are written again first); `intent`
 * lists them. Any doubt while marking (a record or a tree that cannot be
 * read) fails the plan, and nothing is deleted.
 */
typedef struct plan {
    uint32_t np;   /* packs in the index */
    used_set used; /* every blob a remaining generation needs */
    sweep s;       /* per pack: blobs and bytes, all and live */
    bool *dead, *moving;
    bool *lz4;           /* recompress: the pack holds a live LZ4 blob */
    uint64_t dead_bytes; /* the dead packs' sizes */
    uint64_t moved;      /* the live bytes of the moving packs: written again */
    bkp_intent intent;
} plan;

static void plan_free(plan *p)
{
    used_free(&p->used);
    free(p->s.total);
    free(p->s.live);
    free(p->s.total_bytes);
    free(p->s.live_bytes);
    free(p->dead);
    free(p->moving);
    free(p->lz4);
    bkp_intent_free(&p->intent);
    memset(p, 0, sizeof(*p));
}

/* For `np` packs and `nblobs` blobs in the index. */
static int plan_alloc(plan *p, uint32_t np, uint64_t nblobs)
{
    memset(p, 0, sizeof(*p));
    p->np = np;
    p->s.total = calloc(np + 1, sizeof(*p->s.total));
    p->s.live = calloc(np + 1, sizeof(*p->s.live));
    p->s.total_bytes = calloc(np + 1, sizeof(*p->s.total_bytes));
    p->s.live_bytes = calloc(np + 1, sizeof(*p->s.live_bytes));
    p->dead = calloc(np + 1, sizeof(*p->dead));
    p->moving = calloc(np + 1, sizeof(*p->moving));
    p->lz4 = calloc(np + 1, sizeof(*p->lz4));
    if (!p->s.total || !p->s.live || !p->s.total_bytes || !p->s.live_bytes || !p->dead ||
        !p->moving || !p->lz4)
        return -ENOMEM;
    return used_new(&p->used, nblobs);
}

/* Every remaining record readable before any is deleted: a prune that
 * would stop at mark must not have deleted generations first. */
static int records_readable(bkp_repo *r)
{
    bkp_gen **all = NULL;
    size_t na = 0;
    int rc = bkp_gen_list(r, NULL, &all, &na);
    for (size_t i = 0; i < na && !rc; i++)
        if (all[i]->status) {
            char name[96];
            bkp_error(_("%s: its %s is damaged; prune changes nothing until `bkp verify` is clean"),
                      bkp_gen_name(all[i], name, sizeof(name)),
                      all[i]->pruned ? "tombstone" : "record");
            rc = -EBADMSG;
        }
    bkp_gen_list_free(all, na);
    return rc;
}

/* Pack `k` goes: its live blobs `move` to new packs first, or it has none. */
static int doom(plan *p, const bkp_index *x, const char *pdir, uint32_t k, bool move)
{
    struct stat st;
    char *path = bkp_pack_path(pdir, bkp_index_pack_id(x, k));
    p->dead[k] = true;
    p->moving[k] = move;
    p->moved += move ? p->s.live_bytes[k] : 0;
    if (path && stat(path, &st) == 0)
        p->dead_bytes += (uint64_t)st.st_size;
    free(path);
    return bkp_intent_add(&p->intent.packs, &p->intent.npacks, bkp_index_pack_id(x, k));
}

/* Judge each pack by what is marked: kept, deleted, or repacked then
 * deleted; the figures of `res` as the plan says. */
static int plan_packs(plan *p, const bkp_index *x, const char *pdir, bkp_prune_result *res)
{
    int rc = 0;
    p->s.used = &p->used;
    /* Every entry, or none of the plan: a pack whose blobs went unseen
     * would look unused and be deleted. */
    rc = bkp_index_foreach(x, count, &p->s);
    for (uint32_t k = 0; k < p->np && !rc; k++) {
        const sweep *s = &p->s;
        /* Mostly empty: its live blobs move to new packs, then it goes too.
         * A pack none of whose blobs the index serves (every one of them
         * indexed in another pack: what a repack killed before its index
         * left) goes as an unused one. */
        bool mostly_empty = s->live[k] && s->live_bytes[k] * 2 < s->total_bytes[k];
        if (s->live[k] && !mostly_empty) {
            res->packs_kept++;
            res->packs_partly_used += s->live[k] < s->total[k];
            continue;
        }
        res->packs_repacked += mostly_empty;
        res->packs += !mostly_empty;
        rc = doom(p, x, pdir, k, mostly_empty);
    }
    return rc;
}

/* Which kept packs hold a live LZ4 blob: each blob read and authenticated
 * until its pack has one (bkp_repo_comp_of), those surely stored skipped. */
typedef struct lz4_scan {
    const bkp_repo *r;
    plan *p;
    int err;
} lz4_scan;

static void find_lz4(const bkp_index_entry *e, void *ctx)
{
    lz4_scan *l = ctx;
    plan *p = l->p;
    bkp_comp_kind kind;
    if (l->err || p->dead[e->pack] || p->lz4[e->pack] || !is_used(&p->used, e->id) ||
        bkp_blob_surely_stored(e->len, e->raw_len))
        return;
    int rc = bkp_repo_comp_of(l->r, e->type, e->id, &kind);
    if (rc) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, e->id, BKP_ID_LEN);
        bkp_warn(_("blob %.16s cannot be read (%s): this prune recompresses nothing (its retention "
                   "applies); run `bkp verify --read-data`"),
                 hex, bkp_strerror(rc));
        l->err = rc;
    }
    p->lz4[e->pack] = !rc && kind == BKP_COMP_LZ4;
}

/* The kept packs that hold LZ4 blobs go too, their live blobs sealed anew:
 * as many as fit in half the free space of the repository's file system,
 * less what the plan moves already. A blob that cannot be read (said) or
 * free space that cannot be known leaves the plan as it was: recompressing
 * is never worth failing the retention for. */
static int plan_recompress(plan *p, const bkp_repo *r, const char *pdir, bkp_prune_result *res)
{
    const bkp_index *x = bkp_repo_index(r);
    lz4_scan l = {.r = r, .p = p};
    struct statvfs vfs;
    int rc = bkp_index_foreach(x, find_lz4, &l);
    if (rc)
        return rc; /* no memory */
    if (l.err || statvfs(pdir, &vfs) != 0)
        return 0;
    uint64_t room;
    if (__builtin_mul_overflow((uint64_t)vfs.f_bavail, (uint64_t)vfs.f_frsize, &room))
        room = UINT64_MAX;
    room /= 2;
    room = room > p->moved ? room - p->moved : 0;
    for (uint32_t k = 0; k < p->np && !rc; k++) {
        if (!p->lz4[k] || p->dead[k])
            continue;
        if (res->bytes_recompressed + p->s.live_bytes[k] > room) {
            res->packs_lz4_left++;
            continue;
        }
        res->packs_recompressed++;
        res->packs_kept--;
        res->packs_partly_used -= p->s.live[k] < p->s.total[k];
        res->bytes_recompressed += p->s.live_bytes[k];
        rc = doom(p, x, pdir, k, true);
    }
    return rc;
}

/* Step 2 and the choice of step 3: mark, then judge the packs (`p` from
 * plan_alloc). */
static int make_plan(bkp_repo *r, bkp_gen *const *doomed, size_t ndoomed, bkp_prune_how how,
                     const char *pdir, plan *p, bkp_prune_result *res)
{
    const bkp_index *x = bkp_repo_index(r);
    /* In a dry run the doomed records are still there: mark skips them. */
    int rc = mark(r, &p->used, doomed, ndoomed, &how);
    if (!rc)
        rc = plan_packs(p, x, pdir, res);
    if (!rc && how.recompress)
        rc = plan_recompress(p, r, pdir, res);
    /* What is freed: less what is written again. */
    res->bytes = p->dead_bytes > p->moved ? p->dead_bytes - p->moved : 0;
    return rc;
}

/* The index of what stays, written as it is made (prune_index.c): the
 * packs of the old segments that stay, then the live blobs of the repacked
 * packs in new packs, then the packs that stay and no segment named. Each
 * new segment is durable when written and named in `in` (in memory). */
static int write_what_stays(bkp_repo *r, const plan *p, const char *idir, const char *pdir,
                            bkp_intent *in, uint64_t *written)
{
    bkp_stays st = {.r = r, .idir = idir, .pdir = pdir, .dead = p->dead, .in = in};
    repack rp = {.rp = {.repo = r, .dir = pdir, .done = adopt},
                 .moving = p->moving,
                 .used = &p->used,
                 .out = &st};
    rp.rp.ctx = &rp;
    bool any = false; /* a moving pack (its live bytes may be none) */
    for (uint32_t k = 0; k < p->np && !any; k++)
        any = p->moving[k];
    int rc = bkp_stays_begin(&st);
    if (!rc)
        rc = bkp_stays_old(&st);
    if (!rc && any) {
        rc = bkp_index_foreach(bkp_repo_index(r), move_entry, &rp);
        rc = rc ? rc : rp.err ? rp.err : bkp_repacker_flush(&rp.rp);
    }
    if (!rc)
        rc = bkp_stays_end(&st);
    *written = rp.rp.written;
    bkp_repacker_free(&rp.rp);
    bkp_stays_free(&st);
    return rc;
}

/*
 * Apply a plan: steps 3 and 4 of prune.h. What a kill at each point leaves,
 * and what the next writable open (bkp_prune_recover) does with it:
 *  - before the first intent is durable: new packs of a repack at most,
 *    unnamed by any segment; the next open indexes them from their trailers
 *    (repo.c, reindex_orphans). Nothing was deleted.
 *  - after the first intent (index_written false), while the new index is
 *    written a segment at a time: the new segments written so far sit
 *    beside the old ones, naming packs the old ones name (with the same
 *    lists) or new packs of the repack; the open drops the intent, and the
 *    doubled entries are harmless (an ID is indexed once, a pack named
 *    twice keeps one number; the next prune writes equal lists once).
 *    Nothing was deleted. So does a prune stopped by an error there.
 *  - after the second intent (index_written true, durable before any
 *    deletion): the new index is whole; the open runs bkp_prune_finish from
 *    the intent, whose deletions are safe to repeat.
 * The new index is never whole in memory, but it is whole on disk before
 * the intent says so, as before: the second intent is written only after
 * the last segment is durable, and lists every one (bkp_prune_recover
 * refuses an intent whose new segments are not all there).
 */
static int apply_plan(bkp_repo *r, plan *p, const char *idir, const char *ldir, const char *pdir,
                      uint64_t *written)
{
    int rc = segment_names(idir, &p->intent);
    if (rc) {
        bkp_error(_("cannot list %s"), idir);
        return rc;
    }
    if ((rc = write_intent(r, ldir, &p->intent)))
        return rc;
    rc = write_what_stays(r, p, idir, pdir, &p->intent, written);
    /* The new index is complete and durable (each segment by
     * bkp_durable_write) before the intent says so, and the intent says so
     * before anything is deleted. */
    if (!rc) {
        p->intent.index_written = true;
        rc = write_intent(r, ldir, &p->intent);
    }
    if (!rc)
        rc = bkp_prune_finish(bkp_repo_path(r), &p->intent);
    return rc;
}

int bkp_prune(bkp_repo *r, bkp_gen *const *doomed, size_t ndoomed, bkp_prune_how how,
              bkp_prune_result *res)
{
    bool dry_run = how.dry_run;
    uint64_t written = 0;
    char *idir = bkp_repo_subpath(r, "index"), *ldir = bkp_repo_subpath(r, "locks");
    char *pdir = bkp_repo_subpath(r, "packs");
    plan p = {0};
    /* Everything the plan needs is allocated before anything is deleted. */
    const bkp_index *x = bkp_repo_index(r);
    int rc = !idir || !ldir || !pdir ? -ENOMEM
                                     : plan_alloc(&p, bkp_index_pack_count(x), bkp_index_count(x));
    if (!rc)
        rc = records_readable(r);

    memset(res, 0, sizeof(*res));
    res->generations = ndoomed;
    /* Step 1: each doomed record becomes its tombstone (tombstone.c: the
     * tombstone is durable before the record goes). A kill between two
     * leaves some generations pruned and their packs in place: the next
     * prune finds them unused. */
    for (size_t i = 0; !rc && !dry_run && i < ndoomed; i++)
        if ((rc = bkp_gen_prune(r, doomed[i])))
            bkp_error(_("cannot delete %s:%u: %s"), doomed[i]->dataset, doomed[i]->seq,
                      bkp_strerror(rc));
    if (!rc)
        rc = make_plan(r, doomed, ndoomed, how, pdir, &p, res);
    if (!rc && !dry_run && p.intent.npacks)
        rc = apply_plan(r, &p, idir, ldir, pdir, &written);
    if (!rc && !dry_run)
        res->bytes = p.dead_bytes > written ? p.dead_bytes - written : 0;
    if (rc)
        bkp_error(
            _("prune stopped: %s; every generation that remains is intact, and the next prune "
              "starts over"),
            bkp_strerror(rc));
    plan_free(&p);
    free(idir);
    free(ldir);
    free(pdir);
    return rc;
}
