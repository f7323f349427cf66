/*
 * notify.h — alerts once per change: which conditions to tell people about
 * now, from what was told before. Pure: the caller keeps the state and
 * delivers the events (bkp/host/notify_send.h).
 *
 * A condition has a key ("verdict:emr", "backup:emr", "due:usb-b", ...) and
 * a state: NULL when it is fine, else a word ("AT RISK", "failed",
 * "overdue"). Against what was told before:
 *
 *   not told, now bad                 → "raised"
 *   told, now bad in another way      → "changed" (AT RISK → NON-COMPLIANT;
 *                                         or a backup that failed before
 *                                         fails of another cause)
 *   told, same, a reminder due        → "reminder" (at the first run after
 *                                         each multiple of `remind` since the
 *                                         epoch, when told half a period or
 *                                         more before it: lasting conditions
 *                                         are reminded together, in one run
 *                                         a period, not each at its hour)
 *   told, now fine                    → "cleared"
 *   anything else                     → nothing
 *
 * Only the conditions given are judged: a key not evaluated this time (a
 * data set `bkp run --dataset` did not run) keeps its state. An event that
 * is not a lasting condition (a suspicious generation sealed) has no key and
 * is always told, once.
 *
 * The state is kept as a file (the repository's cache/notify.json):
 * {KEY: {"state", "since", "told", "cause"}}, times in seconds since the
 * epoch, "cause" only where the condition has one.
 * This header's parse and text are its one codec.
 */
#ifndef POL_NOTIFY_H
#define POL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct pol_condition {
    const char *key;     /* NULL: a one-off event */
    const char *state;   /* NULL: fine (or, for a one-off, its kind) */
    const char *summary; /* one line for people: what, and what to do next (English) */
    int severity;        /* 0 info, 1 warning, 2 error */
    const char *summary_ja; /* the same in Japanese, or NULL (the event's "summary_ja") */
    /* Nothing to do yet, only to wait (a verdict the schedule will mend):
     * told as the change of a condition already told, never raised anew
     * nor reminded. */
    bool waiting;
    /* Why it is in its state, in a word that stays the same while the
     * cause does ("before-hook:-10:2:0", "error:-28"), or NULL (none
     * known): another cause in the same state is a change, and so is a
     * cause where the state kept none (kept before causes were: told once
     * more, never a new cause hidden). */
    const char *cause;
} pol_condition;

/* What was told of one condition. */
typedef struct pol_notify_entry {
    char *key, *state;
    char *cause;  /* pol_condition.cause, or NULL */
    time_t since; /* when it began */
    time_t told;  /* when it was last told */
    bool waiting; /* told as a verdict with nothing to do ("waiting"): a cause
                     that comes later is a change, told at once */
} pol_notify_entry;

typedef struct pol_notify_state {
    pol_notify_entry *v; /* in no order; keys unique */
    size_t n, cap;
} pol_notify_state;

typedef enum pol_event_kind {
    POL_EVENT_ONE_OFF, /* "event" */
    POL_EVENT_RAISED,
    POL_EVENT_CHANGED,
    POL_EVENT_REMINDER,
    POL_EVENT_CLEARED,
} pol_event_kind;

/* One event for people. The strings but `previous` are the condition's. */
typedef struct pol_event {
    pol_event_kind kind;
    const char *key;        /* NULL: a one-off */
    const char *state;      /* what it is now; NULL when cleared */
    const char *cause;      /* why (pol_condition.cause), or NULL */
    char *previous;         /* what it was (changed, cleared), or NULL; owned */
    time_t since;           /* when it began */
    const char *summary;    /* never NULL */
    const char *summary_ja; /* or NULL */
    int severity;
} pol_event;

/* The event's kind as written: "event", "raised", "changed", "reminder",
 * "cleared". */
const char *pol_event_kind_name(pol_event_kind k);

/* The state as kept in a file (`len` bytes, or buf NULL): whatever the file
 * held — not JSON, not an object, entries not of the shape above or with
 * times before 1970 — gives a state without them (they are told again).
 * 0, or -ENOMEM. */
int pol_notify_state_parse(const uint8_t *buf, size_t len, pol_notify_state *out);
/* The state as kept (malloc'd JSON text, keys sorted), or NULL without
 * memory. Parsing it gives the same state. */
char *pol_notify_state_text(const pol_notify_state *s);
/* The entry of `key`, or NULL. */
const pol_notify_entry *pol_notify_state_get(const pol_notify_state *s, const char *key);
/* Whether `c` was told as it is now — its key in its state, of its cause
 * (or, now, none known) — and is not to be told again at `now` (a reminder
 * every `remind` seconds, 0 never): what pol_notify_decide would tell
 * nothing of. */
bool pol_notify_told(const pol_notify_state *s, const pol_condition *c, time_t now, int64_t remind);
/* Put back what `before` held of `key` (or nothing): an event that was not
 * delivered is told again at the next run. 0, or -ENOMEM. */
int pol_notify_state_undo(pol_notify_state *s, const pol_notify_state *before, const char *key);
void pol_notify_state_free(pol_notify_state *s);

/* Judge conditions `v[0..n)` at `now` against `state` (updated). Events for
 * people go to `events` (room for `n`), in the conditions' order; `remind`
 * in seconds (0: never). Returns how many; `told[i]` (may be NULL) says
 * whether condition i produced one. Without memory a condition is left as
 * it was, untold: it is judged again at the next run. */
size_t pol_notify_decide(pol_notify_state *state, const pol_condition *v, size_t n, time_t now,
                         int64_t remind, pol_event *events, bool *told);
void pol_events_free(pol_event *events, size_t n);

#endif
