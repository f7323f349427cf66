/*
 * verify_audit.c — the primary's audit log against what the primary holds
 * (verify_internal.h): the log is the witness of what was sealed, pruned and
 * changed in the keys, so a record deleted or a key file put back shows.
 */
#include "bkp/verify_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bkp/audit.h"
#include "bkp/clock.h"
#include "bkp/keyslots.h"
#include "bkp/i18n.h"
#include "bkp/log.h"

/* ---- the audit log against the records (the primary only) ---- */

typedef struct sealed {
    char *dataset;
    uint32_t seq;
    uint64_t at; /* the audit record that says so */
} sealed;

typedef struct audit_facts {
    uint64_t upto; /* read records 1..upto (the part that verifies) */
    uint64_t n;
    sealed *sealed, *pruned; /* backup records naming a generation; prune records' list */
    size_t nsealed, npruned;
    char restarted[32];      /* time of the last restart of the log, "" when none */
    /* The list of key slots the last key change made (its serial, the
     * record), and the one before it, for a change that then failed. */
    uint64_t key_serial, key_at, key_prev, key_prev_at;
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

static int collect_facts(json_t *j, void *ctx)
{
    audit_facts *f = ctx;
    if (++f->n > f->upto)
        return 1; /* past the part that verifies: not evidence */
    const char *op = json_string_value(json_object_get(j, "op"));
    const char *when = json_string_value(json_object_get(j, "time"));
    if (!op)
        return 0;
    if (!strcmp(op, "backup"))
        f->err = add_fact(&f->sealed, &f->nsealed,
                          json_string_value(json_object_get(j, "generation")), f->n);
    /* A prune of the repository (not of a medium's copy) names what it deleted. */
    if (!strcmp(op, "prune") && !json_object_get(j, "medium")) {
        json_t *gone = json_object_get(json_object_get(j, "figures"), "generations_deleted");
        for (size_t i = 0; !f->err && i < json_array_size(gone); i++)
            f->err = add_fact(&f->pruned, &f->npruned,
                              json_string_value(json_array_get(gone, i)), f->n);
    }
    /* Written by the prune of the primary before each tombstone. */
    if (!strcmp(op, "prune-generation") && !json_object_get(j, "medium"))
        f->err = add_fact(&f->pruned, &f->npruned,
                          json_string_value(json_object_get(j, "generation")), f->n);
    if (!strcmp(op, "log_restarted") && when)
        snprintf(f->restarted, sizeof(f->restarted), "%s", when);
    if (!strcmp(op, "key-add") || !strcmp(op, "key-passwd") || !strcmp(op, "key-remove")) {
        json_t *serial = json_object_get(json_object_get(j, "figures"), "serial");
        const char *outcome = json_string_value(json_object_get(j, "outcome"));
        uint64_t v = json_is_integer(serial) && json_integer_value(serial) > 0
                         ? (uint64_t)json_integer_value(serial)
                         : 0;
        if (outcome && !strcmp(outcome, "ok") && v) {
            f->key_prev = f->key_serial;
            f->key_prev_at = f->key_at;
            f->key_serial = v;
            f->key_at = f->n;
        } else if (v && v == f->key_serial) {
            /* Recorded, then not written (the key file could not be): the
             * list stays the one before. */
            f->key_serial = f->key_prev;
            f->key_at = f->key_prev_at;
        }
    }
    return f->err;
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
    bkp_audit_check chk;
    audit_facts f = {0};
    int rc = path ? bkp_audit_verify(path, bkp_repo_sign_pk(c->repo), NULL, &chk)
                  : -ENOMEM;
    if (rc < 0) {
        bkp_verify_problem(
            c,
            N_("the audit log %s cannot be read (%s), so deleted generations cannot be ruled "
               "out"),
            path ? path : "audit/log.jsonl", bkp_strerror_en(rc));
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
    }
    f.upto = chk.first_bad ? chk.first_bad - 1 : chk.records;
    if (!chk.absent && (rc = bkp_audit_each(path, collect_facts, &f)) < 0)
        bkp_verify_problem(c, N_("the audit log %s cannot be read (%s)"), path,
                           bkp_strerror_en(rc));
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
    for (size_t i = 0; i < n; i++) {
        const bkp_gen *g = v[i];
        const char *when = json_string_value(json_object_get(g->json, "pruned"));
        if (!g->pruned || g->status || listed(f.pruned, f.npruned, g->dataset, g->seq))
            continue;
        /* A log restarted after the prune no longer holds its record. */
        if (*f.restarted && when && strcmp(when, f.restarted) < 0)
            continue;
        bkp_verify_problem(
            c,
            N_("%s: its tombstone %s is not backed by a prune record in the audit log: a "
               "prune stopped before recording, or the record was deleted and a tombstone "
               "put in its place"),
            bkp_gen_name(g, name, sizeof(name)), g->file);
    }
    if (f.err)
        bkp_verify_problem(c, N_("the audit log %s could not be compared with the records: %s"),
                           path, bkp_strerror_en(f.err));
out:
    for (size_t i = 0; i < f.nsealed; i++)
        free(f.sealed[i].dataset);
    for (size_t i = 0; i < f.npruned; i++)
        free(f.pruned[i].dataset);
    free(f.sealed);
    free(f.pruned);
    free(path);
}
