/*
 * s3_http.c — one S3 request over libcurl: the URL, the signed headers, the
 * body streamed from a file, the answer streamed to a file or kept in memory
 * (bounded), the retries, and the one message an operator reads on failure.
 *
 * Retries: a request is repeated after a network error, a 5xx answer or
 * SlowDown, with a doubling pause, a few times. Every request bkp sends may be
 * repeated: an upload writes a new version of bytes that never change (the
 * caller names objects by their content or writes each once), and a
 * download to a file first truncates what the failed attempt wrote.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/durable.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/s3/s3.h"
#include "bkp/s3/s3_internal.h"

/* Error answers are short; keep at most this much of one. */
#define S3_ERROR_BODY_MAX (64 * 1024)

void s3_req_init(s3_req *r, const char *method, const char *key, const char *what)
{
    memset(r, 0, sizeof(*r));
    r->method = method;
    r->key = key;
    r->what = what;
    r->in_fd = -1;
    r->out_fd = -1;
    r->body_max = S3_XML_MAX;
}

void s3_req_done(s3_req *r)
{
    free(r->body);
    r->body = NULL;
}

typedef struct call {
    s3_req *r;
    uint64_t in_off; /* next byte of the body to send */
    int io_err;      /* a local read or write failed: not retried */
    bool ok_status;  /* the answer being received is a 2xx */
} call;

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    call *c = ud;
    s3_req *r = c->r;
    size_t want = size * n;
    if (want > r->in_len - c->in_off)
        want = (size_t)(r->in_len - c->in_off);
    if (want == 0)
        return 0;
    if (r->in_fd < 0) {
        memcpy(buf, (const char *)r->in_buf + c->in_off, want);
        c->in_off += want;
        return want;
    }
    ssize_t got;
    do
        got = pread(r->in_fd, buf, want, (off_t)c->in_off);
    while (got < 0 && errno == EINTR);
    if (got <= 0) { /* an error, or the file shrank since its MD5 was taken */
        c->io_err = got < 0 ? -errno : -EIO;
        return CURL_READFUNC_ABORT;
    }
    c->in_off += (uint64_t)got;
    return (size_t)got;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    call *c = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > c->r->in_len)
        return CURL_SEEKFUNC_FAIL;
    c->in_off = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

static int keep(s3_req *r, const char *p, size_t len, size_t cap)
{
    if (r->body_len + len > cap)
        return -EFBIG;
    char *b = realloc(r->body, r->body_len + len + 1);
    if (!b)
        return -ENOMEM;
    memcpy(b + r->body_len, p, len);
    r->body = b;
    r->body_len += len;
    b[r->body_len] = '\0';
    return 0;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    call *c = ud;
    s3_req *r = c->r;
    size_t len = size * n;
    if (!c->ok_status) { /* an error answer: kept (its start) for its Code */
        size_t room =
            S3_ERROR_BODY_MAX - (r->body_len < S3_ERROR_BODY_MAX ? r->body_len : S3_ERROR_BODY_MAX);
        if (keep(r, p, len < room ? len : room, S3_ERROR_BODY_MAX) < 0)
            return 0;
        return len;
    }
    if (r->out_fd < 0) {
        int rc = keep(r, p, len, r->body_max);
        r->too_big = rc == -EFBIG;
        if (rc == 0)
            r->written += len;
        return rc == 0 ? len : 0;
    }
    if (r->written + len > r->out_max) {
        r->too_big = true;
        return 0;
    }
    int rc = bkp_write_full(r->out_fd, p, len);
    if (rc) {
        c->io_err = rc;
        return 0;
    }
    r->written += len;
    return len;
}

/* Copy the value of header line `l` named `name` into `out` (trimmed); a
 * value too long for `out` is left empty and marks the answer as not S3's
 * (a version id cut short would name another version). */
