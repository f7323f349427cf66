/*
 * The 3-2-1 verdict and media rotation: what the catalog knows is built by
 * hand and the clock is injected. Counting and verdicts for the usual cases,
 * two USB disks taking turns at one mount point over several weeks (which
 * disk is due, how late, and what the operator is told to do), a policy that
 * cannot comply and says what to add, and reasons beyond the limit dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bkp/io/i18n.h"
#include "policies/compliance.h"

#define HOUR 3600
#define DAY 86400
#define WEEK (7 * DAY)

/* Monday 2026-01-05 00:00 UTC: nightly backups run at T0 + k days + 2 h. */
static const time_t T0 = 1767571200;

static const pol_medium USB_A = {.name = "usb-a",
                                 .type = POL_REMOVABLE,
                                 .path = "/media/bkp",
                                 .offsite = true,
                                 .offline = true,
                                 .rotate_every = WEEK};
static const pol_medium USB_B = {.name = "usb-b",
                                 .type = POL_REMOVABLE,
                                 .path = "/media/bkp",
                                 .offsite = true,
                                 .offline = true,
                                 .rotate_every = WEEK};
static const pol_medium NAS = {.name = "nas", .type = POL_DISK, .path = "/mnt/nas"};
static const pol_medium TAPE = {.name = "tape",
                                .type = POL_ARCHIVE,
                                .path = "/dev/nst0",
                                .offsite = true,
                                .offline = true,
                                .rotate_every = 30 * DAY};

#define MAXM 4

/* One policy with one data set, "emr" (daily 02:00, keep_daily 14), copied
 * to every medium of the policy; the default rule 3 / 2 / 1 / 1 / 8d. Holds
 * pointers into itself: used in place, never copied. */
typedef struct world {
    pol_medium media[MAXM];
    size_t n;
    char *copy_to[MAXM];
    pol_dataset ds;
    pol_policy p;
    pol_medium_state st[MAXM];
    time_t due[MAXM];
    pol_copy copies[MAXM];
    pol_ds_state s;
    pol_status out;
} world;

static void world_init(world *w, const pol_medium *const *media, size_t n)
{
    memset(w, 0, sizeof(*w));
    for (size_t i = 0; i < n; i++) {
        w->media[i] = *media[i];
        w->copy_to[i] = w->media[i].name;
        w->st[i].medium = &w->media[i];
    }
    w->n = n;
    w->ds = (pol_dataset){.name = "emr",
                          .schedule = {.kind = POL_DAILY, .hour = 2},
                          .retention = {.keep_daily = 14},
                          .copy_to = w->copy_to,
                          .ncopy_to = n};
    w->p = (pol_policy){.rule = {3, 2, 1, 1, 8 * DAY},
                        .media = w->media,
                        .nmedia = n,
                        .datasets = &w->ds,
                        .ndatasets = 1};
    w->s = (pol_ds_state){.dataset = &w->ds, .generations = 10, .copies = w->copies};
}

static size_t idx(const world *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->media[i].name, name))
            return i;
    fail_msg("no medium %s", name);
    return 0;
}

/* The last nightly backup at or before `now` (all steps are after 02:00). */
static time_t nightly(time_t now)
{
    return now - now % DAY + 2 * HOUR;
}

/* `name` was written (copied or rotated) at `at`, holding the nightly
 * generation of that day. */
static void write_medium(world *w, const char *name, time_t at)
{
    size_t i = idx(w, name);
    w->st[i].last_write = at;
    for (size_t k = 0; k < w->s.ncopies; k++)
        if (w->copies[k].medium == &w->media[i]) {
            w->copies[k].newest = nightly(at);
            return;
        }
    w->copies[w->s.ncopies++] =
        (pol_copy){.medium = &w->media[i], .newest = nightly(at), .newest_seq = 1};
}

/* The verdict at `now`, backups having run every night. */
static const pol_status *judge(world *w, time_t now)
{
    w->s.last_backup = nightly(now);
    pol_media_due(&w->p, w->st, w->n, w->due);
    pol_compliance(&w->p, &w->s, w->st, w->due, w->n, now, &w->out);
    return &w->out;
}

/* The most urgent action, "" when none. */
static const char *next_of(const pol_status *o)
{
    return o->nactions ? o->actions[0] : "";
}

static void dump(const pol_status *o)
{
    print_message("verdict %s, %d copies, %d types, %d off-line, %d off-site\n",
                  pol_verdict_name(o->verdict), o->copies, o->media_types, o->offline, o->offsite);
    for (size_t i = 0; i < o->nreasons; i++)
        print_message("  reason: %s\n", o->reasons[i]);
    for (size_t i = 0; i < o->nactions; i++)
        print_message("  action: %s\n", o->actions[i]);
}

/* The index of the reason containing `text`; fails the test when none does. */
static size_t reason_at(const pol_status *o, const char *text)
{
    for (size_t i = 0; i < o->nreasons; i++)
        if (strstr(o->reasons[i], text))
            return i;
    dump(o);
    fail_msg("no reason says \"%s\"", text);
    return 0;
}

static void expect(const pol_status *o, pol_verdict v, const char *action)
{
    if (o->verdict != v || strcmp(next_of(o), action)) {
        dump(o);
        fail_msg("want %s, action \"%s\"", pol_verdict_name(v), action);
    }
    if (v == POL_COMPLIANT)
        assert_int_equal(o->nreasons, 0);
    else
        assert_true(o->nreasons > 0);
}

