/*
 * s3_xml.c — the S3 server's XML answers, read strictly.
 *
 * An answer comes from a server that may be misconfigured, intercepted
 * (http to a loopback test gateway) or hostile, so it is treated as bad input
 * (DESIGN §8): bounded in size, parsed without the network, without a DTD and
 * without entity expansion — any "<!" (DOCTYPE, ENTITY, CDATA, comment) is
 * refused before libxml2 sees the bytes, which closes the entity-expansion
 * and external-entity attacks at the door instead of relying on parser
 * options alone. Elements S3 adds over time (Owner, StorageClass, checksums)
 * are skipped; the ones read are checked for shape and length.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bkp/s3/s3.h"
#include "bkp/s3/s3_internal.h"

/* libxml2 reports some errors (encodings) through its generic handler even
 * with XML_PARSE_NOERROR; a hostile server must not write to our terminal
 * or logs through it. The handlers are per thread, and this module is the
 * only user of libxml2 in bkp. */
static void quiet_generic(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

static void quiet_structured(void *ctx, xmlErrorPtr err)
{
    (void)ctx, (void)err;
}

static int xml_open(const char *xml, size_t len, const char *root_name, xmlDocPtr *doc,
                    xmlNodePtr *root)
{
    if (s3_lib_load())
        return -ENOSYS; /* said */
    if (!xml || len == 0 || len > S3_XML_MAX)
        return -EBADMSG;
    /* No DTD, no entity declarations, no CDATA: S3 sends none of them. */
    for (size_t i = 0; i + 1 < len; i++)
        if (xml[i] == '<' && xml[i + 1] == '!')
            return -EBADMSG;
    s3l->set_generic_error(NULL, quiet_generic);
    s3l->set_structured_error(NULL, quiet_structured);
    xmlDocPtr d = s3l->read_memory(xml, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!d)
        return -EBADMSG;
    xmlNodePtr r = s3l->doc_root(d);
    if (d->intSubset || d->extSubset || !r || strcmp((const char *)r->name, root_name) != 0) {
        s3l->free_doc(d);
        return -EBADMSG;
    }
    *doc = d;
    *root = r;
    return 0;
}

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The text of element `n` (no child elements) into `out` of `cap` bytes. */
static int text(xmlNodePtr n, char *out, size_t cap)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type != XML_TEXT_NODE)
            return -EBADMSG;
    xmlChar *t = s3l->node_content(n);
    if (!t)
        return -EBADMSG;
    size_t l = strlen((const char *)t);
    int rc = l < cap ? 0 : -EBADMSG;
    if (rc == 0)
        memcpy(out, t, l + 1);
    s3l->free(t);
    return rc;
}

static int text_bool(xmlNodePtr n, bool *out)
{
    char t[8];
    if (text(n, t, sizeof(t)) < 0)
        return -EBADMSG;
    if (strcmp(t, "true") && strcmp(t, "false"))
        return -EBADMSG;
    *out = t[0] == 't';
    return 0;
}

static int text_u64(xmlNodePtr n, uint64_t *out)
{
    char t[24];
    if (text(n, t, sizeof(t)) < 0 || !t[0] || strlen(t) > 19)
        return -EBADMSG;
    uint64_t v = 0;
    for (const char *p = t; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EBADMSG;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

const char *s3_lock_name(bkp_s3_lock mode)
{
    return mode == BKP_S3_LOCK_COMPLIANCE   ? "COMPLIANCE"
           : mode == BKP_S3_LOCK_GOVERNANCE ? "GOVERNANCE"
                                            : "NONE";
}

int s3_lock_parse(const char *s, bkp_s3_lock *mode)
{
    if (strcmp(s, "COMPLIANCE") == 0)
        *mode = BKP_S3_LOCK_COMPLIANCE;
    else if (strcmp(s, "GOVERNANCE") == 0)
        *mode = BKP_S3_LOCK_GOVERNANCE;
    else
        return -EBADMSG;
    return 0;
}

void bkp_s3_format_time(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z": the only form S3 uses. */
int bkp_s3_parse_time(const char *s, time_t *out)
{
    int f[6], pos = 0;
    static const char sep[] = "--T::";
    static const int width[] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int d = 0; d < width[i]; d++, pos++) {
            if (s[pos] < '0' || s[pos] > '9')
                return -EINVAL;
            f[i] = f[i] * 10 + (s[pos] - '0');
        }
        if (i < 5 && s[pos++] != sep[i])
            return -EINVAL;
    }
    if (s[pos] == '.') {
        int digits = 0;
        for (pos++; s[pos] >= '0' && s[pos] <= '9'; pos++)
            digits++;
        if (digits == 0 || digits > 9)
            return -EINVAL;
    }
    if (s[pos] != 'Z' || s[pos + 1] != '\0')
        return -EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] || f[3] > 23 ||
        f[4] > 59 || f[5] > 60)
        return -EINVAL;
    struct tm tm = {.tm_year = f[0] - 1900,
                    .tm_mon = f[1] - 1,
                    .tm_mday = f[2],
                    .tm_hour = f[3],
                    .tm_min = f[4],
                    .tm_sec = f[5] == 60 ? 59 : f[5]};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != f[2]) /* 29 February of a common year */
        return -EINVAL;
    *out = t;
    return 0;
}

