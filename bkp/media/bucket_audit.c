/* bucket_audit.c — the bucket's copy of the primary's audit log, read back
 * by one rule (bucket.h, bkp_bucket_fetch_audit). */
#include "bkp/media/bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/bucket_internal.h"
#include "bkp/media/copy.h"

static const char audit_key[] = BKP_BUCKET_REPO BKP_AUDIT_COPY;

/* As many versions as any listing of one prefix (bucket_fetch.c). */
#define AUDIT_LISTING_MAX 1000000
/* What the versions tried may cost together, beyond the current one: a
 * real longer copy is a few rotations' records longer, a planted one may be
 * hundreds of megabytes (each is read whole and every record checked). */
#define AUDIT_BUDGET_FLOOR (64ULL << 20)
#define AUDIT_BUDGET_MAX (1ULL << 30)

typedef struct audit_version {
    char id[BKP_S3_VERSION_MAX + 1];
    uint64_t size;
    time_t mtime;
} audit_version;

/* What the listing keeps: the current version, the one before it, and of
 * the others only the BKP_BUCKET_TRIES largest (largest first) and how many
 * there are. */
typedef struct audit_listing {
    audit_version cur, prev, top[BKP_BUCKET_TRIES];
    size_t ntop;
    uint64_t versions; /* real versions */
    uint64_t seen;
    bool marker_first, any;
} audit_listing;

static int take(const bkp_s3_object *o, void *ctx)
{
    audit_listing *l = ctx;
    if (strcmp(o->key, audit_key))
        return 0; /* another key under the same prefix: not this rule's */
    if (++l->seen > AUDIT_LISTING_MAX) {
        bkp_error(_("the bucket lists more than %d versions under one prefix: no copy bkp writes "
                    "has so many; the bucket (or the server) is not what the policy says"),
                  AUDIT_LISTING_MAX);
        return -EFBIG;
    }
    if (!l->any && o->delete_marker)
        l->marker_first = true;
    l->any = true;
    if (o->delete_marker || !*o->version_id)
        return 0;
    audit_version v = {.size = o->size, .mtime = o->mtime};
    snprintf(v.id, sizeof(v.id), "%s", o->version_id);
    if (!l->versions++) { /* newest first: the current one */
        l->cur = v;
        return 0;
    }
    if (l->versions == 2) /* the one a rotation wrote before it, unless planted */
        l->prev = v;
    size_t k = l->ntop < BKP_BUCKET_TRIES ? l->ntop++ : BKP_BUCKET_TRIES;
    while (k > 0 && l->top[k - 1].size < v.size) {
        if (k < BKP_BUCKET_TRIES)
            l->top[k] = l->top[k - 1];
        k--;
    }
    if (k < BKP_BUCKET_TRIES)
        l->top[k] = v;
    return 0;
}

/* Version `v`, fetched whole under the cap and checked under `pk` into
 * `b` and `chk`: 0 when its chain and signatures check, -EBADMSG (said)
 * when it does not or cannot be what it says, else an S3 error (logged). */
static int fetch_checked(bkp_s3 *s, const audit_version *v, const uint8_t pk[32], bkp_buf *b,
                         bkp_audit_check *chk)
{
    uint64_t max = bkp_copy_member_max(BKP_AUDIT_COPY);
    void *data = NULL;
    size_t len = 0;
    char when[64];
    bkp_buf_free(b);
    bkp_local_time(when, sizeof(when), v->mtime, "?");
    if (v->size > max) {
        bkp_warn(_("the bucket's %s (version %s) is larger than any copy of the log (%llu "
                   "bytes): it was not written by bkp and is passed over"),
                 audit_key, v->id, (unsigned long long)max);
        return -EBADMSG;
    }
    int rc = bkp_s3_get(s, audit_key, v->id, (size_t)max, &data, &len);
    if (rc == -EINVAL || rc == -EACCES)
        bkp_warn(_("the bucket's %s (version %s) cannot be read (%s): not written by bkp; it is "
                   "passed over"),
                 audit_key, v->id, bkp_strerror(rc));
    if (bucket_version_unusable(rc))
        rc = -EBADMSG;
    if (rc) {
        if (rc != -EBADMSG)
            bkp_error(_("cannot fetch %s (version %s) from the bucket: %s"), audit_key, v->id,
                      bkp_strerror(rc));
        free(data);
        return rc;
    }
    b->data = data;
    b->len = b->cap = len;
    rc = bkp_audit_verify_bytes(audit_key, b, pk, NULL, chk);
    if (rc < 0)
        return rc;
    if (chk->bad || chk->absent || !chk->records) {
        bkp_warn(_("the bucket's %s (version %s, written %s) does not check under the "
                   "repository's key (%s): forged, damaged or another repository's; it is passed "
                   "over"),
                 audit_key, v->id, when, chk->bad ? chk->problem_local : _("no record"));
        return -EBADMSG;
    }
    return 0;
}

