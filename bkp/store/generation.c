#include "bkp/store/generation.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/store/generation_internal.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

#define RECORD_MAX (64U << 20)

bool bkp_gen_marked(const bkp_gen *g)
{
    return g->suspicious;
}

size_t bkp_gen_suspicion(bkp_gen *const *v, size_t n)
{
    size_t from = n;
    for (size_t x = n; x-- > 0;) {
        /* A damaged record may be the marked one: it holds like one (a
         * byte flipped must not lift a suspicion). A tombstone is no
         * capture, damaged or not. */
        bool damaged = v[x]->status && !v[x]->pruned;
        if (!damaged && (v[x]->pruned || v[x]->status || !bkp_gen_marked(v[x])))
            continue;
        if (!damaged && v[x]->cleared)
            break; /* checked since: what came before it is settled */
        from = x;
    }
    return from;
}

const char *bkp_gen_suspect_in(bkp_gen *const *v, size_t n)
{
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && !strcmp(v[j]->dataset, v[i]->dataset); j++)
            ;
        if (bkp_gen_suspicion(v + i, j - i) < j - i)
            return v[i]->dataset;
    }
    return NULL;
}

bool bkp_gen_suspect_any(const bkp_repo *r, char *ds, size_t n)
{
    bkp_gen **v = NULL;
    size_t nv = 0;
    if (bkp_gen_list(r, NULL, &v, &nv))
        return false;
    const char *name = bkp_gen_suspect_in(v, nv);
    if (name)
        snprintf(ds, n, "%s", name);
    bkp_gen_list_free(v, nv);
    return name != NULL;
}

const char *bkp_gen_name(const bkp_gen *g, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%u", g->dataset, g->seq);
    return buf;
}

void bkp_gen_free(bkp_gen *g)
{
    if (g)
        bkp_gen_empty(g);
    free(g);
}

void bkp_gen_empty(bkp_gen *g)
{
    free(g->dataset);
    free(g->tree);
    free(g->file);
    for (size_t i = 0; i < g->npaths; i++)
        free(g->paths[i]);
    free(g->paths);
    for (size_t i = 0; g->errors && i < g->nerrors; i++) {
        free(g->errors[i].path);
        free(g->errors[i].message);
    }
    free(g->errors);
    free(g->host);
    free(g->user);
    free(g->guard_reason);
    free(g->guard_time);
    free(g->reason);
    free(g->medium);
    free(g->text);
    memset(g, 0, sizeof(*g));
}

void bkp_gen_list_free(bkp_gen **g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bkp_gen_free(g[i]);
    free(g);
}

int bkp_gen_keep_text(const uint8_t *text, size_t len, bkp_gen *g)
{
    free(g->text);
    g->text = malloc(len + 1);
    if (!g->text)
        return -ENOMEM;
    memcpy(g->text, text, len);
    g->text[len] = '\0';
    g->ntext = len;
    return 0;
}

/* Parse and authenticate one record file's bytes. */
static int parse_record(const bkp_repo *r, const uint8_t *data, size_t len, bkp_gen *g)
{
    const uint8_t *text;
    size_t tlen;
    crypto_generichash(g->hash, BKP_ID_LEN, data, len, NULL, 0);
    int rc = bkp_envelope_open(bkp_repo_sign_pk(r), BKP_GEN_MAGIC, data, len, &text, &tlen);
    return rc ? rc : bkp_gen_record_parse(text, tlen, bkp_repo_uuid(r), g);
}

int bkp_gen_load_record(const bkp_repo *r, const char *path, const char *dataset, uint32_t seq,
                        bkp_gen **out)
{
    bkp_buf data;
    bkp_gen *g = calloc(1, sizeof(*g));
    int rc;
    if (!g)
        return -ENOMEM;
    bkp_buf_init(&data);
    g->file = strdup(path);
    rc = bkp_envelope_load(path, RECORD_MAX, &data); /* too large: damaged, -EBADMSG */
    if (!rc)
        rc = parse_record(r, data.data, data.len, g);
    if (rc && rc != -EBADMSG) {
        bkp_buf_free(&data);
        bkp_gen_free(g);
        return rc;
    }
    if (rc) {
        /* Keep a damaged record visible: verify must name it. */
        g->status = -EBADMSG;
        free(g->dataset);
        g->dataset = strdup(dataset);
        g->seq = seq;
        g->ntree = 0;
    } else if (strcmp(g->dataset, dataset) != 0 || g->seq != seq) {
        /* A valid record moved under another name: it is named by its place. */
        g->status = -EBADMSG;
        free(g->dataset);
        g->dataset = strdup(dataset);
        g->seq = seq;
    }
    bkp_buf_free(&data);
    *out = g;
    return 0;
}

