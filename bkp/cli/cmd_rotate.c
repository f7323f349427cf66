/*
 * bkp rotate MEDIUM — the operator's weekly task: plug the labelled disk in,
 * run this, unplug it. The label is checked (a wrong disk is refused, naming
 * the one that is due); the newest clean generation of every data set the
 * policy copies there is copied, each pack read back from the medium and
 * authenticated before it counts; the copy is pruned by the data set's
 * retention (keeping at least three); checked; recorded in the audit log;
 * and the operator is told that the medium may go, where, and when it is
 * due again. `bkp run` does the same for on-line disks and buckets. With
 * --dry-run, the plan alone: what would be copied and pruned. The work is
 * bkp/ops/rotate.h's, whatever the medium; here, what is said.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/ops/rotate.h"
#include "bkp/io/text.h"

/* When the medium is next due, and which one is due next. */
static void next_due(cli *c, const cli_medium *m)
{
    char when[32], nwhen[32];
    time_t due = cli_medium_due(c, m->name), other_due = 0;
    const char *other = cli_medium_most_due(c, &other_due);
    if (due)
        printf(_("%s is next due on %s.\n"), m->name, bkp_local_time(when, sizeof(when), due, "-"));
    if (!other || !strcmp(other, m->name))
        return;
    bkp_local_time(nwhen, sizeof(nwhen), other_due, "-");
    if (other_due <= 1)
        printf(_("%s has never been written: it is due now (`bkp rotate %s`).\n"), other, other);
    else if (other_due <= bkp_now())
        printf(_("The next medium due is %s, due since %s.\n"), other, nwhen);
    else
        printf(_("The next medium due is %s, on %s.\n"), other, nwhen);
}

/* Where an off-line medium goes now. */
static const char *kept(const cli_medium *m, char *buf, size_t n)
{
    const char *where = strcmp(m->location, "offsite") ? _("on-site, off-line") : _("off-site");
    if (m->pm && m->pm->kept_at && *m->pm->kept_at)
        snprintf(buf, n, _("%s (%s)"), where, m->pm->kept_at);
    else
        snprintf(buf, n, "%s", where);
    return buf;
}

/* Why a rotation has nothing to copy: no data set copies to the medium,
 * or those that do have no generation yet (the first day). */
static const char *nothing_why(const cli *c, const cli_medium *m)
{
    for (size_t i = 0; c->policy && i < c->policy->ndatasets; i++)
        if (pol_dataset_copies_to(&c->policy->datasets[i], m->name))
            return _("nothing yet: the data sets copied to it have no generation; run `bkp run "
                     "--force` (or wait for tonight's backups), then rotate it");
    return _("nothing: no data set of the policy is copied to it");
}

/* A disk: what was copied, and that it may be disconnected. */
static void said_disk(cli *c, const cli_medium *m, const ops_rotate_out *o)
{
    char sz[32], where[320];
    if (!o->plan.np)
        printf("%s: %s", m->name, nothing_why(c, m));
    else
        printf(o->copy.records ? _("%s: copied ") : _("%s: already held "), m->name);
    for (size_t i = 0; i < o->plan.np; i++)
        printf("%s%s", i ? ", " : "", o->plan.rows[i].name);
    if (o->copy.packs)
        printf(_(" — %llu pack(s), %s, each read back from the disk and authenticated"),
               (unsigned long long)o->copy.packs, bkp_size_text(sz, sizeof(sz), o->copy.bytes));
    printf("%s", C_("end of sentence", ".\n"));
    printf(_("%s now holds %zu generation(s); signatures, chains and objects checked.\n"), m->name,
           o->held.n);
    /* Nearly full: less room left than a rotation to it copies (this one,
     * or after a first copy what one interval of backups adds). */
    if (o->has_free && o->next_copy && o->free_after < o->next_copy) {
        char room[32], wrote[32];
        bkp_warn(_("%s has %s free, less than a rotation to it copies (about %s): the next one "
                   "may not fit. Before it, `bkp rotate %s --dry-run` says what it needs; a "
                   "larger disk, or a retention that keeps fewer generations on it"),
                 m->name, bkp_size_text(room, sizeof(room), o->free_after),
                 bkp_size_text(wrote, sizeof(wrote), o->next_copy), m->name);
    }
    if (m->offline && !c->unmount)
        printf(_("You can unmount and disconnect %s now (umount %s); it is kept %s.\n"), m->name,
               m->path, kept(m, where, sizeof(where)));
}

