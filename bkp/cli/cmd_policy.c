/* bkp policy check: refuse a malformed policy before anything runs, and show
 * the one that will be applied, defaults included.
 * bkp policy print --regulation: the backup section of the operations rules
 * (bkp/report/annex.h), from the policy and what the audit log recorded. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/ops/annex.h"
#include "bkp/ops/medium_check.h"
#include "bkp/ops/runbook_load.h"
#include "bkp/io/clock.h"
#include "policies/duration.h"
#include "policies/retention.h"
#include "bkp/io/i18n.h"
#include "bkp/host/remote.h"
#include "bkp/io/log.h"
#include "bkp/report/annex.h"
#include "restore/runbook.h"

/* What a command line of print_text ends with: its environment and its user. */
static void print_command_tail(const pol_hook *h)
{
    /* The names only: values such as PGPASSWORD stay in the policy file. */
    for (size_t k = 0; k < h->nenv; k++) {
        const char *eq = strchr(h->env[k], '=');
        printf("%s%.*s=" POL_REDACTED, k ? " " : _("; env "),
               (int)(eq ? eq - h->env[k] : (ptrdiff_t)strlen(h->env[k])), h->env[k]);
    }
    if (h->run_as)
        printf(_("; as user %s"), h->run_as);
    printf("\n");
}

/* The retention rules a data set has (a rule of 0 is none: "last 0"
 * would read as "keep nothing"). */
static void print_keep(const pol_retention *r)
{
    const struct {
        const char *word;
        int n;
    } k[] = {{N_("last"), r->keep_last},       {N_("hourly"), r->keep_hourly},
             {N_("daily"), r->keep_daily},     {N_("weekly"), r->keep_weekly},
             {N_("monthly"), r->keep_monthly}, {N_("yearly"), r->keep_yearly}};
    char text[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof(k) / sizeof(*k); i++) {
        if (k[i].n <= 0 || len >= sizeof(text))
            continue;
        if (len)
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", _(", "));
        if (len < sizeof(text))
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %d", _(k[i].word), k[i].n);
    }
    if (!len)
        printf(_("    keep: every generation (no retention rule); locked %d days\n"), r->lock_days);
    else
        printf(_("    keep: %s; locked %d days\n"), text, r->lock_days);
}

static void print_hook(const char *what, const pol_hook *h)
{
    if (!h->command)
        return;
    char t[32];
    printf(_("    %s: %s (timeout %s)"), what, h->command,
           pol_duration_text(t, sizeof(t), h->timeout));
    print_command_tail(h);
}