/* Does `whole` begin with all of `head`? */
static bool continues(const bkp_buf *whole, const bkp_buf *head)
{
    return head->len <= whole->len && !memcmp(whole->data, head->data, head->len);
}

/* The first record at which `a` and `b` differ (1 when the first does). */
static uint64_t diverge(const bkp_buf *a, const bkp_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    uint64_t line = 1;
    while (i < n && a->data[i] == b->data[i])
        line += a->data[i++] == '\n';
    return line;
}

/* A copy that checks, as read. */
typedef struct copy {
    const audit_version *v;
    bkp_buf b;
    bkp_audit_check chk;
} copy;

/* Is `a` a later history than `b` (both check)? The longer, when one
 * continues the other; else the one that records a restart of the log
 * where the two part. 1 yes, 0 no, -1 neither: two histories that no
 * restart explains. */
static int later(const copy *a, const copy *b)
{
    if (continues(&a->b, &b->b))
        return a->b.len > b->b.len;
    if (continues(&b->b, &a->b))
        return 0;
    uint64_t at = diverge(&a->b, &b->b);
    bool ar = a->chk.restarts && a->chk.restart_seq >= at;
    bool br = b->chk.restarts && b->chk.restart_seq >= at;
    return ar == br ? -1 : ar;
}

static void note(char *id, size_t n, time_t *when, uint64_t *records, const copy *c)
{
    snprintf(id, n, "%s", c->v->id);
    *when = c->v->mtime;
    *records = c->chk.records;
}

/* Weigh copy `c` (just read, checked) against the latest so far, `best`:
 * the later of the two becomes `best`; another history is noted in `out`. */
static void weigh(copy *best, copy *c, bkp_bucket_audit *out)
{
    if (!best->v) {
        *best = *c;
        bkp_buf_init(&c->b);
        return;
    }
    int l = later(c, best);
    if (l < 0) { /* another history that no restart explains */
        note(out->other, sizeof(out->other), &out->other_written, &out->other_records, c);
        out->two_histories = true;
    } else if (!l && !continues(&best->b, &c->b) && !*out->other) {
        /* An older history, before a restart the later one records. */
        note(out->other, sizeof(out->other), &out->other_written, &out->other_records, c);
    }
    if (l == 1) {
        if (!*out->other && !continues(&c->b, &best->b))
            note(out->other, sizeof(out->other), &out->other_written, &out->other_records, best);
        bkp_buf_free(&best->b);
        *best = *c;
        bkp_buf_init(&c->b);
    }
}

int bkp_bucket_fetch_audit(bkp_s3 *s, const uint8_t pk[32], bkp_buf *log, bkp_bucket_audit *out)
{
    audit_listing l = {0};
    copy best = {0}, c = {0};
    memset(out, 0, sizeof(*out));
    bkp_buf_init(&best.b);
    bkp_buf_init(&c.b);
    int rc = bkp_s3_list_versions(s, audit_key, take, &l);
    if (!rc && !l.versions)
        rc = -ENOENT;
    if (rc)
        return rc;
    out->versions = l.versions;
    out->hidden = l.marker_first;
    snprintf(out->current, sizeof(out->current), "%s", l.cur.id);
    out->current_written = l.cur.mtime;
    /* The current version, the one before it, then those longer than the
     * latest so far, longest first, within the budget. */
    uint64_t budget = AUDIT_BUDGET_FLOOR + 4 * l.cur.size, spent = 0;
    budget = budget < AUDIT_BUDGET_MAX ? budget : AUDIT_BUDGET_MAX;
    const audit_version *order[2 + BKP_BUCKET_TRIES];
    size_t n = 0;
    order[n++] = &l.cur;
    if (l.versions > 1)
        order[n++] = &l.prev;
    for (size_t k = 0; k < l.ntop; k++)
        if (strcmp(l.top[k].id, l.prev.id))
            order[n++] = &l.top[k];
    bool cur_ok = false;
    for (size_t i = 0; i < n; i++) {
        const audit_version *v = order[i];
        if (i >= 2 && best.v && v->size <= best.b.len)
            continue; /* shorter than the latest: an older copy, unless a restart */
        if (i > 0 && spent + v->size > budget) {
            out->untried++;
            continue;
        }
        spent += i > 0 ? v->size : 0;
        out->tried++;
        c.v = v;
        rc = fetch_checked(s, v, pk, &c.b, &c.chk);
        if (rc == -EBADMSG) {
            out->failed++;
            rc = 0;
            continue;
        }
        if (rc)
            goto out;
        if (i == 0) {
            cur_ok = true;
            out->current_records = c.chk.records;
        }
        weigh(&best, &c, out);
    }
    /* Versions beyond the largest kept: longer than the latest, untried. */
    if (l.versions - 1 > l.ntop && (!best.v || l.top[l.ntop - 1].size > best.b.len))
        out->untried++;
    if (!best.v) {
        bkp_error(_("the bucket's %s: none of the %zu version(s) tried checks under the "
                    "repository's key (%llu more not tried); no copy of the log is taken from it"),
                  audit_key, out->tried, (unsigned long long)out->untried);
        rc = -EBADMSG;
        goto out;
    }
    out->state = !cur_ok              ? BKP_BUCKET_AUDIT_FORGED
                 : best.v != &l.cur   ? BKP_BUCKET_AUDIT_ROLLED_BACK
                 : out->two_histories ? BKP_BUCKET_AUDIT_OTHER_LONGER
                 : out->untried       ? BKP_BUCKET_AUDIT_UNDECIDED
                 : *out->other        ? BKP_BUCKET_AUDIT_RESTARTED
                                      : BKP_BUCKET_AUDIT_CURRENT;
    note(out->version, sizeof(out->version), &out->written, &out->records, &best);
    *log = best.b;
    bkp_buf_init(&best.b);
out:
    bkp_buf_free(&best.b);
    bkp_buf_free(&c.b);
    return rc;
}

