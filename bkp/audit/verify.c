#include "bkp/audit/verify.h"
#include "bkp/audit/verify_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/keys/key_slots.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"
#include "bkp/media/pin.h"
#include "bkp/store/tree.h"

#define MAX_WORKERS 16

/* verify_ctx, bad_pack: verify_internal.h */

static int cmp_num(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

static void count_indexed(const bkp_index_entry *e, void *ctx)
{
    ((verify_ctx *)ctx)->indexed[e->pack]++;
}

static int cmp_offset(const void *a, const void *b)
{
    const bkp_pack_entry *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/*
 * Every byte of the pack is authenticated when the blobs (each checked by its
 * AEAD tag) and the trailer tile the file exactly, and the file is the pack
 * its name says when every blob the index places in this pack is in its
 * trailer at the same place; the name covers the trailer section (FORMAT §4).
 */
static bool pack_consistent(verify_ctx *c, const uint8_t id[BKP_ID_LEN], uint64_t size,
                            bkp_pack_entry *ents, uint32_t n, uint64_t tlen)
{
    const struct pack_num *pn = bsearch(id, c->nums, c->nnums, sizeof(*c->nums), cmp_num);
    uint64_t at = 8;
    uint32_t matched = 0;
    qsort(ents, n, sizeof(*ents), cmp_offset);
    for (uint32_t i = 0; i < n; i++) {
        if (ents[i].offset != at)
            return false;
        at += ents[i].len;
        bkp_index_entry ie;
        uint8_t where[BKP_ID_LEN];
        if (pn && bkp_repo_locate(c->repo, ents[i].id, where, &ie) == 0 && ie.pack == pn->num) {
            if (ie.offset != ents[i].offset || ie.len != ents[i].len)
                return false;
            matched++;
        }
    }
    return at + tlen + 12 == size && (!pn || matched == c->indexed[pn->num]);
}

void bkp_verify_add_said(bkp_verify_result *res, const char *shown, const char *kept)
{
    bkp_error("%s", shown);
    res->problems++;
    char **n = realloc(res->messages, (res->nmessages + 1) * sizeof(*n));
    if (n) {
        res->messages = n;
        if ((n[res->nmessages] = strdup(kept)))
            res->nmessages++;
    }
}

void bkp_verify_add_vproblem(bkp_verify_result *res, const char *fmt, va_list ap)
{
    char kept[1024], shown[2048];
    va_list again;
    va_copy(again, ap);
    vsnprintf(kept, sizeof(kept), fmt, ap);
    vsnprintf(shown, sizeof(shown), _(fmt), again);
    va_end(again);
    bkp_verify_add_said(res, shown, kept);
}

void bkp_verify_add_problem(bkp_verify_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bkp_verify_add_vproblem(res, fmt, ap);
    va_end(ap);
}

void bkp_verify_problem(verify_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bkp_verify_add_vproblem(c->res, fmt, ap);
    va_end(ap);
}

/* A pack's reason, in English and in the reader's language. */
static void __attribute__((format(printf, 3, 4)))
set_reason(char *reason, char *shown, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    vsnprintf(reason, sizeof(((bad_pack *)0)->reason), fmt, ap);
    vsnprintf(shown, sizeof(((bad_pack *)0)->shown), _(fmt), again);
    va_end(again);
    va_end(ap);
}

/* Called with the lock held. */
static size_t add_bad_pack(verify_ctx *c, const uint8_t id[BKP_ID_LEN], const char *reason,
                           const char *shown)
{
    for (size_t i = 0; i < c->nbad; i++)
        if (!memcmp(c->bad[i].id, id, BKP_ID_LEN))
            return i;
    bad_pack *n = realloc(c->bad, (c->nbad + 1) * sizeof(*n));
    if (!n)
        return SIZE_MAX;
    c->bad = n;
    memset(&n[c->nbad], 0, sizeof(*n));
    memcpy(n[c->nbad].id, id, BKP_ID_LEN);
    snprintf(n[c->nbad].reason, sizeof(n[c->nbad].reason), "%s", reason);
    snprintf(n[c->nbad].shown, sizeof(n[c->nbad].shown), "%s", shown);
    return c->nbad++;
}

static void mark_bad_blob(verify_ctx *c, const uint8_t id[BKP_ID_LEN], size_t bad)
{
    bkp_index_entry e = {.pack = (uint32_t)bad};
    memcpy(e.id, id, BKP_ID_LEN);
    (void)bkp_index_insert(c->bad_blobs, &e);
}

/* Does the trailer section at the end of `fd` hash to the pack's name? */
static bool name_matches(int fd, uint64_t size, uint64_t tlen, bkp_buf *buf,
                         const uint8_t id[BKP_ID_LEN])
{
    uint8_t h[BKP_ID_LEN];
    uint64_t n = tlen + 12;
    bkp_buf_reset(buf);
    if (n > size || !bkp_buf_reserve(buf, n) || bkp_pread_full(fd, buf->data, n, size - n))
        return false;
    crypto_generichash(h, BKP_ID_LEN, buf->data, n, NULL, 0);
    return sodium_memcmp(h, id, BKP_ID_LEN) == 0;
}

/* One pack, blob by blob: memory stays at one blob per worker. */
static void check_pack(verify_ctx *c, const char *path, bkp_buf *file, bkp_buf *plain)
{
    const char *name = strrchr(path, '/') + 1;
    uint8_t id[BKP_ID_LEN], footer[12];
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0, bad_blobs = 0;
    uint64_t size = 0;
    char reason[sizeof(((bad_pack *)0)->reason)] = "", shown[sizeof(((bad_pack *)0)->shown)] = "";
    const bkp_keys *k = bkp_repo_keys(c->repo);
    struct stat st;
    int rc, fd;

    if (bkp_unhex(id, BKP_ID_LEN, name) != 0)
        return;
    fd = bkp_open_regular(path);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = fd < 0 ? fd : -errno;
        set_reason(reason, shown, N_("cannot be read (%s)"), bkp_strerror_en(rc));
        goto report;
    }
    size = (uint64_t)st.st_size;
    rc = bkp_pack_read_trailer(fd, size, k, &ents, &n);
    if (!rc)
        rc = bkp_pread_full(fd, footer, sizeof(footer), size - sizeof(footer));
    if (rc) {
        set_reason(reason, shown, N_("is truncated or its trailer is damaged"));
        goto report;
    }
    for (uint32_t i = 0; i < n; i++) {
        const bkp_pack_entry *e = &ents[i];
        bkp_buf_reset(file);
        int br = bkp_buf_reserve(file, e->len) ? bkp_pread_full(fd, file->data, e->len, e->offset)
                                               : -ENOMEM;
        if (!br)
            br = bkp_blob_check(k, e->type, e->id, file->data, e->len, plain);
        if (br) {
            pthread_mutex_lock(&c->lock);
            size_t b = add_bad_pack(c, id, "", "");
            if (b != SIZE_MAX)
                mark_bad_blob(c, e->id, b);
            pthread_mutex_unlock(&c->lock);
            bad_blobs++;
        }
    }
    if (bad_blobs) {
        set_reason(reason, shown, N_("has %u damaged blob(s) of %u"), bad_blobs, n);
    } else if (!name_matches(fd, size, bkp_get_le32(footer), file, id)) {
        set_reason(reason, shown,
                   N_("does not match its name (its trailer is not the one it was named by)"));
    } else if (!pack_consistent(c, id, size, ents, n, bkp_get_le32(footer))) {
        set_reason(reason, shown,
                   N_("does not hold the blobs the index places in it, or has bytes outside any "
                      "blob"));
    }
report:
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&c->lock);
    c->res->packs_read++;
    c->res->blobs_read += n;
    c->res->bytes_read += size;
    if (*reason) {
        size_t b = add_bad_pack(c, id, reason, shown);
        if (b != SIZE_MAX) {
            snprintf(c->bad[b].reason, sizeof(c->bad[b].reason), "%s", reason);
            snprintf(c->bad[b].shown, sizeof(c->bad[b].shown), "%s", shown);
            if (rc) {
                /* Trailer unreadable: every blob the index places here is lost. */
                uint32_t num;
                const bkp_index *x = bkp_repo_index(c->repo);
                if (bkp_index_find_pack(x, id, &num) == 0)
                    c->pack_missing[num] = 2;
            }
        }
    }
    bkp_progress_meter(_("verifying"), c->res->packs_read, c->npacks, "packs", c->res->bytes_read,
                       &c->t0);
    pthread_mutex_unlock(&c->lock);
    free(ents);
}

