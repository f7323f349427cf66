/*
 * The media of the policy and of the registry, seen from the command line:
 * finding one by name, checking the label of the disk that is plugged in,
 * and when each is due (bkp/ops/medium_check.h; policies/compliance.c decides).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/medium_check.h"
#include "policies/compliance.h"

/* The policy, when one was named or the default exists; quietly NULL else. */
static pol_policy *maybe_policy(cli *c)
{
    if (cli_policy_named(c))
        return cli_policy(c);
    FILE *f = fopen(POL_DEFAULT_FILE, "r");
    if (!f)
        return NULL;
    fclose(f);
    return cli_policy(c);
}

int cli_medium_find(cli *c, const char *name, cli_medium *m)
{
    pol_policy *p = maybe_policy(c);
    memset(m, 0, sizeof(*m));
    m->name = name;
    m->pm = p ? pol_medium_find(p, name) : NULL;
    m->entry = c->ro ? bkp_media_get(c->ro, name) : NULL;
    if (m->pm) {
        m->type = pol_medium_type_name(m->pm->type);
        m->kind = m->pm->type;
        m->location = m->pm->offsite ? "offsite" : "onsite";
        m->offline = m->pm->offline;
        m->path = m->pm->path;
    } else if (m->entry) {
        m->type = m->entry->label.type;
        m->location = m->entry->label.location;
        m->path = m->entry->path;
        /* The registry's label is valid (bkp_media_get): its type parses. */
        if (pol_medium_type_named(m->type, &m->kind))
            m->type = NULL;
        m->offline = pol_type_offline(m->kind);
    } else {
        /* Reading a copy from it (restore --from, verify --media, drill
         * --medium): maybe the bad day, on a new machine. */
        char names[512];
        bool reading = p && (c->from || c->media || c->medium) && !c->writer;
        if (reading && c->from && *pol_media_names(p, names, sizeof(names)))
            bkp_error(_("no medium is named %s in the policy %s, which names %s; give one of "
                        "those as the policy writes it, or the folder where a backup disk is "
                        "mounted (`bkp media list` shows the media the repository knows too)"),
                      name, p->file, names);
        else if (reading && *pol_media_names(p, names, sizeof(names)))
            bkp_error(_("no medium is named %s in the policy %s, which names %s; give one of "
                        "those as the policy writes it (`bkp media list` shows the media the "
                        "repository knows too)"),
                      name, p->file, names);
        else if (reading)
            bkp_error(_("no medium is named %s in the policy %s; see `bkp media list`. On a new "
                        "machine, write the policy the printed procedure gives (\"If this server "
                        "and its policy are gone\") and name it with --policy FILE"),
                      name, p->file);
        else if (p && *pol_media_names(p, names, sizeof(names)))
            bkp_error(_("no medium is named %s in the policy %s, which names %s: check the "
                        "spelling; a new medium is added to the policy's media: first, and its "
                        "disk labelled with `bkp media label PATH --name NAME`"),
                      name, p->file, names);
        else if (p)
            bkp_error(_("no medium is named %s in the policy %s; see `bkp media list`, or label a "
                        "disk with `bkp media label PATH --name %s`"),
                      name, p->file, name);
        else
            bkp_error(_("no medium is named %s; see `bkp media list`, or label a disk with `bkp "
                        "media label PATH --name %s`"),
                      name, name);
        return EXIT_USAGE;
    }
    if (!m->type || (!m->path && pol_type_at_path(m->kind))) {
        bkp_error(_("the registry entry of %s is incomplete; label the medium again"), name);
        cli_medium_clear(m); /* nothing held on failure */
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

void cli_medium_clear(cli_medium *m)
{
    bkp_media_free(m->entry);
    memset(m, 0, sizeof(*m));
}

char *cli_medium_repo(const cli_medium *m)
{
    return bkp_path_join(m->path, "repo");
}

pol_medium_state *cli_media_states(cli *c, pol_policy *p)
{
    return ops_media_states(c->ro, p);
}

time_t cli_medium_due(cli *c, const char *name)
{
    return ops_medium_due(c->ro, maybe_policy(c), name);
}

const char *cli_medium_most_due(cli *c, time_t *when)
{
    return ops_medium_most_due(c->ro, maybe_policy(c), when);
}

int cli_medium_check_label(cli *c, const cli_medium *m)
{
    return ops_label_check(c->ro, maybe_policy(c), m->name, m->path, m->entry) ? EXIT_FAILED
                                                                               : EXIT_OK;
}