/* An archive medium: what was written, and that it may go. */
static void said_archive(cli *c, const cli_medium *m, const ops_rotate_out *o)
{
    char sz[32], where[320];
    size_t n = o->added.n;
    (void)c;
    printf(_("%s: %zu archive(s) written (%s)%s"), m->name, n,
           bkp_size_text(sz, sizeof(sz), o->copy.bytes),
           o->device ? _(", not read back (a device)") : _(", each read back and verified"));
    printf("%s%s", n ? "" : _("; everything due was there already"), C_("end of sentence", ".\n"));
    if (m->offline)
        printf(_("You can take %s away now; it is kept %s.\n"), m->name,
               kept(m, where, sizeof(where)));
}

/* A bucket: what was uploaded, and how long it is locked. */
static void said_object(cli *c, const cli_medium *m, const ops_rotate_out *o)
{
    char sz[32], when[32];
    (void)c;
    bkp_local_time(when, sizeof(when), o->retain_until, "-");
    printf(_("%s: copied %zu generation(s) to bucket %s — %llu pack(s) uploaded (%s, each "
             "checked by the server's MD5), %llu already there (%llu lock(s) extended). Every "
             "object is locked (%s) until at least its generation's date; the latest is %s.\n"),
           m->name, o->plan.np, m->pm->object.bucket, (unsigned long long)o->copy.packs,
           bkp_size_text(sz, sizeof(sz), o->copy.bytes), (unsigned long long)o->copy.packs_present,
           (unsigned long long)o->locks_extended,
           m->pm->object.governance ? "GOVERNANCE" : "COMPLIANCE", when);
    printf(_("%s now holds %zu generation(s).\n"), m->name, o->held.n);
}

/* The generations of the plan, or taken, as --json names them. */
static json_t *plan_names(const ops_rotate_plan *plan)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < plan->np; i++)
        json_array_append_new(a, json_string(plan->rows[i].name));
    return a;
}

static json_t *held_names(const ops_held *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < h->n; i++) {
        char name[96];
        snprintf(name, sizeof(name), "%s:%u", h->v[i].dataset, h->v[i].seq);
        json_array_append_new(a, json_string(name));
    }
    return a;
}

static json_t *held_json(const ops_held *h)
{
    return bkp_media_held_json(h->v, h->n);
}

/* A disk's rotation, for machines. */
static json_t *json_disk(const cli_medium *m, const ops_rotate_out *o)
{
    return json_pack("{s:s, s:o, s:I, s:I, s:I, s:o}", "medium", m->name, "generations",
                     plan_names(&o->plan), "packs", (json_int_t)o->copy.packs, "bytes",
                     (json_int_t)o->copy.bytes, "packs_present", (json_int_t)o->copy.packs_present,
                     "held", held_json(&o->held));
}

/* An archive medium's: the archives written now. */
static json_t *json_archive(const cli_medium *m, const ops_rotate_out *o)
{
    return json_pack("{s:s, s:o, s:I}", "medium", m->name, "generations", held_names(&o->added),
                     "bytes", (json_int_t)o->copy.bytes);
}

/* A bucket's: with the locks made longer. */
static json_t *json_object_medium(const cli_medium *m, const ops_rotate_out *o)
{
    return json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:o}", "medium", m->name, "generations",
                     plan_names(&o->plan), "packs", (json_int_t)o->copy.packs, "bytes",
                     (json_int_t)o->copy.bytes, "packs_present", (json_int_t)o->copy.packs_present,
                     "locks_extended", (json_int_t)o->locks_extended, "held", held_json(&o->held));
}