bool bkp_bucket_audit_tampered(const bkp_bucket_audit *a)
{
    return a->hidden || a->failed || a->untried ||
           (a->state != BKP_BUCKET_AUDIT_CURRENT && a->state != BKP_BUCKET_AUDIT_RESTARTED);
}

void bkp_bucket_audit_say(const bkp_bucket_audit *a)
{
    char when[64], other[64];
    bkp_local_time(when, sizeof(when), a->current_written, "?");
    bkp_local_time(other, sizeof(other), a->other_written, "?");
    if (a->hidden)
        bkp_warn(_("the bucket's %s is hidden by a delete marker: someone holding the credentials "
                   "put it there; the versions behind it are read"),
                 audit_key);
    if (a->state == BKP_BUCKET_AUDIT_ROLLED_BACK)
        bkp_warn(_("the bucket's %s: its current version %s (written %s) holds %llu record(s), "
                   "the start of the older version %s, which holds %llu: an older copy was put "
                   "in front (a rollback, by someone holding the credentials); the longer one is "
                   "taken. Find out who, then `bkp rotate` puts the log back in front"),
                 audit_key, a->current, when, (unsigned long long)a->current_records, a->version,
                 (unsigned long long)a->records);
    else if (a->state == BKP_BUCKET_AUDIT_FORGED)
        bkp_warn(_("the bucket's %s: its current version %s (written %s) does not check; the "
                   "longest that does, version %s with %llu record(s), is taken. Find out who put "
                   "it there, then `bkp rotate` puts the log back in front"),
                 audit_key, a->current, when, a->version, (unsigned long long)a->records);
    else if (a->state == BKP_BUCKET_AUDIT_OTHER_LONGER)
        bkp_warn(_("the bucket's %s: its current version %s holds %llu record(s) that do not "
                   "continue the older version %s (written %s, %llu record(s)), which checks too, "
                   "and no restart of the log it records explains it: two histories signed by "
                   "the repository's key. The current one is taken; find out who wrote the "
                   "other"),
                 audit_key, a->current, (unsigned long long)a->current_records, a->other, other,
                 (unsigned long long)a->other_records);
    else if (a->state == BKP_BUCKET_AUDIT_RESTARTED)
        bkp_info(_("the bucket's %s: the log was restarted (`bkp audit show` gives the reason of "
                   "the log_restarted record); its older version %s (written %s, %llu record(s)) "
                   "holds what came before"),
                 audit_key, a->other, other, (unsigned long long)a->other_records);
    if (a->untried)
        bkp_warn(_("the bucket's %s: at least %llu longer version(s) were not tried (at most %d "
                   "are, and only so many bytes): a longer copy of the log may be among them, put "
                   "behind others by someone holding the credentials. Read them with the store's "
                   "own tools (operator guide, section 12)"),
                 audit_key, (unsigned long long)a->untried, BKP_BUCKET_TRIES);
}
