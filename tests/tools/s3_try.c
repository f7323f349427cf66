/*
 * s3_try — the S3 client against a real object store (tests/e2e/81-s3-client.sh
 * starts one): every operation of s3.h, and the answers Object Lock must give.
 *
 * usage: s3_try ENDPOINT REGION CREDENTIALS LOCKED PLAIN DEFAULT WORKDIR
 *
 * LOCKED has Object Lock (and so versioning), PLAIN neither, DEFAULT Object
 * Lock with a default retention of GOVERNANCE for 1 day.
 * Prints one "ok - …" line per check; exits 1 at the first that fails.
 *
 * usage: s3_try --faults ENDPOINT CREDENTIALS WORKDIR
 *
 * The same client against tests/support/s3-fault-server.py, a fake endpoint
 * that fails on purpose: retries, answers that are not S3's, an ETag that
 * does not match, a download cut short, a listing that never ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkp/io/log.h"
#include "bkp/s3/s3.h"

static char logbuf[16384];
static const char *workdir;

static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)ctx;
    fprintf(stderr, "  log: %s\n", msg);
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!ok)
        exit(1);
}

/* Is `s` in what was logged (kept for the next check)? */
static bool seen(const char *s)
{
    return strstr(logbuf, s) != NULL;
}

static bool logged(const char *s)
{
    bool r = strstr(logbuf, s) != NULL;
    logbuf[0] = '\0';
    return r;
}

static bkp_s3 *open_or_die(bkp_s3_conf *c)
{
    bkp_s3 *s = NULL;
    int rc = bkp_s3_open(c, &s);
    check(rc == 0, "open %s/%s: %d", c->endpoint, c->bucket, rc);
    return s;
}

/* A file of `n` bytes that differ from place to place. */
static int make_file(const char *path, size_t n)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    unsigned char *b = malloc(n);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        b[i] = (unsigned char)x;
    }
    check(fd >= 0 && b && write(fd, b, n) == (ssize_t)n, "write %zu bytes to %s", n, path);
    free(b);
    return fd;
}

static bool same_files(int a, int b)
{
    struct stat sa, sb;
    if (fstat(a, &sa) || fstat(b, &sb) || sa.st_size != sb.st_size)
        return false;
    char x[65536], y[65536];
    for (off_t off = 0; off < sa.st_size;) {
        ssize_t n = pread(a, x, sizeof(x), off), m = pread(b, y, sizeof(y), off);
        if (n <= 0 || n != m || memcmp(x, y, (size_t)n))
            return false;
        off += n;
    }
    return true;
}

typedef struct counts {
    int n, markers;
    char last[BKP_S3_KEY_MAX + 1];
    bool ordered;
} counts;

static int count(const bkp_s3_object *o, void *ctx)
{
    counts *c = ctx;
    if (!o->delete_marker && c->n && strcmp(o->key, c->last) < 0)
        c->ordered = false;
    snprintf(c->last, sizeof(c->last), "%s", o->key);
    c->n++;
    c->markers += o->delete_marker;
    return 0;
}

static void buckets(bkp_s3_conf *c, const char *locked, const char *plain)
{
    bkp_s3_bucket_info in;
    c->bucket = locked;
    bkp_s3 *s = open_or_die(c);
    int rc = bkp_s3_bucket_check(s, &in);
    check(rc == 0 && in.versioning && in.object_lock, "bucket_check %s: versioning and Object Lock",
          locked);
    bkp_s3_close(s);
    c->bucket = plain;
    s = open_or_die(c);
    rc = bkp_s3_bucket_check(s, &in);
    check(rc == -ENOTSUP && logged("--object-lock-enabled-for-bucket"),
          "bucket_check %s: -ENOTSUP with how to create a bucket with Object Lock (%d)", plain, rc);
    /* A retention on a bucket without Object Lock is refused by the server. */
    time_t until = time(NULL) + 3600;
    rc = bkp_s3_put(s, "x", -1, "x", 1, BKP_S3_LOCK_GOVERNANCE, until, NULL);
    check(rc < 0, "a locked upload into %s is refused (%d)", plain, rc);
    logbuf[0] = '\0';
    bkp_s3_close(s);
    c->bucket = "no-such-bucket-here";
    s = open_or_die(c);
    rc = bkp_s3_bucket_check(s, &in);
    check(rc == -ENOENT && logged("create-bucket"),
          "bucket_check of a missing bucket: -ENOENT (%d)", rc);
    bkp_s3_close(s);
    c->bucket = locked;
}

