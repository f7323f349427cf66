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

/* No bucket a rotation writes to holds this many versions of the copy (one
 * a rotation, superseded ones pruned once their lock ends). */
#define AUDIT_VERSIONS_MAX 100000

typedef struct audit_version {
    char id[BKP_S3_VERSION_MAX + 1];
    uint64_t size;
    time_t mtime;
} audit_version;

typedef struct audit_listing {
    audit_version *v; /* real versions, newest first */
    size_t n, cap;
    bool marker_first; /* a delete marker is in front of them all */
    bool any;          /* anything listed of the key */
} audit_listing;

static int take(const bkp_s3_object *o, void *ctx)
{
    audit_listing *l = ctx;
    if (strcmp(o->key, audit_key))
        return 0; /* another key under the same prefix: not this rule's */
    if (!l->any && o->delete_marker)
        l->marker_first = true;
    l->any = true;
    if (o->delete_marker)
        return 0;
    if (l->n == AUDIT_VERSIONS_MAX) {
        bkp_error(_("the bucket lists more than %d versions of %s: no rotation writes so many; the "
                    "bucket (or the server) is not what the policy says"),
                  AUDIT_VERSIONS_MAX, audit_key);
        return -EFBIG;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        audit_version *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    audit_version *v = &l->v[l->n++];
    snprintf(v->id, sizeof(v->id), "%s", o->version_id);
    v->size = o->size;
    v->mtime = o->mtime;
    return 0;
}

/* Version `v`, fetched whole under the cap and checked under `pk` into
 * `b`: 0 when its chain and signatures check (`*records`), -EBADMSG (said,
 * with why) when it does not or is larger than any copy, else an error. */
static int fetch_checked(bkp_s3 *s, const audit_version *v, const uint8_t pk[32], bkp_buf *b,
                         uint64_t *records)
{
    uint64_t max = bkp_copy_member_max(BKP_AUDIT_COPY);
    void *data = NULL;
    size_t len = 0;
    bkp_buf_free(b);
    if (v->size > max) {
        bkp_warn(_("the bucket's %s (version %s) is larger than any copy of the log (%llu "
                   "bytes): it was not written by bkp and is passed over"),
                 audit_key, v->id, (unsigned long long)max);
        return -EBADMSG;
    }
    int rc = bkp_s3_get(s, audit_key, v->id, (size_t)max, &data, &len);
    if (rc == -ENOENT || rc == -EFBIG)
        rc = -EBADMSG; /* gone since the listing, or larger than it said */
    if (rc) {
        if (rc != -EBADMSG)
            bkp_error(_("cannot fetch %s (version %s) from the bucket: %s"), audit_key, v->id,
                      bkp_strerror(rc));
        free(data);
        return rc;
    }
    b->data = data;
    b->len = b->cap = len;
    bkp_audit_check chk;
    rc = bkp_audit_verify_bytes(audit_key, b, pk, NULL, &chk);
    if (rc < 0)
        return rc;
    if (chk.bad || chk.absent || !chk.records) {
        char when[64];
        bkp_local_time(when, sizeof(when), v->mtime, "?");
        bkp_warn(_("the bucket's %s (version %s, written %s) does not check under the "
                   "repository's key (%s): forged, damaged or another repository's; it is passed "
                   "over"),
                 audit_key, v->id, when, chk.bad ? chk.problem_local : _("no record"));
        return -EBADMSG;
    }
    *records = chk.records;
    return 0;
}

/* Indices of the versions other than the current one (0) that are longer
 * than `floor` bytes, longest first (newest first among equals). */
static size_t longer_than(const audit_listing *l, uint64_t floor, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 1; i < l->n; i++) {
        if (l->v[i].size <= floor)
            continue;
        size_t k = n++;
        while (k > 0 && l->v[idx[k - 1]].size < l->v[i].size) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = i;
    }
    return n;
}

static bool starts(const bkp_buf *whole, const bkp_buf *head)
{
    return head->len <= whole->len && !memcmp(whole->data, head->data, head->len);
}

