#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "restore/restore.h"

/* --folder DIR as stored, without the slashes around it (a shell's
 * completion adds one), into `buf`; NULL without --folder. */
static const char *stored_folder(const cli *c, char *buf, size_t n)
{
    if (!c->folder)
        return NULL;
    const char *f = c->folder;
    while (*f == '/')
        f++;
    snprintf(buf, n, "%s", f);
    for (size_t l = strlen(buf); l > 0 && buf[l - 1] == '/';)
        buf[--l] = '\0';
    return buf;
}

/* The option combinations a restore refuses (a runbook's are checked by
 * the caller): EXIT_USAGE said, or 0. */
static int usage(const cli *c)
{
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
    char buf[4096];
    const char *folder = stored_folder(c, buf, sizeof(buf));
    if (folder && (c->path || !*folder)) {
        bkp_error(_("--folder takes a stored folder (e.g. --folder /var/backups/emr) and does not "
                    "go with --path"));
        return EXIT_USAGE;
    }
    return 0;
}

/* What one restore did, for its report, audit record and --json. */
typedef struct done {
    const bkp_gen *g;
    rst_opts o;
    rst_result res;
    rst_compared cmp;
    int rc;          /* rst_restore's */
    int crc;         /* rst_compare's (--verify) */
    rst_extra extra; /* --force: what was in the target before, not in the generation */
    bool extra_found;
    uint64_t differ; /* read back missing or different, beyond the damaged */
    double secs;
} done;

/* Say on the terminal what the restore did and what went wrong; the exit
 * code. */
static int report(const cli *c, const done *d)
{
    const rst_result *res = &d->res;
    char a[32];
    bool bad = res->damaged || res->list_damaged || d->differ || d->crc;
    /* Said also when the session is logged (tee, script): a restore is a
     * person's act, never cron's; beside an archive on stdout, on stderr. */
    FILE *out = c->to_archive && !strcmp(c->to_archive, "-") ? stderr : stdout;
    /* What, from where, into where: the line a logged session keeps. */
    const char *from = c->from ? c->from : bkp_repo_path(c->ro);
    const char *into = d->o.target ? d->o.target : d->o.to_archive;
    if (!c->json && !res->nothing && !c->quiet)
        fprintf(out, _("restored %s:%u from %s into %s: %llu items, %llu files, %s in %.1f s%s\n"),
                d->g->dataset, d->g->seq, from, into ? into : "-", (unsigned long long)res->items,
                (unsigned long long)res->files, bkp_size_text(a, sizeof(a), res->bytes), d->secs,
                bad         ? ""
                : c->verify ? _("; every chunk authenticated, every file read back and "
                                "compared")
                            : _("; every chunk authenticated"));
    if (res->damaged)
        bkp_error(_("%llu file(s) could not be restored exactly (listed above); restore them "
                    "from another medium or an older generation"),
                  (unsigned long long)res->damaged);
    if (res->list_damaged && res->unread)
        bkp_error(_("%llu item(s) after the damaged part of the item list were not restored "
                    "(said above)"),
                  (unsigned long long)res->unread);
    if (d->crc < 0)
        bkp_error(_("the restored files in %s could not all be read back (%s); compare them "
                    "again with `bkp restore --verify` into a fresh folder"),
                  d->o.target, bkp_strerror(d->crc));
    if (d->differ)
        bkp_error(_("%llu restored file(s) read back are missing or differ from the generation "
                    "(listed above): something changed them after the restore, or the target "
                    "cannot keep what is written to it; restore them again elsewhere and run "
                    "`bkp verify --read-data`"),
                  (unsigned long long)d->differ);
    if (d->extra.n) {
        /* One a line: after an attack they are the list of what to move. */
        char named[RST_EXTRA_NAMED * (4 * sizeof(d->extra.named[0]) + 4) + 160] = "";
        for (uint64_t i = 0; i < d->extra.n && i < RST_EXTRA_NAMED; i++) {
            /* Names an attacker chose: no line of the log is forged by one. */
            char *safe = bkp_text_safe(d->extra.named[i], BKP_TEXT_FIELD);
            bkp_strappend(named, sizeof(named), "\n  %s", safe ? safe : "?");
            free(safe);
        }
        if (d->extra.n > RST_EXTRA_NAMED)
            bkp_strappend(named, sizeof(named), _("\n  … and %llu more"),
                          (unsigned long long)(d->extra.n - RST_EXTRA_NAMED));
        bkp_warn(_("%llu name(s) in %s are not in %s:%u: they were there before the restore and "
                   "are left as they were. After an attack they may be the attacker's: move them "
                   "aside before anything uses this folder:%s"),
                 (unsigned long long)d->extra.n, d->o.target, d->g->dataset, d->g->seq, named);
    }
    return bad || res->nothing ? EXIT_FAILED : EXIT_OK;
}