static void *read_worker(void *arg)
{
    verify_ctx *c = arg;
    bkp_buf file, plain;
    bkp_buf_init(&file);
    bkp_buf_init(&plain);
    for (;;) {
        pthread_mutex_lock(&c->lock);
        size_t i = c->next++;
        pthread_mutex_unlock(&c->lock);
        if (i >= c->npacks)
            break;
        check_pack(c, c->packs[i], &file, &plain);
    }
    bkp_buf_free(&file);
    bkp_buf_free(&plain);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every pack file (of c->only, when given) into c->packs: 0, or -ENOMEM
 * (a verify never checks fewer packs than there are, unsaid). */
static int list_packs(verify_ctx *c)
{
    char *dir = bkp_repo_subpath(c->repo, "packs");
    size_t cap = 0;
    int rc = dir ? 0 : -ENOMEM;
    for (int b = 0; b < 256 && !rc; b++) {
        char sub[3];
        snprintf(sub, sizeof(sub), "%02x", b);
        char *sd = bkp_path_join(dir, sub);
        DIR *d = sd ? opendir(sd) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strlen(e->d_name) != 2 * BKP_ID_LEN)
                continue;
            if (c->only &&
                !bsearch(&(const char *){e->d_name}, c->only, c->nonly, sizeof(*c->only), cmp_str))
                continue;
            if ((rc = bkp_grow(&c->packs, &cap, c->npacks, sizeof(*c->packs), 256)))
                break;
            if (!(c->packs[c->npacks] = bkp_path_join(sd, e->d_name))) {
                rc = -ENOMEM;
                break;
            }
            c->npacks++;
        }
        if (d)
            closedir(d);
        if (!sd)
            rc = -ENOMEM;
        free(sd);
    }
    free(dir);
    return rc;
}

