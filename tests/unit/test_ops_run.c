/*
 * The run's cycle (bkp/ops/run.h) with a real repository in a temporary
 * folder: two data sets of different priority are sealed in priority order
 * and the due drill runs; a second run at the same clock seals nothing (not
 * due) and runs no drill (its record is there); a failing before hook fails
 * its data set alone, the other is sealed; the copies go to the on-line
 * disk the data sets name, never to the off-line one; the failure is a
 * condition told once, not again at the next run; a run that seals
 * nothing copies, and re-reads, only what is due. Data sets of different
 * sources are captured side by side, at most `parallel` at once and one
 * per source, into one repository that verifies whole afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/audit/verify.h"
#include "bkp/io/clock.h"
#include "bkp/store/seal.h"
#include "bkp/media/registry.h"
#include "bkp/ops/run.h"

#include "catalogue.h"
#include "ops_repo.h"
#include "audit_json.h"

/* %2$s: the before hook of emr. */
static const char policy_text[] =
    OPS_POLICY_HEAD "datasets:\n"
                    "  - name: scans\n"
                    "    priority: 2\n"
                    "    paths: [%1$s/src]\n"
                    "    schedule: daily 03:00\n"
                    "    copy_to: [nas, usb-a]\n"
                    "  - name: emr\n"
                    "    priority: 1\n"
                    "    paths: [%1$s/src]\n"
                    "    schedule: daily 02:00\n"
                    "%2$s"
                    "drills:\n"
                    "  - { runbook: /etc/bkp/runbooks/monthly.yaml, schedule: monthly 1 05:00 }\n"
                    "  - { runbook: /etc/bkp/runbooks/mid.yaml, schedule: monthly 15 05:00 }\n";

typedef struct fixture {
    ops_repo f;
    time_t now;
    char sealed[8][32]; /* the data sets captured, in order */
    size_t nsealed;
    char drilled[8][64]; /* the drills run, by stem */
    size_t ndrilled;
    int drill_ex; /* what the drill returns: 0 done, > 0 failed, < 0 could not start */
    char copied[8][32];
    size_t ncopied;
    int lacks; /* what io->lacks says of every disk */
    ops_run_io io;
    ops_run_in in;
} fixture;

static int audit(void *ctx, const bkp_audit_rec *rec)
{
    fixture *x = ctx;
    return bkp_audit_append(x->f.r, rec);
}

/* Capture and seal `d`, as the program's backup does (no guard). */
static int backup(void *ctx, const pol_dataset *d, ops_run_backup *b)
{
    fixture *x = ctx;
    bkp_capture_opts o = {
        .dataset = d->name, .paths = (const char *const *)d->paths, .npaths = d->npaths};
    bkp_capture cap;
    memset(b, 0, sizeof(*b));
    snprintf(x->sealed[x->nsealed++], sizeof(x->sealed[0]), "%s", d->name);
    int rc = bkp_capture_run(x->f.r, &o, &cap);
    if (!rc)
        rc = bkp_gen_seal(x->f.r, d->name, &cap, x->now - 1, x->now, NULL, &b->gen);
    b->stats = cap.stats;
    bkp_capture_clear(&cap);
    return rc ? 1 : 0;
}

static time_t never_due(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 0;
}

static int put_written(bkp_media_entry *e, void *ctx)
{
    e->label = *(const bkp_label *)ctx;
    e->last_write = 1767225600; /* 2026-01-01 */
    return 0;
}

/* The copy to an on-line disk, as the registry records it: the first
 * rotation, after which scheduled drills run. */
static int copy(void *ctx, const pol_medium *m)
{
    fixture *x = ctx;
    snprintf(x->copied[x->ncopied++], sizeof(x->copied[0]), "%s", m->name);
    bkp_label l;
    assert_int_equal(ops_label_new(x->f.r, m->name, "disk", "onsite", &l), 0);
    assert_int_equal(bkp_media_update(x->f.r, m->name, put_written, &l), 0);
    return 0;
}

static int lacks(void *ctx, const pol_medium *m)
{
    (void)m;
    return ((fixture *)ctx)->lacks;
}

static int no_disk(void *ctx, const pol_medium *m, bkp_repo **out)
{
    (void)ctx;
    (void)m;
    *out = NULL;
    return -ENOENT;
}

