/* copy.c — sealed generations copied to a repository copy on a medium. */
#include "bkp/media/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/key_slots.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/label.h"
#include "bkp/store/tree.h"

#define PACK_MAX BKP_PACK_MAX
#define RECORD_MAX (256U << 20)
#define CONFIG_MAX (64U << 10)
#define AUDIT_COPY_MAX (256ULL << 20)

/* The most a member of the layout may hold, by kind: each is capped by its
 * own format before a byte of it is kept in memory. */
static uint64_t member_max(const char *rel)
{
    if (!strcmp(rel, "BKP-LABEL"))
        return BKP_LABEL_MAX;
    if (!strcmp(rel, "config"))
        return CONFIG_MAX;
    if (!strcmp(rel, "keys/key"))
        return BKP_KEY_FILE_MAX;
    if (!strncmp(rel, "packs/", 6)) /* the target, one largest blob, its trailer */
        return BKP_PACK_MAX;
    if (!strncmp(rel, "index/", 6))
        return 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16;
    size_t l = strlen(rel);
    if (l > 4 && !strcmp(rel + l - 4, ".gen"))
        return 64U << 20; /* a record (FORMAT §10) */
    if (l > 8 && (!strcmp(rel + l - 7, ".pruned") || !strcmp(rel + l - 8, ".cleared")))
        return 64U << 10; /* a tombstone or clearance: a small signed file */
    if (l > 6 && !strcmp(rel + l - 6, ".packs"))
        return 64U << 20;  /* an object medium's list of a record's packs */
    return AUDIT_COPY_MAX; /* the audit log's copy */
}

uint64_t bkp_copy_member_max(const char *rel)
{
    static const char *const pat =
        "^(BKP-LABEL|config|keys/key|audit/primary\\.jsonl|packs/[0-9a-f]{2}/[0-9a-f]{64}|"
        "index/[0-9a-f]{64}|generations/[A-Za-z0-9_-][A-Za-z0-9._-]*/[0-9]{10}\\."
        "(gen|pruned|cleared|packs))$";
    regex_t re;
    if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB))
        return 0;
    bool ok = regexec(&re, rel, 0, NULL, 0) == 0;
    regfree(&re);
    /* packs/XX/ID: XX must be the ID's first two digits, as bkp_pack_path puts it. */
    if (ok && !strncmp(rel, "packs/", 6) && strncmp(rel + 6, rel + 9, 2))
        ok = false;
    return ok ? member_max(rel) : 0;
}

/* A set of IDs: an index without packs. */
static int add_id(bkp_index *set, const uint8_t id[BKP_ID_LEN])
{
    bkp_index_entry e = {0};
    memcpy(e.id, id, BKP_ID_LEN);
    return bkp_index_insert(set, &e) < 0 ? -ENOMEM : 0;
}

/* The pack of blob `id` joins `packs` unless `dst` has the blob. */
static int need_blob(bkp_repo *src, bkp_repo *dst, bkp_index *packs, const uint8_t id[BKP_ID_LEN],
                     const char *gen)
{
    uint8_t pack[BKP_ID_LEN];
    if (dst && bkp_repo_has(dst, id))
        return 0;
    if (bkp_repo_locate(src, id, pack, NULL)) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, id, BKP_ID_LEN);
        bkp_error(_("%s needs blob %.16s, which the primary repository does not have; run `bkp "
                    "verify` there before copying it"),
                  gen, hex);
        return -ENODATA;
    }
    return add_id(packs, pack);
}

int bkp_copy_needed_packs(bkp_repo *src, bkp_repo *dst, const bkp_gen *g, bkp_index *packs)
{
    char name[128];
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    int rc = 0, x = 0;
    bkp_gen_name(g, name, sizeof(name));
    for (size_t t = 0; !rc && t < g->ntree; t++)
        rc = need_blob(src, dst, packs, g->tree + t * BKP_ID_LEN, name);
    bkp_item_init(&it);
    if (!rc)
        rc = bkp_tree_reader_new(src, g->tree, g->ntree, &tr);
    while (!rc && (x = bkp_tree_reader_next(tr, &it)) > 0)
        for (uint32_t k = 0; !rc && k < it.nchunks; k++)
            rc = need_blob(src, dst, packs, it.chunks[k].id, name);
    if (!rc && x < 0) {
        bkp_error(_("%s: its file list cannot be read (%s); run `bkp verify --read-data`"), name,
                  bkp_strerror(x));
        rc = x;
    }
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    return rc;
}

/* The pack read back from the medium failed its check: say whether the
 * source is damaged too (the same bytes) or the medium changed them. */
