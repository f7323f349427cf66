/*
 * The figures of a run for the metrics file (run_metrics.h).
 */
#include "bkp/ops/run_metrics.h"

#include <stdio.h>
#include <string.h>

#define ADD(...) (snprintf(line, sizeof(line), __VA_ARGS__), bkp_buf_put(m, line, strlen(line)))

void ops_metrics_family(bkp_buf *m, const char *name, const char *help)
{
    char line[512];
    ADD("# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void ops_run_metrics(const ops_run_result *res, double seconds, bkp_buf *m)
{
    char line[512];
    ops_metrics_family(m, "bkp_run_duration_seconds", "Duration of the last bkp run.");
    ADD("bkp_run_duration_seconds %.3f\n", seconds);
    ops_metrics_family(m, "bkp_last_success_timestamp_seconds",
                       "End of the newest sealed generation.");
    for (size_t i = 0; i < res->n; i++)
        ADD("bkp_last_success_timestamp_seconds{dataset=\"%s\"} %lld\n", res->v[i].d->name,
            (long long)res->v[i].last_success);
    ops_metrics_family(m, "bkp_last_run_failed", "1 if the data set failed in the last run.");
    for (size_t i = 0; i < res->n; i++)
        ADD("bkp_last_run_failed{dataset=\"%s\"} %d\n", res->v[i].d->name, res->v[i].failed);
    ops_metrics_family(m, "bkp_last_run_capture_seconds",
                       "Capture duration of the data set in the last run.");
    ops_metrics_family(m, "bkp_last_run_read_bytes", "Bytes read of the data set in the last run.");
    ops_metrics_family(m, "bkp_last_run_added_bytes", "Bytes the last run added to the repository.");
    for (size_t i = 0; i < res->n; i++) {
        const ops_run_outcome *o = &res->v[i];
        if (!o->b.gen)
            continue; /* nothing sealed this time */
        ADD("bkp_last_run_capture_seconds{dataset=\"%s\"} %.3f\n", o->d->name, o->b.seconds);
        ADD("bkp_last_run_read_bytes{dataset=\"%s\"} %llu\n", o->d->name,
            (unsigned long long)o->b.stats.bytes_read);
        ADD("bkp_last_run_added_bytes{dataset=\"%s\"} %llu\n", o->d->name,
            (unsigned long long)o->b.stats.stored_new);
    }
}
