/*
 * The 3-2-1 verdict of a data set and the rotation of its media
 * (compliance.h). Pure: everything comes from the policy, what the catalog
 * knows and the injected `now`; nothing is logged here, the caller says it.
 * Reasons and the action are written in the language of the messages
 * (bkp/io/i18n.h): a caller wanting English for programs asks under
 * bkp_i18n_begin(&s, "en").
 */
#include "policies/compliance.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "policies/retention.h"
#include "policies/schedule.h"

#define MINUTE 60
#define HOUR 3600
#define DAY 86400

/* The largest time_t, for due dates that would overflow, and the least. */
#define TIME_MAX ((time_t)(((uintmax_t)1 << (sizeof(time_t) * 8 - 1)) - 1))
#define TIME_MIN (-TIME_MAX - 1)

/* ---- text: never overrun, never unterminated, a long text is cut ---- */

static void __attribute__((format(printf, 3, 0)))
vfmt(char *buf, size_t n, const char *f, va_list ap)
{
    int r = n ? vsnprintf(buf, n, f, ap) : 0;
    if (r < 0)
        buf[0] = '\0';
    else if (n && (size_t)r >= n) { /* cut: never inside a character (UTF-8) */
        size_t end = n - 1;
        while (end > 0 && ((unsigned char)buf[end - 1] & 0xC0) == 0x80)
            end--;
        if (end > 0 && ((unsigned char)buf[end - 1] & 0x80))
            end--; /* the lead byte of the character cut */
        buf[end] = '\0';
    }
}

static void __attribute__((format(printf, 3, 4))) fmt(char *buf, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vfmt(buf, n, f, ap);
    va_end(ap);
}

/* The next reason, most serious first: callers add them in that order, so
 * the ones beyond POL_REASONS that are dropped are the least serious. */
static void __attribute__((format(printf, 2, 3))) reason(pol_status *out, const char *f, ...)
{
    va_list ap;
    if (out->nreasons >= POL_REASONS)
        return;
    va_start(ap, f);
    vfmt(out->reasons[out->nreasons++], sizeof(out->reasons[0]), f, ap);
    va_end(ap);
}

/* The next action, after the more urgent ones: `text` unless an earlier
 * one says the same (two findings fixed by one rotation) or it is empty. */
static void act(pol_status *out, const char *text)
{
    if (!*text || out->nactions >= POL_ACTIONS)
        return;
    for (size_t i = 0; i < out->nactions; i++)
        if (!strcmp(out->actions[i], text))
            return;
    fmt(out->actions[out->nactions++], sizeof(out->actions[0]), "%s", text);
}

/* ngettext's count: a long long, whatever its size, as an unsigned long. */
static unsigned long count_of(long long v)
{
    return v < 0 ? 0 : v > 1000000 ? 1000000 : (unsigned long)v;
}

/* "3 days": `secs` rounded down in `unit`. */
static void span_in(char *buf, size_t n, int64_t secs, int64_t unit)
{
    long long v = (long long)(secs / unit);
    unsigned long k = count_of(v);
    if (unit == DAY)
        fmt(buf, n, ngettext("%lld day", "%lld days", k), v);
    else if (unit == HOUR)
        fmt(buf, n, ngettext("%lld hour", "%lld hours", k), v);
    else if (unit == MINUTE)
        fmt(buf, n, ngettext("%lld minute", "%lld minutes", k), v);
    else
        fmt(buf, n, ngettext("%lld second", "%lld seconds", k), v);
}

const char *pol_span_text(char *buf, size_t n, int64_t secs)
{
    int64_t unit = secs >= DAY ? DAY : secs >= HOUR ? HOUR : secs >= MINUTE ? MINUTE : 1;
    span_in(buf, n, secs, unit);
    return buf;
}

/* `age` beside `limit` (age > limit), each into its buffer: in the largest
 * unit that divides the limit, and when the age rounds down to the limit,
 * with what is beyond it — "8 days 5 minutes old (at most 8 days)", never
 * "8 days old (at most 8 days)" nor "11525 minutes". */
static void age_beyond(char *a, size_t na, char *b, size_t nb, int64_t age, int64_t limit)
{
    static const int64_t units[] = {DAY, HOUR, MINUTE};
    int64_t unit = 1;
    for (size_t i = 0; unit == 1 && i < sizeof(units) / sizeof(*units); i++)
        if (limit % units[i] == 0)
            unit = units[i];
    span_in(b, nb, limit, unit);
    span_in(a, na, age, unit);
    if (age / unit * unit == limit && age % unit) {
        char more[64];
        bkp_strappend(a, na, " %s", pol_span_text(more, sizeof(more), age % unit));
    }
}

/* ---- rotation ---- */

bool pol_media_take_turns(const pol_medium *a, const pol_medium *b)
{
    return a == b || (a->rotate_every > 0 && b->rotate_every > 0 && a->type == b->type && a->path &&
                      b->path && !strcmp(a->path, b->path));
}

static const char *name_of(const pol_medium *m)
{
    return m->name ? m->name : "";
}