static void report_bad_readback(const bkp_buf *data, const bkp_buf *back, const char *hex,
                                const char *srcpath)
{
    if (back->len == data->len && !memcmp(back->data, data->data, data->len))
        bkp_error(_("pack %s is damaged in %s too, so it was not copied; run `bkp verify "
                    "--read-data` there and repair it from another copy"),
                  hex, srcpath);
    else
        bkp_error(_("pack %s read back from the medium differs from what was written: the "
                    "medium is failing; use another disk"),
                  hex);
}

/* Only once the good copy is proven: the damaged pack `to` is set aside in
 * `todir` (readers ignore dot names; kept for inspection). It is durably
 * renamed before the good copy takes the name: a crash in between leaves
 * the pack missing under its name and kept aside, which `verify` reports
 * and the next repair fills again. Already gone: nothing to set aside. */
static int set_aside_damaged(const char *to, const char *todir, const char *hex)
{
    char aside[2 * BKP_ID_LEN + 16];
    snprintf(aside, sizeof(aside), ".damaged-%s", hex);
    char *ap = bkp_path_join(todir, aside);
    (void)bkp_immutable(to, false);
    int rc = ap ? bkp_durable_rename(to, ap, 0) : -ENOMEM;
    if (rc && rc != -ENOENT) {
        bkp_error(_("cannot set the damaged pack %s aside: %s"), to, bkp_strerror(rc));
        free(ap);
        return rc;
    }
    free(ap);
    return 0;
}

static void report_copy_failure(const char *hex, const char *dpacks, int rc)
{
    bkp_error(_("cannot copy pack %s to %s: %s%s"), hex, dpacks ? dpacks : "?", bkp_strerror(rc),
              rc == -ENOSPC ? _("; the medium is full: the copy changed nothing it held, and "
                                "the packs copied so far stay; make room on it or use a larger "
                                "one, then run the command again")
                            : "");
}

int bkp_copy_pack(bkp_repo *src, bkp_repo *dst, const uint8_t id[BKP_ID_LEN], bool replace,
                  uint64_t *bytes)
{
    char hex[2 * BKP_ID_LEN + 1], sub[3];
    char *spacks = bkp_repo_subpath(src, "packs"), *dpacks = bkp_repo_subpath(dst, "packs");
    char *from = spacks ? bkp_pack_path(spacks, id) : NULL;
    char *to = dpacks ? bkp_pack_path(dpacks, id) : NULL;
    char *todir;
    bkp_buf data, back;
    bkp_dfile *f = NULL;
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    int rc;
    bkp_hex(hex, id, BKP_ID_LEN);
    snprintf(sub, sizeof(sub), "%.2s", hex);
    todir = dpacks ? bkp_path_join(dpacks, sub) : NULL;
    bkp_buf_init(&data);
    bkp_buf_init(&back);
    if (!from || !to || !todir) {
        rc = -ENOMEM;
        goto out;
    }
    if (!replace && access(to, F_OK) == 0) {
        rc = -EEXIST;
        goto out;
    }
    if ((rc = bkp_read_file(from, &data, PACK_MAX))) {
        bkp_error(_("cannot read pack %s: %s; run `bkp verify --read-data`"), from,
                  bkp_strerror(rc));
        goto out;
    }
    if ((rc = bkp_mkdir_p(todir, 0700)) || (rc = bkp_dfile_open(&f, dpacks, 0)) ||
        (rc = bkp_dfile_write(f, data.data, data.len)))
        goto written;
    /* Read back what the medium holds, not what the page cache remembers. */
    if ((rc = bkp_dfile_sync(f)))
        goto written;
    if ((rc = bkp_read_file(bkp_dfile_path(f), &back, PACK_MAX)))
        goto written;
    rc = bkp_pack_check(bkp_repo_keys(dst), back.data, back.len, id, &ents, &n);
    if (rc == -EBADMSG) {
        report_bad_readback(&data, &back, hex, bkp_repo_path(src));
        goto out;
    }
    if (rc)
        goto written;
    if (replace && (rc = set_aside_damaged(to, todir, hex)))
        goto out;
    /* Published read-only under its name, never over another; then indexed
     * (its segment is written by the next flush). A kill before the commit
     * leaves only a temporary file, which the next writable open removes; a
     * kill after it leaves a pack no segment names, which that open finds
     * and indexes from its own trailer. */
    rc = bkp_dfile_commit(f, todir, hex, BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    f = NULL; /* freed by the commit */
    if (rc == -EEXIST)
        goto out; /* a concurrent copy placed it; that one is indexed by its writer */
    if (!rc) {
        rc = bkp_repo_add_pack(dst, id, ents, n);
        if (bytes)
            *bytes += data.len;
    }
written:
    if (rc && rc != -EEXIST)
        report_copy_failure(hex, dpacks, rc);
out:
    bkp_dfile_abort(f);
    free(ents);
    bkp_buf_free(&data);
    bkp_buf_free(&back);
    free(spacks);
    free(dpacks);
    free(from);
    free(to);
    free(todir);
    return rc;
}

typedef struct pack_list {
    uint8_t (*ids)[BKP_ID_LEN];
    size_t n;
} pack_list;

static void collect(const bkp_index_entry *e, void *ctx)
{
    pack_list *l = ctx;
    memcpy(l->ids[l->n++], e->id, BKP_ID_LEN);
}

/* A signed file copied byte for byte into `dir` of `dst`; one already there
 * is kept. With `judged`, the bytes must be those of the record the caller
 * checked (their BLAKE2b-256, bkp_gen's `hash`): the record was listed and
 * judged before (against the pins, chosen), and read again here for its
 * bytes; a file replaced in between is refused (-EBADMSG), never copied in
 * the place of what was judged. */
static int copy_file(const char *from, const char *dir, const uint8_t *judged)
{
    bkp_buf data;
    uint8_t h[BKP_ID_LEN];
    const char *name = strrchr(from, '/');
    bkp_buf_init(&data);
    int rc = name ? bkp_read_file(from, &data, RECORD_MAX) : -EINVAL;
    if (!rc && judged) {
        crypto_generichash(h, sizeof(h), data.data, data.len, NULL, 0);
        if (memcmp(h, judged, sizeof(h))) {
            bkp_error(_("%s changed on the primary while it was being copied (it is not the "
                        "record that was checked); it is not copied. Run `bkp verify` and "
                        "rotate again"),
                      from);
            rc = -EBADMSG;
        }
    }
    if (!rc)
        rc = bkp_durable_write(dir, name + 1, data.data, data.len,
                               BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    bkp_buf_free(&data);
    return rc == -EEXIST ? 0 : rc;
}

static bool chosen(const bkp_gen *g, bkp_gen *const *gens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (gens[i]->seq == g->seq && !strcmp(gens[i]->dataset, g->dataset))
            return true;
    return false;
}

static const bkp_gen *find_seq(bkp_gen **v, size_t n, uint32_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]->seq == seq)
            return v[i];
    return NULL;
}