/* The drill "runs" and leaves its record, as the program's does. */
static int drill(void *ctx, const char *runbook, const char *stem)
{
    fixture *x = ctx;
    (void)runbook;
    snprintf(x->drilled[x->ndrilled++], sizeof(x->drilled[0]), "%s", stem);
    int rc =
        ops_repo_record(&x->f, "drill", NULL, x->drill_ex != 0,
                        json_pack("{s:s, s:b}", "runbook", stem, "unstarted", x->drill_ex < 0));
    return rc ? rc : x->drill_ex;
}

static void setup_with(fixture *x, const char *before)
{
    char yaml[4096];
    memset(x, 0, sizeof(*x));
    /* The hook goes into the text ops_repo_new formats with the top folder alone. */
    snprintf(yaml, sizeof(yaml), policy_text, "%1$s", before);
    assert_int_equal(ops_repo_new(&x->f, "run", yaml), 0);
    x->now = bkp_now();
    x->lacks = 1; /* a disk never written lacks everything */
    x->io = (ops_run_io){.ctx = x,
                         .audit = audit,
                         .backup = backup,
                         .medium_due = never_due,
                         .copy = copy,
                         .lacks = lacks,
                         .open_online = no_disk,
                         .drill = drill};
    x->in =
        (ops_run_in){.repo = x->f.r, .policy = x->f.p, .now = x->now, .workers = 1, .io = &x->io};
}

static size_t generations(fixture *x, const char *name)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    assert_int_equal(bkp_gen_list(x->f.r, name, &v, &n), 0);
    bkp_gen_list_free(v, n);
    return n;
}

/* The first run, emr's before hook `before`: both data sets, by priority. */
static void first_run(fixture *x, const char *before, ops_run_result *res)
{
    setup_with(x, before);
    assert_int_equal(ops_run_datasets(&x->in, res), 0);
    assert_int_equal(res->n, 2);
    assert_string_equal(res->v[0].d->name, "emr"); /* priority 1 first */
    assert_string_equal(res->v[1].d->name, "scans");
}

static void test_priority_then_not_due(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    first_run(&x, "", &res);
    assert_string_equal(x.sealed[0], "emr");
    assert_string_equal(x.sealed[1], "scans");
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(res.v[i].what, "sealed");
        assert_true(res.v[i].ran);
        assert_false(res.v[i].failed);
        assert_non_null(res.v[i].b.gen);
        assert_int_equal(res.v[i].b.gen->seq, 1);
        assert_int_equal(res.v[i].generations, 1);
        assert_int_equal(res.v[i].last_success, x.now);
    }
    assert_false(ops_run_failed(&res));
    assert_false(ops_run_wants_prune(x.f.p));
    /* No scheduled drill before the first copy to a medium. */
    bool bad;
    char which[64];
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_FINE);
    assert_false(bad);
    assert_string_equal(which, "");
    assert_int_equal(x.ndrilled, 0);
    /* nas is on-line and named; usb-a is off-line: `bkp rotate`'s. */
    char cause[64] = "";
    bool tried;
    assert_false(ops_run_copy_online(&x.in, &res, cause, sizeof(cause), &tried));
    assert_true(tried);
    assert_int_equal(x.ncopied, 1);
    assert_string_equal(x.copied[0], "nas");
    assert_string_equal(cause, "");
    /* Nor at once after it: its first time after the repository began
     * (the 1st of a month, 05:00) is still to come. Then it runs. */
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_FINE);
    assert_int_equal(x.ndrilled, 0);
    time_t was = x.in.now;
    x.in.now = x.now + 32 * 86400; /* past a 1st and a 15th */
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_FINE);
    assert_false(bad);
    assert_int_equal(x.ndrilled, 2);
    assert_string_equal(x.drilled[0], "monthly");
    assert_string_equal(x.drilled[1], "mid");
    x.in.now = was;
    ops_run_result_free(&res);
    assert_int_equal(generations(&x, "emr"), 1);
    assert_int_equal(generations(&x, "scans"), 1);

    /* The same clock again: nothing due, nothing captured, no drill. */
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_int_equal(res.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(res.v[i].what, "not due");
        assert_false(res.v[i].ran);
        assert_null(res.v[i].b.gen);
        assert_int_equal(res.v[i].generations, 1);
        assert_int_equal(strncmp(res.v[i].detail, "next ", 5), 0);
    }
    assert_int_equal(x.nsealed, 2);
    /* The drill's record has the log's clock, a moment after the run's. */
    x.in.now = bkp_now();
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_FINE);
    assert_int_equal(x.ndrilled, 2);
    ops_run_result_free(&res);
    assert_int_equal(generations(&x, "emr"), 1);
    assert_int_equal(generations(&x, "scans"), 1);
    ops_repo_free(&x.f);
}