/* Does member `j` take its turn before member `i`? Oldest write first (never
 * written, 0, before all), then by name, then by position: a total order, so
 * no two members share a rank. */
static bool turn_before(const pol_medium_state *s, size_t j, size_t i)
{
    if (s[j].last_write != s[i].last_write)
        return s[j].last_write < s[i].last_write;
    int c = strcmp(name_of(s[j].medium), name_of(s[i].medium));
    return c ? c < 0 : j < i;
}

/* latest + steps * every, saturated instead of overflowing. */
static time_t later(time_t latest, size_t steps, int64_t every)
{
    int64_t step;
    time_t r;
    if (__builtin_mul_overflow((int64_t)steps, every, &step) ||
        __builtin_add_overflow(latest, step, &r))
        return TIME_MAX;
    return r;
}

void pol_media_due(const pol_policy *p, const pol_medium_state *states, size_t n, time_t *due)
{
    (void)p; /* the media are reached through states[].medium */
    for (size_t i = 0; i < n; i++) {
        const pol_medium *m = states[i].medium;
        if (!m || !due)
            abort();
        if (m->rotate_every <= 0) {
            due[i] = 0;
            continue;
        }
        time_t latest = 0;
        size_t rank = 0;
        for (size_t j = 0; j < n; j++) {
            if (!states[j].medium)
                abort();
            if (!pol_media_take_turns(m, states[j].medium))
                continue;
            if (states[j].last_write > latest)
                latest = states[j].last_write;
            if (j != i && turn_before(states, j, i))
                rank++;
        }
        /* Members whose intervals differ each step by their own interval:
         * the rank says how many turns come first, the medium how long a
         * turn is. A medium alone is rank 0: its own last write plus one. */
        due[i] = latest > 0 ? later(latest, rank + 1, m->rotate_every) : POL_DUE_NEVER;
    }
}

/* Insert `t` into the sorted `out` of `*n` (at most `max`), dropping the
 * latest when full. */
static void calendar_add(pol_turn *out, size_t *n, size_t max, pol_turn t)
{
    size_t k = *n < max ? (*n)++ : max;
    if (k == max && (!max || out[max - 1].when <= t.when))
        return;
    if (k == max)
        k--;
    for (; k > 0 && out[k - 1].when > t.when; k--)
        out[k] = out[k - 1];
    out[k] = t;
}

size_t pol_rotation_calendar(const pol_medium_state *states, const time_t *due, size_t n,
                             time_t now, time_t until, pol_turn *out, size_t max)
{
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        const pol_medium *m = states[i].medium;
        if (!m || due[i] <= 0 || m->rotate_every <= 0)
            continue;
        size_t members = 0;
        for (size_t j = 0; j < n; j++)
            members += states[j].medium && pol_media_take_turns(m, states[j].medium);
        int64_t turn = m->rotate_every * (int64_t)(members ? members : 1);
        time_t t = due[i] == POL_DUE_NEVER ? now : due[i];
        calendar_add(out, &got, max, (pol_turn){m, t});
        /* Later turns: never before now, so an overdue medium's next turn
         * is counted from now, as if it were rotated today. */
        for (time_t next = later(t > now ? t : now, 1, turn); next < until;
             next = later(next, 1, turn)) {
            size_t before = got;
            pol_turn last = got ? out[got - 1] : (pol_turn){0};
            calendar_add(out, &got, max, (pol_turn){m, next});
            if (got == before && last.medium && last.when <= next)
                break; /* full, and this one came too late */
        }
    }
    return got;
}

/* ---- the verdict ---- */

typedef struct ctx {
    const pol_policy *p;
    const pol_dataset *d;
    const pol_ds_state *s;
    const pol_medium_state *states;
    const time_t *due;
    size_t nstates;
    time_t now;
    unsigned types;         /* a bit per pol_medium_type counted */
    const pol_medium *left; /* the first medium holding a copy left plugged in */
} ctx;

/* What a medium could fix. */
enum need {
    NEED_OFFLINE,
    NEED_OFFSITE,
    NEED_IMMUTABLE,
    NEED_COPIES,
    NEED_TYPES,
    NEED_FRESH_OFFLINE
};

/* The due date of `m` (0: not rotated, or not in `states`). */
static time_t due_of(const ctx *c, const pol_medium *m)
{
    for (size_t k = 0; k < c->nstates; k++)
        if (c->states[k].medium == m)
            return c->due[k];
    return 0;
}

/* The state of `m`, NULL when not in `states`. */
static const pol_medium_state *state_of(const ctx *c, const pol_medium *m)
{
    for (size_t k = 0; k < c->nstates; k++)
        if (c->states[k].medium == m)
            return &c->states[k];
    return NULL;
}

bool pol_medium_left(const pol_medium_state *s, time_t now)
{
    /* A last write after now (a clock set back) gives no grace. */
    return s && s->plugged_in && s->medium && s->medium->offline && s->last_write &&
           (now < s->last_write || now - s->last_write >= POL_PLUGGED_GRACE);
}

