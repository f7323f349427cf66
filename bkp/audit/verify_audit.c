/*
 * verify_audit.c — the primary's audit log against what the primary holds
 * (verify_internal.h): the log is the witness of what was sealed, pruned and
 * changed in the keys, so a record deleted or a key file put back shows.
 */
#include "bkp/audit/verify_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/keys/key_slots.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* ---- the audit log against the records (the primary only) ---- */

typedef struct sealed {
    char *dataset;
    uint32_t seq;
    uint64_t at; /* the audit record that says so */
} sealed;

/* A change of the key slots the log records: the list it made. */
typedef struct key_event {
    uint64_t serial;
    uint64_t at; /* the record */
    bool ok;     /* recorded as done; else recorded, then not written */
} key_event;

/* A restart of the log: when, and the record. */
typedef struct restart_event {
    char time[32];
    uint64_t at;
} restart_event;

/* What the records say, gathered as the one reading of the log checks
 * them, then settled (settle_facts) to the part of the log that verifies. */
typedef struct audit_facts {
    const bkp_audit_check *chk; /* the check the same reading makes */
    uint64_t n;                 /* records gathered */
    sealed *sealed, *pruned;    /* backup records naming a generation; prune records' list */
    size_t nsealed, npruned;
    key_event *keys; /* in the order of the log */
    size_t nkeys;
    restart_event *restarts;
    size_t nrestarts;
    /* Settled: the time of the last restart of the log ("" when none); the
     * list of key slots the last key change made (its serial, the record). */
    char restarted[32];
    uint64_t key_serial, key_at;
    int err;
} audit_facts;

static int add_fact(sealed **v, size_t *n, const char *name, uint64_t at)
{
    const char *colon = name ? strrchr(name, ':') : NULL;
    char *end;
    if (!colon || colon == name)
        return 0;
    unsigned long seq = strtoul(colon + 1, &end, 10);
    if (*end || end == colon + 1 || seq < 1 || seq > 4000000000UL)
        return 0;
    sealed *nv = realloc(*v, (*n + 1) * sizeof(*nv));
    if (!nv || !(nv[*n].dataset = strndup(name, (size_t)(colon - name)))) {
        if (nv)
            *v = nv;
        return -ENOMEM;
    }
    *v = nv;
    nv[*n].seq = (uint32_t)seq;
    nv[*n].at = at;
    (*n)++;
    return 0;
}

