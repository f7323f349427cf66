/*
 * Recovery procedures loaded for the commands, and where their copies are
 * (runbook.h).
 */
#include "bkp/ops/runbook_load.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/medium_check.h"
#include "bkp/host/trust.h"

static int priority_of(const char *dataset, void *ctx)
{
    const pol_dataset *d = pol_dataset_find(ctx, dataset);
    return d ? d->priority : INT_MAX;
}

int ops_runbook_fits(const pol_policy *p, const rb_runbook *rb, const char *dataset)
{
    char names[512];
    bool named = !dataset;
    int rc = 0;
    for (size_t i = 0; i < rb->ndatasets; i++) {
        named |= dataset && !strcmp(rb->datasets[i], dataset);
        if (pol_dataset_find(p, rb->datasets[i]))
            continue;
        names[0] = '\0';
        for (size_t k = 0; k < p->ndatasets; k++)
            bkp_strappend(names, sizeof(names), "%s%s", k ? ", " : "", p->datasets[k].name);
        /* One the policy no longer backs up may still be kept (records
         * are kept for years): its drill works while the repository
         * holds it. Said, not refused. */
        bkp_warn(_("%s: it restores the data set '%s', which the policy %s does not have (it "
                   "has: %s): its drill works only while the repository still holds that data "
                   "set; if it is a data set of the policy under another name, write that name in "
                   "its datasets: and its steps' dataset:"),
                 rb->file, rb->datasets[i], p->file, names);
    }
    if (!named) {
        bkp_error(_("%s: the data set %s names this runbook, which does not restore it; add %s to "
                    "its datasets: (and a step that selects and restores it), or name another "
                    "runbook in the policy"),
                  rb->file, dataset, dataset);
        rc = -EINVAL;
    }
    return rc;
}

/* Does a data set before `i` of `p` name the runbook `name` already? */
static bool named_before(const pol_policy *p, size_t i, const char *name);

/* What to say after a runbook not found, when the policy names any: a data
 * set's name typed for its runbook's, or a runbook misspelt. "" for none. */
static void not_found_hint(const pol_policy *p, const char *name, char *hint, size_t n)
{
    const pol_dataset *d = p ? pol_dataset_find(p, name) : NULL;
    hint[0] = '\0';
    if (d && d->runbook) {
        snprintf(hint, n,
                 _("'%s' is a data set of the policy; the runbook that restores it is '%s': give "
                   "that name"),
                 name, d->runbook);
        return;
    }
    char list[512] = "";
    for (size_t i = 0; p && i < p->ndatasets; i++) {
        const char *r = p->datasets[i].runbook;
        size_t l = strlen(list);
        if (r && !named_before(p, i, r))
            snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", r);
    }
    if (list[0])
        snprintf(hint, n, _("the policy names these runbooks: %s"), list);
}

/* The runbook `name` as the policy names it: a data set's `runbook:` given
 * as a path is known by its file's stem too ("clinic" for
 * /etc/bkp/runbooks/clinic.yaml), as the drills and the records call it. */
static const char *as_named(const pol_policy *p, const char *name)
{
    char stem[256];
    for (size_t i = 0; p && !strchr(name, '/') && i < p->ndatasets; i++) {
        const char *r = p->datasets[i].runbook;
        if (!r || !strchr(r, '/'))
            continue;
        rb_runbook_stem(r, stem, sizeof(stem));
        if (!strcmp(stem, name))
            return r;
    }
    return name;
}

int ops_runbook_load(const pol_policy *p, const char *name, rb_runbook **out)
{
    name = as_named(p, name);
    char hint[768];
    not_found_hint(p, name, hint, sizeof(hint));
    char *file = rb_find(name, p ? p->file : NULL, hint[0] ? hint : NULL);
    if (!file)
        return -EINVAL;
    /* Its `run` and `check` steps run as root: believed only when no one
     * else may change it (trust.h), and read through the path checked. */
    char *real = NULL;
    int rc = bkp_trust_file(file, 0, N_("runbook"), &real);
    if (rc == -EPERM) {
        free(file);
        return -EINVAL;
    }
    rc = rb_load(real ? real : file, out);
    free(real);
    free(file);
    if (rc)
        return rc;
    /* What care needs back first is restored first (the data sets' priority). */
    if (p && rb_order_by_priority(*out, priority_of, (void *)p))
        bkp_info(_("%s: its data sets are restored in the order of their priority in %s, not as "
                   "written"),
                 (*out)->file, p->file);
    return 0;
}

/* Does a data set before `i` of `p` name the runbook `name` already? */
static bool named_before(const pol_policy *p, size_t i, const char *name)
{
    for (size_t k = 0; k < i; k++)
        if (p->datasets[k].runbook && !strcmp(p->datasets[k].runbook, name))
            return true;
    return false;
}