/* Is `m` left plugged into the server (pol_medium_left)? */
static bool left_in(const ctx *c, const pol_medium *m)
{
    return pol_medium_left(state_of(c, m), c->now);
}

/* Is `m` kept away from the server now: off-line and not left plugged in. */
static bool away(const ctx *c, const pol_medium *m)
{
    return m->offline && !left_in(c, m);
}

static bool holds(const ctx *c, const pol_medium *m)
{
    for (size_t k = 0; k < c->s->ncopies; k++)
        if (c->s->copies[k].medium == m)
            return true;
    return false;
}

/* The medium of copy_to entry `k`, NULL when unknown or named earlier. */
static const pol_medium *copy_to(const ctx *c, size_t k)
{
    const pol_medium *m = pol_medium_find(c->p, c->d->copy_to[k]);
    for (size_t j = 0; m && j < k; j++)
        if (pol_medium_find(c->p, c->d->copy_to[j]) == m)
            return NULL;
    return m;
}

/* Does medium `m` hold a copy that counts as non-editable? */
static bool holds_immutable(const ctx *c, const pol_medium *m)
{
    for (size_t k = 0; k < c->s->ncopies; k++)
        if (c->s->copies[k].medium == m)
            return away(c, m) || (pol_medium_bucket(m) && c->s->copies[k].proven);
    return false;
}

static bool helps(const ctx *c, const pol_medium *m, enum need need)
{
    switch (need) {
    case NEED_IMMUTABLE:
        return (m->offline || pol_medium_bucket(m)) && !holds_immutable(c, m);
    case NEED_OFFLINE: /* taking one left plugged in away helps too */
        return m->offline && (!holds(c, m) || left_in(c, m));
    case NEED_OFFSITE:
        return m->offsite && (!holds(c, m) || left_in(c, m));
    case NEED_COPIES:
        return !holds(c, m);
    case NEED_TYPES:
        return !(c->types & (1u << m->type));
    case NEED_FRESH_OFFLINE:
        return m->offline; /* rewriting the one that holds the stale copy helps too */
    }
    abort();
}

/* The copy_to medium that fixes `need`, the most overdue first: a medium
 * not rotated is ready now, one whose turn has not come ranks after it. */
static const pol_medium *pick(const ctx *c, enum need need)
{
    const pol_medium *best = NULL;
    time_t best_key = 0;
    for (size_t k = 0; k < c->d->ncopy_to; k++) {
        const pol_medium *m = copy_to(c, k);
        if (!m || !helps(c, m, need))
            continue;
        time_t due = due_of(c, m), key = due ? due : c->now;
        /* One left plugged in is the first to fix: taking it away restores
         * the off-line copy it holds, with nothing to bring. */
        if (need != NEED_COPIES && need != NEED_TYPES && left_in(c, m))
            key = TIME_MIN;
        if (!best || key < best_key) {
            best = m;
            best_key = key;
        }
    }
    return best;
}

/* An off-line medium plugged into the server now, or NULL. */
static const pol_medium *plugged(const ctx *c)
{
    for (size_t k = 0; k < c->nstates; k++)
        if (c->states[k].plugged_in && c->states[k].medium && c->states[k].medium->offline)
            return c->states[k].medium;
    return NULL;
}

/* The first words of a step while the server is suspect: one disk plugged
 * in now goes (the rest of the step keeps the others away). */
static void hold_disks(const ctx *c, char *buf, size_t n)
{
    const pol_medium *m = plugged(c);
    if (m)
        fmt(buf, n, _("unmount %s now (`umount %s`); "), name_of(m),
            m->path ? m->path : name_of(m));
    else
        buf[0] = '\0';
}

