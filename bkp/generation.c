#include "bkp/generation.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/envelope.h"
#include "bkp/generation_internal.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/pin.h"
#include "bkp/audit.h"

#define RECORD_FORMAT "bkp-generation"
#define RECORD_VERSION 1
#define RECORD_MAX (64U << 20)

bool bkp_dataset_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

bool bkp_gen_marked(const bkp_gen *g)
{
    return json_is_true(json_object_get(json_object_get(g->json, "guard"), "suspicious"));
}

const char *bkp_gen_name(const bkp_gen *g, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%u", g->dataset, g->seq);
    return buf;
}

/* Length of a valid UTF-8 sequence at p, or 0. */
static size_t utf8_seq(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (n == 2 && p[0] < 0xC2) || p[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    /* No overlong forms, no surrogates, nothing above U+10FFFF: what JSON
     * (and jansson) accept. */
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

json_t *bkp_json_bytes(const char *s)
{
    bkp_buf b;
    bkp_buf_init(&b);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n && !(n == 1 && *p == '\\')) {
            bkp_buf_put(&b, p, n);
            p += n;
        } else {
            char esc[5];
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            bkp_buf_put(&b, *p == '\\' ? "\\\\" : esc, *p == '\\' ? 2 : 4);
            p++;
        }
    }
    json_t *j = json_stringn(b.len ? (const char *)b.data : "", b.len);
    bkp_buf_free(&b);
    return j;
}

static time_t parse_iso(const char *s)
{
    time_t t = bkp_iso_parse(s);
    return t < 0 ? 0 : t;
}

void bkp_gen_free(bkp_gen *g)
{
    if (!g)
        return;
    free(g->dataset);
    free(g->tree);
    free(g->file);
    json_decref(g->json);
    free(g);
}

void bkp_gen_list_free(bkp_gen **g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bkp_gen_free(g[i]);
    free(g);
}

int bkp_gen_record_parse(const uint8_t *text, size_t len, const char *repo_uuid, bkp_gen *g)
{
    const char *ds = NULL, *uuid = NULL, *prev = NULL, *started = NULL, *finished = NULL;
    const char *fmt = NULL, *repo = NULL;
    json_int_t seq = 0, version = 0;
    json_t *blobs = NULL, *pv = NULL;
    json_error_t jerr;
    g->json = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!g->json ||
        json_unpack(g->json, "{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:{s:o}}", "format", &fmt,
                    "version", &version, "repository", &repo, "dataset", &ds, "seq", &seq, "uuid",
                    &uuid, "started", &started, "finished", &finished, "prev", &pv, "tree",
                    "blobs", &blobs) != 0)
        return -EBADMSG;
    if (strcmp(fmt, RECORD_FORMAT) != 0 || version != RECORD_VERSION || strlen(uuid) != 36 ||
        seq < 1 || seq > 4000000000LL || !json_is_array(blobs) || strcmp(repo, repo_uuid) != 0 ||
        !bkp_dataset_name_ok(ds))
        return -EBADMSG;
    prev = json_is_string(pv) ? json_string_value(pv) : NULL;
    if (prev) {
        if (bkp_unhex(g->prev, BKP_ID_LEN, prev) != 0)
            return -EBADMSG;
        g->has_prev = true;
    } else if (!json_is_null(pv)) {
        return -EBADMSG;
    }
    g->dataset = strdup(ds);
    g->seq = (uint32_t)seq;
    memcpy(g->uuid, uuid, 37);
    g->started = parse_iso(started);
    g->finished = parse_iso(finished);
    g->ntree = json_array_size(blobs);
    g->tree = malloc(g->ntree * BKP_ID_LEN + 1);
    if (!g->dataset || !g->tree)
        return -ENOMEM;
    for (size_t i = 0; i < g->ntree; i++) {
        const char *h = json_string_value(json_array_get(blobs, i));
        if (!h || bkp_unhex(g->tree + i * BKP_ID_LEN, BKP_ID_LEN, h) != 0)
            return -EBADMSG;
    }
    return 0;
}