/* The registry notes an attempt on nas that failed (`ctx` non-NULL) or
 * succeeded. */
static int put_attempt(bkp_media_entry *e, void *ctx)
{
    e->attempt = (bkp_media_attempt){.began = 1767225600, .ended = 1767225660, .pid = 1};
    e->attempt.failed = ctx != NULL;
    snprintf(e->attempt.host, sizeof(e->attempt.host), "host");
    return 0;
}

/* How many records the audit log of `x` holds. */
static size_t records(fixture *x)
{
    char *path = bkp_audit_path(x->f.r);
    FILE *f = path ? fopen(path, "r") : NULL;
    size_t n = 0;
    for (int ch; f && (ch = getc(f)) != EOF;)
        n += ch == '\n';
    if (f)
        fclose(f);
    free(path);
    return n;
}

static time_t due_now(void *ctx, const char *name)
{
    (void)name;
    return ((fixture *)ctx)->in.now;
}

/* Whether the alerts of a run hold condition `key`: NULL when not, else
 * its state ("" when fine). */
static const char *judged(const ops_alerts *al, const char *key)
{
    for (size_t i = 0; i < al->n; i++)
        if (al->v[i].key && !strcmp(al->v[i].key, key))
            return al->v[i].state ? al->v[i].state : "";
    return NULL;
}

/* A quiet run every quarter of an hour adds nothing to the audit log: an
 * on-line disk is copied to only when its rotation's plan copies or
 * deletes, when its last attempt failed, when it cannot be planned (away:
 * its copy says so) or when its rotation is due; the re-read samples after
 * a seal, or a day after its last sample; a condition nothing tried stays
 * as it was told. */
static void test_quiet_run_does_what_is_due(void **state)
{
    fixture x;
    ops_run_result res;
    char cause[64] = "";
    bool ran, data, tried;
    (void)state;
    first_run(&x, "", &res);
    assert_true(ops_run_sealed(&res));
    assert_false(ops_run_copy_online(&x.in, &res, cause, sizeof(cause), &tried));
    assert_true(tried);
    assert_int_equal(x.ncopied, 1);
    assert_false(ops_run_reread(&x.in, true, &ran, &data));
    assert_true(ran);
    ops_run_result_free(&res);

    /* The next run, nothing due, nothing to copy: nas is left alone, its
     * copy judged fine (it holds all it should: a failure told before
     * ends), the re-read's condition not judged (no sample). It begins
     * once the first ended, as runs do: a sample recorded a second after
     * the first began is not in the future for it. */
    x.lacks = 0;
    x.in.now = bkp_now();
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_false(ops_run_sealed(&res));
    size_t before = records(&x);
    ops_alerts al = {0};
    x.in.dataset = "scans"; /* no drills */
    assert_false(ops_run_after(&x.in, &res, &al));
    x.in.dataset = NULL;
    assert_string_equal(judged(&al, "copy-online"), "");
    assert_null(judged(&al, "verify"));
    ops_alerts_free(&al);
    assert_int_equal(x.ncopied, 1);
    assert_int_equal(records(&x), before);
    /* Its rotation due: copied (a run a day keeps its record). */
    x.io.medium_due = due_now;
    assert_false(ops_run_copy_online(&x.in, &res, cause, sizeof(cause), &tried));
    assert_true(tried);
    assert_int_equal(x.ncopied, 2);
    x.io.medium_due = never_due;
    /* Its last attempt failed (the status says so until one succeeds). */
    assert_int_equal(bkp_media_update(x.f.r, "nas", put_attempt, &x), 0);
    assert_false(ops_run_copy_online(&x.in, &res, cause, sizeof(cause), &tried));
    assert_int_equal(x.ncopied, 3);
    assert_int_equal(bkp_media_update(x.f.r, "nas", put_attempt, NULL), 0);
    assert_false(ops_run_copy_online(&x.in, &res, cause, sizeof(cause), &tried));
    assert_true(tried); /* judged: it holds all it should */
    assert_int_equal(x.ncopied, 3);
    /* Away, or not the disk named: its copy is tried, to say so. */
    x.lacks = -ENOENT;
    assert_false(ops_run_copy_online(&x.in, &res, cause, sizeof(cause), &tried));
    assert_int_equal(x.ncopied, 4);
    /* The re-read sampled a moment ago: not again until a day has passed
     * (less the hour a nightly run drifts by). */
    assert_false(ops_run_reread(&x.in, false, &ran, &data));
    assert_false(ran);
    assert_int_equal(records(&x), before);
    time_t was = x.in.now;
    x.in.now = x.now + OPS_REREAD_PACE - 60;
    assert_false(ops_run_reread(&x.in, false, &ran, &data));
    assert_false(ran);
    x.in.now = x.now + OPS_REREAD_PACE + 60;
    assert_false(ops_run_reread(&x.in, false, &ran, &data));
    assert_true(ran);
    assert_int_equal(records(&x), before + 1);
    x.in.now = was;
    ops_run_result_free(&res);
    ops_repo_free(&x.f);
}

