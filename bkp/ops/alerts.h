/*
 * alerts.h — alerts once per change, for `bkp run` (policies/notify.h
 * decides, bkp/host/notify_send.h tells): the run collects its conditions — each data
 * set's verdict, each backup that failed, the on-line copies, the re-read,
 * the drills, each off-line medium due — and one-off events (a suspicious
 * generation); what changed since the last run is told to the policy's
 * `notify:` command and mail, and recorded in the audit log. The state
 * lives in the repository's cache/notify.json (written durably); an event
 * that could not be delivered leaves the state as it was, so the next run
 * tells it again. Without `notify:` the state is kept all the same: the
 * run's own warnings follow it, so that cron mails once per change.
 */
#ifndef BKP_OPS_ALERTS_H
#define BKP_OPS_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/store/repo.h"
#include "policies/notify.h"
#include "policies/policy.h"

typedef struct ops_alerts {
    pol_condition *v;
    char **owned;
    size_t n, cap;
} ops_alerts;

/* A condition `key` (NULL: a one-off event) in `state` (NULL: fine), said
 * by `fmt`: a literal marked N_(), kept in English for the event and the
 * audit log, and through the catalogue for the terminal (ops_alert_shown).
 * Whether it was added (false: out of memory), for the words that follow
 * it (ops_alert_reshow, ops_alert_japanese) to be given only then. */
bool ops_alert(ops_alerts *a, const char *key, const char *state, int severity, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));
const char *ops_alert_shown(const ops_alerts *a, size_t i);
/* Say the last alert, condition `key`, otherwise on the terminal: its
 * arguments too in the reader's language (`fmt` a literal marked N_(),
 * translated here). Nothing when the last alert is not `key`'s (NULL: the
 * last was a one-off event). */
void ops_alert_reshow(ops_alerts *a, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for the Japanese words of the last alert, condition `key`
 * (its arguments already in Japanese): what the mail says to a Japanese
 * reader. */
void ops_alert_japanese(ops_alerts *a, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Give the last alert, condition `key`, its cause (pol_condition.cause). */
void ops_alert_cause(ops_alerts *a, const char *key, const char *cause);
/* Whether condition `key` in `state` of `cause` (NULL: none known) was
 * told before and is not to be told again at `now` (a reminder of
 * `policy`'s notify:, may be NULL), as repository `r`'s state of
 * notifications holds it (pol_notify_told). */
bool ops_alert_told(bkp_repo *r, const pol_policy *policy, const char *key, const char *state,
                    const char *cause, time_t now);
/* Mark the last alert, condition `key`, as one that only waits
 * (pol_condition.waiting). */
void ops_alert_waiting(ops_alerts *a, const char *key);
void ops_alerts_free(ops_alerts *a);

/* Judge `a` at `now` against repository `r`'s state, tell what changed to
 * `policy`'s notify: (may be NULL), record each event through `audit`, and
 * write the state back; `told[i]` (may be NULL) says which were told now —
 * a run's own warnings follow it. 0, the first delivery's error, or -ENOMEM. */
int ops_alerts_tell(bkp_repo *r, const pol_policy *policy, ops_alerts *a, time_t now, bool *told,
                    int (*audit)(void *ctx, const bkp_audit_rec *rec), void *ctx);

#endif
