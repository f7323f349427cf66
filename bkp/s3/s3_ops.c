/*
 * s3_ops.c — the S3 operations of s3.h, each one request (or one per page)
 * built on s3_perform.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/s3/s3.h"
#include "bkp/s3/s3_internal.h"

#define HASH_CHUNK (1u << 20)

static void bad_answer(bkp_s3 *s, const char *what)
{
    bkp_error(_("S3 %s at %s: an answer that is not S3's; check that the endpoint is an S3 "
                "service (and not a proxy's or captive portal's page)"),
              what, s->endpoint);
}

/* "?versionId=…" or NULL: `q` has room for a version id encoded. */
static const char *version_query(const char *prefix, const char *version_id, char *q, size_t cap)
{
    char enc[3 * BKP_S3_VERSION_MAX + 1];
    if (!version_id)
        return prefix[0] ? strcpy(q, prefix) : NULL;
    if (strlen(version_id) > BKP_S3_VERSION_MAX || s3_encode(version_id, false, enc, sizeof(enc)))
        abort(); /* a version id comes from this module's own answers */
    snprintf(q, cap, "%s%sversionId=%s", prefix, prefix[0] ? "&" : "", enc);
    return q;
}

int bkp_s3_bucket_check(bkp_s3 *s, bkp_s3_bucket_info *info)
{
    s3_req r;
    bkp_s3_bucket_info in = {0};
    s3_req_init(&r, "GET", NULL, _("versioning of the bucket"));
    r.query = "versioning=";
    int rc = s3_perform(s, &r);
    if (rc == 0 && bkp_s3_parse_versioning(r.body, r.body_len, &in.versioning) < 0)
        rc = -EBADMSG, bad_answer(s, r.what);
    s3_req_done(&r);
    if (rc < 0)
        return rc;
    s3_req_init(&r, "GET", NULL, _("Object Lock configuration of the bucket"));
    r.query = "object-lock=";
    r.quiet = S3_QUIET_ENOENT; /* no configuration: no Object Lock */
    rc = s3_perform(s, &r);
    if (rc == 0 && bkp_s3_parse_lock_config(r.body, r.body_len, &in.object_lock, &in.default_mode,
                                            &in.default_days) < 0)
        rc = -EBADMSG, bad_answer(s, r.what);
    if (rc == -ENOENT && strcmp(r.code, "NoSuchBucket") != 0)
        rc = 0;
    s3_req_done(&r);
    if (rc < 0)
        return rc;
    if (!in.object_lock) {
        bkp_error(_("S3 bucket %s at %s has no Object Lock, so its copies could be deleted "
                    "early; Object Lock can only be turned on when a bucket is created: create a "
                    "new one with `aws s3api create-bucket --bucket NAME "
                    "--object-lock-enabled-for-bucket --endpoint-url %s` (or tick Object Lock "
                    "in the provider's console) and name it in the policy"),
                  s->bucket, s->endpoint, s->endpoint);
        return -ENOTSUP;
    }
    if (!in.versioning) {
        bkp_error(_("S3 bucket %s at %s has Object Lock but versioning is not enabled; enable "
                    "it: `aws s3api put-bucket-versioning --bucket %s --versioning-configuration "
                    "Status=Enabled --endpoint-url %s`"),
                  s->bucket, s->endpoint, s->bucket, s->endpoint);
        return -ENOTSUP;
    }
    *info = in;
    return 0;
}

/* MD5 (for Content-MD5 and the ETag) and SHA-256 (signed with the request;
 * skipped when `sha_hex` is NULL) of the body, in one pass over the file. */
static int body_hashes(int fd, const void *buf, uint64_t len, unsigned char md5[16],
                       char sha_hex[65])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    crypto_hash_sha256_state sh;
    unsigned char *chunk = fd >= 0 ? malloc(HASH_CHUNK) : NULL, sha[32];
    int rc = m && (fd < 0 || chunk) && EVP_DigestInit_ex(m, EVP_md5(), NULL) == 1 ? 0 : -ENOMEM;
    crypto_hash_sha256_init(&sh);
    for (uint64_t off = 0; rc == 0 && off < len;) {
        size_t n = len - off < HASH_CHUNK ? (size_t)(len - off) : HASH_CHUNK;
        const unsigned char *p = (const unsigned char *)buf + off;
        if (fd >= 0) {
            if ((rc = bkp_pread_full(fd, chunk, n, off))) /* -EIO: shorter than the caller said */
                break;
            p = chunk;
        }
        EVP_DigestUpdate(m, p, n);
        if (sha_hex)
            crypto_hash_sha256_update(&sh, p, n);
        off += n;
    }
    unsigned int ml = 0;
    if (rc == 0 && (EVP_DigestFinal_ex(m, md5, &ml) != 1 || ml != 16))
        rc = -EIO;
    if (sha_hex) {
        crypto_hash_sha256_final(&sh, sha);
        s3_hex(sha, 32, sha_hex);
    }
    EVP_MD_CTX_free(m);
    free(chunk);
    return rc;
}