/* The generations of data set `ds` in `src`: those of `all` (sorted by
 * bkp_gen_list; borrowed, `*listed` NULL), or listed now (owned through
 * `*listed`, `*sn` of them). */
static int source_list(bkp_repo *src, bkp_gen *const *all, size_t nall, const char *ds,
                       bkp_gen *const **sv, size_t *sn, bkp_gen ***listed)
{
    size_t i = 0, j;
    *listed = NULL;
    if (!all) {
        int rc = bkp_gen_list(src, ds, listed, sn);
        *sv = *listed;
        return rc;
    }
    while (i < nall && strcmp(all[i]->dataset, ds))
        i++;
    for (j = i; j < nall && !strcmp(all[j]->dataset, ds); j++)
        ;
    *sv = all + i;
    *sn = j - i;
    return 0;
}

/* The records of data set `ds` up to `maxseq`, in order (step 3). */
static int copy_records(bkp_repo *src, bkp_gen *const *all, size_t nall, bkp_repo *dst,
                        const char *ds, uint32_t maxseq, bkp_gen *const *gens, size_t ngens,
                        bkp_copy_result *res)
{
    bkp_gen **dv = NULL, **listed = NULL;
    bkp_gen *const *sv = NULL;
    size_t sn = 0, dn = 0;
    char sub[512], name[128];
    snprintf(sub, sizeof(sub), "generations/%s", ds);
    char *dir = bkp_repo_subpath(dst, sub);
    /* The tombstones written here count on this medium's copy only. */
    char *medium = bkp_gen_copy_medium(dst);
    int rc = dir ? bkp_mkdir_p(dir, 0700) : -ENOMEM;
    if (!rc && !medium) {
        bkp_error(_("%s has no label naming this repository beside it, so the tombstones of the "
                    "records it does not hold cannot be bound to it; label the medium"),
                  bkp_repo_path(dst));
        rc = -EINVAL;
    }
    if (!rc && !(rc = source_list(src, all, nall, ds, &sv, &sn, &listed)))
        rc = bkp_gen_list(dst, ds, &dv, &dn);
    for (size_t i = 0; !rc && i < sn && sv[i]->seq <= maxseq; i++) {
        const bkp_gen *g = sv[i], *d = find_seq(dv, dn, g->seq);
        bool want = !g->pruned && chosen(g, gens, ngens);
        bkp_gen_name(g, name, sizeof(name));
        if (want && g->status) {
            bkp_error(_("%s: its record is damaged or forged on the primary; it is not copied"),
                      name);
            rc = -EBADMSG;
        } else if (want && d && !d->pruned) {
            if (memcmp(d->hash, g->hash, BKP_ID_LEN)) {
                bkp_error(_("%s on the medium (%s) is another record than on the primary: the "
                            "primary was rolled back or its history rewritten since the medium "
                            "was written (a sequence number reused). The medium is left as it "
                            "is: do not overwrite it; investigate, and restore from it if the "
                            "primary was rolled back"),
                          name, d->file);
                rc = -EEXIST;
            }
        } else if (want) {
            if (!(rc = copy_file(g->file, dir, g->hash)))
                res->records++;
        } else if (d && !d->status) {
            continue; /* the medium has the record or its tombstone */
        } else if (g->status) {
            bkp_warn(_("%s: its %s is damaged on the primary, so the chain on the medium has a gap "
                       "there; run `bkp verify`"),
                     name, g->pruned ? "tombstone" : "record");
        } else {
            rc = g->pruned ? copy_file(g->file, dir, NULL) : bkp_gen_tombstone(dst, dir, g, medium);
        }
        if (!rc && want && g->cleared && !(d && d->cleared)) {
            char *cl = strdup(g->file), *dot = cl ? strrchr(cl, '.') : NULL;
            rc = dot ? (strcpy(dot, ".cleared"), copy_file(cl, dir, NULL)) : -ENOMEM;
            free(cl);
        }
    }
    if (rc && rc != -EBADMSG && rc != -EEXIST)
        bkp_error(_("cannot write the generation records of %s to %s: %s"), ds, dir ? dir : "?",
                  bkp_strerror(rc));
    if (listed)
        bkp_gen_list_free(listed, sn);
    bkp_gen_list_free(dv, dn);
    free(dir);
    free(medium);
    return rc;
}

