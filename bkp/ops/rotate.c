/* rotate.c — see rotate.h; the drivers' part, rotate_driver.h. */
#include "bkp/ops/rotate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/pins.h"
#include "bkp/ops/rotate_choose.h"
#include "bkp/ops/rotate_driver.h"

/* The driver of each medium type: a new kind of medium is a row here. */
static const ops_medium_driver *const drivers[] = {
    [POL_DISK] = &ops_medium_disk,
    [POL_REMOVABLE] = &ops_medium_disk,
    [POL_ARCHIVE] = &ops_medium_archive,
    [POL_OBJECT] = &ops_medium_object,
};

int ops_rotate_fail(ops_rotate_out *o, ops_rotate_step step, int rc)
{
    if (rc && !o->rc) {
        o->step = step;
        o->rc = rc;
    }
    return rc;
}

/* ---- the plan ---- */

/* Does `held` (`n`) hold generation `g`: an intact record of the same data
 * set and sequence number, and the same record where both say which? */
static bool holds(bkp_gen *const *held, size_t n, const bkp_gen *g)
{
    for (size_t i = 0; i < n; i++)
        if (held[i]->seq == g->seq && !held[i]->pruned && !held[i]->status &&
            !strcmp(held[i]->dataset, g->dataset))
            return !held[i]->uuid[0] || !g->uuid[0] || !strcmp(held[i]->uuid, g->uuid);
    return false;
}

/* What the retention deletes of the medium once the plan's copies are on it. */
static int plan_prune(const pol_policy *policy, bkp_gen **held, size_t nheld, ops_rotate_plan *plan)
{
    bkp_gen **coming = calloc(plan->np + 1, sizeof(*coming));
    unsigned *keep = calloc(nheld + 1, sizeof(*keep));
    size_t nc = 0;
    int rc = coming && keep ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < plan->np; i++)
        if (!plan->rows[i].there)
            coming[nc++] = plan->rows[i].gen;
    if (!rc)
        rc = ops_prune_decide_with(policy, held, nheld, coming, nc, keep);
    if (!rc && !(plan->gone = calloc(nheld + 1, sizeof(*plan->gone))))
        rc = -ENOMEM;
    for (size_t i = 0; !rc && i < nheld; i++) {
        if (keep[i] || held[i]->pruned)
            continue;
        ops_prune_row *r = &plan->gone[plan->ngone];
        if (!(r->dataset = strdup(held[i]->dataset))) {
            rc = -ENOMEM;
            break;
        }
        r->seq = held[i]->seq;
        bkp_gen_name(held[i], r->name, sizeof(r->name));
        plan->ngone++;
    }
    free(keep);
    free(coming);
    return rc;
}

int ops_rotate_plan_make(const pol_policy *policy, const char *medium, bkp_gen **v, size_t n,
                         bkp_gen **held, size_t nheld, bool listed, bool prunes,
                         ops_rotate_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    plan->v = v;
    plan->n = n;
    plan->listed = listed;
    plan->prunes = prunes;
    for (size_t i = 0; listed && i < nheld; i++)
        plan->held_before += !held[i]->pruned && !held[i]->status;
    if (!(plan->pick = calloc(n + 1, sizeof(*plan->pick))) ||
        !(plan->rows = calloc(n + 1, sizeof(*plan->rows))))
        return -ENOMEM;
    plan->np = ops_rotate_choose(policy, medium, v, n, plan->pick);
    for (size_t i = 0; i < plan->np; i++) {
        ops_plan_row *r = &plan->rows[i];
        r->gen = plan->pick[i];
        bkp_gen_name(r->gen, r->name, sizeof(r->name));
        r->there = listed && holds(held, nheld, r->gen);
    }
    return prunes && listed ? plan_prune(policy, held, nheld, plan) : 0;
}

uint64_t ops_rotate_next_copy(const ops_rotate_plan *plan, uint64_t copied, int64_t every)
{
    time_t newest = 0;
    uint64_t sum = 0;
    if (plan->held_before)
        return copied;
    for (size_t i = 0; i < plan->np; i++)
        newest = plan->pick[i]->finished > newest ? plan->pick[i]->finished : newest;
    every = every > 0 ? every : 86400;
    for (size_t i = 0; i < plan->np; i++) {
        const bkp_gen *g = plan->pick[i];
        bool first = true; /* of its data set, in the primary */
        for (size_t k = 0; k < plan->n && first; k++)
            first = !(plan->v[k]->seq < g->seq && !strcmp(plan->v[k]->dataset, g->dataset));
        if (!first && g->finished >= newest - every)
            sum += g->stats.stored_new;
    }
    return sum;
}

