/*
 * alerts.c — alerts once per change (alerts.h): the conditions collected,
 * judged against the state in cache/notify.json, told and recorded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/host/notify_send.h"
#include "bkp/ops/alerts.h"

#define STATE_MAX (1U << 20)

void ops_alert(ops_alerts *a, const char *key, const char *state, int severity, const char *fmt,
               ...)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void *v = realloc(a->v, cap * sizeof(*a->v)), *o = NULL;
        if (v)
            a->v = v;
        if (v && !(o = realloc(a->owned, 5 * cap * sizeof(*a->owned))))
            return;
        if (!v)
            return;
        a->owned = o;
        a->cap = cap;
    }
    char *summary = NULL, *shown = NULL, *ja = NULL, *k = key ? strdup(key) : NULL,
         *s = state ? strdup(state) : NULL;
    va_list ap, ap2, ap3;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    va_copy(ap3, ap);
    if (vasprintf(&summary, fmt, ap) < 0)
        summary = NULL;
    /* The same words through the catalogue, for the terminal; the event and
     * the audit log keep the English (i18n.h), and carry the Japanese for
     * a Japanese reader of the mail, whatever cron's locale. */
    if (vasprintf(&shown, _(fmt), ap2) < 0)
        shown = NULL;
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    if (vasprintf(&ja, _(fmt), ap3) < 0)
        ja = NULL;
    bkp_i18n_end(&saved);
    va_end(ap3);
    va_end(ap2);
    va_end(ap);
    a->owned[5 * a->n] = k;
    a->owned[5 * a->n + 1] = s;
    a->owned[5 * a->n + 2] = summary;
    a->owned[5 * a->n + 3] = shown;
    a->owned[5 * a->n + 4] = ja;
    a->v[a->n++] = (pol_condition){k, s, summary ? summary : "", severity, ja};
}

void ops_alert_reshow(ops_alerts *a, const char *key, const char *fmt, ...)
{
    char *shown;
    va_list ap;
    const char *last = a->n ? a->owned[5 * (a->n - 1)] : NULL;
    if (!last || strcmp(last, key))
        return;
    va_start(ap, fmt);
    if (vasprintf(&shown, _(fmt), ap) >= 0) {
        free(a->owned[5 * (a->n - 1) + 3]);
        a->owned[5 * (a->n - 1) + 3] = shown;
    }
    va_end(ap);
}

void ops_alert_japanese(ops_alerts *a, const char *key, const char *fmt, ...)
{
    char *ja = NULL;
    va_list ap;
    const char *last = a->n ? a->owned[5 * (a->n - 1)] : NULL;
    if (!last || strcmp(last, key))
        return;
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    va_start(ap, fmt);
    if (vasprintf(&ja, _(fmt), ap) < 0)
        ja = NULL;
    va_end(ap);
    bkp_i18n_end(&saved);
    if (ja) {
        free(a->owned[5 * (a->n - 1) + 4]);
        a->owned[5 * (a->n - 1) + 4] = ja;
        a->v[a->n - 1].summary_ja = ja;
    }
}

const char *ops_alert_shown(const ops_alerts *a, size_t i)
{
    const char *shown = a->owned[5 * i + 3];
    return shown ? shown : a->v[i].summary;
}

void ops_alerts_free(ops_alerts *a)
{
    for (size_t i = 0; i < 5 * a->n; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static json_t *load_state(const char *path)
{
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = bkp_read_file(path, &b, STATE_MAX);
    json_t *j = pol_notify_state_parse(rc ? NULL : b.data, rc ? 0 : b.len);
    bkp_buf_free(&b);
    return j ? j : json_object();
}

int ops_alerts_tell(bkp_repo *r, const pol_policy *policy, ops_alerts *a, time_t now, bool *told,
                    int (*audit)(void *ctx, const bkp_audit_rec *rec), void *ctx)
{
    const pol_notify *nt = policy ? &policy->notify : NULL;
    char *cache = bkp_repo_subpath(r, "cache"), *path = NULL, host[256] = "localhost";
    if (!cache || asprintf(&path, "%s/notify.json", cache) < 0) {
        free(cache);
        return -ENOMEM;
    }
    (void)gethostname(host, sizeof(host) - 1);
    json_t *state = load_state(path), *before = json_deep_copy(state), *events = json_array();
    pol_notify_decide(state, a->v, a->n, now, nt ? nt->remind_every : 86400, events, told);
    bkp_notify_target t = {0};
    if (nt) {
        t = (bkp_notify_target){.command = nt->command.command,
                                .timeout = nt->command.timeout,
                                .run_as = nt->command.run_as,
                                .env = nt->command.env,
                                .nenv = nt->command.nenv,
                                .mail_to = nt->mail_to,
                                .mail_from = nt->mail_from,
                                .sendmail = nt->sendmail,
                                .mail_run_as = nt->mail_run_as,
                                .english = policy->language && !strcmp(policy->language, "en")};
    }
    json_t *e;
    size_t i;
    int first = 0;
    json_array_foreach(events, i, e)
    {
        /* Where it happened, for whoever reads it on another machine. */
        json_object_set_new(e, "host", json_string(host));
        json_object_set_new(e, "repository", json_string(bkp_repo_path(r)));
        if (policy && policy->facility)
            json_object_set_new(e, "facility", json_string(policy->facility));
        int rc = t.command || t.mail_to ? bkp_notify_send(&t, e, host) : 0;
        const char *key = json_string_value(json_object_get(e, "key"));
        if (rc && key) { /* not told: as it was, told again next time */
            json_t *was = json_object_get(before, key);
            if (was)
                json_object_set(state, key, was);
            else
                json_object_del(state, key);
        }
        json_object_set_new(e, "delivered", json_boolean(!rc && (t.command || t.mail_to)));
        bkp_audit_rec rec = {
            .op = "notify", .failed = rc != 0, .figures = e, .error = rc ? bkp_strerror_en(rc) : NULL};
        (void)audit(ctx, &rec);
        first = first ? first : rc;
    }
    char *text = json_dumps(state, JSON_INDENT(1) | JSON_SORT_KEYS);
    int rc = !text
                 ? -ENOMEM
                 : bkp_durable_write(cache, "notify.json", text, strlen(text), BKP_DURABLE_PRIVATE);
    if (rc)
        bkp_warn(_("the state of notifications (%s) could not be written (%s); the next run may "
                   "tell the same events again"),
                 path, bkp_strerror(rc));
    free(text);
    json_decref(events);
    json_decref(before);
    json_decref(state);
    free(path);
    free(cache);
    return first;
}