int ops_runbook_list(const pol_policy *p, ops_runbook_named **out, size_t *n)
{
    int rc = 0;
    *out = calloc(p->ndatasets + p->ndrills + 1, sizeof(**out));
    *n = 0;
    if (!*out)
        return -ENOMEM;
    /* The data sets' runbooks, then those only the drills name. */
    for (size_t i = 0; i < p->ndatasets + p->ndrills; i++) {
        const char *name =
            i < p->ndatasets ? p->datasets[i].runbook : p->drills[i - p->ndatasets].runbook;
        bool seen = false;
        for (size_t k = 0; k < *n; k++)
            seen |= !strcmp((*out)[k].name, name ? name : "");
        if (!name || seen)
            continue;
        ops_runbook_named *r = &(*out)[(*n)++];
        r->name = name;
        int e = ops_runbook_load(p, name, &r->rb);
        if (e)
            rc = e;
    }
    return rc;
}

void ops_runbook_list_free(ops_runbook_named *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rb_free(v[i].rb);
    free(v);
}

/* `s` as a YAML double-quoted scalar into `f`, every character that YAML
 * would fold or refuse escaped (a line break inside a value read back as a
 * space, and a raw one could end the printed block): C0 and C1 controls
 * (NEL among them) and DEL as \xNN, LS and PS as \L and \P. */
static void yq(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* C1, NEL among them */
            fprintf(f, "\\x%02x", p[1]), p++;
        else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            fputs(p[2] == 0xa8 ? "\\L" : "\\P", f), p += 2;
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The policy of a new machine that reads `p`'s buckets (ops_runbook_folders;
 * `p` has one at least). NULL without memory. */
static char *recovery_policy(const pol_policy *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fputs("repository: ", f);
    yq(f, p->repository);
    fputs("\n", f);
    if (p->language)
        fprintf(f, "language: %s\n", p->language);
    fputs("datasets:\n", f);
    size_t shown = 0;
    for (size_t i = 0; i < p->ndatasets; i++) {
        const pol_dataset *ds = &p->datasets[i];
        if (!ds->npaths)
            continue; /* a stream: its command is the server's */
        fputs("  - name: ", f);
        yq(f, ds->name);
        fputs("\n    paths: [", f);
        for (size_t k = 0; k < ds->npaths; k++) {
            fputs(k ? ", " : "", f);
            yq(f, ds->paths[k]);
        }
        fputs("]\n", f);
        shown++;
    }
    if (!shown && p->ndatasets) { /* a policy names one at least */
        fputs("  - name: ", f);
        yq(f, p->datasets[0].name);
        fputs("\n    paths: [\"/var/restore\"]\n", f);
    }
    fputs("media:\n", f);
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_object *o = pol_medium_bucket(&p->media[i]);
        if (!o)
            continue;
        fputs("  - name: ", f);
        yq(f, p->media[i].name);
        fputs("\n    type: object\n    endpoint: ", f);
        yq(f, o->endpoint);
        fputs("\n    bucket: ", f);
        yq(f, o->bucket);
        fputs("\n    region: ", f);
        yq(f, o->region);
        fputs("\n    credentials_file: ", f);
        yq(f, o->credentials_file);
        fprintf(f, "\n    location: %s\n", p->media[i].offsite ? "offsite" : "onsite");
    }
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}

int ops_runbook_folders(const pol_policy *p, rb_folders *out)
{
    /* A data set of one folder is restored as its contents (procedure.h). */
    *out = (rb_folders){0};
    if (!p)
        return 0;
    if (!(out->v = calloc(p->ndatasets + 1, sizeof(*out->v))))
        return -ENOMEM;
    for (size_t i = 0; i < p->ndatasets; i++)
        if (p->datasets[i].npaths == 1)
            out->v[out->n++] = (rb_folder){p->datasets[i].name, p->datasets[i].paths[0]};
    if (!(out->buckets = calloc(p->nmedia + 1, sizeof(*out->buckets)))) {
        rb_folders_clear(out);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->nmedia; i++)
        if (pol_medium_bucket(&p->media[i]))
            out->buckets[out->nbuckets++] = p->media[i].name;
    if (out->nbuckets && !(out->recovery = recovery_policy(p))) {
        rb_folders_clear(out);
        return -ENOMEM;
    }
    return 0;
}

static bool suspect(const bkp_gen *g)
{
    return bkp_gen_marked(g) && !g->cleared;
}

