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

/* What the record of capture `c` says, in `g` (its number, UUID and
 * chain are the caller's): the paths, host and unreadable files as
 * recorded (invalid UTF-8 as \xNN). `g` borrows the tree and the dataset
 * name; free the rest with record_clear. */
static int record_of(const bkp_capture *c, const char *dataset, time_t started, time_t finished,
                     const bkp_gen_guard *guard, bkp_gen *g)
{
    const bkp_capture_stats *s = &c->stats;
    char host[256] = "", user[256];
    gethostname(host, sizeof(host) - 1);
    *g = (bkp_gen){.dataset = (char *)dataset,
                   .started = started,
                   .finished = finished,
                   .tree = c->tree.data,
                   .ntree = c->tree.len / BKP_ID_LEN,
                   .items = c->tree_items,
                   .tree_bytes = c->tree_bytes,
                   .tree_version = BKP_TREE_VERSION,
                   .uid = (int64_t)getuid(),
                   .stats = {.files = s->files,
                             .dirs = s->dirs,
                             .hardlinks = s->links,
                             .other = s->other,
                             .bytes = s->bytes,
                             .bytes_read = s->bytes_read,
                             .files_unchanged = s->files_cached,
                             .chunks = s->chunks,
                             .chunks_new = s->chunks_new,
                             .bytes_new = s->bytes_new,
                             .stored_new = s->stored_new,
                             .files_added = s->files_added,
                             .files_changed = s->files_changed,
                             .files_touched = s->files_touched,
                             .files_deleted = s->files_deleted}};
    if (guard) {
        g->guarded = g->judged = true;
        g->suspicious = guard->suspicious;
        g->change = guard->change;
        if (guard->suspicious && guard->reason && *guard->reason &&
            !(g->guard_reason = strdup(guard->reason)))
            return -ENOMEM;
    }
    if (!(g->host = bkp_bytes_text(host)) ||
        !(g->user = strdup(bkp_user_name(user, sizeof(user)))))
        return -ENOMEM;
    if (c->npaths && !(g->paths = calloc(c->npaths, sizeof(*g->paths))))
        return -ENOMEM;
    for (; g->npaths < c->npaths; g->npaths++)
        if (!(g->paths[g->npaths] = bkp_bytes_text(c->paths[g->npaths])))
            return -ENOMEM;
    if (c->nerrors && !(g->errors = calloc(c->nerrors, sizeof(*g->errors))))
        return -ENOMEM;
    for (; g->nerrors < c->nerrors; g->nerrors++) {
        bkp_gen_error *e = &g->errors[g->nerrors];
        if (!(e->path = bkp_bytes_text(c->errors[g->nerrors].path)) ||
            !(e->message = bkp_bytes_text(c->errors[g->nerrors].message))) {
            g->nerrors++;
            return -ENOMEM;
        }
    }
    return 0;
}

/* Free what record_of made; what `g` borrows stays. */
static void record_clear(bkp_gen *g)
{
    g->dataset = NULL;
    g->tree = NULL;
    bkp_gen_empty(g);
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

/* Mark record `g` suspicious for `why`, beside any verdict of the
 * change-rate guard (bkp_gen_marked). */
static int mark_time(bkp_gen *g, const char *why)
{
    g->guarded = g->suspicious = true;
    if (!(g->guard_time = strdup(why)))
        return -ENOMEM;
    if (!g->guard_reason && !(g->guard_reason = strdup(why)))
        return -ENOMEM;
    return 0;
}

typedef struct seq_scan {
    const char *dataset;
    uint32_t max;
} seq_scan;

static int scan_sealed(const bkp_audit_entry *e, void *ctx)
{
    seq_scan *s = ctx;
    const char *gen = e->generation;
    size_t dl = strlen(s->dataset);
    if (strcmp(e->op, "backup") || !gen || strncmp(gen, s->dataset, dl) || gen[dl] != ':')
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
    char late[512];
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
    bkp_gen g;
    rc = record_of(s->c, s->dataset, s->started, s->finished, s->guard, &g);
    g.seq = *seq;
    uuid_generate_random(u);
    uuid_unparse_lower(u, g.uuid);
    if (latest) {
        memcpy(g.prev, latest->hash, BKP_ID_LEN);
        g.has_prev = true;
    }
    if (!rc && *late) {
        rc = mark_time(&g, late);
        bkp_warn(_("%s:%u: %s; if the clock was set right since, clear it with `bkp "
                   "generations --clear-suspicious %s:%u`"),
                 s->dataset, *seq, late, s->dataset, *seq);
    }
    *text = rc ? NULL : bkp_gen_record_text(&g, bkp_repo_uuid(s->r));
    record_clear(&g);
    bkp_gen_list_free(v, n);
    return rc ? rc : *text ? 0 : -ENOMEM;
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
