/*
 * bkp runbook list | show NAME | print NAME [--format md|html] [--lang ja|en]
 *
 * The recovery procedures the policy names, and the printable procedure
 * (手順書) for paper: who does what, how, with boxes to tick, where usable
 * copies are today, where the passphrase is kept.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/pubkey.h"
#include "bkp/trust.h"
#include "restore/report.h"
#include "restore/runbook.h"

bool cli_lang_ja(cli *c)
{
    if (c->lang)
        return !strcmp(c->lang, "ja");
    return cli_japanese();
}

int cli_format(cli *c, int *f)
{
    if (!c->format || !strcmp(c->format, "md") || !strcmp(c->format, "markdown")) {
        *f = RB_MARKDOWN;
        return EXIT_OK;
    }
    if (!strcmp(c->format, "html")) {
        *f = RB_HTML;
        return EXIT_OK;
    }
    bkp_error(_("--format %s: write md or html%s"), c->format, c->json ? "" : _(" (or --json)"));
    return EXIT_USAGE;
}

static int priority_of(const char *dataset, void *ctx)
{
    const pol_dataset *d = pol_dataset_find(ctx, dataset);
    return d ? d->priority : INT_MAX;
}

int cli_runbook_load(cli *c, const char *name, rb_runbook **out)
{
    pol_policy *p = c->policy; /* loaded by the dispatcher when named */
    char *file = rb_find(name, p ? p->file : NULL);
    if (!file)
        return EXIT_USAGE;
    /* Its `run` and `check` steps run as root: believed only when no one
     * else may change it (trust.h), and read through the path checked. */
    char *real = NULL;
    int rc = bkp_trust_file(file, 0, N_("runbook"), &real);
    if (rc == -EPERM) {
        free(file);
        return EXIT_USAGE;
    }
    rc = rb_load(real ? real : file, out);
    free(real);
    free(file);
    if (rc)
        return rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
    /* What care needs back first is restored first (the data sets' priority). */
    if (p && rb_order_by_priority(*out, priority_of, p))
        bkp_info(_("%s: its data sets are restored in the order of their priority in %s, not as "
                   "written"),
                 (*out)->file, p->file);
    return EXIT_OK;
}

json_t *cli_runbook_folders(const pol_policy *p)
{
    /* A data set of one folder is restored as its contents (procedure.h). */
    json_t *folders = json_object();
    for (size_t i = 0; p && i < p->ndatasets; i++)
        if (p->datasets[i].npaths == 1)
            json_object_set_new(folders, p->datasets[i].name, json_string(p->datasets[i].paths[0]));
    return folders;
}

/* Where usable copies of the runbook's data sets are, as the registry knows. */
json_t *cli_runbook_copies(cli *c, const rb_runbook *rb)
{
    json_t *out = json_array(), *reg = c->r ? bkp_media_list(c->r) : NULL, *e, *g;
    bkp_gen **v = NULL;
    size_t n = 0, i, k;
    char when[32];
    for (size_t d = 0; d < rb->ndatasets; d++) {
        const char *ds = rb->datasets[d];
        json_t *suspect = json_object(); /* uuids of marked, uncleared generations */
        if (c->r && !bkp_gen_list(c->r, ds, &v, &n)) {
            for (size_t x = 0; x < n; x++)
                if (!v[x]->pruned && !v[x]->status && bkp_gen_marked(v[x]) && !v[x]->cleared)
                    json_object_set_new(suspect, v[x]->uuid, json_true());
            for (size_t x = n; x-- > 0;)
                if (!v[x]->pruned && !v[x]->status && !(bkp_gen_marked(v[x]) && !v[x]->cleared)) {
                    char name[96];
                    cli_when(when, sizeof(when), v[x]->finished);
                    json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "medium",
                                                         "repository", "type", "disk", "location",
                                                         "onsite", "offline", 0, "generation",
                                                         bkp_gen_name(v[x], name, sizeof(name)),
                                                         "captured", when));
                    break;
                }
            bkp_gen_list_free(v, n);
            v = NULL;
            n = 0;
        }
        json_array_foreach(reg, i, e)
        {
            json_t *lab = json_object_get(e, "label"), *best = NULL;
            json_array_foreach(json_object_get(e, "held"), k, g)
            {
                const char *gd = json_string_value(json_object_get(g, "dataset"));
                const char *gu = json_string_value(json_object_get(g, "uuid"));
                if (gd && !strcmp(gd, ds) && !(gu && json_object_get(suspect, gu)) &&
                    (!best || json_integer_value(json_object_get(g, "seq")) >
                                  json_integer_value(json_object_get(best, "seq"))))
                    best = g;
            }
            if (!best)
                continue;
            char gen[128];
            time_t t = bkp_iso_parse(json_string_value(json_object_get(best, "finished")));
            snprintf(gen, sizeof(gen), "%s:%lld", ds,
                     (long long)json_integer_value(json_object_get(best, "seq")));
            cli_when(when, sizeof(when), t > 0 ? t : 0);
            const char *type = json_string_value(json_object_get(lab, "type"));
            json_array_append_new(
                out, json_pack("{s:O, s:O, s:O, s:b, s:s, s:s}", "medium",
                               json_object_get(lab, "name"), "type", json_object_get(lab, "type"),
                               "location", json_object_get(lab, "location"), "offline",
                               type && strcmp(type, "disk"), "generation", gen, "captured", when));
        }
        json_decref(suspect);
    }
    json_decref(reg);
    return out;
}