/* "connect usb-b and run `bkp rotate usb-b` — 3 days overdue". */
static void medium_action(const ctx *c, const pol_medium *m, char *buf, size_t n)
{
    time_t due = due_of(c, m);
    if (m->offline && c->s->suspect_elsewhere) {
        char hold[320];
        hold_disks(c, hold, sizeof(hold));
        fmt(buf, n,
            _("%sconnect no off-line disk to this server until the backups of %s are checked "
              "(signs of ransomware); then %s's turn comes"),
            hold, c->s->suspect_elsewhere, name_of(m));
        return;
    }
    if (pol_medium_bucket(m) && holds(c, m)) {
        fmt(buf, n, _("prove the lock of %s: run `bkp media probe %s`"), name_of(m), name_of(m));
        return;
    }
    if (pol_medium_bucket(m)) {
        fmt(buf, n, _("run `bkp rotate %s` (copies to the object store %s)"), name_of(m),
            name_of(m));
        return;
    }
    if (pol_medium_online(m)) {
        fmt(buf, n, _("run `bkp run` (copies to %s on-line)"), name_of(m));
        return;
    }
    const pol_medium_state *st = state_of(c, m);
    bool turn = due && due <= c->now;
    if (st && st->room == POL_ROOM_TOO_SMALL) {
        fmt(buf, n,
            _("replace %s with a larger disk: label it `bkp media label PATH --name %s --force`, "
              "then run `bkp rotate %s`"),
            name_of(m), name_of(m), name_of(m));
        return;
    }
    if (st && st->room == POL_ROOM_FULL) {
        fmt(buf, n,
            _("make room on %s: `bkp rotate %s --dry-run` says what the copy needs and what "
              "its retention lets go; then `bkp rotate %s --prune-first`, or a larger disk"),
            name_of(m), name_of(m), name_of(m));
        return;
    }
    if (m->offline && st && st->plugged_in && !turn && holds(c, m)) { /* it only has to go */
        fmt(buf, n, _("unmount %s and take it away (`umount %s`)"), name_of(m),
            m->path ? m->path : name_of(m));
        return;
    }
    if (m->offline && st && st->plugged_in) /* here already: a copy, then away */
        fmt(buf, n, _("run `bkp rotate %s --unmount`, then take it away"), name_of(m));
    else if (m->offline) /* brought from where it is kept */
        fmt(buf, n, _("connect %s and run `bkp rotate %s`"), name_of(m), name_of(m));
    else /* kept attached, rotated by hand (an archive folder on a NAS) */
        fmt(buf, n, _("run `bkp rotate %s`"), name_of(m));
    if (!turn)
        return;
    long long days = (long long)((c->now - due) / DAY);
    if (due == POL_DUE_NEVER)
        bkp_strappend(buf, n, "%s", _(" — never written yet"));
    else if (c->now - due >= DAY)
        bkp_strappend(
            buf, n, ngettext(" — %lld day overdue", " — %lld days overdue", count_of(days)), days);
    else if (c->now - due >= 3600) { /* as the status page says it */
        char span[64];
        bkp_strappend(buf, n, _(" — overdue by %s"),
                      pol_span_text(span, sizeof(span), (int64_t)(c->now - due)));
    } else
        bkp_strappend(buf, n, "%s", _(" — due now"));
}

/* The action for a shortfall: the medium that fixes it, or what to add. */
static void fix_action(const ctx *c, enum need need, char *buf, size_t n)
{
    const pol_medium *m = pick(c, need);
    if (m) {
        medium_action(c, m, buf, n);
        return;
    }
    const char *ds = c->d->name;
    switch (need) {
    case NEED_OFFLINE:
    case NEED_FRESH_OFFLINE:
        fmt(buf, n,
            _("add an off-line medium (removable or archive, `offline: true`) to the policy and to "
              "copy_to of %s"),
            ds);
        return;
    case NEED_OFFSITE:
        fmt(buf, n,
            _("add an off-site medium (`location: offsite`) to the policy and to copy_to of %s"),
            ds);
        return;
    case NEED_IMMUTABLE:
        fmt(buf, n,
            _("add an off-line medium or an Object Lock bucket (`type: object`) to the policy and "
              "to copy_to of %s"),
            ds);
        return;
    case NEED_COPIES:
        fmt(buf, n, _("add a medium to the policy and to copy_to of %s"), ds);
        return;
    case NEED_TYPES: {
        char types[128] = "";
        for (unsigned t = POL_DISK, first = 1; t <= POL_OBJECT; t++)
            if (!(c->types & (1u << t))) {
                bkp_strappend(types, sizeof(types), "%s%s", first ? "" : _(" or "),
                              pol_medium_type_name((pol_medium_type)t));
                first = 0;
            }
        fmt(buf, n, _("add a medium of another type (%s) to the policy and to copy_to of %s"),
            types, ds);
        return;
    }
    }
}

/* Count as compliance.h says; fills copies, media_types, offline, offsite
 * and the ages, c->types and c->left. */
static void count(ctx *c, pol_status *out)
{
    const pol_ds_state *s = c->s;
    time_t fresh_offline = 0, fresh_offsite = 0;
    bool any_offline = false, any_offsite = false;
    out->copies = 1; /* the live data */
    if (s->generations > 0) {
        out->copies++;
        c->types |= 1u << POL_DISK;
    }
    for (size_t k = 0; k < s->ncopies; k++) {
        const pol_copy *cp = &s->copies[k];
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen |= s->copies[j].medium == cp->medium;
        if (!cp->medium || seen) /* one medium is one copy, however it was listed */
            continue;
        out->copies++;
        c->types |= 1u << cp->medium->type;
        bool gone = away(c, cp->medium), left = left_in(c, cp->medium);
        if (gone) {
            out->offline++;
            if (!any_offline || cp->newest > fresh_offline)
                fresh_offline = cp->newest;
            any_offline = true;
        }
        if (gone || (pol_medium_bucket(cp->medium) && cp->proven))
            out->immutable++;
        if (left && !c->left)
            c->left = cp->medium;
        if (cp->medium->offsite && !left) {
            out->offsite++;
            if (!any_offsite || cp->newest > fresh_offsite)
                fresh_offsite = cp->newest;
            any_offsite = true;
        }
    }
    for (unsigned t = c->types; t; t &= t - 1)
        out->media_types++;
    /* A capture time after now (a clock set back) is age 0, not negative. */
    out->offline_age = any_offline ? (c->now > fresh_offline ? c->now - fresh_offline : 0) : -1;
    out->offsite_age = any_offsite ? (c->now > fresh_offsite ? c->now - fresh_offsite : 0) : -1;
}

