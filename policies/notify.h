/*
 * notify.h — alerts once per change: which conditions to tell people about
 * now, from what was told before. Pure: the caller keeps the state (a JSON
 * object) and delivers the events (bkp/host/notify_send.h).
 *
 * A condition has a key ("verdict:emr", "backup:emr", "due:usb-b", ...) and
 * a state: NULL when it is fine, else a word ("AT RISK", "failed",
 * "overdue"). Against what was told before:
 *
 *   not told, now bad                 → "raised"
 *   told, now bad in another way      → "changed" (AT RISK → NON-COMPLIANT)
 *   told, same, `remind` has passed   → "reminder" (at most one per period)
 *   told, now fine                    → "cleared"
 *   anything else                     → nothing
 *
 * Only the conditions given are judged: a key not evaluated this time (a
 * data set `bkp run --dataset` did not run) keeps its state. An event that
 * is not a lasting condition (a suspicious generation sealed) has no key and
 * is always told, once.
 */
#ifndef POL_NOTIFY_H
#define POL_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct pol_condition {
    const char *key;     /* NULL: a one-off event */
    const char *state;   /* NULL: fine (or, for a one-off, its kind) */
    const char *summary; /* one line for people: what, and what to do next (English) */
    int severity;        /* 0 info, 1 warning, 2 error */
    const char *summary_ja; /* the same in Japanese, or NULL (the event's "summary_ja") */
} pol_condition;

/* Judge conditions `v[0..n)` at `now` against `state` ({KEY: {"state",
 * "since", "told"}}, updated in place); events for people are appended to
 * `events` ([{"key", "event", "state", "previous", "since", "summary",
 * "severity"}]). `remind` in seconds (0: never). Returns how many were
 * appended; `told[i]` (may be NULL) says whether condition i produced one. */
/* The state as kept in a file (`len` bytes): a JSON object, whatever the
 * file held — anything else, or entries not of the shape above, give a state
 * without them (they are told again). Never NULL but for lack of memory. */
json_t *pol_notify_state_parse(const uint8_t *buf, size_t len);

size_t pol_notify_decide(json_t *state, const pol_condition *v, size_t n, time_t now,
                         int64_t remind, json_t *events, bool *told);

#endif