/* Parse and authenticate one record file's bytes. */
static int parse_record(const bkp_repo *r, const uint8_t *data, size_t len, bkp_gen *g)
{
    const uint8_t *text;
    size_t tlen;
    crypto_generichash(g->hash, BKP_ID_LEN, data, len, NULL, 0);
    int rc = bkp_envelope_open(bkp_repo_sign_pk(r), BKP_GEN_MAGIC, data, len, &text,
                               &tlen);
    return rc ? rc : bkp_gen_record_parse(text, tlen, bkp_repo_uuid(r), g);
}

static int load_record(bkp_repo *r, const char *path, const char *dataset, uint32_t seq, bkp_gen **out)
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

static int cmp_gen(const void *a, const void *b)
{
    const bkp_gen *x = *(bkp_gen *const *)a, *y = *(bkp_gen *const *)b;
    int c = strcmp(x->dataset, y->dataset);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int list_dataset(bkp_repo *r, const char *gdir, const char *dataset, const char *medium,
                        bkp_gen ***v, size_t *n, size_t *cap)
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
        rc = !path      ? -ENOMEM
             : tomb     ? bkp_gen_load_tombstone(r, path, dataset, (uint32_t)seq, medium, &g)
                        : load_record(r, path, dataset, (uint32_t)seq, &g);
        free(path);
        if (rc)
            break;
        if (!g->status && !g->pruned)
            g->cleared = bkp_gen_load_clearance(r, dir, g);
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 16;
            bkp_gen **nv = realloc(*v, *cap * sizeof(*nv));
            if (!nv) {
                bkp_gen_free(g);
                rc = -ENOMEM;
                break;
            }
            *v = nv;
        }
        (*v)[(*n)++] = g;
    }
    closedir(d);
    free(dir);
    return rc;
}

int bkp_gen_list(bkp_repo *r, const char *dataset, bkp_gen ***out, size_t *n)
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
        qsort(v, cnt, sizeof(*v), cmp_gen);
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

static json_t *stats_json(const bkp_capture *c)
{
    const bkp_capture_stats *s = &c->stats;
    json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files",
                     (json_int_t)s->files, "dirs", (json_int_t)s->dirs, "hardlinks",
                     (json_int_t)s->links, "other", (json_int_t)s->other, "bytes",
                     (json_int_t)s->bytes, "bytes_read", (json_int_t)s->bytes_read,
                     "files_unchanged", (json_int_t)s->files_cached, "chunks",
                     (json_int_t)s->chunks, "chunks_new", (json_int_t)s->chunks_new, "bytes_new",
                     (json_int_t)s->bytes_new, "stored_new", (json_int_t)s->stored_new);
    json_object_set_new(j, "files_added", json_integer((json_int_t)s->files_added));
    json_object_set_new(j, "files_changed", json_integer((json_int_t)s->files_changed));
    json_object_set_new(j, "files_touched", json_integer((json_int_t)s->files_touched));
    json_object_set_new(j, "files_deleted", json_integer((json_int_t)s->files_deleted));
    return j;
}

static json_t *record_json(bkp_repo *r, const char *dataset, uint32_t seq, const char *uuid,
                           const bkp_capture *c, time_t started, time_t finished, const bkp_gen *prev)
{
    char host[256] = "", ts[32], te[32], hex[2 * BKP_ID_LEN + 1];
    struct passwd *pw = getpwuid(getuid());
    gethostname(host, sizeof(host) - 1);
    bkp_iso_time(ts, sizeof(ts), started);
    bkp_iso_time(te, sizeof(te), finished);
    json_t *paths = json_array(), *blobs = json_array(), *errors = json_array();
    for (size_t i = 0; i < c->npaths; i++)
        json_array_append_new(paths, bkp_json_bytes(c->paths[i]));
    for (size_t i = 0; i < c->tree.len / BKP_ID_LEN; i++) {
        bkp_hex(hex, c->tree.data + i * BKP_ID_LEN, BKP_ID_LEN);
        json_array_append_new(blobs, json_string(hex));
    }
    for (size_t i = 0; i < c->nerrors; i++)
        json_array_append_new(errors, json_pack("{s:o, s:o}", "path", bkp_json_bytes(c->errors[i].path),
                                                "error", bkp_json_bytes(c->errors[i].message)));
    json_t *pj = json_null();
    if (prev) {
        bkp_hex(hex, prev->hash, BKP_ID_LEN);
        pj = json_string(hex);
    }
    return json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:o, s:s, s:I, s:s, s:s, s:o, s:{s:i, s:o, "
                     "s:I, s:I}, s:o, s:o, s:o, s:n}",
                     "format", RECORD_FORMAT, "version", RECORD_VERSION, "repository",
                     bkp_repo_uuid(r), "dataset", dataset, "seq", (json_int_t)seq, "uuid", uuid,
                     "host", bkp_json_bytes(host), "user", pw ? pw->pw_name : "?", "uid",
                     (json_int_t)getuid(), "started", ts, "finished", te, "paths", paths, "tree",
                     "version", 1, "blobs", blobs, "items", (json_int_t)c->tree_items, "bytes",
                     (json_int_t)c->tree_bytes, "stats", stats_json(c), "errors", errors, "prev",
                     pj, "policy_digest");
}

