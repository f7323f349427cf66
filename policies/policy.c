/* Loading and validating a policy file: the top level, hooks, retention,
 * the 3-2-1 rule, data sets, drills, notify and the cross-checks; the media
 * are read by policy_media.c, the source servers by policy_hosts.c
 * (policy_internal.h), the strict YAML reading with a line for every message
 * by policies/yaml_doc.c. */
#include "policies/policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/io/bytes.h"
#include "bkp/host/cmdenv.h"
#include "bkp/host/wire.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/text.h"
#include "bkp/io/log.h"
#include "policies/policy_internal.h"
#include "policies/yaml_doc.h"

static void schedule(pol_yaml_ctx *c, pol_yaml_node *n, const char *key, pol_schedule *out)
{
    const char *s = pol_yaml_scalar(c, n, key);
    if (s && pol_schedule_parse(s, out))
        pol_yaml_error(c, n,
                       _("'%s: %s' is not a schedule — write 'hourly', 'daily 02:00', "
                         "'weekly sun 03:00' or 'monthly 1 04:00' (local time)"),
                       key, s);
}

char *pol_parse_absolute(pol_yaml_ctx *c, pol_yaml_node *v, const char *key, const char *example)
{
    char *s = pol_yaml_str(c, v, key);
    if (s && s[0] != '/')
        pol_yaml_error(c, v,
                       _("'%s: %s' is not absolute — write the full path from /, e.g. '%s: %s'"),
                       key, s, key, example);
    return s;
}

/* ---- hooks, retention, rule_321 ---- */

bool pol_env_entry_ok(const char *entry)
{
    size_t i = 0;
    if (!entry || !(isalpha((unsigned char)entry[0]) || entry[0] == '_'))
        return false;
    while (isalnum((unsigned char)entry[i]) || entry[i] == '_')
        i++;
    return entry[i] == '=';
}

/* env: { PGPASSWORD: secret } — the same as [PGPASSWORD=secret]. */
static void env_mapping(pol_yaml_ctx *c, pol_yaml_node *v, pol_hook *h)
{
    size_t len = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    h->env = calloc(len + 1, sizeof(char *));
    if (!h->env)
        return;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const char *name = pol_yaml_scalar(c, pol_yaml_get(c, p->key), "env");
        const char *val = pol_yaml_scalar(c, pol_yaml_get(c, p->value), name ? name : "env");
        char *e = NULL;
        if (!name || !val)
            continue;
        if (asprintf(&e, "%s=%s", name, val) < 0)
            return;
        if (!*name || strchr(name, '=') || !pol_env_entry_ok(e)) {
            pol_yaml_error(c, pol_yaml_get(c, p->key), _("env name '%s' — write NAME: value"),
                           name);
            free(e);
            continue;
        }
        h->env[h->nenv++] = e;
    }
}

/* `run_as: USER` (a hook's, the notify mail's): a user name, or NULL (said). */
static char *run_as(pol_yaml_ctx *c, pol_yaml_node *v, const char *key)
{
    char *user = pol_yaml_str(c, v, key);
    if (user && !bkp_cmd_user_name_ok(user)) {
        pol_yaml_error(c, v,
                       _("'run_as: %s' is not a user name — write the name of an unprivileged "
                         "user, e.g. 'run_as: postgres'"),
                       user);
        free(user);
        user = NULL;
    }
    return user;
}

static void hook_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_hook *h = t;
    if (!strcmp(key, "command"))
        h->command = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "timeout"))
        pol_yaml_duration(c, v, key, &h->timeout);
    else if (!strcmp(key, "env") && v->type == YAML_MAPPING_NODE)
        env_mapping(c, v, h);
    else if (!strcmp(key, "env"))
        pol_yaml_str_list(c, v, key, &h->env, &h->nenv);
    else if (!strcmp(key, "run_as"))
        h->run_as = run_as(c, v, key);
}

