#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/store/generation.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

/* Earlier marks under the suspicion that clearing `g` settles (store/
 * generation.h): named, so that nobody settles unawares a night that was
 * not checked. */
static void settled_said(cli *c, const bkp_gen *g)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    char list[512] = "", name[96];
    if (bkp_gen_list(c->ro, g->dataset, &v, &n))
        return;
    for (size_t x = bkp_gen_suspicion(v, n); x < n && v[x]->seq < g->seq; x++)
        if (!v[x]->pruned && (v[x]->status || (bkp_gen_marked(v[x]) && !v[x]->cleared)))
            bkp_strappend(list, sizeof(list), "%s%s", list[0] ? ", " : "",
                          bkp_gen_name(v[x], name, sizeof(name)));
    if (list[0])
        bkp_warn(_("clearing %s:%u also settles the suspicion over %s, before it: they stay "
                   "marked (never copied, never chosen by `not: suspicious`). If their nights "
                   "were not checked, check them now (`bkp diff`)"),
                 g->dataset, g->seq, list);
    bkp_gen_list_free(v, n);
}

/* Clearing is recorded, signed, next to the record: who and when. */
static int clear_mark(cli *c)
{
    bkp_gen *g = NULL;
    int rc = bkp_gen_resolve(c->ro, c->clear, &g);
    if (rc)
        return cli_exit_for(rc);
    if (!bkp_gen_marked(g)) {
        bkp_error(_("%s:%u is not marked suspicious; nothing to clear"), g->dataset, g->seq);
        bkp_gen_free(g);
        return EXIT_USAGE;
    }
    settled_said(c, g);
    rc = bkp_gen_clear(c->r, g);
    char name[96];
    bkp_audit_rec rec = {.op = "clear-suspicious",
                         .dataset = g->dataset,
                         .generation = bkp_gen_name(g, name, sizeof(name)),
                         .failed = rc != 0,
                         .error = rc ? bkp_strerror_en(rc) : NULL};
    if (cli_audit(c, &rec) && !rc)
        rc = -EIO;
    if (rc)
        bkp_error(_("cannot record the clearance of %s:%u: %s"), g->dataset, g->seq,
                  bkp_strerror(rc));
    else if (!c->json) /* an operator's act: confirmed, under cron too */
        printf(_("%s:%u: suspicious mark cleared (recorded, signed)\n"), g->dataset, g->seq);
    bkp_gen_free(g);
    return rc ? EXIT_FAILED : EXIT_OK;
}

static const int gen_widths[] = {24, 8, 19, -9, -10, -10, 0};

/* One generation as a line of the table. */
static void gen_row(const bkp_gen *g)
{
    char name[96], t[32], a[32], b[32], files[24], uuid[9], status[160];
    bkp_gen_name(g, name, sizeof(name));
    if (g->status && g->foreign && g->medium) {
        /* A tombstone of a medium's own prune read outside that medium's
         * copy: a folder copied off the disk without its label, or one
         * planted where a record was deleted. Said as what it is; verify
         * counts it as a problem either way. */
        snprintf(status, sizeof(status),
                 _("NOT COUNTED (a tombstone of the copy on medium %.8s, found outside it)"),
                 g->medium);
        const char *row[] = {name, "?", "?", "?", "?", "?", status};
        cli_row(row, gen_widths, 7);
        return;
    }
    if (g->status) {
        const char *row[] = {name, "?", "?", "?", "?", "?", _("DAMAGED (signature fails)")};
        cli_row(row, gen_widths, 7);
        return;
    }
    size_t nerr = g->nerrors;
    if (nerr)
        snprintf(status, sizeof(status), _("sealed, %zu unreadable"), nerr);
    else
        snprintf(status, sizeof(status), "%s", _("sealed"));
    if (bkp_gen_marked(g))
        snprintf(status + strlen(status), sizeof(status) - strlen(status), "%s",
                 g->cleared ? _(", suspicious (cleared)") : _(", SUSPICIOUS"));
    snprintf(files, sizeof(files), "%llu", (unsigned long long)g->stats.files);
    snprintf(uuid, sizeof(uuid), "%.8s", g->uuid);
    const char *row[] = {name,
                         uuid,
                         cli_time(t, sizeof(t), g->finished),
                         files,
                         bkp_size_text(a, sizeof(a), g->stats.bytes),
                         bkp_size_text(b, sizeof(b), g->stats.bytes_new),
                         status};
    cli_row(row, gen_widths, 7);
}

int cmd_generations(cli *c)
{
    const bkp_repo *r = c->ro;
    bkp_gen **v = NULL;
    size_t n = 0;
    if (c->clear)
        return clear_mark(c);
    if (c->nargs)
        bkp_name_typed(c->args[0]); /* ｅｍｒ is emr */
    if (c->nargs && !bkp_dataset_name_ok(c->args[0])) {
        bkp_error(_("'%s' is not a data set name"), c->args[0]);
        return EXIT_USAGE;
    }
    int rc = bkp_gen_list(r, c->nargs ? c->args[0] : NULL, &v, &n);
    if (rc) {
        bkp_error(_("cannot list generations: %s"), bkp_strerror(rc));
        return EXIT_FAILED;
    }
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            if (v[i]->pruned && !v[i]->status)
                continue;
            json_t *o = v[i]->status ? json_pack("{s:s, s:i, s:s}", "dataset", v[i]->dataset, "seq",
                                                 (int)v[i]->seq, "status", "damaged")
                                     : json_loadb(v[i]->text, v[i]->ntext, 0, NULL);
            json_object_set_new(o, "status", json_string(v[i]->status ? "damaged" : "sealed"));
            json_object_set_new(
                o, "suspicious",
                json_boolean(!v[i]->status && bkp_gen_marked(v[i]) && !v[i]->cleared));
            json_object_set_new(o, "cleared", json_boolean(v[i]->cleared));
            json_array_append_new(arr, o);
        }
        cli_print_json(arr);
    } else {
        char finished[64];
        cli_time_head(finished, sizeof(finished), _("FINISHED"));
        const char *head[] = {_("GENERATION"), "UUID",   finished,   _("FILES"),
                              _("SIZE"),       _("NEW"), _("STATUS")};
        cli_row(head, gen_widths, 7);
        for (size_t i = 0; i < n; i++)
            if (!v[i]->pruned || v[i]->status) /* a deleted one's tombstone keeps the chain */
                gen_row(v[i]);
        if (!n && c->from && c->nargs)
            printf(_("(no generations of %s on %s)\n"), c->args[0], c->from);
        else if (!n && c->from)
            printf(_("(no generations on %s)\n"), c->from);
        else if (!n)
            printf(_("(no generations yet: `bkp backup --dataset NAME PATH...` makes one)\n"));
        else if (c->from && c->tty)
            printf(_("Restore one of them with `bkp restore GENERATION TARGET %s`; see its files "
                     "first with `bkp ls GENERATION %s`.\n"),
                   bkp_repo_shown(r), bkp_repo_shown(r));
    }
    bkp_gen_list_free(v, n);
    return EXIT_OK;
}