static void test_no_generation(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A, &USB_B};
    world_init(&w, m, 2);
    w.s.generations = 0;
    const pol_status *o = judge(&w, T0 + 10 * HOUR);
    expect(o, POL_NON_COMPLIANT, "run `bkp backup emr`");
    assert_int_equal(o->nreasons, 1);
    w.s.last_run_failed = true;
    o = judge(&w, T0 + 10 * HOUR);
    expect(o, POL_NON_COMPLIANT, "run `bkp backup emr` and read its errors");
    assert_int_equal(reason_at(o, "no generation of emr"), 0);
    assert_int_equal(o->copies, 1); /* the live data only */
    assert_int_equal(o->media_types, 0);
    assert_int_equal(o->offline_age, -1);
    assert_int_equal(o->offsite_age, -1);
    /* The failure explains it; shortfalls and never-written media would only repeat it. */
    assert_int_equal(reason_at(o, "the last backup failed"), 1);
    assert_int_equal(o->nreasons, 2);
}

static void test_primary_only(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A, &USB_B};
    world_init(&w, m, 2);
    const pol_status *o = judge(&w, T0 + 10 * HOUR);
    assert_int_equal(o->verdict, POL_NON_COMPLIANT);
    assert_int_equal(o->copies, 2);
    assert_int_equal(o->media_types, 1);
    assert_int_equal(o->offline, 0);
    assert_int_equal(o->offsite, 0);
    assert_int_equal(reason_at(o, "no off-line copy (the rule asks for 1)"), 0);
    assert_int_equal(reason_at(o, "no off-site copy (the rule asks for 1)"), 1);
    assert_int_equal(reason_at(o, "only 2 copies (the rule asks for 3)"), 2);
    assert_int_equal(reason_at(o, "only 1 media type (the rule asks for 2)"), 3);
    /* Neither disk was ever written: both are due, the first in copy_to is asked for. */
    expect(o, POL_NON_COMPLIANT, "connect usb-a and run `bkp rotate usb-a` — never written yet");
}

static void test_fresh_offline_copy(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    const pol_status *o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_COMPLIANT, "");
    assert_int_equal(o->copies, 3);
    assert_int_equal(o->media_types, 2);
    assert_int_equal(o->offline, 1);
    assert_int_equal(o->offsite, 1);
    assert_int_equal(o->offline_age, 9 * HOUR);
    assert_int_equal(o->offsite_age, 9 * HOUR);
}

/* A compliant picture, but the primary is behind what usb-a pinned (rolled
 * back) or beside it (rewritten): NON-COMPLIANT before anything else, naming
 * the medium and what is missing, and telling not to overwrite it. */
static void test_primary_behind_medium(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    const pol_behind behind[] = {
        {"usb-a",
         "emr:12, pinned on usb-a, is missing: the primary's newest generation of emr "
         "is emr:11",
         false},
        {"usb-a", "the audit log disagrees with what usb-a pinned", false}};
    w.s.behind = behind;
    w.s.nbehind = 2;
    const pol_status *o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_NON_COMPLIANT,
           "do not rotate to or overwrite usb-a: the primary may have been rolled back; "
           "investigate (`bkp verify`, `bkp audit verify`) and restore the repository from usb-a "
           "if it was");
    assert_int_equal(reason_at(o, "the primary is behind usb-a: emr:12, pinned on usb-a"), 0);
    assert_int_equal(reason_at(o, "audit log disagrees"), 1);
    assert_int_equal(o->copies, 3); /* the counts are still reported */

    const pol_behind beside = {"usb-a", "emr:12 on the primary is not the record pinned", true};
    w.s.behind = &beside;
    w.s.nbehind = 1;
    o = judge(&w, T0 + 11 * HOUR);
    assert_int_equal(o->verdict, POL_NON_COMPLIANT);
    assert_int_equal(reason_at(o, "the primary is beside usb-a"), 0);
    assert_non_null(strstr(next_of(o), "rewritten"));

    /* Nothing behind: compliant again. */
    w.s.nbehind = 0;
    w.s.behind = NULL;
    expect(judge(&w, T0 + 11 * HOUR), POL_COMPLIANT, "");

    /* The pins could not be checked: not known to be whole, AT RISK, and
     * the reason says so (never COMPLIANT on a check that did not run). */
    w.s.pins_unchecked = true;
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_AT_RISK,
           "run `bkp status` on a terminal and read why the pins could not be checked");
    assert_int_equal(reason_at(o, "could not be compared with what the media pinned"), 0);
    w.s.pins_unchecked = false;

    /* Its runbook cannot be used: the written procedure is part of the
     * item, AT RISK (told once by the run's alert), with what to do. */
    w.s.runbook_unusable = "emr";
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_AT_RISK,
           "mend the runbook emr (`bkp runbook show emr` says what), then rehearse it: `bkp "
           "drill emr`");
    assert_int_equal(reason_at(o, "its runbook emr cannot be used"), 0);
    w.s.runbook_unusable = NULL;
}

/* An archive folder the policy keeps on-line (on a NAS, `offline:` not
 * said) is rotated by hand but never brought: the advice does not say to
 * connect it. */
static void test_online_archive(void **state)
{
    (void)state;
    world w;
    pol_medium nas_archive = TAPE;
    nas_archive.name = "nas-arc";
    nas_archive.path = "/mnt/nas/bkp";
    nas_archive.offline = false;
    const pol_medium *m[] = {&nas_archive};
    world_init(&w, m, 1);
    const pol_status *o = judge(&w, T0 + 10 * HOUR);
    bool said = false;
    for (size_t i = 0; i < o->nactions; i++) {
        said |= !strcmp(o->actions[i], "run `bkp rotate nas-arc` — never written yet");
        assert_null(strstr(o->actions[i], "connect nas-arc"));
    }
    if (!said) {
        dump(o);
        fail_msg("no advice to rotate the on-line archive");
    }
}