/* What a rotation that succeeded says, to people and with --json, by what
 * the medium is: a bucket (locked objects), written once (archives), or a
 * repository copy at a path (a disk). A new kind of medium with one of
 * these traits says what its kind says. */
typedef struct rotate_words {
    void (*said)(cli *, const cli_medium *, const ops_rotate_out *);
    json_t *(*json)(const cli_medium *, const ops_rotate_out *);
} rotate_words;

static const rotate_words *words_of(const cli_medium *m)
{
    static const rotate_words disk = {said_disk, json_disk}, archive = {said_archive, json_archive},
                              object = {said_object, json_object_medium};
    return !pol_type_at_path(m->kind) ? &object : pol_type_write_once(m->kind) ? &archive : &disk;
}

/* What the copy needs and what the disk has: whether it fits, and what to
 * do when it does not. */
static void room_said(const cli_medium *m, const ops_rotate_plan *pl)
{
    char need[32], room[32];
    if (!pl->sized)
        return;
    bkp_size_text(need, sizeof(need), pl->need_bytes);
    bkp_size_text(room, sizeof(room), pl->free_bytes);
    printf(_("  needs   at least %llu pack(s), %s; %s has %s free\n"),
           (unsigned long long)pl->need_packs, need, m->name, room);
    if (pl->need_bytes <= pl->free_bytes)
        return;
    if (pl->ngone)
        bkp_warn(_("%s: the copy does not fit (%s needed, %s free); `bkp rotate %s "
                   "--prune-first` deletes what the retention lets go before the copy, or use a "
                   "larger disk"),
                 m->name, need, room, m->name);
    else
        bkp_warn(_("%s: the copy does not fit (%s needed, %s free) and the retention lets "
                   "nothing go: use a larger disk (`bkp media label PATH --name %s --force`)"),
                 m->name, need, room, m->name);
}

/* --dry-run: the plan, and nothing written. */
static void plan_said(cli *c, const cli_medium *m, const ops_rotate_plan *pl)
{
    char when[32];
    if (c->json) {
        json_t *copy = json_array(), *held = json_array(), *gone = json_array();
        json_t *locks = pl->locked ? json_object() : NULL;
        for (size_t i = 0; i < pl->np; i++) {
            const ops_plan_row *r = &pl->rows[i];
            json_array_append_new(r->there ? held : copy, json_string(r->name));
            if (locks && r->until) {
                bkp_iso_time(when, sizeof(when), r->until);
                json_object_set_new(locks, r->name, json_string(when));
            }
        }
        for (size_t i = 0; i < pl->ngone; i++)
            json_array_append_new(gone, json_string(pl->gone[i].name));
        json_t *room = pl->sized ? json_pack("{s:I, s:I, s:I}", "packs", (json_int_t)pl->need_packs,
                                             "bytes", (json_int_t)pl->need_bytes, "free_bytes",
                                             (json_int_t)pl->free_bytes)
                                 : NULL;
        cli_print_json(json_pack("{s:s, s:b, s:o, s:o, s:o, s:b, s:o?, s:o?}", "medium", m->name,
                                 "dry_run", true, "copy", copy, "there", held, "prune", gone,
                                 "listed", pl->listed, "lock_until", locks, "needs", room));
        return;
    }
    printf(_("%s: what a rotation would do now (nothing was written):\n"), m->name);
    for (size_t i = 0; i < pl->np; i++) {
        const ops_plan_row *r = &pl->rows[i];
        if (r->until)
            bkp_local_time(when, sizeof(when), r->until, "-");
        if (r->there && r->until)
            printf(_("  held    %s (on %s already; its lock made to last until at least %s)\n"),
                   r->name, m->name, when);
        else if (r->there)
            printf(_("  held    %s (on %s already)\n"), r->name, m->name);
        else if (r->until)
            printf(_("  copy    %s (locked until %s)\n"), r->name, when);
        else
            printf(_("  copy    %s\n"), r->name);
    }
    for (size_t i = 0; i < pl->ngone; i++)
        printf(pl->locked ? _("  prune   %s (the retention lets it go once the copy is there and "
                              "its lock has passed)\n")
                          : _("  prune   %s (the retention lets it go once the copy is there)\n"),
               pl->gone[i].name);
    if (!pl->np)
        printf("  %s\n", nothing_why(c, m));
    if (!pl->listed)
        printf("  %s\n", _("(what the medium holds cannot be listed here: every generation chosen "
                           "is written to it)"));
    room_said(m, pl);
}

