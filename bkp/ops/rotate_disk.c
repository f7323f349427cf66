/* rotate_disk.c — see rotate_disk.h. */
#include "bkp/ops/rotate_disk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/audit.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/ops/medium_label.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/verify.h"

/* One rotation under way: what it holds until it ends. */
typedef struct rotation {
    const ops_rotate_in *in;
    ops_rotate_out *out;
    char *repo; /* PATH/repo, the copy */
    bkp_lock *mlock, *mwriter;
    bkp_repo *dst;
    bkp_gen **v, **pick;
    size_t n, np;
} rotation;

/* Note the first failure (`rc` non-zero) at `step`; returns `rc`. */
static int fail(ops_rotate_out *o, ops_rotate_step step, int rc)
{
    if (rc && !o->rc) {
        o->step = step;
        o->rc = rc;
    }
    return rc;
}

/* Before anything touches the medium: the label, and a primary behind what
 * it pinned must not be copied over it (nor prune it). Then the copy,
 * created when absent, under the medium's own locks. */
static int open_copy(rotation *t)
{
    const ops_rotate_in *in = t->in;
    char doing[256], *cfg = bkp_path_join(t->repo, "config");
    struct stat st;
    int rc;
    snprintf(doing, sizeof(doing), _("rotation to %s refused"), in->medium);
    if ((rc = fail(t->out, OPS_ROTATE_LABEL,
                   ops_label_check(in->primary, in->policy, in->medium, in->path, in->entry))) ||
        (rc = fail(t->out, OPS_ROTATE_PINS, ops_pins_guard(in->primary, in->policy, doing))))
        goto out;
    if (!cfg)
        rc = -ENOMEM;
    else if (stat(cfg, &st) < 0)
        rc = bkp_repo_init_copy(in->primary, t->repo);
    if (!rc && !(rc = bkp_lock_take(t->repo, "rotate", "bkp rotate", &t->mlock)))
        rc = bkp_lock_writer(t->repo, "bkp rotate", &t->mwriter);
    if (!rc)
        rc = bkp_repo_open_copy(t->repo, in->primary, 0, &t->dst);
    fail(t->out, OPS_ROTATE_OPEN, rc);
out:
    free(cfg);
    return rc;
}

/* Choose the generations and copy them. */
static int copy(rotation *t)
{
    ops_rotate_out *o = t->out;
    int rc = bkp_gen_list(t->in->primary, NULL, &t->v, &t->n);
    if (!rc && !(t->pick = calloc(t->n + 1, sizeof(*t->pick))))
        rc = -ENOMEM;
    if (!rc)
        t->np = ops_rotate_choose(t->in->policy, t->in->medium, t->v, t->n, t->pick);
    for (size_t i = 0; !rc && i < t->np; i++) {
        char name[96];
        json_array_append_new(o->copied, json_string(bkp_gen_name(t->pick[i], name, sizeof(name))));
    }
    if (!rc)
        rc = bkp_copy_generations(t->in->primary, t->dst, t->pick, t->np, &o->copy);
    o->copied_all = !rc;
    return fail(o, OPS_ROTATE_COPY, rc);
}

/* Retention on the copy, under its prune lock (our writer lock does not
 * count as a concurrent writer); recorded in the primary's log. A failure
 * leaves a complete copy: warned about, not a failed rotation. */
static void prune_copy(rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    bkp_lock *lock = NULL;
    int rc = in->keep_all ? -EINVAL : bkp_lock_prune_after(t->repo, "bkp prune", t->mwriter, &lock);
    if (!rc) {
        ops_prune_in p = {t->dst, in->primary, in->policy, in->medium, false};
        rc = ops_prune_apply(&p, &o->prune);
    }
    bkp_lock_release(lock);
    if ((o->prune_rc = rc))
        bkp_warn(_("%s: old generations could not be pruned; the copy is complete"), in->medium);
}

/* The copy checked whole, what it holds listed, and, when it verified, its
 * recovery kit written. */