/* The rule's shortfalls, worst first; returns the worst need, or -1. */
static int shortfalls(const ctx *c, pol_status *out)
{
    const pol_rule321 *r = &c->p->rule;
    int worst = -1;
    if (out->offline < r->offline) {
        if (out->offline)
            reason(out,
                   ngettext("only %d off-line copy (the rule asks for %d)",
                            "only %d off-line copies (the rule asks for %d)",
                            count_of(out->offline)),
                   out->offline, r->offline);
        else
            reason(out, _("no off-line copy (the rule asks for %d)"), r->offline);
        worst = NEED_OFFLINE;
    }
    if (out->offsite < r->offsite) {
        if (out->offsite)
            reason(out,
                   ngettext("only %d off-site copy (the rule asks for %d)",
                            "only %d off-site copies (the rule asks for %d)",
                            count_of(out->offsite)),
                   out->offsite, r->offsite);
        else
            reason(out, _("no off-site copy (the rule asks for %d)"), r->offsite);
        worst = worst < 0 ? NEED_OFFSITE : worst;
    }
    if (out->immutable < r->immutable) {
        if (out->immutable)
            reason(out,
                   ngettext("only %d non-editable copy (the rule asks for %d)",
                            "only %d non-editable copies (the rule asks for %d)",
                            count_of(out->immutable)),
                   out->immutable, r->immutable);
        else
            reason(out, _("no non-editable copy (the rule asks for %d)"), r->immutable);
        worst = worst < 0 ? NEED_IMMUTABLE : worst;
    }
    if (out->copies < r->copies) {
        reason(out,
               ngettext("only %d copy (the rule asks for %d)",
                        "only %d copies (the rule asks for %d)", count_of(out->copies)),
               out->copies, r->copies);
        worst = worst < 0 ? NEED_COPIES : worst;
    }
    if (out->media_types < r->media_types) {
        reason(out,
               ngettext("only %d media type (the rule asks for %d)",
                        "only %d media types (the rule asks for %d)", count_of(out->media_types)),
               out->media_types, r->media_types);
        worst = worst < 0 ? NEED_TYPES : worst;
    }
    return worst;
}

/* What AT RISK found, in the order its reasons are given. */
typedef struct risks {
    bool suspicious;           /* a generation sealed as suspicious, not cleared */
    bool backup;               /* failed, or older than two schedule periods */
    bool missed;               /* a slot of the schedule passed without a run */
    bool stale_offline;        /* the freshest off-line copy is too old */
    const pol_medium *overdue; /* the most overdue copy_to medium */
    bool few_generations;
} risks;

/* The copy_to media due at least a day ago (or never written), most overdue
 * first: each pass takes the smallest (due, position) after the last one. */
static void overdue_media(const ctx *c, pol_status *out, risks *rk)
{
    time_t last_due = 0;
    size_t last_k = 0;
    bool started = false;
    char when[64];
    for (;;) {
        const pol_medium *m = NULL;
        time_t mdue = 0;
        size_t mk = 0;
        for (size_t k = 0; k < c->d->ncopy_to; k++) {
            const pol_medium *x = copy_to(c, k);
            time_t due = x ? due_of(c, x) : 0;
            if (!due || due > c->now || (due != POL_DUE_NEVER && c->now - due < DAY))
                continue;
            if (started && (due < last_due || (due == last_due && k <= last_k)))
                continue;
            if (!m || due < mdue) {
                m = x;
                mdue = due;
                mk = k;
            }
        }
        if (!m)
            return;
        if (!rk->overdue)
            rk->overdue = m;
        if (mdue == POL_DUE_NEVER) {
            pol_span_text(when, sizeof(when), m->rotate_every);
            reason(out, _("%s has never been written (rotation every %s)"), name_of(m), when);
        } else {
            long long days = (long long)((c->now - mdue) / DAY);
            reason(out,
                   ngettext("%s is %lld day overdue for rotation",
                            "%s is %lld days overdue for rotation", count_of(days)),
                   name_of(m), days);
        }
        started = true;
        last_due = mdue;
        last_k = mk;
    }
}

/* The AT RISK conditions, most serious first: without fresh backups every
 * other copy goes stale; then the copy ransomware cannot reach. */
