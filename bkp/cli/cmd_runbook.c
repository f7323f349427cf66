/*
 * bkp runbook list | show NAME | print NAME [--format md|html] [--lang ja|en]
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

static int list(cli *c)
{
    pol_policy *p = cli_policy(c);
    json_t *arr = NULL;
    if (!p)
        return EXIT_USAGE;
    int rc = ops_runbook_list(p, &arr);
    int ex = !rc ? EXIT_OK : rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
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
    bkp_repo *h = NULL;
    if (repo && stat(repo, &st) == 0 && !c->ro && !cli_open_repo(c, BKP_REPO_READONLY, &h)) {
        cli_keep(h);
        c->ro = h;
    }
    json_t *copies = ops_runbook_copies(c->ro, rb);
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
        json_t *folders = ops_runbook_folders(c->policy);
        char fp[BKP_FINGERPRINT_LEN];
        if (c->ro)
            bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->ro), fp);
        char *text = rb_print(rb, copies, folders, c->ro ? bkp_repo_path(c->ro) : repo,
                              c->ro ? fp : NULL, (rb_format)f, cli_lang_ja(c), bkp_now());
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
