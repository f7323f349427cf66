/*
 * medium_disk.c — the disk driver of a rotation (rotate_driver.h): a
 * repository copy PATH/repo on a disk (on-line, or removable and taken
 * away), created when absent and opened under its own rotate and writer
 * locks; the generations copied pack by pack, each pack read back and
 * authenticated before it counts (bkp/media/copy.h); the copy pruned by
 * retention, keeping at least three of each data set (prune_medium.h),
 * verified whole, given its recovery kit; before its pin, the audit log's
 * copy and the immutable attribute. What a kill at each point leaves: the
 * comment above `end`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/rotate_driver.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/ops/storage.h"
#include "bkp/audit/verify.h"
#include "bkp/store/pack.h"

/* The disk's part of a rotation under way. */
typedef struct disk {
    char *repo; /* PATH/repo, the copy */
    bkp_lock *mlock, *mwriter;
    bkp_repo *dst;
    bkp_gen **held; /* what the copy holds before it (the plan's) */
    size_t nheld;
    bkp_media_sealed sealed; /* how the seal left the sealed files (log_copy) */
} disk;

/* The label at the mount point: a wrong disk is refused before anything
 * is written. */
static int reach(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    disk *d = t->d;
    if (!(d->repo = bkp_path_join(in->path, "repo")))
        return ops_rotate_fail(t->out, OPS_ROTATE_OPEN, -ENOMEM);
    return ops_rotate_fail(
        t->out, OPS_ROTATE_LABEL,
        ops_label_check(in->primary, in->policy, in->medium, in->path, in->entry));
}

/* The copy, created when absent, under the medium's own locks; in a dry
 * run, opened to read when it is there, under a reader's flock. */
static int open_copy(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    disk *d = t->d;
    char *cfg = bkp_path_join(d->repo, "config");
    struct stat st;
    bool absent = cfg && stat(cfg, &st) < 0;
    int rc = cfg ? 0 : -ENOMEM;
    free(cfg);
    if (in->dry_run && !rc && !absent) {
        /* A reader's flock, nothing written: no prune of the copy under us. */
        if ((rc = bkp_lock_reader(d->repo, "bkp rotate --dry-run", false, &d->mlock)) == -EBUSY)
            return ops_rotate_fail(t->out, OPS_ROTATE_OPEN, rc);
        rc = bkp_repo_open_copy(d->repo, in->primary, BKP_REPO_READONLY, &d->dst);
        return ops_rotate_fail(t->out, OPS_ROTATE_OPEN, rc);
    }
    if (in->dry_run)
        return rc;
    if (!rc && absent)
        rc = bkp_repo_init_copy(in->primary, d->repo);
    if (!rc && !(rc = bkp_lock_take(d->repo, "rotate", "bkp rotate", &d->mlock)))
        rc = bkp_lock_writer(d->repo, "bkp rotate", &d->mwriter);
    if (!rc)
        rc = bkp_repo_open_copy(d->repo, in->primary, 0, &d->dst);
    return ops_rotate_fail(t->out, OPS_ROTATE_OPEN, rc);
}

/* What the copy holds now (nothing when there is no copy yet). */
static int held(ops_rotation *t, bkp_gen ***v, size_t *n, bool *listed)
{
    disk *d = t->d;
    int rc = d->dst ? bkp_gen_list(d->dst, NULL, &d->held, &d->nheld) : 0;
    t->keys_behind = d->dst && bkp_repo_key_file_behind(d->dst);
    *v = d->held;
    *n = d->nheld;
    *listed = !rc;
    return rc;
}

/* Retention on the copy, under its prune lock (our writer lock does not
 * count as a concurrent writer); recorded in the primary's log. After the
 * copy, a failure leaves a complete copy: warned about, not a failed
 * rotation. Before it (prune_first), the plan's picks count as there. */
static int prune_copy(ops_rotation *t, bool first)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    disk *d = t->d;
    bkp_lock *lock = NULL;
    int rc = in->keep_all ? -EINVAL : bkp_lock_prune_after(d->repo, "bkp prune", d->mwriter, &lock);
    if (!rc) {
        ops_prune_in p = {.target = d->dst,
                          .log = in->primary,
                          .policy = in->policy,
                          .medium = in->medium,
                          .coming = first ? o->plan.pick : NULL,
                          .ncoming = first ? o->plan.np : 0};
        ops_prune_out_clear(&o->prune);
        rc = ops_prune_apply(&p, &o->prune);
    }
    bkp_lock_release(lock);
    if ((o->prune_rc = rc) && first)
        bkp_error(_("%s: the old generations could not be pruned before the copy; nothing was "
                    "copied"),
                  in->medium);
    else if (rc)
        bkp_warn(_("%s: old generations could not be pruned; the copy is complete"), in->medium);
    return rc;
}