static void hook(pol_yaml_ctx *c, pol_yaml_node *v, const char *what, pol_hook *h)
{
    static const char *const keys[] = {"command", "timeout", "env", "run_as", NULL};
    if (v->type == YAML_SCALAR_NODE) { /* before: "pg_dump ..." */
        h->command = pol_yaml_str(c, v, what);
        return;
    }
    pol_yaml_mapping(c, v, what, keys, hook_pair, h);
    if (!h->command)
        pol_yaml_error(c, v,
                       _("%s has no command — write e.g. '%s: { command: \"...\", timeout: 30m }'"),
                       what, what);
    for (size_t i = 0; i < h->nenv; i++)
        if (!pol_env_entry_ok(h->env[i]))
            pol_yaml_error(c, v, _("env entry '%s' of %s is not NAME=value"), h->env[i], what);
}

static void retention_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_retention *r = t;
    int *f = !strcmp(key, "keep_last")      ? &r->keep_last
             : !strcmp(key, "keep_hourly")  ? &r->keep_hourly
             : !strcmp(key, "keep_daily")   ? &r->keep_daily
             : !strcmp(key, "keep_weekly")  ? &r->keep_weekly
             : !strcmp(key, "keep_monthly") ? &r->keep_monthly
             : !strcmp(key, "keep_yearly")  ? &r->keep_yearly
                                            : &r->lock_days;
    pol_yaml_int(c, v, key, 0, 100000, f);
}

static void rule_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_rule321 *r = t;
    if (!strcmp(key, "offline_max_age"))
        pol_yaml_duration(c, v, key, &r->offline_max_age);
    else
        pol_yaml_int(c, v, key, 0, 100,
                     !strcmp(key, "copies")        ? &r->copies
                     : !strcmp(key, "media_types") ? &r->media_types
                     : !strcmp(key, "offline")     ? &r->offline
                     : !strcmp(key, "immutable")   ? &r->immutable
                                                   : &r->offsite);
}

/* ---- data sets ---- */

static void stream_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_stream *st = t;
    if (!strcmp(key, "name"))
        st->name = pol_yaml_str(c, v, key);
    else
        hook_pair(c, key, v, &st->command);
}

/* A stream's file name is what a restore writes and `bkp dump` is given:
 * named as a data set is (letters, digits, '.', '_', '-'; not starting with
 * '.' or '-'), so it is never a path, an option or a spoof. */
static void stream(pol_yaml_ctx *c, pol_yaml_node *v, pol_stream *st)
{
    static const char *const keys[] = {"command", "name", "timeout", "env", "run_as", NULL};
    st->given = true;
    st->command.timeout = 6 * 3600;
    if (v->type != YAML_MAPPING_NODE) {
        pol_yaml_error(c, v,
                       _("stream is a mapping — write e.g. 'stream: { command: \"pg_dump -Fc "
                         "-Z0 emr\", name: emr.dump }'"));
        return;
    }
    pol_yaml_mapping(c, v, "stream", keys, stream_pair, st);
    if (!st->command.command || !st->name) {
        pol_yaml_error(c, v,
                       _("stream has no %s — write e.g. 'stream: { command: \"pg_dump -Fc "
                         "-Z0 emr\", name: emr.dump }'"),
                       !st->command.command ? "command" : "name");
        return;
    }
    /* sh reports a pipeline's last command alone: `pg_dump emr | gzip` with
     * a failing pg_dump would exit 0, and a cut dump would be sealed. */
    if (bkp_cmd_pipeline_unchecked(st->command.command))
        pol_yaml_error(c, v,
                       _("stream command '%s' is a pipeline, whose status is only its last "
                         "command's: a failed dump would be sealed — write it as 'bash -o "
                         "pipefail -c \"...\"', or let the dump compress itself"),
                       st->command.command);
    if (!bkp_dataset_name_ok(st->name))
        pol_yaml_error(c, v,
                       _("stream name '%s' is not a plain file name — use letters, digits, '.', "
                         "'_' and '-' (not starting with '.' or '-'), such as emr.dump"),
                       st->name);
    for (size_t i = 0; i < st->command.nenv; i++)
        if (!pol_env_entry_ok(st->command.env[i]))
            pol_yaml_error(c, v, _("env entry '%s' of %s is not NAME=value"), st->command.env[i],
                           "stream");
}