int bkp_gen_order(const void *a, const void *b)
{
    const bkp_gen *x = *(bkp_gen *const *)a, *y = *(bkp_gen *const *)b;
    int c = strcmp(x->dataset, y->dataset);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int list_dataset(const bkp_repo *r, const char *gdir, const char *dataset,
                        const char *medium, bkp_gen ***v, size_t *n, size_t *cap)
{
    char *dir = bkp_path_join(gdir, dataset);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    int rc = 0;
    if (!d) {
        free(dir);
        return errno == ENOENT ? 0 : -errno;
    }
    while ((e = readdir(d)) && !rc) {
        char *end;
        unsigned long seq = strtoul(e->d_name, &end, 10);
        bool tomb = end == e->d_name + 10 && strcmp(end, ".pruned") == 0;
        if (end != e->d_name + 10 || (strcmp(end, ".gen") != 0 && !tomb) || seq < 1 ||
            seq > 4000000000UL)
            continue; /* not a record name this version writes */
        char *path = bkp_path_join(dir, e->d_name);
        bkp_gen *g = NULL;
        rc = !path  ? -ENOMEM
             : tomb ? bkp_gen_load_tombstone(r, path, dataset, (uint32_t)seq, medium, &g)
                    : bkp_gen_load_record(r, path, dataset, (uint32_t)seq, &g);
        free(path);
        if (rc)
            break;
        if (!g->status && !g->pruned)
            g->cleared = bkp_gen_load_clearance(r, dir, g);
        if ((rc = bkp_grow(v, cap, *n, sizeof(**v), 16))) {
            bkp_gen_free(g);
            break;
        }
        (*v)[(*n)++] = g;
    }
    closedir(d);
    free(dir);
    return rc;
}

int bkp_gen_list(const bkp_repo *r, const char *dataset, bkp_gen ***out, size_t *n)
{
    char *gdir = bkp_repo_subpath(r, "generations");
    bkp_gen **v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    if (!gdir)
        return -ENOMEM;
    char *medium = bkp_gen_copy_medium(r); /* NULL on the primary */
    if (dataset) {
        rc = list_dataset(r, gdir, dataset, medium, &v, &cnt, &cap);
    } else {
        DIR *d = opendir(gdir);
        struct dirent *e;
        if (!d)
            rc = -errno;
        while (d && (e = readdir(d)) && !rc)
            if (bkp_dataset_name_ok(e->d_name))
                rc = list_dataset(r, gdir, e->d_name, medium, &v, &cnt, &cap);
        if (d)
            closedir(d);
    }
    free(gdir);
    free(medium);
    if (rc) {
        bkp_gen_list_free(v, cnt);
        return rc;
    }
    if (cnt)
        qsort(v, cnt, sizeof(*v), bkp_gen_order);
    /* A record and its tombstone both present (prune stopped between writing
     * one and deleting the other): the record is still there, so it counts. */
    size_t w = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (w && !strcmp(v[w - 1]->dataset, v[i]->dataset) && v[w - 1]->seq == v[i]->seq) {
            if (v[i]->pruned) {
                bkp_gen_free(v[i]);
                continue;
            }
            bkp_gen_free(v[w - 1]);
            v[w - 1] = v[i];
            continue;
        }
        v[w++] = v[i];
    }
    cnt = w;
    *out = v;
    *n = cnt;
    return 0;
}

/* Why generation `g`, asked for by number, is not here: only its tombstone
 * is (not copied to this medium, or deleted by prune). */
static void report_tombstone(const bkp_repo *r, const bkp_gen *g)
{
    char when[32] = "?";
    if (g->pruned_at)
        bkp_iso_time(when, sizeof(when), g->pruned_at);
    if (g->reason && !strcmp(g->reason, "not copied"))
        bkp_error(_("%s:%u is not held by this copy (only its tombstone is, for the "
                    "chain); `bkp generations %s` lists the ones it holds, and another "
                    "medium or the repository may have it"),
                  g->dataset, g->seq, bkp_repo_shown(r));
    else
        bkp_error(_("%s:%u was deleted by prune (%s); `bkp generations %s` lists the "
                    "ones kept"),
                  g->dataset, g->seq, when, bkp_repo_shown(r));
}

/* The generation that `sel` (after the ':' of `spec`: a sequence number or
 * "latest") names in `v`, one data set's list, taken out of the list into
 * *found; left NULL when there is none, reported when it is a tombstone or
 * damaged. From the newest, "latest" passes over both (a damaged one with
 * a warning). */
static int pick_by_seq(const bkp_repo *r, bkp_gen **v, size_t n, const char *spec, const char *sel,
                       bkp_gen **found)
{
    char *end;
    unsigned long seq = strtoul(sel, &end, 10);
    bool latest = strcmp(sel, "latest") == 0;
    if (!latest && (!*sel || *end)) {
        bkp_error(_("'%s': after the ':' give a sequence number or 'latest'"), spec);
        return -EINVAL;
    }
    for (size_t i = n; i-- > 0;) {
        if (!latest && v[i]->seq != seq)
            continue;
        if (v[i]->pruned && !v[i]->status) {
            if (latest)
                continue;
            report_tombstone(r, v[i]);
            return -ENOENT; /* said: not said again as "no generation" */
        }
        if (v[i]->status) {
            char name[96];
            bkp_log(latest ? BKP_LOG_WARN : BKP_LOG_ERROR,
                    "%s: its generation record is damaged or forged (%s)%s",
                    bkp_gen_name(v[i], name, sizeof(name)), v[i]->file,
                    latest ? "; using the newest intact generation before it"
                           : "; restore another generation, or this one from another medium");
            if (!latest)
                return -ENOENT; /* said */
            continue;
        }
        *found = v[i];
        v[i] = NULL;
        break;
    }
    return 0;
}

