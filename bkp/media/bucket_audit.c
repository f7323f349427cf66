/* bucket_audit.c — the bucket's copy of the primary's audit log, read back
 * by one rule (bucket.h, bkp_bucket_fetch_audit). */
#include "bkp/media/bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/bucket_internal.h"
#include "bkp/media/copy.h"

static const char audit_key[] = BKP_BUCKET_REPO BKP_AUDIT_COPY;

/* The entries listed, newest first, delete markers too: no bucket a
 * rotation writes to holds so many (one a rotation, superseded ones pruned
 * once their lock ends); the listing stops there, and the rest is said. */
#define AUDIT_VERSIONS_MAX 100000
/* What is read beyond the current version: so many versions, so many
 * bytes. Each is read whole and every record of it checked. */
#define AUDIT_READS_MAX (4 * BKP_BUCKET_TRIES)
#define AUDIT_BUDGET_FLOOR (64ULL << 20)
#define AUDIT_BUDGET_MAX (1ULL << 30)

typedef struct audit_version {
    char *id;
    uint64_t size;
    time_t mtime;
    char etag[33]; /* the MD5 of a single-part upload, else "" */
    bool known;    /* the start of the latest so far (its ETag says), or read */
} audit_version;

typedef struct audit_listing {
    audit_version *v; /* real versions, newest first */
    size_t n, cap;
    uint64_t seen; /* entries listed, delete markers too */
    bool past;     /* the listing was cut at AUDIT_VERSIONS_MAX entries */
    bool marker_first, any;
} audit_listing;

static int take(const bkp_s3_object *o, void *ctx)
{
    audit_listing *l = ctx;
    if (strcmp(o->key, audit_key))
        return 0; /* another key under the same prefix: not this rule's */
    if (!l->any && o->delete_marker)
        l->marker_first = true;
    l->any = true;
    if (++l->seen > AUDIT_VERSIONS_MAX) {
        l->past = true; /* the rest is not listed: said as unread */
        return 1;
    }
    if (o->delete_marker || !*o->version_id)
        return 0;
    if (bkp_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 64))
        return -ENOMEM;
    audit_version *v = &l->v[l->n];
    *v = (audit_version){.id = strdup(o->version_id), .size = o->size, .mtime = o->mtime};
    if (!v->id)
        return -ENOMEM;
    if (strlen(o->etag) == 32)
        memcpy(v->etag, o->etag, 33);
    l->n++;
    return 0;
}

static void listing_free(audit_listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].id);
    free(l->v);
}

/* Version `v`, fetched whole under the cap and checked under `pk` into
 * `b` and `chk`: 0 when its chain and signatures check, -EBADMSG (said)
 * when it does not or cannot be what it says, else an error (logged). */
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
    if (rc == -EBADMSG)
        rc = -EIO; /* the answer, damaged on the way: the connection's fault, not the version's */
    if (rc == -EINVAL || rc == -EACCES)
        bkp_warn(_("the bucket's %s (version %s) cannot be read with these credentials (%s): put "
                   "there with a key of its own, or the credentials lack the right to read "
                   "versions (s3:GetObjectVersion); it is passed over"),
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

static int by_size(const void *a, const void *b)
{
    const audit_version *x = *(audit_version *const *)a, *y = *(audit_version *const *)b;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* Mark the versions not yet known whose ETag is the MD5 of the start of
 * `best` (a copy read, that checks) as long as they are: older copies of
 * it, never read (one pass over `best`, shortest first). 0, or -ENOMEM. */
static int mark_starts(audit_listing *l, const bkp_buf *best)
{
    audit_version **w = malloc((l->n ? l->n : 1) * sizeof(*w));
    EVP_MD_CTX *m = EVP_MD_CTX_new(), *t = EVP_MD_CTX_new();
    size_t n = 0, done = 0;
    int rc = w && m && t && EVP_DigestInit_ex(m, EVP_md5(), NULL) == 1 ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < l->n; i++)
        if (!l->v[i].known && *l->v[i].etag && l->v[i].size <= best->len)
            w[n++] = &l->v[i];
    if (!rc)
        qsort(w, n, sizeof(*w), by_size);
    for (size_t k = 0; !rc && k < n; k++) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        char hex[33];
        if (EVP_DigestUpdate(m, best->data + done, w[k]->size - done) != 1 ||
            (done = w[k]->size, EVP_MD_CTX_copy_ex(t, m) != 1) ||
            EVP_DigestFinal_ex(t, md, &ml) != 1 || ml != 16) {
            rc = -ENOMEM;
            break;
        }
        for (int b = 0; b < 16; b++)
            snprintf(hex + 2 * b, 3, "%02x", md[b]);
        w[k]->known = !strcasecmp(hex, w[k]->etag);
    }
    EVP_MD_CTX_free(m);
    EVP_MD_CTX_free(t);
    free(w);
    return rc;
}