static void guard_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_guard *g = t;
    if (!strcmp(key, "enabled")) {
        pol_yaml_bool(c, v, key, &g->enabled);
    } else if (!strcmp(key, "min_files")) {
        pol_yaml_int(c, v, key, 1, 1000000, &g->min_files);
    } else {
        const char *s = pol_yaml_scalar(c, v, key);
        char *end;
        double d = s ? strtod(s, &end) : 0;
        bool pct = s && *end == '%' && end[1] == '\0';
        if (s && (end == s || (*end && !pct) || d <= 0)) {
            pol_yaml_error(c, v, _("'%s: %s' is not a number — write e.g. '%s: %s'"), key, s, key,
                           !strcmp(key, "factor") ? "5" : "20%");
            return;
        }
        if (!s)
            return;
        if (!strcmp(key, "factor"))
            g->factor = d;
        else if ((pct ? d / 100 : d) > 1)
            pol_yaml_error(c, v,
                           _("'%s: %s' is more than all the files — write a share such as 20%%"),
                           key, s);
        else
            g->max_change = pct ? d / 100 : d;
    }
}

static void dataset_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    static const char *const rkeys[] = {"keep_last",    "keep_hourly", "keep_daily", "keep_weekly",
                                        "keep_monthly", "keep_yearly", "lock_days",  NULL};
    pol_dataset *d = t;
    if (!strcmp(key, "name"))
        d->name = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "description"))
        d->description = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "priority"))
        pol_yaml_int(c, v, key, 1, 1000, &d->priority);
    else if (!strcmp(key, "paths"))
        pol_yaml_str_list(c, v, key, &d->paths, &d->npaths);
    else if (!strcmp(key, "stream"))
        stream(c, v, &d->stream);
    else if (!strcmp(key, "host"))
        d->host = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "exclude"))
        pol_yaml_str_list(c, v, key, &d->exclude, &d->nexclude);
    else if (!strcmp(key, "one_file_system"))
        pol_yaml_bool(c, v, key, &d->one_file_system);
    else if (!strcmp(key, "read_special"))
        pol_yaml_bool(c, v, key, &d->read_special);
    else if (!strcmp(key, "compression")) {
        char *w = pol_yaml_str(c, v, key);
        if (w && bkp_comp_parse(w, &d->compression))
            pol_yaml_error(c, v,
                           _("compression '%s' is not one bkp knows — write auto, lz4, zstd, "
                             "zstd:LEVEL (1 to 19) or none"),
                           w);
        free(w);
    } else if (!strcmp(key, "before"))
        hook(c, v, "before", &d->before);
    else if (!strcmp(key, "after"))
        hook(c, v, "after", &d->after);
    else if (!strcmp(key, "schedule"))
        schedule(c, v, key, &d->schedule);
    else if (!strcmp(key, "retention"))
        pol_yaml_mapping(c, v, "retention", rkeys, retention_pair, &d->retention);
    else if (!strcmp(key, "copy_to"))
        pol_yaml_str_list(c, v, key, &d->copy_to, &d->ncopy_to);
    else if (!strcmp(key, "runbook"))
        d->runbook = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "guard")) {
        static const char *const gkeys[] = {"enabled", "max_change", "factor", "min_files", NULL};
        pol_yaml_mapping(c, v, "guard", gkeys, guard_pair, &d->guard);
    }
}