/* The figures of the audit record (English, for machines). */
static json_t *figures(const cli *c, const done *d)
{
    bool ok = d->rc >= 0;
    json_t *fig = json_pack(
        "{s:s?, s:s?, s:s?, s:I, s:I, s:I}", "target", d->o.target, "path", d->o.path, "archive",
        d->o.to_archive, "files", (json_int_t)(ok ? d->res.files : 0), "bytes",
        (json_int_t)(ok ? d->res.bytes : 0), "damaged", (json_int_t)(ok ? d->res.damaged : 0));
    if (fig && ok && d->res.list_damaged) {
        json_object_set_new(fig, "item_list_damaged", json_true());
        json_object_set_new(fig, "items_not_read", json_integer((json_int_t)d->res.unread));
    }
    if (fig && d->extra_found)
        json_object_set_new(fig, "extra", json_integer((json_int_t)d->extra.n));
    if (fig && c->verify) {
        json_object_set_new(fig, "compared", json_integer((json_int_t)d->cmp.files));
        json_object_set_new(fig, "differ", json_integer((json_int_t)d->cmp.differ));
        json_object_set_new(fig, "missing", json_integer((json_int_t)d->cmp.missing));
    }
    return fig;
}

/* --json: one document, what the audit record says and the verdict. */
static void print_json(const cli *c, const done *d, json_t *fig, const char *name, int ex,
                       const char *why_ja)
{
    json_object_set_new(fig, "generation", json_string(name));
    json_object_set_new(fig, "seconds", json_real(d->secs));
    json_object_set_new(fig, "ok", json_boolean(!ex));
    if (c->from)
        json_object_set_new(fig, "from", json_string(c->from));
    if (d->rc >= 0 && d->res.nothing)
        json_object_set_new(fig, "nothing_at_path", json_true());
    if (d->rc < 0)
        json_object_set_new(fig, "error", json_string(bkp_strerror_en(d->rc)));
    if (*why_ja)
        json_object_set_new(fig, "error_ja", json_string(why_ja));
    cli_print_json(json_incref(fig));
}

/* Restore `g` of `r` as the options say, read it back with --verify, and
 * report and record it: the exit code. */