/* How far a capture time may lie in the future, or before its
 * predecessor's (NTP steps a clock; two runs may seal in one second). */
#define CAPTURE_SKEW 300

/* The capture time `finished` against the clock and the records `v` of the
 * data set before it: -EINVAL (logged) for one in the future; otherwise 0,
 * with `*why` set (else "") when it is not after its predecessor's. The
 * predecessor is the newest record that is not itself from the future: one
 * far-future record (forged, or sealed under a clock set forward) must not
 * make every later genuine generation look backdated (policies/retention.h
 * judges the same way). */
static int capture_time_check(bkp_gen **v, size_t n, const char *dataset, time_t finished,
                              char *why, size_t len)
{
    time_t now = bkp_now();
    char a[32], b[32], name[96];
    why[0] = '\0';
    if (finished > now + CAPTURE_SKEW) {
        bkp_iso_time(a, sizeof(a), finished);
        bkp_iso_time(b, sizeof(b), now);
        bkp_error("the generation of %s would be dated %s, after the clock's %s: not sealed; "
                  "check the system clock",
                  dataset, a, b);
        return -EINVAL;
    }
    /* When every record before it lies in the clock's future, the clock
     * itself was set back: the earliest of them is the one to be after. */
    const bkp_gen *pred = NULL;
    for (size_t i = n; i-- > 0;) {
        if (v[i]->status || v[i]->pruned)
            continue;
        if (v[i]->finished <= now + CAPTURE_SKEW) {
            pred = v[i];
            break;
        }
        if (!pred || v[i]->finished < pred->finished)
            pred = v[i];
    }
    if (pred && finished < pred->finished - CAPTURE_SKEW) {
        bkp_iso_time(a, sizeof(a), finished);
        bkp_iso_time(b, sizeof(b), pred->finished);
        snprintf(why, len,
                 "its capture time %s is before that of %s (%s): the clock went back, or records "
                 "were forged; it is kept, never counted by retention, and not copied to media "
                 "until cleared",
                 a, bkp_gen_name(pred, name, sizeof(name)), b);
    }
    return 0;
}

/* Mark record `j` suspicious for `why`, beside any verdict of the
 * change-rate guard (whose "guard" object it extends: bkp_gen_marked). */
static void mark_time(json_t *j, const char *why)
{
    json_t *guard = json_object_get(j, "guard");
    if (!json_is_object(guard)) {
        guard = json_object();
        json_object_set_new(j, "guard", guard);
    }
    json_object_set_new(guard, "suspicious", json_true());
    json_object_set_new(guard, "time", json_string(why));
    const char *r = json_string_value(json_object_get(guard, "reason"));
    if (!r || !*r)
        json_object_set_new(guard, "reason", json_string(why));
}

typedef struct seq_scan {
    const char *dataset;
    uint32_t max;
} seq_scan;

static int scan_sealed(json_t *j, void *ctx)
{
    seq_scan *s = ctx;
    const char *op = json_string_value(json_object_get(j, "op"));
    const char *gen = json_string_value(json_object_get(j, "generation"));
    size_t dl = strlen(s->dataset);
    if (!op || strcmp(op, "backup") || !gen || strncmp(gen, s->dataset, dl) || gen[dl] != ':')
        return 0;
    char *end;
    errno = 0;
    unsigned long seq = strtoul(gen + dl + 1, &end, 10);
    if (!errno && *end == '\0' && end != gen + dl + 1 && seq <= 4000000000UL && seq > s->max)
        s->max = (uint32_t)seq;
    return 0;
}

