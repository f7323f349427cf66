/* report.c — see report.h. */
#include "bkp/ops/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"
#include "bkp/ops/backup_record.h"
#include "bkp/ops/rotate_record.h"
#include "bkp/report/evidence.h"
#include "policies/schedule.h"
#include "restore/drill_report.h"

typedef struct kept {
    bkp_audit_entry e;
    bool before; /* before the period */
    /* A use of the key sheets: the last split before it, when they are not
     * all of it (rb_ev_key_op). */
    uint64_t older_split;
} kept;

/* A data set's generations held, by sequence number (ascending), and the
 * last record that changed them. */
struct held {
    uint32_t *seq;
    size_t n, cap;
    uint64_t record;
};

typedef struct scan {
    time_t from, to;
    time_t first;    /* the log's first sound record: the repository's creation */
    /* The records of the period, and the off-line rotations before it: each
     * held by its JSON (`e.json`, a reference kept), into which its typed
     * fields point. */
    kept *records;
    size_t nrecords, cap;
    bool nomem; /* a record could not be kept */
    const pol_policy *p;
    /* For each data set (the policy's order), when the backups under its
     * schedule of today began: the first of the last run of its backup
     * records that name that schedule (0: none does). */
    time_t *sched_since;
    /* For each data set, the generations held at the period's end: those
     * its backup records up to then sealed, less those its prune records
     * deleted. Not known (`restarted`) when the log was restarted before:
     * what it held before is not in it. */
    struct held *held;
    bool restarted;
    bool past_end; /* a record after the period came: the count stops there, in the log's order */
    bool unsound;  /* the log is not whole: its records are not counted on */
    bkp_audit_entry split; /* the last key split so far (json NULL: none) */
} scan;

static bool offline_medium(const pol_policy *p, const char *name)
{
    const pol_medium *m = name ? pol_medium_find(p, name) : NULL;
    return m && m->offline;
}

/* Data set `name` of the policy's, by its place, or -1. */
static ssize_t dataset_at(const pol_policy *p, const char *name, size_t len)
{
    for (size_t k = 0; k < p->ndatasets; k++)
        if (strlen(p->datasets[k].name) == len && !strncmp(p->datasets[k].name, name, len))
            return (ssize_t)k;
    return -1;
}

/* Generation `name` ("DATASET:SEQ") of the policy: its data set's place and
 * its number; false when it is none of the policy's. */
static bool generation_at(const pol_policy *p, const char *name, ssize_t *k, uint32_t *seq)
{
    const char *colon = name ? strrchr(name, ':') : NULL;
    char *end;
    if (!colon || !colon[1])
        return false;
    errno = 0;
    unsigned long v = strtoul(colon + 1, &end, 10);
    if (*end || errno || v > UINT32_MAX)
        return false;
    *seq = (uint32_t)v;
    return (*k = dataset_at(p, name, (size_t)(colon - name))) >= 0;
}

