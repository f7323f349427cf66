/* Loading and validating a policy file with libyaml's document API, which
 * keeps the line of every node for the error messages. */
#include "policies/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bkp/generation.h"
#include "bkp/log.h"

typedef struct ctx {
    const char *file;
    yaml_document_t doc;
    int errors;
} ctx;

typedef yaml_node_t node;

static void perr(ctx *c, const node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(ctx *c, const node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bkp_error("%s:%zu: %s", c->file, n ? n->start_mark.line + 1 : 0, msg);
    c->errors++;
}

static node *get(ctx *c, int id)
{
    return yaml_document_get_node(&c->doc, id);
}

static const char *kind_name(const node *n)
{
    return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a value";
}

static const char *scalar(ctx *c, node *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE) {
        perr(c, n, "'%s' is %s here — write a single value", key, kind_name(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static char *str(ctx *c, node *n, const char *key)
{
    const char *s = scalar(c, n, key);
    if (!s)
        return NULL;
    if (!*s) {
        perr(c, n, "'%s' is empty — give a value or leave the key out", key);
        return NULL;
    }
    return strdup(s);
}

static void integer(ctx *c, node *n, const char *key, int lo, int hi, int *out)
{
    const char *s = scalar(c, n, key);
    char *end;
    if (!s)
        return;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        perr(c, n, "'%s: %s' is not a whole number from %d to %d — write e.g. '%s: %d'", key, s, lo,
             hi, key, lo > 1 ? lo : 1);
        return;
    }
    *out = (int)v;
}

static void boolean(ctx *c, node *n, const char *key, bool *out)
{
    const char *s = scalar(c, n, key);
    if (!s)
        return;
    if (!strcmp(s, "true") || !strcmp(s, "yes"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no"))
        *out = false;
    else
        perr(c, n, "'%s: %s' is not true or false — write '%s: true' or '%s: false'", key, s, key, key);
}

static void duration(ctx *c, node *n, const char *key, int64_t *out)
{
    const char *s = scalar(c, n, key);
    if (s && pol_duration_parse(s, out))
        perr(c, n, "'%s: %s' is not a duration — write a number and a unit: 30s, 30m, 12h, 7d, 2w",
             key, s);
}

static void schedule(ctx *c, node *n, const char *key, pol_schedule *out)
{
    const char *s = scalar(c, n, key);
    if (s && pol_schedule_parse(s, out))
        perr(c, n, "'%s: %s' is not a schedule — write 'hourly', 'daily 02:00', 'weekly sun 03:00' "
                   "or 'monthly 1 04:00' (local time)",
             key, s);
}

/* A list of values; a single value is taken as a list of one. */
static void str_list(ctx *c, node *n, const char *key, char ***out, size_t *count)
{
    if (n->type == YAML_SCALAR_NODE) {
        char *s = str(c, n, key);
        if (s && (*out = malloc(sizeof(char *)))) {
            (*out)[0] = s;
            *count = 1;
        } else {
            free(s);
        }
        return;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        perr(c, n, "'%s' is %s here — write a list, e.g. [a, b]", key, kind_name(n));
        return;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *out = calloc(len + 1, sizeof(char *));
    if (!*out)
        return;
    for (size_t i = 0; i < len; i++) {
        char *s = str(c, get(c, n->data.sequence.items.start[i]), key);
        if (s)
            (*out)[(*count)++] = s;
    }
}

/*
 * Visit the pairs of a mapping whose keys are in `allowed` (NULL-terminated);
 * unknown and repeated keys are errors naming the allowed ones.
 */
typedef void (*pair_fn)(ctx *c, const char *key, node *value, void *target);

static void mapping(ctx *c, node *n, const char *what, const char *const *allowed, pair_fn fn,
                    void *target)
{
    if (n->type != YAML_MAPPING_NODE) {
        perr(c, n, "%s is %s here — write 'key: value' lines", what, kind_name(n));
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        node *k = get(c, p->key), *v = get(c, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            perr(c, k, "a key in %s is not text", what);
            continue;
        }
        const char *key = (const char *)k->data.scalar.value;
        bool known = false, seen = false;
        for (const char *const *a = allowed; *a; a++)
            known |= !strcmp(*a, key);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            node *qk = get(c, q->key);
            seen |= qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, key);
        }
        if (!known) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", *a);
            }
            perr(c, k, "unknown key '%s' in %s — the keys here are: %s", key, what, list);
        } else if (seen) {
            perr(c, k, "'%s' is given twice in %s — keep one", key, what);
        } else {
            fn(c, key, v, target);
        }
    }
}

/* ---- hooks, retention, rule_321 ---- */

static void hook_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_hook *h = t;
    if (!strcmp(key, "command"))
        h->command = str(c, v, key);
    else if (!strcmp(key, "timeout"))
        duration(c, v, key, &h->timeout);
    else if (!strcmp(key, "env"))
        str_list(c, v, key, &h->env, &h->nenv);
}

static void hook(ctx *c, node *v, const char *what, pol_hook *h)
{
    static const char *const keys[] = {"command", "timeout", "env", NULL};
    if (v->type == YAML_SCALAR_NODE) { /* before: "pg_dump ..." */
        h->command = str(c, v, what);
        return;
    }
    mapping(c, v, what, keys, hook_pair, h);
    if (!h->command)
        perr(c, v, "%s has no command — write e.g. '%s: { command: \"...\", timeout: 30m }'", what, what);
    for (size_t i = 0; i < h->nenv; i++)
        if (!strchr(h->env[i], '=') || h->env[i][0] == '=')
            perr(c, v, "env entry '%s' of %s is not NAME=value", h->env[i], what);
}

static void retention_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_retention *r = t;
    int *f = !strcmp(key, "keep_last")      ? &r->keep_last
             : !strcmp(key, "keep_hourly")  ? &r->keep_hourly
             : !strcmp(key, "keep_daily")   ? &r->keep_daily
             : !strcmp(key, "keep_weekly")  ? &r->keep_weekly
             : !strcmp(key, "keep_monthly") ? &r->keep_monthly
             : !strcmp(key, "keep_yearly")  ? &r->keep_yearly
                                            : &r->lock_days;
    integer(c, v, key, 0, 100000, f);
}