static int restore_one(cli *c, const bkp_repo *r, const bkp_gen *g, bool staged)
{
    done d = {.g = g};
    char folder[4096]; /* --folder DIR: that stored folder's contents, as the target's own */
    d.o = (rst_opts){.target = c->nargs > 1 ? c->args[1] : NULL,
                     .path = c->path,
                     .to_archive = c->to_archive,
                     .force = c->force,
                     .workers = c->workers,
                     .strip = stored_folder(c, folder, sizeof(folder))};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    d.rc = rst_restore(r, g, &d.o, &d.res);
    if (d.rc >= 0 && c->verify)
        d.crc = rst_compare(r, g, d.o.target, d.o.path, d.o.strip, &d.cmp);
    /* Over a folder in use, what the restore did not put there is said: it
     * is not the generation's, and a person may take it for restored. */
    if (d.rc >= 0 && c->force && d.o.target && !d.o.path)
        d.extra_found = rst_extra_find(r, g, d.o.target, d.o.strip, &d.extra) == 0;
    /* A file the restore left out as damaged is missing, and already counted;
     * one missing beyond those, or one that reads back wrong, is a failure. */
    d.differ = d.cmp.differ + (d.cmp.missing > d.res.damaged ? d.cmp.missing - d.res.damaged : 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    d.secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* A link where the archive goes is refused like an existing file. */
    int ex =
        d.rc < 0 ? cli_exit_for(d.rc == -ELOOP && c->to_archive ? -EEXIST : d.rc) : report(c, &d);
    char name[96];
    json_t *fig = figures(c, &d);
    /* The reason in the record's words, and in Japanese for a Japanese
     * reader of the log (audit show): a refusal of a target in use is not
     * the system's "File exists". */
    const char *why = d.rc == -EEXIST && !c->to_archive ? N_("the target was not empty") : NULL;
    char why_ja[256] = "";
    if (why) {
        bkp_i18n_saved saved;
        bkp_i18n_begin(&saved, "ja");
        snprintf(why_ja, sizeof(why_ja), "%s", _(why));
        bkp_i18n_end(&saved);
    }
    bkp_audit_rec rec = {.op = "restore",
                         .dataset = g->dataset,
                         .generation = bkp_gen_name(g, name, sizeof(name)),
                         .failed = ex != 0,
                         .figures = fig,
                         .error = why        ? why
                                  : d.rc < 0 ? bkp_strerror_en(d.rc)
                                             : NULL,
                         .error_ja = why_ja};
    int aex = cli_record(c, r, staged, &rec);
    if (c->json && fig)
        print_json(c, &d, fig, name, ex, why_ja);
    json_decref(fig);
    return ex ? ex : aex;
}

int cmd_restore(cli *c)
{
    if (c->runbook) {
        if (c->nargs || c->to_archive || c->path || c->verify || (c->key_fingerprint && !c->from)) {
            bkp_error(_("bkp restore --runbook NAME takes no generation, target, --path or "
                        "--verify, and --key-fingerprint only with --from: the runbook says what "
                        "goes where, and its restores are always read back"));
            return EXIT_USAGE;
        }
        /* --from M: the one medium to read, as a drill's --medium (a bucket
         * is read only when named so). */
        c->medium = c->from;
        return cli_runbook_execute(c, c->runbook, false, false);
    }
    int ex = usage(c);
    if (ex)
        return ex;
    /* A person at the terminal is not asked for a passphrase to be refused
     * a full target; a script (--json, no terminal) gets the refusal's
     * document and record from the restore itself. */
    if (c->tty && !c->json && !c->to_archive && rst_target_check(c->args[1], c->force))
        return EXIT_USAGE;
    /* Where no primary is open to record in, the journal goes beside the target. */
    c->journal_near = c->to_archive ? c->to_archive : c->args[1];
    bkp_lock *reading = NULL;
    bkp_gen *g = NULL;
    int rc = 0;
    bkp_repo *src = NULL;
    ex = cli_open_source(c, &(cli_fetch_what){.spec = c->args[0]}, &src, &c->staging); /* removed by the dispatcher */
    cli_keep(src); /* the command's context is recorded in it at the end */
    c->ro = src;
    if (!ex && !c->staging)
        ex = cli_read_lock(c, bkp_repo_path(c->ro), &reading);
    if (!ex && (rc = bkp_gen_resolve(c->ro, c->args[0], &g)))
        ex = cli_exit_for(rc);
    if (!ex)
        ex = restore_one(c, c->ro, g, c->staging != NULL);
    bkp_gen_free(g);
    bkp_lock_release(reading);
    return ex;
}
