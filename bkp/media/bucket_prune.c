/*
 * bucket_prune.c — pruning an Object Lock bucket (bucket.h): a generation
 * that retention lets go is deleted once the lock of every version of its
 * record has passed, a tombstone taking its place first; a pack is deleted
 * once no generation left in the bucket lists it (SEQ.packs) and its lock
 * has passed; so are old probe canaries and the superseded versions of the
 * audit copy.
 *
 * The server is the last word: a version whose lock has not passed is never
 * asked to go (and would be refused). What the bucket says is checked: the
 * lists of packs are signed by the repository's key and name their record
 * by its hash; a kept record without a list that checks keeps every pack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/media/bucket_internal.h"
#include "bkp/io/durable.h"
#include "bkp/media/copy.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* Every version under `prefix` (of exactly that key when `exact`), each
 * with its lock read by HEAD (a delete marker has none). */
static int list_locks(bkp_s3 *s, const char *prefix, bool exact, bucket_versions *out)
{
    bucket_versions all = {0};
    size_t k = 0;
    int rc = bkp_s3_list_versions(s, prefix, bucket_take_any_version, &all);
    for (size_t i = 0; !rc && i < all.n; i++) {
        bucket_version x = all.v[i];
        bkp_s3_object o;
        if (exact && strcmp(x.key, prefix))
            continue;
        if (!x.marker) {
            int h = bkp_s3_head(s, x.key, x.id, &o);
            if (h && h != -ENOENT)
                rc = h;
            x.until = h ? 0 : o.retain_until;
        }
        all.v[k++] = x;
    }
    if (rc) {
        free(all.v);
        return rc;
    }
    all.n = k;
    *out = all;
    return 0;
}

static size_t locked(const bucket_version *v, size_t n, time_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !v[i].marker && v[i].until > now;
    return k;
}

/* Delete the versions v[0..n) (all unlocked by now): 0, 1 when the server
 * refused one (it stays, counted locked), or an error. */
static int delete_versions(bkp_s3 *s, const bucket_version *v, size_t n,
                           bkp_bucket_prune_result *res)
{
    int refused = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = bkp_s3_delete(s, v[i].key, v[i].id, false);
        if (rc == -EACCES) {
            /* The server knows better (its clock, a legal hold): kept. */
            res->locked++;
            refused = 1;
        } else if (rc && rc != -ENOENT) {
            return rc;
        } else {
            res->versions++;
        }
    }
    return refused;
}

/* ---- generations ---- */

/* Delete record `g` from the bucket, if every version of its files is
 * unlocked: its tombstone first (made in the working copy), then the
 * versions of SEQ.gen, SEQ.cleared and SEQ.packs. 1 when still locked. */
static int prune_gen(bkp_s3 *s, bkp_repo *copy, const bkp_gen *g, time_t now, bkp_s3_lock mode,
                     time_t floor, bkp_bucket_prune_result *res)
{
    static const char *const ext[] = {"gen", "cleared", "packs"};
    bucket_versions all[3] = {{0}};
    size_t nlocked = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < 3; i++) {
        char key[512];
        snprintf(key, sizeof(key), GENS_PREFIX "%s/%010u.%s", g->dataset, g->seq, ext[i]);
        rc = list_locks(s, key, true, &all[i]);
        nlocked += all[i].n ? locked(all[i].v, all[i].n, now) : 0;
    }
    if (!rc && nlocked) {
        res->locked += nlocked;
        rc = 1;
    }
    if (!rc) {
        char sub[512], key[512];
        snprintf(sub, sizeof(sub), "generations/%s", g->dataset);
        snprintf(key, sizeof(key), GENS_PREFIX "%s/%010u.pruned", g->dataset, g->seq);
        char *dir = bkp_repo_subpath(copy, sub), *tomb = NULL;
        if (dir && asprintf(&tomb, "%s/%010u.pruned", dir, g->seq) < 0)
            tomb = NULL;
        /* The tombstone is in the bucket before the record goes. */
        rc = !tomb ? -ENOMEM : bkp_gen_prune(copy, g);
        if (!rc)
            rc = bucket_put_file(s, key, tomb,
                                 bkp_copy_member_max("generations/x/0000000001.pruned"), mode,
                                 floor, NULL);
        /* A refusal leaves the record (and what it needs) in place. */
        for (size_t i = 0; rc >= 0 && i < 3; i++) {
            int x = delete_versions(s, all[i].v, all[i].n, res);
            rc = x < 0 ? x : rc | x;
        }
        if (!rc)
            res->generations++;
        free(tomb);
        free(dir);
    }
    for (size_t i = 0; i < 3; i++)
        free(all[i].v);
    return rc;
}

/* ---- packs ---- */