static bool listed(const bkp_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

/* The primary's newest usable generation of `ds` into `out` (when `out`);
 * the uuids of its suspicious ones into `suspects`. */
static int primary_copy(const bkp_repo *r, const char *ds, bkp_strlist *suspects, rb_copies *out)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    char when[32], name[96];
    int rc = 0;
    if (!r || bkp_gen_list(r, ds, &v, &n))
        return 0;
    for (size_t x = 0; x < n && !rc; x++)
        if (!v[x]->pruned && !v[x]->status && suspect(v[x]))
            rc = bkp_strlist_add(suspects, v[x]->uuid);
    for (size_t x = n; out && !rc && x-- > 0;)
        if (!v[x]->pruned && !v[x]->status && !suspect(v[x])) {
            bkp_local_time(when, sizeof(when), v[x]->finished, "-");
            bkp_gen_name(v[x], name, sizeof(name));
            rb_copy row = {.medium = "repository",
                           .type = "disk",
                           .location = "onsite",
                           .generation = name,
                           .captured = when};
            rc = rb_copies_add(out, &row);
            break;
        }
    bkp_gen_list_free(v, n);
    return rc;
}

static bool plain_path(const char *p)
{
    size_t n = strlen(p);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '|')
            return false;
    return n < 1000;
}

/* The row of medium entry `e`'s held generation `g` of `ds` into `out`;
 * off-line as policy `p` (may be NULL) says, else as its type is. */
static int held_row(const pol_policy *p, const bkp_media_entry *e, const bkp_media_held *g,
                    rb_copies *out)
{
    const bkp_label *lab = &e->label;
    char gen[128], when[32];
    snprintf(gen, sizeof(gen), "%s:%u", g->dataset, g->seq);
    bkp_local_time(when, sizeof(when), bkp_iso_parse(g->finished), "-");
    pol_medium_type kind;
    bool known = !pol_medium_type_named(lab->type, &kind);
    const pol_medium *pm = p ? pol_medium_find(p, lab->name) : NULL;
    rb_copy row = {.medium = (char *)lab->name,
                   .type = (char *)lab->type,
                   .location = (char *)lab->location,
                   .offline = pm ? pm->offline : !known || pol_type_offline(kind),
                   .generation = gen,
                   .captured = when};
    memcpy(row.kit, e->kit_sha256, sizeof(row.kit));
    /* Where it was mounted, for the commands a new machine runs from it: a
     * path a person can read and type from paper (no control characters, no
     * '|' that a table would escape, short enough for a command line). */
    if (known && pol_type_at_path(kind) && e->path && plain_path(e->path)) {
        row.path = e->path;
        row.archive = pol_type_write_once(kind);
    }
    return rb_copies_add(out, &row);
}

static int by_seq_desc(const void *a, const void *b)
{
    uint32_t x = (*(const bkp_media_held *const *)a)->seq;
    uint32_t y = (*(const bkp_media_held *const *)b)->seq;
    return (x < y) - (x > y);
}

int ops_runbook_held(const bkp_repo *r, const pol_policy *p, const bkp_media_entry *e,
                     const rb_runbook *rb, rb_copies *out)
{
    if (!e)
        return 0;
    const bkp_media_held **v = calloc(e->n_held + 1, sizeof(*v));
    int rc = v ? 0 : -ENOMEM;
    for (size_t d = 0; !rc && d < rb->ndatasets; d++) {
        size_t m = 0;
        bkp_strlist suspects = {0};
        rc = primary_copy(r, rb->datasets[d], &suspects, NULL);
        for (size_t k = 0; !rc && k < e->n_held; k++) {
            const bkp_media_held *g = &e->held[k];
            if (!strcmp(g->dataset, rb->datasets[d]) && !listed(&suspects, g->uuid))
                v[m++] = g;
        }
        bkp_strlist_clear(&suspects);
        qsort(v, m, sizeof(*v), by_seq_desc);
        for (size_t k = 0; !rc && k < m; k++)
            rc = held_row(p, e, v[k], out);
    }
    free(v);
    return rc;
}

/* Medium entry `e`'s newest generation of `ds` not among `suspects` into
 * `out`, when it holds one. */
static int medium_copy(const pol_policy *p, const bkp_media_entry *e, const char *ds,
                       const bkp_strlist *suspects, rb_copies *out)
{
    const bkp_media_held *best = NULL;
    for (size_t k = 0; k < e->n_held; k++) {
        const bkp_media_held *g = &e->held[k];
        if (!strcmp(g->dataset, ds) && !listed(suspects, g->uuid) &&
            (!best || g->seq > best->seq))
            best = g;
    }
    return best ? held_row(p, e, best, out) : 0;
}

int ops_runbook_copies(const bkp_repo *r, const pol_policy *p, const rb_runbook *rb,
                       rb_copies *out)
{
    bkp_media_entry *reg = NULL;
    size_t n = 0;
    int rc = r ? bkp_media_list(r, &reg, &n) : 0;
    for (size_t d = 0; !rc && d < rb->ndatasets; d++) {
        bkp_strlist suspects = {0}; /* uuids of marked, uncleared generations */
        rc = primary_copy(r, rb->datasets[d], &suspects, out);
        for (size_t i = 0; !rc && i < n; i++)
            rc = medium_copy(p, &reg[i], rb->datasets[d], &suspects, out);
        bkp_strlist_clear(&suspects);
    }
    bkp_media_entries_free(reg, n);
    return rc;
}
