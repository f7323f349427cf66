/* rotate_finish.c — see rotate_finish.h. */
#include "bkp/ops/rotate_finish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate_record.h"

/* Into `b` (`n` bytes), anew, cut if it must be at a character's boundary:
 * what is cut mid-character is not UTF-8, and JSON refuses it. */
#define cut_printf(b, n, ...) ((b)[0] = '\0', bkp_strappend((b), (n), __VA_ARGS__))

/* The rotating process: its pid and host, which name the writer lock it
 * holds on the primary for as long as it lives (lock.h), and which status
 * asks about (bkp_lock_writer_alive). */
typedef struct began_ctx {
    time_t now;
    bool failed_early;
    const char *primary; /* the primary's path, whose writer locks say who lives */
} began_ctx;

static int note_began(bkp_media_entry *e, void *ctx)
{
    const began_ctx *b = ctx;
    struct utsname u;
    /* Another's open attempt, its process alive (copying): it stands; one
     * cut off gives way to this failure, the newer news. */
    if (b->failed_early && e->attempt.began && !e->attempt.ended &&
        bkp_lock_writer_alive(b->primary, e->attempt.host, e->attempt.pid))
        return -EBUSY;
    e->attempt = (bkp_media_attempt){.began = b->now, .pid = (long)getpid()};
    snprintf(e->attempt.host, sizeof(e->attempt.host), "%s", uname(&u) ? "?" : u.nodename);
    return 0;
}

time_t ops_rotate_begin(bkp_repo *primary, const char *medium, bool failed_early)
{
    began_ctx b = {bkp_now(), failed_early, bkp_repo_path(primary)};
    time_t now = b.now;
    if (bkp_media_update(primary, medium, note_began, &b)) {
        bkp_debug("%s: the start of this rotation could not be noted in the registry", medium);
        return 0;
    }
    return now;
}

/* The registry entry's update (bkp_media_update's callback). */
typedef struct note_ctx {
    const ops_rotate_seen *s;
    bool wrote;
    bool recorded;      /* the rotation's audit record was appended */
    const char *kit;    /* the SHA-256 of the kit's SHA256SUMS the medium carries now, or NULL */
    time_t began;       /* the attempt this rotation noted, 0: none */
    const char *why;    /* why it failed, when it did */
    const char *why_ja; /* the same in Japanese */
    bool seen;          /* the medium was reached: the rest of the entry is told */
    bool full;          /* it failed for want of room on the medium */
    bool pruned_first;  /* after its retention was applied before the copy */
    bkp_media_sealed sealed; /* how the copy's sealed files were left */
} note_ctx;

static int note_seen(bkp_media_entry *e, void *ctx)
{
    const note_ctx *n = ctx;
    const ops_rotate_seen *s = n->s;
    time_t now = bkp_now();
    /* The end of the attempt this rotation began, and only of it. */
    if (n->began && e->attempt.began == n->began && e->attempt.pid == (long)getpid()) {
        e->attempt.ended = now;
        e->attempt.failed = !n->wrote;
        e->attempt.full = !n->wrote && n->full;
        e->attempt.pruned_first = e->attempt.full && n->pruned_first;
        cut_printf(e->attempt.why, sizeof(e->attempt.why), "%s", n->wrote || !n->why ? "" : n->why);
        cut_printf(e->attempt.why_ja, sizeof(e->attempt.why_ja), "%s",
                   n->wrote || !n->why_ja ? "" : n->why_ja);
    }
    if (!n->seen)
        return 0;
    e->last_seen = now;
    if (s->path) {
        char *p = strdup(s->path);
        if (!p)
            return -ENOMEM;
        free(e->path);
        e->path = p;
    }
    if (n->wrote)
        e->last_write = now;
    if (n->wrote) {
        e->bytes = 0; /* until measured (below): never an older figure beside this date */
        e->has_free = false;
        e->sealed = n->sealed;
    }
    /* The kit's fingerprint, for the printed procedure (runbook print):
     * only once the log records the rotation that wrote it. */
    if (n->kit && n->recorded && strlen(n->kit) == 64)
        memcpy(e->kit_sha256, n->kit, 65);
    /* A check of what the rotation wrote is stamped only once the log
     * records the rotation: a registry never says more than the log. */
    if (s->verified && (!s->verify_recorded || n->recorded)) {
        e->last_verify = now;
        e->verify = s->verify_ok ? BKP_MEDIA_VERIFIED : BKP_MEDIA_FAILED;
    }
    /* What it holds: once written; or, unwritten, when a prune before the
     * copy changed it (the list made after it). */
    if (!n->wrote && !s->held_changed)
        return 0;
    int rc = s->held && s->held->known ? bkp_media_entry_set_held(e, s->held->v, s->held->n) : 0;
    if (!n->wrote)
        return rc;
    if (!rc && s->added)
        rc = bkp_media_entry_add_held(e, s->added->v, s->added->n);
    return rc;
}

typedef struct measured {
    uint64_t bytes;
    const ops_rotate_end *end;
} measured;