/* The highest head of `dataset` in the primary's copies of its media's pins,
 * into `*max` when higher; an unreadable pin is left to rotate and status,
 * which report it. */
static void pin_floor(bkp_repo *r, const char *dataset, uint32_t *max)
{
    char *dir = bkp_repo_subpath(r, "media");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".pin"))
            continue;
        char *path = bkp_path_join(dir, e->d_name);
        bkp_pin *p = NULL;
        if (path && bkp_pin_read(r, path, &p) == 0)
            for (size_t i = 0; i < p->nheads; i++)
                if (!strcmp(p->heads[i].dataset, dataset) && p->heads[i].seq > *max)
                    *max = p->heads[i].seq;
        bkp_pin_free(p);
        free(path);
    }
    if (d)
        closedir(d);
    free(dir);
}

int bkp_gen_seq_floor(bkp_repo *r, const char *dataset, uint32_t *floor)
{
    seq_scan s = {dataset, 0};
    char *log = bkp_audit_path(r);
    int rc = log ? bkp_audit_each(log, scan_sealed, &s) : -ENOMEM;
    free(log);
    /* No log: the loss is reported by the append that follows the seal;
     * the records and tombstones alone still set the floor. */
    if (rc && rc != -ENOENT)
        return rc;
    /* The pins the primary keeps of its media (media/NAME.pin) raise it
     * too: a log put back from an earlier day with its marker forgets what
     * was sealed since, but not what a medium was given. */
    pin_floor(r, dataset, &s.max);
    *floor = s.max;
    return 0;
}