int ops_rotate_plan_figures(const ops_rotate_plan *plan, ops_rotate_figures *f)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < plan->np; i++)
        rc = ops_rotate_figures_add(f, plan->rows[i].name);
    return rc;
}

bool ops_rotate_plan_acts(const ops_rotate_plan *plan)
{
    for (size_t i = 0; i < plan->np; i++)
        if (!plan->rows[i].there)
            return true;
    return !plan->listed || plan->ngone > 0 || plan->keys_behind;
}

void ops_rotate_plan_clear(ops_rotate_plan *plan)
{
    for (size_t i = 0; i < plan->ngone; i++)
        free(plan->gone[i].dataset);
    free(plan->gone);
    free(plan->rows);
    free(plan->pick);
    bkp_gen_list_free(plan->v, plan->n);
    memset(plan, 0, sizeof(*plan));
}

/* ---- the rotation ---- */

/* The primary's generations, read once under its writer lock (no prune of
 * the primary meanwhile): judged here against every pin and the audit log,
 * chosen and copied from (a record whose bytes change before they are
 * copied is refused, bkp/media/copy.h), and named by the pin unless a backup
 * sealed a record since (ops_pins_write_of). Asked before the medium is
 * opened, so that nothing reaches a medium a rolled-back primary would
 * overwrite. */
static int guard(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_plan *pl = &t->out->plan;
    char doing[256];
    snprintf(doing, sizeof(doing), _("rotation to %s refused"), in->medium);
    int rc = bkp_gen_list(in->primary, NULL, &pl->v, &pl->n);
    if (!rc)
        rc = ops_pins_guard_of(in->primary, in->policy, pl->v, pl->n, doing);
    return ops_rotate_fail(t->out, OPS_ROTATE_PINS, rc);
}

static int plan(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    bkp_gen **held = NULL, **v = o->plan.v;
    size_t nheld = 0, n = o->plan.n;
    bool listed = false;
    /* Only a dry run lists the medium: a rotation's copy finds what is
     * there as it copies (packs present, archive names taken, objects
     * locked), and would read the medium's records twice. */
    int rc = in->dry_run && t->drv->held ? t->drv->held(t, &held, &nheld, &listed) : 0;
    o->plan.v = NULL; /* the plan takes the list */
    if (!rc)
        rc = ops_rotate_plan_make(in->policy, in->medium, v, n, held, nheld, listed,
                                  t->drv->prunes && !in->keep_all, &o->plan);
    else
        o->plan = (ops_rotate_plan){.v = v, .n = n};
    o->plan.locked = t->drv->locks;
    o->plan.keys_behind = t->keys_behind;
    for (size_t i = 0; !rc && t->drv->until && i < o->plan.np; i++)
        o->plan.rows[i].until = t->drv->until(t, o->plan.rows[i].gen);
    /* What the copy needs is advice: the plan stands without it. */
    int rrc = !rc && in->dry_run && !in->unsized && t->drv->room ? t->drv->room(t) : 0;
    if (rrc)
        bkp_warn(_("%s: what the copy would need could not be measured (%s); the plan above "
                   "stands"),
                 in->medium, bkp_strerror(rrc));
    return ops_rotate_fail(o, OPS_ROTATE_COPY, rc);
}

static int measure(void *ctx, uint64_t *bytes)
{
    ops_rotation *t = ctx;
    return t->drv->measure(t, bytes);
}

/* The end (rotate_finish.h): the record, what the medium needs before its
 * pin, the pin, the registry — what each driver's medium takes of it. */
static void finish(ops_rotation *t)
{
    const ops_rotate_in *in = t->in;
    ops_rotate_out *o = t->out;
    ops_rotate_step step;
    ops_rotate_figures fig = {.held = -1};
    /* Out of memory for a name: the record still says what was done, with
     * the names it could gather. */
    if (t->drv->figures(t, &fig))
        bkp_warn(_("%s: the record of this rotation lacks some of its generations' names (out "
                   "of memory)"),
                 in->medium);
    ops_rotate_end e = {.primary = in->primary,
                        .medium = in->medium,
                        .pick = o->plan.pick,
                        .np = o->plan.np,
                        .all = o->plan.v,
                        .nall = o->plan.n,
                        .fig = fig,
                        .rc = o->rc,
                        .at = o->step,
                        .where = in->path,
                        .began = t->began,
                        .alike = t->alike,
                        .pruned_first = o->pruned_first,
                        .has_free = o->has_free,
                        .free_after = o->free_after,
                        .wrote = o->next_copy};
    t->drv->end(t, &e);
    if (t->drv->measure) {
        e.measure = measure;
        e.measure_ctx = t;
    }
    int rc = ops_rotate_finish(&e, &step, &o->wrote);
    ops_rotate_fail(o, step, rc);
    ops_rotate_figures_clear(&e.fig);
}

