/*
 * reread_sample.c — one sample of the rolling re-read (reread_sample.h).
 */
#include "bkp/audit/reread_sample.h"

#include <errno.h>
#include <stdlib.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/audit/reread.h"

static int set_reread(bkp_media_entry *e, void *ctx)
{
    bkp_reread copy;
    int rc = bkp_reread_copy(ctx, &copy);
    if (!rc) {
        bkp_reread_free(&e->reread);
        e->reread = copy;
    }
    return rc;
}

/* The state of the samples of `target`: the primary's cache, or the
 * registry entry of `medium` (checked when read, registry.h). */
static int state_of(const bkp_repo *r, const bkp_repo *target, const char *medium,
                    bkp_reread *state)
{
    bkp_media_entry *e = medium ? bkp_media_get(r, medium) : NULL;
    *state = (bkp_reread){0};
    int rc = !medium ? bkp_reread_load(target, state) : e ? bkp_reread_copy(&e->reread, state) : 0;
    bkp_media_free(e);
    return rc;
}

time_t bkp_reread_last(const bkp_repo *r, const bkp_repo *target, const char *medium)
{
    bkp_reread state;
    time_t last = state_of(r, target, medium, &state) ? 0 : state.last_run;
    bkp_reread_free(&state);
    return last;
}

int bkp_reread_sample(const bkp_repo *r, const bkp_repo *target, const char *medium, double pct,
                   int64_t period, int workers, bkp_verify_result *res)
{
    bkp_reread state;
    int rc = state_of(r, target, medium, &state);
    time_t now = bkp_now(), due = 0;
    size_t n = 0;
    if (rc)
        return rc;
    if (pct < 0) {
        time_t last = state.last_run;
        double share = last > 0 && now > last ? (double)(now - last) / (double)period
                                              : 86400.0 / (double)period;
        pct = share > 1 ? 100 : 100 * share;
        due = now - (time_t)period;
    }
    char **plan = bkp_reread_plan(bkp_repo_index(target), &state, pct, due, &n);
    rc = plan ? bkp_verify_packs(target, plan, n, workers, res) : -ENOMEM;
    if (rc >= 0) {
        int src = bkp_reread_mark(&state, plan, n, now);
        if (!src)
            src = medium ? bkp_media_update_ro(r, medium, set_reread, &state)
                         : bkp_reread_save_ro(r, &state);
        if (src == -EROFS && !medium)
            bkp_debug("a copy on a medium read by its path: its sample's state is not kept");
        else if (src)
            bkp_warn(_("cannot save the re-read state; the next sample may read the same packs"));
    }
    bkp_strv_free(plan, n);
    bkp_reread_free(&state);
    return rc;
}