/* The exit code of a rotation that ended with `o`. */
static int exit_of(const ops_rotate_out *o)
{
    if (!o->rc)
        return EXIT_OK;
    if (o->step == OPS_ROTATE_OPEN && o->rc == -EBUSY)
        return EXIT_LOCKED;
    return o->usage ? EXIT_USAGE : EXIT_FAILED;
}

int cli_rotate(cli *c, cli_medium *m, bool quiet)
{
    pol_medium_type type;
    bkp_lock *reading = NULL;
    if (pol_medium_type_named(m->type, &type)) {
        bkp_error(_("%s: '%s' is not a medium type bkp can rotate to; label it again with "
                    "`bkp media label --name %s --type TYPE`"),
                  m->name, m->type, m->name);
        return EXIT_USAGE;
    }
    cli_kit_ctx k = {c, m};
    /* A dry run reads the primary, opened read-only (rotate_writes): ops
     * writes nothing to it then (ops_rotate_in.dry_run). */
    ops_rotate_in in = {.primary = c->dry_run ? (bkp_repo *)c->ro : c->r,
                        .policy = c->policy,
                        .medium = m->name,
                        .type = type,
                        .pm = m->pm,
                        .path = m->path,
                        .entry = m->entry,
                        .workers = c->workers,
                        .kit = {cli_kit_make, cli_kit_docs_free, &k},
                        .keep_all = cli_policy_named(c) && !c->policy,
                        .dry_run = c->dry_run,
                        .prune_first = c->prune_first};
    ops_rotate_out o;
    /* A dry run reads: a reader's lock keeps a prune of the primary out. */
    int ex = c->dry_run ? cli_read_lock(c, bkp_repo_path(c->ro), &reading) : EXIT_OK;
    if (ex)
        return ex;
    (void)ops_rotate(&in, &o);
    ex = exit_of(&o);
    bkp_lock_release(reading);
    if (c->dry_run) {
        if (ex == EXIT_OK)
            plan_said(c, m, &o.plan);
        ops_rotate_out_clear(&o);
        return ex;
    }
    cli_prune_print(c, &o.prune, o.prune_rc, m->name);
    if (!o.prune_rc && (o.bucket_prune.generations || o.bucket_prune.packs))
        bkp_info(_("%s: pruned %llu generation(s) and %llu pack(s) whose locks had passed; %llu "
                   "version(s) are still locked"),
                 m->name, (unsigned long long)o.bucket_prune.generations,
                 (unsigned long long)o.bucket_prune.packs,
                 (unsigned long long)o.bucket_prune.locked);
    if (o.kit_written)
        json_decref(cli_kit_said(m, &o.kit));
    if (ex == EXIT_OK)
        cli_medium_procedures(c, m);
    if (ex == EXIT_OK && c->json && !quiet)
        cli_print_json(words_of(m)->json(m, &o));
    else if (ex == EXIT_OK && !quiet) {
        words_of(m)->said(c, m, &o);
        next_due(c, m);
    } else if (ex == EXIT_FAILED && !o.copied_all && o.copy.packs)
        bkp_error(_("%s: %llu pack(s) were copied before the failure; they stay and are not copied "
                    "again. Run `bkp rotate %s` again once the cause is fixed"),
                  m->name, (unsigned long long)o.copy.packs, m->name);
    /* A prune before the copy: what it deleted, said whatever came after. */
    char gone[2048] = "";
    for (size_t i = 0; o.pruned_first && i < o.prune.nrows; i++)
        if (!o.prune.rows[i].keep)
            bkp_strappend(gone, sizeof(gone), "%s%s", gone[0] ? ", " : "", o.prune.rows[i].name);
    if (ex == EXIT_OK && gone[0] && !quiet && !c->json)
        printf(_("%s: deleted before the copy, to make room: %s\n"), m->name, gone);
    if (ex == EXIT_FAILED && o.pruned_first && !o.copied_all && gone[0])
        bkp_error(_("%s: %s were deleted before the copy, which then failed: until a rotation to "
                    "it succeeds the disk holds fewer generations than its retention keeps. If "
                    "it is still too small, use a larger disk"),
                  m->name, gone);
    else if (ex == EXIT_FAILED && o.pruned_first && !o.copied_all)
        bkp_error(_("%s: its retention let no generation go before the copy: the disk is too "
                    "small for what it must hold; use a larger disk (`bkp media label PATH --name "
                    "%s --force`)"),
                  m->name, m->name);
    /* A disk full: what retention would delete after the copy can go first. */
    if (ex == EXIT_FAILED && o.rc == -ENOSPC && o.step == OPS_ROTATE_COPY && !c->prune_first &&
        o.plan.prunes && !o.plan.locked)
        bkp_error(
            _("%s is full. `bkp rotate %s --dry-run` shows what the copy needs and what the "
              "retention would delete from it after the copy. If it lists generations to "
              "prune, `bkp rotate %s --prune-first` deletes them first to make room (until the "
              "copy is done the disk holds fewer generations); if not, use a larger disk "
              "(`bkp media label PATH --name %s --force`)"),
            m->name, m->name, m->name, m->name);
    ops_rotate_out_clear(&o);
    return ex;
}