/* Which pack numbers of the index have no file (or an unreadable trailer). */
static void check_pack_presence(verify_ctx *c)
{
    const bkp_index *x = bkp_repo_index(c->repo);
    char *dir = bkp_repo_subpath(c->repo, "packs");
    for (uint32_t i = 0; i < bkp_index_pack_count(x); i++) {
        if (c->pack_missing[i])
            continue;
        char *p = dir ? bkp_pack_path(dir, bkp_index_pack_id(x, i)) : NULL;
        struct stat st;
        if (p && stat(p, &st) < 0) {
            c->pack_missing[i] = 1;
            add_bad_pack(c, bkp_index_pack_id(x, i), N_("is missing"), _("is missing"));
        }
        free(p);
    }
    free(dir);
}

/* The bad-pack slot for blob `id`, or SIZE_MAX when the blob is fine. */
static size_t blob_state(verify_ctx *c, const uint8_t id[BKP_ID_LEN], bool *unknown)
{
    const bkp_index_entry *b = bkp_index_lookup(c->bad_blobs, id);
    if (b)
        return b->pack;
    bkp_index_entry e;
    uint8_t pack[BKP_ID_LEN];
    *unknown = bkp_repo_locate(c->repo, id, pack, &e) != 0;
    if (*unknown || !c->pack_missing[e.pack])
        return SIZE_MAX;
    bool gone = c->pack_missing[e.pack] == 1;
    return add_bad_pack(c, pack, gone ? N_("is missing") : N_("is damaged"),
                        gone ? _("is missing") : _("is damaged"));
}

static void note_affected(verify_ctx *c, size_t b, const char *gen, const char *path)
{
    bad_pack *p = &c->bad[b];
    if (!p->ngens || strcmp(p->gens[p->ngens - 1], gen) != 0) {
        char **n = realloc(p->gens, (p->ngens + 1) * sizeof(*n));
        if (n) {
            p->gens = n;
            p->gens[p->ngens++] = strdup(gen);
        }
    }
    for (size_t i = 0; i < p->nfiles; i++)
        if (p->files[i] && strcmp(p->files[i], path) == 0)
            return; /* the same file in another generation */
    p->affected++;
    if (p->nfiles < AFFECTED_SHOWN)
        p->files[p->nfiles++] = strdup(path);
}

