/*
 * run_metrics.h — what a `bkp run` adds to the metrics file (--metrics,
 * the Prometheus textfile the program writes): how long the run took, and
 * per data set whether it failed, its last success and, when a generation
 * was sealed, its time, bytes read and bytes added.
 */
#ifndef BKP_OPS_RUN_METRICS_H
#define BKP_OPS_RUN_METRICS_H

#include <jansson.h>

#include "bkp/ops/run.h"

/* {seconds, datasets: [{dataset, failed, last_success[, seconds,
 * read_bytes, added_bytes]}]} of the run `res` that took `seconds`: a new
 * reference, NULL without memory. */
json_t *ops_run_metrics(const ops_run_result *res, double seconds);

#endif