/* Copy the plan's generations; with prune_first, retention on the copy
 * before. */
static int copy(ops_rotation *t)
{
    const ops_rotate_plan *pl = &t->out->plan;
    disk *d = t->d;
    if (t->in->prune_first && prune_copy(t, true))
        return ops_rotate_fail(t->out, OPS_ROTATE_COPY, t->out->prune_rc);
    t->out->pruned_first = t->in->prune_first;
    int rc = bkp_copy_generations_of(t->in->primary, pl->v, pl->n, d->dst, pl->pick, pl->np,
                                     &t->out->copy);
    /* The copy failed after the prune: what the disk holds now, for the
     * registry (end) and the person (the program lists what went). */
    if (rc && t->out->pruned_first && ops_held_of(d->dst, &t->out->held))
        bkp_debug("%s: out of memory listing what it holds", t->in->medium);
    return ops_rotate_fail(t->out, OPS_ROTATE_COPY, rc);
}

/* The copy checked whole, what it holds listed, and, when it verified, its
 * recovery kit written. */
static void verify_copy(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    disk *d = t->d;
    bkp_verify_result vres = {0};
    int rc = o->verify_rc = bkp_verify(d->dst, false, in->workers, &vres);
    o->verified = rc >= 0;
    o->verify_problems = vres.problems;
    bkp_verify_result_clear(&vres);
    if (rc || o->verify_problems) {
        bkp_error(
            _("%s: the copy does not verify (%llu problem(s), above); run `bkp verify --media "
              "%s --repair-from` another copy, or use another disk"),
            in->medium, (unsigned long long)o->verify_problems, in->medium);
        rc = ops_rotate_fail(o, OPS_ROTATE_VERIFY, rc < 0 ? rc : -EBADMSG);
    }
    if (ops_held_of(d->dst, &o->held))
        bkp_debug("%s: out of memory listing what it holds", in->medium);
    if (rc)
        return;
    const bkp_kit_doc *docs = NULL;
    size_t nd = 0;
    void *kept = NULL;
    int krc = in->kit.make ? in->kit.make(in->kit.ctx, &docs, &nd, &kept) : 0;
    if (krc)
        ops_kit_warn(in->medium, krc);
    else
        o->kit_written = !ops_kit_write(in->path, in->medium, docs, nd, &o->kit);
    if (in->kit.free)
        in->kit.free(kept);
}

static void after(ops_rotation *t)
{
    struct statvfs fs;
    if (!t->in->prune_first) /* else done before the copy */
        (void)prune_copy(t, false);
    verify_copy(t);
    if ((t->out->has_free = !statvfs(t->in->path, &fs)) &&
        __builtin_mul_overflow((uint64_t)fs.f_bavail, (uint64_t)fs.f_frsize, &t->out->free_after))
        t->out->free_after = INT64_MAX; /* past any disk: room enough */
    t->out->next_copy = ops_rotate_next_copy(&t->out->plan, t->out->copy.bytes,
                                             t->in->pm ? t->in->pm->rotate_every : 0);
}

/* Sealed objects on a medium are read-only by mode; where the file system
 * and privileges allow, also immutable (prune clears the attribute of what
 * it deletes, inside its rules). */
