/* rotate_disk.c — see rotate_disk.h. */
#include "bkp/ops/rotate_disk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/ops/medium_label.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_finish.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/verify.h"

/* One rotation under way: what it holds until it ends. */
typedef struct rotation {
    const ops_rotate_in *in;
    ops_rotate_out *out;
    char *repo; /* PATH/repo, the copy */
    bkp_lock *mlock, *mwriter;
    bkp_repo *dst;
    bkp_gen **v, **pick; /* `v`: the primary's generations, read once (open_copy) */
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
                   ops_label_check(in->primary, in->policy, in->medium, in->path, in->entry))))
        goto out;
    /* The primary's generations, read once: the guard judges this list
     * against every pin and the audit log, the choice and the copy take
     * from it (a record whose bytes change before they are copied is
     * refused, bkp/copy.h), and the pin names it unless a backup sealed a
     * record meanwhile (ops_pins_write_of). Our writer lock keeps a prune
     * of the primary out for the whole rotation, so nothing listed here is
     * deleted by bkp while we work. */
    rc = bkp_gen_list(in->primary, NULL, &t->v, &t->n);
    if ((rc = fail(t->out, OPS_ROTATE_PINS,
                   rc ? rc : ops_pins_guard_of(in->primary, in->policy, t->v, t->n, doing))))
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
    int rc = 0;
    if (!(t->pick = calloc(t->n + 1, sizeof(*t->pick))))
        rc = -ENOMEM;
    if (!rc)
        t->np = ops_rotate_choose(t->in->policy, t->in->medium, t->v, t->n, t->pick);
    for (size_t i = 0; !rc && i < t->np; i++) {
        char name[96];
        json_array_append_new(o->copied, json_string(bkp_gen_name(t->pick[i], name, sizeof(name))));
    }
    if (!rc)
        rc = bkp_copy_generations_of(t->in->primary, t->v, t->n, t->dst, t->pick, t->np,
                                     &o->copy);
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
    if (rc || o->verify_problems) {
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

/* The audit record's figures. */
static json_t *figures(const ops_rotate_out *o)
{
    json_t *fig = json_pack("{s:O, s:I, s:I, s:I, s:I, s:i}", "generations", o->copied, "packs",
                            (json_int_t)o->copy.packs, "bytes", (json_int_t)o->copy.bytes,
                            "packs_present", (json_int_t)o->copy.packs_present, "records",
                            (json_int_t)o->copy.records, "held", (int)json_array_size(o->held));
    if (fig && o->kit_written)
        json_object_set_new(fig, "kit_sha256", json_string(o->kit.sums));
    return fig;
}

/* Between the record and the pins (rotate_finish.c says why there): the
 * audit log onto the disk, then the seal. */
static int log_copy(void *ctx)
{
    rotation *t = ctx;
    int rc = bkp_copy_audit(t->in->primary, t->dst);
    if (rc)
        return rc == -EBADMSG ? rc : -EIO;
    seal(t->dst, t->in->medium);
    return 0;
}

/*
 * What a rotation to a disk writes, in turn: the packs and index segments
 * (each pack read back before its rename), the records (bkp/copy.h), the
 * prune of the copy (its own signed intent, finished by bkp_prune_recover
 * at the copy's next open), then its end (rotate_finish.c): the audit
 * record, the log's copy on the disk and the immutable attribute, the pins,
 * the registry entry. A kill, a full disk or a disk pulled out leaves:
 *  - during the packs or records: a valid copy holding what it held, plus
 *    packs no record names yet (re-indexed from their trailers at the next
 *    open); the next rotation finds them present (`packs_present`) and
 *    does not copy them again. No record counts before its packs are there.
 *  - before the seal: sealed files are read-only by their mode only; the
 *    next rotation seals the whole tree again.
 *  - after the records: as rotate_finish.c says.
 */
static void finish(rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    ops_rotate_step step;
    ops_rotate_end e = {.primary = in->primary,
                        .medium = in->medium,
                        .pick = t->pick,
                        .np = t->np,
                        .all = t->v,
                        .nall = t->n,
                        .fig = figures(o),
                        .rc = o->rc,
                        .at = o->step,
                        .where = in->path,
                        .took = o->copied_all,
                        .seen = t->dst != NULL,
                        .pin = in->path,
                        .before_pins = log_copy,
                        .ctx = t,
                        .note = {.path = in->path,
                                 .verified = o->verified,
                                 .verify_ok = o->verified && o->verify_problems == 0,
                                 .held = o->held}};
    int rc = ops_rotate_finish(&e, &step, &o->wrote);
    fail(o, step, rc);
    json_decref(e.fig);
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
