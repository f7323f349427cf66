/*
 * The media of the policy and of the registry, seen from the command line:
 * finding one by name, checking the label of the disk that is plugged in,
 * and when each is due (policies/compliance.c decides).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/pubkey.h"
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
    m->entry = c->r ? bkp_media_get(c->r, name) : NULL;
    json_t *label = json_object_get(m->entry, "label");
    if (m->pm) {
        m->type = pol_medium_type_name(m->pm->type);
        m->location = m->pm->offsite ? "offsite" : "onsite";
        m->offline = m->pm->offline;
        m->path = m->pm->path;
    } else if (m->entry) {
        m->type = json_string_value(json_object_get(label, "type"));
        m->location = json_string_value(json_object_get(label, "location"));
        m->offline = strcmp(m->type ? m->type : "disk", "disk") != 0;
        m->path = json_string_value(json_object_get(m->entry, "path"));
    } else {
        if (p)
            bkp_error(_("no medium is named %s in the policy %s; see `bkp media list`, or label a "
                        "disk with `bkp media label PATH --name %s`"),
                      name, p->file, name);
        else
            bkp_error(_("no medium is named %s; see `bkp media list`, or label a disk with `bkp "
                        "media label PATH --name %s`"),
                      name, name);
        return EXIT_USAGE;
    }
    if ((!m->path && !(m->type && !strcmp(m->type, "object"))) || !m->type) {
        bkp_error(_("the registry entry of %s is incomplete; label the medium again"), name);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

void cli_medium_clear(cli_medium *m)
{
    json_decref(m->entry);
    memset(m, 0, sizeof(*m));
}

char *cli_medium_repo(const cli_medium *m)
{
    return bkp_path_join(m->path, "repo");
}

pol_medium_state *cli_media_states(cli *c, pol_policy *p)
{
    pol_medium_state *st = calloc(p->nmedia + 1, sizeof(*st));
    for (size_t i = 0; st && i < p->nmedia; i++) {
        json_t *e = c->r ? bkp_media_get(c->r, p->media[i].name) : NULL;
        const char *w = json_string_value(json_object_get(e, "last_write"));
        st[i].medium = &p->media[i];
        st[i].last_write = w && bkp_iso_parse(w) > 0 ? bkp_iso_parse(w) : 0;
        json_decref(e);
    }
    return st;
}

time_t cli_medium_due(cli *c, const char *name)
{
    pol_policy *p = maybe_policy(c);
    time_t result = 0;
    pol_medium_state *st = p ? cli_media_states(c, p) : NULL;
    time_t *due = st ? calloc(p->nmedia + 1, sizeof(*due)) : NULL;
    if (due) {
        pol_media_due(p, st, p->nmedia, due);
        for (size_t i = 0; i < p->nmedia; i++)
            if (!strcmp(p->media[i].name, name))
                result = due[i];
    }
    free(due);
    free(st);
    return result;
}

const char *cli_medium_most_due(cli *c, time_t *when)
{
    pol_policy *p = maybe_policy(c);
    const char *best = NULL;
    pol_medium_state *st = p ? cli_media_states(c, p) : NULL;
    time_t *due = st ? calloc(p->nmedia + 1, sizeof(*due)) : NULL;
    if (due) {
        pol_media_due(p, st, p->nmedia, due);
        for (size_t i = 0; i < p->nmedia; i++)
            if (due[i] && (!best || due[i] < *when)) {
                best = p->media[i].name;
                *when = due[i];
            }
    }
    free(due);
    free(st);
    return best;
}

int cli_medium_check_label(cli *c, const cli_medium *m)
{
    json_t *label = NULL;
    int rc = bkp_label_read(m->path, &label), ex = EXIT_FAILED;
    const char *lname = json_string_value(json_object_get(label, "name"));
    const char *luuid = json_string_value(json_object_get(label, "uuid"));
    const char *lrepo = json_string_value(json_object_get(label, "repository"));
    const char *ruuid =
        json_string_value(json_object_get(json_object_get(m->entry, "label"), "uuid"));
    char when[64];
    if (rc == -ENOENT) {
        bkp_error(_("no medium is at %s (no %s there): connect %s and mount it at %s%s"), m->path,
                  BKP_LABEL_FILE, m->name, m->path,
                  m->entry ? ""
                           : _(", or label a new disk with `bkp media label PATH --name NAME`"));
        goto out;
    }
    if (rc)
        goto out;
    if (strcmp(lrepo, bkp_repo_uuid(c->r))) {
        bkp_error(_("the medium at %s (%s) belongs to another repository (%s); connect %s instead"),
                  m->path, lname, lrepo, m->name);
        goto out;
    }
    /* Same repository id, another key: the medium, or the primary's config
     * and key file, were replaced; neither is written over the other. */
    const char *lfp = json_string_value(json_object_get(label, "fingerprint"));
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(c->r), fp);
    if (lfp && strcmp(lfp, fp)) {
        bkp_error(
            _("the medium at %s (%s) was labelled for repository key %s, but the repository's "
              "key is %s: the medium or the repository's config and key file were replaced. "
              "Nothing is written to it; compare both with the fingerprint kept on paper"),
            m->path, lname, lfp, fp);
        goto out;
    }
    if (strcmp(lname, m->name)) {
        time_t due = 0;
        const char *most = cli_medium_most_due(c, &due);
        char duetxt[192] = "";
        if (most && due <= bkp_now())
            snprintf(duetxt, sizeof(duetxt), _(" The medium due next is %s (due now)."), most);
        else if (most)
            snprintf(duetxt, sizeof(duetxt), _(" The medium due next is %s (due on %s)."), most,
                     cli_when(when, sizeof(when), due));
        bkp_error(_("the disk at %s is %s, not %s: refused.%s Connect %s and run `bkp rotate %s` "
                    "again, or run `bkp rotate %s` to write the disk that is plugged in"),
                  m->path, lname, m->name, duetxt, m->name, m->name, lname);
        goto out;
    }
    if (ruuid && strcmp(ruuid, luuid)) {
        bkp_error(_("the disk at %s is labelled %s, but not the %s that was registered (label %s, "
                    "registered %s): a second disk with the same name? Relabel it with `bkp media "
                    "label %s --name NEWNAME`"),
                  m->path, lname, m->name, luuid, ruuid, m->path);
        goto out;
    }
    if (!m->entry) {
        bkp_error(_("%s is not registered in this repository; label it with `bkp media label %s "
                    "--name %s`"),
                  m->name, m->path, m->name);
        goto out;
    }
    ex = EXIT_OK;
out:
    json_decref(label);
    return ex;
}