static void test_offline_too_old(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    w.media[0].rotate_every = 0; /* only the age of the copy speaks */
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    const pol_status *o = judge(&w, T0 + 10 * DAY + 5 * HOUR);
    assert_int_equal(o->verdict, POL_AT_RISK);
    assert_int_equal(o->offline_age, 10 * DAY + 3 * HOUR);
    assert_int_equal(reason_at(o, "the freshest off-line copy is 10 days old (at most 8 days)"), 0);
    expect(o, POL_AT_RISK, "connect usb-a and run `bkp rotate usb-a`");
    /* Just past the limit, what is beyond it tells the two apart. */
    o = judge(&w, T0 + 8 * DAY + 6 * HOUR);
    reason_at(o, "is 8 days 4 hours old (at most 8 days)");
    o = judge(&w, T0 + 8 * DAY + 2 * HOUR + 5 * 60);
    reason_at(o, "is 8 days 5 minutes old (at most 8 days)");
    /* At the limit it is still fine. */
    o = judge(&w, T0 + 8 * DAY + 2 * HOUR);
    expect(o, POL_COMPLIANT, "");
}

/* Check that `name` is due (at `due_at`) and the other disk one interval later. */
static void expect_turn(const world *w, const char *name, time_t due_at)
{
    size_t i = idx(w, name), other = 1 - i;
    assert_int_equal(w->due[i], due_at);
    assert_int_equal(w->due[other], due_at + WEEK);
}

/* usb-a and usb-b at /media/bkp, weekly: the director takes one home. */
static void test_rotation_weeks(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A, &USB_B};
    world_init(&w, m, 2);

    /* Week 0, before any copy: both due now, 1 meaning "now". */
    const pol_status *o = judge(&w, T0 + 10 * HOUR);
    assert_int_equal(w.due[0], 1);
    assert_int_equal(w.due[1], 1);
    reason_at(o, "usb-a has never been written (rotation every 7 days)");
    reason_at(o, "usb-b has never been written");

    /* usb-a written Monday 10:00: usb-b (never written) takes the next turn. */
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    o = judge(&w, T0 + 11 * HOUR);
    expect_turn(&w, "usb-b", T0 + WEEK + 10 * HOUR);
    expect(o, POL_COMPLIANT, "");

    /* Day 6: nothing due yet. */
    o = judge(&w, T0 + 6 * DAY + 12 * HOUR);
    expect(o, POL_COMPLIANT, "");

    /* Day 7, three hours after the turn: due, not overdue. */
    o = judge(&w, T0 + WEEK + 13 * HOUR);
    expect_turn(&w, "usb-b", T0 + WEEK + 10 * HOUR);
    expect(o, POL_COMPLIANT, "connect usb-b and run `bkp rotate usb-b` — overdue by 3 hours");

    /* Day 10: the swap was forgotten. */
    o = judge(&w, T0 + 10 * DAY + 12 * HOUR);
    expect_turn(&w, "usb-b", T0 + WEEK + 10 * HOUR);
    expect(o, POL_AT_RISK, "connect usb-b and run `bkp rotate usb-b` — 3 days overdue");
    assert_int_equal(reason_at(o, "the freshest off-line copy is 10 days old (at most 8 days)"), 0);
    assert_int_equal(reason_at(o, "usb-b is 3 days overdue for rotation"), 1);

    /* usb-b rotated that day: both hold a copy, usb-a is next a week on. */
    write_medium(&w, "usb-b", T0 + 10 * DAY + 12 * HOUR);
    o = judge(&w, T0 + 10 * DAY + 13 * HOUR);
    expect_turn(&w, "usb-a", T0 + 17 * DAY + 12 * HOUR);
    expect(o, POL_COMPLIANT, "");
    assert_int_equal(o->copies, 4);
    assert_int_equal(o->offline, 2);
    assert_int_equal(o->offline_age, 11 * HOUR);

    /* Day 17, an hour after usb-a's turn. */
    o = judge(&w, T0 + 17 * DAY + 13 * HOUR);
    expect(o, POL_COMPLIANT, "connect usb-a and run `bkp rotate usb-a` — overdue by 1 hour");

    /* Day 19: usb-a two days late, and the freshest off-line copy 9 days old. */
    o = judge(&w, T0 + 19 * DAY + 12 * HOUR);
    expect_turn(&w, "usb-a", T0 + 17 * DAY + 12 * HOUR);
    expect(o, POL_AT_RISK, "connect usb-a and run `bkp rotate usb-a` — 2 days overdue");
    reason_at(o, "usb-a is 2 days overdue for rotation");
    reason_at(o, "the freshest off-line copy is 9 days old");

    /* usb-a rotated; usb-b's turn comes a week later, and is a day late. */
    write_medium(&w, "usb-a", T0 + 19 * DAY + 12 * HOUR);
    o = judge(&w, T0 + 19 * DAY + 14 * HOUR);
    expect_turn(&w, "usb-b", T0 + 26 * DAY + 12 * HOUR);
    expect(o, POL_COMPLIANT, "");
    o = judge(&w, T0 + 27 * DAY + 14 * HOUR);
    expect(o, POL_AT_RISK, "connect usb-b and run `bkp rotate usb-b` — 1 day overdue");
    reason_at(o, "usb-b is 1 day overdue for rotation");
    reason_at(o, "the freshest off-line copy is 8 days 12 hours old (at most 8 days)");
}

/* A disk left plugged into the server is within reach of what runs there:
 * an hour after its rotation it counts as a copy and a media type, not as
 * off-line, off-site or non-editable; the action is to take it away, or,
 * when its turn has come, to rotate it and then take it away, never to
 * "connect" it. */
