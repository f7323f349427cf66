/*
 * bkp rotate MEDIUM for an archive medium (tape, optical, a write-once
 * folder): the work is bkp/ops/rotate_archive.h's — each generation due
 * there as one tar stream DATASET@SEQ.tar, read back and verified before it
 * is named, never rewritten; here, what is said.
 */
#include <stdio.h>
#include <string.h>

#include "bkp/clock.h"
#include "bkp/cli/cli.h"
#include "bkp/i18n.h"
#include "bkp/ops/rotate_archive.h"

/* Tell the operator what was written and what to do with the medium now. */
static void advise(cli *c, const cli_medium *m, const ops_archive_out *o)
{
    char sz[32], when[32];
    size_t n = json_array_size(o->written);
    time_t due = cli_medium_due(c, m->name);
    if (c->json) {
        cli_print_json(json_pack("{s:s, s:O, s:I}", "medium", m->name, "generations", o->written,
                                 "bytes", (json_int_t)o->bytes));
        return;
    }
    printf(_("%s: %zu archive(s) written (%s)%s"), m->name, n, cli_size(sz, sizeof(sz), o->bytes),
           o->device ? _(", not read back (a device)") : _(", each read back and verified"));
    printf("%s%s", n ? "" : _("; everything due was there already"), C_("end of sentence", ".\n"));
    if (m->offline)
        printf(_("You can take %s away now; it is kept %s.\n"), m->name,
               strcmp(m->location, "offsite") ? _("on-site, off-line") : _("off-site"));
    if (due)
        printf(_("%s is next due on %s.\n"), m->name,
               bkp_local_time(when, sizeof(when), due, "-"));
}

int cli_rotate_archive(cli *c, cli_medium *m, bool quiet)
{
    cli_kit_ctx k = {c, m};
    ops_archive_in in = {.primary = c->r,
                         .policy = c->policy,
                         .medium = m->name,
                         .path = m->path,
                         .entry = m->entry,
                         .workers = c->workers,
                         .kit = {cli_kit_make, cli_kit_docs_free, &k}};
    ops_archive_out o;
    (void)ops_rotate_archive(&in, &o);
    int ex = o.rc ? EXIT_FAILED : EXIT_OK;
    if (o.kit_written)
        json_decref(cli_kit_said(m, &o.kit));
    if (ex == EXIT_OK)
        cli_medium_procedures(c, m);
    if (ex == EXIT_OK && !quiet)
        advise(c, m, &o);
    ops_archive_out_clear(&o);
    return ex;
}