/* A copy that checks, as read. */
typedef struct copy {
    const audit_version *v;
    bkp_buf b;
    bkp_audit_check chk;
} copy;

/* The first record at which `a` and `b` differ (1 when the first does). */
static uint64_t diverge(const bkp_buf *a, const bkp_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    uint64_t line = 1;
    while (i < n && a->data[i] == b->data[i])
        line += a->data[i++] == '\n';
    return line;
}

/* Is record `at` (from 1) of the copy `b` (that checks) a restart of the
 * log? */
static bool restarts_at(const bkp_buf *b, uint64_t at)
{
    const uint8_t *p = b->data, *end = b->data + b->len, *nl = NULL;
    for (uint64_t i = 1; p && p < end; i++, p = nl ? nl + 1 : NULL) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (i < at)
            continue;
        json_t *j = json_loadb((const char *)p, nl ? (size_t)(nl - p) : (size_t)(end - p), 0, NULL);
        const char *op = json_string_value(json_object_get(j, "op"));
        bool yes = op && !strcmp(op, "log_restarted");
        json_decref(j);
        return yes;
    }
    return false;
}

/* Which of `a` and `b` (both check) goes further: 1 `a`, 0 `b`, -1 none
 * can tell. The longer, where one continues the other; else the one whose
 * record where they part is a restart of the log (bkp_audit_restart
 * continues a log where it was cut: its record is the first to differ);
 * else the one whose records reach the later signed time, by more than a
 * clock's tolerance. `*explained` when a restart tells them apart. */
static int later(const copy *a, const copy *b, bool *explained)
{
    *explained = false;
    if (continues(&a->b, &b->b) || continues(&b->b, &a->b))
        return a->b.len > b->b.len;
    uint64_t at = diverge(&a->b, &b->b);
    bool ra = restarts_at(&a->b, at), rb = restarts_at(&b->b, at);
    if (ra != rb) {
        *explained = true;
        return ra;
    }
    if (a->chk.latest > b->chk.latest + BKP_AUDIT_TIME_TOLERANCE)
        return 1;
    return b->chk.latest > a->chk.latest + BKP_AUDIT_TIME_TOLERANCE ? 0 : -1;
}

static void note(char *id, size_t n, time_t *when, uint64_t *records, const copy *c)
{
    snprintf(id, n, "%s", c->v->id);
    *when = c->v->mtime;
    *records = c->chk.records;
}

/* Weigh copy `c` (just read, checked) against the furthest so far, `best`:
 * the one that goes further becomes `best` (`best` stays when none can
 * tell); a history that neither continues is noted in `out` (the first),
 * and whether a restart where they part explains it. 1 when `best` changed. */
static int weigh(copy *best, copy *c, bkp_bucket_audit *out)
{
    bool explained, same = continues(&c->b, &best->b) || continues(&best->b, &c->b);
    int l = later(c, best, &explained);
    if (!same && !*out->other)
        note(out->other, sizeof(out->other), &out->other_written, &out->other_records,
             l == 1 ? best : c);
    out->two_histories |= !same && !explained;
    if (l != 1)
        return 0;
    bkp_buf_free(&best->b);
    *best = *c;
    bkp_buf_init(&c->b);
    return 1;
}