static bool header_value(s3_req *r, const char *l, size_t n, const char *name, char *out,
                         size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(l, name, nl) != 0 || l[nl] != ':')
        return false;
    const char *v = l + nl + 1, *end = l + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t vl = (size_t)(end - v);
    if (vl >= cap) {
        r->bad_header = true;
        vl = 0;
    }
    memcpy(out, v, vl);
    out[vl] = '\0';
    return true;
}

static size_t on_header(char *l, size_t size, size_t n, void *ud)
{
    call *c = ud;
    s3_req *r = c->r;
    size_t len = size * n;
    char num[32];
    if (len > 5 && memcmp(l, "HTTP/", 5) == 0) {
        /* A new answer (after 100 Continue): forget the previous one's. */
        const char *sp = memchr(l, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        c->ok_status = r->status >= 200 && r->status < 300;
        r->etag[0] = r->version_id[0] = r->lock_mode[0] = '\0';
        r->retain_until[0] = r->last_modified[0] = '\0';
        r->has_length = r->delete_marker = r->bad_header = false;
        return len;
    }
    header_value(r, l, len, "ETag", r->etag, sizeof(r->etag));
    header_value(r, l, len, "x-amz-version-id", r->version_id, sizeof(r->version_id));
    header_value(r, l, len, "x-amz-object-lock-mode", r->lock_mode, sizeof(r->lock_mode));
    header_value(r, l, len, "x-amz-object-lock-retain-until-date", r->retain_until,
                 sizeof(r->retain_until));
    header_value(r, l, len, "Last-Modified", r->last_modified, sizeof(r->last_modified));
    if (header_value(r, l, len, "x-amz-delete-marker", num, sizeof(num)))
        r->delete_marker = strcmp(num, "true") == 0;
    if (header_value(r, l, len, "Content-Length", num, sizeof(num))) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(num, &end, 10);
        r->has_length = num[0] >= '0' && num[0] <= '9' && !*end && errno == 0;
        r->content_length = r->has_length ? v : 0;
        /* Refuse an oversized download before its first byte. */
        uint64_t cap = r->out_fd >= 0 ? r->out_max : r->body_max;
        if (c->ok_status && r->has_length && strcmp(r->method, "HEAD") && v > cap) {
            r->too_big = true;
            return 0;
        }
    }
    return len;
}

/* A key S3 would store as given but that a URL cannot carry faithfully:
 * "." and ".." segments are resolved by URL libraries and proxies (the
 * request would name another object), control characters are not keys bkp
 * writes. */