static int verify_copy(rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    bkp_verify_result vres = {0};
    int rc = o->verify_rc = bkp_verify(t->dst, false, in->workers, &vres);
    o->verified = rc >= 0;
    o->verify_problems = vres.problems;
    bkp_verify_result_clear(&vres);
    if (rc) {
        bkp_error(
            _("%s: the copy does not verify (%llu problem(s), above); run `bkp verify --media "
              "%s --repair-from` another copy, or use another disk"),
            in->medium, (unsigned long long)o->verify_problems, in->medium);
        rc = fail(o, OPS_ROTATE_VERIFY, rc < 0 ? rc : -EBADMSG);
    }
    json_decref(o->held);
    o->held = ops_held_list(t->dst);
    if (rc)
        return rc;
    const bkp_kit_doc *docs = NULL;
    size_t nd = 0;
    void *held = NULL;
    int krc = in->kit.make ? in->kit.make(in->kit.ctx, &docs, &nd, &held) : 0;
    if (krc)
        ops_kit_warn(in->medium, krc);
    else
        o->kit_written = !ops_kit_write(in->path, in->medium, docs, nd, &o->kit);
    if (in->kit.free)
        in->kit.free(held);
    return 0;
}

/* Sealed objects on a medium are read-only by mode; where the file system
 * and privileges allow, also immutable (prune clears the attribute of what
 * it deletes, inside its rules). */
static void seal(bkp_repo *dst, const char *medium)
{
    static const char *const dirs[] = {"packs", "index", "generations", "keys"};
    uint64_t n = 0, total = 0;
    int rc = 0;
    for (size_t i = 0; i < 4 && !rc; i++) {
        char *d = bkp_repo_subpath(dst, dirs[i]);
        rc = d ? bkp_immutable_tree(d, &n) : -ENOMEM;
        total += n;
        free(d);
    }
    char *cfg = bkp_repo_subpath(dst, "config");
    if (!rc && cfg)
        rc = bkp_immutable(cfg, true);
    free(cfg);
    if (rc)
        bkp_info(_("%s: its file system does not take the immutable attribute (%s); sealed objects "
                   "are read-only by their mode"),
                 medium, bkp_strerror(rc));
    else
        bkp_debug("%s: %llu sealed object(s) immutable", medium, (unsigned long long)total);
}

/* The registry entry's update: seen now at `path`; with `wrote`, written
 * now and holding `held`. */
typedef struct seen_ctx {
    const char *path;
    bool wrote, verified, verify_ok;
    json_t *held;
} seen_ctx;

static int note_seen(json_t *e, void *ctx)
{
    seen_ctx *s = ctx;
    char now[32];
    bkp_iso_time(now, sizeof(now), bkp_now());
    json_object_set_new(e, "last_seen", json_string(now));
    json_object_set_new(e, "path", json_string(s->path));
    if (s->wrote)
        json_object_set_new(e, "last_write", json_string(now));
    if (s->verified) {
        json_object_set_new(e, "last_verify", json_string(now));
        json_object_set_new(e, "verify_ok", json_boolean(s->verify_ok));
    }
    if (s->held)
        json_object_set(e, "held", s->held);
    return 0;
}

/* The audit record of this rotation, with its figures. */
static int record(rotation *t)
{
    ops_rotate_out *o = t->out;
    json_t *fig = json_pack("{s:O, s:I, s:I, s:I, s:I, s:i}", "generations", o->copied, "packs",
                            (json_int_t)o->copy.packs, "bytes", (json_int_t)o->copy.bytes,
                            "packs_present", (json_int_t)o->copy.packs_present, "records",
                            (json_int_t)o->copy.records, "held", (int)json_array_size(o->held));
    if (fig && o->kit_written)
        json_object_set_new(fig, "kit_sha256", json_string(o->kit.sums));
    int rc = ops_rotate_record(t->in->primary, t->in->medium, o->rc != 0, t->pick, t->np, fig);
    json_decref(fig);
    return rc;
}

