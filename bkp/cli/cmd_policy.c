/* bkp policy check: refuse a malformed policy before anything runs, and show
 * the one that will be applied, defaults included. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/i18n.h"
#include "bkp/log.h"

static void print_hook(const char *what, const pol_hook *h)
{
    if (!h->command)
        return;
    printf("    %s: %s (timeout %llds)", what, h->command, (long long)h->timeout);
    /* The names only: values such as PGPASSWORD stay in the policy file. */
    for (size_t k = 0; k < h->nenv; k++) {
        const char *eq = strchr(h->env[k], '=');
        printf("%s%.*s=" POL_REDACTED, k ? " " : "; env ",
               (int)(eq ? eq - h->env[k] : (ptrdiff_t)strlen(h->env[k])), h->env[k]);
    }
    printf("\n");
}

static void print_text(const pol_policy *p)
{
    char buf[64];
    printf("policy %s\n  repository: %s\n", p->file, p->repository);
    printf("  3-2-1 rule: %d copies, %d media types, %d off-line, %d off-site, off-line copy at "
           "most %lld days old\n",
           p->rule.copies, p->rule.media_types, p->rule.offline, p->rule.offsite,
           (long long)(p->rule.offline_max_age / 86400));
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_medium *m = &p->media[i];
        printf("  medium %-12s %-9s %-8s %-8s ", m->name, pol_medium_type_name(m->type),
               m->offsite ? "offsite" : "onsite", m->offline ? "off-line" : "on-line");
        if (m->type == POL_OBJECT)
            printf("%s bucket %s, locked %d days (%s)", m->object.endpoint, m->object.bucket,
                   m->object.lock_days, m->object.governance ? "governance" : "compliance");
        else
            printf("%s", m->path);
        if (m->rotate_every)
            printf(", rotated every %lld days", (long long)(m->rotate_every / 86400));
        printf("\n");
    }
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *d = &p->datasets[i];
        printf("  data set %s (priority %d)%s%s\n    schedule %s; paths:", d->name, d->priority,
               d->description ? ": " : "", d->description ? d->description : "",
               pol_schedule_text(&d->schedule, buf, sizeof(buf)));
        for (size_t k = 0; k < d->npaths; k++)
            printf(" %s", d->paths[k]);
        printf("\n");
        print_hook("before", &d->before);
        print_hook("after", &d->after);
        printf("    keep: last %d, daily %d, weekly %d, monthly %d, yearly %d; locked %d days\n",
               d->retention.keep_last, d->retention.keep_daily, d->retention.keep_weekly,
               d->retention.keep_monthly, d->retention.keep_yearly, d->retention.lock_days);
        if (d->ncopy_to) {
            printf("    copies to:");
            for (size_t k = 0; k < d->ncopy_to; k++)
                printf(" %s", d->copy_to[k]);
            printf("\n");
        }
    }
}

int cmd_policy(cli *c)
{
    if (strcmp(c->args[0], "check") != 0) {
        bkp_error(_("unknown policy command '%s'; use `bkp policy check [--policy FILE]`"),
                  c->args[0]);
        return EXIT_USAGE;
    }
    pol_policy *p = cli_policy(c);
    if (!p)
        return EXIT_USAGE;
    int warnings = pol_warn_compliance(p);
    if (c->json)
        cli_print_json(pol_to_json(p));
    else
        print_text(p);
    if (!c->json && c->tty)
        printf(_("%s: valid%s\n"), p->file,
               warnings ? _(", with the compliance warnings above") : "");
    return EXIT_OK;
}
