/* seal.c — see seal.h. */
#include "bkp/store/seal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/envelope.h"
#include "bkp/store/generation.h"
#include "bkp/store/generation_internal.h"
#include "bkp/store/tree.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "bkp/media/pin.h"

static json_t *stats_json(const bkp_capture *c)
{
    const bkp_capture_stats *s = &c->stats;
    json_t *j = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files", (json_int_t)s->files,
        "dirs", (json_int_t)s->dirs, "hardlinks", (json_int_t)s->links, "other",
        (json_int_t)s->other, "bytes", (json_int_t)s->bytes, "bytes_read",
        (json_int_t)s->bytes_read, "files_unchanged", (json_int_t)s->files_cached, "chunks",
        (json_int_t)s->chunks, "chunks_new", (json_int_t)s->chunks_new, "bytes_new",
        (json_int_t)s->bytes_new, "stored_new", (json_int_t)s->stored_new);
    json_object_set_new(j, "files_added", json_integer((json_int_t)s->files_added));
    json_object_set_new(j, "files_changed", json_integer((json_int_t)s->files_changed));
    json_object_set_new(j, "files_touched", json_integer((json_int_t)s->files_touched));
    json_object_set_new(j, "files_deleted", json_integer((json_int_t)s->files_deleted));
    return j;
}