int bkp_s3_md5(int fd, const void *buf, uint64_t len, char hex[33])
{
    unsigned char md5[16];
    int rc = body_hashes(fd, buf, len, md5, NULL);
    if (rc == 0)
        s3_hex(md5, 16, hex);
    return rc;
}

/* The headers of a PUT body: Content-MD5 and x-amz-content-sha256. */
static int body_headers(int fd, const void *buf, uint64_t len, struct curl_slist **l,
                        char md5_hex[33])
{
    unsigned char md5[16];
    char sha[65], b64[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_ORIGINAL)];
    char line[160];
    int rc = body_hashes(fd, buf, len, md5, sha);
    if (rc < 0)
        return rc;
    s3_hex(md5, 16, md5_hex);
    sodium_bin2base64(b64, sizeof(b64), md5, 16, sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof(line), "Content-MD5: %s", b64);
    struct curl_slist *t = s3l->slist_append(*l, line);
    if (t)
        *l = t;
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
    if (t && (t = s3l->slist_append(*l, line)))
        *l = t;
    return t ? 0 : -ENOMEM;
}

static void strip_quotes(const char *in, char *out, size_t cap)
{
    size_t l = strlen(in);
    if (l >= 2 && in[0] == '"' && in[l - 1] == '"')
        in++, l -= 2;
    if (l >= cap)
        l = 0; /* too long to be an MD5 or a multipart ETag: treated as none */
    memcpy(out, in, l);
    out[l] = '\0';
}

static int lock_headers(bkp_s3_lock mode, time_t until, struct curl_slist **l)
{
    char line[128], t[32];
    if (mode == BKP_S3_LOCK_NONE)
        return 0;
    bkp_s3_format_time(until, t);
    snprintf(line, sizeof(line), "x-amz-object-lock-mode: %s", s3_lock_name(mode));
    struct curl_slist *n = s3l->slist_append(*l, line);
    if (n)
        *l = n;
    snprintf(line, sizeof(line), "x-amz-object-lock-retain-until-date: %s", t);
    if (n && (n = s3l->slist_append(*l, line)))
        *l = n;
    return n ? 0 : -ENOMEM;
}

int bkp_s3_put(bkp_s3 *s, const char *key, int fd, const void *buf, uint64_t len, bkp_s3_lock mode,
               time_t retain_until, char version_id[BKP_S3_VERSION_MAX + 1])
{
    if (!key || !*key || (fd < 0 && !buf && len) || (mode != BKP_S3_LOCK_NONE && retain_until <= 0))
        abort();
    char what[BKP_S3_KEY_MAX + 128], md5_hex[33], etag[65];
    snprintf(what, sizeof(what), _("upload of %s"), key);
    s3_req r;
    s3_req_init(&r, "PUT", key, what);
    r.in_fd = fd, r.in_buf = buf, r.in_len = len;
    int rc = body_headers(fd, buf, len, &r.headers, md5_hex);
    if (rc < 0)
        bkp_error(_("S3 %s: cannot read what to send: %s"), what, bkp_strerror(rc));
    if (rc == 0 && (rc = lock_headers(mode, retain_until, &r.headers)) < 0)
        bkp_error("S3 %s: %s", what, bkp_strerror(rc));
    if (rc == 0)
        rc = s3_perform(s, &r);
    /* The ETag of a single-part upload is the MD5 of the bytes stored: the
     * server's own word that it kept what was sent. */
    if (rc == 0) {
        strip_quotes(r.etag, etag, sizeof(etag));
        if (strcasecmp(etag, md5_hex) != 0) {
            bkp_error(_("S3 %s at %s: the server's ETag '%s' is not the MD5 %s of the bytes sent; "
                        "the copy does not count — check for a proxy or server-side encryption "
                        "that changes ETags, and retry"),
                      what, s->endpoint, etag, md5_hex);
            rc = -EBADMSG;
        }
    }
    if (rc == 0 && version_id)
        memcpy(version_id, r.version_id, strlen(r.version_id) + 1);
    s3l->slist_free_all(r.headers);
    s3_req_done(&r);
    return rc;
}