static void rule_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_rule321 *r = t;
    if (!strcmp(key, "offline_max_age"))
        duration(c, v, key, &r->offline_max_age);
    else
        integer(c, v, key, 0, 100,
                !strcmp(key, "copies")        ? &r->copies
                : !strcmp(key, "media_types") ? &r->media_types
                : !strcmp(key, "offline")     ? &r->offline
                                              : &r->offsite);
}

/* ---- media ---- */

static void medium_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_medium *m = t;
    const char *s;
    if (!strcmp(key, "name")) {
        m->name = str(c, v, key);
    } else if (!strcmp(key, "type")) {
        if ((s = scalar(c, v, key))) {
            if (!strcmp(s, "disk"))
                m->type = POL_DISK;
            else if (!strcmp(s, "removable"))
                m->type = POL_REMOVABLE;
            else if (!strcmp(s, "archive"))
                m->type = POL_ARCHIVE;
            else
                perr(c, v, "'type: %s' is not a medium type — write disk, removable or archive", s);
        }
    } else if (!strcmp(key, "path")) {
        m->path = str(c, v, key);
    } else if (!strcmp(key, "location")) {
        if ((s = scalar(c, v, key))) {
            if (!strcmp(s, "onsite") || !strcmp(s, "offsite"))
                m->offsite = !strcmp(s, "offsite");
            else
                perr(c, v, "'location: %s' — write onsite or offsite", s);
        }
    } else if (!strcmp(key, "offline")) {
        boolean(c, v, key, &m->offline);
    } else if (!strcmp(key, "rotate_every")) {
        duration(c, v, key, &m->rotate_every);
    }
}