static int list(cli *c)
{
    pol_policy *p = cli_policy(c);
    json_t *arr = json_array();
    if (!p)
        return EXIT_USAGE;
    int ex = EXIT_OK;
    for (size_t i = 0; i < p->ndatasets; i++) {
        const char *name = p->datasets[i].runbook;
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup |= p->datasets[k].runbook && name && !strcmp(p->datasets[k].runbook, name);
        if (!name || dup)
            continue;
        rb_runbook *rb = NULL;
        int e = cli_runbook_load(c, name, &rb);
        if (e)
            ex = e;
        json_t *ds = json_array();
        for (size_t k = 0; rb && k < rb->ndatasets; k++)
            json_array_append_new(ds, json_string(rb->datasets[k]));
        json_array_append_new(
            arr, json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:o, s:b}", "name", name, "title",
                           rb ? rb->title : NULL, "file", rb ? rb->file : NULL, "rto_seconds",
                           (json_int_t)(rb ? rb->rto : 0), "steps",
                           (json_int_t)(rb ? rb->nsteps : 0), "datasets", ds, "valid", rb != NULL));
        rb_free(rb);
    }
    if (c->json) {
        cli_print_json(arr);
        return ex;
    }
    size_t i;
    json_t *r;
    printf("%-16s %-6s %-8s %s\n", "RUNBOOK", "STEPS", "RTO", "TITLE");
    json_array_foreach(arr, i, r)
    {
        char rto[32];
        json_int_t s = json_integer_value(json_object_get(r, "rto_seconds"));
        printf("%-16s %-6lld %-8s %s\n", json_string_value(json_object_get(r, "name")),
               (long long)json_integer_value(json_object_get(r, "steps")),
               s ? rb_duration_text(rto, sizeof(rto), (double)s) : "-",
               json_is_true(json_object_get(r, "valid"))
                   ? json_string_value(json_object_get(r, "title"))
                   : _("(invalid: see above)"));
    }
    json_decref(arr);
    return ex;
}

int cmd_runbook(cli *c)
{
    const char *verb = c->args[0];
    rb_runbook *rb = NULL;
    int f;
    int ex;
    if (!strcmp(verb, "list") && c->nargs == 1)
        return list(c);
    if ((strcmp(verb, "show") && strcmp(verb, "print")) || c->nargs != 2) {
        bkp_error(_(
            "usage: bkp runbook list | show NAME | print NAME [--format md|html] [--lang ja|en]"));
        return EXIT_USAGE;
    }
    if ((ex = cli_format(c, &f)) || (ex = cli_runbook_load(c, c->args[1], &rb)))
        return ex;
    /* The registry is in the repository; a procedure prints without it too. */
    struct stat st;
    const char *repo =
        c->repo || cli_policy_named(c) || getenv("BKP_REPO") ? cli_repo_path(c) : NULL;
    if (repo && stat(repo, &st) == 0 && !c->r)
        (void)cli_open_repo(c, BKP_REPO_READONLY, &c->r);
    json_t *copies = cli_runbook_copies(c, rb);
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
                                 rb->passphrase_note, "steps", steps, "copies", copies));
        copies = NULL;
    } else {
        json_t *folders = cli_runbook_folders(c->policy);
        char fp[BKP_FINGERPRINT_LEN];
        if (c->r)
            bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->r), fp);
        char *text = rb_print(rb, copies, folders, c->r ? bkp_repo_path(c->r) : repo,
                              c->r ? fp : NULL, (rb_format)f, cli_lang_ja(c), bkp_now());
        json_decref(folders);
        if (text)
            fputs(text, stdout);
        free(text);
        ex = text ? EXIT_OK : EXIT_FAILED;
    }
    json_decref(copies);
    rb_free(rb);
    return ex;
}