static void test_left_plugged_in(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.st[0].plugged_in = true;

    /* Within the hour: being carried away, still counted. */
    const pol_status *o = judge(&w, T0 + 10 * HOUR + 59 * 60);
    expect(o, POL_COMPLIANT, "");
    assert_int_equal(o->offline, 1);

    /* Left: nothing away from the server holds a copy. */
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_NON_COMPLIANT, "unmount usb-a and take it away (`umount /media/bkp`)");
    assert_int_equal(o->copies, 3);
    assert_int_equal(o->media_types, 2);
    assert_int_equal(o->offline, 0);
    assert_int_equal(o->offsite, 0);
    assert_int_equal(o->immutable, 0);
    assert_int_equal(o->offline_age, -1);
    assert_int_equal(reason_at(o, "no off-line copy (the rule asks for 1)"), 0);
    reason_at(o, "usb-a is connected to the server, within reach of what runs there");

    /* Taken away: counted again. */
    w.st[0].plugged_in = false;
    o = judge(&w, T0 + 12 * HOUR);
    expect(o, POL_COMPLIANT, "");
    assert_int_equal(o->offline, 1);

    /* Two disks taking turns: usb-b plugged in for its turn is rotated
     * first; usb-a, away, still counts, so the rule holds. */
    const pol_medium *two[] = {&USB_A, &USB_B};
    world_init(&w, two, 2);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    write_medium(&w, "usb-b", T0 + WEEK + 10 * HOUR);
    w.st[0].plugged_in = true; /* usb-a back for its turn */
    o = judge(&w, T0 + 2 * WEEK + 12 * HOUR);
    expect(o, POL_COMPLIANT,
           "run `bkp rotate usb-a --unmount`, then take it away — overdue by 2 hours");
    assert_int_equal(o->offline, 1);
    o = judge(&w, T0 + 2 * WEEK + 3 * DAY + 12 * HOUR);
    expect(o, POL_AT_RISK, "run `bkp rotate usb-a --unmount`, then take it away — 3 days overdue");

    /* usb-b left in after its turn while usb-a, away, grows old: the disk
     * to take away is named, not usb-a to be brought before its turn. */
    world_init(&w, two, 2);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    write_medium(&w, "usb-b", T0 + 6 * DAY + 10 * HOUR);
    w.st[1].plugged_in = true;
    o = judge(&w, T0 + 9 * DAY + 12 * HOUR);
    expect(o, POL_AT_RISK, "unmount usb-b and take it away (`umount /media/bkp`)");
    reason_at(o, "the freshest off-line copy is 9 days old");
    reason_at(o, "usb-b is connected to the server");

    /* Plugged in but holding no copy that counts (never written, no
     * rotation of its own): taking it away fixes nothing; a copy does. */
    pol_medium lone = USB_A;
    lone.rotate_every = 0;
    const pol_medium *one[] = {&lone};
    world_init(&w, one, 1);
    w.st[0].plugged_in = true;
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_NON_COMPLIANT, "run `bkp rotate usb-a --unmount`, then take it away");

    /* A clock set back before the last write gives no grace. */
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.st[0].plugged_in = true;
    o = judge(&w, T0 + 9 * HOUR);
    assert_int_equal(o->offline, 0);
}

/* A disk whose last rotation failed full: its step makes room, never
 * "connect it and rotate" into the same failure. */
static void test_full_disk_steps(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.st[0].room = POL_ROOM_FULL;
    const pol_status *o = judge(&w, T0 + 9 * DAY + 12 * HOUR);
    expect(o, POL_AT_RISK,
           "make room on usb-a: `bkp rotate usb-a --dry-run` says what the copy needs and what "
           "its retention lets go; then `bkp rotate usb-a --prune-first`, or a larger disk");
    w.st[0].room = POL_ROOM_TOO_SMALL;
    o = judge(&w, T0 + 9 * DAY + 12 * HOUR);
    expect(o, POL_AT_RISK,
           "replace usb-a with a larger disk: label it `bkp media label PATH --name usb-a "
           "--force`, then run `bkp rotate usb-a`");
}

/* A generation sealed as suspicious and not cleared: AT RISK before
 * anything else (the newest backups may hold encrypted files), and the step
 * is to check the files, then clear it; not "run bkp backup". */