static int add_key_event(audit_facts *f, uint64_t serial, bool ok)
{
    key_event *nv = realloc(f->keys, (f->nkeys + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    f->keys = nv;
    nv[f->nkeys++] = (key_event){.serial = serial, .at = f->n, .ok = ok};
    return 0;
}

static int add_restart(audit_facts *f, const char *when)
{
    restart_event *nv = realloc(f->restarts, (f->nrestarts + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    f->restarts = nv;
    snprintf(nv[f->nrestarts].time, sizeof(nv->time), "%s", when);
    nv[f->nrestarts++].at = f->n;
    return 0;
}

/* A key change's record: the list of key slots it made, if it names one. */
static int key_record(audit_facts *f, const bkp_audit_entry *e)
{
    json_t *serial = json_object_get(e->figures, "serial");
    uint64_t v = json_is_integer(serial) && json_integer_value(serial) > 0
                     ? (uint64_t)json_integer_value(serial)
                     : 0;
    return v ? add_key_event(f, v, e->ok) : 0;
}

static int collect_facts(const bkp_audit_entry *e, void *ctx)
{
    audit_facts *f = ctx;
    /* The reading checks as it walks: from the first record that does not
     * check or chain on, nothing is evidence. */
    if (f->chk->first_bad || f->err)
        return 1;
    f->n++;
    const char *op = e->op;
    if (!strcmp(op, "backup"))
        f->err = add_fact(&f->sealed, &f->nsealed, e->generation, f->n);
    /* What a prune of the repository deleted (not a medium's prune, of its copy). */
    const char *gone;
    for (size_t i = 0; !f->err && (gone = bkp_audit_pruned(e, i)); i++)
        f->err = add_fact(&f->pruned, &f->npruned, gone, f->n);
    if (!strcmp(op, "log_restarted") && e->time && !f->err) {
        char when[32];
        bkp_iso_time(when, sizeof(when), e->time);
        f->err = add_restart(f, when);
    }
    if ((!strcmp(op, "key-add") || !strcmp(op, "key-passwd") || !strcmp(op, "key-remove")) &&
        !f->err)
        f->err = key_record(f, e);
    return f->err ? 1 : 0;
}

/* Keep what records 1..`upto` say (the part of the log that verifies): the
 * head marker may find, after the walk, that the log was rewritten from a
 * record the walk already gathered. Each list is in the log's order. */
static void settle_facts(audit_facts *f, uint64_t upto)
{
    uint64_t prev = 0, prev_at = 0;
    while (f->nsealed && f->sealed[f->nsealed - 1].at > upto)
        free(f->sealed[--f->nsealed].dataset);
    while (f->npruned && f->pruned[f->npruned - 1].at > upto)
        free(f->pruned[--f->npruned].dataset);
    for (size_t i = 0; i < f->nrestarts && f->restarts[i].at <= upto; i++)
        snprintf(f->restarted, sizeof(f->restarted), "%s", f->restarts[i].time);
    for (size_t i = 0; i < f->nkeys && f->keys[i].at <= upto; i++) {
        const key_event *k = &f->keys[i];
        if (k->ok) {
            prev = f->key_serial;
            prev_at = f->key_at;
            f->key_serial = k->serial;
            f->key_at = k->at;
        } else if (k->serial == f->key_serial) {
            /* Recorded, then not written (the key file could not be): the
             * list stays the one before. */
            f->key_serial = prev;
            f->key_at = prev_at;
        }
    }
}

static void facts_clear(audit_facts *f)
{
    for (size_t i = 0; i < f->nsealed; i++)
        free(f->sealed[i].dataset);
    for (size_t i = 0; i < f->npruned; i++)
        free(f->pruned[i].dataset);
    free(f->sealed);
    free(f->pruned);
    free(f->keys);
    free(f->restarts);
}

/* The key file must be a signed list of this repository's key slots, and
 * not older than the last change the log records: a list put back (which a
 * retired passphrase may open again) or a change cut short after its record
 * shows here. A list newer than the log is not a finding: only a holder of
 * the master secret can sign one, and such a holder can sign records too. */
static void check_key_file(verify_ctx *c, const audit_facts *f)
{
    /* None at all: an auditor's copy, or a repository opened with the key
     * sheets; there is nothing to compare (an open with a passphrase says so). */
    char *p = bkp_repo_subpath(c->repo, "keys/key");
    bool none = p && access(p, F_OK) != 0 && errno == ENOENT;
    free(p);
    if (none)
        return;
    bkp_key_slots *s = calloc(1, sizeof(*s));
    int rc = s ? bkp_repo_key_slots(c->repo, s) : -ENOMEM;
    if (rc)
        if (rc == -EBADMSG)
            bkp_verify_problem(c, N_("keys/key: not a signed list of this repository's key slots; "
                                     "the repository would not open with its passphrases"));
        else
            bkp_verify_problem(
                c, N_("keys/key: %s; the repository would not open with its passphrases"),
                bkp_strerror_en(rc));
    else if (s->serial < f->key_serial)
        bkp_verify_problem(
            c,
            N_("keys/key is list %llu of the key slots, but the audit log records list %llu "
               "(record #%llu): the key file was put back, or a key change was cut short, and "
               "a retired passphrase may open the repository again; run the key change again "
               "(bkp key list, bkp key passwd) and tell the security manager"),
            (unsigned long long)s->serial, (unsigned long long)f->key_serial,
            (unsigned long long)f->key_at);
    free(s);
}

static bool listed(const sealed *v, size_t n, const char *ds, uint32_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].seq == seq && !strcmp(v[i].dataset, ds))
            return true;
    return false;
}

static const bkp_gen *find_gen(bkp_gen **v, size_t n, const char *ds, uint32_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid]->dataset, ds);
        if (!c && v[mid]->seq == seq)
            return v[mid];
        if (c < 0 || (!c && v[mid]->seq < seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*
 * Every generation the log says was sealed is there, or was deleted by a
 * prune the log records; every tombstone of the primary is backed by such a
 * prune. The records alone cannot show a deleted newest record (nothing
 * after it chains to it); the log, whose own end is held by its head
 * marker, can.
 */
void bkp_verify_check_audit(verify_ctx *c, bkp_gen **v, size_t n, bool log_problems)
{
    char *path = bkp_audit_path(c->repo), name[128];
    bkp_audit_check chk = {0};
    audit_facts f = {.chk = &chk};
    /* One reading of the log: its check, and the facts of its records
     * gathered as the walk checks them (each signature checked once). */
    int rc = path ? bkp_audit_each_sound(path, bkp_repo_sign_pk(c->repo), collect_facts, &f, &chk)
                  : -ENOMEM;
    if (rc == -ENOENT && chk.absent)
        rc = 1; /* no log at all: a loss the check describes */
    if (rc < 0) {
        bkp_verify_problem(
            c,
            N_("the audit log %s cannot be read (%s), so deleted generations cannot be ruled "
               "out"),
            path ? path : "audit/log.jsonl", bkp_strerror_en(rc));
        c->res->log_problems++;
        goto out;
    }
    c->res->audit_records = chk.records;
    if (log_problems && (chk.first_bad || chk.missing || chk.absent || chk.head_bad)) {
        /* Its problem as the log's check wrote it: English kept, the
         * reader's language shown. */
        char kept[1024], shown[2048];
        snprintf(kept, sizeof(kept), "the audit log %s: %s", path, chk.problem);
        snprintf(shown, sizeof(shown), _("the audit log %s: %s"), path, chk.problem_local);
        bkp_verify_add_said(c->res, shown, kept);
        c->res->log_problems++;
    }
    settle_facts(&f, chk.first_bad ? chk.first_bad - 1 : chk.records);
    check_key_file(c, &f);
    for (size_t i = 0; i < f.nsealed; i++) {
        const sealed *s = &f.sealed[i];
        const bkp_gen *g = find_gen(v, n, s->dataset, s->seq);
        if (!g || g->foreign)
            bkp_verify_problem(
                c,
                g ? N_("%s:%u: the audit log says it was sealed (record #%llu), but its "
                       "generation record is replaced by a tombstone that does not "
                       "count here and no prune deleted it: it was deleted; copy the "
                       "record back from a medium that holds it, and find out who "
                       "deleted it")
                  : N_("%s:%u: the audit log says it was sealed (record #%llu), but its "
                       "generation record is missing and no prune deleted it: it was "
                       "deleted; copy the record back from a medium that holds it, and "
                       "find out who deleted it"),
                s->dataset, s->seq, (unsigned long long)s->at);
    }
    size_t unchecked = 0;
    for (size_t i = 0; i < n; i++) {
        const bkp_gen *g = v[i];
        char when[32] = "";
        if (g->pruned_at)
            bkp_iso_time(when, sizeof(when), g->pruned_at);
        if (!g->pruned || g->status || listed(f.pruned, f.npruned, g->dataset, g->seq))
            continue;
        /* A log restarted after the prune no longer holds its record. */
        if (*f.restarted && *when && strcmp(when, f.restarted) < 0)
            continue;
        /* Past a broken record the log proves nothing: its prunes are not
         * read, and each tombstone would be named for the one break. */
        if (chk.first_bad) {
            unchecked++;
            continue;
        }
        bkp_verify_problem(
            c,
            N_("%s: its tombstone %s is not backed by a prune record in the audit log: a "
               "prune stopped before recording, or the record was deleted and a tombstone "
               "put in its place"),
            bkp_gen_name(g, name, sizeof(name)), g->file);
    }
    c->res->log_problems += unchecked > 0;
    if (unchecked)
        bkp_verify_problem(c,
                           N_("%zu tombstone(s) cannot be checked against the audit log: it is "
                              "not whole from record %llu, and the prunes that would back them "
                              "come after it"),
                           unchecked, (unsigned long long)chk.first_bad);
    c->res->log_problems += f.err != 0;
    if (f.err)
        bkp_verify_problem(c, N_("the audit log %s could not be compared with the records: %s"),
                           path, bkp_strerror_en(f.err));
out:
    facts_clear(&f);
    free(path);
}