static int set_bytes(bkp_media_entry *e, void *ctx)
{
    const measured *m = ctx;
    e->bytes = m->bytes;
    e->has_free = m->end->has_free;
    e->free_after = m->end->free_after;
    e->wrote = m->end->wrote;
    return 0;
}

/* What the medium holds now, once the rotation counts as done (a long walk
 * of a disk or a listing of a bucket must not stand between the copy and
 * the registry): noted best-effort, a failure said as a warning. */
static void note_bytes(const ops_rotate_end *e)
{
    measured m = {.end = e};
    int rc = e->measure ? e->measure(e->measure_ctx, &m.bytes) : -ENOTSUP;
    if (rc == -ENOTSUP)
        return;
    if (rc)
        bkp_warn(_("%s: what it holds could not be measured (%s); the copy is complete"),
                 e->medium, bkp_strerror(rc));
    else if (m.bytes && bkp_media_update(e->primary, e->medium, set_bytes, &m))
        bkp_debug("%s: its size could not be noted in the registry", e->medium);
}

/* What a rotation whose copy was made failed at, after it. */
#define LATE_FAILURE N_("the audit log's copy, the pins or the registry could not be written")

/* Why, in English as the record keeps it, or (`people`) in the language of
 * the messages now: the same words, marked for translation. */
static bool why_in(bool people, ops_rotate_step at, int rc, const char *where, char *buf, size_t n)
{
#define TR(s) (people ? _(s) : (s))
    const char *w = where ? where : TR(N_("its place"));
    const char *err = people ? bkp_strerror(rc) : bkp_strerror_en(rc);
    switch (at) {
    case OPS_ROTATE_LABEL:
        if (rc == -ENOENT)
            cut_printf(buf, n, TR(N_("no medium at %s (no label there): nothing was written")), w);
        else if (rc == -EXDEV)
            cut_printf(buf, n, TR(N_("the medium at %s belongs to another repository")), w);
        else if (rc == -EKEYREJECTED)
            cut_printf(buf, n, TR(N_("the medium at %s is labelled for another repository key")),
                       w);
        else if (rc == -EMEDIUMTYPE || rc == -ENXIO)
            cut_printf(buf, n,
                       TR(N_("the medium at %s is another medium, or not the registered one")), w);
        else
            cut_printf(buf, n, TR(N_("the label at %s cannot be read: %s")), w, err);
        return true;
    case OPS_ROTATE_PINS:
        cut_printf(buf, n, "%s",
                   TR(N_("the primary is behind or beside what the medium pinned: nothing was "
                         "written")));
        return true;
    case OPS_ROTATE_OPEN:
        if (rc == -EBUSY) {
            cut_printf(buf, n, "%s",
                       TR(N_("another command holds the medium's copy: nothing was written")));
            return true;
        }
        cut_printf(buf, n, TR(N_("the copy on the medium could not be made or opened: %s")), err);
        return false;
    case OPS_ROTATE_COPY:
        cut_printf(buf, n,
                   rc == -ENOSPC ? TR(N_("the medium is full: %s")) : TR(N_("copying failed: %s")),
                   err);
        return false;
    case OPS_ROTATE_VERIFY:
        cut_printf(buf, n, TR(N_("the copy does not verify: %s")), err);
        return false;
    case OPS_ROTATE_SETTINGS:
        cut_printf(buf, n, "%s",
                   TR(N_("the policy's settings for it cannot work (its credentials file, or its "
                         "bucket): `bkp rotate` with its name says which; nothing was written")));
        return true;
    case OPS_ROTATE_RECORD:
    case OPS_ROTATE_LOG_COPY:
    case OPS_ROTATE_PIN_WRITE:
    case OPS_ROTATE_REGISTRY:
        cut_printf(buf, n, "%s", TR(LATE_FAILURE));
        return false;
    default:
        cut_printf(buf, n, "%s", err);
        return false;
    }
#undef TR
}

bool ops_rotate_why(ops_rotate_step at, int rc, const char *where, char *buf, size_t n)
{
    return why_in(false, at, rc, where, buf, n);
}

void ops_rotate_why_ja(ops_rotate_step at, int rc, const char *where, char *buf, size_t n)
{
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    (void)why_in(true, at, rc, where, buf, n);
    bkp_i18n_end(&saved);
}

void ops_rotate_last_failure(const bkp_repo *primary, const char *medium, char *why, size_t n)
{
    bkp_media_entry *e = bkp_media_get(primary, medium);
    bool failed = e && e->attempt.failed && e->attempt.ended;
    snprintf(why, n, "%s", failed ? e->attempt.why : "");
    bkp_media_free(e);
}

/* Note the first failure (`rc` non-zero) at `step`. */
static void fail(int *first, ops_rotate_step *step, ops_rotate_step at, int rc)
{
    if (rc && !*first) {
        *first = rc;
        *step = at;
    }
}