static bkp_media_sealed seal(bkp_repo *dst, const char *medium)
{
    static const char *const dirs[] = {"packs", "index", "generations", "keys"};
    uint64_t n = 0, total = 0;
    int rc = 0;
    for (size_t i = 0; i < 4 && !rc; i++) {
        char *dir = bkp_repo_subpath(dst, dirs[i]);
        rc = dir ? bkp_immutable_tree(dir, &n) : -ENOMEM;
        total += n;
        free(dir);
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
    return rc ? BKP_SEALED_MODE : BKP_SEALED_IMMUTABLE;
}

/* The audit record's figures. */
static int figures(ops_rotation *t, ops_rotate_figures *f)
{
    const ops_rotate_out *o = t->out;
    f->bytes = o->copy.bytes;
    f->packs_given = true;
    f->packs = o->copy.packs;
    f->packs_present = o->copy.packs_present;
    f->records = o->copy.records;
    f->held = (long)o->held.n;
    const disk *d = t->d;
    f->keys_serial = d->dst ? bkp_repo_copy_keys_serial(d->dst) : 0;
    if (o->kit_written)
        snprintf(f->kit_sha256, sizeof(f->kit_sha256), "%s", o->kit.sums);
    return ops_rotate_plan_figures(&o->plan, f);
}

/* Between the record and the pins (rotate_finish.c says why there): the
 * audit log onto the disk, then the seal. */
static int log_copy(void *ctx)
{
    ops_rotation *t = ctx;
    disk *d = t->d;
    int rc = bkp_copy_audit(t->in->primary, d->dst);
    if (rc)
        return rc == -EBADMSG ? rc : -EIO;
    d->sealed = seal(d->dst, t->in->medium);
    return 0;
}

/*
 * What a rotation to a disk writes, in turn: the packs and index segments
 * (each pack read back before its rename), the records (bkp/media/copy.h), the
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
static void end(ops_rotation *t, ops_rotate_end *e)
{
    const ops_rotate_out *o = t->out;
    disk *d = t->d;
    e->took = o->copied_all;
    e->seen = d->dst != NULL;
    e->pin = t->in->path;
    e->before_pins = log_copy;
    e->ctx = t;
    e->sealed = &d->sealed;
    e->note = (ops_rotate_seen){.path = t->in->path,
                                .verified = o->verified,
                                .verify_ok = o->verified && o->verify_problems == 0,
                                .held = &o->held,
                                .held_changed = o->pruned_first && !o->copied_all};
}

static void release(ops_rotation *t)
{
    disk *d = t->d;
    bkp_gen_list_free(d->held, d->nheld);
    bkp_repo_free(d->dst);
    bkp_lock_release(d->mwriter);
    bkp_lock_release(d->mlock);
    free(d->repo);
}

/* A pack's ID added to the sum of the primary's pack sizes. */
typedef struct sizing {
    char *pdir; /* the primary's packs */
    uint64_t packs, bytes;
} sizing;

static void size_pack(const bkp_index_entry *e, void *ctx)
{
    sizing *z = ctx;
    struct stat st;
    char *path = bkp_pack_path(z->pdir, e->id);
    if (path && !stat(path, &st) && S_ISREG(st.st_mode))
        z->bytes += (uint64_t)st.st_size;
    z->packs++;
    free(path);
}

/* What the copy of the plan's picks would bring (the packs the copy lacks,
 * every one when there is no copy yet), and the room on the disk. */
static int room(ops_rotation *t)
{
    ops_rotate_plan *pl = &t->out->plan;
    disk *d = t->d;
    bkp_index *set = NULL;
    sizing z = {.pdir = bkp_repo_subpath(t->in->primary, "packs")};
    struct statvfs fs;
    int rc = z.pdir ? bkp_index_new(&set) : -ENOMEM;
    for (size_t i = 0; !rc && i < pl->np; i++)
        if (!pl->rows[i].there)
            rc = bkp_copy_needed_packs(t->in->primary, d->dst, pl->rows[i].gen, set);
    if (!rc)
        rc = bkp_index_foreach(set, size_pack, &z);
    if (!rc && !statvfs(t->in->path, &fs)) {
        pl->sized = true;
        pl->need_packs = z.packs;
        pl->need_bytes = z.bytes;
        pl->free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
    }
    bkp_index_free(set);
    free(z.pdir);
    return rc;
}

/* The copy (as a copy of it would carry it, without its locks), and its
 * label, kit and pins beside it. */
static int measure(ops_rotation *t, uint64_t *bytes)
{
    disk *d = t->d;
    return ops_medium_bytes(t->in->path, d->dst, bytes);
}

const ops_medium_driver ops_medium_disk = {
    .name = "disk",
    .size = sizeof(disk),
    .reach = reach,
    .open = open_copy,
    .held = held,
    .prunes = true,
    .room = room,
    .copy = copy,
    .after = after,
    .measure = measure,
    .end = end,
    .figures = figures,
    .release = release,
};