static void media(ctx *c, node *v, pol_policy *p)
{
    static const char *const keys[] = {"name", "type", "path", "location", "offline", "rotate_every", NULL};
    if (v->type != YAML_SEQUENCE_NODE) {
        perr(c, v, "'media' is %s here — write a list of media, each starting with '- name:'", kind_name(v));
        return;
    }
    size_t len = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->media = calloc(len + 1, sizeof(*p->media));
    for (size_t i = 0; p->media && i < len; i++) {
        node *m = get(c, v->data.sequence.items.start[i]);
        pol_medium *md = &p->media[p->nmedia++];
        md->line = (int)m->start_mark.line + 1;
        md->type = (pol_medium_type)-1;
        mapping(c, m, "a medium", keys, medium_pair, md);
        if (!md->name)
            perr(c, m, "a medium has no name — add 'name: usb-a' (any short name)");
        else if (!bkp_dataset_name_ok(md->name))
            perr(c, m, "medium name '%s' — use letters, digits, '.', '_' and '-'", md->name);
        if ((int)md->type == -1)
            perr(c, m, "medium %s has no type — add 'type: disk', 'removable' or 'archive'",
                 md->name ? md->name : "");
        if (!md->path)
            perr(c, m, "medium %s has no path — add the mount point or device, e.g. 'path: /media/bkp'",
                 md->name ? md->name : "");
    }
}

/* ---- data sets ---- */

static void guard_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_guard *g = t;
    if (!strcmp(key, "enabled")) {
        boolean(c, v, key, &g->enabled);
    } else if (!strcmp(key, "min_files")) {
        integer(c, v, key, 1, 1000000, &g->min_files);
    } else {
        const char *s = scalar(c, v, key);
        char *end;
        double d = s ? strtod(s, &end) : 0;
        bool pct = s && *end == '%' && end[1] == '\0';
        if (s && (end == s || (*end && !pct) || d <= 0)) {
            perr(c, v, "'%s: %s' is not a number — write e.g. '%s: %s'", key, s, key,
                 !strcmp(key, "factor") ? "5" : "20%");
            return;
        }
        if (!s)
            return;
        if (!strcmp(key, "factor"))
            g->factor = d;
        else if ((pct ? d / 100 : d) > 1)
            perr(c, v, "'%s: %s' is more than all the files — write a share such as 20%%", key, s);
        else
            g->max_change = pct ? d / 100 : d;
    }
}

static void dataset_pair(ctx *c, const char *key, node *v, void *t)
{
    static const char *const rkeys[] = {"keep_last",    "keep_hourly", "keep_daily", "keep_weekly",
                                        "keep_monthly", "keep_yearly", "lock_days",  NULL};
    pol_dataset *d = t;
    if (!strcmp(key, "name"))
        d->name = str(c, v, key);
    else if (!strcmp(key, "description"))
        d->description = str(c, v, key);
    else if (!strcmp(key, "priority"))
        integer(c, v, key, 1, 1000, &d->priority);
    else if (!strcmp(key, "paths"))
        str_list(c, v, key, &d->paths, &d->npaths);
    else if (!strcmp(key, "exclude"))
        str_list(c, v, key, &d->exclude, &d->nexclude);
    else if (!strcmp(key, "one_file_system"))
        boolean(c, v, key, &d->one_file_system);
    else if (!strcmp(key, "before"))
        hook(c, v, "before", &d->before);
    else if (!strcmp(key, "after"))
        hook(c, v, "after", &d->after);
    else if (!strcmp(key, "schedule"))
        schedule(c, v, key, &d->schedule);
    else if (!strcmp(key, "retention"))
        mapping(c, v, "retention", rkeys, retention_pair, &d->retention);
    else if (!strcmp(key, "copy_to"))
        str_list(c, v, key, &d->copy_to, &d->ncopy_to);
    else if (!strcmp(key, "runbook"))
        d->runbook = str(c, v, key);
    else if (!strcmp(key, "guard")) {
        static const char *const gkeys[] = {"enabled", "max_change", "factor", "min_files", NULL};
        mapping(c, v, "guard", gkeys, guard_pair, &d->guard);
    }
}