static void round_trip(bkp_s3 *s)
{
    char path[512], back[512], vid[BKP_S3_VERSION_MAX + 1], t1[32], t2[32];
    size_t n = 6u << 20;
    snprintf(path, sizeof(path), "%s/pack", workdir);
    snprintf(back, sizeof(back), "%s/pack.back", workdir);
    int fd = make_file(path, n);
    time_t until = time(NULL) + 600;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = bkp_s3_put(s, "data/00/pack 1+é", fd, NULL, n, BKP_S3_LOCK_COMPLIANCE, until, vid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    check(rc == 0 && vid[0],
          "put of %zu bytes from a file with COMPLIANCE until +600 s: version %s "
          "(%.1f MiB/s)",
          n, vid, (double)n / 1048576.0 / secs);
    bkp_s3_object o;
    rc = bkp_s3_head(s, "data/00/pack 1+é", NULL, &o);
    bkp_s3_format_time(o.retain_until, t1);
    bkp_s3_format_time(until, t2);
    check(rc == 0 && o.size == n && strlen(o.etag) == 32 && o.mode == BKP_S3_LOCK_COMPLIANCE &&
              o.retain_until == until && !strcmp(o.version_id, vid),
          "head: size %llu, ETag %s, COMPLIANCE until %s (wanted %s)", (unsigned long long)o.size,
          o.etag, t1, t2);
    int out = open(back, O_RDWR | O_CREAT | O_TRUNC, 0600);
    uint64_t got = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = bkp_s3_get_fd(s, "data/00/pack 1+é", vid, out, n, &got);
    clock_gettime(CLOCK_MONOTONIC, &b);
    secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    check(rc == 0 && got == n && same_files(fd, out),
          "get_fd of that version: the same %llu bytes (%.1f MiB/s)", (unsigned long long)got,
          (double)n / 1048576.0 / secs);
    check(ftruncate(out, 0) == 0 && lseek(out, 0, SEEK_SET) == 0, "truncate");
    rc = bkp_s3_get_fd(s, "data/00/pack 1+é", NULL, out, n - 1, &got);
    check(rc == -EFBIG && logged("larger than"), "get_fd with a cap one byte short: -EFBIG (%d)",
          rc);
    void *buf = NULL;
    size_t len = 0;
    rc = bkp_s3_put(s, "label", -1, "bkp label\n", 10, BKP_S3_LOCK_NONE, 0, NULL);
    check(rc == 0, "put of a buffer without retention (%d)", rc);
    rc = bkp_s3_get(s, "label", NULL, 100, &buf, &len);
    check(rc == 0 && len == 10 && !memcmp(buf, "bkp label\n", 10), "get into memory");
    free(buf);
    rc = bkp_s3_head(s, "no/such/key", NULL, &o);
    check(rc == -ENOENT, "head of a missing key: -ENOENT (%d)", rc);

    /* Retention: extended, never shortened; a locked version stays. */
    rc = bkp_s3_retain(s, "data/00/pack 1+é", vid, BKP_S3_LOCK_COMPLIANCE, until + 86400, false);
    check(rc == 0, "retention extended by a day (%d)", rc);
    rc = bkp_s3_head(s, "data/00/pack 1+é", vid, &o);
    check(rc == 0 && o.retain_until == until + 86400, "head shows the extended date");
    rc = bkp_s3_retain(s, "data/00/pack 1+é", vid, BKP_S3_LOCK_COMPLIANCE, until, false);
    check(rc == -EACCES, "retention shortened: refused, -EACCES (%d)", rc);
    logbuf[0] = '\0';
    rc = bkp_s3_delete(s, "data/00/pack 1+é", vid, false);
    check(rc == -EACCES && !logbuf[0], "delete of the locked version: -EACCES, not logged (%d)",
          rc);
    rc = bkp_s3_delete(s, "data/00/pack 1+é", vid, true);
    check(rc == -EACCES, "delete with the governance bypass: -EACCES (%d)", rc);
    rc = bkp_s3_delete(s, "data/00/pack 1+é", NULL, false);
    check(rc == 0, "plain delete: a delete marker (%d)", rc);
    rc = bkp_s3_head(s, "data/00/pack 1+é", NULL, &o);
    check(rc == -ENOENT, "head of the current version (a delete marker): -ENOENT (%d)", rc);
    rc = bkp_s3_get_fd(s, "data/00/pack 1+é", vid, out, n, &got);
    check(rc == 0 && got == n, "the locked version still reads back (%d)", rc);
    close(out);
    close(fd);
    unlink(path);
    unlink(back);
}

static void listings(bkp_s3 *s)
{
    char key[64];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "idx/%02d", 4 - i);
        check(bkp_s3_put(s, key, -1, key, strlen(key), BKP_S3_LOCK_NONE, 0, NULL) == 0, "put %s",
              key);
    }
    check(bkp_s3_put(s, "idx/00", -1, "again", 5, BKP_S3_LOCK_NONE, 0, NULL) == 0,
          "put idx/00 again");
    check(bkp_s3_delete(s, "idx/01", NULL, false) == 0, "delete idx/01 (a marker)");
    counts c = {.ordered = true};
    int rc = bkp_s3_list(s, "idx/", count, &c);
    check(rc == 0 && c.n == 4 && c.ordered,
          "list idx/ over pages of 2: 4 current objects in "
          "order (%d, %d)",
          rc, c.n);
    counts v = {.ordered = true};
    rc = bkp_s3_list_versions(s, "idx/", count, &v);
    check(rc == 0 && v.n == 7 && v.markers == 1,
          "list_versions idx/ over pages of 2: 7 entries, "
          "1 delete marker (%d, %d, %d)",
          rc, v.n, v.markers);
    counts all = {.ordered = true};
    rc = bkp_s3_list(s, NULL, count, &all);
    check(rc == 0 && all.n == 5, "list of the whole bucket: 5 (%d, %d)", rc, all.n);
}