static void check_generation(verify_ctx *c, const bkp_gen *g)
{
    char name[128];
    bkp_gen_name(g, name, sizeof(name));
    for (size_t i = 0; i < g->ntree; i++) {
        bool unknown = false;
        size_t b = blob_state(c, g->tree + i * BKP_ID_LEN, &unknown);
        if (unknown || b != SIZE_MAX) {
            if (b != SIZE_MAX)
                note_affected(c, b, name, "(its list of files)");
            else
                bkp_verify_problem(c,
                                   N_("%s: a tree blob is not in the index; the generation cannot "
                                      "be listed or restored"),
                                   name);
            return;
        }
    }
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bkp_item_init(&it);
    if (bkp_tree_reader_new(c->repo, g->tree, g->ntree, &tr))
        return;
    int rc;
    while ((rc = bkp_tree_reader_next(tr, &it)) > 0) {
        if (it.content_bad)
            bkp_verify_problem(c,
                               N_("%s: %s: its chunk list does not match the content hash its "
                                  "record stores (written by an earlier bkp); it is not restored"),
                               name, archive_entry_pathname(it.entry));
        for (uint32_t i = 0; i < it.nchunks; i++) {
            bool unknown = false;
            size_t b = blob_state(c, it.chunks[i].id, &unknown);
            if (b != SIZE_MAX) {
                note_affected(c, b, name, archive_entry_pathname(it.entry));
                break;
            }
            if (unknown) {
                bkp_verify_problem(c, N_("%s: %s: a chunk is in no pack (lost)"), name,
                                   archive_entry_pathname(it.entry));
                break;
            }
        }
    }
    if (rc < 0)
        bkp_verify_problem(c,
                           rc == -ENODATA
                               ? N_("%s: its list of files is missing (tree blob %zu): %s")
                               : N_("%s: its list of files is damaged (tree blob %zu): %s"),
                           name, bkp_tree_reader_blob(tr), bkp_strerror_en(rc));
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
}

#define TOMB_FOREIGN                                                                               \
    N_("%s: the tombstone %s was written for a copy on a medium (\"%s\") and does not count "      \
       "here: the generation record was deleted and a tombstone from a copy or an archive put in " \
       "its place; copy the record back from a medium that holds it")
#define TOMB_FOREIGN_ON                                                                            \
    N_("%s: the tombstone %s was written for a copy on a medium (\"%s\", medium %s) and does "     \
       "not count here: the generation record was deleted and a tombstone from a copy or an "      \
       "archive put in its place; copy the record back from a medium that holds it")

static void check_chains(verify_ctx *c, bkp_gen **v, size_t n)
{
    char name[128], hex[2 * BKP_ID_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        const bkp_gen *g = v[i],
                      *prev = i && !strcmp(v[i - 1]->dataset, g->dataset) ? v[i - 1] : NULL;
        bkp_gen_name(g, name, sizeof(name));
        if (g->foreign) {
            const char *m = g->medium, *why = g->reason;
            if (m)
                bkp_verify_problem(c, TOMB_FOREIGN_ON, name, g->file, why, m);
            else
                bkp_verify_problem(c, TOMB_FOREIGN, name, g->file, why);
            continue;
        }
        if (g->status) {
            bkp_verify_problem(
                c,
                g->pruned ? N_("%s: the tombstone of the pruned record %s is damaged or forged "
                               "(its signature does not verify)")
                          : N_("%s: the generation record %s is damaged or forged (its signature "
                               "does not verify); do not restore from it"),
                name, g->file);
            continue;
        }
        if (prev && prev->seq + 1 != g->seq)
            bkp_verify_problem(
                c, N_("%s:%u..%u: generation records are missing (the chain is broken before %s)"),
                g->dataset, prev->seq + 1, g->seq - 1, name);
        else if (!prev && g->seq != 1)
            bkp_verify_problem(c, N_("%s:1..%u: the first generation records are missing"),
                               g->dataset, g->seq - 1);
        else if (prev && !prev->status && (!g->has_prev || memcmp(g->prev, prev->hash, BKP_ID_LEN)))
            bkp_verify_problem(
                c, N_("%s does not chain to %s:%u (that record was replaced or edited)"), name,
                prev->dataset, prev->seq);
        else if (!prev && g->has_prev) {
            bkp_hex(hex, g->prev, BKP_ID_LEN);
            bkp_verify_problem(c, N_("%s names a previous record (%.16s) that is not there"), name,
                               hex);
        }
    }
}