static void at_risk(const ctx *c, bool nogen, pol_status *out, risks *rk)
{
    const pol_ds_state *s = c->s;
    char a[64], b[64];
    /* First: the data itself may be what is wrong (ransomware encrypting
     * the files backed up), whatever the copies. */
    if (s->suspicious == 1)
        reason(out, _("%s:%u was sealed as suspicious and nobody has cleared it"), c->d->name,
               s->suspicious_seq);
    else if (s->suspicious)
        reason(out,
               _("%zu generations of %s were sealed as suspicious and nobody has cleared them; "
                 "the newest is %s:%u"),
               s->suspicious, c->d->name, c->d->name, s->suspicious_seq);
    if (s->suspicious_damaged)
        reason(out,
               _("the record of %s:%u is damaged: it may be one sealed as suspicious, so it holds "
                 "like one (`bkp verify` says more)"),
               c->d->name, s->suspicious_damaged);
    rk->suspicious = s->suspicious > 0 || s->suspicious_damaged;
    if (s->last_run_failed) {
        reason(out, "%s", _("the last backup failed"));
        rk->backup = true;
    }
    int64_t period = pol_schedule_period(c->d->schedule.kind);
    /* A slot the night's run should have taken, some hours ago (half a
     * period, at most six: the run may take that long), with no backup
     * since: a run that failed before it could record anything (its
     * passphrase file gone, the server off) says nothing else. */
    int64_t grace = pol_schedule_grace(c->d->schedule.kind);
    time_t slot = period ? pol_last_slot(&c->d->schedule, c->now - grace) : (time_t)-1;
    if (!nogen && period && s->last_backup > 0 && c->now - s->last_backup > 2 * period) {
        pol_span_text(a, sizeof(a), c->now - s->last_backup);
        reason(out, _("no backup for %s (schedule %s)"), a,
               pol_schedule_words(&c->d->schedule, b, sizeof(b)));
        rk->backup = true;
    } else if (!nogen && slot != (time_t)-1 && s->last_backup > 0 && slot > s->last_backup &&
               !s->last_run_failed && !(s->run_since && slot >= s->run_since)) {
        char when[64];
        bkp_local_time(when, sizeof(when), slot, "?");
        reason(out, _("the backup due %s was not made (schedule %s)"), when,
               pol_schedule_words(&c->d->schedule, b, sizeof(b)));
        rk->missed = true;
    }
    int64_t max = c->p->rule.offline_max_age;
    if (out->offline_age >= 0 && max > 0 && out->offline_age > max) {
        age_beyond(a, sizeof(a), b, sizeof(b), out->offline_age, max);
        reason(out, _("the freshest off-line copy is %s old (at most %s)"), a, b);
        rk->stale_offline = true;
    }
    if (!nogen)
        overdue_media(c, out, rk);
    if (!nogen && s->generations < 3) {
        if (s->generations)
            reason(out,
                   ngettext("only %zu generation kept; checklist item 3-② asks for three "
                            "generations or more",
                            "only %zu generations kept; checklist item 3-② asks for three "
                            "generations or more",
                            count_of((long long)s->generations)),
                   s->generations);
        else
            reason(out, "%s",
                   _("no generation kept in the primary repository; checklist item 3-② asks "
                     "for three generations or more"));
        rk->few_generations = true;
    }
}

/* When the data set's schedule makes its third generation, with the
 * generations `s` has now (1 or 2): the slots to come as the run takes
 * them, a slot of the last hour not yet backed up first; 0 when it has
 * no schedule. */
static time_t third_generation(const ctx *c, const pol_ds_state *s)
{
    time_t t = c->now, last = pol_last_slot(&c->d->schedule, c->now);
    /* A slot of the last hour not yet backed up: the run (every quarter
     * of an hour) is about to take it. One missed longer ago is not
     * promised: the next slot to come is. */
    if (last != (time_t)-1 && last > s->last_backup && c->now - last < 3600)
        t = last - 1; /* that slot is the next */
    for (size_t k = s->generations; k < 3; k++)
        if ((t = pol_next_slot(&c->d->schedule, t)) == (time_t)-1)
            return 0;
    return t;
}

/* A copy_to medium whose turn has come (due, not yet a day overdue). */
static const pol_medium *due_now(const ctx *c)
{
    const pol_medium *best = NULL;
    time_t best_due = 0;
    for (size_t k = 0; k < c->d->ncopy_to; k++) {
        const pol_medium *m = copy_to(c, k);
        time_t due = m ? due_of(c, m) : 0;
        if (due && due <= c->now && (!best || due < best_due)) {
            best = m;
            best_due = due;
        }
    }
    return best;
}

/* What to do about a suspicion: hold the disks, compare, then either way. */
/* After a backup that failed: run it again and read what it says — with
 * its hooks when it has any (`bkp backup` runs none: it would seal the
 * data set without the dump its before hook makes). */
static void failed_step(const ctx *c, char *buf, size_t n)
{
    unsigned long long seq = c->s->last_run_seq;
    /* Why is in its record: read there, not by running it again. */
    if (seq && c->d->host)
        fmt(buf, n,
            _("read why it failed (`bkp audit show %llu`), check the source with `bkp host check "
              "%s`, then run `bkp run --dataset %s --force`"),
            seq, c->d->host, c->d->name);
    else if (seq && (c->d->before.command || c->d->after.command))
        fmt(buf, n,
            _("read why it failed (`bkp audit show %llu`), mend it, then run `bkp run --dataset %s "
              "--force` (its hooks with it)"),
            seq, c->d->name);
    else if (seq)
        fmt(buf, n,
            _("read why it failed (`bkp audit show %llu`), mend it, then run `bkp backup %s`"), seq,
            c->d->name);
    else if (c->d->host) /* its data is on another server: that first */
        fmt(buf, n,
            _("check the source with `bkp host check %s`, then run `bkp run --dataset %s --force` "
              "and read its errors"),
            c->d->host, c->d->name);
    else if (c->d->before.command || c->d->after.command)
        fmt(buf, n, _("run `bkp run --dataset %s --force` (its hooks with it) and read its errors"),
            c->d->name);
    else
        fmt(buf, n, _("run `bkp backup %s` and read its errors"), c->d->name);
}