/* The drills' condition stands by each scheduled runbook's last record,
 * judged at every run: a failure stays told until that runbook's drill
 * succeeds (scheduled, or by hand); another runbook's success never ends
 * it (a run a quarter of an hour after one failed once said "the
 * scheduled drills succeed again"). */
static void test_drill_condition_by_last_records(void **state)
{
    fixture x;
    ops_run_result res;
    ops_alerts al = {0};
    bool bad;
    char which[64];
    (void)state;
    first_run(&x, "", &res);
    x.drill_ex = 1;
    x.in.now = x.now + 32 * 86400;                /* past a 1st and a 15th */
    assert_true(ops_run_after(&x.in, &res, &al)); /* its copy to nas the first rotation */
    assert_int_equal(x.ncopied, 1);
    x.lacks = 0;
    assert_int_equal(x.ndrilled, 2);
    assert_string_equal(judged(&al, "drill"), "failed");
    ops_alerts_free(&al);
    /* A quarter of an hour later: none due; still failed, and the run
     * itself did not fail. */
    x.in.now = bkp_now() + 900;
    al = (ops_alerts){0};
    assert_false(ops_run_after(&x.in, &res, &al));
    assert_int_equal(x.ndrilled, 2);
    assert_string_equal(judged(&al, "drill"), "failed");
    ops_alerts_free(&al);
    /* monthly rehearsed by hand, and it succeeds: mid's failure stands. */
    assert_int_equal(
        ops_repo_record(&x.f, "drill", NULL, false, json_pack("{s:s}", "runbook", "monthly")), 0);
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_FAILED);
    assert_false(bad);
    assert_string_equal(which, "/etc/bkp/runbooks/mid.yaml"); /* as the policy names it */
    /* mid too: the condition ends. */
    assert_int_equal(
        ops_repo_record(&x.f, "drill", NULL, false, json_pack("{s:s}", "runbook", "mid")), 0);
    al = (ops_alerts){0};
    assert_false(ops_run_after(&x.in, &res, &al));
    assert_string_equal(judged(&al, "drill"), "");
    ops_alerts_free(&al);
    /* The next month's could not start: said so, held once. */
    x.drill_ex = -1;
    x.in.now = bkp_now() + 32 * 86400;
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_UNSTARTED);
    assert_true(bad);
    assert_int_equal(x.ndrilled, 4);
    x.in.now = bkp_now() + 900;
    assert_int_equal(ops_run_drills(&x.in, &bad, which, sizeof(which)), OPS_DRILLS_UNSTARTED);
    assert_false(bad);
    assert_int_equal(x.ndrilled, 4);
    ops_run_result_free(&res);
    ops_repo_free(&x.f);
}

/* The clock of fixture `x` (its seals' and its run's) at `t`: the test
 * clock's, which the seal checks its dates against. */
static void clock_at(fixture *x, time_t t)
{
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)t);
    setenv("BKP_NOW", v, 1);
    x->now = x->in.now = t;
}

/* A clock that was a week ahead for one night: its generation is in the
 * future. The first run after the clock is mended makes one more (better
 * one too many than none for a week), and from then on the schedule
 * counts from it, not from the one in the future: no backup at every run. */