int bkp_bucket_fetch_audit(bkp_s3 *s, const uint8_t pk[32], bkp_buf *log, bkp_bucket_audit *out)
{
    audit_listing l = {0};
    bkp_buf cur, alt;
    uint64_t cur_records = 0, alt_records = 0;
    size_t *idx = NULL;
    memset(out, 0, sizeof(*out));
    bkp_buf_init(&cur);
    bkp_buf_init(&alt);
    int rc = bkp_s3_list_versions(s, audit_key, take, &l);
    if (!rc && !l.n)
        rc = -ENOENT;
    if (rc)
        goto out;
    out->versions = l.n;
    out->hidden = l.marker_first;
    snprintf(out->current, sizeof(out->current), "%s", l.v[0].id);
    out->current_written = l.v[0].mtime;
    /* The current version first; then those longer than it (every one when
     * it does not check), longest first: the longest that checks. */
    out->tried = 1;
    int crc = fetch_checked(s, &l.v[0], pk, &cur, &cur_records);
    if (crc && crc != -EBADMSG) {
        rc = crc;
        goto out;
    }
    out->failed += crc != 0;
    idx = malloc((l.n ? l.n : 1) * sizeof(*idx));
    if (!idx) {
        rc = -ENOMEM;
        goto out;
    }
    size_t n = longer_than(&l, crc ? 0 : l.v[0].size, idx), found = 0;
    int arc = -EBADMSG;
    for (size_t k = 0; arc == -EBADMSG && k < n && out->tried <= BKP_BUCKET_TRIES; k++) {
        out->tried++;
        if ((arc = fetch_checked(s, &l.v[idx[k]], pk, &alt, &alt_records)) == -EBADMSG)
            out->failed++;
        found = idx[k];
    }
    if (arc && arc != -EBADMSG) {
        rc = arc;
        goto out;
    }
    bool cur_ok = !crc, alt_ok = !arc;
    if (!cur_ok && !alt_ok) {
        bkp_error(_("the bucket's %s: none of the %zu version(s) tried checks under the "
                    "repository's key (forged, or more than %d put there); no copy of the log is "
                    "taken from it"),
                  audit_key, out->tried, BKP_BUCKET_TRIES);
        rc = -EBADMSG;
        goto out;
    }
    const audit_version *taken = &l.v[0];
    if (cur_ok && alt_ok && !starts(&alt, &cur)) {
        /* Another history, longer: the log was restarted since (its own
         * record says so), or this is not one log. The current one is
         * taken, the other named. */
        out->state = BKP_BUCKET_AUDIT_OTHER_LONGER;
        snprintf(out->other, sizeof(out->other), "%s", l.v[found].id);
        out->other_records = alt_records;
        out->other_written = l.v[found].mtime;
    } else if (alt_ok) {
        out->state = cur_ok ? BKP_BUCKET_AUDIT_ROLLED_BACK : BKP_BUCKET_AUDIT_FORGED;
        taken = &l.v[found];
    } else {
        out->state = BKP_BUCKET_AUDIT_CURRENT;
    }
    bool alt_taken = taken != &l.v[0];
    *log = alt_taken ? alt : cur;
    bkp_buf_init(alt_taken ? &alt : &cur);
    snprintf(out->version, sizeof(out->version), "%s", taken->id);
    out->written = taken->mtime;
    out->records = alt_taken ? alt_records : cur_records;
    out->current_records = cur_ok ? cur_records : 0;
out:
    free(idx);
    free(l.v);
    bkp_buf_free(&cur);
    bkp_buf_free(&alt);
    return rc;
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
                   "continue the older version %s (written %s, %llu record(s)), which checks too: "
                   "the log was restarted in between (`bkp audit show` gives the reason of the "
                   "log_restarted record), or these are two logs; the current one is taken"),
                 audit_key, a->current, (unsigned long long)a->current_records, a->other, other,
                 (unsigned long long)a->other_records);
}