/* Delete every pack no kept record lists, whose versions are all unlocked. */
static int prune_packs(bkp_s3 *s, bkp_bucket_packset *need, time_t now,
                       bkp_bucket_prune_result *res)
{
    bucket_versions all = {0};
    bkp_bucket_packset_sort(need);
    int rc = list_locks(s, PACKS_PREFIX, false, &all);
    for (size_t i = 0; !rc && i < all.n;) {
        size_t j = i;
        while (j < all.n && !strcmp(all.v[j].key, all.v[i].key))
            j++;
        uint64_t max;
        const char *rel = bucket_rel_of(all.v[i].key, &max);
        bool needed =
            !rel || strlen(rel) < 9 + 2 * BKP_ID_LEN || bkp_bucket_packset_has(need, rel + 9);
        size_t k = locked(all.v + i, j - i, now);
        if (!needed && k)
            res->locked += k;
        else if (!needed && !(rc = delete_versions(s, all.v + i, j - i, res)))
            res->packs++;
        if (rc > 0)
            rc = 0; /* refused: it stays */
        i = j;
    }
    free(all.v);
    return rc;
}

/* ---- superseded versions of the audit copy ---- */

/* Each rotation that appended to the host's log uploads the audit copy
 * anew: every older version is a prefix of the current one, and kept only
 * by its lock. Once the current version is known to be ours (its ETag is
 * the MD5 of the working copy's, which the rotation just made agree with
 * the host's log), the older ones whose lock has passed are deleted. A
 * current version that is not ours (put in front since) deletes nothing. */
static int prune_audit_versions(bkp_s3 *s, bkp_repo *copy, time_t now, bkp_bucket_prune_result *res)
{
    const char *key = BKP_BUCKET_REPO BKP_AUDIT_COPY;
    char *path = bkp_repo_subpath(copy, BKP_AUDIT_COPY), md5[33];
    bkp_buf b;
    bkp_s3_object cur;
    bucket_versions all = {0};
    bkp_buf_init(&b);
    int rc = path ? bkp_read_file(path, &b, bkp_copy_member_max(BKP_AUDIT_COPY)) : -ENOMEM;
    if (!rc)
        rc = bkp_s3_md5(-1, b.data, b.len, md5);
    if (!rc)
        rc = bkp_s3_head(s, key, NULL, &cur);
    if (!rc && (strcmp(cur.etag, md5) || !cur.version_id[0]))
        rc = -ESTALE; /* not ours in front: nothing goes */
    if (!rc)
        rc = list_locks(s, key, true, &all);
    for (size_t i = 0; !rc && i < all.n; i++) {
        if (!strcmp(all.v[i].id, cur.version_id))
            continue;
        if (locked(&all.v[i], 1, now))
            res->locked++;
        else if ((rc = delete_versions(s, &all.v[i], 1, res)) > 0)
            rc = 0; /* refused: it stays */
        else if (!rc)
            res->audit_versions++;
    }
    if (rc == -ENOENT || rc == -ESTALE)
        rc = 0; /* no audit copy yet, or not ours in front: the next rotation */
    free(all.v);
    bkp_buf_free(&b);
    free(path);
    return rc;
}

int bkp_bucket_prune(bkp_s3 *s, bkp_repo *copy, bkp_gen **v, const bool *doomed, size_t n,
                     time_t now, bkp_s3_lock mode, time_t floor, bkp_bucket_prune_result *res)
{
    bkp_bucket_packset need = {0};
    bool *gone = calloc(n + 1, sizeof(*gone));
    int rc = gone ? 0 : -ENOMEM;
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; !rc && i < n; i++) {
        if (!doomed[i] || v[i]->pruned || v[i]->status)
            continue;
        int x = prune_gen(s, copy, v[i], now, mode, floor, res);
        gone[i] = x == 0;
        rc = x < 0 ? x : 0;
    }
    /* What the records left in the bucket need, each by its own signed list. */
    for (size_t i = 0; !rc && i < n && !res->packs_kept_all; i++) {
        if (gone[i] || (v[i]->pruned && !v[i]->status))
            continue;
        int x = v[i]->status ? -EBADMSG : bkp_bucket_packset_add(copy, v[i], &need);
        if (x == -ENOMEM) {
            rc = x;
        } else if (x) {
            bkp_warn(_("%s:%u: no list of its packs in the bucket checks (%s): every pack is kept"),
                     v[i]->dataset, v[i]->seq, bkp_strerror(x));
            res->packs_kept_all = true;
        }
    }
    if (!rc && !res->packs_kept_all)
        rc = prune_packs(s, &need, now, res);
    if (!rc)
        rc = prune_audit_versions(s, copy, now, res);
    /* Old probe canaries. */
    bucket_versions canaries = {0};
    if (!rc && !(rc = list_locks(s, PROBE_PREFIX, false, &canaries)))
        for (size_t i = 0; !rc && i < canaries.n; i++)
            if (!locked(&canaries.v[i], 1, now) && delete_versions(s, &canaries.v[i], 1, res) < 0)
                rc = -EIO;
    if (rc)
        bkp_error(_("pruning the bucket stopped: %s; what is deleted stays deleted, the rest is "
                    "kept, and the next rotation carries on"),
                  bkp_strerror(rc));
    free(canaries.v);
    bkp_bucket_packset_free(&need);
    free(gone);
    return rc;
}