/*
 * What follows the copy, and why in this order. A rotation writes, in
 * turn: the packs and index segments (each pack read back before its
 * rename), the records (bkp/copy.h), the prune of the copy (its own signed
 * intent, finished by bkp_prune_recover at the copy's next open), the
 * audit record in the primary, the copy of the audit log on the medium,
 * the immutable attribute, the pins (the medium's, then the primary's copy
 * of it), the registry entry. A kill, a full disk or a disk pulled out at
 * each point leaves:
 *  - during the packs or records: a valid copy holding what it held, plus
 *    packs no record names yet (re-indexed from their trailers at the next
 *    open); the next rotation finds them present (`packs_present`) and
 *    does not copy them again. No record counts before its packs are there.
 *  - after the records, before the audit record: the medium holds
 *    generations the log does not say were rotated there, and the registry
 *    still has the old last write, so the medium is shown as due (too
 *    early, never too late); the next rotation copies nothing new and
 *    records it.
 *  - after the audit record, before the log's copy: the medium carries
 *    the log as it was at its previous rotation, a prefix of the host's
 *    log, which the next rotation replaces (bkp_copy_audit refuses only a
 *    copy the host's log does not extend). The record goes first so that
 *    the copy on the medium carries the record of the rotation that wrote
 *    it.
 *  - before the seal: sealed files are read-only by their mode only; the
 *    next rotation seals the whole tree again.
 *  - before the pins: the medium keeps the pin of its previous rotation,
 *    which the primary is still ahead of, so the guard passes and the next
 *    rotation writes a new one. The pin comes after the audit record
 *    because it pins the log's length and last line, this rotation's record
 *    included (a rollback of the primary to before it is then caught); and
 *    after the log's copy because that copy refuses a host log that was cut
 *    or edited (-EBADMSG): such a rotation does not count as a write, and
 *    no pin must make the cut log the medium's new baseline. The medium's
 *    pin goes before the primary's copy of it: while the disk is away the
 *    copy kept in the primary may then be the older one — a weaker check,
 *    never a false refusal.
 *  - before the registry: the medium counts as not written now (overdue
 *    sooner, never later), and `held` is the previous list; the registry is
 *    a catalogue, the signed log is the history.
 * A failure after the record said "ok" appends a second, failed record.
 */
static void finish(rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    int rc = record(t);
    bool said_ok = !o->rc && !rc;
    fail(o, OPS_ROTATE_RECORD, rc ? -EIO : 0);
    if (t->dst && o->copied_all && !o->rc && (rc = bkp_copy_audit(in->primary, t->dst)))
        fail(o, OPS_ROTATE_LOG_COPY, rc == -EBADMSG ? rc : -EIO);
    /* Only a copy that verified counts as a write (and says what the medium holds). */
    o->wrote = o->copied_all && !o->rc;
    if (o->wrote)
        seal(t->dst, in->medium);
    if (o->wrote && ops_pins_write(in->primary, in->medium, in->path))
        fail(o, OPS_ROTATE_PIN_WRITE, -EIO);
    seen_ctx seen = {in->path, o->wrote, o->verified, o->verified && o->verify_rc == 0,
                     o->wrote ? o->held : NULL};
    if (t->dst && bkp_media_update(in->primary, in->medium, note_seen, &seen))
        fail(o, OPS_ROTATE_REGISTRY, -EIO);
    if (said_ok && o->rc) { /* the record above said ok too early */
        bkp_audit_rec again = {.op = "rotate",
                               .medium = in->medium,
                               .failed = true,
                               .error =
                                   "the audit log's copy or the registry could not be written"};
        if (bkp_audit_append(in->primary, &again))
            bkp_debug("%s: the second record could not be appended either", in->medium);
    }
}

int ops_rotate_disk(const ops_rotate_in *in, ops_rotate_out *out)
{
    rotation t = {.in = in, .out = out, .repo = bkp_path_join(in->path, "repo")};
    memset(out, 0, sizeof(*out));
    out->copied = json_array();
    if (!t.repo || !out->copied) {
        free(t.repo);
        return fail(out, OPS_ROTATE_OPEN, -ENOMEM);
    }
    if (!open_copy(&t) && !copy(&t)) {
        prune_copy(&t);
        (void)verify_copy(&t);
    }
    finish(&t);
    free(t.pick);
    bkp_gen_list_free(t.v, t.n);
    bkp_repo_free(t.dst);
    bkp_lock_release(t.mwriter);
    bkp_lock_release(t.mlock);
    free(t.repo);
    return out->rc;
}

void ops_rotate_out_clear(ops_rotate_out *out)
{
    json_decref(out->copied);
    json_decref(out->held);
    ops_prune_out_clear(&out->prune);
    memset(out, 0, sizeof(*out));
}