static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > BKP_S3_KEY_MAX)
        return false;
    for (const char *seg = k;; seg++) {
        size_t l = strcspn(seg, "/");
        if ((l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg += l;
        if (!*seg)
            break;
    }
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int build_url(bkp_s3 *s, const s3_req *r, char **url)
{
    if (r->key && !key_ok(r->key))
        return -EINVAL;
    size_t kl = r->key ? 3 * strlen(r->key) + 1 : 1;
    char *ek = malloc(kl);
    if (!ek)
        return -ENOMEM;
    int rc = r->key ? s3_encode(r->key, true, ek, kl) : (ek[0] = '\0', 0);
    if (rc == 0 && asprintf(url, "%s/%s%s%s%s%s", s->endpoint, s->bucket, r->key ? "/" : "", ek,
                            r->query ? "?" : "", r->query ? r->query : "") < 0)
        rc = -ENOMEM;
    free(ek);
    return rc;
}

/* The options of one attempt; `hdrs` receives the header list to free. */
static int setup(bkp_s3 *s, s3_req *r, call *c, const char *url, const char *sha,
                 struct curl_slist **hdrs, char *errbuf)
{
    CURL *h = s->curl;
    char line[128];
    struct curl_slist *l = NULL, *t;
    for (struct curl_slist *p = r->headers; p; p = p->next) {
        if (!(t = s3l->slist_append(l, p->data)))
            return *hdrs = l, -ENOMEM;
        l = t;
    }
    if (sha) { /* NULL: the caller's headers carry it, for a body */
        snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
        if (!(t = s3l->slist_append(l, line)))
            return *hdrs = l, -ENOMEM;
        l = t;
    }
    *hdrs = l;
    s3l->easy_reset(h);
    s3l->easy_setopt(h, CURLOPT_URL, url);
    s3l->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* The path is the key, percent-encoded already: sent exactly as signed. */
    s3l->easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    s3l->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    s3l->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    s3l->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
    /* Every attempt ends. A transfer slower than S3_SPEED_FLOOR for
     * S3_SPEED_WINDOW seconds is a failed attempt (a server, or anything on
     * the path, that trickles bytes would otherwise hold `bkp run`'s lock,
     * and every later run, for ever); and no attempt outlives a deadline
     * scaled to what it moves at that floor. */
    uint64_t moves = r->in_len ? r->in_len : r->out_fd >= 0 ? r->out_max : r->body_max;
    s3l->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)S3_SPEED_FLOOR);
    s3l->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)S3_SPEED_WINDOW);
    s3l->easy_setopt(h, CURLOPT_TIMEOUT, (long)(S3_DEADLINE_BASE + moves / S3_SPEED_FLOOR));
    s3l->easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
    s3l->easy_setopt(h, CURLOPT_USERNAME, s->key_id);
    s3l->easy_setopt(h, CURLOPT_PASSWORD, s->secret);
    s3l->easy_setopt(h, CURLOPT_HTTPHEADER, l);
    s3l->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    s3l->easy_setopt(h, CURLOPT_HEADERDATA, c);
    s3l->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    s3l->easy_setopt(h, CURLOPT_WRITEDATA, c);
    if (strcmp(r->method, "PUT") == 0) {
        s3l->easy_setopt(h, CURLOPT_UPLOAD, 1L);
        /* The body follows its headers at once: a gateway that does not
         * answer "Expect: 100-continue" (RGW's beast) would cost a second's
         * wait on every upload. */
        s3l->easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
        s3l->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->in_len);
        s3l->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        s3l->easy_setopt(h, CURLOPT_READDATA, c);
        s3l->easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        s3l->easy_setopt(h, CURLOPT_SEEKDATA, c);
    } else if (strcmp(r->method, "HEAD") == 0) {
        s3l->easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "DELETE") == 0) {
        s3l->easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    return 0;
}

static bool transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static bool transient_answer(long status, const char *code)
{
    return status >= 500 || !strcmp(code, "SlowDown") || !strcmp(code, "RequestTimeout") ||
           !strcmp(code, "InternalError");
}

/* Put a download to a file back where it started, for the next attempt. */
static bool rewind_out(s3_req *r, off_t start)
{
    if (r->out_fd < 0 || r->written == 0)
        return true;
    if (start < 0 || bkp_durable_truncate(r->out_fd, (uint64_t)start) ||
        lseek(r->out_fd, start, SEEK_SET) < 0)
        return false;
    return true;
}

static void s3_log(bkp_s3 *s, const s3_req *r, int rc, CURLcode cc, const char *errbuf);

/* curl_easy_perform with SIGPIPE held off in this thread: a server that
 * closes the connection while TLS writes to it must not kill bkp. The handle
 * has CURLOPT_NOSIGNAL (threads), so libcurl leaves SIGPIPE to us; a signal
 * raised by a write on a socket goes to the writing thread, so blocking it
 * here and discarding what is pending afterwards changes nothing for the
 * rest of the program. */