int bkp_s3_head(bkp_s3 *s, const char *key, const char *version_id, bkp_s3_object *out)
{
    char what[BKP_S3_KEY_MAX + 128], q[4 * BKP_S3_VERSION_MAX];
    snprintf(what, sizeof(what), _("HEAD of %s"), key);
    s3_req r;
    s3_req_init(&r, "HEAD", key, what);
    r.query = version_query("", version_id, q, sizeof(q));
    r.quiet = S3_QUIET_ENOENT;
    int rc = s3_perform(s, &r);
    bkp_s3_object *o = rc == 0 ? calloc(1, sizeof(*o)) : NULL;
    if (rc == 0 && !o)
        rc = -ENOMEM;
    if (rc == 0) {
        snprintf(o->key, sizeof(o->key), "%s", key);
        snprintf(o->version_id, sizeof(o->version_id), "%s",
                 r.version_id[0] || !version_id ? r.version_id : version_id);
        o->size = r.content_length;
        strip_quotes(r.etag, o->etag, sizeof(o->etag));
        o->mtime = r.last_modified[0] ? s3l->getdate(r.last_modified, NULL) : 0;
        o->latest = !version_id;
        if (!r.has_length || !o->etag[0] || o->mtime < 0 ||
            (r.lock_mode[0] && s3_lock_parse(r.lock_mode, &o->mode) < 0) ||
            (r.retain_until[0] && bkp_s3_parse_time(r.retain_until, &o->retain_until) < 0) ||
            (r.lock_mode[0] != '\0') != (r.retain_until[0] != '\0'))
            rc = -EBADMSG, bad_answer(s, what);
    }
    if (rc == 0)
        *out = *o;
    free(o);
    s3_req_done(&r);
    return rc;
}

static int get_into(bkp_s3 *s, const char *version_id, s3_req *r, char *q)
{
    r->query = version_query("", version_id, q, 4 * BKP_S3_VERSION_MAX);
    r->quiet = S3_QUIET_ENOENT;
    return s3_perform(s, r);
}

int bkp_s3_get_fd(bkp_s3 *s, const char *key, const char *version_id, int fd, uint64_t max,
                  uint64_t *len)
{
    char what[BKP_S3_KEY_MAX + 128], q[4 * BKP_S3_VERSION_MAX];
    snprintf(what, sizeof(what), _("download of %s"), key);
    s3_req r;
    s3_req_init(&r, "GET", key, what);
    r.out_fd = fd, r.out_max = max;
    int rc = get_into(s, version_id, &r, q);
    if (rc == 0 && len)
        *len = r.written;
    s3_req_done(&r);
    return rc;
}

int bkp_s3_get(bkp_s3 *s, const char *key, const char *version_id, size_t max, void **buf,
               size_t *len)
{
    char what[BKP_S3_KEY_MAX + 128], q[4 * BKP_S3_VERSION_MAX];
    snprintf(what, sizeof(what), _("download of %s"), key);
    s3_req r;
    s3_req_init(&r, "GET", key, what);
    r.body_max = max;
    int rc = get_into(s, version_id, &r, q);
    if (rc == 0 && !r.body && !(r.body = calloc(1, 1)))
        rc = -ENOMEM;
    if (rc == 0) {
        *buf = r.body, *len = r.body_len;
        r.body = NULL;
    }
    s3_req_done(&r);
    return rc;
}

int bkp_s3_retain(bkp_s3 *s, const char *key, const char *version_id, bkp_s3_lock mode,
                  time_t until, bool bypass)
{
    if (mode == BKP_S3_LOCK_NONE || until <= 0)
        abort();
    char what[BKP_S3_KEY_MAX + 128], q[4 * BKP_S3_VERSION_MAX], t[32], md5_hex[33], body[256];
    bkp_s3_format_time(until, t);
    int n = snprintf(body, sizeof(body),
                     "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>%s</Mode>"
                     "<RetainUntilDate>%s</RetainUntilDate></Retention>",
                     s3_lock_name(mode), t);
    snprintf(what, sizeof(what), _("retention of %s until %s"), key, t);
    s3_req r;
    s3_req_init(&r, "PUT", key, what);
    r.quiet = S3_QUIET_EACCES; /* a refused shortening is what a lock probe hopes for */
    r.query = version_query("retention=", version_id, q, sizeof(q));
    r.in_buf = body, r.in_len = (uint64_t)n;
    int rc = body_headers(-1, body, (uint64_t)n, &r.headers, md5_hex);
    struct curl_slist *h;
    if (rc == 0 && bypass) {
        if ((h = s3l->slist_append(r.headers, "x-amz-bypass-governance-retention: true")))
            r.headers = h;
        else
            rc = -ENOMEM;
    }
    if (rc == 0)
        rc = s3_perform(s, &r);
    s3l->slist_free_all(r.headers);
    s3_req_done(&r);
    return rc;
}