static void test_suspicious_not_cleared(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.s.suspicious = 1;
    w.s.suspicious_seq = 10;
    w.s.suspicious_before = 9;
    const pol_status *o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_AT_RISK,
           "connect no off-line disk to this server yet; compare (`bkp diff emr:9 emr:10`) and "
           "check the files on their machines. Good: `bkp generations --clear-suspicious emr:10`. "
           "Encrypted: isolate those machines, restore emr:9 (the last before the suspicion), "
           "then clear the first backup after it that holds the right files");
    assert_int_equal(reason_at(o, "emr:10 was sealed as suspicious and nobody has cleared it"), 0);
    assert_int_equal(o->nactions, 1);

    /* Two, and a failed backup and a disk overdue after them: all said, the
     * suspicion first, and its step alone (no disk is to be brought). */
    w.s.suspicious = 2;
    w.s.last_run_failed = true;
    o = judge(&w, T0 + 10 * DAY + 11 * HOUR);
    assert_int_equal(reason_at(o, "2 generations of emr were sealed as suspicious"), 0);
    reason_at(o, "the newest is emr:10");
    assert_int_equal(reason_at(o, "the last backup failed"), 1);
    reason_at(o, "usb-a is 3 days overdue for rotation");
    assert_int_equal(o->nactions, 1);
    assert_non_null(strstr(o->actions[0], "connect no off-line disk to this server yet"));

    /* A disk plugged in meanwhile: unmounted now, not rotated. */
    w.st[0].plugged_in = true;
    o = judge(&w, T0 + 10 * DAY + 11 * HOUR);
    assert_non_null(strstr(o->actions[0], "unmount usb-a now (`umount /media/bkp`); connect no "
                                          "off-line disk to this server yet"));
    w.st[0].plugged_in = false;

    /* A damaged record where the suspicion is: it holds like a marked one. */
    w.s.suspicious = 0;
    w.s.suspicious_seq = 0;
    w.s.suspicious_damaged = 11;
    o = judge(&w, T0 + 11 * HOUR);
    assert_int_equal(o->verdict, POL_AT_RISK);
    reason_at(o, "the record of emr:11 is damaged");
    assert_non_null(strstr(o->actions[0], "run `bkp verify`: the record of emr:11 is damaged"));
    w.s.suspicious_damaged = 0;

    /* A long name in Japanese: the step is cut, never inside a character. */
    pol_dataset long_ds = w.ds;
    long_ds.name = "放射線科の画像保存システムの検査画像と読影レポート";
    w.s.dataset = &long_ds;
    w.s.suspicious = 1;
    w.s.suspicious_seq = 10;
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, "ja");
    o = judge(&w, T0 + 11 * HOUR);
    bkp_i18n_end(&saved);
    const char *a = o->actions[0];
    size_t len = strlen(a);
    assert_true(len > 0);
    for (size_t k = 0; k < len;) { /* whole UTF-8 sequences to the end */
        unsigned char b = (unsigned char)a[k];
        size_t seq = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : 4;
        assert_true(k + seq <= len);
        k += seq;
    }
    w.s.dataset = &w.ds;
    w.s.suspicious = 2;

    /* Cleared: nothing left. */
    w.s.suspicious = 0;
    w.s.last_run_failed = false;
    expect(judge(&w, T0 + 11 * HOUR), POL_COMPLIANT, "");

    /* Another data set of the server under suspicion: this one's disk is
     * held away too, its turn notwithstanding. */
    w.s.suspect_elsewhere = "scans";
    expect(judge(&w, T0 + 10 * DAY + 11 * HOUR), POL_AT_RISK,
           "connect no off-line disk to this server until the backups of scans are checked "
           "(signs of ransomware); then usb-a's turn comes");
}

/* An operator who does what the action says, each day at noon, for eight
 * weeks: the disks alternate, each a week apart, and nothing is ever at risk. */
static void test_rotation_followed(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A, &USB_B};
    world_init(&w, m, 2);
    const char *last = NULL;
    time_t last_at = 0;
    int rotations = 0;
    for (int day = 0; day < 56; day++) {
        time_t now = T0 + day * DAY + 12 * HOUR;
        const pol_status *o = judge(&w, now);
        if (day > 0 && o->verdict != POL_COMPLIANT) {
            dump(o);
            fail_msg("day %d", day);
        }
        if (!o->nactions)
            continue;
        const char *name = strstr(next_of(o), "usb-a") ? "usb-a" : "usb-b";
        assert_non_null(strstr(next_of(o), "bkp rotate"));
        if (last) {
            assert_string_not_equal(name, last);
            assert_int_equal(now - last_at, WEEK);
        }
        write_medium(&w, name, now);
        last = name;
        last_at = now;
        rotations++;
    }
    assert_int_equal(rotations, 8);
}

static void test_no_offline_medium(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&NAS};
    world_init(&w, m, 1);
    write_medium(&w, "nas", T0 + 3 * HOUR);
    const pol_status *o = judge(&w, T0 + 4 * HOUR);
    assert_int_equal(o->copies, 3);
    assert_int_equal(o->media_types, 1);
    assert_int_equal(reason_at(o, "no off-line copy"), 0);
    reason_at(o, "no off-site copy");
    reason_at(o, "only 1 media type (the rule asks for 2)");
    expect(o, POL_NON_COMPLIANT,
           "add an off-line medium (removable or archive, `offline: true`) to the policy and to "
           "copy_to of emr");
}

static const pol_medium CLOUD = {
    .name = "cloud", .type = POL_OBJECT, .offsite = true, .rotate_every = DAY};

/* rule_321.immutable: off-line media count; an object medium only once its
 * lock is proven; an on-line disk never (root can clear the attribute). */
static void test_immutable_copies(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&NAS, &CLOUD};
    world_init(&w, m, 2);
    w.p.rule =
        (pol_rule321){.copies = 3, .media_types = 2, .immutable = 1, .offline_max_age = 8 * DAY};
    write_medium(&w, "nas", T0 + 3 * HOUR);
    write_medium(&w, "cloud", T0 + 3 * HOUR);
    const pol_status *o = judge(&w, T0 + 4 * HOUR);
    assert_int_equal(o->copies, 4);
    assert_int_equal(o->immutable, 0);
    assert_int_equal(reason_at(o, "no non-editable copy (the rule asks for 1)"), 0);
    expect(o, POL_NON_COMPLIANT, "prove the lock of cloud: run `bkp media probe cloud`");
    w.copies[idx(&w, "cloud")].proven = true;
    o = judge(&w, T0 + 4 * HOUR);
    assert_int_equal(o->immutable, 1);
    assert_int_equal(o->offline, 0); /* proven, but still on-line */
    expect(o, POL_COMPLIANT, "");
    /* Not yet written to: rotating to it is the way. */
    world_init(&w, m, 2);
    w.p.rule =
        (pol_rule321){.copies = 3, .media_types = 1, .immutable = 1, .offline_max_age = 8 * DAY};
    write_medium(&w, "nas", T0 + 3 * HOUR);
    o = judge(&w, T0 + 4 * HOUR);
    expect(o, POL_NON_COMPLIANT, "run `bkp rotate cloud` (copies to the object store cloud)");
    /* An off-line disk counts. */
    const pol_medium *m2[] = {&USB_A, &NAS};
    world_init(&w, m2, 2);
    w.p.rule.immutable = 1;
    write_medium(&w, "usb-a", T0 + 3 * HOUR);
    o = judge(&w, T0 + 4 * HOUR);
    assert_int_equal(o->immutable, 1);
}