static void datasets(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p)
{
    static const char *const keys[] = {
        "name",         "description",     "priority", "paths", "stream",
        "exclude",      "one_file_system", "before",   "after", "schedule",
        "retention",    "copy_to",         "runbook",  "guard", "host",
        "read_special", "compression",     NULL};
    if (!pol_yaml_list(c, v, "datasets", _("a list, each data set starting with '- name:'")))
        return;
    size_t len = pol_yaml_len(v);
    p->datasets = calloc(len + 1, sizeof(*p->datasets));
    for (size_t i = 0; p->datasets && i < len; i++) {
        pol_yaml_node *n = pol_yaml_item(c, v, i);
        pol_dataset *d = &p->datasets[p->ndatasets++];
        d->line = pol_yaml_line(n);
        d->priority = 100;
        d->guard = (pol_guard){.enabled = true, .max_change = 0.2, .factor = 5, .min_files = 10};
        d->before.timeout = d->after.timeout = 3600;
        pol_yaml_mapping(c, n, _("a data set"), keys, dataset_pair, d);
        if (!d->name)
            pol_yaml_error(
                c, n,
                _("a data set has no name — add 'name: emr-db' (letters, digits, '-', '_', '.')"));
        else if (!bkp_dataset_name_ok(d->name))
            pol_yaml_error(
                c, n, _("data set name '%s' — use letters, digits, '.', '_' and '-' (at most 64)"),
                d->name);
        if (d->npaths && d->stream.given)
            pol_yaml_error(c, n,
                           _("data set %s has both paths and a stream — a data set is either "
                             "files (paths) or one command's output (stream): make two data sets"),
                           d->name ? d->name : "");
        else if (d->stream.given && (d->nexclude || d->one_file_system || d->read_special))
            pol_yaml_error(c, n,
                           _("data set %s is a stream: exclude, one_file_system and read_special "
                             "are for paths — remove them"),
                           d->name ? d->name : "");
        else if (!d->npaths && !d->stream.given)
            pol_yaml_error(c, n,
                           _("data set %s has no paths — add 'paths: [/path/to/data]', or "
                             "'stream: { command: ..., name: ... }' for a command's output"),
                           d->name ? d->name : "");
        for (size_t k = 0; d->host && k < d->npaths; k++)
            if (d->paths[k][0] == '/' && !bkp_wire_path_ok(d->paths[k]))
                pol_yaml_error(c, n,
                               _("path '%s' of data set %s on host %s has a control character "
                                 "or is longer than 4095 bytes — the agent cannot be asked for "
                                 "it; name its folder instead"),
                               d->paths[k], d->name ? d->name : "", d->host);
        if (d->host && d->npaths > BKP_WIRE_LIST)
            pol_yaml_error(c, n,
                           _("data set %s asks host %s for %zu paths, more than %u — name their "
                             "common folders instead"),
                           d->name ? d->name : "", d->host, d->npaths, BKP_WIRE_LIST);
        if (d->host && d->npaths && d->read_special)
            pol_yaml_error(c, n,
                           _("data set %s takes paths from host %s: read_special reads this "
                             "server's devices, not that one's — remove it, or run a command "
                             "there that writes the image to its output ('stream:')"),
                           d->name ? d->name : "", d->host);
        else if (d->host && d->stream.command.command &&
                 (!bkp_dataset_name_ok(d->stream.command.command) || d->stream.command.nenv ||
                  d->stream.command.run_as))
            pol_yaml_error(c, n,
                           _("data set %s is a stream from host %s: its command is the name of "
                             "a command in the agent's commands there (e.g. 'command: "
                             "emr-dump'), with no env or run_as — the command line in the "
                             "agent's file on that server says how it runs"),
                           d->name ? d->name : "", d->host);
        for (size_t k = 0; k < d->npaths; k++)
            if (d->paths[k][0] != '/')
                pol_yaml_error(
                    c, n,
                    _("path '%s' of data set %s is not absolute — write the full path from /"),
                    d->paths[k], d->name ? d->name : "");
    }
}

static void drill_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_drill *d = t;
    if (!strcmp(key, "runbook"))
        d->runbook = pol_yaml_str(c, v, key);
    else
        schedule(c, v, key, &d->schedule);
}

