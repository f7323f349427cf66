/*
 * notify.c — alerts once per change (notify.h).
 */
#include <string.h>

#include "bkp/io/clock.h"
#include "policies/notify.h"

static json_t *event(const char *key, const char *what, const char *state, const char *previous,
                     time_t since, const char *summary, int severity)
{
    char iso[32];
    bkp_iso_time(iso, sizeof(iso), since);
    return json_pack("{s:s?, s:s, s:s?, s:s?, s:s, s:s, s:i}", "key", key, "event", what, "state",
                     state, "previous", previous, "since", iso, "summary", summary ? summary : "",
                     "severity", severity);
}

size_t pol_notify_decide(json_t *state, const pol_condition *v, size_t n, time_t now,
                         int64_t remind, json_t *events, bool *told)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        const pol_condition *c = &v[i];
        json_t *e = NULL, *was = c->key ? json_object_get(state, c->key) : NULL;
        const char *before = json_string_value(json_object_get(was, "state"));
        time_t since = (time_t)json_integer_value(json_object_get(was, "since"));
        time_t last = (time_t)json_integer_value(json_object_get(was, "told"));
        if (!c->key) {
            e = event(NULL, "event", c->state, NULL, now, c->summary, c->severity);
        } else if (!c->state && before) {
            e = event(c->key, "cleared", NULL, before, since, c->summary, 0);
            json_object_del(state, c->key);
        } else if (c->state && (!before || strcmp(before, c->state))) {
            e = event(c->key, before ? "changed" : "raised", c->state, before, now, c->summary,
                      c->severity);
            json_object_set_new(state, c->key,
                                json_pack("{s:s, s:I, s:I}", "state", c->state, "since",
                                          (json_int_t)now, "told", (json_int_t)now));
        } else if (c->state && remind > 0 && now - last >= remind) {
            e = event(c->key, "reminder", c->state, NULL, since, c->summary, c->severity);
            json_object_set_new(was, "told", json_integer((json_int_t)now));
        }
        if (e && c->summary_ja) /* the same words for a Japanese reader */
            json_object_set_new(e, "summary_ja", json_string(c->summary_ja));
        if (told)
            told[i] = e != NULL;
        if (e && !json_array_append_new(events, e))
            added++;
    }
    return added;
}

json_t *pol_notify_state_parse(const uint8_t *buf, size_t len)
{
    json_t *j = len ? json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *out = json_object(), *v;
    const char *key;
    json_object_foreach(json_is_object(j) ? j : NULL, key, v)
    {
        json_t *st = json_object_get(v, "state"), *since = json_object_get(v, "since"),
               *told = json_object_get(v, "told");
        if (json_is_string(st) && json_is_integer(since) && json_is_integer(told))
            json_object_set(out, key, v);
    }
    json_decref(j);
    return out;
}