#define PACK_AFFECTS N_("pack %s %s; affects %s (%llu file(s): %s%s)")
#define PACK_UNUSED N_("pack %s %s; no generation uses what is lost")

static void report_bad_packs(verify_ctx *c)
{
    for (size_t i = 0; i < c->nbad; i++) {
        bad_pack *p = &c->bad[i];
        char hex[2 * BKP_ID_LEN + 1], gens[512] = "", files[1024] = "";
        bkp_hex(hex, p->id, BKP_ID_LEN);
        for (size_t g = 0; g < p->ngens; g++) {
            size_t l = strlen(gens);
            snprintf(gens + l, sizeof(gens) - l, "%s%s", g ? ", " : "", p->gens[g]);
        }
        for (size_t f = 0; f < p->nfiles; f++) {
            size_t l = strlen(files);
            snprintf(files + l, sizeof(files) - l, "%s%s", f ? ", " : "", p->files[f]);
        }
        char kept[2048], shown[4096];
        const char *more = p->affected > p->nfiles ? ", ..." : "";
        const char *why = *p->reason ? p->reason : N_("is damaged");
        const char *said = *p->shown ? p->shown : _("is damaged");
        if (p->affected) {
            snprintf(kept, sizeof(kept), PACK_AFFECTS, hex, why, gens,
                     (unsigned long long)p->affected, files, more);
            snprintf(shown, sizeof(shown), _(PACK_AFFECTS), hex, said, gens,
                     (unsigned long long)p->affected, files, more);
        } else {
            snprintf(kept, sizeof(kept), PACK_UNUSED, hex, why);
            snprintf(shown, sizeof(shown), _(PACK_UNUSED), hex, said);
        }
        bkp_verify_add_said(c->res, shown, kept);
    }
}

void bkp_verify_result_clear(bkp_verify_result *res)
{
    for (size_t i = 0; i < res->nmessages; i++)
        free(res->messages[i]);
    free(res->messages);
    free(res->bad_packs);
    memset(res, 0, sizeof(*res));
}

/* What needs no pack read: the generations' chains, the audit log (on the
 * primary only), and the key file of this copy. */
static void check_metadata(verify_ctx *c, bkp_gen **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        c->res->generations += !v[i]->pruned;
    check_chains(c, v, n);
    char *medium = bkp_gen_copy_medium(c->repo); /* NULL: the primary */
    if (!medium)
        bkp_verify_check_audit(c, v, n, true);
    free(medium);
    if (bkp_repo_key_file_unchecked(c->repo))
        bkp_verify_problem(c,
                           N_("%s/keys/key: the key file of this copy is missing, damaged or not "
                              "this repository's: the copy would not open with a passphrase alone "
                              "(the key sheets still open it); rotate to it again, or use another "
                              "medium"),
                           bkp_repo_path(c->repo));
}

/* Read every pack in full, `workers` threads at a time (on this thread if
 * none starts), after counting what the index says each pack holds. */
static int read_packs(verify_ctx *c, int workers)
{
    const bkp_index *x = bkp_repo_index(c->repo);

    c->nnums = bkp_index_pack_count(x);
    c->indexed = calloc(c->nnums + 1, sizeof(*c->indexed));
    c->nums = calloc(c->nnums + 1, sizeof(*c->nums));
    if (!c->indexed || !c->nums)
        return -ENOMEM;
    for (uint32_t i = 0; i < c->nnums; i++) {
        memcpy(c->nums[i].id, bkp_index_pack_id(x, i), BKP_ID_LEN);
        c->nums[i].num = i;
    }
    qsort(c->nums, c->nnums, sizeof(*c->nums), cmp_num);
    bkp_index_foreach(x, count_indexed, c);
    pthread_t th[MAX_WORKERS];
    int nt = workers > 0 ? workers : (int)sysconf(_SC_NPROCESSORS_ONLN), started = 0;
    nt = nt < 1 ? 1 : nt > MAX_WORKERS ? MAX_WORKERS : nt;
    if (list_packs(c))
        return -ENOMEM;
    for (int i = 0; i < nt; i++)
        if (bkp_thread_create(&th[started], read_worker, c) == 0)
            started++;
    if (!started)
        read_worker(c);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    bkp_progress_done();
    return 0;
}

