/*
 * compliance.h — the 3-2-1 picture of one data set, and when each medium is due.
 *
 * Pure functions over what the catalog knows (which medium holds which
 * generation, when each was written) and an injected clock; tested with
 * tables, without disks.
 *
 * Counting (the policy's rule_321, defaults 3 / 2 / 1 / 1 / 8d):
 *  - copies: the live data (1), the primary repository when it holds a
 *    generation of the data set (1, type disk, on-line, on-site), and every
 *    medium holding at least one generation of it;
 *  - media types: distinct types among the primary and those media;
 *  - off-line / off-site: those media with `offline: true` / `location: offsite`;
 *  - a disk left plugged in (pol_medium_left) is within reach of whatever
 *    runs on the server: it counts as a copy and a media type, never as
 *    off-line, off-site or non-editable, until it is taken away;
 *  - immutable (non-editable): the off-line media (sealed read-only, immutable
 *    where the file system allows, and out of reach once disconnected), and
 *    the object media whose Object Lock a probe proved (pol_copy.proven). An
 *    on-line disk is never counted: root on the host can clear the attribute.
 *    A proven object-lock copy is on-line: it counts as non-editable, never
 *    as off-line, so the checklist's off-line copy still needs its own medium.
 *
 * Verdict:
 *  - NON-COMPLIANT: the primary is behind or beside what a medium pinned
 *    (rolled back or rewritten: the medium holds history the primary lacks),
 *    no generation at all, or the counts fall short of the rule;
 *  - AT RISK: the counts are met, but a generation sealed as suspicious is
 *    not cleared, the freshest off-line copy is older than
 *    offline_max_age, a medium of copy_to is overdue for rotation, the last
 *    backup failed or is older than two schedule periods, fewer than three
 *    generations are kept, or the media's pins could not be checked;
 *  - COMPLIANT otherwise.
 *
 * Rotation sets: media of one type that share a path (two USB disks swapped
 * at one mount point) take turns. The set is due every rotate_every after its
 * latest write; its members in order of their last write (never written
 * first, then by name) are due one interval after the other. A medium alone
 * at its path is due rotate_every after its own last write, or now if never
 * written.
 */
#ifndef POL_COMPLIANCE_H
#define POL_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "policies/policy.h"

typedef enum { POL_COMPLIANT, POL_AT_RISK, POL_NON_COMPLIANT } pol_verdict;

/* Room on a medium, as its last rotation found it: enough, full, or too
 * small even after its retention was applied before the copy. */
typedef enum { POL_ROOM_OK, POL_ROOM_FULL, POL_ROOM_TOO_SMALL } pol_room;

/* What the catalog knows of one medium. */
typedef struct pol_medium_state {
    const pol_medium *medium; /* from the policy */
    time_t last_write;        /* last completed copy or rotation, 0 never */
    /* An off-line medium whose own label is at its path, on another file
     * system than the primary: plugged into the server now. */
    bool plugged_in;
    /* Its last rotation failed for want of room: its step says what makes
     * room, not to copy to it again as it is. */
    pol_room room;
} pol_medium_state;

/* How long after its rotation an off-line medium may stay plugged in before
 * it counts as left connected: time to unmount it and carry it away. */
#define POL_PLUGGED_GRACE (60 * 60)

/* Is `s` an off-line medium left plugged in at `now`: written, and
 * POL_PLUGGED_GRACE past its last write? One never written holds nothing
 * yet: it waits for its first copy. */
bool pol_medium_left(const pol_medium_state *s, time_t now);

/* What one medium holds of one data set. */
typedef struct pol_copy {
    const pol_medium *medium;
    time_t newest;       /* capture time of the newest generation of the data set on it */
    uint32_t newest_seq; /* its sequence number */
    bool proven;         /* an object medium whose last lock probe was refused its delete */
} pol_copy;

/* The primary found behind or beside what a medium pinned (bkp/media/pin.h). */
typedef struct pol_behind {
    const char *medium;
    const char *what; /* what is missing or different */
    bool beside;      /* rewritten history rather than a rollback */
} pol_behind;

