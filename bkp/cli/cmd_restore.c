#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/generation.h"
#include "bkp/i18n.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "restore/restore.h"

int cmd_restore(cli *c)
{
    bkp_repo *r;
    bkp_gen *g = NULL;
    rst_result res;
    struct timespec t0, t1;

    if (c->runbook) {
        if (c->nargs || c->from || c->to_archive || c->path || c->verify) {
            bkp_error(_("bkp restore --runbook NAME takes no generation, target, --from, --path or "
                        "--verify: the runbook says what goes where, and its restores are always "
                        "read back"));
            return EXIT_USAGE;
        }
        return cli_runbook_execute(c, c->runbook, false, false);
    }
    if (c->to_archive && c->verify) {
        bkp_error(_("--verify reads restored files back from a directory; a tar stream is "
                    "checked by `bsdtar -tvf` or by restoring it"));
        return EXIT_USAGE;
    }
    if (c->to_archive ? c->nargs != 1 : c->nargs != 2) {
        bkp_error(_("give a generation and a target directory, or --to-archive FILE:\n"
                    "  bkp restore GEN TARGET [--path P] [--force]\n"
                    "  bkp restore GEN --to-archive FILE [--path P]"));
        return EXIT_USAGE;
    }
    char *staging = NULL;
    int ex = cli_open_source(c, c->args[0], &c->r, &staging), rc;
    r = c->r;
    if (ex) {
        cli_source_remove(staging);
        return ex;
    }
    bkp_lock *reading = NULL;
    if (!staging && (ex = cli_read_lock(c, bkp_repo_path(r), &reading))) {
        cli_source_remove(staging);
        return ex;
    }
    if ((rc = bkp_gen_resolve(r, c->args[0], &g))) {
        bkp_lock_release(reading);
        cli_source_remove(staging);
        return cli_exit_for(rc);
    }
    /* --folder DIR: that stored folder's contents, as the target's own. */
    const char *folder = c->folder;
    while (folder && *folder == '/')
        folder++;
    if (c->folder && (c->path || !*folder)) {
        bkp_error(_("--folder takes a stored folder (e.g. --folder /var/backups/emr) and does not "
                    "go with --path"));
        bkp_gen_free(g);
        bkp_lock_release(reading);
        cli_source_remove(staging);
        return EXIT_USAGE;
    }
    rst_opts o = {.target = c->nargs > 1 ? c->args[1] : NULL,
                  .path = c->path,
                  .to_archive = c->to_archive,
                  .force = c->force,
                  .workers = c->workers,
                  .strip = folder};
    rst_compared cmp = {0};
    int crc = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = rst_restore(r, g, &o, &res);
    if (rc >= 0 && c->verify)
        crc = rst_compare(r, g, o.target, o.path, o.strip, &cmp);
    /* A file the restore left out as damaged is missing, and already counted;
     * one missing beyond those, or one that reads back wrong, is a failure. */
    uint64_t differ = cmp.differ + (cmp.missing > res.damaged ? cmp.missing - res.damaged : 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc < 0) {
        /* A link where the archive goes is refused like an existing file. */
        ex = cli_exit_for(rc == -ELOOP && c->to_archive ? -EEXIST : rc);
    } else {
        char a[32];
        if (c->tty && !c->json && !res.nothing)
            printf(_("restored %s:%u: %llu items, %llu files, %s in %.1f s%s\n"), g->dataset,
                   g->seq, (unsigned long long)res.items, (unsigned long long)res.files,
                   cli_size(a, sizeof(a), res.bytes), secs,
                   res.damaged || res.list_damaged || differ || crc ? ""
                   : c->verify ? _("; every chunk authenticated, every file read back and "
                                   "compared")
                               : _("; every chunk authenticated"));
        if (res.damaged)
            bkp_error(_("%llu file(s) could not be restored exactly (listed above); restore them "
                        "from another medium or an older generation"),
                      (unsigned long long)res.damaged);
        if (res.list_damaged && res.unread)
            bkp_error(_("%llu item(s) after the damaged part of the item list were not restored "
                        "(said above)"),
                      (unsigned long long)res.unread);
        if (crc < 0)
            bkp_error(_("the restored files in %s could not all be read back (%s); compare them "
                        "again with `bkp restore --verify` into a fresh folder"),
                      o.target, bkp_strerror(crc));
        if (differ)
            bkp_error(_("%llu restored file(s) read back are missing or differ from the generation "
                        "(listed above): something changed them after the restore, or the target "
                        "cannot keep what is written to it; restore them again elsewhere and run "
                        "`bkp verify --read-data`"),
                      (unsigned long long)differ);
        ex =
            res.damaged || res.list_damaged || res.nothing || differ || crc ? EXIT_FAILED : EXIT_OK;
    }
    char name[96];
    json_t *fig = json_pack("{s:s?, s:s?, s:s?, s:I, s:I, s:I}", "target", o.target, "path", o.path,
                            "archive", o.to_archive, "files", (json_int_t)(rc < 0 ? 0 : res.files),
                            "bytes", (json_int_t)(rc < 0 ? 0 : res.bytes), "damaged",
                            (json_int_t)(rc < 0 ? 0 : res.damaged));
    if (fig && rc >= 0 && res.list_damaged) {
        json_object_set_new(fig, "item_list_damaged", json_true());
        json_object_set_new(fig, "items_not_read", json_integer((json_int_t)res.unread));
    }
    if (fig && c->verify) {
        json_object_set_new(fig, "compared", json_integer((json_int_t)cmp.files));
        json_object_set_new(fig, "differ", json_integer((json_int_t)cmp.differ));
        json_object_set_new(fig, "missing", json_integer((json_int_t)cmp.missing));
    }
    bkp_audit_rec rec = {.op = "restore",
                         .dataset = g->dataset,
                         .generation = bkp_gen_name(g, name, sizeof(name)),
                         .failed = ex != 0,
                         .figures = fig,
                         .error = rc < 0 ? bkp_strerror(rc) : NULL};
    int aex = c->from ? cli_audit_primary(c, r, staging != NULL, &rec) : cli_audit(c, &rec);
    if (c->json && fig) { /* one document: what the audit record says, and the verdict */
        json_object_set_new(fig, "generation", json_string(name));
        json_object_set_new(fig, "seconds", json_real(secs));
        json_object_set_new(fig, "ok", json_boolean(!ex));
        if (c->from)
            json_object_set_new(fig, "from", json_string(c->from));
        if (rc >= 0 && res.nothing)
            json_object_set_new(fig, "nothing_at_path", json_true());
        if (rc < 0)
            json_object_set_new(fig, "error", json_string(bkp_strerror_en(rc)));
        cli_print_json(json_incref(fig));
    }
    json_decref(fig);
    bkp_gen_free(g);
    bkp_lock_release(reading);
    if (staging) { /* a staged copy is gone with its folder: nothing is left to report on */
        bkp_repo_free(c->r);
        c->r = NULL;
    }
    cli_source_remove(staging);
    return ex ? ex : aex;
}