static void suspicion_action(const ctx *c, char *buf, size_t n)
{
    const char *ds = c->d->name;
    uint32_t seq = c->s->suspicious_seq, before = c->s->suspicious_before;
    char hold[320];
    hold_disks(c, hold, sizeof(hold));
    if (!seq)
        fmt(buf, n,
            _("%sconnect no off-line disk to this server yet; run `bkp verify`: the record of "
              "%s:%u "
              "is damaged"),
            hold, ds, c->s->suspicious_damaged);
    else if (before)
        fmt(buf, n,
            _("%sconnect no off-line disk to this server yet; compare (`bkp diff %s:%u %s:%u`) and "
              "check the files on their machines. "
              "Good: `bkp generations --clear-suspicious %s:%u`. Encrypted: isolate those "
              "machines, restore %s:%u (the last before the suspicion), then clear the first "
              "backup after it that holds the right files"),
            hold, ds, before, ds, seq, ds, seq, ds, before);
    else
        fmt(buf, n,
            _("%sconnect no off-line disk to this server yet; check the files of %s on their "
              "machines. "
              "Good: `bkp generations "
              "--clear-suspicious %s:%u`. Encrypted: isolate those machines and restore them from "
              "a copy kept away from this server, on another machine"),
            hold, ds, ds, seq);
}

/* A medium holding a copy is left plugged in: why its copy does not count. */
static void left_reason(const ctx *c, pol_status *out)
{
    reason(out,
           _("%s is connected to the server, within reach of what runs there: it counts as "
             "off-line again once it is taken away"),
           name_of(c->left));
}