static json_t *record_json(bkp_repo *r, const char *dataset, uint32_t seq, const char *uuid,
                           const bkp_capture *c, time_t started, time_t finished,
                           const bkp_gen *prev)
{
    char host[256] = "", ts[32], te[32], hex[2 * BKP_ID_LEN + 1];
    char user[256];
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
        json_array_append_new(errors,
                              json_pack("{s:o, s:o}", "path", bkp_json_bytes(c->errors[i].path),
                                        "error", bkp_json_bytes(c->errors[i].message)));
    json_t *pj = json_null();
    if (prev) {
        bkp_hex(hex, prev->hash, BKP_ID_LEN);
        pj = json_string(hex);
    }
    return json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:o, s:s, s:I, s:s, s:s, s:o, s:{s:i, s:o, "
                     "s:I, s:I}, s:o, s:o, s:o, s:n}",
                     "format", BKP_GEN_RECORD_FORMAT, "version", BKP_GEN_RECORD_VERSION,
                     "repository", bkp_repo_uuid(r), "dataset", dataset, "seq", (json_int_t)seq,
                     "uuid", uuid, "host", bkp_json_bytes(host), "user",
                     bkp_user_name(user, sizeof(user)), "uid", (json_int_t)getuid(), "started", ts,
                     "finished", te, "paths", paths, "tree", "version", BKP_TREE_VERSION, "blobs", blobs, "items",
                     (json_int_t)c->tree_items, "bytes", (json_int_t)c->tree_bytes, "stats",
                     stats_json(c), "errors", errors, "prev", pj, "policy_digest");
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
        bkp_error(_("the generation of %s would be dated %s, after the clock's %s: not sealed; "
                    "check the system clock"),
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
static void pin_floor(const bkp_repo *r, const char *dataset, uint32_t *max)
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

int bkp_gen_seq_floor(const bkp_repo *r, const char *dataset, uint32_t *floor)
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

/* What one seal works with, for its steps below. */
typedef struct seal_job {
    bkp_repo *r;
    const char *dataset;
    const char *dir; /* generations/DATASET */
    const bkp_capture *c;
    time_t started, finished;
    const bkp_gen_guard *guard;
    uint32_t floor; /* the sequence numbers at or below it are taken */
} seal_job;

/* The record of the next generation, as text (*text, allocated), under the
 * sequence number *seq: one above the newest record or tombstone there is
 * now and above the floor. A capture time the clock or the chain makes
 * doubtful marks the record suspicious, with a warning. */
static int compose_record(const seal_job *s, uint32_t *seq, char **text)
{
    bkp_gen **v = NULL, *latest = NULL;
    size_t n = 0;
    uint8_t u[16];
    char uuid[37], late[512];
    int rc;

    if ((rc = bkp_gen_list(s->r, s->dataset, &v, &n)))
        return rc;
    if ((rc = capture_time_check(v, n, s->dataset, s->finished, late, sizeof(late)))) {
        bkp_gen_list_free(v, n);
        return rc;
    }
    latest = n ? v[n - 1] : NULL;
    *seq = latest ? latest->seq + 1 : 1;
    if (*seq <= s->floor)
        *seq = s->floor + 1;
    if (*seq > 4000000000U) {
        bkp_gen_list_free(v, n);
        return -EOVERFLOW;
    }
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid);
    json_t *j = record_json(s->r, s->dataset, *seq, uuid, s->c, s->started, s->finished, latest);
    if (j && s->guard)
        json_object_set_new(j, "guard",
                            json_pack("{s:b, s:s, s:f}", "suspicious", s->guard->suspicious,
                                      "reason", s->guard->suspicious ? s->guard->reason : "",
                                      "change", s->guard->change));
    if (j && *late) {
        mark_time(j, late);
        bkp_warn(_("%s:%u: %s; if the clock was set right since, clear it with `bkp "
                   "generations --clear-suspicious %s:%u`"),
                 s->dataset, *seq, late, s->dataset, *seq);
    }
    *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    bkp_gen_list_free(v, n);
    return *text ? 0 : -ENOMEM;
}

/*
 * Seal `text` and write it as record SEQ.gen: this write is the commit point
 * of a backup. The blobs the record names were made durable before (the
 * capture flushed its packs and index segment), so a record never names a
 * blob a crash can lose. The write goes through the durable-write path
 * (temporary file, fsync, published under its name without replacing one,
 * read-only, fsync of the folder): a kill before it is published leaves a
 * temporary file, which the next writable open removes, and no generation;
 * a kill after it leaves the generation sealed without the audit line the
 * caller appends next, and its record alone keeps its number from being
 * given again. -EEXIST: another writer published that number first.
 */
static int write_record(const seal_job *s, uint32_t seq, const char *text, bkp_gen **out)
{
    char name[32];
    bkp_buf rec;

    bkp_buf_init(&rec);
    int rc = bkp_envelope_seal(bkp_repo_keys(s->r), BKP_GEN_MAGIC, text, &rec);
    snprintf(name, sizeof(name), "%010u.gen", seq);
    if (!rc)
        rc = bkp_durable_write(s->dir, name, rec.data, rec.len,
                               BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY);
    if (!rc && out) {
        char *path = bkp_path_join(s->dir, name);
        rc = path ? bkp_gen_load_record(s->r, path, s->dataset, seq, out) : -ENOMEM;
        free(path);
    }
    bkp_buf_free(&rec);
    return rc;
}

int bkp_gen_seal(bkp_repo *r, const char *dataset, const bkp_capture *c, time_t started,
                 time_t finished, const bkp_gen_guard *guard, bkp_gen **out)
{
    char *gdir = bkp_repo_subpath(r, "generations");
    char *dir = gdir ? bkp_path_join(gdir, dataset) : NULL;
    seal_job s = {.r = r,
                  .dataset = dataset,
                  .dir = dir,
                  .c = c,
                  .started = started,
                  .finished = finished,
                  .guard = guard};
    int rc = 0;
    if (!dir) {
        rc = -ENOMEM;
        goto out;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        bkp_error(_("cannot create %s: %s"), dir, bkp_strerror(rc));
        goto out;
    }
    /* A sequence number is never given twice: the next one is above every
     * record and tombstone there is and every one the audit log says was
     * sealed, so a deleted newest record does not free its number. */
    if ((rc = bkp_gen_seq_floor(r, dataset, &s.floor)))
        bkp_error(_("cannot read the audit log of %s: %s"), bkp_repo_path(r), bkp_strerror(rc));
    /* The data set's folder is made durable in generations/ before a record
     * is written into it: a crash must not take away the folder entry, and
     * with it a record already reported sealed. */
    else if (!(rc = bkp_fsync_dir(gdir)))
        for (int attempt = 0; attempt < 100; attempt++) {
            uint32_t seq;
            char *text = NULL;
            if ((rc = compose_record(&s, &seq, &text)))
                break;
            rc = write_record(&s, seq, text, out);
            free(text);
            if (rc != -EEXIST)
                break; /* -EEXIST: a concurrent writer took this number; chain again */
        }
    if (rc)
        bkp_error(_("cannot seal the generation of %s in %s: %s"), dataset, dir, bkp_strerror(rc));
out:
    free(gdir);
    free(dir);
    return rc;
}