static void datasets(ctx *c, node *v, pol_policy *p)
{
    static const char *const keys[] = {"name",     "description", "priority", "paths",
                                       "exclude",  "one_file_system", "before", "after",
                                       "schedule", "retention",   "copy_to",  "runbook",
                                       "guard",    NULL};
    if (v->type != YAML_SEQUENCE_NODE) {
        perr(c, v, "'datasets' is %s here — write a list, each data set starting with '- name:'",
             kind_name(v));
        return;
    }
    size_t len = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->datasets = calloc(len + 1, sizeof(*p->datasets));
    for (size_t i = 0; p->datasets && i < len; i++) {
        node *n = get(c, v->data.sequence.items.start[i]);
        pol_dataset *d = &p->datasets[p->ndatasets++];
        d->line = (int)n->start_mark.line + 1;
        d->priority = 100;
        d->guard = (pol_guard){.enabled = true, .max_change = 0.2, .factor = 5, .min_files = 10};
        d->before.timeout = d->after.timeout = 3600;
        mapping(c, n, "a data set", keys, dataset_pair, d);
        if (!d->name)
            perr(c, n, "a data set has no name — add 'name: emr-db' (letters, digits, '-', '_', '.')");
        else if (!bkp_dataset_name_ok(d->name))
            perr(c, n, "data set name '%s' — use letters, digits, '.', '_' and '-' (at most 64)", d->name);
        if (!d->npaths)
            perr(c, n, "data set %s has no paths — add 'paths: [/path/to/data]'", d->name ? d->name : "");
        for (size_t k = 0; k < d->npaths; k++)
            if (d->paths[k][0] != '/')
                perr(c, n, "path '%s' of data set %s is not absolute — write the full path from /",
                     d->paths[k], d->name ? d->name : "");
    }
}

static void drill_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_drill *d = t;
    if (!strcmp(key, "runbook"))
        d->runbook = str(c, v, key);
    else
        schedule(c, v, key, &d->schedule);
}

static void drills(ctx *c, node *v, pol_policy *p)
{
    static const char *const keys[] = {"runbook", "schedule", NULL};
    if (v->type != YAML_SEQUENCE_NODE) {
        perr(c, v, "'drills' is %s here — write a list of '- runbook: NAME' entries", kind_name(v));
        return;
    }
    size_t len = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->drills = calloc(len + 1, sizeof(*p->drills));
    for (size_t i = 0; p->drills && i < len; i++) {
        node *n = get(c, v->data.sequence.items.start[i]);
        pol_drill *d = &p->drills[p->ndrills++];
        mapping(c, n, "a drill", keys, drill_pair, d);
        if (!d->runbook)
            perr(c, n, "a drill has no runbook — add 'runbook: NAME'");
    }
}

static void verify_pair(ctx *c, const char *key, node *v, void *t)
{
    pol_policy *p = t;
    if (!strcmp(key, "reread_every"))
        duration(c, v, key, &p->reread_every);
}

static void top_pair(ctx *c, const char *key, node *v, void *t)
{
    static const char *const vkeys[] = {"reread_every", NULL};
    static const char *const rkeys[] = {"copies", "media_types", "offline", "offsite",
                                        "offline_max_age", NULL};
    pol_policy *p = t;
    if (!strcmp(key, "repository"))
        p->repository = str(c, v, key);
    else if (!strcmp(key, "passphrase_file"))
        p->passphrase_file = str(c, v, key);
    else if (!strcmp(key, "passphrase_command"))
        p->passphrase_command = str(c, v, key);
    else if (!strcmp(key, "rule_321"))
        mapping(c, v, "rule_321", rkeys, rule_pair, &p->rule);
    else if (!strcmp(key, "media"))
        media(c, v, p);
    else if (!strcmp(key, "datasets"))
        datasets(c, v, p);
    else if (!strcmp(key, "drills"))
        drills(c, v, p);
    else if (!strcmp(key, "verify"))
        mapping(c, v, "verify", vkeys, verify_pair, p);
}

/* Names unique, references defined. */
static void cross_check(ctx *c, pol_policy *p)
{
    for (size_t i = 0; i < p->nmedia; i++)
        for (size_t j = 0; j < i; j++)
            if (p->media[i].name && p->media[j].name && !strcmp(p->media[i].name, p->media[j].name))
                bkp_error("%s:%d: medium '%s' is defined twice (also on line %d) — give each a "
                          "different name",
                          c->file, p->media[i].line, p->media[i].name, p->media[j].line),
                    c->errors++;
    for (size_t i = 0; i < p->ndatasets; i++) {
        pol_dataset *d = &p->datasets[i];
        for (size_t j = 0; j < i; j++)
            if (d->name && p->datasets[j].name && !strcmp(d->name, p->datasets[j].name))
                bkp_error("%s:%d: data set '%s' is defined twice (also on line %d) — give each a "
                          "different name",
                          c->file, d->line, d->name, p->datasets[j].line),
                    c->errors++;
        for (size_t k = 0; k < d->ncopy_to; k++)
            if (!pol_medium_find(p, d->copy_to[k]))
                bkp_error("%s:%d: data set %s copies to '%s', which is not under media — define it "
                          "there or correct the name",
                          c->file, d->line, d->name ? d->name : "", d->copy_to[k]),
                    c->errors++;
    }
}