int bkp_s3_parse_error(const char *xml, size_t len, char code[64], char message[256])
{
    xmlDocPtr doc;
    xmlNodePtr root;
    if (xml_open(xml, len, "Error", &doc, &root) < 0)
        return -EBADMSG;
    char c[64] = "", m[256] = "";
    int rc = 0;
    for (xmlNodePtr n = root->children; n && rc == 0; n = n->next) {
        if (is(n, "Code"))
            rc = text(n, c, sizeof(c));
        else if (is(n, "Message")) {
            /* A long message is cut, not refused: it is only shown. */
            xmlChar *t = s3l->node_content(n);
            snprintf(m, sizeof(m), "%s", t ? (const char *)t : "");
            s3l->free(t);
        }
    }
    s3l->free_doc(doc);
    if (rc < 0 || !c[0])
        return -EBADMSG;
    memcpy(code, c, sizeof(c));
    memcpy(message, m, sizeof(m));
    return 0;
}

/* One <Contents>, <Version> or <DeleteMarker> of a listing. */
static int list_entry(xmlNodePtr e, bool marker, bool versions, bkp_s3_object *o)
{
    bool has_key = false, has_size = false, has_etag = false, has_time = false;
    bool has_version = false, has_latest = false;
    char t[64];
    memset(o, 0, sizeof(*o));
    o->delete_marker = marker;
    for (xmlNodePtr n = e->children; n; n = n->next) {
        int rc = 0;
        if (is(n, "Key"))
            rc = text(n, o->key, sizeof(o->key)), has_key = true;
        else if (is(n, "VersionId"))
            rc = text(n, o->version_id, sizeof(o->version_id)), has_version = true;
        else if (is(n, "IsLatest"))
            rc = text_bool(n, &o->latest), has_latest = true;
        else if (is(n, "Size"))
            rc = text_u64(n, &o->size), has_size = true;
        else if (is(n, "LastModified")) {
            rc = text(n, t, sizeof(t)), has_time = true;
            if (rc == 0)
                rc = bkp_s3_parse_time(t, &o->mtime) < 0 ? -EBADMSG : 0;
        } else if (is(n, "ETag")) {
            char q[80];
            rc = text(n, q, sizeof(q)), has_etag = true;
            size_t l = rc == 0 ? strlen(q) : 0;
            if (l >= 2 && q[0] == '"' && q[l - 1] == '"')
                memmove(q, q + 1, l -= 2), q[l] = '\0';
            if (rc == 0 && (l == 0 || l >= sizeof(o->etag)))
                rc = -EBADMSG;
            if (rc == 0)
                memcpy(o->etag, q, l + 1);
        }
        if (rc < 0)
            return -EBADMSG;
    }
    if (!has_key || !o->key[0] || !has_time)
        return -EBADMSG;
    if (!marker && (!has_size || !has_etag))
        return -EBADMSG;
    if (versions && (!has_version || !o->version_id[0] || !has_latest))
        return -EBADMSG;
    return 0;
}

/* The page's own fields: IsTruncated and where the next page starts. */
static int list_field(xmlNodePtr n, bool versions, bool *truncated, char *next, char *next_version,
                      bool *has_next)
{
    if (is(n, "IsTruncated"))
        return text_bool(n, truncated);
    if (is(n, versions ? "NextKeyMarker" : "NextContinuationToken")) {
        *has_next = true;
        return text(n, next, BKP_S3_KEY_MAX + 1);
    }
    if (versions && is(n, "NextVersionIdMarker"))
        return text(n, next_version, BKP_S3_VERSION_MAX + 1);
    return 0;
}