static void test_clock_was_ahead(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    if (!bkp_clock_is_test())
        skip(); /* the seal refuses a date after the real clock */
    /* Tomorrow at noon (UTC; 21:00 in Japan): far from the schedules' slots. */
    time_t mended = (time(NULL) / 86400 + 1) * 86400 + 12 * 3600;
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)mended);
    setenv("BKP_NOW", v, 1);
    first_run(&x, "", &res);
    ops_run_result_free(&res);
    clock_at(&x, mended + 7 * 86400); /* ahead */
    x.in.force = true;
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_string_equal(res.v[0].what, "sealed");
    ops_run_result_free(&res);
    x.in.force = false;
    clock_at(&x, mended + 60); /* mended */
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_string_equal(res.v[0].what, "sealed");
    ops_run_result_free(&res);
    clock_at(&x, mended + 960); /* the next quarter hour */
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_string_equal(res.v[0].what, "not due");
    assert_string_equal(res.v[1].what, "not due");
    ops_run_result_free(&res);
    unsetenv("BKP_NOW");
    assert_int_equal(generations(&x, "emr"), 3);
    ops_repo_free(&x.f);
}

static void test_failing_hook_fails_its_dataset_alone(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    first_run(&x, "    before: { command: \"exit 3\", timeout: 30s }\n", &res);
    assert_string_equal(res.v[0].what, "failed");
    assert_string_equal(res.v[0].detail, "before hook exited with status 3");
    assert_true(res.v[0].ran);
    assert_true(res.v[0].failed);
    assert_null(res.v[0].b.gen);
    assert_string_equal(res.v[1].what, "sealed");
    assert_non_null(res.v[1].b.gen);
    assert_int_equal(x.nsealed, 1); /* emr was never captured */
    assert_string_equal(x.sealed[0], "scans");
    assert_true(ops_run_failed(&res));

    /* The conditions: emr's backup failed, scans' is fine; the steps after. */
    ops_alerts al = {0};
    bool told[8] = {0};
    ops_run_alert_outcomes(&al, &res);
    assert_false(ops_run_after(&x.in, &res, &al));
    ops_run_alert_media(&x.in, &al);
    /* 2 backups, copy-online, verify, drill, usb-a not connected */
    assert_int_equal(al.n, 6);
    assert_string_equal(al.v[0].key, "backup:emr");
    assert_string_equal(al.v[0].state, "failed");
    /* The advice of its cause: the hook, run by hand; and the same in Japanese. */
    assert_string_equal(al.v[0].summary, "the backup of emr failed: before hook exited with status "
                                         "3 — run its hook `exit 3` by hand as the policy runs it, "
                                         "and fix what it says");
    assert_non_null(al.v[0].summary_ja);
    assert_non_null(strstr(al.v[0].summary_ja, "フック `exit 3` を手で実行"));
    assert_string_equal(al.v[1].key, "backup:scans");
    assert_null(al.v[1].state);
    assert_string_equal(al.v[2].key, "copy-online");
    assert_string_equal(al.v[3].key, "verify");
    assert_null(al.v[3].state);
    assert_string_equal(al.v[4].key, "drill");
    assert_null(al.v[4].state); /* none before the first rotation: none failed */
    /* Told once per change: the failure now, not again at the next run. */
    assert_int_equal(ops_alerts_tell(x.f.r, x.f.p, &al, x.now, told, audit, &x), 0);
    assert_true(told[0]);
    memset(told, 0, sizeof(told));
    assert_int_equal(ops_alerts_tell(x.f.r, x.f.p, &al, x.now, told, audit, &x), 0);
    assert_false(told[0]);
    ops_alerts_free(&al);
    ops_run_result_free(&res);
    assert_int_equal(generations(&x, "emr"), 0);
    assert_int_equal(generations(&x, "scans"), 1);
    /* The hook's record is in the audit log, failed. */
    char *log = bkp_audit_path(x.f.r);
    json_t *rec = audit_last_json(log, bkp_repo_sign_pk(x.f.r),
                                  &(bkp_audit_query){"hook-before", "failed", NULL, NULL});
    assert_non_null(rec);
    json_decref(rec);
    free(log);
    ops_repo_free(&x.f);
}

/* ---- sources side by side ---- */

#define EDKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICFyBO79xZuAN6GekWxF3zHRX+umPFvoQy58zLY5oFGC"

/* Two data sets from host a, one from b, one from here; %2$s: parallel. */
static const char sources_text[] = OPS_POLICY_HEAD
    "parallel: %2$s\n"
    "hosts:\n"
    "  - { name: a, ssh: bkp@192.0.2.1, host_key: \"" EDKEY "\" }\n"
    "  - { name: b, ssh: bkp@192.0.2.2, host_key: \"" EDKEY "\" }\n"
    "datasets:\n"
    "  - { name: a1, priority: 1, host: a, paths: [%1$s/src/a1], schedule: daily 02:00 }\n"
    "  - { name: a2, priority: 2, host: a, paths: [%1$s/src/a2], schedule: daily 02:00 }\n"
    "  - { name: b1, priority: 3, host: b, paths: [%1$s/src/b1], schedule: daily 02:00 }\n"
    "  - { name: here, priority: 4, paths: [%1$s/src/here], schedule: daily 02:00 }\n";

