/*
 * s3.c — the requests of the S3 client: one connection per handle, retries,
 * and the server's errors turned into what the operator should do.
 *
 * libcurl signs each request (SigV4, CURLOPT_AWS_SIGV4). Two things it does
 * not do in every version, and that servers check, are done here: the query
 * string is written already in canonical form (parameters sorted, values
 * percent-encoded, "name=" for a parameter without a value), because the
 * signature covers the query exactly as sent; and every request carries
 * x-amz-content-sha256 with the payload's SHA-256, which S3 requires and which
 * libcurl then signs with the other headers — without it a server computes
 * a different canonical request and answers SignatureDoesNotMatch.
 *
 * TLS is always verified (libcurl's defaults are never weakened). Plain http
 * is accepted only to a loopback address (a test gateway) or when the
 * configuration says so explicitly (allow_http).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <sodium.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/s3/s3.h"
#include "bkp/s3/s3_internal.h"

static pthread_once_t s3_once = PTHREAD_ONCE_INIT;
static int s3_init_rc;

static void s3_global_init(void)
{
    /* Neither library may be initialised concurrently with other threads. */
    if ((s3_init_rc = s3_lib_load()))
        return;
    s3_init_rc = s3l->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
    s3l->init_parser();
}

void s3_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int s3_encode(const char *in, bool keep_slash, char *out, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
                     (keep_slash && *p == '/');
        if (o + (plain ? 1 : 3) >= cap)
            return -ENAMETOOLONG;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = digits[*p >> 4];
            out[o++] = digits[*p & 15];
        }
    }
    if (o >= cap)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return 0;
}

/* Is `host` (the endpoint after "http://", up to ':' or '/') a loopback name? */
static bool loopback(const char *host, size_t n)
{
    return (n >= 4 && memcmp(host, "127.", 4) == 0) || (n == 9 && !memcmp(host, "localhost", 9)) ||
           (n == 5 && !memcmp(host, "[::1]", 5));
}

/* "https://host[:port][/]": no user, path, query or fragment. */
static int check_endpoint(const char *e, bool allow_http)
{
    bool tls = strncmp(e, "https://", 8) == 0;
    if (!tls && strncmp(e, "http://", 7) != 0)
        return -EINVAL;
    const char *h = e + (tls ? 8 : 7);
    size_t n = 0;
    if (h[0] == '[') {
        while (h[n] && h[n] != ']')
            n++;
        if (h[n++] != ']' || n < 3)
            return -EINVAL;
    } else {
        while (h[n] &&
               strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", h[n]))
            n++;
    }
    if (n == 0 || n > 253)
        return -EINVAL;
    const char *p = h + n;
    if (*p == ':') {
        size_t d = strspn(p + 1, "0123456789");
        if (d == 0 || d > 5)
            return -EINVAL;
        p += 1 + d;
    }
    if (*p == '/')
        p++;
    if (*p)
        return -EINVAL;
    if (!tls && !allow_http && !loopback(h, n))
        return -EACCES;
    return 0;
}

/* S3 bucket names: 3–63 of a-z 0-9 . -, beginning and ending with a letter
 * or digit. */
static bool bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || b[0] == '.' || b[0] == '-' || b[n - 1] == '.' || b[n - 1] == '-')
        return false;
    return strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