/* The key id of the real credentials, with another secret. */
static void wrong_secret(const char *creds, const char *wrong)
{
    char text[4096], *key = NULL, *secret = NULL;
    int line = 0, fd = open(creds, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text)) : -1;
    check(n > 0 && bkp_s3_creds_parse(text, (size_t)n, NULL, &key, &secret, &line) == 0, "read %s",
          creds);
    close(fd);
    FILE *f = fopen(wrong, "w");
    check(f != NULL, "write %s", wrong);
    fprintf(f, "[default]\naws_access_key_id = %s\naws_secret_access_key = %sX\n", key, secret);
    fclose(f);
    chmod(wrong, 0600);
    free(key);
    free(secret);
}

/* A bucket's default retention is reported, and does not replace the
 * retention an upload asks for. */
static void default_retention(bkp_s3_conf *c, const char *bucket)
{
    bkp_s3_conf d = *c;
    d.bucket = bucket;
    bkp_s3 *s = open_or_die(&d);
    bkp_s3_bucket_info in;
    int rc = bkp_s3_bucket_check(s, &in);
    check(rc == 0 && in.default_mode == BKP_S3_LOCK_GOVERNANCE && in.default_days == 1,
          "bucket_check %s: default retention GOVERNANCE 1 day (%d, %u)", bucket, rc,
          in.default_days);
    time_t until = time(NULL) + 600;
    bkp_s3_object o;
    rc = bkp_s3_put(s, "record", -1, "r", 1, BKP_S3_LOCK_COMPLIANCE, until, NULL);
    check(rc == 0 && bkp_s3_head(s, "record", NULL, &o) == 0 && o.mode == BKP_S3_LOCK_COMPLIANCE &&
              o.retain_until == until,
          "an explicit COMPLIANCE retention wins over the bucket's default");
    rc = bkp_s3_put(s, "plain", -1, "p", 1, BKP_S3_LOCK_NONE, 0, NULL);
    check(rc == 0 && bkp_s3_head(s, "plain", NULL, &o) == 0 && o.mode == BKP_S3_LOCK_GOVERNANCE,
          "an upload without retention gets the default (GOVERNANCE)");
    bkp_s3_close(s);
}

static void failures(bkp_s3_conf *c)
{
    char wrong[512];
    snprintf(wrong, sizeof(wrong), "%s/wrong.credentials", workdir);
    wrong_secret(c->credentials_file, wrong);
    bkp_s3_conf w = *c;
    w.credentials_file = wrong;
    bkp_s3 *s = open_or_die(&w);
    bkp_s3_bucket_info in;
    int rc = bkp_s3_bucket_check(s, &in);
    check(rc == -EPERM && strstr(logbuf, "SignatureDoesNotMatch") && logged("check the key id"),
          "wrong secret: -EPERM, saying to check the credentials file (%d)", rc);
    bkp_s3_close(s);
    unlink(wrong);
    /* Nothing listens there: retried, then -EIO, in a few seconds. */
    w = *c;
    w.endpoint = "http://127.0.0.1:9";
    s = open_or_die(&w);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = bkp_s3_bucket_check(s, &in);
    clock_gettime(CLOCK_MONOTONIC, &b);
    check(rc == -EIO && seen("the server cannot be reached, or refuses the connection (") &&
              logged("check that the endpoint is reachable") &&
              b.tv_sec - a.tv_sec < 30,
          "no server: -EIO after the retries, %ld s (%d)", (long)(b.tv_sec - a.tv_sec), rc);
    bkp_s3_close(s);
}

static bkp_s3 *open_bucket(bkp_s3_conf *c, const char *bucket)
{
    c->bucket = bucket;
    return open_or_die(c);
}