typedef struct sources {
    ops_repo f;
    pthread_mutex_t lock;
    const char *running[8]; /* the sources being captured */
    int nrunning, most;
    bool twice; /* one source gave two at once */
    int meet;   /* a capture waits (2 s at most) for this many at once */
    ops_run_io io;
} sources;

/* A capture the guard marks, as the program's backup returns it. */
static int suspicious_backup(void *ctx, const pol_dataset *d, ops_run_backup *b)
{
    int ex = backup(ctx, d, b);
    b->suspicious = true;
    b->verdict = (pol_guard_verdict){
        .signal = POL_GUARD_CHANGED, .share = 0.5, .usual = 0.01, .changed = 500};
    pol_guard_reason(&b->verdict, true, b->reason, sizeof(b->reason));
    return ex ? ex : 1;
}

/* The guard's reason is said in each reader's words: the English kept for
 * the audit, the Japanese in the outcome and the alert's mail. */
static time_t two_days_late(void *ctx, const char *name)
{
    fixture *x = ctx;
    (void)name;
    return x->now - 2 * OPS_DAY;
}

/* The run's alerts after `x`'s first run with a policy of two media, both
 * two days late: nas (an archive kept on-line) and usb-a (off-line), into
 * `al`; their due alerts into `nas` and `usb`. The policy into `*p`. */
static void due_alerts(fixture *x, ops_run_result *res, pol_policy **p, ops_alerts *al,
                       const pol_condition **nas, const pol_condition **usb)
{
    char yaml[1024];
    int n = snprintf(yaml, sizeof(yaml),
                     "repository: %s/repo\n"
                     "passphrase_file: /etc/bkp/passphrase\n"
                     "media:\n"
                     "  - { name: nas, type: archive, path: %s/nas, location: onsite, "
                     "rotate_every: 7d }\n"
                     "  - { name: usb-a, type: removable, path: %s/usb-a, location: offsite, "
                     "offline: true, rotate_every: 7d }\n"
                     "datasets:\n"
                     "  - { name: emr, paths: [%s/src], schedule: daily 02:00 }\n",
                     x->f.top, x->f.top, x->f.top, x->f.top);
    assert_int_equal(pol_load_buffer("t.yaml", (const uint8_t *)yaml, (size_t)n, p), 0);
    x->in.policy = *p;
    x->io.medium_due = two_days_late;
    *al = (ops_alerts){0};
    ops_run_alert_media(&x->in, al);
    *nas = *usb = NULL;
    for (size_t i = 0; i < al->n; i++) {
        if (al->v[i].key && !strcmp(al->v[i].key, "due:nas"))
            *nas = &al->v[i];
        if (al->v[i].key && !strcmp(al->v[i].key, "due:usb-a"))
            *usb = &al->v[i];
    }
    assert_non_null(*nas);
    assert_non_null(*usb);
}

/* A medium's turn, told as what to do with it: an off-line disk is
 * brought and connected; an archive folder the policy keeps on-line (a
 * NAS) is only written, never "connected". In Japanese too, as whole
 * sentences. */
static void test_media_due_alerts(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    first_run(&x, "", &res);
    pol_policy *p = NULL;
    ops_alerts al;
    const pol_condition *nas, *usb;
    due_alerts(&x, &res, &p, &al, &nas, &usb);
    assert_string_equal(nas->state, "overdue");
    assert_string_equal(nas->summary, "nas is overdue for its rotation: run `bkp rotate nas`");
    assert_string_equal(usb->summary,
                        "usb-a is overdue for its rotation: connect it and run `bkp rotate usb-a`");
    assert_non_null(nas->summary_ja);
    assert_non_null(strstr(nas->summary_ja, "交換日を過ぎています"));
    assert_null(strstr(nas->summary_ja, "接続"));
    assert_non_null(strstr(usb->summary_ja, "接続"));
    ops_alerts_free(&al);
    pol_free(p);
    ops_run_result_free(&res);
    ops_repo_free(&x.f);
}

