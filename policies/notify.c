/*
 * notify.c — alerts once per change (notify.h): the judgement, and the
 * state's codec.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "policies/notify.h"

const char *pol_event_kind_name(pol_event_kind k)
{
    static const char *const names[] = {"event", "raised", "changed", "reminder", "cleared"};
    return (size_t)k < sizeof(names) / sizeof(*names) ? names[k] : "event";
}

static pol_notify_entry *find(const pol_notify_state *s, const char *key)
{
    for (size_t i = 0; key && i < s->n; i++)
        if (!strcmp(s->v[i].key, key))
            return &s->v[i];
    return NULL;
}

const pol_notify_entry *pol_notify_state_get(const pol_notify_state *s, const char *key)
{
    return find(s, key);
}

static void del(pol_notify_state *s, pol_notify_entry *e)
{
    free(e->key);
    free(e->state);
    free(e->cause);
    *e = s->v[--s->n];
}

/* Set `key` to `state` (of `cause`, may be NULL) since `since`, told at
 * `told`; `fresh`: the caller knows `key` is not there yet (a parse, whose
 * keys are unique). */
static int put(pol_notify_state *s, const char *key, const char *state, const char *cause,
               time_t since, time_t told, bool waiting, bool fresh)
{
    char *st = strdup(state), *ca = cause ? strdup(cause) : NULL;
    pol_notify_entry *e = fresh ? NULL : find(s, key);
    if (!st || (cause && !ca)) {
        free(st);
        free(ca);
        return -ENOMEM;
    }
    if (!e) {
        char *k = bkp_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 8) ? NULL : strdup(key);
        if (!k) {
            free(st);
            free(ca);
            return -ENOMEM;
        }
        e = &s->v[s->n++];
        *e = (pol_notify_entry){.key = k};
    }
    free(e->state);
    free(e->cause);
    e->state = st;
    e->cause = ca;
    e->since = since;
    e->told = told;
    e->waiting = waiting;
    return 0;
}

int pol_notify_state_undo(pol_notify_state *s, const pol_notify_state *before, const char *key)
{
    const pol_notify_entry *was = find(before, key);
    pol_notify_entry *now = find(s, key);
    if (was)
        return put(s, key, was->state, was->cause, was->since, was->told, was->waiting, false);
    if (now)
        del(s, now);
    return 0;
}

void pol_notify_state_free(pol_notify_state *s)
{
    while (s->n)
        del(s, &s->v[s->n - 1]);
    free(s->v);
    *s = (pol_notify_state){0};
}

int pol_notify_state_parse(const uint8_t *buf, size_t len, pol_notify_state *out)
{
    *out = (pol_notify_state){0};
    json_t *j = buf && len ? json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL)
                           : NULL, *v;
    const char *key;
    int rc = 0;
    json_object_foreach(json_is_object(j) ? j : NULL, key, v)
    {
        json_t *st = json_object_get(v, "state"), *since = json_object_get(v, "since"),
               *told = json_object_get(v, "told"), *cause = json_object_get(v, "cause");
        /* Times before the epoch are no one's: told again. A cause not a
         * string is not known. */
        if (!rc && json_is_string(st) && json_is_integer(since) && json_is_integer(told) &&
            json_integer_value(since) >= 0 && json_integer_value(told) >= 0)
            rc = put(out, key, json_string_value(st), json_string_value(cause),
                     (time_t)json_integer_value(since), (time_t)json_integer_value(told),
                     json_is_true(json_object_get(v, "waiting")), true);
    }
    json_decref(j);
    if (rc)
        pol_notify_state_free(out);
    return rc;
}

char *pol_notify_state_text(const pol_notify_state *s)
{
    json_t *j = json_object();
    int bad = !j;
    for (size_t i = 0; !bad && i < s->n; i++)
        bad = json_object_set_new(
            j, s->v[i].key,
            json_pack("{s:s, s:I, s:I, s:o*, s:s*}", "state", s->v[i].state, "since",
                      (json_int_t)s->v[i].since, "told", (json_int_t)s->v[i].told, "waiting",
                      s->v[i].waiting ? json_true() : NULL, "cause", s->v[i].cause));
    char *text = bad ? NULL : json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(j);
    return text;
}

void pol_events_free(pol_event *events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(events[i].previous);
}

/* Is `c` in its state told in `was` of another cause? When `c` has one
 * and `was` another or none (a state kept before causes were: told once
 * more, never a new cause hidden). */
static bool other_cause(const pol_notify_entry *was, const pol_condition *c)
{
    return c->cause && (!was->cause || strcmp(was->cause, c->cause));
}

/* Is a reminder of `was` due at `now`? Reminders fall due together, at
 * the first run after each multiple of `remind` since the epoch (for a day:
 * 00:00 UTC, 09:00 in Japan), for every lasting condition told half a
 * period or more before it: conditions raised at different hours are
 * reminded in one run a period (one mail), never each at its own hour,
 * and each at most once a period, at least every one and a half. The same
 * of every condition, whatever else was told: whether one is due never
 * depends on another. */
static bool remind_due(const pol_notify_entry *was, time_t now, int64_t remind)
{
    if (remind <= 0 || now < 0)
        return false;
    time_t grid = now - now % remind; /* the last multiple at or before now */
    return was->told <= grid - remind / 2;
}

bool pol_notify_told(const pol_notify_state *s, const pol_condition *c, time_t now, int64_t remind)
{
    const pol_notify_entry *e = find(s, c->key);
    return e && c->state && !strcmp(e->state, c->state) && !other_cause(e, c) &&
           (c->waiting || !remind_due(e, now, remind));
}

size_t pol_notify_decide(pol_notify_state *state, const pol_condition *v, size_t n, time_t now,
                         int64_t remind, pol_event *events, bool *told)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        const pol_condition *c = &v[i];
        pol_notify_entry *was = find(state, c->key);
        pol_event e = {.key = c->key,
                       .state = c->state,
                       .cause = c->cause,
                       .summary = c->summary ? c->summary : "",
                       .summary_ja = c->summary_ja,
                       .severity = c->severity,
                       .since = now};
        bool tell = true;
        if (!c->key) {
            e.kind = POL_EVENT_ONE_OFF;
        } else if (!c->state && was) {
            e.kind = POL_EVENT_CLEARED;
            e.since = was->since;
            e.severity = 0;
            /* The words it had move to the event. */
            e.previous = was->state;
            was->state = NULL;
            del(state, was);
        } else if (c->state && c->waiting && !was) {
            tell = false; /* nobody was told of it: nothing to tell */
        } else if (c->state && (!was || strcmp(was->state, c->state) ||
                                (was->waiting && !c->waiting) || other_cause(was, c))) {
            /* A new state, the same one that now has something to do, or
             * the same of another cause (since it began, then). */
            bool same = was && !strcmp(was->state, c->state);
            e.kind = was ? POL_EVENT_CHANGED : POL_EVENT_RAISED;
            e.since = same ? was->since : now;
            tell = !(was && !(e.previous = strdup(was->state))) &&
                   !put(state, c->key, c->state, c->cause, e.since, now, c->waiting, false);
        } else if (c->state && !c->waiting && remind_due(was, now, remind)) {
            e.kind = POL_EVENT_REMINDER;
            e.since = was->since;
            was->told = now;
        } else {
            tell = false;
            if (c->state && was)
                was->waiting = c->waiting; /* nothing left to do: a cause again is a change */
        }
        if (!tell)
            free(e.previous);
        else
            events[added++] = e;
        if (told)
            told[i] = tell;
    }
    return added;
}
