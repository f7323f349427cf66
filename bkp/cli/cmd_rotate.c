/*
 * bkp rotate MEDIUM — the operator's weekly task: plug the labelled disk in,
 * run this, unplug it. The label is checked (a wrong disk is refused, naming
 * the one that is due); the newest clean generation of every data set the
 * policy copies there is copied, each pack read back from the disk and
 * authenticated before it counts; the copy is pruned by the data set's
 * retention (keeping at least three); checked; recorded in the audit log,
 * whose copy then goes onto the disk; and the operator is told that the disk
 * may go, where, and when it is due again. `bkp run` does the same for
 * on-line disks. The work is bkp/ops/rotate_disk.h's; here, what is said.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/ops/rotate_disk.h"

/* Tell the operator what happened and what to do with the disk now. */
static void advise(cli *c, const cli_medium *m, const ops_rotate_out *o)
{
    char sz[32], when[32], nwhen[32];
    size_t i;
    json_t *g;
    printf(o->copy.records ? _("%s: copied ") : _("%s: already held "), m->name);
    json_array_foreach(o->copied, i, g) printf("%s%s", i ? ", " : "", json_string_value(g));
    if (!json_array_size(o->copied))
        printf("%s", _("nothing: no data set of the policy is copied to it"));
    if (o->copy.packs)
        printf(_(" — %llu pack(s), %s, each read back from the disk and authenticated"),
               (unsigned long long)o->copy.packs, cli_size(sz, sizeof(sz), o->copy.bytes));
    printf("%s", C_("end of sentence", ".\n"));
    printf(_("%s now holds %zu generation(s); signatures, chains and objects checked.\n"), m->name,
           json_array_size(o->held));
    time_t due = cli_medium_due(c, m->name), other_due = 0;
    const char *other = cli_medium_most_due(c, &other_due);
    if (due)
        bkp_local_time(when, sizeof(when), due, "-");
    if (m->offline && !c->unmount)
        printf(_("You can unmount and disconnect %s now (umount %s); it is kept %s.\n"), m->name,
               m->path, strcmp(m->location, "offsite") ? _("on-site, off-line") : _("off-site"));
    if (due)
        printf(_("%s is next due on %s.\n"), m->name, when);
    if (other && strcmp(other, m->name)) {
        bkp_local_time(nwhen, sizeof(nwhen), other_due, "-");
        if (other_due <= 1)
            printf(_("%s has never been written: it is due now (`bkp rotate %s`).\n"), other,
                   other);
        else if (other_due <= bkp_now())
            printf(_("The next medium due is %s, due since %s.\n"), other, nwhen);
        else
            printf(_("The next medium due is %s, on %s.\n"), other, nwhen);
    }
}

/* The exit code of a rotation that ended with `o`. */
static int exit_of(const ops_rotate_out *o)
{
    if (!o->rc)
        return EXIT_OK;
    return o->step == OPS_ROTATE_OPEN && o->rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
}

int cli_rotate_disk(cli *c, cli_medium *m, bool quiet)
{
    cli_kit_ctx k = {c, m};
    ops_rotate_in in = {.primary = c->r,
                        .policy = c->policy,
                        .medium = m->name,
                        .path = m->path,
                        .entry = m->entry,
                        .workers = c->workers,
                        .kit = {cli_kit_make, cli_kit_docs_free, &k},
                        .keep_all = cli_policy_named(c) && !c->policy};
    ops_rotate_out o;
    (void)ops_rotate_disk(&in, &o);
    int ex = exit_of(&o);
    cli_prune_print(c, &o.prune, o.prune_rc);
    if (o.kit_written)
        json_decref(cli_kit_said(m, &o.kit));
    if (ex == EXIT_OK)
        cli_medium_procedures(c, m);
    if (ex == EXIT_OK && c->json && !quiet)
        cli_print_json(json_pack("{s:s, s:O, s:I, s:I, s:I, s:O}", "medium", m->name, "generations",
                                 o.copied, "packs", (json_int_t)o.copy.packs, "bytes",
                                 (json_int_t)o.copy.bytes, "packs_present",
                                 (json_int_t)o.copy.packs_present, "held", o.held));
    else if (ex == EXIT_OK && !quiet)
        advise(c, m, &o);
    else if (ex == EXIT_FAILED && !o.copied_all && o.copy.packs)
        bkp_error(_("%s: %llu pack(s) were copied before the failure; they stay and are not copied "
                    "again. Run `bkp rotate %s` again once the cause is fixed"),
                  m->name, (unsigned long long)o.copy.packs, m->name);
    ops_rotate_out_clear(&o);
    return ex;
}

/* --unmount: the medium's file system, once the rotation succeeded, so
 * that it is ready to be taken away (a disk left plugged in is within
 * reach of ransomware on the server). Only a mount point is unmounted. */
static int unmount(cli *c, const cli_medium *m)
{
    struct stat here, up;
    char *parent = bkp_path_join(m->path, "..");
    bool point = parent && !stat(m->path, &here) && !stat(parent, &up) &&
                 (here.st_dev != up.st_dev || here.st_ino == up.st_ino);
    free(parent);
    if (!strcmp(m->type, "object") || (!stat(m->path, &here) && !S_ISDIR(here.st_mode)))
        return EXIT_OK; /* a bucket, a tape: nothing mounted to take away */
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
    fprintf(c->json ? stderr : stdout, _("%s: unmounted %s; disconnect it and take it away.\n"),
            m->name, m->path);
    return EXIT_OK;
}

int cmd_rotate(cli *c)
{
    cli_medium m;
    int ex = cli_medium_find(c, c->args[0], &m);
    if (ex)
        return ex;
    ex = !strcmp(m.type, "archive")  ? cli_rotate_archive(c, &m, false)
         : !strcmp(m.type, "object") ? cli_rotate_object(c, &m, false)
                                     : cli_rotate_disk(c, &m, false);
    if (ex == EXIT_OK && c->unmount)
        ex = unmount(c, &m);
    cli_medium_clear(&m);
    return ex;
}
