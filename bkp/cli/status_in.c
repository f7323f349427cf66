/*
 * status_in.c — what the program gives the status document
 * (bkp/ops/status.h): when each medium was last written, what media pinned
 * of the primary, whether a bucket's lock was proven. The document and the
 * page are made by the library; `bkp status`, `bkp run`, the metrics and
 * the evidence report ask through these.
 */
#include <errno.h>
#include <stdlib.h>

#include "bkp/cli/cli.h"
#include "bkp/io/log.h"
#include "bkp/ops/runbook_load.h"
#include "bkp/ops/status.h"
#include "restore/runbook.h"

static bool proven(void *ctx, const bkp_media_entry *entry, time_t *when)
{
    return cli_object_proven(ctx, entry, when);
}

/* Loaded as a drill would load it, its words held back: the status says
 * that it cannot be used, `bkp runbook show` why (at every run under cron
 * they would be the same mail each time). */
static bool runbook_usable(void *ctx, const char *name, const char *dataset)
{
    cli *c = ctx;
    rb_runbook *rb = NULL;
    bkp_log_scope *hush = bkp_log_scope_new(NULL, NULL), *was = bkp_log_scope_enter(hush);
    int rc = hush ? cli_runbook_load(c, name, &rb) : 0;
    if (!rc && rb && c->policy)
        rc = ops_runbook_fits(c->policy, rb, dataset);
    bkp_log_scope_enter(was);
    bkp_log_scope_close(hush, false);
    rb_free(rb);
    return rc == 0;
}

void cli_status_in(cli *c, pol_policy *p, ops_status_in *in)
{
    ops_pin_findings *pins = calloc(1, sizeof(*pins));
    /* Status is read-only: a primary behind a medium is shown, not fixed;
     * one that could not be compared is shown as that. */
    bool unchecked = !pins || cli_pins_check(c, NULL, pins) < 0;
    if (unchecked) {
        free(pins);
        pins = NULL;
    }
    *in = (ops_status_in){.repo = c->ro,
                          .policy = p,
                          .states = cli_media_states(c, p),
                          .pins = pins,
                          .pins_unchecked = unchecked,
                          .proven = proven,
                          .runbook_usable = runbook_usable,
                          .ctx = c,
                          .shown = !c->json,
                          .run_since = c->run_since};
}

void cli_status_in_clear(ops_status_in *in)
{
    if (in->pins)
        ops_pin_findings_clear((ops_pin_findings *)in->pins);
    free((ops_pin_findings *)in->pins);
    free((pol_medium_state *)in->states);
}

int cli_status(cli *c, rst_status *out, ops_status_log *log)
{
    pol_policy *p = cli_policy(c);
    ops_status_in in;
    *out = (rst_status){0};
    if (log)
        log->rc = -ENOENT;
    if (!p)
        return -ENOENT;
    cli_status_in(c, p, &in);
    int rc = ops_status(&in, out, log);
    cli_status_in_clear(&in);
    return rc;
}

int cli_status_doc(cli *c, rst_status *s, const ops_status_log *log)
{
    pol_policy *p = cli_policy(c);
    if (!p)
        return -ENOENT;
    ops_status_in in = {.repo = c->ro, .policy = p, .states = cli_media_states(c, p)};
    int rc = ops_status_doc(&in, s, log);
    free((pol_medium_state *)in.states);
    return rc;
}

int cli_status_page_write(const rst_status *s, const char *file, bool ja)
{
    return ops_status_page_write(s, file, ja);
}