/* Where `seq` is in `h`, or where it would go. */
static size_t held_find(const struct held *h, uint32_t seq)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->seq[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A record up to the period's end into the generations each data set holds:
 * a backup that sealed one (a suspicious seal is recorded failed, and
 * sealed it), a prune of the repository that deleted some (its summary, and
 * the record it writes before each tombstone: the same generation once). */
static void count_held(scan *s, const bkp_audit_entry *e)
{
    ssize_t k;
    uint32_t seq;
    if (!strcmp(e->op, "log_restarted"))
        s->restarted = true;
    if (!strcmp(e->op, "backup") && generation_at(s->p, e->generation, &k, &seq)) {
        struct held *h = &s->held[k];
        size_t at = held_find(h, seq);
        if (at < h->n && h->seq[at] == seq)
            return;
        if (bkp_grow((void **)&h->seq, &h->cap, h->n, sizeof(*h->seq), 64)) {
            s->nomem = true;
            return;
        }
        memmove(h->seq + at + 1, h->seq + at, (h->n - at) * sizeof(*h->seq));
        h->seq[at] = seq;
        h->n++;
        h->record = e->seq;
        return;
    }
    /* A prune that failed lists what it meant to delete (its tombstones'
     * records say what it did). */
    const char *n;
    for (size_t i = 0; (strcmp(e->op, "prune") || e->ok) && (n = bkp_audit_pruned(e, i)); i++) {
        if (!generation_at(s->p, n, &k, &seq))
            continue;
        struct held *h = &s->held[k];
        size_t at = held_find(h, seq);
        if (at == h->n || h->seq[at] != seq)
            continue;
        memmove(h->seq + at, h->seq + at + 1, (h->n - at - 1) * sizeof(*h->seq));
        h->n--;
        h->record = e->seq;
    }
}

static int collect(const bkp_audit_entry *e, void *ctx)
{
    scan *s = ctx;
    time_t t = e->time;
    if (t > 0 && (!s->first || t < s->first))
        s->first = t;
    /* Its slots are counted from the first backup under today's schedule,
     * before the period too: a data set added to the policy later, or whose
     * schedule changed, is not held to it for the time before. A record
     * that names another schedule, or none (an earlier bkp's, or a backup
     * without the policy), starts the count again. */
    for (size_t k = 0; t <= s->to && e->dataset && !strcmp(e->op, "backup") && k < s->p->ndatasets;
         k++) {
        const pol_dataset *d = &s->p->datasets[k];
        char now[64];
        const char *was = ops_backup_schedule(e);
        if (strcmp(d->name, e->dataset))
            continue;
        if (!was || strcmp(was, pol_schedule_text(&d->schedule, now, sizeof(now))))
            s->sched_since[k] = 0;
        else if (!s->sched_since[k])
            s->sched_since[k] = ops_backup_began(e);
    }
    /* In the log's order: a record dated inside the period that comes after
     * one past it (a clock set back) does not change what was held then. */
    s->past_end |= t > s->to;
    if (!s->past_end)
        count_held(s, e);
    bool before = t < s->from;
    if (e->ok && !strcmp(e->op, "key-split"))
        bkp_audit_entry_hold(&s->split, e);
    /* Rotations before the period tell how old the off-line copy was at its start. */
    if (t > s->to || (before && !(!strcmp(e->op, "rotate") && offline_medium(s->p, e->medium))))
        return 0;
    if (bkp_grow((void **)&s->records, &s->cap, s->nrecords, sizeof(*s->records), 64)) {
        s->nomem = true; /* said by ops_report: the status's reading goes on */
        return -ENOMEM;
    }
    kept *k = &s->records[s->nrecords++];
    *k = (kept){.before = before};
    if (bkp_audit_sheets_older(&s->split, e))
        k->older_split = s->split.seq;
    bkp_audit_entry_hold(&k->e, e);
    return 0;
}

static void scan_free(scan *s)
{
    for (size_t i = 0; i < s->nrecords; i++)
        bkp_audit_entry_release(&s->records[i].e);
    free(s->records);
    bkp_audit_entry_release(&s->split);
    free(s->sched_since);
    for (size_t k = 0; s->held && k < s->p->ndatasets; k++)
        free(s->held[k].seq);
    free(s->held);
}

static bool is(const bkp_audit_entry *r, const char *op)
{
    return !strcmp(r->op, op);
}

/* Is restore record `r` a restore by runbook (its figures name one) that
 * people followed: every confirm step confirmed by a person ("attended")?
 * One nobody attended (a script's, a runbook without confirm steps) proves
 * no more of the procedure than a restore by hand. */
static bool by_runbook_attended(const bkp_audit_entry *r)
{
    rb_drill_figures f;
    rb_drill_figures_read(r, &f);
    return f.runbook != NULL && f.attended == RST_YES;
}

/* Does record `r` name data set `ds`: its own, or, a rotation's, among the
 * generations it copied? */
static bool names_dataset(const bkp_audit_entry *r, const char *ds)
{
    if (r->dataset)
        return !strcmp(r->dataset, ds);
    size_t l = strlen(ds);
    const char *n;
    for (size_t i = 0; (n = ops_rotation_generation(r, i)); i++) /* a rotation's */
        if (!strncmp(n, ds, l) && n[l] == ':')
            return true;
    return false;
}

/* ---- the records into the typed evidence (evidence_doc.h) ---- */

/* The audit record `r` as cited: its number, time and what it says. */
static void entry_of(const bkp_audit_entry *r, rb_ev_entry *e, bool *nomem)
{
    *e = (rb_ev_entry){.seq = r->seq, .time = r->time};
    e->outcome = bkp_strdup_or(r->ok ? "ok" : "failed", nomem);
    e->medium = bkp_strdup_or(r->medium, nomem);
    e->generation = bkp_strdup_or(r->generation, nomem);
    e->error = bkp_strdup_or(r->error, nomem);
    e->error_ja = bkp_strdup_or(r->error_ja, nomem);
}

/* Which kind of drill: a person attested it (and who), unattended (a
 * schedule's), or a key-recovery drill (the sheets alone); a restore by
 * runbook people followed, for real. */
static rb_ev_kind drill_kind(const bkp_audit_entry *r, const rb_drill_figures *f)
{
    if (is(r, "restore"))
        return RB_EV_RECOVERY;
    if (f->key_recovery)
        return RB_EV_KEY_RECOVERY;
    return rb_drill_figures_unattended(f) ? RB_EV_UNATTENDED : RB_EV_ATTENDED;
}

static void drill_of(const bkp_audit_entry *r, rb_ev_drill *d, bool *nomem)
{
    rb_drill_figures f;
    rb_drill_figures_read(r, &f);
    entry_of(r, &d->e, nomem);
    d->runbook = bkp_strdup_or(f.runbook, nomem);
    d->seconds = f.seconds;
    d->rto_target = f.rto_target;
    d->rto_met = f.rto_met;
    d->failed_step = f.failed_step;
    d->not_rehearsed = f.not_rehearsed;
    d->damaged = f.damaged;
    d->kind = drill_kind(r, &f);
    d->attested_by = bkp_strdup_or(f.attested_by, nomem);
    d->read_from = bkp_strdup_or(f.read_from, nomem);
    d->user = bkp_strdup_or(r->user, nomem);
}

/* Room for one more in `*v` (`*n` of `*cap`), zeroed; NULL (and `*nomem`)
 * without memory. */
static void *one_more(void **v, size_t *n, size_t *cap, size_t size, bool *nomem)
{
    if (bkp_grow(v, cap, *n, size, 8)) {
        *nomem = true;
        return NULL;
    }
    char *at = (char *)*v + (*n)++ * size;
    memset(at, 0, size);
    return at;
}

/* What the records of the period say of one data set. */
typedef struct tally {
    rb_ev_dataset *d;
    size_t cap_backups, cap_rot, cap_drills;
    time_t *made; /* when the period's backups were made */
    size_t nmade, cap_made;
    time_t last_off; /* capture time of the newest off-line copy */
    bool nomem;
} tally;

static void count_record(const kept *k, const pol_dataset *ds, const scan *s, tally *tl)
{
    rb_ev_dataset *d = tl->d;
    const bkp_audit_entry *r = &k->e;
    bool pre = k->before;
    time_t t = r->time;
    if (is(r, "backup") && names_dataset(r, ds->name) && !pre) {
        bool susp = ops_backup_suspicious(r);
        d->backups_ok += r->ok && !susp;
        d->backups_failed += !r->ok && !susp;
        d->backups_suspicious += susp;
        /* Made when it sealed a generation, whatever it said after (a
         * suspicious one, or one with unreadable paths, is recorded as
         * failed); for the night it began on, not the one it ended on. */
        if (r->generation &&
            !bkp_grow((void **)&tl->made, &tl->cap_made, tl->nmade, sizeof(time_t), 8))
            tl->made[tl->nmade++] = ops_backup_began(r);
        else if (r->generation)
            tl->nomem = true;
        rb_ev_entry *e =
            one_more((void **)&d->backups, &d->nbackups, &tl->cap_backups, sizeof(*e), &tl->nomem);
        if (e)
            entry_of(r, e, &tl->nomem);
    } else if (is(r, "rotate") && /* a failed one names no generation: it counts for the
                                       data sets the policy copies there */
               (names_dataset(r, ds->name) || ops_rotation_captured(r, ds->name) ||
                (!r->ok && pol_dataset_copies_to(ds, r->medium)))) {
        const char *m = r->medium;
        rb_ev_rotation *rot = pre ? NULL
                                  : one_more((void **)&d->rotations, &d->nrotations, &tl->cap_rot,
                                             sizeof(*rot), &tl->nomem);
        if (rot) {
            entry_of(r, &rot->e, &tl->nomem);
            rot->refused = ops_rotation_refused(r);
            rot->offline = offline_medium(s->p, m);
        }
        if (r->ok && offline_medium(s->p, m)) {
            /* The copy is as old as the generation it holds, not the rotation. */
            time_t base =
                ops_rotation_captured(r, ds->name) ? ops_rotation_captured(r, ds->name) : t;
            time_t start = tl->last_off ? tl->last_off : s->from;
            if (!pre && t - start > d->offline_gap) {
                d->offline_gap = t - start;
                d->offline_gap_end = t;
            }
            d->offline_lapses += !pre && t - start > s->p->rule.offline_max_age;
            if (base > tl->last_off)
                tl->last_off = base;
        }
    } else if ((is(r, "drill") || (is(r, "restore") && by_runbook_attended(r))) &&
               names_dataset(r, ds->name) && !pre) {
        /* A restore by runbook that people followed confirms the procedure
         * as an attended drill does: listed beside them. A restore by hand,
         * or by runbook with nobody attending, does not. */
        rb_ev_drill *dr =
            one_more((void **)&d->drills, &d->ndrills, &tl->cap_drills, sizeof(*dr), &tl->nomem);
        if (dr)
            drill_of(r, dr, &tl->nomem);
    }
}

/* Its written procedure: name, file, title, steps and target; invalid when
 * it does not load; none when the data set names none. */
static void runbook_part(const ops_report_in *in, const pol_dataset *d, rb_ev_runbook *out,
                         bool *nomem)
{
    rb_runbook *rb = NULL;
    char stem[256];
    if (!d->runbook)
        return;
    /* By the name its drills' records give it, a path in the policy too. */
    rb_runbook_stem(d->runbook, stem, sizeof(stem));
    out->name = bkp_strdup_or(stem, nomem);
    if (!in->load_runbook(in->ctx, d->runbook, &rb)) {
        out->file = bkp_strdup_or(rb->file, nomem);
        out->title = bkp_strdup_or(rb->title, nomem);
        out->steps = rb->nsteps;
        out->rto = rb->rto;
    } else {
        out->invalid = true;
    }
    rb_free(rb);
}

/* The status of now of data set `name` in `status` (may be NULL), or NULL. */
static const rst_dataset *status_of(const rst_status *status, const char *name)
{
    for (size_t i = 0; status && i < status->ndatasets; i++)
        if (!strcmp(status->datasets[i].name, name))
            return &status->datasets[i];
    return NULL;
}

/* The status of now `st` of a data set into its part of the evidence. */
static void status_part(const rst_dataset *st, rb_ev_dataset *d, bool *nomem)
{
    d->has_status = true;
    d->generations = st->generations;
    d->verdict = st->verdict;
    d->en = st->en;
    d->ja = st->ja;
    d->counted = st->counted;
    d->required = st->required;
    if (st->ncopies && !(d->copies = calloc(st->ncopies, sizeof(*d->copies)))) {
        *nomem = true;
        return;
    }
    for (size_t i = 0; i < st->ncopies; i++) {
        d->copies[i] = st->copies[i];
        d->copies[i].medium = bkp_strdup_or(st->copies[i].medium, nomem);
        d->ncopies++;
    }
}

/* One data set's part of the evidence into `d`, with the data sets'
 * status of now `status` (may be NULL); false without memory. */
static bool dataset_part(const ops_report_in *in, const pol_dataset *ds, const scan *s,
                         const rst_status *status, rb_ev_dataset *d)
{
    const pol_policy *p = s->p;
    tally t = {.d = d};
    d->name = bkp_strdup_or(ds->name, &t.nomem);
    d->description = bkp_strdup_or(ds->description, &t.nomem);
    d->priority = ds->priority;
    for (size_t i = 0; i < s->nrecords; i++)
        count_record(&s->records[i], ds, s, &t);
    time_t end = s->to < bkp_now() ? s->to : bkp_now();
    int64_t age = end - (t.last_off ? t.last_off : s->from); /* of the newest, at the end */
    if (age > d->offline_gap) {
        d->offline_gap = age;
        d->offline_gap_end = end;
    }
    d->offline_lapses += age > p->rule.offline_max_age;
    d->offline_gap_ok = t.last_off && d->offline_gap <= p->rule.offline_max_age;
    d->offline_at_end_ok = t.last_off && age <= p->rule.offline_max_age ? RST_YES : RST_NO;
    /* The nights its schedule asked for since it has had it, and those none
     * took. */
    time_t since = s->sched_since[ds - p->datasets];
    pol_slots slots = {0};
    if (since && ds->schedule.kind != POL_SCHED_NONE) {
        time_t first = pol_last_slot(&ds->schedule, since); /* the slot it was for */
        pol_slots_count(&ds->schedule, first > s->from ? first : s->from, end, t.made, t.nmade,
                        &slots);
    }
    if (slots.scheduled) {
        d->has_slots = true;
        d->slots = slots.scheduled;
        d->slots_missed = slots.missed;
        for (size_t k = 0; k < slots.missed && k < POL_SLOTS_NAMED; k++)
            d->missed[d->nmissed++] = slots.named[k];
    }
    free(t.made);
    d->offline_max_age = p->rule.offline_max_age;
    size_t k = (size_t)(ds - p->datasets);
    d->held_at_end = s->restarted || s->unsound ? -1 : (int64_t)s->held[k].n;
    d->held_seq = s->held[k].record;
    const rst_dataset *st = status_of(status, ds->name);
    if (st)
        status_part(st, d, &t.nomem);
    runbook_part(in, ds, &d->runbook, &t.nomem);
    return !t.nomem;
}

static bool verifications(const scan *s, rb_evidence *ev)
{
    size_t cap = 0;
    bool nomem = false;
    for (size_t i = 0; i < s->nrecords; i++) {
        const bkp_audit_entry *r = &s->records[i].e;
        if (!is(r, "verify") || s->records[i].before)
            continue;
        rb_ev_entry *e =
            one_more((void **)&ev->verifications, &ev->nverifications, &cap, sizeof(*e), &nomem);
        if (e)
            entry_of(r, e, &nomem);
    }
    return !nomem;
}

/* ---- key operations: every use and change of the key in the period ---- */

/* The operations on the key the log records (cmd_key.c, open_key_from.c, and the
 * passphrase slots'), named here so that each appears once it is recorded. */
static bool key_op(const bkp_audit_entry *r)
{
    static const char *const ops[] = {"key-export", "key-split",  "key-from",
                                      "key-add",    "key-passwd", "key-remove"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        if (is(r, ops[i]))
            return true;
    /* A key-recovery drill (drill.h) is a use of the sheets too. */
    rb_drill_figures f;
    rb_drill_figures_read(r, &f);
    return is(r, "drill") && f.key_recovery;
}

static bool key_ops(const scan *s, rb_evidence *ev)
{
    json_t *v;
    size_t cap = 0;
    const char *k;
    bool nomem = false;
    ev->has_key_ops = true;
    for (size_t i = 0; i < s->nrecords; i++) {
        const bkp_audit_entry *r = &s->records[i].e;
        if (s->records[i].before || !key_op(r))
            continue;
        rb_ev_key_op *op =
            one_more((void **)&ev->key_ops, &ev->nkey_ops, &cap, sizeof(*op), &nomem);
        if (!op)
            break;
        const json_t *f = r->figures;
        entry_of(r, &op->e, &nomem); /* its generation and error are not shown */
        op->op = bkp_strdup_or(r->op, &nomem);
        op->key_recovery = is(r, "drill");
        op->older_split = s->records[i].older_split;
        op->user = bkp_strdup_or(r->user, &nomem);
        op->host = bkp_strdup_or(r->host, &nomem);
        op->dataset = bkp_strdup_or(r->dataset, &nomem);
        if (op->key_recovery) { /* what the drill proved, not its report files */
            static const char *const proved[] = {"runbook", "seconds", "key_sheets"};
            for (size_t p = 0; p < sizeof(proved) / sizeof(*proved); p++)
                if ((v = json_object_get(f, proved[p])))
                    nomem |= rb_ev_key_op_figure(op, proved[p], v) != 0;
        } else {
            json_object_foreach((json_t *)f, k, v) nomem |= rb_ev_key_op_figure(op, k, v) != 0;
        }
    }
    return !nomem;
}

/* The records of the period into `s` and the check of the whole log into
 * `chk`, from one reading of the log: the status's (`*status`, a new
 * reference, which hands each record it reads on to `collect`) when
 * `in->status_in` is given, else the report's own. 0 when the log was
 * checked (problems: `chk->bad`), or negative (-ENOENT: there is no log). */
static int read_log(const ops_report_in *in, scan *s, bkp_audit_check *chk, rst_status *status)
{
    if (in->status_in) {
        ops_status_in si = *in->status_in;
        ops_status_log found;
        si.also = collect;
        si.also_ctx = s;
        int rc = ops_status(&si, status, &found);
        if (!rc) {
            *chk = found.check;
            /* The status calls a log that is not there a problem; here it
             * stays the failure to read that it always was. */
            return found.rc == 1 && found.check.absent ? -ENOENT : found.rc < 0 ? found.rc : 0;
        }
        /* The log was read, then the status failed (no memory): its
         * records are in `s` already, and reading again would count them
         * twice. */
        if (found.read)
            return rc;
        /* The status could not be gathered and did not read the log. */
    }
    char *log = bkp_audit_path(in->repo);
    /* Evidence only from the part of the log that checks: a record an
     * insider appended without the key counts for nothing here. */
    int vrc =
        log ? bkp_audit_each_sound(log, bkp_repo_sign_pk(in->repo), collect, s, chk) : -ENOMEM;
    free(log);
    return vrc;
}

int ops_report(const ops_report_in *in, rb_evidence *out)
{
    size_t nd = in->policy->ndatasets + 1;
    scan s = {.from = in->from,
              .to = in->to,
              .p = in->policy,
              .sched_since = calloc(nd, sizeof(time_t)),
              .held = calloc(nd, sizeof(struct held))};
    bkp_audit_check chk = {0};
    rst_status status = {0};
    memset(out, 0, sizeof(*out));
    int vrc = s.sched_since && s.held ? read_log(in, &s, &chk, &status) : -ENOMEM;
    if (s.nomem) /* a record not kept: no evidence rather than a part of it */
        vrc = -ENOMEM;
    if (vrc == -ENOMEM) { /* no evidence at all, rather than a part of it */
        scan_free(&s);
        rst_status_clear(&status);
        return -ENOMEM;
    }
    bool bad = vrc != 0 || chk.bad; /* unreadable, or read and found wanting */
    /* A log changed, cut or gone: the count would rest on records past a
     * break (a clock set back is not that: the count goes by the log's order). */
    s.unsound = vrc != 0 || (chk.bad && bkp_audit_code_tampered(chk.why.code));
    /* The period starts no earlier than the repository: before it there was
     * nothing to back up, and no gap to count (the log's first record is its
     * creation). Records before that start do not exist. */
    time_t asked = s.from;
    if (s.first > s.to && !bad) { /* nothing of it existed: no "yes" of today's */
        char made[48];
        bkp_local_time(made, sizeof(made), s.first, "?");
        bkp_error(_("the repository was made on %s, after this period ended: there is nothing "
                    "to report for it; give a period that ends after that day"),
                  made);
        scan_free(&s);
        rst_status_clear(&status);
        return -ENODATA;
    }
    if (s.first > s.from && s.first <= s.to)
        s.from = s.first;
    bool mem = true;
    const rst_status *now = in->status_in ? &status : in->status;
    if (in->policy->ndatasets &&
        !(out->datasets = calloc(in->policy->ndatasets, sizeof(*out->datasets))))
        mem = false;
    for (size_t k = 0; mem && k < in->policy->ndatasets; k++)
        mem &=
            dataset_part(in, &in->policy->datasets[k], &s, now, &out->datasets[out->ndatasets++]);
    rst_status_clear(&status);
    char fp[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(in->repo), fp); /* pinned on paper with the report */
    bool nomem = false;
    out->repository = bkp_strdup_or(bkp_repo_path(in->repo), &nomem);
    out->repository_id = bkp_strdup_or(bkp_repo_uuid(in->repo), &nomem);
    out->fingerprint = bkp_strdup_or(fp, &nomem);
    out->facility = bkp_strdup_or(in->policy->facility, &nomem);
    mem &= !nomem;
    out->from = s.from;
    out->to = s.to;
    out->generated = bkp_now();
    if (s.from != asked) { /* said on the report: the period was shortened, and why */
        out->asked_from = asked;
        out->from_default = in->from_default;
    }
    out->audit.ok = !bad;
    out->audit.records = chk.records;
    snprintf(out->audit.problem, sizeof(out->audit.problem), "%s", bad ? chk.problem : "");
    /* The problem's code beside its English: the statement says it in each language. */
    if (vrc < 0 && !chk.why.code)
        chk.why = (bkp_audit_problem){.code = BKP_AUDIT_UNREADABLE, .err = vrc};
    if (bad)
        out->audit.why = chk.why;
    mem = mem && verifications(&s, out) && key_ops(&s, out) && rb_evidence_judge(out);
    scan_free(&s);
    if (!mem) {
        rb_evidence_clear(out);
        return -ENOMEM;
    }
    return vrc < 0 ? vrc : 0;
}

void ops_report_rec(const char *path, const char *sha256, time_t from, time_t to, bool answer,
                    bkp_audit_rec *rec)
{
    char f[32], t[32], *p = (char *)path, *sum = (char *)sha256;
    bkp_strlist paths = {&p, 1}, sums = {&sum, 1};
    bkp_iso_time(f, sizeof(f), from);
    bkp_iso_time(t, sizeof(t), to);
    json_t *fig = json_pack("{s:s, s:s, s:b}", "from", f, "to", t, "answer", answer);
    if (fig && bkp_audit_reports_set(fig, &paths, &sums)) { /* unrecorded rather than uncheckable */
        json_decref(fig);
        fig = NULL;
    }
    *rec = (bkp_audit_rec){.op = "report", .figures = fig};
}

bool ops_report_rec_read(const bkp_audit_entry *e, time_t *from, time_t *to, bool *answer)
{
    if (!e->op || strcmp(e->op, "report"))
        return false;
    const char *f = json_string_value(json_object_get(e->figures, "from"));
    const char *t = json_string_value(json_object_get(e->figures, "to"));
    time_t a = f ? bkp_iso_parse(f) : 0, b = t ? bkp_iso_parse(t) : 0;
    *from = a > 0 ? a : 0;
    *to = b > 0 ? b : 0;
    *answer = json_is_true(json_object_get(e->figures, "answer"));
    return true;
}
