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

int ops_runbook_load(const pol_policy *p, const char *name, rb_runbook **out)
{
    char *file = rb_find(name, p ? p->file : NULL);
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

int ops_runbook_list(const pol_policy *p, json_t **out)
{
    int rc = 0;
    *out = json_array();
    for (size_t i = 0; i < p->ndatasets; i++) {
        const char *name = p->datasets[i].runbook;
        if (!name || named_before(p, i, name))
            continue;
        rb_runbook *rb = NULL;
        int e = ops_runbook_load(p, name, &rb);
        if (e)
            rc = e;
        json_t *ds = json_array();
        for (size_t k = 0; rb && k < rb->ndatasets; k++)
            json_array_append_new(ds, json_string(rb->datasets[k]));
        json_array_append_new(*out, json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:o, s:b}", "name", name,
                                              "title", rb ? rb->title : NULL, "file",
                                              rb ? rb->file : NULL, "rto_seconds",
                                              (json_int_t)(rb ? rb->rto : 0), "steps",
                                              (json_int_t)(rb ? rb->nsteps : 0), "datasets", ds,
                                              "valid", rb != NULL));
        rb_free(rb);
    }
    return rc;
}

json_t *ops_runbook_folders(const pol_policy *p)
{
    /* A data set of one folder is restored as its contents (procedure.h). */
    json_t *folders = json_object();
    for (size_t i = 0; p && i < p->ndatasets; i++)
        if (p->datasets[i].npaths == 1)
            json_object_set_new(folders, p->datasets[i].name, json_string(p->datasets[i].paths[0]));
    return folders;
}

static bool suspect(const bkp_gen *g)
{
    return bkp_gen_marked(g) && !g->cleared;
}

/* The primary's newest usable generation of `ds` into `out`; the uuids of
 * its suspicious ones into `suspects`. */
static void primary_copy(const bkp_repo *r, const char *ds, json_t *suspects, json_t *out)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    char when[32], name[96];
    if (!r || bkp_gen_list(r, ds, &v, &n))
        return;
    for (size_t x = 0; x < n; x++)
        if (!v[x]->pruned && !v[x]->status && suspect(v[x]))
            json_object_set_new(suspects, v[x]->uuid, json_true());
    for (size_t x = n; x-- > 0;)
        if (!v[x]->pruned && !v[x]->status && !suspect(v[x])) {
            bkp_local_time(when, sizeof(when), v[x]->finished, "-");
            json_array_append_new(
                out, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "medium", "repository", "type",
                               "disk", "location", "onsite", "offline", 0, "generation",
                               bkp_gen_name(v[x], name, sizeof(name)), "captured", when));
            break;
        }
    bkp_gen_list_free(v, n);
}

/* The row of medium entry `e`'s held generation `g` of `ds`. */
static json_t *held_row(const bkp_media_entry *e, const bkp_media_held *g)
{
    const bkp_label *lab = &e->label;
    char gen[128], when[32];
    snprintf(gen, sizeof(gen), "%s:%u", g->dataset, g->seq);
    bkp_local_time(when, sizeof(when), bkp_iso_parse(g->finished), "-");
    pol_medium_type kind;
    bool offline = pol_medium_type_named(lab->type, &kind) || !pol_type_connected(kind);
    json_t *c = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "medium", lab->name, "type", lab->type,
                          "location", lab->location, "offline", offline, "generation", gen,
                          "captured", when);
    if (c && e->kit_sha256[0])
        json_object_set_new(c, "kit", json_string(e->kit_sha256));
    /* Where it was mounted, for the commands a new machine runs from it. */
    bool at_path = !pol_medium_type_named(lab->type, &kind) && pol_type_at_path(kind);
    if (c && e->path && at_path) {
        json_object_set_new(c, "path", json_string(e->path));
        json_object_set_new(c, "archive", json_boolean(pol_type_write_once(kind)));
    }
    return c;
}

static int by_seq_desc(const void *a, const void *b)
{
    uint32_t x = (*(const bkp_media_held *const *)a)->seq;
    uint32_t y = (*(const bkp_media_held *const *)b)->seq;
    return (x < y) - (x > y);
}

json_t *ops_runbook_held(const bkp_repo *r, const bkp_media_entry *e, const rb_runbook *rb)
{
    json_t *out = json_array();
    if (!e)
        return out;
    const bkp_media_held **v = e->n_held ? calloc(e->n_held, sizeof(*v)) : NULL;
    size_t k;
    for (size_t d = 0; v && d < rb->ndatasets; d++) {
        size_t m = 0;
        json_t *suspects = json_object(), *ignored = json_array();
        primary_copy(r, rb->datasets[d], suspects, ignored);
        for (k = 0; k < e->n_held; k++) {
            const bkp_media_held *g = &e->held[k];
            if (!strcmp(g->dataset, rb->datasets[d]) && !json_object_get(suspects, g->uuid))
                v[m++] = g;
        }
        json_decref(suspects);
        json_decref(ignored);
        qsort(v, m, sizeof(*v), by_seq_desc);
        for (k = 0; k < m; k++)
            json_array_append_new(out, held_row(e, v[k]));
    }
    free(v);
    return out;
}

/* Medium entry `e`'s newest generation of `ds` not among `suspects` into
 * `out`, when it holds one. */
static void medium_copy(const bkp_media_entry *e, const char *ds, json_t *suspects, json_t *out)
{
    const bkp_media_held *best = NULL;
    for (size_t k = 0; k < e->n_held; k++) {
        const bkp_media_held *g = &e->held[k];
        if (!strcmp(g->dataset, ds) && !json_object_get(suspects, g->uuid) &&
            (!best || g->seq > best->seq))
            best = g;
    }
    if (best)
        json_array_append_new(out, held_row(e, best));
}

json_t *ops_runbook_copies(const bkp_repo *r, const rb_runbook *rb)
{
    json_t *out = json_array();
    bkp_media_entry *reg = NULL;
    size_t n = 0;
    if (r && bkp_media_list(r, &reg, &n)) {
        json_decref(out);
        return NULL;
    }
    for (size_t d = 0; d < rb->ndatasets; d++) {
        json_t *suspects = json_object(); /* uuids of marked, uncleared generations */
        primary_copy(r, rb->datasets[d], suspects, out);
        for (size_t i = 0; i < n; i++)
            medium_copy(&reg[i], rb->datasets[d], suspects, out);
        json_decref(suspects);
    }
    bkp_media_entries_free(reg, n);
    return out;
}
