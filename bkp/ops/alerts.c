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
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/host/notify_send.h"
#include "bkp/ops/alerts.h"

#define STATE_MAX (1U << 20)
/* What each alert owns: key, state, summary, shown, Japanese, cause. */
#define OWNED 6

bool ops_alert(ops_alerts *a, const char *key, const char *state, int severity, const char *fmt,
               ...)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void *v = realloc(a->v, cap * sizeof(*a->v)), *o = NULL;
        if (v)
            a->v = v;
        if (v && !(o = realloc(a->owned, OWNED * cap * sizeof(*a->owned))))
            return false;
        if (!v)
            return false;
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
    a->owned[OWNED * a->n] = k;
    a->owned[OWNED * a->n + 1] = s;
    a->owned[OWNED * a->n + 2] = summary;
    a->owned[OWNED * a->n + 3] = shown;
    a->owned[OWNED * a->n + 4] = ja;
    a->owned[OWNED * a->n + 5] = NULL;
    a->v[a->n++] = (pol_condition){.key = k,
                                   .state = s,
                                   .summary = summary ? summary : "",
                                   .severity = severity,
                                   .summary_ja = ja};
    return true;
}

/* Is the last alert condition `key`'s (NULL: a one-off event, as it was)? */
static bool last_is(const ops_alerts *a, const char *key)
{
    const char *last = a->n ? a->owned[OWNED * (a->n - 1)] : NULL;
    return a->n && (key ? last && !strcmp(last, key) : !last);
}

void ops_alert_reshow(ops_alerts *a, const char *key, const char *fmt, ...)
{
    char *shown;
    va_list ap;
    if (!last_is(a, key))
        return;
    va_start(ap, fmt);
    if (vasprintf(&shown, _(fmt), ap) >= 0) {
        free(a->owned[OWNED * (a->n - 1) + 3]);
        a->owned[OWNED * (a->n - 1) + 3] = shown;
    }
    va_end(ap);
}

void ops_alert_cause(ops_alerts *a, const char *key, const char *cause)
{
    char *c = last_is(a, key) && cause ? strdup(cause) : NULL;
    if (!c)
        return; /* without memory: no cause known, no change told for it */
    free(a->owned[OWNED * (a->n - 1) + 5]);
    a->owned[OWNED * (a->n - 1) + 5] = c;
    a->v[a->n - 1].cause = c;
}

void ops_alert_waiting(ops_alerts *a, const char *key)
{
    if (last_is(a, key))
        a->v[a->n - 1].waiting = true;
}

void ops_alert_japanese(ops_alerts *a, const char *key, const char *fmt, ...)
{
    char *ja = NULL;
    va_list ap;
    if (!last_is(a, key))
        return;
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    va_start(ap, fmt);
    if (vasprintf(&ja, _(fmt), ap) < 0)
        ja = NULL;
    va_end(ap);
    bkp_i18n_end(&saved);
    if (ja) {
        free(a->owned[OWNED * (a->n - 1) + 4]);
        a->owned[OWNED * (a->n - 1) + 4] = ja;
        a->v[a->n - 1].summary_ja = ja;
    }
}

const char *ops_alert_shown(const ops_alerts *a, size_t i)
{
    const char *shown = a->owned[OWNED * i + 3];
    return shown ? shown : a->v[i].summary;
}

