/* rotate_record.c — see rotate_record.h. */
#include "bkp/io/clock.h"
#include "bkp/ops/rotate_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

int ops_rotate_figures_add(ops_rotate_figures *f, const char *name)
{
    char (*v)[96] = realloc(f->generations, (f->ngenerations + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    f->generations = v;
    snprintf(v[f->ngenerations++], sizeof(*v), "%s", name);
    return 0;
}

void ops_rotate_figures_clear(ops_rotate_figures *f)
{
    free(f->generations);
    memset(f, 0, sizeof(*f));
    f->held = -1;
}

/* The figures as the record keeps them. */
static json_t *figures_json(const ops_rotate_figures *f)
{
    json_t *names = json_array();
    int bad = !names;
    for (size_t i = 0; !bad && i < f->ngenerations; i++)
        bad = json_array_append_new(names, json_string(f->generations[i]));
    json_t *j = bad ? NULL
                    : json_pack("{s:o, s:I}", "generations", names, "bytes", (json_int_t)f->bytes);
    if (bad)
        json_decref(names);
    bad = !j;
    if (!bad && f->packs_given)
        bad = json_object_update_new(j, json_pack("{s:I, s:I, s:I}", "packs",
                                                  (json_int_t)f->packs, "packs_present",
                                                  (json_int_t)f->packs_present, "records",
                                                  (json_int_t)f->records));
    if (!bad && f->held >= 0)
        bad = json_object_set_new(j, "held", json_integer(f->held));
    if (!bad && f->kit_sha256[0])
        bad = json_object_set_new(j, "kit_sha256", json_string(f->kit_sha256));
    if (!bad && f->keys_serial)
        bad = json_object_set_new(j, "keys_serial", json_integer((json_int_t)f->keys_serial));
    /* A bucket's lock and its generations together, or neither: a reader
     * of the log tells GOVERNANCE-locked generations by both. */
    if (!bad && f->mode)
        bad = json_object_update_new(j, json_pack("{s:s, s:I, s:I}", "mode", f->mode,
                                                  "locks_extended", (json_int_t)f->locks_extended,
                                                  "retain_until", (json_int_t)f->retain_until));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int ops_rotate_record(bkp_repo *primary, const char *medium, bool failed, const char *why,
                      const char *why_ja, bool refused, bkp_gen **pick, size_t np,
                      const ops_rotate_figures *f)
{
    json_t *fig = figures_json(f);
    if (!fig) {
        bkp_error(_("%s: the record of the rotation cannot be made (out of memory)"), medium);
        return -ENOMEM;
    }
    /* What the medium holds after it: the capture time of each data set's
     * newest generation (the age of the off-line copy counts from there). */
    json_t *captured = json_object();
    for (size_t i = 0; i < np; i++) {
        char fin[32];
        if (!pick[i]->finished)
            continue; /* no capture time to say */
        bkp_iso_time(fin, sizeof(fin), pick[i]->finished);
        json_object_set_new(captured, pick[i]->dataset, json_string(fin));
    }
    json_object_set_new(fig, "captured", captured);
    if (failed && refused) /* stopped before it wrote: the medium is as it was */
        json_object_set_new(fig, "refused", json_true());
    bkp_audit_rec rec = {.op = "rotate",
                         .medium = medium,
                         .failed = failed,
                         .figures = fig,
                         .error =
                             failed ? (why && *why ? why : "see the messages of bkp rotate") : NULL,
                         .error_ja = failed ? why_ja : NULL};
    int rc = bkp_audit_append(primary, &rec);
    json_decref(fig);
    return rc;
}

/* The figures of `e` when it is a rotation's record, else none. */
static const json_t *rotation_figures(const bkp_audit_entry *e)
{
    return e->op && !strcmp(e->op, "rotate") ? e->figures : NULL; /* an empty slot has none */
}

uint64_t ops_rotation_keys_serial(const bkp_audit_entry *e)
{
    json_t *v = json_object_get(rotation_figures(e), "keys_serial");
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

bool ops_rotation_refused(const bkp_audit_entry *e)
{
    return json_is_true(json_object_get(rotation_figures(e), "refused"));
}

const char *ops_rotation_lock(const bkp_audit_entry *e)
{
    return json_string_value(json_object_get(rotation_figures(e), "mode"));
}

const char *ops_rotation_generation(const bkp_audit_entry *e, size_t i)
{
    json_t *v = json_array_get(json_object_get(rotation_figures(e), "generations"), i);
    return !v ? NULL : json_is_string(v) ? json_string_value(v) : "";
}

time_t ops_rotation_captured(const bkp_audit_entry *e, const char *ds)
{
    const char *c =
        json_string_value(json_object_get(json_object_get(rotation_figures(e), "captured"), ds));
    time_t t = c ? bkp_iso_parse(c) : -1;
    return t > 0 ? t : 0;
}

int ops_held_add(ops_held *h, const bkp_gen *g)
{
    char fin[32];
    bkp_iso_time(fin, sizeof(fin), g->finished);
    if (!g->finished || strlen(fin) >= sizeof(h->v->finished))
        return 0; /* no capture time: the registry would refuse the entry (bkp/media/registry.c) */
    bkp_media_held *v = realloc(h->v, (h->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    h->v = v;
    bkp_media_held *x = &v[h->n];
    memset(x, 0, sizeof(*x));
    snprintf(x->dataset, sizeof(x->dataset), "%s", g->dataset);
    x->seq = g->seq;
    snprintf(x->uuid, sizeof(x->uuid), "%s", g->uuid);
    snprintf(x->finished, sizeof(x->finished), "%s", fin);
    h->n++;
    return 0;
}

void ops_held_clear(ops_held *h)
{
    free(h->v);
    memset(h, 0, sizeof(*h));
}

int ops_held_figures(const ops_held *h, ops_rotate_figures *f)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < h->n; i++) {
        char name[96];
        snprintf(name, sizeof(name), "%s:%u", h->v[i].dataset, h->v[i].seq);
        rc = ops_rotate_figures_add(f, name);
    }
    return rc;
}

int ops_held_of(bkp_repo *dst, ops_held *out)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = 0;
    ops_held_clear(out);
    if (bkp_gen_list(dst, NULL, &v, &n))
        return 0; /* not known: the registry keeps the list it has */
    out->known = true;
    for (size_t i = 0; !rc && i < n; i++)
        if (!v[i]->pruned && !v[i]->status)
            rc = ops_held_add(out, v[i]);
    bkp_gen_list_free(v, n);
    return rc;
}

int ops_kit_write(const char *dir, const char *medium, const bkp_kit_doc *docs, size_t ndocs,
                  bkp_kit_result *res)
{
    int rc = bkp_kit_write(dir, docs, ndocs, res);
    if (rc)
        ops_kit_warn(medium, rc);
    return rc;
}

void ops_kit_warn(const char *medium, int rc)
{
    bkp_warn(_("%s: its recovery kit could not be written (%s); the copy is complete, but a "
               "clean machine needs bkp installed to read it"),
             medium, bkp_strerror(rc));
}
