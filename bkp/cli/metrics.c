/*
 * The Prometheus text file (node exporter's textfile collector) that `bkp
 * run --metrics FILE` and `bkp status --metrics FILE` write: names with the
 * unit last (`_seconds`, `_bytes`, `_timestamp_seconds`), one family per
 * fact. From `bkp status`: each data set's verdict (one series per verdict,
 * 1 for the one it is), generations, the age of its freshest off-line and
 * non-editable copies, the last verification and drill, whether its newest
 * generation is suspicious; each medium's next rotation; whether the audit
 * log reaches its signed head marker. From the run (when there is one): its
 * duration and each data set's outcome, capture time, bytes read and added.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/run_metrics.h"

#define ADD(...) (snprintf(line, sizeof(line), __VA_ARGS__), bkp_buf_put(m, line, strlen(line)))

#define family ops_metrics_family

/* The age at `now` of the freshest copy on media of `d` that is
 * non-editable; -1 when none. */
static int64_t non_editable_age(const rst_dataset *d, time_t now)
{
    time_t best = 0;
    for (size_t i = 0; i < d->ncopies; i++)
        if (d->copies[i].non_editable && d->copies[i].captured > best)
            best = d->copies[i].captured;
    return best ? (int64_t)(now - best) : -1;
}

static bool newest_suspicious(bkp_gen **v, size_t n, const char *dataset)
{
    for (size_t i = n; i-- > 0;)
        if (!strcmp(v[i]->dataset, dataset) && !v[i]->pruned && !v[i]->status)
            return bkp_gen_marked(v[i]) && !v[i]->cleared;
    return false;
}

static void status_metrics(cli *c, bkp_buf *m)
{
    char line[512];
    time_t now = bkp_now();
    rst_status st;
    bkp_gen **v = NULL;
    size_t n = 0;
    (void)cli_status(c, &st, NULL); /* empty when it cannot be gathered */
    if (bkp_gen_list(c->ro, NULL, &v, &n))
        n = 0;
    const rst_dataset *all = st.datasets;
    family(m, "bkp_verdict", "The 3-2-1 verdict of the data set (1 for the one it is).");
    for (size_t i = 0; i < st.ndatasets; i++)
        for (int k = POL_COMPLIANT; k <= POL_NON_COMPLIANT; k++)
            ADD("bkp_verdict{dataset=\"%s\",verdict=\"%s\"} %d\n", all[i].name,
                pol_verdict_name((pol_verdict)k), all[i].verdict == (pol_verdict)k);
    family(m, "bkp_generations", "Sealed generations of the data set in the repository.");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_generations{dataset=\"%s\"} %zu\n", all[i].name, all[i].generations);
    family(m, "bkp_offline_copy_age_seconds",
           "Age of the freshest off-line copy of the data set (-1: none).");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_offline_copy_age_seconds{dataset=\"%s\"} %lld\n", all[i].name,
            all[i].counted.offline > 0 ? (long long)all[i].offline_age : -1LL);
    family(m, "bkp_non_editable_copy_age_seconds",
           "Age of the freshest non-editable copy of the data set (-1: none).");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_non_editable_copy_age_seconds{dataset=\"%s\"} %lld\n", all[i].name,
            (long long)non_editable_age(&all[i], now));
    family(m, "bkp_last_verify_timestamp_seconds",
           "When the data set's generations were last verified (0: never).");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_last_verify_timestamp_seconds{dataset=\"%s\"} %lld\n", all[i].name,
            (long long)all[i].last_verify.time);
    /* The drill status shows: the newest failure among the data set's
     * runbooks' last drills, else the newest drill (ops/status.c). */
    family(m, "bkp_last_drill_timestamp_seconds",
           "When the drill status shows ran: a runbook's last drill that failed, else the "
           "newest (0: never).");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_last_drill_timestamp_seconds{dataset=\"%s\"} %lld\n", all[i].name,
            (long long)all[i].last_drill.when.time);
    family(m, "bkp_last_drill_failed",
           "1 when a runbook's last drill of the data set failed, 0 when none did or none ran.");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_last_drill_failed{dataset=\"%s\"} %d\n", all[i].name,
            rst_event_failed(&all[i].last_drill.when) ? 1 : 0);
    family(m, "bkp_newest_generation_suspicious",
           "1 when the data set's newest generation is marked suspicious and not cleared.");
    for (size_t i = 0; i < st.ndatasets; i++)
        ADD("bkp_newest_generation_suspicious{dataset=\"%s\"} %d\n", all[i].name,
            newest_suspicious(v, n, all[i].name));
    pol_policy *p = c->policy;
    family(m, "bkp_medium_next_rotation_timestamp_seconds",
           "When the medium is next due for a rotation (0: no rotation period).");
    for (size_t k = 0; p && k < p->nmedia; k++)
        ADD("bkp_medium_next_rotation_timestamp_seconds{medium=\"%s\"} %lld\n", p->media[k].name,
            p->media[k].rotate_every ? (long long)cli_medium_due(c, p->media[k].name) : 0LL);
    /* The log whole up to its signed head marker: cheap (its last line and
     * the marker), so it can run every 15 minutes; every record's signature
     * and link is checked by `bkp verify` and `bkp audit verify`. */
    family(m, "bkp_audit_head_ok",
           "1 when the audit log is whole up to its signed head marker (not missing, emptied, "
           "cut short or rewritten at its end).");
    bool head_ok = false; /* false too when the log cannot be read */
    (void)bkp_audit_report_state(c->ro, &head_ok);
    ADD("bkp_audit_head_ok %d\n", head_ok);
    bkp_gen_list_free(v, n);
    rst_status_clear(&st);
}

int cli_metrics_write(cli *c, const char *file, const ops_run_result *run, double seconds)
{
    bkp_buf m;
    bkp_buf_init(&m);
    if (run)
        ops_run_metrics(run, seconds, &m);
    status_metrics(c, &m);
    char *copy1 = strdup(file), *copy2 = strdup(file);
    const char *dir = copy1 ? dirname(copy1) : NULL;
    /* The node exporter's folder may not exist before its first textfile. */
    int rc = m.failed || !copy1 || !copy2 ? -ENOMEM : bkp_mkdir_p(dir, 0755);
    if (!rc)
        rc = bkp_durable_write(dir, basename(copy2), m.data, m.len, 0);
    if (rc)
        bkp_error(_("cannot write the metrics file %s: %s"), file, bkp_strerror(rc));
    free(copy1);
    free(copy2);
    bkp_buf_free(&m);
    return rc;
}
