/* policy_media.c — the media of a policy (policy_internal.h): each medium's
 * keys, and what only one kind of medium may say. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "bkp/io/text.h"
#include "bkp/store/generation.h"
#include "policies/policy_internal.h"

static void lock_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_object *o = t;
    const char *s;
    if (!strcmp(key, "days")) {
        pol_yaml_int(c, v, key, 1, 36500, &o->lock_days);
    } else if ((s = pol_yaml_scalar(c, v, key))) {
        if (strcmp(s, "compliance") && strcmp(s, "governance"))
            pol_yaml_error(c, v,
                           _("'mode: %s' — write compliance (no one can delete early) or "
                             "governance (a privileged credential can)"),
                           s);
        o->governance = !strcmp(s, "governance");
    }
}

/* The keys of an object medium (checked against the type in media()). */
static void object_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, pol_object *o)
{
    static const char *const lkeys[] = {"mode", "days", NULL};
    if (!strcmp(key, "endpoint")) {
        o->endpoint = pol_yaml_str(c, v, key);
        const char *e = o->endpoint;
        bool loop = e && (!strncmp(e, "http://127.", 11) || !strncmp(e, "http://localhost", 16) ||
                          !strncmp(e, "http://[::1]", 12));
        if (e && strncmp(e, "https://", 8) && !loop)
            pol_yaml_error(c, v,
                           _("'endpoint: %s' — write https://HOST (plain http is allowed only to "
                             "this machine, for tests)"),
                           e);
    } else if (!strcmp(key, "bucket")) {
        o->bucket = pol_yaml_str(c, v, key);
        size_t l = o->bucket ? strlen(o->bucket) : 0;
        if (o->bucket &&
            (l < 3 || l > 63 || strspn(o->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != l ||
             o->bucket[0] == '-' || o->bucket[0] == '.'))
            pol_yaml_error(c, v,
                           _("'bucket: %s' is not an S3 bucket name — 3 to 63 of a-z, 0-9, '.' "
                             "and '-', e.g. 'bucket: hospital-bkp'"),
                           o->bucket);
    } else if (!strcmp(key, "region")) {
        o->region = pol_yaml_str(c, v, key);
        size_t l = o->region ? strlen(o->region) : 0;
        if (o->region &&
            (!l || l > 64 || strspn(o->region, "abcdefghijklmnopqrstuvwxyz0123456789-") != l))
            pol_yaml_error(c, v, _("'region: %s' — write the store's region, e.g. ap-northeast-1"),
                           o->region);
    } else if (!strcmp(key, "credentials_file")) {
        o->credentials_file = pol_parse_absolute(c, v, key, "/etc/bkp/s3.credentials");
    } else if (!strcmp(key, "lock")) {
        o->lock_given = true;
        pol_yaml_mapping(c, v, "lock", lkeys, lock_pair, o);
    }
}

/* What only one kind of medium may say, and what an object medium must. */
static void medium_check(pol_yaml_ctx *c, pol_yaml_node *m, pol_medium *md)
{
    const char *n = md->name ? md->name : "";
    pol_object *o = &md->object;
    if (md->type != POL_OBJECT) {
        if (o->endpoint || o->bucket || o->region || o->credentials_file || o->lock_given)
            pol_yaml_error(c, m,
                           _("medium %s: endpoint, bucket, region, credentials_file and lock are "
                             "for 'type: object' only"),
                           n);
        if (!md->path)
            pol_yaml_error(
                c, m,
                _("medium %s has no path — add the mount point or device, e.g. 'path: /media/bkp'"),
                n);
        return;
    }
    if (md->path)
        pol_yaml_error(c, m, _("medium %s is an object store: it has no path — remove 'path:'"), n);
    if (md->offline)
        pol_yaml_error(
            c, m,
            _("medium %s is an object store, always on-line: remove 'offline: true' (its "
              "copy counts as non-editable once `bkp media probe %s` proves the lock)"),
            n, n);
    if (!o->endpoint)
        pol_yaml_error(
            c, m, _("medium %s has no endpoint — add e.g. 'endpoint: https://s3.example.jp'"), n);
    if (!o->bucket)
        pol_yaml_error(c, m, _("medium %s has no bucket — add e.g. 'bucket: hospital-bkp'"), n);
    if (!o->credentials_file)
        pol_yaml_error(c, m,
                       _("medium %s has no credentials_file — add e.g. 'credentials_file: "
                         "/etc/bkp/s3.credentials' (mode 0600, [default] aws_access_key_id and "
                         "aws_secret_access_key)"),
                       n);
    if (!o->region)
        o->region = strdup("us-east-1");
    if (!o->lock_days)
        o->lock_days = 30;
}

static void medium_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_medium *m = t;
    const char *s;
    if (!strcmp(key, "name")) {
        m->name = pol_yaml_str(c, v, key);
    } else if (!strcmp(key, "type")) {
        if ((s = pol_yaml_scalar(c, v, key)) && pol_medium_type_named(s, &m->type))
            pol_yaml_error(c, v,
                           _("'type: %s' is not a medium type — write disk, removable, archive "
                             "or object"),
                           s);
    } else if (!strcmp(key, "path")) {
        m->path = pol_parse_absolute(c, v, key, "/media/bkp");
    } else if (!strcmp(key, "location")) {
        if ((s = pol_yaml_scalar(c, v, key))) {
            if (!strcmp(s, "onsite") || !strcmp(s, "offsite"))
                m->offsite = !strcmp(s, "offsite");
            else
                pol_yaml_error(c, v, _("'location: %s' — write onsite or offsite"), s);
        }
    } else if (!strcmp(key, "offline")) {
        pol_yaml_bool(c, v, key, &m->offline);
    } else if (!strcmp(key, "rotate_every")) {
        pol_yaml_duration(c, v, key, &m->rotate_every);
    } else if (!strcmp(key, "kept_at")) {
        /* Shown to the clerk (the status page, the annex): words, one line. */
        m->kept_at = pol_yaml_str(c, v, key);
        if (m->kept_at && (!*m->kept_at || strlen(m->kept_at) > POL_KEPT_AT_MAX ||
                           strchr(m->kept_at, '`') ||
                           !bkp_text_is_safe(m->kept_at, BKP_TEXT_FIELD)))
            pol_yaml_error(c, v,
                           _("'kept_at' says where the medium is kept, in a few words on one "
                             "line (at most %d bytes), e.g. kept_at: \"院長の自宅\""),
                           POL_KEPT_AT_MAX);
    } else {
        object_pair(c, key, v, &m->object);
    }
}