/* Under a suspicion (a generation of emr marked, not cleared), an off-line
 * disk's turn is held: connect none to the server until it is checked. An
 * archive kept on-line is only written, as before. */
static void test_media_held_under_suspicion(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    first_run(&x, "", &res);
    bkp_gen_guard guard = {.suspicious = true, .reason = "90% of the files changed", .change = 0.9};
    bkp_gen *g = NULL;
    assert_int_equal(ops_repo_seal_guarded(&x.f, "emr", 60, &guard, &g), 0);
    bkp_gen_free(g);
    pol_policy *p = NULL;
    ops_alerts al;
    const pol_condition *nas, *usb;
    due_alerts(&x, &res, &p, &al, &nas, &usb);
    assert_string_equal(nas->state, "overdue");
    assert_string_equal(usb->state, "held");
    assert_non_null(strstr(usb->summary, "connect no off-line disk to this server until the "
                                         "backups of emr are checked"));
    ops_alerts_free(&al);
    pol_free(p);
    ops_run_result_free(&res);
    ops_repo_free(&x.f);
}

static void test_suspicious_in_both_languages(void **state)
{
    fixture x;
    ops_run_result res;
    (void)state;
    setup_with(&x, "");
    x.io.backup = suspicious_backup;
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    assert_string_equal(res.v[0].what, "sealed, SUSPICIOUS");
    assert_non_null(strstr(res.v[0].detail, "50% of the files changed (0 added, 500 changed"));
    assert_non_null(strstr(res.v[0].detail_ja, "ファイルの 50% が変わりました"));
    ops_alerts al = {0};
    ops_run_alert_outcomes(&al, &res);
    size_t i = 0;
    while (i < al.n && !(al.v[i].state && !strcmp(al.v[i].state, "suspicious")))
        i++;
    assert_true(i < al.n);
    assert_non_null(strstr(al.v[i].summary, "emr:1 was sealed as suspicious (50% of the files"));
    assert_non_null(al.v[i].summary_ja);
    assert_non_null(strstr(al.v[i].summary_ja, "ファイルの 50% が変わりました"));
    assert_null(strstr(al.v[i].summary_ja, "of the files changed"));
    /* Said as what it is, not also as a failed backup. */
    for (size_t k = 0; k < al.n; k++)
        assert_false(al.v[k].key && !strcmp(al.v[k].key, "backup:emr") && al.v[k].state);
    ops_alerts_free(&al);
    ops_run_result_free(&res);
    ops_repo_free(&x.f);

    /* An after hook that fails once it is sealed is a failure all the same. */
    setup_with(&x, "    after: { command: \"exit 4\", timeout: 30s }\n");
    x.io.backup = suspicious_backup;
    assert_int_equal(ops_run_datasets(&x.in, &res), 0);
    al = (ops_alerts){0};
    ops_run_alert_outcomes(&al, &res);
    bool hook = false;
    for (size_t k = 0; k < al.n; k++)
        hook |= al.v[k].key && !strcmp(al.v[k].key, "backup:emr") && al.v[k].state &&
                !strcmp(al.v[k].state, "failed") && strstr(al.v[k].summary, "exit 4");
    assert_true(hook);
    ops_alerts_free(&al);
    ops_run_result_free(&res);
    ops_repo_free(&x.f);
}

static int sources_audit(void *ctx, const bkp_audit_rec *rec)
{
    sources *x = ctx;
    return bkp_audit_append(x->f.r, rec);
}

/* A real capture and seal of the data set's paths (here, wherever its
 * host): several at once into one repository, each noting who ran beside it. */
static int sources_backup(void *ctx, const pol_dataset *d, ops_run_backup *b)
{
    sources *x = ctx;
    const char *src = d->host ? d->host : "";
    memset(b, 0, sizeof(*b));
    pthread_mutex_lock(&x->lock);
    for (int i = 0; i < x->nrunning; i++)
        x->twice |= !strcmp(x->running[i], src);
    x->running[x->nrunning++] = src;
    if (x->nrunning > x->most)
        x->most = x->nrunning;
    pthread_mutex_unlock(&x->lock);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&x->lock);
        bool met = x->most >= x->meet;
        pthread_mutex_unlock(&x->lock);
        if (met)
            break;
        usleep(10000);
    }
    bkp_capture_opts o = {.dataset = d->name,
                          .paths = (const char *const *)d->paths,
                          .npaths = d->npaths,
                          .workers = 2};
    bkp_capture cap;
    time_t now = bkp_now();
    int rc = bkp_capture_run(x->f.r, &o, &cap);
    if (!rc)
        rc = bkp_gen_seal(x->f.r, d->name, &cap, now, now, NULL, &b->gen);
    b->stats = cap.stats;
    bkp_capture_clear(&cap);
    pthread_mutex_lock(&x->lock);
    for (int i = 0; i < x->nrunning; i++)
        if (x->running[i] == src) {
            x->running[i] = x->running[--x->nrunning];
            break;
        }
    pthread_mutex_unlock(&x->lock);
    return rc ? 1 : 0;
}

