/*
 * bkp prune — apply each data set's retention (bkp/ops/prune_medium.h says
 * what is never deleted); here: the lock, the open, and what is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/ops/prune_medium.h"
#include "bkp/io/text.h"

/* The plan: a table for people, or the JSON document of `bkp prune --json`. */
static void print_plan(cli *c, const ops_prune_out *o, bool quiet)
{
    json_t *plan = c->json && !quiet ? json_array() : NULL;
    for (size_t i = 0; i < o->nrows; i++) {
        const ops_prune_row *row = &o->rows[i];
        char reasons[160];
        if (plan)
            json_array_append_new(plan, json_pack("{s:s, s:i, s:b, s:s}", "dataset", row->dataset,
                                                  "seq", (int)row->seq, "keep", row->keep != 0,
                                                  "why",
                                                  ops_prune_why(row->keep, false, reasons,
                                                                sizeof(reasons))));
        else if ((c->tty || c->dry_run) && !quiet)
            cli_row((const char *[]){row->name, row->keep ? _("keep") : _("delete"),
                                     row->keep ? ops_prune_why(row->keep, true, reasons,
                                                               sizeof(reasons))
                                               : ""},
                    (const int[]){24, 7, 0}, 3);
    }
    const bkp_prune_result *res = &o->res;
    if (!plan)
        return;
    json_t *doc = json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I}", "dry_run", c->dry_run, "plan",
                            plan, "generations_deleted", (json_int_t)res->generations,
                            "packs_deleted", (json_int_t)res->packs, "packs_repacked",
                            (json_int_t)res->packs_repacked, "bytes_freed", (json_int_t)res->bytes,
                            "packs_kept", (json_int_t)res->packs_kept);
    if (c->recompress)
        json_object_update_new(doc, json_pack("{s:I, s:I, s:I}", "packs_recompressed",
                                              (json_int_t)res->packs_recompressed,
                                              "bytes_recompressed",
                                              (json_int_t)res->bytes_recompressed, "packs_lz4_left",
                                              (json_int_t)res->packs_lz4_left));
    cli_print_json(doc);
}

/* What --recompress did or would do, and what it left for the next prune. */
static void cli_prune_print_recompress(const cli *c, const bkp_prune_result *res)
{
    char sz[32];
    bkp_size_text(sz, sizeof(sz), res->bytes_recompressed);
    if (res->packs_recompressed)
        printf(c->dry_run ? _("would recompress %llu pack(s) that hold LZ4 data (%s in use)\n")
                          : _("recompressed %llu pack(s) that held LZ4 data (%s in use)\n"),
               (unsigned long long)res->packs_recompressed, sz);
    else if (!res->packs_lz4_left)
        printf(_("no pack holds LZ4 data: nothing to recompress\n"));
    if (res->packs_lz4_left)
        printf(_("%llu more pack(s) hold LZ4 data, more than half the free space would hold at "
                 "once: run `bkp prune --recompress` again after this one, or free space\n"),
               (unsigned long long)res->packs_lz4_left);
}

void cli_prune_print(cli *c, const ops_prune_out *o, int rc, const char *medium)
{
    /* Inside another command's --json (run, rotate), nothing is printed here:
     * one JSON document per command; what this prune did is in the audit log. */
    bool quiet = c->json && strcmp(c->command ? c->command : "", "prune") != 0;
    const bkp_prune_result *res = &o->res;
    if (!o->planned)
        return;
    /* Which repository the table is of: a rotation prunes the medium's copy. */
    if (!c->json && (c->tty || c->dry_run) && !quiet && o->nrows && medium)
        printf(_("Retention on %s (its copy; the server's repository is not touched):\n"), medium);
    else if (!c->json && (c->tty || c->dry_run) && !quiet && o->nrows)
        printf("%s\n", _("Retention on the server's repository:"));
    print_plan(c, o, quiet);
    if (!c->json && !rc && (c->tty || c->dry_run) && !quiet) {
        char sz[32];
        printf(c->dry_run ? _("would delete %llu generation(s) and %llu pack(s), would repack %llu "
                              "mostly empty one(s) (%s freed); %llu pack(s) kept, %llu of them "
                              "partly used\n")
                          : _("deleted %llu generation(s) and %llu pack(s), repacked %llu mostly "
                              "empty one(s) (%s freed); %llu pack(s) kept, %llu of them partly "
                              "used\n"),
               (unsigned long long)res->generations, (unsigned long long)res->packs,
               (unsigned long long)res->packs_repacked, bkp_size_text(sz, sizeof(sz), res->bytes),
               (unsigned long long)res->packs_kept, (unsigned long long)res->packs_partly_used);
    }
    if (!c->json && !rc && c->recompress && (c->tty || c->dry_run) && !quiet)
        cli_prune_print_recompress(c, res);
}

int cli_prune(cli *c, const bkp_lock *self)
{
    const char *repo = cli_repo_path(c);
    bkp_lock *lock = NULL;
    int ex, rc;
    if (!repo)
        return EXIT_USAGE;
    if (c->lock != CLI_LOCK_PRUNE && c->lock != CLI_LOCK_CYCLE) { /* commands[] says who prunes */
        bkp_error("bkp %s prunes without declaring it in commands[]", c->command ? c->command : "?");
        return EXIT_FAILED;
    }
    if (!c->dry_run && (rc = bkp_lock_prune_after(repo, "bkp prune", self, &lock)))
        return rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
    if (cli_policy_named(c) && !c->policy) {
        bkp_lock_release(lock);
        return EXIT_USAGE; /* a policy was named and is malformed: never guess "keep all" */
    }
    /* A writer that prunes after its writes has the repository open already. */
    if (!c->r) {
        bkp_repo *h = NULL;
        if ((ex = cli_open_repo(c, c->dry_run ? BKP_REPO_READONLY : 0, &h))) {
            bkp_lock_release(lock);
            return ex;
        }
        cli_keep(h);
        c->ro = c->r = h; /* a prune writes (a dry run changes nothing) */
    }
    ops_prune_in in = {.target = c->r,
                       .log = c->r,
                       .policy = c->policy,
                       .dry_run = c->dry_run,
                       .recompress = c->recompress,
                       .changes_only = c->lock == CLI_LOCK_CYCLE}; /* bkp run's, at every run */
    ops_prune_out o;
    rc = ops_prune_apply(&in, &o);
    cli_prune_print(c, &o, rc, NULL);
    ops_prune_out_clear(&o);
    bkp_lock_release(lock);
    return rc ? EXIT_FAILED : EXIT_OK;
}

int cmd_prune(cli *c)
{
    return cli_prune(c, NULL);
}