typedef struct pol_ds_state {
    const pol_dataset *dataset;
    size_t generations;     /* sealed generations in the primary repository */
    time_t last_backup;     /* capture time of the newest of them, 0 none */
    bool last_run_failed;   /* the latest backup attempt failed (audit log) */
    uint64_t last_run_seq;  /* that attempt's audit record, which says why (0: not known) */
    const pol_copy *copies; /* media holding at least one generation of it */
    size_t ncopies;
    const pol_behind *behind; /* of it, or of the audit log */
    size_t nbehind;
    /* The primary could not be compared with what the media pinned (the
     * error is logged): a rollback would not show. */
    bool pins_unchecked;
    /* Generations sealed as suspicious by the change-rate guard and not
     * cleared, under a suspicion no later clearance settled
     * (bkp_gen_suspicion), the newest one's sequence number, and the last
     * generation before the suspicion (0: none): until someone checks, the
     * newest backups may hold encrypted files. */
    size_t suspicious;
    uint32_t suspicious_seq, suspicious_before;
    /* A damaged record under that suspicion, or beginning it (it may be a
     * marked one: it holds like one), 0 none. */
    uint32_t suspicious_damaged;
    /* Another data set of the server under such a suspicion, or NULL: no
     * off-line disk is to be connected meanwhile (its steps say so). */
    const char *suspect_elsewhere;
    /* A `bkp run` has held the repository since then (1: since a time not
     * known; 0: none holds it): a slot that passed while it works (a long
     * backup, or one queued behind another) is not missed. */
    time_t run_since;
    /* Its runbook, when the policy names one that cannot be used (not
     * found, or not valid: its errors are `bkp runbook show`'s), or NULL:
     * the written recovery procedure is part of item 3-②, and its drill
     * would fail. */
    const char *runbook_unusable;
    /* The runbook whose last drill for it failed (the status's drill
     * shown), and that record's number, or NULL: the procedure is not
     * confirmed until it is mended and rehearsed again. Said with its step,
     * not in the verdict, which judges the backups, the copies and the
     * written procedure (the drills are judged apart, as the status and the
     * evidence report show them). */
    const char *drill_failed;
    uint64_t drill_failed_seq;
} pol_ds_state;

#define POL_REASONS 8
#define POL_ACTIONS 4

typedef struct pol_status {
    pol_verdict verdict;
    int copies, media_types, offline, offsite; /* counted as above */
    int immutable;                             /* non-editable copies, as above */
    int64_t offline_age; /* seconds since the freshest off-line copy was captured, -1 none */
    int64_t offsite_age; /* same for off-site, -1 none */
    size_t nreasons;
    char reasons[POL_REASONS][256]; /* most serious first; empty when COMPLIANT */
    /* What to do, the most urgent first, each once; none when nothing is
     * due. A finding that forbids the others (the primary behind a medium:
     * writing a medium would spread it) is the only one. */
    size_t nactions;
    char actions[POL_ACTIONS][1024];
} pol_status;

/* Whether media `a` and `b` take turns (the same medium, or both of one
 * type at one path, each with rotate_every): the one rule of a rotation
 * set. A medium without rotate_every takes no turn, so it belongs to no set. */
bool pol_media_take_turns(const pol_medium *a, const pol_medium *b);

/* What pol_media_due gives a rotation set never written: due now. Any time
 * ≤ now would do; 1 because 0 already means "not rotated". */
#define POL_DUE_NEVER ((time_t)1)

/* When each of the policy's media is next due. `states` has one entry per
 * medium of `p` (any order, matched by pointer); `due` receives, in the same
 * order as `states`, the time each is due (≤ now: due; POL_DUE_NEVER for a
 * set never written; 0 for media with no rotate_every). */
void pol_media_due(const pol_policy *p, const pol_medium_state *states, size_t n, time_t *due);

/* One coming rotation: medium `medium` at `when` (≤ now: due or overdue). */
typedef struct pol_turn {
    const pol_medium *medium;
    time_t when;
} pol_turn;

/* The calendar of the coming rotations, in date order (then policy order):
 * each rotated medium of `states` at its due date (`due` from pol_media_due,
 * a set never written counting as due at `now`), then again one turn of its
 * set later (rotate_every times the members of its set: two disks swapped
 * weekly each come back every fourteen days) while before `until`. At most
 * `max` turns into `out`; returns how many. */
size_t pol_rotation_calendar(const pol_medium_state *states, const time_t *due, size_t n,
                             time_t now, time_t until, pol_turn *out, size_t max);

/* The 3-2-1 verdict for one data set at `now`. `states`/`due` as from
 * pol_media_due (for the overdue checks, the media left plugged in, and the
 * next action: the copy_to medium that fixes the worst shortfall, the most
 * overdue first, e.g. "connect usb-b and run `bkp rotate usb-b` — 3 days
 * overdue", or "run `bkp rotate usb-b --unmount`" for one plugged in). */
void pol_compliance(const pol_policy *p, const pol_ds_state *s, const pol_medium_state *states,
                    const time_t *due, size_t nstates, time_t now, pol_status *out);

const char *pol_verdict_name(pol_verdict v);
/* The verdict of that name into `*out`: 0, or -EINVAL. */
int pol_verdict_named(const char *name, pol_verdict *out);
/* "3 days", "5 hours": `secs` in the largest unit that is not zero, rounded
 * down, in the language of the messages, into `buf`. */
const char *pol_span_text(char *buf, size_t n,
                          int64_t secs); /* "COMPLIANT", "AT RISK", "NON-COMPLIANT" */

#endif