static void print_text(const pol_policy *p)
{
    char buf[64];
    printf(_("policy %s\n  repository: %s\n"), p->file, p->repository);
    if (p->facility)
        printf(_("  facility: %s\n"), p->facility);
    printf(_("  language of what is written for people: %s\n"),
           p->language ? p->language : _("the locale's"));
    printf(_("  3-2-1 rule: %d copies, %d media types, %d off-line, %d off-site, off-line copy "
             "at most %lld days old\n"),
           p->rule.copies, p->rule.media_types, p->rule.offline, p->rule.offsite,
           (long long)(p->rule.offline_max_age / 86400));
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        printf(_("  medium %-12s %s, %s, %s, "), m->name, pol_medium_type_words(m->type),
               m->offsite ? _("off-site") : _("on-site"),
               m->offline ? _("off-line") : _("on-line"));
        if (pol_medium_bucket(m))
            printf(_("%s bucket %s, locked %d days (%s)"), m->object.endpoint, m->object.bucket,
                   m->object.lock_days, m->object.governance ? "governance" : "compliance");
        else
            printf("%s", m->path);
        if (m->rotate_every)
            printf(_(", rotated every %lld days"), (long long)(m->rotate_every / 86400));
        if (m->kept_at)
            printf(_(", kept at %s"), m->kept_at);
        printf("\n");
    }
    for (size_t i = 0; i < p->nhosts; i++) {
        const pol_host *h = &p->hosts[i];
        char fp[80] = "?";
        bkp_remote_fingerprint(h->host_key, fp, sizeof(fp));
        printf(_("  host %s: %s@%s port %d, host key %s, our key %s\n"), h->name, h->user,
               h->address, h->port, fp, h->identity);
    }
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        printf(_("  data set %s (priority %d)%s%s\n"), d->name, d->priority,
               d->description ? ": " : "", d->description ? d->description : "");
        if (d->stream.command.command) {
            char t[32];
            printf(_("    schedule %s; stream: `%s`, stored as %s (timeout %s)"),
                   pol_schedule_words(&d->schedule, buf, sizeof(buf)), d->stream.command.command,
                   d->stream.name, pol_duration_text(t, sizeof(t), d->stream.command.timeout));
            print_command_tail(&d->stream.command);
            if (d->host)
                printf(_("    from host %s: the command of that name in its agent's file\n"),
                       d->host);
        } else {
            printf(_("    schedule %s; paths:"),
                   pol_schedule_words(&d->schedule, buf, sizeof(buf)));
            for (size_t k = 0; k < d->npaths; k++)
                printf(" %s", d->paths[k]);
            printf("\n");
            if (d->host)
                printf(_("    on host %s: read there by its agent, not on this server\n"), d->host);
        }
        print_hook(_("before"), &d->before);
        print_hook(_("after"), &d->after);
        print_keep(&d->retention);
        if (d->ncopy_to) {
            printf("%s", _("    copies to:"));
            for (size_t k = 0; k < d->ncopy_to; k++)
                printf(" %s", d->copy_to[k]);
            printf("\n");
        }
        /* What a bucket's lock costs is said before the first upload: a
         * yearly rule locks each generation for years, irrevocably. */
        for (size_t k = 0; k < d->ncopy_to; k++) {
            const pol_medium *m = pol_medium_find(p, d->copy_to[k]);
            if (m && pol_medium_bucket(m) && m->object.governance)
                printf(_("    in bucket %s (%s): each generation stays locked %lld days from its "
                         "backup, as long as the rules keep it, in GOVERNANCE mode: a credential "
                         "allowed to bypass it can delete it before; the provider bills it until "
                         "then\n"),
                       m->object.bucket, m->name, (long long)(pol_object_lock_span(d, m) / 86400));
            else if (m && pol_medium_bucket(m))
                printf(_("    in bucket %s (%s): each generation stays locked %lld days from its "
                         "backup, as long as the rules keep it; it cannot be deleted before, and "
                         "the provider bills it until then\n"),
                       m->object.bucket, m->name, (long long)(pol_object_lock_span(d, m) / 86400));
        }
        if (d->runbook)
            printf(_("    runbook: %s\n"), d->runbook);
    }
    for (size_t i = 0; i < p->ndrills; i++)
        printf(_("  drill %s, %s (unattended)\n"), p->drills[i].runbook,
               pol_schedule_words(&p->drills[i].schedule, buf, sizeof(buf)));
    printf(_("  re-read of every pack within %lld days; key-recovery drill every %lld days\n"),
           (long long)(p->reread_every / 86400), (long long)(p->key_drill_every / 86400));
    const pol_notify *nt = &p->notify;
    if (nt->command.command || nt->mail_to)
        printf(_("  notify:%s%s%s%s; reminder every %lld hours\n"),
               nt->command.command ? _(" command ") : "",
               nt->command.command ? nt->command.command : "", nt->mail_to ? _(" mail to ") : "",
               nt->mail_to ? nt->mail_to : "", (long long)(nt->remind_every / 3600));
    else
        printf("%s", _("  notify: none (alerts only in the run's output and syslog)\n"));
    printf(_("  status page: %s\n"), p->status_page ? p->status_page : _("none"));
    printf(_("  metrics: %s\n"), p->metrics ? p->metrics : _("none"));
}

/* ---- the regulation annex ---- */