static CURLcode perform_nopipe(CURL *h)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    CURLcode cc = s3l->easy_perform(h);
    if (!sigismember(&old, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
            ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return cc;
}

int s3_perform(bkp_s3 *s, s3_req *r)
{
    static const char empty_sha[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const char *sha = empty_sha;
    for (struct curl_slist *p = r->headers; p; p = p->next)
        if (strncasecmp(p->data, "x-amz-content-sha256:", 21) == 0)
            sha = NULL; /* the caller's, for a body */
    char *url = NULL, errbuf[CURL_ERROR_SIZE] = "";
    int rc = build_url(s, r, &url);
    if (rc < 0) {
        bkp_error(_("S3 %s: the key is not one an S3 request can name exactly (empty, over %d "
                    "bytes, a '.' or '..' segment, or a control character): %s"),
                  r->what, BKP_S3_KEY_MAX, bkp_strerror(rc));
        return rc;
    }
    off_t start = r->out_fd >= 0 ? lseek(r->out_fd, 0, SEEK_CUR) : 0;
    CURLcode cc = CURLE_OK;
    unsigned pause = s->backoff_ms;
    bool local_err = false;
    unsigned timeouts = 0;
    for (unsigned attempt = 1; rc == 0; attempt++) {
        call c = {.r = r};
        struct curl_slist *hdrs = NULL;
        errbuf[0] = '\0';
        r->status = 0, r->written = 0, r->too_big = false, r->body_len = 0;
        r->code[0] = r->message[0] = '\0';
        rc = setup(s, r, &c, url, sha, &hdrs, errbuf);
        cc = rc == 0 ? perform_nopipe(s->curl) : CURLE_OK;
        s3l->slist_free_all(hdrs);
        if (rc < 0)
            break;
        s3l->easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);
        bool answered = r->status >= 200;
        if (c.io_err) {
            rc = c.io_err, local_err = true;
        } else if (r->too_big) {
            rc = -EFBIG;
        } else if (cc != CURLE_OK && !(answered && !c.ok_status)) {
            rc = transient_curl(cc) ? -EAGAIN : -EIO;
        } else if (c.ok_status && r->bad_header) {
            rc = -EBADMSG;
        } else if (!c.ok_status) {
            if (r->body_len && bkp_s3_parse_error(r->body, r->body_len, r->code, r->message) < 0)
                r->code[0] = '\0';
            rc = transient_answer(r->status, r->code) ? -EAGAIN
                                                      : s3_errno(r->status, r->code, r->method);
        }
        /* A timed-out attempt is tried again once, not s->attempts times:
         * each costs up to its whole deadline. */
        if (cc == CURLE_OPERATION_TIMEDOUT && ++timeouts >= S3_TIMEOUT_TRIES)
            rc = -EIO;
        if (rc == -EAGAIN && (attempt >= s->attempts || !rewind_out(r, start)))
            rc = -EIO;
        if (rc != -EAGAIN)
            break;
        struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (long)(pause % 1000) * 1000000};
        nanosleep(&ts, NULL);
        pause *= 2;
        rc = 0;
    }
    free(url);
    if (rc < 0 && local_err)
        bkp_error(r->out_fd >= 0 ? _("S3 %s: writing the local file failed: %s")
                                 : _("S3 %s: reading the local file failed: %s"),
                  r->what, bkp_strerror(rc));
    else if (rc < 0)
        s3_log(s, r, rc, cc, errbuf);
    return rc;
}

/* What a failure of the connection itself means, in the reader's words
 * (curl's own text, in English, follows it for the technician); NULL where
 * curl's text alone is best. */
static const char *transport_why(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return _("the server's name cannot be resolved (DNS)");
    case CURLE_COULDNT_CONNECT:
        return _("the server cannot be reached, or refuses the connection");
    case CURLE_OPERATION_TIMEDOUT:
        return _("the server did not answer in time");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return _("the server's TLS certificate cannot be verified");
    case CURLE_SSL_CONNECT_ERROR:
        return _("the TLS connection could not be made");
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return _("the connection was cut");
    default:
        return NULL;
    }
}