static void test_shortfall_actions(void **state)
{
    (void)state;
    world w;
    /* Four copies asked for: the on-line disk not yet holding one gives it. */
    const pol_medium *m[] = {&USB_A, &NAS};
    world_init(&w, m, 2);
    w.p.rule.copies = 4;
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    const pol_status *o = judge(&w, T0 + 11 * HOUR);
    reason_at(o, "only 3 copies (the rule asks for 4)");
    expect(o, POL_NON_COMPLIANT, "run `bkp run` (copies to nas on-line)");

    /* Three types asked for, only disk and removable around: add an archive. */
    const pol_medium *m2[] = {&USB_A, &USB_B};
    world_init(&w, m2, 2);
    w.p.rule.media_types = 3;
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    o = judge(&w, T0 + 11 * HOUR);
    reason_at(o, "only 2 media types (the rule asks for 3)");
    expect(o, POL_NON_COMPLIANT,
           "add a medium of another type (archive or object) to the policy and to copy_to of emr");

    /* ... and with a tape in copy_to, the tape is the one to write. */
    const pol_medium *m3[] = {&USB_A, &USB_B, &TAPE};
    world_init(&w, m3, 3);
    w.p.rule.media_types = 3;
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_NON_COMPLIANT, "connect tape and run `bkp rotate tape` — never written yet");
}

static void test_few_generations(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.s.generations = 2;
    const pol_status *o = judge(&w, T0 + 11 * HOUR);
    assert_int_equal(o->verdict, POL_AT_RISK);
    size_t r = reason_at(o, "only 2 generations kept");
    assert_non_null(strstr(o->reasons[r], "3-②"));
    assert_non_null(strstr(o->reasons[r], "three generations"));
    /* The nightly schedule makes the third: nothing to do but wait (three
     * backups in a row today would meet the count, not what it is for). */
    assert_int_equal(o->nactions, 0);
    reason_at(o, "the schedule (daily at 02:00) keeps the third generation on 2026-01-06 02:00");
    reason_at(o, "nothing to do before then");
    /* Tonight's slot passed and not yet backed up (the run is due): it
     * makes the third, not tomorrow's. */
    w.s.last_backup = T0 - DAY + 2 * HOUR + 300;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + 2 * HOUR + 600, &w.out);
    reason_at(&w.out, "keeps the third generation on 2026-01-05 02:00");
    /* A slot missed a whole night ago is not promised (a time past, with
     * "nothing to do"): it is said to be missed, and the backup asked for. */
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + DAY + HOUR, &w.out);
    reason_at(&w.out, "the backup due 2026-01-05 02:00 UTC was not made");
    assert_string_equal(next_of(&w.out),
                        "check that the server was on and that cron runs `bkp run` (every quarter "
                        "of an hour), then run `bkp backup emr`");
    /* One generation: two more nights. */
    w.s.generations = 1;
    o = judge(&w, T0 + 11 * HOUR);
    reason_at(o, "keeps the third generation on 2026-01-07 02:00");
    /* Beside a step to do, it is not "nothing to do". */
    w.p.rule.media_types = 3;
    o = judge(&w, T0 + 11 * HOUR);
    assert_true(o->nactions > 0);
    size_t k = reason_at(o, "keeps the third generation on 2026-01-07 02:00");
    assert_null(strstr(o->reasons[k], "nothing to do"));
    w.p.rule.media_types = 2;
    /* Without a schedule, only a backup makes them. */
    w.ds.schedule.kind = POL_SCHED_NONE;
    o = judge(&w, T0 + 11 * HOUR);
    assert_string_equal(next_of(o), "run `bkp backup emr` (1 generation kept, three are needed)");
    /* A failed backup: its one step, not a second `bkp backup`. */
    w.ds.schedule.kind = POL_DAILY;
    w.s.last_run_failed = true;
    o = judge(&w, T0 + 11 * HOUR);
    assert_int_equal(o->nactions, 1);
    assert_string_equal(next_of(o), "run `bkp backup emr` and read its errors");
    w.s.last_run_failed = false;
    w.s.generations = 2;
    /* A retention that cannot keep three says so. */
    w.ds.retention = (pol_retention){.keep_last = 2};
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_AT_RISK,
           "raise keep_last of emr to 3: its retention keeps at most 2 generations");
    w.s.generations = 3;
    expect(judge(&w, T0 + 11 * HOUR), POL_COMPLIANT, "");
}