/* The last line of every refusal: nothing ran, and how to check again. */
static void refused(const char *file, int problems)
{
    bkp_error("%s: %d problem(s); nothing was run. Fix them and check with `bkp policy check "
              "--policy %s`",
              file, problems, file);
}

int pol_load(const char *file, pol_policy **out)
{
    ctx c = {.file = file};
    yaml_parser_t parser;
    FILE *f = fopen(file, "rb");
    int rc;
    if (!f) {
        rc = -errno;
        bkp_error("cannot read the policy %s: %s; give --policy FILE or set BKP_POLICY", file,
                  bkp_strerror(rc));
        return rc;
    }
    pol_policy *p = calloc(1, sizeof(*p));
    if (!p || !yaml_parser_initialize(&parser)) {
        fclose(f);
        free(p);
        return -ENOMEM;
    }
    p->file = strdup(file);
    p->rule = (pol_rule321){3, 2, 1, 1, 8 * 86400};
    p->reread_every = 30 * 86400;
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &c.doc)) {
        if (parser.context)
            bkp_error("%s:%zu: %s %s that starts on line %zu — check the indentation, brackets "
                      "and quoting there",
                      file, parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "invalid YAML", parser.context,
                      parser.context_mark.line + 1);
        else
            bkp_error("%s:%zu: %s — check the indentation and quoting near there", file,
                      parser.problem_mark.line + 1, parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        fclose(f);
        pol_free(p);
        refused(file, 1);
        return -EINVAL;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    node *root = yaml_document_get_root_node(&c.doc);
    static const char *const keys[] = {"repository", "passphrase_file", "passphrase_command",
                                       "rule_321",   "media",           "datasets",
                                       "drills",     "verify",          NULL};
    if (!root) {
        bkp_error("%s:1: the policy is empty — start from policies/examples/clinic.yaml", file);
        c.errors++;
    } else {
        mapping(&c, root, "the policy", keys, top_pair, p);
        if (!p->repository)
            perr(&c, root, "no repository — add 'repository: /srv/bkp/repo'");
        if (!p->ndatasets && root->type == YAML_MAPPING_NODE)
            perr(&c, root, "no datasets — add a 'datasets:' list naming what to back up");
        cross_check(&c, p);
    }
    yaml_document_delete(&c.doc);
    if (c.errors) {
        refused(file, c.errors);
        pol_free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_hook(pol_hook *h)
{
    free(h->command);
    free_list(h->env, h->nenv);
}

void pol_free(pol_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nmedia; i++) {
        free(p->media[i].name);
        free(p->media[i].path);
    }
    free(p->media);
    for (size_t i = 0; i < p->ndatasets; i++) {
        pol_dataset *d = &p->datasets[i];
        free(d->name);
        free(d->description);
        free_list(d->paths, d->npaths);
        free_list(d->exclude, d->nexclude);
        free_hook(&d->before);
        free_hook(&d->after);
        free_list(d->copy_to, d->ncopy_to);
        free(d->runbook);
    }
    free(p->datasets);
    for (size_t i = 0; i < p->ndrills; i++)
        free(p->drills[i].runbook);
    free(p->drills);
    free(p->file);
    free(p->repository);
    free(p->passphrase_file);
    free(p->passphrase_command);
    free(p);
}

const pol_dataset *pol_dataset_find(const pol_policy *p, const char *name)
{
    for (size_t i = 0; i < p->ndatasets; i++)
        if (p->datasets[i].name && !strcmp(p->datasets[i].name, name))
            return &p->datasets[i];
    return NULL;
}

const pol_medium *pol_medium_find(const pol_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nmedia; i++)
        if (p->media[i].name && !strcmp(p->media[i].name, name))
            return &p->media[i];
    return NULL;
}

const char *pol_medium_type_name(pol_medium_type t)
{
    return t == POL_DISK ? "disk" : t == POL_REMOVABLE ? "removable" : "archive";
}