static void drills(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p)
{
    static const char *const keys[] = {"runbook", "schedule", NULL};
    if (!pol_yaml_list(c, v, "drills", _("a list of '- runbook: NAME' entries")))
        return;
    size_t len = pol_yaml_len(v);
    p->drills = calloc(len + 1, sizeof(*p->drills));
    for (size_t i = 0; p->drills && i < len; i++) {
        pol_yaml_node *n = pol_yaml_item(c, v, i);
        pol_drill *d = &p->drills[p->ndrills++];
        pol_yaml_mapping(c, n, _("a drill"), keys, drill_pair, d);
        if (!d->runbook)
            pol_yaml_error(c, n, _("a drill has no runbook — add 'runbook: NAME'"));
    }
}

static void verify_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_policy *p = t;
    if (!strcmp(key, "reread_every"))
        pol_yaml_duration(c, v, key, &p->reread_every);
}

/* A mail address as it may go on a command line and into a header:
 * local@domain, nothing that could start another header or option. */
static bool address_ok(const char *a)
{
    const char *at = strchr(a, '@');
    size_t n = strlen(a);
    return at && at > a && at[1] && !strchr(at + 1, '@') && n < 254 && a[0] != '-' &&
           strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@_+-") == n;
}

static void mail_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    pol_notify *nt = t;
    if (!strcmp(key, "run_as")) {
        nt->mail_run_as = run_as(c, v, key);
        return;
    }
    char **dst = !strcmp(key, "to")     ? &nt->mail_to
                 : !strcmp(key, "from") ? &nt->mail_from
                                        : &nt->sendmail;
    *dst = !strcmp(key, "sendmail") ? pol_parse_absolute(c, v, key, "/usr/sbin/sendmail")
                                    : pol_yaml_str(c, v, key);
    if (*dst && strcmp(key, "sendmail") && !address_ok(*dst)) {
        pol_yaml_error(c, v,
                       _("'%s: %s' is not a mail address — write e.g. '%s: it@clinic.example'"),
                       key, *dst, key);
        free(*dst);
        *dst = NULL;
    }
}

static void notify_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    static const char *const mkeys[] = {"to", "from", "sendmail", "run_as", NULL};
    pol_notify *nt = t;
    if (!strcmp(key, "command")) {
        hook(c, v, _("notify command"), &nt->command);
    } else if (!strcmp(key, "mail")) {
        pol_yaml_mapping(c, v, "mail", mkeys, mail_pair, nt);
        if (!nt->mail_to)
            pol_yaml_error(c, v,
                           _("mail has no 'to' — write e.g. 'mail: { to: it@clinic.example }'"));
    } else if (!strcmp(key, "remind_every")) {
        pol_yaml_duration(c, v, key, &nt->remind_every);
    }
}

/* `key`: an absolute path to a file whose name ends in `suffix` (a dot and
 * four letters at most), into `*into`: status_page's .html, so that a
 * clerk's browser opens it as a page; metrics' .prom, the only files
 * node_exporter's textfile collector reads. */
static void file_named(pol_yaml_ctx *c, pol_yaml_node *v, const char *key, const char *suffix,
                       const char *example, char **into)
{
    char *s = pol_parse_absolute(c, v, key, example);
    size_t n = s ? strlen(s) : 0, k = strlen(suffix);
    if (s && s[0] == '/' && (n <= k || strcmp(s + n - k, suffix) || s[n - k - 1] == '/'))
        pol_yaml_error(c, v, _("'%s: %s' is not a file name ending in %s — write e.g. '%s: %s'"),
                       key, s, suffix, key, example);
    free(*into);
    *into = s;
}

/* Is `s` text a person reads as it is: valid UTF-8, no control character
 * (C0, DEL, C1) and no character that reorders what follows it (bidi
 * embeddings, overrides and isolates)? */