/*
 * The end of a rotation, and why in this order. Before it, the medium took
 * its copy (a disk: packs, then index segments, then records; an archive:
 * each DATASET@SEQ.tar read back before its name; a bucket: packs, records,
 * the audit copy, each object locked) or failed to. Then, in turn: the
 * audit record in the primary; the disk's copy of the audit log (and the
 * immutable attribute); the pins (the medium's own, then the primary's copy
 * of it); the registry entry. A kill, a full disk or a medium pulled out
 * after each write leaves:
 *  - before the audit record: the medium holds generations the log does
 *    not say were rotated there, and the registry still has the old last
 *    write, so the medium is shown as due (too early, never too late). The
 *    next rotation finds them there (packs present, archive names taken,
 *    objects locked), copies nothing again, and records the medium as
 *    holding them.
 *  - after the record, before the log's copy (a disk): the medium carries
 *    the log as it was at its previous rotation, a prefix of the host's
 *    log, which the next rotation replaces (bkp_copy_audit refuses only a
 *    copy the host's log does not extend). The record goes first so that
 *    the copy on the medium carries the record of the rotation that wrote
 *    it.
 *  - before the pins: the medium keeps the pin of its previous rotation,
 *    which the primary is still ahead of, so the guard passes and the next
 *    rotation that writes pins again. The pin comes after the record
 *    because it pins the log's length and last line, this rotation's
 *    record included (a rollback of the primary to before it is then
 *    caught); and after the log's copy because that copy refuses a host log
 *    that was cut or edited (-EBADMSG): such a rotation does not count as a
 *    write, and no pin must make the cut log the medium's new baseline. The
 *    medium's pin goes before the primary's copy of it (ops_pins_write):
 *    while the medium is away the copy kept in the primary may then be the
 *    older one — a weaker check, never a false refusal. A tape has no place
 *    for a pin outside its archives, a bucket none that a rollback of the
 *    primary could not also reach (docs/FORMAT.md): they take none.
 *  - before the registry: the medium counts as not written now (overdue
 *    sooner, never later), and `held` is the previous list; the registry is
 *    a catalogue, the signed log is the history, and the status page's
 *    proofs read the log. The next rotation rewrites the entry.
 * A failure after the record said "ok" appends a second, failed record, so
 * that the log never says more than happened.
 */
int ops_rotate_finish(const ops_rotate_end *e, ops_rotate_step *step, bool *wrote)
{
    int first = 0, rc;
    *step = OPS_ROTATE_DONE;
    char why[512] = "", why_ja[768] = "";
    bool refused = e->rc && ops_rotate_why(e->at, e->rc, e->where, why, sizeof(why));
    if (e->rc)
        ops_rotate_why_ja(e->at, e->rc, e->where, why_ja, sizeof(why_ja));
    rc = e->alike && e->rc
             ? 0
             : ops_rotate_record(e->primary, e->medium, e->rc != 0, e->rc ? why : NULL,
                                 e->rc ? why_ja : NULL, refused, e->pick, e->np, &e->fig);
    bool said_ok = !e->rc && !rc;
    fail(&first, step, OPS_ROTATE_RECORD, rc ? -EIO : 0);
    if (e->took && !e->rc && !first && e->before_pins)
        fail(&first, step, OPS_ROTATE_LOG_COPY, e->before_pins(e->ctx));
    /* Only a medium that took its copy, and whose record and log's copy
     * are there, counts as written (and says what it holds). */
    note_ctx n = {.s = &e->note,
                  .wrote = e->took && !e->rc && !first,
                  .recorded = !rc && !e->alike,
                  .kit = e->fig.kit_sha256[0] ? e->fig.kit_sha256 : NULL,
                  .began = e->began,
                  .why = why,
                  .why_ja = why_ja,
                  .seen = e->seen,
                  .full = e->rc == -ENOSPC && e->at == OPS_ROTATE_COPY,
                  .pruned_first = e->pruned_first,
                  .sealed = e->sealed ? *e->sealed : BKP_SEALED_UNKNOWN};
    if (n.wrote && e->pin && ops_pins_write_of(e->primary, e->medium, e->pin, e->all, e->nall))
        fail(&first, step, OPS_ROTATE_PIN_WRITE, -EIO);
    if (!e->rc && first && !n.wrote) { /* the copy was made; what follows it was not */
        (void)ops_rotate_why(*step, first, NULL, why, sizeof(why));
        ops_rotate_why_ja(*step, first, NULL, why_ja, sizeof(why_ja));
    }
    if ((e->seen || e->began) && bkp_media_update(e->primary, e->medium, note_seen, &n))
        fail(&first, step, OPS_ROTATE_REGISTRY, -EIO);
    if (n.wrote && !first)
        note_bytes(e);
    if (said_ok && first) { /* the record above said ok too early */
        bkp_audit_rec again = {
            .op = "rotate", .medium = e->medium, .failed = true, .error = LATE_FAILURE};
        if (bkp_audit_append(e->primary, &again))
            bkp_debug("%s: the second record could not be appended either", e->medium);
    }
    *wrote = n.wrote;
    return first;
}