static int copy_all_records(bkp_repo *src, bkp_gen *const *all, size_t nall, bkp_repo *dst,
                            bkp_gen *const *gens, size_t n, bkp_copy_result *res);

int bkp_copy_generations(bkp_repo *src, bkp_repo *dst, bkp_gen *const *gens, size_t n,
                         bkp_copy_result *res)
{
    return bkp_copy_generations_of(src, NULL, 0, dst, gens, n, res);
}

int bkp_copy_generations_of(bkp_repo *src, bkp_gen *const *all, size_t nall, bkp_repo *dst,
                            bkp_gen *const *gens, size_t n, bkp_copy_result *res)
{
    bkp_index *packs = NULL;
    pack_list l = {0};
    int rc = bkp_index_new(&packs);
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; !rc && i < n; i++)
        rc = gens[i]->pruned || gens[i]->status ? -EINVAL
                                                : bkp_copy_needed_packs(src, dst, gens[i], packs);
    if (!rc && !(l.ids = malloc((bkp_index_count(packs) + 1) * BKP_ID_LEN)))
        rc = -ENOMEM;
    if (!rc)
        bkp_index_foreach(packs, collect, &l);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; !rc && i < l.n; i++) {
        bkp_progress_meter(_("copying"), i, l.n, "packs", res->bytes, &t0);
        rc = bkp_copy_pack(src, dst, l.ids[i], false, &res->bytes);
        if (rc == -EEXIST) {
            res->packs_present++;
            rc = 0;
        } else if (!rc) {
            res->packs++;
        }
    }
    bkp_progress_done();
    /* Index what was copied, even after a failure: less to re-read next time. */
    int frc = bkp_repo_flush(dst);
    if (!rc)
        rc = frc;
    if (!rc)
        rc = copy_all_records(src, all, nall, dst, gens, n, res);
    free(l.ids);
    bkp_index_free(packs);
    return rc;
}

int bkp_copy_records(bkp_repo *src, bkp_repo *dst, bkp_gen *const *gens, size_t n,
                     bkp_copy_result *res)
{
    return copy_all_records(src, NULL, 0, dst, gens, n, res);
}