static bool text_plain(const char *s)
{
    const unsigned char *q = (const unsigned char *)s;
    while (*q) {
        uint32_t cp;
        size_t len = *q < 0x80             ? 1
                     : (*q & 0xe0) == 0xc0 ? 2
                     : (*q & 0xf0) == 0xe0 ? 3
                     : (*q & 0xf8) == 0xf0 ? 4
                                           : 0;
        if (!len)
            return false;
        cp = len == 1 ? *q : *q & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((q[k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (q[k] & 0x3f);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 ||
            (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f)
            return false;
        q += len;
    }
    return true;
}

/* facility: the clinic's or hospital's name, as people read it on every
 * page made for them: one line of text, at most 120 bytes. */
static void facility(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p)
{
    char *s = pol_yaml_str(c, v, "facility");
    bool ok = s && *s && strlen(s) <= 120 && text_plain(s);
    if (s && !ok)
        pol_yaml_error(c, v,
                       _("'facility' should be the facility's name on one line, at most 120 "
                         "bytes — write e.g. 'facility: \"さくら診療所\"'"));
    free(p->facility);
    p->facility = ok ? s : NULL;
    if (!ok)
        free(s);
}

/* language: ja or en, what is written for people whatever the locale of
 * cron or systemd. */
static void language(pol_yaml_ctx *c, pol_yaml_node *v, pol_policy *p)
{
    char *s = pol_yaml_str(c, v, "language");
    if (s && strcmp(s, "ja") && strcmp(s, "en")) {
        pol_yaml_error(c, v, _("'language: %s' — write 'language: ja' or 'language: en'"), s);
        free(s);
        s = NULL;
    }
    free(p->language);
    p->language = s;
}

static void top_pair(pol_yaml_ctx *c, const char *key, pol_yaml_node *v, void *t)
{
    static const char *const nkeys[] = {"command", "mail", "remind_every", NULL};
    static const char *const vkeys[] = {"reread_every", NULL};
    static const char *const rkeys[] = {"copies",          "media_types", "offline", "offsite",
                                        "offline_max_age", "immutable",   NULL};
    pol_policy *p = t;
    if (!strcmp(key, "repository"))
        p->repository = pol_parse_absolute(c, v, key, "/srv/bkp/repo");
    else if (!strcmp(key, "passphrase_file"))
        p->passphrase_file = pol_parse_absolute(c, v, key, "/etc/bkp/passphrase");
    else if (!strcmp(key, "passphrase_command"))
        p->passphrase_command = pol_yaml_str(c, v, key);
    else if (!strcmp(key, "rule_321"))
        pol_yaml_mapping(c, v, "rule_321", rkeys, rule_pair, &p->rule);
    else if (!strcmp(key, "media"))
        pol_parse_media(c, v, p);
    else if (!strcmp(key, "hosts"))
        pol_parse_hosts(c, v, p);
    else if (!strcmp(key, "datasets"))
        datasets(c, v, p);
    else if (!strcmp(key, "drills"))
        drills(c, v, p);
    else if (!strcmp(key, "verify"))
        pol_yaml_mapping(c, v, "verify", vkeys, verify_pair, p);
    else if (!strcmp(key, "key_drill_every"))
        pol_yaml_duration(c, v, key, &p->key_drill_every);
    else if (!strcmp(key, "notify"))
        pol_yaml_mapping(c, v, "notify", nkeys, notify_pair, &p->notify);
    else if (!strcmp(key, "status_page"))
        file_named(c, v, key, ".html", "/srv/share/bkp/status.html", &p->status_page);
    else if (!strcmp(key, "metrics"))
        file_named(c, v, key, ".prom", "/var/lib/prometheus/node-exporter/bkp.prom", &p->metrics);
    else if (!strcmp(key, "facility"))
        facility(c, v, p);
    else if (!strcmp(key, "language"))
        language(c, v, p);
    else if (!strcmp(key, "parallel"))
        pol_yaml_int(c, v, key, 1, 16, &p->parallel);
}

/* Names unique, references defined. */
static void cross_check(pol_yaml_ctx *c, pol_policy *p)
{
    for (size_t i = 0; i < p->nmedia; i++)
        for (size_t j = 0; j < i; j++)
            if (p->media[i].name && p->media[j].name && !strcmp(p->media[i].name, p->media[j].name))
                bkp_error(_("%s:%d: medium '%s' is defined twice (also on line %d) — give each a "
                            "different name"),
                          c->file, p->media[i].line, p->media[i].name, p->media[j].line),
                    c->errors++;
    for (size_t i = 0; i < p->nhosts; i++)
        for (size_t j = 0; j < i; j++)
            if (p->hosts[i].name && p->hosts[j].name && !strcmp(p->hosts[i].name, p->hosts[j].name))
                bkp_error(_("%s:%d: host '%s' is defined twice (also on line %d) — give each a "
                            "different name"),
                          c->file, p->hosts[i].line, p->hosts[i].name, p->hosts[j].line),
                    c->errors++;
    for (size_t i = 0; i < p->ndatasets; i++) {
        pol_dataset *d = &p->datasets[i];
        for (size_t j = 0; j < i; j++)
            if (d->name && p->datasets[j].name && !strcmp(d->name, p->datasets[j].name))
                bkp_error(_("%s:%d: data set '%s' is defined twice (also on line %d) — give each a "
                            "different name"),
                          c->file, d->line, d->name, p->datasets[j].line),
                    c->errors++;
        if (d->host && !pol_host_find(p, d->host))
            bkp_error(_("%s:%d: data set %s is on host '%s', which is not under hosts — define "
                        "it there or correct the name"),
                      c->file, d->line, d->name ? d->name : "", d->host),
                c->errors++;
        for (size_t k = 0; k < d->ncopy_to; k++)
            if (!pol_medium_find(p, d->copy_to[k]))
                bkp_error(
                    _("%s:%d: data set %s copies to '%s', which is not under media — define it "
                      "there or correct the name"),
                    c->file, d->line, d->name ? d->name : "", d->copy_to[k]),
                    c->errors++;
    }
}

/* The last line of every refusal: nothing ran, and how to check again. */
static void refused(const char *file, int problems)
{
    bkp_error(_("%s: %d problem(s); nothing was run. Fix them and check with `bkp policy check "
                "--policy %s`"),
              file, problems, file);
}

/* Validate the parsed document of `c` (pol_yaml_load's result `rc`). */
static int load(pol_yaml_ctx *c, int rc, const char *file, pol_policy **out)
{
    if (rc == -EINVAL) { /* a YAML syntax error or a refused file, logged with its line */
        refused(file, 1);
        return rc;
    }
    if ((rc == -EACCES || rc == -EPERM) && geteuid() != 0) { /* root's file: root's command */
        bkp_error(_("cannot read the policy %s: permission denied; run bkp as root (sudo bkp "
                    "...), as the backups are"),
                  file);
        return rc;
    }
    if (rc) {
        bkp_error(_("cannot read the policy %s: %s; give --policy FILE or set BKP_POLICY"), file,
                  bkp_strerror(rc));
        return rc;
    }
    pol_policy *p = calloc(1, sizeof(*p));
    if (!p || !(p->file = strdup(file))) {
        free(p);
        pol_yaml_done(c);
        return -ENOMEM;
    }
    p->rule = (pol_rule321){.copies = 3,
                            .media_types = 2,
                            .offline = 1,
                            .offsite = 1,
                            .immutable = -1,
                            .offline_max_age = 8 * 86400};
    p->reread_every = 30 * 86400;
    p->key_drill_every = 365 * 86400;
    p->parallel = 2;
    p->notify.remind_every = 86400;
    p->notify.command.timeout = 60;
    pol_yaml_node *root = pol_yaml_root(c);
    static const char *const keys[] = {"repository",
                                       "passphrase_file",
                                       "passphrase_command",
                                       "rule_321",
                                       "media",
                                       "hosts",
                                       "datasets",
                                       "drills",
                                       "verify",
                                       "key_drill_every",
                                       "notify",
                                       "status_page",
                                       "metrics",
                                       "facility",
                                       "language",
                                       "parallel",
                                       NULL};
    if (!root) {
        bkp_error(_("%s:1: the policy is empty — start from policies/examples/clinic.yaml"), file);
        c->errors++;
    } else {
        pol_yaml_mapping(c, root, _("the policy"), keys, top_pair, p);
        if (p->rule.immutable < 0) /* an off-line copy is a non-editable one */
            p->rule.immutable = p->rule.offline;
        if (!p->repository)
            pol_yaml_error(c, root, _("no repository — add 'repository: /srv/bkp/repo'"));
        if (!p->ndatasets && root->type == YAML_MAPPING_NODE)
            pol_yaml_error(c, root,
                           _("no datasets — add a 'datasets:' list naming what to back up"));
        cross_check(c, p);
    }
    pol_yaml_done(c);
    if (c->errors) {
        refused(file, c->errors);
        pol_free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

int pol_load(const char *file, pol_policy **out)
{
    pol_yaml_ctx c;
    return load(&c, pol_yaml_load(&c, file), file, out);
}

int pol_load_buffer(const char *name, const uint8_t *buf, size_t len, pol_policy **out)
{
    pol_yaml_ctx c;
    return load(&c, pol_yaml_load_buffer(&c, name, buf, len), name, out);
}

static void free_hook(pol_hook *h)
{
    free(h->command);
    free(h->run_as);
    bkp_strv_free(h->env, h->nenv);
}

void pol_free(pol_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nmedia; i++) {
        free(p->media[i].name);
        free(p->media[i].path);
        free(p->media[i].kept_at);
        free(p->media[i].object.endpoint);
        free(p->media[i].object.bucket);
        free(p->media[i].object.region);
        free(p->media[i].object.credentials_file);
    }
    free(p->media);
    for (size_t i = 0; i < p->nhosts; i++) {
        free(p->hosts[i].name);
        free(p->hosts[i].user);
        free(p->hosts[i].address);
        free(p->hosts[i].identity);
        free(p->hosts[i].host_key);
    }
    free(p->hosts);
    for (size_t i = 0; i < p->ndatasets; i++) {
        pol_dataset *d = &p->datasets[i];
        free(d->name);
        free(d->host);
        free(d->description);
        bkp_strv_free(d->paths, d->npaths);
        bkp_strv_free(d->exclude, d->nexclude);
        free_hook(&d->before);
        free_hook(&d->after);
        free_hook(&d->stream.command);
        free(d->stream.name);
        bkp_strv_free(d->copy_to, d->ncopy_to);
        free(d->runbook);
    }
    free(p->datasets);
    for (size_t i = 0; i < p->ndrills; i++)
        free(p->drills[i].runbook);
    free(p->drills);
    free_hook(&p->notify.command);
    free(p->notify.mail_to);
    free(p->notify.mail_from);
    free(p->notify.sendmail);
    free(p->notify.mail_run_as);
    free(p->file);
    free(p->repository);
    free(p->passphrase_file);
    free(p->passphrase_command);
    free(p->status_page);
    free(p->metrics);
    free(p->facility);
    free(p->language);
    free(p);
}

const pol_dataset *pol_dataset_find(const pol_policy *p, const char *name)
{
    for (size_t i = 0; i < p->ndatasets; i++)
        if (p->datasets[i].name && !strcmp(p->datasets[i].name, name))
            return &p->datasets[i];
    return NULL;
}

bool pol_dataset_copies_to(const pol_dataset *d, const char *medium)
{
    for (size_t i = 0; d && medium && i < d->ncopy_to; i++)
        if (!strcmp(d->copy_to[i], medium))
            return true;
    return false;
}

const char *pol_media_names(const pol_policy *p, char *buf, size_t n)
{
    size_t k = p ? p->nmedia : 0;
    const char **names = calloc(k + 1, sizeof(*names));
    for (size_t i = 0; names && i < k; i++)
        names[i] = p->media[i].name ? p->media[i].name : "";
    bkp_names_join(buf, n, names, names ? k : 0, !names && k);
    free(names);
    return buf;
}

const pol_host *pol_host_find(const pol_policy *p, const char *name)
{
    for (size_t i = 0; name && i < p->nhosts; i++)
        if (p->hosts[i].name && !strcmp(p->hosts[i].name, name))
            return &p->hosts[i];
    return NULL;
}

const pol_medium *pol_medium_find(const pol_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nmedia; i++)
        if (p->media[i].name && !strcmp(p->media[i].name, name))
            return &p->media[i];
    return NULL;
}
