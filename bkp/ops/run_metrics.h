/*
 * run_metrics.h — what a `bkp run` adds to the metrics file (--metrics,
 * the Prometheus textfile the program writes): how long the run took, and
 * per data set whether it failed, its last success and, when a generation
 * was sealed, its time, bytes read and bytes added.
 */
#ifndef BKP_OPS_RUN_METRICS_H
#define BKP_OPS_RUN_METRICS_H

#include "bkp/io/bytes.h"
#include "bkp/ops/run.h"

/* A family's HELP and TYPE lines (a gauge), into `m`. */
void ops_metrics_family(bkp_buf *m, const char *name, const char *help);

/* The families of the run `res` that took `seconds`, as Prometheus text,
 * appended to `m` (m->failed without memory). */
void ops_run_metrics(const ops_run_result *res, double seconds, bkp_buf *m);

#endif