static int copy_all_records(bkp_repo *src, bkp_gen *const *all, size_t nall, bkp_repo *dst,
                            bkp_gen *const *gens, size_t n, bkp_copy_result *res)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t maxseq = 0;
        bool first = true;
        for (size_t k = 0; k < n; k++) {
            if (strcmp(gens[k]->dataset, gens[i]->dataset))
                continue;
            first &= k >= i;
            maxseq = gens[k]->seq > maxseq ? gens[k]->seq : maxseq;
        }
        if (first)
            rc = copy_records(src, all, nall, dst, gens[i]->dataset, maxseq, gens, n, res);
    }
    return rc;
}

/* The medium's copy of a log the operator restarted (bkp_audit_restart) is
 * the only record of what was lost: it is kept beside the new copy under a
 * name that is never reused. */
static int set_aside_copy(const char *dir, const char *to, uint64_t restart_seq)
{
    char name[96], when[32];
    bkp_iso_time(when, sizeof(when), bkp_now());
    snprintf(name, sizeof(name), "primary-before-restart-%llu-%s.jsonl",
             (unsigned long long)restart_seq, when);
    char *aside = bkp_path_join(dir, name);
    /* A second name for the same bytes, durable before the log is replaced;
     * the name already there (a restart repeated within the second) keeps
     * the same bytes. */
    int rc = !aside ? -ENOMEM : bkp_durable_link_name(to, aside);
    if (rc == -EEXIST)
        rc = bkp_fsync_dir(dir);
    free(aside);
    return rc;
}

int bkp_copy_audit(bkp_repo *src, bkp_repo *dst)
{
    char *from = bkp_audit_path(src), *to = bkp_repo_subpath(dst, BKP_AUDIT_COPY);
    char *dir = to ? strdup(to) : NULL, *slash = dir ? strrchr(dir, '/') : NULL;
    const uint8_t *pk = bkp_keys_sign_pk(bkp_repo_keys(src));
    bkp_audit_check chk;
    bkp_buf data;
    int rc = 0;
    bkp_buf_init(&data);
    if (!from || !slash) {
        rc = -ENOMEM;
        goto out;
    }
    *slash = '\0';
    /* The host's log is read once, and these bytes are what is checked and
     * what is written to the medium: a log appended to (or changed) after
     * this read is not copied unchecked, it waits for the next rotation. */
    rc = bkp_audit_read(from, &data);
    bool absent = rc == -ENOENT; /* reported by the check, as a loss */
    if (rc && !absent)
        goto failed;
    /* First on its own (chain, signatures, head marker): a log that lost
     * records never replaces a copy that may still have them. */
    if ((rc = bkp_audit_verify_bytes(from, absent ? NULL : &data, pk, NULL, &chk)) < 0)
        goto failed;
    if (chk.first_bad || chk.missing || chk.absent || chk.head_bad) {
        bkp_error(_("the audit log %s: %s. The medium's copy is kept as it is; run `bkp audit "
                    "verify` and find out who changed the host's log"),
                  from, chk.problem_local);
        rc = -EBADMSG;
        goto out;
    }
    int against = access(to, F_OK) == 0 ? bkp_audit_verify_bytes(from, &data, pk, to, &chk) : 0;
    if (against < 0) {
        /* Not a log bkp wrote (too large, not a file, unreadable): it is
         * evidence of something, so it is neither read further nor
         * replaced. */
        bkp_error(_("the medium's copy of the audit log %s cannot be read (%s); it is kept as it "
                    "is. Look at it, move it away by hand, and rotate again"),
                  to, bkp_strerror(against));
        rc = -EBADMSG;
        goto out;
    }
    if (chk.bad && (chk.first_bad || chk.missing)) {
        if (chk.restarts && chk.first_bad && chk.first_bad <= chk.restart_seq) {
            /* Differs from where an operator restarted the log: expected. */
            if ((rc = set_aside_copy(dir, to, chk.restart_seq)))
                goto failed;
        } else {
            bkp_error(
                _("the audit log %s disagrees with its copy on the medium: %s. The medium's "
                  "copy is kept; run `bkp audit verify --against %s` and find out who changed "
                  "the host's log"),
                from, chk.problem_local, to);
            rc = -EBADMSG;
            goto out;
        }
    }
    /* A torn record at the end (an append cut by a crash) is no record: the
     * copy ends with the last whole one, and checks as every copy must. */
    while (data.len && data.data[data.len - 1] != '\n')
        data.len--;
    if (!(rc = bkp_mkdir_p(dir, 0700)))
        rc = bkp_durable_write(dir, slash + 1, data.data, data.len, BKP_DURABLE_PRIVATE);
failed:
    if (rc)
        bkp_error(_("cannot copy the audit log to %s: %s"), to, bkp_strerror(rc));
out:
    bkp_buf_free(&data);
    free(from);
    free(to);
    free(dir);
    return rc;
}