void pol_parse_media(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p)
{
    static const char *const keys[] = {
        "name",     "type",   "path",   "location",         "offline", "rotate_every",
        "kept_at",  "endpoint", "bucket", "region", "credentials_file", "lock", NULL};
    if (!pol_yaml_list(c, v, "media", _("a list of media, each starting with '- name:'")))
        return;
    size_t len = pol_yaml_len(v);
    p->media = calloc(len + 1, sizeof(*p->media));
    for (size_t i = 0; p->media && i < len; i++) {
        pol_yaml_node *m = pol_yaml_item(c, v, i);
        pol_medium *md = &p->media[p->nmedia++];
        md->line = pol_yaml_line(m);
        md->type = (pol_medium_type)-1;
        pol_yaml_mapping(c, m, _("a medium"), keys, medium_pair, md);
        if (!md->name)
            pol_yaml_error(c, m, _("a medium has no name — add 'name: usb-a' (any short name)"));
        else if (!bkp_dataset_name_ok(md->name))
            pol_yaml_error(c, m, _("medium name '%s' — use letters, digits, '.', '_' and '-'"),
                           md->name);
        else if (!strcmp(md->name, "repository")) /* `drill --medium repository`: the primary */
            pol_yaml_error(c, m,
                           _("medium name 'repository' names the primary repository — give the "
                             "medium another name, e.g. 'usb-a'"));
        if ((int)md->type == -1)
            pol_yaml_error(c, m,
                           _("medium %s has no type — add 'type: disk', 'removable', 'archive' or "
                             "'object'"),
                           md->name ? md->name : "");
        else
            medium_check(c, m, md);
    }
}