static void test_failed_and_old_backups(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    w.media[0].rotate_every = 0;
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.s.last_run_failed = true;
    const pol_status *o = judge(&w, T0 + 11 * HOUR);
    assert_int_equal(reason_at(o, "the last backup failed"), 0);
    expect(o, POL_AT_RISK, "run `bkp backup emr` and read its errors");
    /* Its record known: why is read there, not by running it again. */
    w.s.last_run_seq = 42;
    o = judge(&w, T0 + 11 * HOUR);
    expect(o, POL_AT_RISK,
           "read why it failed (`bkp audit show 42`), mend it, then run `bkp backup emr`");
    w.s.last_run_seq = 0;

    /* No failure recorded, but nothing for three days against a daily schedule. */
    w.s.last_run_failed = false;
    pol_media_due(&w.p, w.st, w.n, w.due);
    w.s.last_backup = T0 + 2 * HOUR;
    time_t now = T0 + 3 * DAY + 5 * HOUR;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, now, &w.out);
    reason_at(&w.out, "no backup for 3 days (schedule daily at 02:00)");
    expect(&w.out, POL_AT_RISK, "run `bkp backup emr` and read its errors");
    /* One night missed is said by the morning after (a run that failed
     * before it could record anything says nothing else), not while the
     * run may still be at work (six hours); without a schedule there is
     * no expectation. */
    w.s.last_backup = T0 + DAY + 2 * HOUR;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + 2 * DAY + 9 * HOUR, &w.out);
    reason_at(&w.out, "the backup due 2026-01-07 02:00 UTC was not made (schedule daily at 02:00)");
    expect(&w.out, POL_AT_RISK,
           "check that the server was on and that cron runs `bkp run` (every quarter of an hour), "
           "then run `bkp backup emr`");
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + 2 * DAY + 5 * HOUR, &w.out);
    expect(&w.out, POL_COMPLIANT, "");
    /* A run that holds the repository (a long backup, or one queued behind
     * another data set's): the slots it began before are its own, not missed;
     * one before it began is. Another's run, since a time not known: none. */
    w.s.run_since = T0 + 2 * DAY + HOUR;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + 2 * DAY + 9 * HOUR, &w.out);
    expect(&w.out, POL_COMPLIANT, "");
    w.s.run_since = T0 + 2 * DAY + 3 * HOUR;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + 2 * DAY + 9 * HOUR, &w.out);
    expect(&w.out, POL_AT_RISK,
           "check that the server was on and that cron runs `bkp run` (every quarter of an hour), "
           "then run `bkp backup emr`");
    w.s.run_since = 1;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, T0 + 2 * DAY + 9 * HOUR, &w.out);
    expect(&w.out, POL_COMPLIANT, "");
    w.s.run_since = 0;
    w.s.last_backup = T0 + 2 * HOUR;
    w.ds.schedule.kind = POL_SCHED_NONE;
    pol_compliance(&w.p, &w.s, w.st, w.due, w.n, now, &w.out);
    expect(&w.out, POL_COMPLIANT, "");
}

/* Several findings: each its own next step, the most serious first, the
 * same step once; the primary behind a medium forbids every other. */
static void test_several_actions(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    write_medium(&w, "usb-a", T0 + 10 * HOUR);
    w.s.last_run_failed = true;
    w.s.pins_unchecked = true;
    /* Ten days on: the copy is too old and usb-a overdue (one rotation
     * fixes both: said once). */
    const pol_status *o = judge(&w, T0 + 10 * DAY + 5 * HOUR);
    assert_int_equal(o->verdict, POL_AT_RISK);
    assert_int_equal(o->nactions, 3);
    assert_string_equal(o->actions[0], "run `bkp backup emr` and read its errors");
    assert_string_equal(
        o->actions[1], "run `bkp status` on a terminal and read why the pins could not be checked");
    assert_string_equal(o->actions[2], "connect usb-a and run `bkp rotate usb-a` — 2 days overdue");

    const pol_behind behind = {"usb-a", "emr:12, pinned on usb-a, is missing", false};
    w.s.behind = &behind;
    w.s.nbehind = 1;
    o = judge(&w, T0 + 10 * DAY + 5 * HOUR);
    assert_int_equal(o->nactions, 1);
    assert_non_null(strstr(o->actions[0], "do not rotate to or overwrite usb-a"));
}

/* Day one, the policy's disk not yet written: every count short, and the
 * generations' count with the day the schedule keeps the third — the
 * person sees that nothing but the rotation is theirs to do. */
static void test_day_one_reasons(void **state)
{
    (void)state;
    world w;
    const pol_medium *m[] = {&USB_A};
    world_init(&w, m, 1);
    w.s.generations = 1;
    w.s.last_backup = T0 + 10 * HOUR;
    const pol_status *o = judge(&w, T0 + 10 * HOUR + 60);
    assert_int_equal(o->verdict, POL_NON_COMPLIANT);
    assert_true(o->nreasons >= 7);
    assert_int_equal(reason_at(o, "no off-line copy"), 0);
    size_t gen = reason_at(o, "only 1 generation kept");
    size_t third = reason_at(o, "the schedule (daily at 02:00) keeps the third generation on");
    assert_true(gen < third);
    assert_non_null(strstr(o->reasons[third], "2026-01-07 02:00"));
    expect(o, POL_NON_COMPLIANT, "connect usb-a and run `bkp rotate usb-a` — never written yet");
}

/* Nine problems, eight places: the least serious (the pins not compared)
 * is dropped, the generations' count kept. */
static void test_reasons_capped(void **state)
{
    (void)state;
    world w;
    world_init(&w, NULL, 0);
    w.s.generations = 1;
    w.s.last_run_failed = true;
    w.s.last_backup = T0;
    w.s.pins_unchecked = true;
    w.s.suspicious = 1;
    w.s.suspicious_seq = 4;
    pol_compliance(&w.p, &w.s, NULL, NULL, 0, T0 + 5 * DAY, &w.out);
    assert_int_equal(w.out.nreasons, POL_REASONS);
    assert_int_equal(reason_at(&w.out, "no off-line copy"), 0);
    assert_int_equal(reason_at(&w.out, "emr:4 was sealed as suspicious"), 4);
    assert_int_equal(reason_at(&w.out, "no backup for 5 days"), 6);
    assert_int_equal(reason_at(&w.out, "only 1 generation kept"), 7);
    for (size_t i = 0; i < w.out.nreasons; i++)
        assert_null(strstr(w.out.reasons[i], "pinned"));
    assert_int_equal(w.out.verdict, POL_NON_COMPLIANT);
    assert_int_equal(w.out.nactions, 1);
    assert_non_null(strstr(w.out.actions[0], "connect no off-line disk to this server yet"));
}