static void s3_log(bkp_s3 *s, const s3_req *r, int rc, CURLcode cc, const char *errbuf)
{
    if ((rc == -ENOENT && (r->quiet & S3_QUIET_ENOENT)) ||
        (rc == -EACCES && (r->quiet & S3_QUIET_EACCES)))
        return;
    const char *w = r->what, *code = r->code[0] ? r->code : _("no reason given");
    char why[400];
    snprintf(why, sizeof(why), "HTTP %ld %s%s%s", r->status, code, r->message[0] ? ": " : "",
             r->message);
    switch (rc) {
    case -EPERM:
        bkp_error(_("S3 %s at %s: the server does not accept the credentials (%s); check the key "
                    "id and secret in the credentials file, that the key may use bucket %s, and "
                    "the region '%s' in the policy"),
                  w, s->endpoint, why, s->bucket, s->region);
        break;
    case -ETIME:
        bkp_error(_("S3 %s at %s: this host's clock differs from the server's by more than 15 "
                    "minutes (%s); set the clock (chrony or systemd-timesyncd) and retry"),
                  w, s->endpoint, why);
        break;
    case -ENOSPC:
        bkp_error(_("S3 %s at %s: the bucket's quota is full (%s); raise the quota with the "
                    "provider (Ceph: radosgw-admin quota set) — locked objects cannot be "
                    "deleted to make room"),
                  w, s->endpoint, why);
        break;
    case -ENOENT:
        if (!r->key || !strcmp(r->code, "NoSuchBucket"))
            bkp_error(_("S3 %s: no bucket %s at %s (%s); check the bucket's name and endpoint in "
                        "the policy against what the provider gave (a typo is the usual cause). "
                        "Only when setting a new one up, create it with Object Lock: aws s3api "
                        "create-bucket --bucket %s --object-lock-enabled-for-bucket "
                        "--endpoint-url %s"),
                      w, s->bucket, s->endpoint, why, s->bucket, s->endpoint);
        else
            bkp_error(_("S3 %s at %s: no such object or version (%s)"), w, s->endpoint, why);
        break;
    case -EACCES:
        bkp_error(_("S3 %s at %s: refused by the server (%s); check that the key may do this in "
                    "bucket %s, and any lock on the object"),
                  w, s->endpoint, why, s->bucket);
        break;
    case -EINVAL:
        bkp_error(_("S3 %s at %s: the server refused the request (%s); check that the bucket "
                    "has Object Lock and that the server supports it"),
                  w, s->endpoint, why);
        break;
    case -EBADMSG:
        bkp_error(r->code[0] ? _("S3 %s at %s: the bytes arrived damaged or changed while sent "
                                 "(%s); retry, and check the network path if it recurs")
                             : _("S3 %s at %s: an answer that is not S3's (%s); retry, and check "
                                 "the network path if it recurs"),
                  w, s->endpoint, why);
        break;
    case -EFBIG:
        bkp_error(_("S3 %s at %s: larger than the %llu bytes allowed; it is not what bkp "
                    "wrote there"),
                  w, s->endpoint, (unsigned long long)(r->out_fd >= 0 ? r->out_max : r->body_max));
        break;
    case -EIO:
        if (cc != CURLE_OK && r->status < 200 && transport_why(cc))
            bkp_error(_("S3 %s at %s: %s (%s); check that the endpoint is reachable (network, "
                        "proxy, TLS certificate) and retry"),
                      w, s->endpoint, transport_why(cc),
                      errbuf[0] ? errbuf : s3l->easy_strerror(cc));
        else if (cc != CURLE_OK && r->status < 200)
            bkp_error(_("S3 %s at %s: %s; check that the endpoint is reachable (network, proxy, "
                        "TLS certificate) and retry"),
                      w, s->endpoint, errbuf[0] ? errbuf : s3l->easy_strerror(cc));
        else
            bkp_error(_("S3 %s at %s: the server failed (%s), after %u attempts; retry later, "
                        "or check the server's health"),
                      w, s->endpoint, why, s->attempts);
        break;
    default:
        bkp_error(_("S3 %s at %s: %s"), w, s->endpoint, bkp_strerror(rc));
    }
}