void pol_compliance(const pol_policy *p, const pol_ds_state *s, const pol_medium_state *states,
                    const time_t *due, size_t nstates, time_t now, pol_status *out)
{
    if (!p || !s || !s->dataset || !out || (nstates && (!states || !due)) ||
        (s->ncopies && !s->copies))
        abort();
    ctx c = {p, s->dataset, s, states, due, nstates, now, 0, NULL};
    const char *ds = c.d->name;
    risks rk = {0};
    if (s->nbehind && !s->behind)
        abort();
    memset(out, 0, sizeof(*out));
    count(&c, out);
    /* Most serious of all: the primary lost history a medium holds, so its
     * counts describe a past state and writing a medium would spread it. */
    for (size_t k = 0; k < s->nbehind; k++)
        reason(out,
               s->behind[k].beside ? _("the primary is beside %s: %s")
                                   : _("the primary is behind %s: %s"),
               s->behind[k].medium, s->behind[k].what);

    /* "No generation at all": neither the primary nor any medium holds one. */
    bool nogen = s->generations == 0 && out->copies == 1;
    if (nogen)
        reason(out, _("no generation of %s exists yet"), ds);
    int worst = nogen ? -1 : shortfalls(&c, out);
    /* Why the copy on it did not count, right after what falls short for
     * it: a count, or the age of the freshest off-line copy. */
    bool left_said = c.left && worst >= 0 && worst <= NEED_IMMUTABLE;
    if (left_said)
        left_reason(&c, out);
    at_risk(&c, nogen, out, &rk);
    if (c.left && !left_said && rk.stale_offline)
        left_reason(&c, out);

    /* Not known to be behind is not known to be whole. */
    if (s->pins_unchecked)
        reason(out, "%s", _("the primary could not be compared with what the media pinned"));
    if (s->runbook_unusable)
        reason(out,
               _("its runbook %s cannot be used: the written recovery procedure is part of "
                 "item 3-②, and its drill would fail"),
               s->runbook_unusable);
    bool drill_said =
        s->drill_failed && !(s->runbook_unusable && !strcmp(s->drill_failed, s->runbook_unusable));
    if (drill_said)
        reason(out,
               _("the last drill of runbook %s failed (audit record #%llu): the recovery "
                 "procedure is not confirmed"),
               s->drill_failed, (unsigned long long)s->drill_failed_seq);
    bool risky = rk.suspicious || rk.backup || rk.missed || rk.stale_offline || rk.overdue ||
                 rk.few_generations || s->pins_unchecked || s->runbook_unusable;
    out->verdict = s->nbehind || nogen || worst >= 0 ? POL_NON_COMPLIANT
                   : risky                           ? POL_AT_RISK
                                                     : POL_COMPLIANT;

    /* The next steps, the most serious finding's first. Media are copied
     * from the primary repository, so without a generation there is
     * nothing to copy yet: back up first, alone; and a primary behind a
     * medium must not be copied anywhere until it is investigated. */
    char next[sizeof(out->actions[0])];
    size_t n = sizeof(next);
    const pol_medium *m;
    time_t third = 0; /* when the schedule makes the third generation, when it will */
    if (s->nbehind) {
        fmt(next, n,
            s->behind[0].beside
                ? _("do not rotate to or overwrite %s: the primary may have been rewritten; "
                    "investigate (`bkp verify`, `bkp audit verify`) and restore the repository "
                    "from %s if it was")
                : _("do not rotate to or overwrite %s: the primary may have been rolled back; "
                    "investigate (`bkp verify`, `bkp audit verify`) and restore the repository "
                    "from %s if it was"),
            s->behind[0].medium, s->behind[0].medium);
        act(out, next);
        return;
    }
    if (s->generations == 0) {
        if (s->last_run_failed)
            failed_step(&c, next, n);
        else
            fmt(next, n, _("run `bkp backup %s`"), ds);
        act(out, next);
        return;
    }
    /* The data itself may be encrypted: check it before anything else, and
     * bring no off-line disk to this server meanwhile (only this step). */
    if (rk.suspicious) {
        suspicion_action(&c, next, n);
        act(out, next);
        return;
    }
    /* A backup that failed is today's: before what the policy lacks. */
    if (rk.backup) {
        failed_step(&c, next, n);
        act(out, next);
    }
    if (worst >= 0) {
        fix_action(&c, (enum need)worst, next, n);
        act(out, next);
    }
    if (rk.missed) { /* nothing ran to fail: the server, or cron */
        fmt(next, n,
            _("check that the server was on and that cron runs `bkp run` (every quarter of an "
              "hour), then run `bkp backup %s`"),
            ds);
        act(out, next);
    }
    if (s->pins_unchecked)
        act(out, _("run `bkp status` on a terminal and read why the pins could not be checked"));
    if (rk.stale_offline) {
        fix_action(&c, NEED_FRESH_OFFLINE, next, n);
        act(out, next);
    }
    if (rk.overdue) {
        medium_action(&c, rk.overdue, next, n);
        act(out, next);
    }
    if (rk.few_generations && pol_retention_keeps(&c.d->retention) &&
        pol_retention_keeps(&c.d->retention) < 3) {
        fmt(next, n,
            ngettext("raise keep_last of %s to 3: its retention keeps at most %d generation",
                     "raise keep_last of %s to 3: its retention keeps at most %d generations",
                     count_of(pol_retention_keeps(&c.d->retention))),
            ds, pol_retention_keeps(&c.d->retention));
        act(out, next);
    } else if (rk.few_generations && !rk.backup) {
        /* The schedule makes them: backing up three times in a row today
         * would meet the count and not what it is for (said below). */
        if (!(third = third_generation(&c, s))) {
            fmt(next, n,
                ngettext("run `bkp backup %s` (%zu generation kept, three are needed)",
                         "run `bkp backup %s` (%zu generations kept, three are needed)",
                         count_of((long long)s->generations)),
                ds, s->generations);
            act(out, next);
        }
    }
    /* Its reason came after the others: so does its step (an alert says
     * the first reason with the first step). */
    if (s->runbook_unusable) {
        fmt(next, n,
            _("mend the runbook %s (`bkp runbook show %s` says what), then rehearse it: `bkp "
              "drill %s`"),
            s->runbook_unusable, s->runbook_unusable, s->runbook_unusable);
        act(out, next);
    }
    if (drill_said) {
        fmt(next, n,
            _("read why the drill of %s failed (`bkp audit show %llu`), mend it, then rehearse it "
              "again: `bkp drill %s`"),
            s->drill_failed, (unsigned long long)s->drill_failed_seq, s->drill_failed);
        act(out, next);
    }
    /* Nothing else to fix: the medium whose turn it is. */
    if (!out->nactions && (m = due_now(&c))) {
        medium_action(&c, m, next, n);
        act(out, next);
    }
    if (third) {
        char when[64], sched[64];
        pol_schedule_words(&c.d->schedule, sched, sizeof(sched));
        bkp_local_time(when, sizeof(when), third, "?");
        if (out->nactions) /* not "nothing to do" beside a step to do */
            reason(out, _("the schedule (%s) keeps the third generation on %s"), sched, when);
        else
            reason(out,
                   _("the schedule (%s) keeps the third generation on %s: nothing to do "
                     "before then"),
                   sched, when);
    }
}

const char *pol_verdict_name(pol_verdict v)
{
    switch (v) {
    /* The word programs read; _() of it is the word for people. */
    case POL_COMPLIANT:
        return N_("COMPLIANT");
    case POL_AT_RISK:
        return N_("AT RISK");
    case POL_NON_COMPLIANT:
        return N_("NON-COMPLIANT");
    }
    abort();
}

int pol_verdict_named(const char *name, pol_verdict *out)
{
    for (int v = POL_COMPLIANT; name && v <= POL_NON_COMPLIANT; v++)
        if (!strcmp(name, pol_verdict_name((pol_verdict)v))) {
            *out = (pol_verdict)v;
            return 0;
        }
    return -EINVAL;
}