int bkp_gen_seal(bkp_repo *r, const char *dataset, const bkp_capture *c, time_t started,
                 time_t finished, json_t *extra, bkp_gen **out)
{
    char *gdir = bkp_repo_subpath(r, "generations");
    char *dir = gdir ? bkp_path_join(gdir, dataset) : NULL;
    int rc = 0;
    if (!dir) {
        rc = -ENOMEM;
        goto out;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        bkp_error("cannot create %s: %s", dir, bkp_strerror(rc));
        goto out;
    }
    /* A sequence number is never given twice: the next one is above every
     * record and tombstone there is and every one the audit log says was
     * sealed, so a deleted newest record does not free its number. */
    uint32_t floor = 0;
    if ((rc = bkp_gen_seq_floor(r, dataset, &floor)))
        bkp_error("cannot read the audit log of %s: %s", bkp_repo_path(r), bkp_strerror(rc));
    else if (!(rc = bkp_fsync_dir(gdir)))
        for (int attempt = 0; attempt < 100; attempt++) {
            bkp_gen **v = NULL, *latest = NULL;
            size_t n = 0;
            uint8_t u[16];
            char uuid[37], name[32];
            if ((rc = bkp_gen_list(r, dataset, &v, &n)))
                break;
            char late[512];
            if ((rc = capture_time_check(v, n, dataset, finished, late, sizeof(late)))) {
                bkp_gen_list_free(v, n);
                break;
            }
            latest = n ? v[n - 1] : NULL;
            uint32_t seq = latest ? latest->seq + 1 : 1;
            if (seq <= floor)
                seq = floor + 1;
            if (seq > 4000000000U) {
                bkp_gen_list_free(v, n);
                rc = -EOVERFLOW;
                break;
            }
            uuid_generate_random(u);
            uuid_unparse_lower(u, uuid);
            json_t *j = record_json(r, dataset, seq, uuid, c, started, finished, latest);
            if (j && extra)
                json_object_update_missing(j, extra);
            if (j && *late) {
                /* A deep copy: the guard's verdict in `extra` is the caller's. */
                json_t *g = json_deep_copy(json_object_get(j, "guard"));
                if (g)
                    json_object_set_new(j, "guard", g);
                mark_time(j, late);
                bkp_warn("%s:%u: %s; if the clock was set right since, clear it with `bkp "
                         "generations --clear-suspicious %s:%u`",
                         dataset, seq, late, dataset, seq);
            }
            char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(j);
            bkp_gen_list_free(v, n);
            if (!text) {
                rc = -ENOMEM;
                break;
            }
            bkp_buf rec;
            bkp_buf_init(&rec);
            rc = bkp_envelope_seal(bkp_repo_keys(r), BKP_GEN_MAGIC, text, &rec);
            free(text);
            snprintf(name, sizeof(name), "%010u.gen", seq);
            if (!rc)
                rc = bkp_durable_write(dir, name, rec.data, rec.len,
                                       BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
            if (!rc && out) {
                char *path = bkp_path_join(dir, name);
                rc = path ? load_record(r, path, dataset, seq, out) : -ENOMEM;
                free(path);
            }
            bkp_buf_free(&rec);
            if (rc != -EEXIST)
                break; /* -EEXIST: a concurrent writer took this number; chain again */
        }
    if (rc)
        bkp_error("cannot seal the generation of %s in %s: %s", dataset, dir, bkp_strerror(rc));
out:
    free(gdir);
    free(dir);
    return rc;
}

int bkp_gen_resolve(bkp_repo *r, const char *spec, bkp_gen **out)
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
        if (!bkp_dataset_name_ok(ds)) {
            bkp_error("'%s' is not a data set name", ds);
            free(ds);
            return -EINVAL;
        }
        rc = bkp_gen_list(r, ds, &v, &n);
        if (rc)
            bkp_error("cannot list the generations of %s: %s", ds, bkp_strerror(rc));
        free(ds);
        if (rc)
            return rc;
        const char *sel = colon + 1;
        char *end;
        unsigned long seq = strtoul(sel, &end, 10);
        bool latest = strcmp(sel, "latest") == 0;
        if (!latest && (!*sel || *end)) {
            bkp_error("'%s': after the ':' give a sequence number or 'latest'", spec);
            bkp_gen_list_free(v, n);
            return -EINVAL;
        }
        for (size_t i = n; i-- > 0;) {
            if (!latest && v[i]->seq != seq)
                continue;
            if (v[i]->pruned && !v[i]->status) {
                if (latest)
                    continue;
                const char *why = json_string_value(json_object_get(v[i]->json, "reason"));
                if (why && !strcmp(why, "not copied"))
                    bkp_error("%s:%u is not held by this copy (only its tombstone is, for the "
                              "chain); `bkp generations` lists the ones it holds, and another "
                              "medium or the repository may have it",
                              v[i]->dataset, v[i]->seq);
                else
                    bkp_error("%s:%u was deleted by prune (%s); `bkp generations` lists the ones "
                              "kept",
                              v[i]->dataset, v[i]->seq,
                              json_string_value(json_object_get(v[i]->json, "pruned")));
                break;
            }
            if (v[i]->status) {
                char name[96];
                bkp_log(latest ? BKP_LOG_WARN : BKP_LOG_ERROR,
                        "%s: its generation record is damaged or forged (%s)%s",
                        bkp_gen_name(v[i], name, sizeof(name)), v[i]->file,
                        latest ? "; using the newest intact generation before it"
                               : "; restore another generation, or this one from another medium");
                if (!latest)
                    break;
                continue;
            }
            found = v[i];
            v[i] = NULL;
            break;
        }
    } else {
        size_t plen = strlen(spec);
        if ((rc = bkp_gen_list(r, NULL, &v, &n))) {
            bkp_error("cannot list the generations: %s", bkp_strerror(rc));
            return rc;
        }
        for (size_t i = 0; i < n && plen >= 4; i++) {
            if (v[i]->status || v[i]->pruned || strncasecmp(v[i]->uuid, spec, plen) != 0)
                continue;
            if (found) {
                bkp_error(_("'%s' matches several generations; give more of the UUID or use "
                            "DATASET:SEQ"),
                          spec);
                bkp_gen_list_free(v, n);
                return -EINVAL;
            }
            found = v[i];
            v[i] = NULL;
        }
    }
    bkp_gen_list_free(v, n);
    if (!found) {
        bkp_error(_("no generation '%s'; `bkp generations` lists them (name them DATASET:latest, "
                    "DATASET:SEQ or by UUID prefix)"),
                  spec);
        return -ENOENT;
    }
    *out = found;
    return 0;
}
