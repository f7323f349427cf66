/*
 * One medium as the media commands give it (media_doc.h).
 */
#include "bkp/ops/media_doc.h"

#include "bkp/io/clock.h"

json_t *ops_medium_doc(const ops_medium_facts *m, time_t due, time_t now)
{
    char when[32] = "";
    json_t *e = m->entry ? bkp_media_entry_json(m->entry) : json_object();
    if (!e)
        return NULL;
    if (due == 1)
        due = now; /* never written: due now */
    if (due)
        bkp_iso_time(when, sizeof(when), due);
    json_object_set_new(e, "name", json_string(m->name));
    json_object_set_new(e, "type", json_string(m->type));
    json_object_set_new(e, "location", json_string(m->location ? m->location : "?"));
    json_object_set_new(e, "offline", json_boolean(m->offline));
    json_object_set_new(e, "path", m->path ? json_string(m->path) : json_null());
    const pol_object *o = pol_medium_bucket(m->pm);
    if (o)
        json_object_set_new(e, "bucket", json_string(o->bucket));
    json_object_set_new(e, "in_policy", json_boolean(m->pm != NULL));
    json_object_set_new(e, "labelled", json_boolean(m->entry != NULL));
    json_object_set_new(e, "generations", json_integer(m->entry ? (json_int_t)m->entry->n_held : 0));
    json_object_set_new(e, "next_due", due ? json_string(when) : json_null());
    json_object_set_new(e, "rotate_every", json_integer(m->pm ? m->pm->rotate_every : 0));
    return e;
}