static int load_runbook(void *ctx, const char *name, rb_runbook **out)
{
    return cli_runbook_load(ctx, name, out) != EXIT_OK;
}

static int print_regulation(cli *c)
{
    int f = 0, ex = cli_format(c, &f);
    if (ex)
        return ex;
    pol_policy *p = cli_policy(c);
    if (!p)
        return EXIT_USAGE;
    rst_annex_facts facts;
    if (ops_annex_facts(p, load_runbook, c, &facts))
        return EXIT_FAILED;
    char *text = rst_annex_render(p, &facts, (rb_format)f, cli_lang_ja(c));
    rst_annex_facts_clear(&facts);
    if (!text)
        return EXIT_FAILED;
    fputs(text, stdout);
    free(text);
    return EXIT_OK;
}

/* Each runbook a data set or a drill names can be found, is trusted and
 * reads; each that cannot is told as file:line (the error above it says why
 * and where it was looked for). */
static bool runbooks_usable(cli *c, const pol_policy *p)
{
    bool ok = true;
    for (size_t i = 0; i < p->ndatasets + p->ndrills; i++) {
        const pol_dataset *d = i < p->ndatasets ? &p->datasets[i] : NULL;
        const char *name = d ? d->runbook : p->drills[i - p->ndatasets].runbook;
        rb_runbook *rb = NULL;
        if (!name || (cli_runbook_load(c, name, &rb) == EXIT_OK &&
                      !ops_runbook_fits(p, rb, d ? d->name : NULL))) {
            rb_free(rb);
            continue;
        }
        rb_free(rb);
        ok = false;
        if (d)
            bkp_error(_("%s:%d: data set %s names the runbook '%s', which cannot be used (above); "
                        "write the runbook, or correct 'runbook:'"),
                      p->file, d->line, d->name, name);
        else
            bkp_error(_("%s: a drill names the runbook '%s', which cannot be used (above); write "
                        "the runbook, or correct the drill's 'runbook:'"),
                      p->file, name);
    }
    return ok;
}

int cmd_policy(cli *c)
{
    if (!strcmp(c->args[0], "print") && c->regulation)
        return print_regulation(c);
    if (!strcmp(c->args[0], "print")) {
        bkp_error("%s", _("policy print: say what to print: `bkp policy print --regulation` "
                          "(the backup section of the operations rules)"));
        return EXIT_USAGE;
    }
    if (!strcmp(c->args[0], "check") && c->regulation) {
        bkp_error("%s", _("--regulation goes with `bkp policy print`, not `bkp policy check`"));
        return EXIT_USAGE;
    }
    if (strcmp(c->args[0], "check") != 0) {
        bkp_error(_("unknown policy command '%s'; use `bkp policy check [--policy FILE]` or `bkp "
                    "policy print --regulation [--format md|html] [--lang ja|en]`"),
                  c->args[0]);
        return EXIT_USAGE;
    }
    pol_policy *p = cli_policy(c);
    if (!p)
        return EXIT_USAGE;
    if (!runbooks_usable(c, p))
        return EXIT_USAGE;
    int warnings = pol_warn_compliance(p);
    for (size_t i = 0; i < p->nmedia; i++)
        if (ops_medium_on_repo_disk(p, &p->media[i])) {
            bkp_warn(_("%s:%d: medium %s is called off-line, but its folder %s, with its label, is "
                       "on the same disk as the repository %s: there it is not off-line, and "
                       "ransomware that reaches the repository reaches it. Mount a removable disk "
                       "there, or take it away after each rotation (checklist item 3-②)"),
                     p->file, p->media[i].line, p->media[i].name, p->media[i].path, p->repository);
            warnings++;
        }
    if (c->json)
        cli_print_json(pol_to_json(p));
    else
        print_text(p);
    if (!c->json && c->tty)
        printf(_("%s: valid%s\n"), p->file,
               warnings ? _(", with the compliance warnings above") : "");
    return EXIT_OK;
}