void ops_alerts_free(ops_alerts *a)
{
    for (size_t i = 0; i < OWNED * a->n; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static void load_state(const char *path, pol_notify_state *s)
{
    bkp_buf b;
    bkp_buf_init(&b);
    int rc = bkp_read_file(path, &b, STATE_MAX);
    if (pol_notify_state_parse(rc ? NULL : b.data, rc ? 0 : b.len, s))
        *s = (pol_notify_state){0}; /* without memory: everything is told again */
    bkp_buf_free(&b);
}

/* How often a lasting condition is told again: `policy`'s notify:, else a day. */
static int64_t remind_of(const pol_policy *policy)
{
    return policy ? policy->notify.remind_every : 86400;
}

/* Where the state lives: the repository's cache folder into `*cache`, and
 * the file's path, both malloc'd (NULL without memory, both freed). */
static char *state_path(bkp_repo *r, char **cache)
{
    char *path = NULL;
    *cache = bkp_repo_subpath(r, "cache");
    if (*cache && asprintf(&path, "%s/notify.json", *cache) < 0)
        path = NULL;
    if (!path) {
        free(*cache);
        *cache = NULL;
    }
    return path;
}

bool ops_alert_told(bkp_repo *r, const pol_policy *policy, const char *key, const char *state,
                    const char *cause, time_t now)
{
    char *cache, *path = state_path(r, &cache);
    bool told = false;
    if (path) {
        pol_notify_state s;
        load_state(path, &s);
        told = pol_notify_told(&s, &(pol_condition){.key = key, .state = state, .cause = cause},
                               now, remind_of(policy));
        pol_notify_state_free(&s);
    }
    free(path);
    free(cache);
    return told;
}

/* The event as JSON: the command's input and the audit record's figures.
 * The words are bytes a person wrote or a path (a host name, a folder in
 * another encoding): \xNN where they are not UTF-8, never a lost event.
 * Keys that say nothing are left out, but for the lasting condition's own
 * (key, state, previous: null when it has none). */
static json_t *event_json(const bkp_notify_event *e)
{
    char iso[32];
    bkp_iso_time(iso, sizeof(iso), e->since);
    json_t *j = json_pack("{s:s?, s:s, s:s?, s:s?, s:s, s:o, s:i, s:o, s:o}", "key", e->key,
                          "event", e->kind, "state", e->state, "previous", e->previous, "since",
                          iso, "summary", bkp_json_bytes(e->summary), "severity", e->severity,
                          "host", bkp_json_bytes(e->host), "repository",
                          bkp_json_bytes(e->repository));
    if (j && e->summary_ja)
        json_object_set_new(j, "summary_ja", bkp_json_bytes(e->summary_ja));
    if (j && e->facility)
        json_object_set_new(j, "facility", bkp_json_bytes(e->facility));
    if (j && e->cause)
        json_object_set_new(j, "cause", json_string(e->cause));
    return j;
}

int ops_alerts_tell(bkp_repo *r, const pol_policy *policy, ops_alerts *a, time_t now, bool *told,
                    int (*audit)(void *ctx, const bkp_audit_rec *rec), void *ctx)
{
    const pol_notify *nt = policy ? &policy->notify : NULL;
    char *cache, *path = state_path(r, &cache), host[256] = "localhost";
    pol_event *events = calloc(a->n ? a->n : 1, sizeof(*events));
    if (!events || !path) {
        free(events);
        free(path);
        free(cache);
        return -ENOMEM;
    }
    (void)gethostname(host, sizeof(host) - 1);
    pol_notify_state state, before;
    load_state(path, &state);
    load_state(path, &before);
    size_t nev = pol_notify_decide(&state, a->v, a->n, now, remind_of(policy), events, told);
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
    /* Each event to the command, as it is (a program reads one event at a
     * time); all of them in one mail (people read one a run). */
    struct told {
        bkp_notify_event e;
        json_t *j;      /* the event, for the command and the audit record */
        int command_rc; /* how the command took it */
    } *v = calloc(nev ? nev : 1, sizeof(*v));
    bkp_notify_event *mail_v = calloc(nev ? nev : 1, sizeof(*mail_v)); /* the mail's copies */
    bool mem = v && mail_v;
    int first = mem ? 0 : -ENOMEM;
    for (size_t i = 0; mem && i < nev; i++) {
        const pol_event *pe = &events[i];
        /* Where it happened, for whoever reads it on another machine. */
        v[i].e = (bkp_notify_event){.kind = pol_event_kind_name(pe->kind),
                                    .key = pe->key,
                                    .state = pe->state,
                                    .previous = pe->previous,
                                    .cause = pe->cause,
                                    .since = pe->since,
                                    .summary = pe->summary,
                                    .summary_ja = pe->summary_ja,
                                    .severity = pe->severity,
                                    .host = host,
                                    .repository = bkp_repo_path(r),
                                    .facility = policy ? policy->facility : NULL};
        v[i].j = event_json(&v[i].e);
        v[i].e.json = v[i].j ? json_dumps(v[i].j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        v[i].command_rc = bkp_notify_command(&t, &v[i].e);
        mail_v[i] = v[i].e;
    }
    int mail_rc = mem ? bkp_notify_mail_send(&t, mail_v, nev) : -ENOMEM;
    for (size_t i = 0; mem && i < nev; i++) {
        const pol_event *pe = &events[i];
        /* Each event as its own command and the one mail took it. */
        int rc = v[i].command_rc ? v[i].command_rc : mail_rc;
        if (rc && pe->key) /* not told: as it was, told again next time */
            (void)pol_notify_state_undo(&state, &before, pe->key);
        json_object_set_new(v[i].j, "delivered", json_boolean(!rc && (t.command || t.mail_to)));
        bkp_audit_rec rec = {.op = "notify",
                             .failed = rc != 0,
                             .figures = v[i].j,
                             .error = rc ? bkp_strerror_en(rc) : NULL};
        (void)audit(ctx, &rec);
        first = first ? first : rc;
        free((char *)v[i].e.json);
        json_decref(v[i].j);
    }
    if (!mem) /* without memory: nothing told, all told again next time */
        for (size_t i = 0; i < nev; i++)
            if (events[i].key)
                (void)pol_notify_state_undo(&state, &before, events[i].key);
    free(v);
    free(mail_v);
    char *text = pol_notify_state_text(&state);
    int rc = !text
                 ? -ENOMEM
                 : bkp_durable_write(cache, "notify.json", text, strlen(text), BKP_DURABLE_PRIVATE);
    if (rc)
        bkp_warn(_("the state of notifications (%s) could not be written (%s); the next run may "
                   "tell the same events again"),
                 path, bkp_strerror(rc));
    free(text);
    pol_events_free(events, nev);
    free(events);
    pol_notify_state_free(&before);
    pol_notify_state_free(&state);
    free(path);
    free(cache);
    return first;
}