/* A folder of `name` under src: 3 MB of its own and 2 MB all share. */
static void fill(const sources *x, const char *name, const uint8_t *shared, size_t nshared)
{
    char dir[256], file[300];
    static uint8_t own[3 << 20];
    snprintf(dir, sizeof(dir), "%s/%s", x->f.src, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    randombytes_buf(own, sizeof(own));
    snprintf(file, sizeof(file), "%s/own", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(own, 1, sizeof(own), f), sizeof(own));
    assert_int_equal(fclose(f), 0);
    snprintf(file, sizeof(file), "%s/shared", dir);
    assert_non_null(f = fopen(file, "w"));
    assert_int_equal(fwrite(shared, 1, nshared, f), nshared);
    assert_int_equal(fclose(f), 0);
}

static void run_sources(const char *parallel, int meet, int want_most)
{
    sources x;
    char yaml[4096];
    static uint8_t shared[2 << 20];
    memset(&x, 0, sizeof(x));
    pthread_mutex_init(&x.lock, NULL);
    x.meet = meet;
    snprintf(yaml, sizeof(yaml), sources_text, "%1$s", parallel);
    assert_int_equal(ops_repo_new(&x.f, "sources", yaml), 0);
    randombytes_buf(shared, sizeof(shared));
    const char *names[] = {"a1", "a2", "b1", "here"};
    for (size_t i = 0; i < 4; i++)
        fill(&x, names[i], shared, sizeof(shared));
    x.io = (ops_run_io){.ctx = &x, .audit = sources_audit, .backup = sources_backup};
    ops_run_in in = {
        .repo = x.f.r, .policy = x.f.p, .now = bkp_now(), .force = true, .workers = 2, .io = &x.io};
    ops_run_result res;
    assert_int_equal(ops_run_datasets(&in, &res), 0);
    assert_int_equal(res.n, 4);
    for (size_t i = 0; i < 4; i++) {
        /* The table stays in priority order, whatever ended first. */
        assert_string_equal(res.v[i].d->name, names[i]);
        assert_string_equal(res.v[i].what, "sealed");
        assert_non_null(res.v[i].b.gen);
    }
    assert_false(x.twice);
    assert_int_equal(x.most, want_most);
    ops_run_result_free(&res);

    /* Every blob any record names is on the disk and indexed: a fresh
     * handle reads every generation whole. */
    bkp_repo_free(x.f.r);
    assert_int_equal(bkp_repo_open(x.f.repo, OPS_PASS, strlen(OPS_PASS), 0, &x.f.r), 0);
    bkp_verify_result v = {0};
    assert_int_equal(bkp_verify(x.f.r, true, 2, &v), 0);
    assert_int_equal(v.problems, 0);
    assert_int_equal(v.generations, 4);
    bkp_verify_result_clear(&v);
    ops_repo_free(&x.f);
    pthread_mutex_destroy(&x.lock);
}

static void test_sources_side_by_side(void **state)
{
    (void)state;
    /* a1 (a) and b1 (b) at once, then a2 when a is free, and "here". */
    run_sources("2", 2, 2);
    /* Three places: still one per source. */
    run_sources("3", 3, 3);
    /* One place: one after the other. */
    run_sources("1", 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_then_not_due),
        cmocka_unit_test(test_quiet_run_does_what_is_due),
        cmocka_unit_test(test_clock_was_ahead),
        cmocka_unit_test(test_drill_condition_by_last_records),
        cmocka_unit_test(test_failing_hook_fails_its_dataset_alone),
        cmocka_unit_test(test_sources_side_by_side),
        cmocka_unit_test(test_suspicious_in_both_languages),
        cmocka_unit_test(test_media_held_under_suspicion),
        cmocka_unit_test(test_media_due_alerts),
    };
    return cmocka_run_group_tests(tests, test_catalogue_setup, NULL);
}
