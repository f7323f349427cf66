/*
 * The figures of a run for the metrics file (run_metrics.h).
 */
#include "bkp/ops/run_metrics.h"

json_t *ops_run_metrics(const ops_run_result *res, double seconds)
{
    json_t *ds = json_array();
    for (size_t i = 0; i < res->n; i++) {
        const ops_run_outcome *o = &res->v[i];
        json_t *d = json_pack("{s:s, s:b, s:I}", "dataset", o->d->name, "failed", o->failed,
                              "last_success", (json_int_t)o->last_success);
        if (d && o->b.gen) {
            json_object_set_new(d, "seconds", json_real(o->b.seconds));
            json_object_set_new(d, "read_bytes", json_integer((json_int_t)o->b.stats.bytes_read));
            json_object_set_new(d, "added_bytes", json_integer((json_int_t)o->b.stats.stored_new));
        }
        json_array_append_new(ds, d);
    }
    return json_pack("{s:f, s:o}", "seconds", seconds, "datasets", ds);
}