int bkp_s3_parse_list(const char *xml, size_t len, bool versions,
                      int (*fn)(const bkp_s3_object *o, void *ctx), void *ctx, char *next,
                      char *next_version)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    if (xml_open(xml, len, versions ? "ListVersionsResult" : "ListBucketResult", &doc, &root) < 0)
        return -EBADMSG;
    bkp_s3_object *o = malloc(sizeof(*o));
    char *nk = calloc(1, BKP_S3_KEY_MAX + 1), nv[BKP_S3_VERSION_MAX + 1] = "";
    bool truncated = false, has_truncated = false, has_next = false;
    int rc = o && nk ? 0 : -ENOMEM;
    /* The page's fields first: a page that is not well formed as a whole
     * calls `fn` for none of its entries. */
    for (xmlNodePtr n = root->children; n && rc == 0; n = n->next) {
        has_truncated |= is(n, "IsTruncated");
        rc = list_field(n, versions, &truncated, nk, nv, &has_next) < 0 ? -EBADMSG : 0;
    }
    if (rc == 0 && (!has_truncated || (truncated && (!has_next || !nk[0]))))
        rc = -EBADMSG;
    for (xmlNodePtr n = root->children; n && rc == 0; n = n->next) {
        bool marker = versions && is(n, "DeleteMarker");
        if (!(versions ? marker || is(n, "Version") : is(n, "Contents")))
            continue;
        rc = list_entry(n, marker, versions, o);
        if (rc == 0)
            rc = fn(o, ctx);
    }
    if (rc == 0) {
        memcpy(next, truncated ? nk : "", truncated ? strlen(nk) + 1 : 1);
        if (versions && next_version)
            memcpy(next_version, truncated ? nv : "", truncated ? strlen(nv) + 1 : 1);
    }
    free(o);
    free(nk);
    s3l->free_doc(doc);
    return rc;
}

int bkp_s3_parse_versioning(const char *xml, size_t len, bool *enabled)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    if (xml_open(xml, len, "VersioningConfiguration", &doc, &root) < 0)
        return -EBADMSG;
    char st[16] = "";
    int rc = 0;
    for (xmlNodePtr n = root->children; n && rc == 0; n = n->next)
        if (is(n, "Status"))
            rc = text(n, st, sizeof(st));
    s3l->free_doc(doc);
    /* A bucket that never had versioning answers with no Status at all. */
    if (rc < 0 || (st[0] && strcmp(st, "Enabled") && strcmp(st, "Suspended")))
        return -EBADMSG;
    *enabled = strcmp(st, "Enabled") == 0;
    return 0;
}

/* <DefaultRetention><Mode>…</Mode><Days>…</Days> or <Years>…</Years>. */
static int default_retention(xmlNodePtr d, bkp_s3_lock *mode, unsigned *days)
{
    char m[16] = "";
    uint64_t n = 0, y = 0;
    bool has_days = false, has_years = false;
    for (xmlNodePtr c = d->children; c; c = c->next) {
        int rc = 0;
        if (is(c, "Mode"))
            rc = text(c, m, sizeof(m));
        else if (is(c, "Days"))
            rc = text_u64(c, &n), has_days = true;
        else if (is(c, "Years"))
            rc = text_u64(c, &y), has_years = true;
        if (rc < 0)
            return -EBADMSG;
    }
    /* Exactly one of Days and Years, as S3 demands; a year counts 365 days. */
    if (s3_lock_parse(m, mode) < 0 || has_days == has_years || n > 365000 || y > 1000)
        return -EBADMSG;
    *days = has_days ? (unsigned)n : (unsigned)y * 365;
    return *days ? 0 : -EBADMSG;
}

int bkp_s3_parse_lock_config(const char *xml, size_t len, bool *enabled, bkp_s3_lock *mode,
                             unsigned *days)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    if (xml_open(xml, len, "ObjectLockConfiguration", &doc, &root) < 0)
        return -EBADMSG;
    char st[16] = "";
    bkp_s3_lock m = BKP_S3_LOCK_NONE;
    unsigned d = 0;
    int rc = 0;
    for (xmlNodePtr n = root->children; n && rc == 0; n = n->next) {
        if (is(n, "ObjectLockEnabled"))
            rc = text(n, st, sizeof(st));
        else if (is(n, "Rule"))
            for (xmlNodePtr r = n->children; r && rc == 0; r = r->next)
                if (is(r, "DefaultRetention"))
                    rc = default_retention(r, &m, &d);
    }
    s3l->free_doc(doc);
    if (rc < 0 || (st[0] && strcmp(st, "Enabled")))
        return -EBADMSG;
    *enabled = st[0] != '\0';
    *mode = m;
    *days = d;
    return 0;
}