static bool region_ok(const char *r)
{
    size_t n = strlen(r);
    return n > 0 && n <= 32 && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static int open_check(const bkp_s3_conf *c)
{
    int rc = check_endpoint(c->endpoint, c->allow_http);
    if (rc == -EACCES) {
        bkp_error(_("S3 endpoint %s: plain http would send the requests unprotected; use "
                    "https:// (http:// is accepted only to 127.0.0.1, [::1] or localhost)"),
                  c->endpoint);
        return -EINVAL;
    }
    if (rc < 0) {
        bkp_error(_("S3 endpoint %s: not of the form https://HOST[:PORT]; write the address "
                    "of the service without a path (the bucket is given apart)"),
                  c->endpoint);
        return -EINVAL;
    }
    if (!bucket_ok(c->bucket)) {
        bkp_error(_("S3 bucket name '%s': not 3 to 63 of a-z, 0-9, '.' and '-' beginning and "
                    "ending with a letter or digit; write the bucket's name as S3 spells it"),
                  c->bucket);
        return -EINVAL;
    }
    if (!region_ok(c->region)) {
        bkp_error(_("S3 region '%s': not a region name (like ap-northeast-1); write the "
                    "bucket's region (for Ceph RGW its zonegroup, often us-east-1 or default)"),
                  c->region);
        return -EINVAL;
    }
    return 0;
}

static unsigned backoff_base(void)
{
#ifdef BKP_TEST_CLOCK
    /* Tests that make a server fail do not wait for the real backoff. */
    const char *e = getenv("BKP_S3_BACKOFF_MS");
    if (e && *e && strspn(e, "0123456789") == strlen(e) && strlen(e) < 6)
        return (unsigned)atoi(e);
#endif
    return 250;
}

int bkp_s3_open(const bkp_s3_conf *conf, bkp_s3 **out)
{
    if (!conf || !conf->endpoint || !conf->bucket || !conf->region || !conf->credentials_file)
        abort();
    pthread_once(&s3_once, s3_global_init);
    if (s3_init_rc < 0)
        return s3_init_rc;
    int rc = open_check(conf);
    if (rc < 0)
        return rc;
    bkp_s3 *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    rc = s3_creds_load(conf->credentials_file, conf->profile, &s->key_id, &s->secret);
    if (rc == 0) {
        size_t el = strlen(conf->endpoint);
        s->endpoint = strndup(conf->endpoint, conf->endpoint[el - 1] == '/' ? el - 1 : el);
        s->bucket = strdup(conf->bucket);
        s->region = strdup(conf->region);
        s->curl = s3l->easy_init();
        if (!s->endpoint || !s->bucket || !s->region || !s->curl)
            rc = -ENOMEM;
    }
    if (rc < 0) {
        bkp_s3_close(s);
        return rc;
    }
    snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
    s->page_size = conf->page_size > 1000 ? 1000 : conf->page_size;
    s->backoff_ms = backoff_base();
    s->attempts = 5;
    *out = s;
    return 0;
}

void bkp_s3_close(bkp_s3 *s)
{
    if (!s)
        return;
    if (s->curl)
        s3l->easy_cleanup(s->curl);
    if (s->secret)
        sodium_memzero(s->secret, strlen(s->secret));
    free(s->secret);
    free(s->key_id);
    free(s->endpoint);
    free(s->bucket);
    free(s->region);
    free(s);
}

int s3_errno(long status, const char *code, const char *method)
{
    static const struct {
        const char *code;
        int err;
    } map[] = {
        {"NoSuchKey", -ENOENT},
        {"NoSuchVersion", -ENOENT},
        {"NoSuchBucket", -ENOENT},
        {"ObjectLockConfigurationNotFoundError", -ENOENT},
        {"InvalidAccessKeyId", -EPERM},
        {"SignatureDoesNotMatch", -EPERM},
        {"AuthorizationHeaderMalformed", -EPERM},
        {"ExpiredToken", -EPERM},
        {"InvalidToken", -EPERM},
        {"RequestTimeTooSkewed", -ETIME},
        {"QuotaExceeded", -ENOSPC},
        {"AccessDenied", -EACCES},
        {"BadDigest", -EBADMSG},
        {"InvalidDigest", -EBADMSG},
        {"InvalidRequest", -EINVAL},
        {"InvalidArgument", -EINVAL},
        {"MalformedXML", -EINVAL},
        {"InvalidBucketState", -ENOTSUP},
    };
    for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].err;
    if (status == 404)
        return -ENOENT;
    /* A version that is a delete marker cannot be read (405). */
    if (status == 405 && (!strcmp(method, "HEAD") || !strcmp(method, "GET")))
        return -ENOENT;
    /* A HEAD answer has no body to say why: wrong credentials or a missing
     * permission, which the operator mends the same way. */
    if (status == 403)
        return strcmp(method, "HEAD") == 0 ? -EPERM : -EACCES;
    if (status == 400)
        return -EINVAL;
    return -EIO;
}