int ops_rotate_with(const ops_medium_driver *drv, const ops_rotate_in *in, ops_rotate_out *out)
{
    ops_rotation t = {.in = in, .out = out, .drv = drv};
    memset(out, 0, sizeof(*out));
    if (!drv->copy || !drv->end || !drv->figures) /* a driver without them is no driver */
        return ops_rotate_fail(out, OPS_ROTATE_OPEN, -EINVAL);
    if (in->prune_first && (!drv->prunes || drv->locks || in->keep_all)) {
        bkp_error(_("%s: --prune-first is for a disk whose copy the rotation prunes; this medium "
                    "is not one (nothing was written)"),
                  in->medium);
        out->usage = true;
        return ops_rotate_fail(out, OPS_ROTATE_OPEN, -EINVAL);
    }
    if (!(t.d = calloc(1, drv->size + 1)))
        return ops_rotate_fail(out, OPS_ROTATE_OPEN, -ENOMEM);
    /* A medium the policy keeps on-line is copied to by the nightly run,
     * nobody watching: how its last attempt failed, before this one is
     * noted over it (rotate_finish.h). */
    bool online = in->pm && !in->pm->offline;
    char last_why[sizeof(((bkp_media_attempt *)0)->why)] = "";
    if (online && !in->dry_run)
        ops_rotate_last_failure(in->primary, in->medium, last_why, sizeof(last_why));
    bool ready =
        !(drv->reach && drv->reach(&t)) && !guard(&t) && !(drv->open && drv->open(&t)) && !plan(&t);
    if (ready && !in->dry_run)
        t.began = ops_rotate_begin(in->primary, in->medium, false);
    if (ready && !in->dry_run && !drv->copy(&t)) {
        out->copied_all = true;
        if (drv->after)
            drv->after(&t);
    }
    /* Every rotation is recorded, refused ones too — but not a dry run, nor
     * one the operator's setting stopped before the medium was reached (a
     * bucket the policy does not name, credentials that cannot work: an
     * on-line medium's attempt is noted, for the status to say why), nor an
     * on-line medium's that fails in the words its last attempt failed in. */
    bool settings = out->step == OPS_ROTATE_SETTINGS;
    if (!in->dry_run && (!settings || online)) {
        /* An on-line medium that failed before its copy began (a NAS not
         * mounted) is noted as an attempt that failed, so that the status
         * says it, with why — unless another rotation's is open, or holds
         * the medium now (-EBUSY: its own attempt stands). */
        if (!t.began && out->rc && out->rc != -EBUSY && online)
            t.began = ops_rotate_begin(in->primary, in->medium, true);
        char why[sizeof(last_why)] = "";
        if (out->rc && last_why[0])
            (void)ops_rotate_why(out->step, out->rc, in->path, why, sizeof(why));
        t.alike = settings || (why[0] && !strcmp(why, last_why));
        finish(&t);
    }
    if (drv->release)
        drv->release(&t);
    free(t.d);
    return out->rc;
}

int ops_rotate(const ops_rotate_in *in, ops_rotate_out *out)
{
    size_t t = (size_t)in->type;
    if (t >= sizeof(drivers) / sizeof(*drivers) || !drivers[t]) {
        memset(out, 0, sizeof(*out));
        bkp_error(_("%s: no kind of medium bkp rotates to has this type"), in->medium);
        out->usage = true;
        return ops_rotate_fail(out, OPS_ROTATE_OPEN, -EINVAL);
    }
    return ops_rotate_with(drivers[t], in, out);
}

void ops_rotate_out_clear(ops_rotate_out *out)
{
    ops_rotate_plan_clear(&out->plan);
    ops_held_clear(&out->added);
    ops_held_clear(&out->held);
    ops_prune_out_clear(&out->prune);
    memset(out, 0, sizeof(*out));
}