int bkp_s3_delete(bkp_s3 *s, const char *key, const char *version_id, bool bypass)
{
    char what[BKP_S3_KEY_MAX + BKP_S3_VERSION_MAX + 128], q[4 * BKP_S3_VERSION_MAX];
    if (version_id)
        snprintf(what, sizeof(what), _("delete of %s version %s"), key, version_id);
    else
        snprintf(what, sizeof(what), _("delete of %s"), key);
    s3_req r;
    s3_req_init(&r, "DELETE", key, what);
    r.query = version_query("", version_id, q, sizeof(q));
    r.quiet = S3_QUIET_EACCES;
    struct curl_slist *h = NULL;
    if (bypass && !(h = s3l->slist_append(NULL, "x-amz-bypass-governance-retention: true")))
        return -ENOMEM;
    r.headers = h;
    int rc = s3_perform(s, &r);
    s3l->slist_free_all(h);
    s3_req_done(&r);
    return rc;
}

typedef struct list_ctx {
    int (*fn)(const bkp_s3_object *o, void *ctx);
    void *ctx;
    bool stopped; /* `fn` asked to stop: its value is returned, not logged */
} list_ctx;

static int list_one(const bkp_s3_object *o, void *ud)
{
    list_ctx *l = ud;
    int rc = l->fn(o, l->ctx);
    l->stopped = rc != 0;
    return rc;
}

/* The query of one page, parameters in canonical (sorted) order. */
static int list_query(bkp_s3 *s, bool versions, const char *prefix, const char *next,
                      const char *next_version, char *q, size_t cap)
{
    size_t ecap = 3 * BKP_S3_KEY_MAX + 1;
    char *p = malloc(ecap), *n = malloc(ecap), *v = malloc(3 * BKP_S3_VERSION_MAX + 1);
    char mk[32] = "";
    int rc = p && n && v ? 0 : -ENOMEM;
    if (rc == 0 && (s3_encode(prefix, false, p, ecap) || s3_encode(next, false, n, ecap) ||
                    s3_encode(next_version, false, v, 3 * BKP_S3_VERSION_MAX + 1)))
        rc = -ENAMETOOLONG;
    if (s->page_size)
        snprintf(mk, sizeof(mk), "max-keys=%u&", s->page_size);
    if (rc == 0 && !versions)
        snprintf(q, cap, "%s%s%slist-type=2&%sprefix=%s", n[0] ? "continuation-token=" : "", n,
                 n[0] ? "&" : "", mk, p);
    else if (rc == 0)
        snprintf(q, cap, "%s%s%s%sprefix=%s&%s%s%sversions=", n[0] ? "key-marker=" : "", n,
                 n[0] ? "&" : "", mk, p, v[0] ? "version-id-marker=" : "", v, v[0] ? "&" : "");
    free(p), free(n), free(v);
    return rc;
}

static int list_pages(bkp_s3 *s, const char *prefix, bool versions,
                      int (*fn)(const bkp_s3_object *o, void *ctx), void *ctx)
{
    size_t qcap = 3 * (2 * BKP_S3_KEY_MAX + BKP_S3_VERSION_MAX) + 128;
    char *q = malloc(qcap), *next = calloc(1, BKP_S3_KEY_MAX + 1);
    char nv[BKP_S3_VERSION_MAX + 1] = "", *prev = calloc(1, BKP_S3_KEY_MAX + 1);
    char prev_v[BKP_S3_VERSION_MAX + 1] = "";
    const char *what = versions ? _("listing of versions") : _("listing of objects");
    list_ctx l = {fn, ctx, false};
    int rc = q && next && prev ? 0 : -ENOMEM;
    if (strlen(prefix) > BKP_S3_KEY_MAX)
        abort();
    while (rc == 0) {
        s3_req r;
        s3_req_init(&r, "GET", NULL, what);
        rc = list_query(s, versions, prefix, prev, prev_v, q, qcap);
        r.query = q;
        if (rc == 0)
            rc = s3_perform(s, &r);
        if (rc == 0) {
            rc = bkp_s3_parse_list(r.body, r.body_len, versions, list_one, &l, next, nv);
            if (rc < 0 && !l.stopped)
                bad_answer(s, what);
        }
        s3_req_done(&r);
        if (rc != 0 || !next[0])
            break;
        /* A server that hands back the page it was asked for would loop. */
        if (!strcmp(next, prev) && !strcmp(nv, prev_v)) {
            bad_answer(s, what);
            rc = -EBADMSG;
        }
        strcpy(prev, next);
        strcpy(prev_v, nv);
    }
    free(q), free(next), free(prev);
    return rc;
}

int bkp_s3_list(bkp_s3 *s, const char *prefix, int (*fn)(const bkp_s3_object *o, void *ctx),
                void *ctx)
{
    return list_pages(s, prefix ? prefix : "", false, fn, ctx);
}

int bkp_s3_list_versions(bkp_s3 *s, const char *prefix,
                         int (*fn)(const bkp_s3_object *o, void *ctx), void *ctx)
{
    return list_pages(s, prefix ? prefix : "", true, fn, ctx);
}