/* The index segments; a damaged one is a problem to report, not a failure. */
static int check_segments(verify_ctx *c)
{
    int rc;

    if ((rc = bkp_repo_check_segments(c->repo, true)))
        return rc;
    for (size_t i = 0; i < bkp_repo_damaged_segments(c->repo); i++)
        bkp_verify_problem(
            c,
            N_("index segment %s is damaged; its packs were indexed from their own trailers "
               "for now, and the next backup sets the segment aside"),
            bkp_repo_damaged_segment(c->repo, i));
    return 0;
}

static void verify_free(verify_ctx *c)
{
    for (size_t i = 0; i < c->npacks; i++)
        free(c->packs[i]);
    free(c->packs);
    for (size_t i = 0; i < c->nbad; i++) {
        for (size_t g = 0; g < c->bad[i].ngens; g++)
            free(c->bad[i].gens[g]);
        free(c->bad[i].gens);
        for (size_t f = 0; f < c->bad[i].nfiles; f++)
            free(c->bad[i].files[f]);
    }
    free(c->bad);
    free(c->pack_missing);
    free(c->indexed);
    free(c->nums);
    bkp_index_free(c->bad_blobs);
    pthread_mutex_destroy(&c->lock);
}

static int verify_run(const bkp_repo *r, bool read_data, char **only, size_t nonly, int workers,
                      bkp_verify_result *res)
{
    verify_ctx c = {.repo = r, .res = res, .only = only, .nonly = nonly};
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    pthread_mutex_init(&c.lock, NULL);
    if ((rc = bkp_index_new(&c.bad_blobs)))
        goto out;
    c.pack_missing = calloc(bkp_index_pack_count(bkp_repo_index(r)) + 1, 1);
    if (!c.pack_missing) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = bkp_gen_list(r, NULL, &v, &n)))
        goto out;
    check_metadata(&c, v, n);
    if (read_data && (rc = read_packs(&c, workers)))
        goto out;
    check_pack_presence(&c);
    if ((rc = check_segments(&c)))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (!v[i]->status && !v[i]->pruned)
            check_generation(&c, v[i]);
    report_bad_packs(&c);
    if (c.nbad && (res->bad_packs = calloc(c.nbad, sizeof(*res->bad_packs))))
        for (size_t i = 0; i < c.nbad; i++)
            memcpy(res->bad_packs[res->nbad_packs++], c.bad[i].id, BKP_ID_LEN);
out:
    bkp_gen_list_free(v, n);
    verify_free(&c);
    return rc;
}

int bkp_verify_log(const bkp_repo *r, bkp_verify_result *res)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = bkp_gen_list(r, NULL, &v, &n);
    if (rc)
        memset(res, 0, sizeof(*res));
    else
        rc = bkp_verify_log_of(r, v, n, res);
    bkp_gen_list_free(v, n);
    return rc;
}

int bkp_verify_log_of(const bkp_repo *r, bkp_gen *const *v, size_t n, bkp_verify_result *res)
{
    verify_ctx c = {.repo = r, .res = res};
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    memset(res, 0, sizeof(*res));
    char *medium = bkp_gen_copy_medium(r);
    if (!medium)
        bkp_verify_check_audit(&c, (bkp_gen **)v, n, false);
    free(medium);
    return 0; /* problems counted in `res` */
}

/* ---- what the public key alone proves ---- */

/* A clearance beside a record that does not verify was not made by the key
 * holder: the record stays marked (bkp_gen_list ignores it), and it is said. */