static void test_media_due_table(void **state)
{
    (void)state;
    pol_medium a = USB_A, b = USB_B, c = USB_A, other = USB_A, nas = NAS, slow = USB_B;
    c.name = "usb-c";
    other.name = "usb-x";
    other.path = "/media/other";
    slow.name = "usb-s";
    slow.type = POL_ARCHIVE; /* same path, other type: not in the set */
    slow.rotate_every = 14 * DAY;
    time_t t = T0 + 10 * HOUR;
    /* Ties between never-written members go by name: usb-a, usb-c, then
     * usb-b, written last. */
    pol_medium_state st[] = {{&b, t, false, POL_ROOM_OK},   {&c, 0, false, POL_ROOM_OK},
                             {&a, 0, false, POL_ROOM_OK},   {&other, 0, false, POL_ROOM_OK},
                             {&nas, t, false, POL_ROOM_OK}, {&slow, t, false, POL_ROOM_OK}};
    time_t due[6];
    pol_media_due(NULL, st, 6, due);
    assert_int_equal(due[2], t + WEEK);     /* usb-a */
    assert_int_equal(due[1], t + 2 * WEEK); /* usb-c */
    assert_int_equal(due[0], t + 3 * WEEK); /* usb-b */
    assert_int_equal(due[3], 1);            /* alone, never written: now */
    assert_int_equal(due[4], 0);            /* not rotated */
    assert_int_equal(due[5], t + 14 * DAY); /* alone at its path for its type */

    /* Members with different intervals step by their own. */
    c.rotate_every = 3 * DAY;
    pol_medium_state st2[] = {{&a, t, false, POL_ROOM_OK}, {&c, t - DAY, false, POL_ROOM_OK}};
    pol_media_due(NULL, st2, 2, due);
    assert_int_equal(due[1], t + 3 * DAY);
    assert_int_equal(due[0], t + 2 * WEEK);
}

/* The calendar: usb-a and usb-b swapped weekly at one path each come back
 * every two weeks; a medium never written is due now; one not rotated has no
 * turn; in date order, cut at the horizon and at the room given. */
static void test_rotation_calendar(void **state)
{
    (void)state;
    pol_medium a = USB_A, b = USB_B, other = USB_A, nas = NAS;
    other.name = "usb-x";
    other.path = "/media/other";
    time_t now = T0 + 10 * DAY, w = T0 + 5 * DAY;
    pol_medium_state st[] = {{&a, w, false, POL_ROOM_OK},
                             {&b, w - WEEK, false, POL_ROOM_OK},
                             {&other, 0, false, POL_ROOM_OK},
                             {&nas, w, false, POL_ROOM_OK}};
    time_t due[4];
    pol_turn t[8];
    pol_media_due(NULL, st, 4, due);
    size_t n = pol_rotation_calendar(st, due, 4, now, now + 4 * WEEK, t, 8);
    assert_int_equal(n, 8);
    assert_ptr_equal(t[0].medium, &other); /* never written: now */
    assert_int_equal(t[0].when, now);
    assert_ptr_equal(t[1].medium, &b); /* its turn: a week after usb-a's write */
    assert_int_equal(t[1].when, w + WEEK);
    assert_ptr_equal(t[2].medium, &other);
    assert_int_equal(t[2].when, now + WEEK);
    assert_ptr_equal(t[3].medium, &a);
    assert_int_equal(t[3].when, w + 2 * WEEK);
    assert_int_equal(t[4].when, now + 2 * WEEK); /* usb-x again */
    assert_ptr_equal(t[5].medium, &b);           /* two weeks after its turn */
    assert_int_equal(t[5].when, w + 3 * WEEK);
    assert_ptr_equal(t[7].medium, &a);
    assert_int_equal(t[7].when, w + 4 * WEEK);
    for (size_t i = 0; i < n; i++)
        assert_ptr_not_equal(t[i].medium, &nas); /* not rotated */
    for (size_t i = 1; i < n; i++)
        assert_true(t[i - 1].when <= t[i].when);
    /* Room for three: the three earliest. */
    assert_int_equal(pol_rotation_calendar(st, due, 4, now, now + 4 * WEEK, t, 3), 3);
    assert_int_equal(t[2].when, now + WEEK);
}

static void test_verdict_names(void **state)
{
    (void)state;
    assert_string_equal(pol_verdict_name(POL_COMPLIANT), "COMPLIANT");
    assert_string_equal(pol_verdict_name(POL_AT_RISK), "AT RISK");
    assert_string_equal(pol_verdict_name(POL_NON_COMPLIANT), "NON-COMPLIANT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_generation),          cmocka_unit_test(test_primary_only),
        cmocka_unit_test(test_fresh_offline_copy),     cmocka_unit_test(test_offline_too_old),
        cmocka_unit_test(test_online_archive),         cmocka_unit_test(test_rotation_weeks),
        cmocka_unit_test(test_rotation_followed),      cmocka_unit_test(test_left_plugged_in),
        cmocka_unit_test(test_suspicious_not_cleared), cmocka_unit_test(test_full_disk_steps),
        cmocka_unit_test(test_no_offline_medium),      cmocka_unit_test(test_shortfall_actions),
        cmocka_unit_test(test_immutable_copies),       cmocka_unit_test(test_few_generations),
        cmocka_unit_test(test_failed_and_old_backups), cmocka_unit_test(test_several_actions),
        cmocka_unit_test(test_day_one_reasons),        cmocka_unit_test(test_reasons_capped),
        cmocka_unit_test(test_media_due_table),        cmocka_unit_test(test_verdict_names),
        cmocka_unit_test(test_primary_behind_medium),  cmocka_unit_test(test_rotation_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