int bkp_bucket_fetch_audit(bkp_s3 *s, const uint8_t pk[32], bkp_buf *log, bkp_bucket_audit *out)
{
    audit_listing l = {0};
    copy best = {0}, c = {0};
    memset(out, 0, sizeof(*out));
    bkp_buf_init(&best.b);
    bkp_buf_init(&c.b);
    int rc = bkp_s3_list_versions(s, audit_key, take, &l);
    rc = rc > 0 ? 0 : rc; /* stopped at the bound */
    if (!rc && !l.n)
        rc = -ENOENT;
    if (rc)
        goto out;
    out->versions = l.n;
    out->hidden = l.marker_first;
    snprintf(out->current, sizeof(out->current), "%s", l.v[0].id);
    out->current_written = l.v[0].mtime;
    /* Newest first, each version that is not known to be the start of the
     * latest so far: read, and weighed against it. */
    /* The bytes: in proportion to the log, as the two newest versions
     * say (one may be a copy put in front, cut short). */
    uint64_t spent = 0, big = l.v[0].size;
    if (l.n > 1 && l.v[1].size > big)
        big = l.v[1].size;
    uint64_t budget = AUDIT_BUDGET_FLOOR + 4 * big;
    budget = budget < AUDIT_BUDGET_MAX ? budget : AUDIT_BUDGET_MAX;
    bool cur_ok = false;
    for (size_t i = 0; i < l.n; i++) {
        audit_version *v = &l.v[i];
        if (v->known)
            continue; /* an older copy of the latest so far */
        if (i > 0 && (out->tried > AUDIT_READS_MAX || spent + v->size > budget)) {
            out->untried++;
            continue;
        }
        spent += i > 0 ? v->size : 0;
        out->tried++;
        v->known = true;
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
        /* What it begins with is older still: never read. */
        if (!best.v) {
            best = c;
            bkp_buf_init(&c.b);
            rc = mark_starts(&l, &best.b);
        } else {
            rc = mark_starts(&l, weigh(&best, &c, out) ? &best.b : &c.b);
        }
        if (rc)
            goto out;
    }
    out->untried += l.past;
    if (!best.v) {
        bkp_error(_("the bucket's %s: none of the %zu version(s) tried checks under the "
                    "repository's key (%llu more not tried); no copy of the log is taken from it"),
                  audit_key, out->tried, (unsigned long long)out->untried);
        rc = -EBADMSG;
        goto out;
    }
    out->state = !cur_ok              ? BKP_BUCKET_AUDIT_FORGED
                 : best.v != &l.v[0]  ? BKP_BUCKET_AUDIT_ROLLED_BACK
                 : out->two_histories ? BKP_BUCKET_AUDIT_OTHER_LONGER
                 : out->untried       ? BKP_BUCKET_AUDIT_UNDECIDED
                 : *out->other        ? BKP_BUCKET_AUDIT_RESTARTED
                                      : BKP_BUCKET_AUDIT_CURRENT;
    note(out->version, sizeof(out->version), &out->written, &out->records, &best);
    *log = best.b;
    bkp_buf_init(&best.b);
out:
    listing_free(&l);
    bkp_buf_free(&best.b);
    bkp_buf_free(&c.b);
    return rc;
}

const char *bkp_bucket_audit_state_name(bkp_bucket_audit_state s)
{
    static const char *const names[] = {[BKP_BUCKET_AUDIT_CURRENT] = "current",
                                        [BKP_BUCKET_AUDIT_RESTARTED] = "restarted",
                                        [BKP_BUCKET_AUDIT_ROLLED_BACK] = "rolled_back",
                                        [BKP_BUCKET_AUDIT_FORGED] = "forged",
                                        [BKP_BUCKET_AUDIT_OTHER_LONGER] = "two_histories",
                                        [BKP_BUCKET_AUDIT_UNDECIDED] = "undecided"};
    return (size_t)s < sizeof(names) / sizeof(*names) && names[s] ? names[s] : "unknown";
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
        bkp_warn(_("the bucket's %s: its current version %s (written %s, %llu record(s)) is an "
                   "older copy of the log put in front (a rollback, by someone holding the "
                   "credentials): version %s, with %llu record(s), goes further and is taken. "
                   "Find out who; the server's next `bkp rotate` to the bucket makes its log the "
                   "current version again (the server lost: keep the bucket as it is, as "
                   "evidence)"),
                 audit_key, a->current, when, (unsigned long long)a->current_records, a->version,
                 (unsigned long long)a->records);
    else if (a->state == BKP_BUCKET_AUDIT_FORGED)
        bkp_warn(_("the bucket's %s: its current version %s (written %s) does not check; the "
                   "longest that does, version %s with %llu record(s), is taken. Find out who put "
                   "it there; the server's next `bkp rotate` to the bucket makes its log the "
                   "current version again (the server lost: keep the bucket as it is, as "
                   "evidence)"),
                 audit_key, a->current, when, a->version, (unsigned long long)a->records);
    else if (a->state == BKP_BUCKET_AUDIT_OTHER_LONGER)
        bkp_warn(_("the bucket's %s: its current version %s holds %llu record(s) that do not "
                   "continue version %s (written %s, %llu record(s)), which checks too, "
                   "and no restart of the log where they part explains it: two histories signed by "
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
        bkp_warn(_("the bucket's %s: %llu version(s) were not read (at most %d are, and only so "
                   "many bytes): a copy of the log that goes further may be among them, put "
                   "behind others by someone holding the credentials. Read them with the store's "
                   "own tools (operator guide, section 12)"),
                 audit_key, (unsigned long long)a->untried, AUDIT_READS_MAX + 1);
}