/* The one intact generation of `v` whose UUID starts with `spec` (4
 * characters at least), taken out of the list into *found; -EINVAL when
 * several match. */
static int pick_by_uuid(bkp_gen **v, size_t n, const char *spec, bkp_gen **found)
{
    size_t plen = strlen(spec);

    for (size_t i = 0; i < n && plen >= 4; i++) {
        if (v[i]->status || v[i]->pruned || strncasecmp(v[i]->uuid, spec, plen) != 0)
            continue;
        if (*found) {
            bkp_error(_("'%s' matches several generations; give more of the UUID or use "
                        "DATASET:SEQ"),
                      spec);
            bkp_gen_free(*found);
            *found = NULL;
            return -EINVAL;
        }
        *found = v[i];
        v[i] = NULL;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The data sets `r` holds generations of, in order, "emr, scans" into
 * `buf` ("" for none; cut with "..."), for a message about a name that is
 * not one. */
static const char *datasets_held(const bkp_repo *r, char *buf, size_t n)
{
    enum { SHOWN = 32 };
    char *names[SHOWN];
    size_t k = 0;
    bool more = false;
    char *gdir = bkp_repo_subpath(r, "generations");
    DIR *d = gdir ? opendir(gdir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (bkp_dataset_name_ok(e->d_name) && !(more |= k == SHOWN) &&
            (names[k] = strdup(e->d_name)))
            k++;
    if (d)
        closedir(d);
    free(gdir);
    qsort(names, k, sizeof(*names), by_name);
    bkp_names_join(buf, n, (const char *const *)names, k, more);
    for (size_t i = 0; i < k; i++)
        free(names[i]);
    return buf;
}

static int resolve(const bkp_repo *r, const char *spec, bkp_gen **out)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    const char *colon = strrchr(spec, ':');
    int rc;
    bkp_gen *found = NULL;

    if (colon) {
        char *ds = strndup(spec, (size_t)(colon - spec));
        if (!ds)
            return -ENOMEM;
        char held[256];
        if (!bkp_dataset_name_ok(ds)) {
            bkp_error(_("'%s' is not a data set name (names are as the policy writes them: "
                        "letters, digits, '.', '_' and '-'); the data sets here (%s) are: %s"),
                      ds, bkp_repo_shown(r), *datasets_held(r, held, sizeof(held)) ? held : "-");
            free(ds);
            return -EINVAL;
        }
        rc = bkp_gen_list(r, ds, &v, &n);
        if (rc)
            bkp_error(_("cannot list the generations of %s: %s"), ds, bkp_strerror(rc));
        bool unknown = !rc && !n && *datasets_held(r, held, sizeof(held));
        if (unknown)
            bkp_error(_("the repository (%s) holds no generation of %s (none was made yet, or "
                        "the name is mistyped); it holds generations of: %s"),
                      bkp_repo_shown(r), ds, held);
        free(ds);
        if (rc)
            return rc;
        if (unknown) {
            bkp_gen_list_free(v, n);
            return -ENOENT; /* said */
        }
        rc = pick_by_seq(r, v, n, spec, colon + 1, &found);
    } else {
        if ((rc = bkp_gen_list(r, NULL, &v, &n))) {
            bkp_error(_("cannot list the generations: %s"), bkp_strerror(rc));
            return rc;
        }
        rc = pick_by_uuid(v, n, spec, &found);
        for (size_t i = 0; !rc && !found && i < n; i++)
            if (v[i] && !strcmp(v[i]->dataset, spec)) { /* a data set named alone */
                bkp_error(_("'%s' is a data set: name one of its generations, such as %s:latest "
                            "(`bkp generations %s` lists them)"),
                          spec, spec, bkp_repo_shown(r));
                rc = -ENOENT;
            }
    }
    bkp_gen_list_free(v, n);
    if (rc)
        return rc;
    if (!found) {
        bkp_error(_("no generation '%s'; `bkp generations %s` lists them (name them "
                    "DATASET:latest, DATASET:SEQ or by UUID prefix)"),
                  spec, bkp_repo_shown(r));
        return -ENOENT;
    }
    *out = found;
    return 0;
}

int bkp_gen_resolve(const bkp_repo *r, const char *typed, bkp_gen **out)
{
    /* A name is ASCII: "ｋａｒｔｅ：０２" typed with an input method is
     * karte:02. */
    char *spec = strdup(typed);
    if (!spec)
        return -ENOMEM;
    bkp_name_typed(spec);
    int rc = resolve(r, spec, out);
    free(spec);
    return rc;
}
