/*
 * bkp runbook list | show NAME | print NAME [--format md|html] [--lang ja|en] [-o FILE]
 *
 * The recovery procedures the policy names, and the printable procedure
 * (手順書) for paper: who does what, how, with boxes to tick, where usable
 * copies are today, where the passphrase is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/runbook_load.h"
#include "bkp/keys/pubkey.h"
#include "restore/runbook_doc.h"
#include "restore/runbook.h"

/* `runbook list --json`: [{name, title, file, rto_seconds, steps,
 * datasets, valid}]; an invalid one has only its name. */
static json_t *list_json(const ops_runbook_named *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const rb_runbook *rb = v[i].rb;
        json_t *ds = json_array();
        for (size_t k = 0; rb && k < rb->ndatasets; k++)
            json_array_append_new(ds, json_string(rb->datasets[k]));
        json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:o, s:b}", "name",
                                             v[i].name, "title", rb ? rb->title : NULL, "file",
                                             rb ? rb->file : NULL, "rto_seconds",
                                             (json_int_t)(rb ? rb->rto : 0), "steps",
                                             (json_int_t)(rb ? rb->nsteps : 0), "datasets", ds,
                                             "valid", rb != NULL));
    }
    return arr;
}

static int list(cli *c)
{
    pol_policy *p = cli_policy(c);
    ops_runbook_named *v = NULL;
    size_t n = 0;
    if (!p)
        return EXIT_USAGE;
    int rc = ops_runbook_list(p, &v, &n);
    int ex = !rc ? EXIT_OK : rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
    if (c->json) {
        cli_print_json(list_json(v, n));
    } else {
        printf("%-16s %-6s %-8s %s\n", "RUNBOOK", "STEPS", "RTO", "TITLE");
        for (size_t i = 0; i < n; i++) {
            const rb_runbook *rb = v[i].rb;
            char rto[32];
            printf("%-16s %-6zu %-8s %s\n", v[i].name, rb ? rb->nsteps : 0,
                   rb && rb->rto ? rb_duration_text(rto, sizeof(rto), (double)rb->rto) : "-",
                   rb ? rb->title : _("(invalid: see above)"));
        }
    }
    ops_runbook_list_free(v, n);
    return ex;
}

/* Where usable copies are, as `runbook show --json` lists them. */
static json_t *copies_json(const rb_copies *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n; i++) {
        const rb_copy *x = &c->v[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "medium", x->medium, "type",
                              x->type, "location", x->location, "offline", x->offline,
                              "generation", x->generation, "captured", x->captured);
        if (o && x->kit[0])
            json_object_set_new(o, "kit", json_string(x->kit));
        if (o && x->path) {
            json_object_set_new(o, "path", json_string(x->path));
            json_object_set_new(o, "archive", json_boolean(x->archive));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

int cmd_runbook(cli *c)
{
    const char *verb = c->args[0];
    rb_runbook *rb = NULL;
    int f;
    int ex;
    if (c->output && strcmp(verb, "print")) {
        bkp_error(_("-o is for `bkp runbook print NAME -o FILE` (the procedure to a file)"));
        return EXIT_USAGE;
    }
    if (!strcmp(verb, "list") && c->nargs == 1)
        return list(c);
    if ((strcmp(verb, "show") && strcmp(verb, "print")) || c->nargs != 2) {
        bkp_error(_("usage: bkp runbook list | show NAME | print NAME [--format md|html] [--lang "
                    "ja|en] [-o FILE]"));
        return EXIT_USAGE;
    }
    if ((ex = cli_format(c, &f)) || (ex = cli_runbook_load(c, c->args[1], &rb)))
        return ex;
    /* What makes the status say it cannot be used for a data set, said. */
    char stem[256], named[256];
    rb_runbook_stem(c->args[1], stem, sizeof(stem));
    for (size_t i = 0; c->policy && i < c->policy->ndatasets; i++) {
        const pol_dataset *d = &c->policy->datasets[i];
        if (d->runbook &&
            (rb_runbook_stem(d->runbook, named, sizeof(named)), !strcmp(named, stem)) &&
            ops_runbook_fits(c->policy, rb, d->name))
            ex = EXIT_USAGE;
    }
    if (ex) {
        rb_free(rb);
        return ex;
    }
    /* The registry is in the repository; a procedure prints without it too. */
    struct stat st;
    const char *repo =
        c->repo || cli_policy_named(c) || getenv("BKP_REPO") ? cli_repo_path(c) : NULL;
    bkp_repo *h = NULL;
    if (repo && stat(repo, &st) == 0 && !c->ro && !cli_open_repo(c, BKP_REPO_READONLY, &h)) {
        cli_keep(h);
        c->ro = h;
    }
    rb_copies copies = {0};
    if (ops_runbook_copies(c->ro, c->policy, rb, &copies)) {
        bkp_warn(_("where the copies are could not be read; the procedure lists none"));
        rb_copies_free(&copies);
    }
    if (!strcmp(verb, "show") && c->json) {
        json_t *steps = json_array();
        for (size_t i = 0; i < rb->nsteps; i++)
            json_array_append_new(
                steps, json_pack("{s:s, s:s?, s:s, s:s?, s:i}", "who", rb->steps[i].who, "what",
                                 rb->steps[i].what, "action", rb_action_name(rb->steps[i].action),
                                 "text", rb->steps[i].text, "line", rb->steps[i].line));
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:I, s:s?, s:o, s:o}", "name", rb->name,
                                 "file", rb->file, "title", rb->title, "owner", rb->owner,
                                 "rto_seconds", (json_int_t)rb->rto, "passphrase_note",
                                 rb->passphrase_note, "steps", steps, "copies",
                                 copies_json(&copies)));
    } else {
        rb_folders folders = {0};
        char fp[BKP_FINGERPRINT_LEN];
        if (c->ro)
            bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->ro), fp);
        char *text = ops_runbook_folders(c->policy, &folders)
                         ? NULL
                         : rb_print(rb, &copies, &folders, c->ro ? bkp_repo_path(c->ro) : repo,
                                    c->ro ? fp : NULL, (rb_format)f, cli_lang_ja(c), bkp_now());
        rb_folders_clear(&folders);
        ex = text ? cli_put_page(c, text, _("recovery procedure")) : EXIT_FAILED;
        free(text);
    }
    rb_copies_free(&copies);
    rb_free(rb);
    return ex;
}