static void check_clearances(verify_ctx *c, bkp_gen **v, size_t n)
{
    char name[128];
    for (size_t i = 0; i < n; i++) {
        const bkp_gen *g = v[i];
        size_t l = g->file ? strlen(g->file) : 0;
        if (g->status || g->pruned || g->cleared || l < 4 || strcmp(g->file + l - 4, ".gen"))
            continue;
        char *clr = malloc(l + 8); /* ".gen" becomes ".cleared" */
        if (!clr)
            continue;
        memcpy(clr, g->file, l - 4);
        strcpy(clr + l - 4, ".cleared");
        if (access(clr, F_OK) == 0)
            bkp_verify_problem(
                c,
                N_("%s: the clearance %s is damaged or forged (its signature does not verify "
                   "or it names another record); the suspicious mark stands"),
                bkp_gen_name(g, name, sizeof(name)), clr);
        free(clr);
    }
}

/* Every pin kept in the primary (media/NAME.pin) against its records and
 * log: what a medium saw, which the primary must still hold. */
static void check_kept_pins(verify_ctx *c, bkp_gen **v, size_t n)
{
    char *dir = bkp_repo_subpath(c->repo, "media"), *log = bkp_audit_path(c->repo);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && log && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".pin"))
            continue;
        char *path = bkp_path_join(dir, e->d_name);
        bkp_pin *p = NULL;
        bkp_pin_finding *f = NULL;
        bkp_pin_log lg = {0};
        int rc = path ? bkp_pin_read(c->repo, path, &p) : -ENOMEM;
        if (rc) {
            if (rc == -EBADMSG)
                bkp_verify_problem(
                    c, N_("the pin %s is damaged or forged (its signature does not verify)"),
                    path ? path : e->d_name);
            else
                bkp_verify_problem(c, N_("the pin %s cannot be read: %s"), path ? path : e->d_name,
                                   bkp_strerror_en(rc));
            free(path);
            continue;
        }
        c->res->pins++;
        rc = bkp_pin_log_read(log, p->audit_records, &lg);
        int nf = rc && rc != -ENOENT ? rc : bkp_pin_compare(p, v, n, &lg, &f);
        if (nf < 0)
            bkp_verify_problem(c, N_("the pin %s cannot be compared: %s"), path,
                               bkp_strerror_en(nf));
        for (int i = 0; i < nf; i++)
            if (*f[i].dataset)
                bkp_verify_problem(c,
                                   f[i].beside ? N_("the primary is beside what medium %s pinned "
                                                    "for %s: %s")
                                               : N_("the primary is behind what medium %s pinned "
                                                    "for %s: %s"),
                                   p->medium, f[i].dataset, f[i].what);
            else
                bkp_verify_problem(c,
                                   f[i].beside
                                       ? N_("the primary is beside what medium %s pinned: %s")
                                       : N_("the primary is behind what medium %s pinned: %s"),
                                   p->medium, f[i].what);
        free(f);
        bkp_pin_free(p);
        free(path);
    }
    if (d)
        closedir(d);
    free(dir);
    free(log);
}

int bkp_verify_public(const bkp_repo *r, bkp_verify_result *res)
{
    verify_ctx c = {.repo = r, .res = res};
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    bkp_gen **v = NULL;
    size_t n = 0;
    memset(res, 0, sizeof(*res));
    int rc = bkp_gen_list(r, NULL, &v, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        res->generations += !v[i]->pruned;
        res->tombstones += v[i]->pruned;
    }
    check_chains(&c, v, n);
    check_clearances(&c, v, n);
    char *medium = bkp_gen_copy_medium(r); /* NULL: the primary */
    if (!medium) {
        bkp_verify_check_audit(&c, v, n, true);
        check_kept_pins(&c, v, n);
    }
    free(medium);
    bkp_gen_list_free(v, n);
    return 0;
}

int bkp_verify(const bkp_repo *r, bool read_data, int workers, bkp_verify_result *res)
{
    return verify_run(r, read_data, NULL, 0, workers, res);
}

int bkp_verify_packs(const bkp_repo *r, char *const *packs, size_t n, int workers,
                     bkp_verify_result *res)
{
    char **sorted = malloc((n + 1) * sizeof(*sorted));
    if (!sorted) {
        memset(res, 0, sizeof(*res));
        return -ENOMEM;
    }
    if (n) {
        memcpy(sorted, packs, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), cmp_str);
    }
    int rc = verify_run(r, true, sorted, n, workers, res);
    free(sorted);
    return rc;
}