/* --unmount: the medium's file system, once the rotation succeeded, so
 * that it is ready to be taken away (a disk left plugged in is within
 * reach of ransomware on the server). Only a mount point is unmounted. */
static int unmount(cli *c, const cli_medium *m)
{
    struct stat here, up;
    if (!m->path)
        return EXIT_OK; /* a bucket: nothing mounted to take away */
    char *parent = bkp_path_join(m->path, "..");
    bool point = parent && !stat(m->path, &here) && !stat(parent, &up) &&
                 (here.st_dev != up.st_dev || here.st_ino == up.st_ino);
    free(parent);
    if (!stat(m->path, &here) && !S_ISDIR(here.st_mode))
        return EXIT_OK; /* a tape: nothing mounted to take away */
    if (!m->offline) {
        bkp_warn(_("%s is an on-line medium: it stays mounted (--unmount is for off-line media)"),
                 m->name);
        return EXIT_OK;
    }
    if (!point) {
        bkp_warn(_("%s: %s is not a mount point, so nothing was unmounted; unmount the disk that "
                   "holds it and take it away"),
                 m->name, m->path);
        return EXIT_OK;
    }
    sync();
    if (umount2(m->path, 0)) {
        int rc = -errno;
        bkp_error(_("%s: the copy is complete, but %s cannot be unmounted (%s): close what uses "
                    "it (a shell in that folder, a file manager), then run `umount %s`"),
                  m->name, m->path, bkp_strerror(rc), m->path);
        return EXIT_FAILED;
    }
    /* With --json, stdout holds the document alone. */
    char where[320];
    fprintf(c->json ? stderr : stdout,
            _("%s: unmounted %s; disconnect it and take it away: it is kept %s.\n"), m->name,
            m->path, kept(m, where, sizeof(where)));
    return EXIT_OK;
}

int cmd_rotate(cli *c)
{
    cli_medium m;
    int ex = cli_medium_find(c, c->args[0], &m);
    if (ex)
        return ex;
    ex = cli_rotate(c, &m, false);
    if (ex == EXIT_OK && c->unmount && !c->dry_run)
        ex = unmount(c, &m);
    cli_medium_clear(&m);
    return ex;
}