static void faults(bkp_s3_conf *c)
{
    bkp_s3_bucket_info in;
    bkp_s3 *s = open_bucket(c, "slow");
    int rc = bkp_s3_bucket_check(s, &in);
    check(rc == 0 && in.object_lock && !logbuf[0], "503 SlowDown twice: retried, then ok (%d)", rc);
    bkp_s3_close(s);
    s = open_bucket(c, "down");
    rc = bkp_s3_bucket_check(s, &in);
    check(rc == -EIO && logged("the server failed (HTTP 500 InternalError"),
          "500 every time: -EIO after the retries (%d)", rc);
    bkp_s3_close(s);
    s = open_bucket(c, "html");
    rc = bkp_s3_bucket_check(s, &in);
    check(rc == -EBADMSG && logged("not S3's"), "an HTML page for an answer: -EBADMSG (%d)", rc);
    bkp_s3_close(s);
    s = open_bucket(c, "skew");
    rc = bkp_s3_bucket_check(s, &in);
    check(rc == -ETIME && logged("set the clock"),
          "RequestTimeTooSkewed: -ETIME, saying to set "
          "the clock (%d)",
          rc);
    bkp_s3_close(s);
    s = open_bucket(c, "xxe");
    rc = bkp_s3_bucket_check(s, &in);
    check(rc == -EBADMSG && logged("not S3's"), "an answer with a DOCTYPE (XXE): -EBADMSG (%d)",
          rc);
    bkp_s3_close(s);
    s = open_bucket(c, "huge");
    rc = bkp_s3_list(s, "", count, &(counts){.ordered = true});
    check(rc == -EFBIG && logged("larger than"), "a 5 MiB listing page: -EFBIG (%d)", rc);
    bkp_s3_close(s);
    s = open_bucket(c, "loop");
    rc = bkp_s3_list(s, "", count, &(counts){.ordered = true});
    check(rc == -EBADMSG && logged("not S3's"), "a listing whose token never moves: -EBADMSG (%d)",
          rc);
    bkp_s3_close(s);

    s = open_bucket(c, "obj");
    char vid[BKP_S3_VERSION_MAX + 1];
    rc = bkp_s3_put(s, "etag", -1, "data", 4, BKP_S3_LOCK_NONE, 0, vid);
    check(rc == -EBADMSG && logged("is not the MD5"),
          "an ETag that is not the MD5 sent: -EBADMSG "
          "(%d)",
          rc);
    rc = bkp_s3_put(s, "full", -1, "data", 4, BKP_S3_LOCK_NONE, 0, vid);
    check(rc == -ENOSPC && logged("raise the quota"),
          "QuotaExceeded: -ENOSPC, saying to raise "
          "the quota (%d)",
          rc);
    char path[512];
    snprintf(path, sizeof(path), "%s/flaky", workdir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    uint64_t got = 0;
    bool same = true;
    rc = bkp_s3_get_fd(s, "flaky", NULL, fd, 1 << 20, &got);
    struct stat st;
    unsigned char b[1000];
    check(fstat(fd, &st) == 0 && pread(fd, b, sizeof(b), 0) == 1000, "read back");
    for (int i = 0; i < 1000; i++)
        same &= b[i] == (unsigned char)((i * 7) % 251);
    check(rc == 0 && got == 1000 && st.st_size == 1000 && same,
          "a download cut short: retried from the start, the file holds exactly the object "
          "(%d, %lld bytes)",
          rc, (long long)st.st_size);
    close(fd);
    unlink(path);
    void *buf = NULL;
    size_t len;
    rc = bkp_s3_get(s, "big", NULL, 100, &buf, &len);
    check(rc == -EFBIG && !buf && logged("larger than"),
          "10000 bytes with a limit of 100: -EFBIG "
          "(%d)",
          rc);
    bkp_s3_close(s);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--faults") == 0) {
        workdir = argv[4];
        bkp_log_set_sink(sink, NULL);
        bkp_s3_conf c = {.endpoint = argv[2], .region = "us-east-1", .credentials_file = argv[3]};
        faults(&c);
        printf("all S3 fault checks passed\n");
        return 0;
    }
    if (argc != 8) {
        fprintf(stderr, "usage: s3_try ENDPOINT REGION CREDENTIALS LOCKED PLAIN DEFAULT WORKDIR\n");
        return 2;
    }
    workdir = argv[7];
    bkp_log_set_sink(sink, NULL);
    bkp_s3_conf c = {
        .endpoint = argv[1], .region = argv[2], .credentials_file = argv[3], .page_size = 2};
    buckets(&c, argv[4], argv[5]);
    bkp_s3 *s = open_or_die(&c);
    round_trip(s);
    listings(s);
    bkp_s3_close(s);
    default_retention(&c, argv[6]);
    failures(&c);
    printf("all S3 client checks passed\n");
    return 0;
}
