/*
 * The S3 client's parsers: the server's XML answers (listings over several
 * pages, versions with delete markers, errors, the versioning and lock
 * configurations), times, the credentials file — and what must be refused: a
 * DOCTYPE, entities, oversized answers, malformed credentials. Also the
 * checks bkp_s3_open makes before sending anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/log.h"
#include "bkp/s3/s3.h"
#include "bkp/s3/s3_internal.h"
#include "testutil.h"

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static char logbuf[8192];

static void sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)ctx;
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", msg);
}

static int parse_str(const char *x, bool versions, int (*fn)(const bkp_s3_object *, void *),
                     void *ctx, char *next, char *nv)
{
    return bkp_s3_parse_list(x, strlen(x), versions, fn, ctx, next, nv);
}

static void test_time(void **state)
{
    (void)state;
    time_t t;
    char s[32];
    assert_int_equal(bkp_s3_parse_time("2026-11-23T20:40:00Z", &t), 0);
    assert_int_equal((long long)t, 1795466400LL);
    bkp_s3_format_time(t, s);
    assert_string_equal(s, "2026-11-23T20:40:00Z");
    assert_int_equal(bkp_s3_parse_time("2026-11-23T20:40:00.123Z", &t), 0);
    assert_int_equal((long long)t, 1795466400LL);
    assert_int_equal(bkp_s3_parse_time("2028-02-29T00:00:00Z", &t), 0);
    static const char *bad[] = {
        "2026-11-23T20:40:00",
        "2026-11-23 20:40:00Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2027-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "1969-12-31T23:59:59Z",
        "2026-11-23T20:40:00.Z",
        "2026-11-23T20:40:00Zjunk",
        "2026-1-23T20:40:00Z",
        "",
        "2026-11-23T20:40:00+09:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bkp_s3_parse_time(bad[i], &t), -EINVAL);
}

static void test_error(void **state)
{
    (void)state;
    char code[64], msg[256];
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>"
                    "<Message>forbidden by object lock</Message><RequestId>tx1</RequestId>"
                    "<HostId>h</HostId></Error>";
    assert_int_equal(bkp_s3_parse_error(x, strlen(x), code, msg), 0);
    assert_string_equal(code, "AccessDenied");
    assert_string_equal(msg, "forbidden by object lock");
    const char *nocode = "<Error><Message>m</Message></Error>";
    assert_int_equal(bkp_s3_parse_error(nocode, strlen(nocode), code, msg), -EBADMSG);
    const char *html = "<html><body>proxy login</body></html>";
    assert_int_equal(bkp_s3_parse_error(html, strlen(html), code, msg), -EBADMSG);
    assert_int_equal(bkp_s3_parse_error("<Error><Code>x", 14, code, msg), -EBADMSG);
    /* The codes that tell the operator what to do. */
    assert_int_equal(s3_errno(403, "SignatureDoesNotMatch", "GET"), -EPERM);
    assert_int_equal(s3_errno(403, "InvalidAccessKeyId", "PUT"), -EPERM);
    assert_int_equal(s3_errno(403, "RequestTimeTooSkewed", "GET"), -ETIME);
    assert_int_equal(s3_errno(403, "QuotaExceeded", "PUT"), -ENOSPC);
    assert_int_equal(s3_errno(403, "AccessDenied", "DELETE"), -EACCES);
    assert_int_equal(s3_errno(404, "NoSuchKey", "GET"), -ENOENT);
    assert_int_equal(s3_errno(404, "", "HEAD"), -ENOENT);
    assert_int_equal(s3_errno(405, "", "HEAD"), -ENOENT);
    assert_int_equal(s3_errno(403, "", "HEAD"), -EPERM);
    assert_int_equal(s3_errno(400, "BadDigest", "PUT"), -EBADMSG);
    assert_int_equal(s3_errno(400, "InvalidRequest", "PUT"), -EINVAL);
    assert_int_equal(s3_errno(501, "NotImplemented", "GET"), -EIO);
}

typedef struct seen {
    int n, markers, latest;
    uint64_t bytes;
    char keys[8][32];
    int stop_at;
} seen;

static int collect(const bkp_s3_object *o, void *ctx)
{
    seen *s = ctx;
    if (s->n < 8)
        snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.31s", o->key);
    s->n++;
    s->markers += o->delete_marker;
    s->latest += o->latest;
    s->bytes += o->size;
    return s->stop_at && s->n == s->stop_at ? 42 : 0;
}

static const char page1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult " NS "><Name>b</Name>"
    "<Prefix>data/</Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
    "<Contents><Key>data/aa</Key><LastModified>2026-11-23T20:40:00.000Z</LastModified>"
    "<ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>10</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>data/ab</Key><LastModified>2026-11-23T20:41:00.000Z</LastModified>"
    "<ETag>\"e4d909c290d0fb1ca068ffaddf22cbd0\"</ETag><Size>20</Size></Contents>"
    "<KeyCount>2</KeyCount><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
    "NextContinuationToken>"
    "</ListBucketResult>";
static const char page2[] =
    "<ListBucketResult " NS "><Name>b</Name><IsTruncated>false</IsTruncated>"
    "<Contents><Key>data/b0</Key><LastModified>2026-11-23T20:42:00Z</LastModified>"
    "<ETag>\"00000000000000000000000000000000\"</ETag><Size>30</Size></Contents>"
    "</ListBucketResult>";

static void test_list(void **state)
{
    (void)state;
    seen s = {0};
    char next[BKP_S3_KEY_MAX + 1];
    assert_int_equal(parse_str(page1, false, collect, &s, next, NULL), 0);
    assert_string_equal(next, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    assert_int_equal(parse_str(page2, false, collect, &s, next, NULL), 0);
    assert_string_equal(next, "");
    assert_int_equal(s.n, 3);
    assert_int_equal(s.bytes, 60);
    assert_string_equal(s.keys[0], "data/aa");
    assert_string_equal(s.keys[2], "data/b0");
    /* The callback can stop the listing; its value comes back. */
    seen st = {.stop_at = 1};
    assert_int_equal(parse_str(page1, false, collect, &st, next, NULL), 42);
    assert_int_equal(st.n, 1);
    /* Shapes that are not a listing: nothing is called. */
    static const char *bad[] = {
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",   /* no token */
        "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>", /* no IsTruncated
                                                                                   */
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
        "<LastModified>2026-11-23T20:42:00Z</LastModified><ETag>\"x\"</ETag></Contents>"
        "</ListBucketResult>", /* no Size */
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
        "<LastModified>2026-11-23T20:42:00Z</LastModified><ETag>\"x\"</ETag><Size>-1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        "<ListVersionsResult><IsTruncated>false</IsTruncated></ListVersionsResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key><b>k</b></Key>"
        "</Contents></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        seen z = {0};
        assert_int_equal(parse_str(bad[i], false, collect, &z, next, NULL), -EBADMSG);
        assert_int_equal(z.n, 0);
    }
    /* A key longer than any bkp writes. */
    char *big = malloc(3000);
    int n = snprintf(big, 3000,
                     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
                     "<Key>%01100d</Key><LastModified>2026-11-23T20:42:00Z"
                     "</LastModified><ETag>e</ETag><Size>1</Size></Contents>"
                     "</ListBucketResult>",
                     0);
    seen z = {0};
    assert_int_equal(bkp_s3_parse_list(big, (size_t)n, false, collect, &z, next, NULL), -EBADMSG);
    free(big);
}

static const char versions1[] =
    "<ListVersionsResult " NS "><Name>b</Name><Prefix></Prefix><KeyMarker></KeyMarker>"
    "<VersionIdMarker></VersionIdMarker><NextKeyMarker>label</NextKeyMarker>"
    "<NextVersionIdMarker>v2.x</NextVersionIdMarker><MaxKeys>3</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<DeleteMarker><Key>canary</Key><VersionId>dm1</VersionId><IsLatest>true</IsLatest>"
    "<LastModified>2026-11-23T20:43:00.000Z</LastModified><Owner><ID>o</ID></Owner>"
    "</DeleteMarker>"
    "<Version><Key>canary</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>"
    "<LastModified>2026-11-23T20:40:00.000Z</"
    "LastModified><ETag>\"d41d8cd98f00b204e9800998ecf8427e\"</ETag>"
    "<Size>0</Size><StorageClass>STANDARD</StorageClass></Version>"
    "<Version><Key>label</Key><VersionId>v2.x</VersionId><IsLatest>true</IsLatest>"
    "<LastModified>2026-11-23T20:40:00.000Z</"
    "LastModified><ETag>\"9e107d9d372bb6826bd81d3542a419d6\"</ETag>"
    "<Size>43</Size></Version></ListVersionsResult>";

static void test_versions(void **state)
{
    (void)state;
    seen s = {0};
    char next[BKP_S3_KEY_MAX + 1], nv[BKP_S3_VERSION_MAX + 1];
    assert_int_equal(parse_str(versions1, true, collect, &s, next, nv), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.markers, 1);
    assert_int_equal(s.latest, 2);
    assert_int_equal(s.bytes, 43);
    assert_string_equal(next, "label");
    assert_string_equal(nv, "v2.x");
    /* A version without its VersionId or IsLatest is not a listing of versions. */
    const char *bad = "<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>k</Key>"
                      "<LastModified>2026-11-23T20:40:00Z</LastModified><ETag>e</ETag>"
                      "<Size>1</Size></Version></ListVersionsResult>";
    assert_int_equal(parse_str(bad, true, collect, &s, next, nv), -EBADMSG);
    const char *last = "<ListVersionsResult><IsTruncated>false</IsTruncated></ListVersionsResult>";
    assert_int_equal(parse_str(last, true, collect, &s, next, nv), 0);
    assert_string_equal(next, "");
    assert_string_equal(nv, "");
}

static void test_lock_config(void **state)
{
    (void)state;
    bool on = false;
    bkp_s3_lock m;
    unsigned d;
    const char *days = "<ObjectLockConfiguration " NS "><ObjectLockEnabled>Enabled"
                       "</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                       "<Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>";
    assert_int_equal(bkp_s3_parse_lock_config(days, strlen(days), &on, &m, &d), 0);
    assert_true(on);
    assert_int_equal(m, BKP_S3_LOCK_COMPLIANCE);
    assert_int_equal(d, 30);
    const char *years = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                        "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>2</Years>"
                        "</DefaultRetention></Rule></ObjectLockConfiguration>";
    assert_int_equal(bkp_s3_parse_lock_config(years, strlen(years), &on, &m, &d), 0);
    assert_int_equal(m, BKP_S3_LOCK_GOVERNANCE);
    assert_int_equal(d, 730);
    const char *bare = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                       "</ObjectLockConfiguration>";
    assert_int_equal(bkp_s3_parse_lock_config(bare, strlen(bare), &on, &m, &d), 0);
    assert_true(on);
    assert_int_equal(m, BKP_S3_LOCK_NONE);
    assert_int_equal(d, 0);
    const char *off = "<ObjectLockConfiguration/>";
    assert_int_equal(bkp_s3_parse_lock_config(off, strlen(off), &on, &m, &d), 0);
    assert_false(on);
    static const char *bad[] = {
        "<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled>"
        "</ObjectLockConfiguration>",
        "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
        "<DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days><Years>1</Years>"
        "</DefaultRetention></Rule></ObjectLockConfiguration>",
        "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
        "<DefaultRetention><Mode>compliance</Mode><Days>1</Days></DefaultRetention></Rule>"
        "</ObjectLockConfiguration>",
        "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
        "<DefaultRetention><Mode>COMPLIANCE</Mode><Days>0</Days></DefaultRetention></Rule>"
        "</ObjectLockConfiguration>",
        "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
        "<DefaultRetention><Mode>COMPLIANCE</Mode><Days>99999999999</Days></DefaultRetention>"
        "</Rule></ObjectLockConfiguration>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(bkp_s3_parse_lock_config(bad[i], strlen(bad[i]), &on, &m, &d), -EBADMSG);
}

static void test_versioning(void **state)
{
    (void)state;
    bool on = true;
    const char *en = "<VersioningConfiguration " NS "><Status>Enabled</Status>"
                     "</VersioningConfiguration>";
    const char *su =
        "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>";
    const char *never = "<VersioningConfiguration " NS "/>";
    const char *junk = "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>";
    assert_int_equal(bkp_s3_parse_versioning(en, strlen(en), &on), 0);
    assert_true(on);
    assert_int_equal(bkp_s3_parse_versioning(su, strlen(su), &on), 0);
    assert_false(on);
    on = true;
    assert_int_equal(bkp_s3_parse_versioning(never, strlen(never), &on), 0);
    assert_false(on);
    assert_int_equal(bkp_s3_parse_versioning(junk, strlen(junk), &on), -EBADMSG);
}

/* The classic attacks on XML readers: all refused before any expansion. */
static void test_refused_xml(void **state)
{
    (void)state;
    bool on;
    char code[64], msg[256];
    const char *bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
        "<VersioningConfiguration><Status>&lol3;</Status></VersioningConfiguration>";
    assert_int_equal(bkp_s3_parse_versioning(bomb, strlen(bomb), &on), -EBADMSG);
    const char *xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<Error><Code>&x;</Code></Error>";
    assert_int_equal(bkp_s3_parse_error(xxe, strlen(xxe), code, msg), -EBADMSG);
    const char *ext =
        "<!DOCTYPE Error SYSTEM \"http://example.com/e.dtd\"><Error><Code>c</Code></Error>";
    assert_int_equal(bkp_s3_parse_error(ext, strlen(ext), code, msg), -EBADMSG);
    const char *undef = "<Error><Code>&undefined;</Code></Error>";
    assert_int_equal(bkp_s3_parse_error(undef, strlen(undef), code, msg), -EBADMSG);
    const char *cdata = "<Error><Code><![CDATA[AccessDenied]]></Code></Error>";
    assert_int_equal(bkp_s3_parse_error(cdata, strlen(cdata), code, msg), -EBADMSG);
    /* Oversized: refused without being parsed. */
    size_t n = S3_XML_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, "<Error><Code>c</Code>", 21);
    memcpy(big + n - 8, "</Error>", 8);
    assert_int_equal(bkp_s3_parse_error(big, n, code, msg), -EBADMSG);
    free(big);
    assert_int_equal(bkp_s3_parse_error("", 0, code, msg), -EBADMSG);
}

static char *corpus(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/fuzz_s3xml/%s", BKP_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *b = malloc(1 << 16);
    *len = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

/* Answers recorded from a Ceph RADOS Gateway (the fuzz corpus). */
static void test_real_answers(void **state)
{
    (void)state;
    size_t n;
    char next[BKP_S3_KEY_MAX + 1], nv[BKP_S3_VERSION_MAX + 1], code[64], msg[256];
    char *x = corpus("list1.xml", &n);
    seen s = {0};
    assert_int_equal(bkp_s3_parse_list(x, n, false, collect, &s, next, NULL), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(next, "idx/02");
    free(x);
    x = corpus("versions_all.xml", &n);
    seen v = {0};
    assert_int_equal(bkp_s3_parse_list(x, n, true, collect, &v, next, nv), 0);
    assert_true(v.n > 5 && v.markers == 2 && !next[0]);
    free(x);
    bkp_s3_lock m;
    bool on;
    unsigned d;
    x = corpus("lock_default.xml", &n);
    assert_int_equal(bkp_s3_parse_lock_config(x, n, &on, &m, &d), 0);
    assert_true(on && m == BKP_S3_LOCK_COMPLIANCE && d == 365);
    free(x);
    x = corpus("accessdenied.xml", &n);
    assert_int_equal(bkp_s3_parse_error(x, n, code, msg), 0);
    assert_string_equal(code, "AccessDenied");
    assert_string_equal(msg, "forbidden by object lock");
    free(x);
    x = corpus("entity-bomb.xml", &n);
    assert_int_equal(bkp_s3_parse_error(x, n, code, msg), -EBADMSG);
    free(x);
}

static int creds(const char *text, const char *profile, int *line, char **k, char **s)
{
    *line = -1;
    return bkp_s3_creds_parse(text, strlen(text), profile, k, s, line);
}

static void test_creds(void **state)
{
    (void)state;
    char *k = NULL, *s = NULL;
    int line;
    const char *good = "# off-site copy\n[other]\naws_access_key_id = X\naws_secret_access_key=Y\n"
                       "\n[default]\r\n  aws_access_key_id = AKIDEXAMPLE  \r\n"
                       "aws_secret_access_key\t=\twJalr/K7+MDENG\r\nregion = ap-northeast-1\n; end";
    assert_int_equal(creds(good, NULL, &line, &k, &s), 0);
    assert_string_equal(k, "AKIDEXAMPLE");
    assert_string_equal(s, "wJalr/K7+MDENG");
    free(k), free(s);
    assert_int_equal(creds(good, "other", &line, &k, &s), 0);
    assert_string_equal(k, "X");
    free(k), free(s);
    static const struct {
        const char *text;
        int line;
    } bad[] = {
        {"[default]\naws_access_key_id = A\n", 0},                          /* no secret */
        {"[other]\naws_access_key_id = A\naws_secret_access_key = B\n", 0}, /* no section */
        {"aws_access_key_id = A\n[default]\n", 1},                          /* before a section */
        {"[default]\naws_access_key_id = A\naws_access_key_id = B\naws_secret_access_key = C\n", 3},
        {"[default]\naws_access_key_id =\naws_secret_access_key = C\n", 2},
        {"[default]\naws_access_key_id = A B\naws_secret_access_key = C\n", 2},
        {"[default]\naws_access_key_id A\n", 2},
        {"[default\naws_access_key_id = A\n", 1},
        {"[]\n", 1},
        {"[default]\naws_access_key_id = A\x01\naws_secret_access_key = C\n", 2},
        {"[default]\naws_access_key_id = A\naws_secret_access_key = C\n[default]\n", 4},
        {"[default]\naws_access_key_id = A\naws_secret_access_key = C\r\r\n", 3},
        {"[x]\nfoo\n[default]\naws_access_key_id = A\naws_secret_access_key = C\n", 2},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        k = s = NULL;
        assert_int_equal(creds(bad[i].text, NULL, &line, &k, &s), -EBADMSG);
        assert_int_equal(line, bad[i].line);
        assert_null(k);
    }
    /* A NUL inside the file is a control character too. */
    const char nul[] = "[default]\naws_access_key_id = A\0B\naws_secret_access_key = C\n";
    assert_int_equal(bkp_s3_creds_parse(nul, sizeof(nul) - 1, NULL, &k, &s, &line), -EBADMSG);
    assert_int_equal(line, 2);
}

static void test_encode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(s3_encode("data/ab/c d+é~_.-", true, out, sizeof(out)), 0);
    assert_string_equal(out, "data/ab/c%20d%2B%C3%A9~_.-");
    assert_int_equal(s3_encode("a/b=c&d", false, out, sizeof(out)), 0);
    assert_string_equal(out, "a%2Fb%3Dc%26d");
    assert_int_equal(s3_encode("abcdef", true, out, 6), -ENAMETOOLONG);
}

/* bkp_s3_open refuses, before sending anything, what would be unsafe. */
static void test_open(void **state)
{
    (void)state;
    char top[64], box[128], outside[128], path[256];
    assert_int_equal(test_box("s3", top, box, outside), 0);
    chmod(top, 0700);
    snprintf(path, sizeof(path), "%s/creds", box);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    const char *text = "[default]\naws_access_key_id = A\naws_secret_access_key = B\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    bkp_s3_conf c = {.endpoint = "http://127.0.0.1:7480",
                     .bucket = "hospital-bkp",
                     .region = "us-east-1",
                     .credentials_file = path};
    bkp_s3 *s = NULL;
    bkp_log_set_sink(sink, NULL);
    assert_int_equal(bkp_s3_open(&c, &s), 0);
    bkp_s3_close(s);
    bkp_s3_close(NULL);
    c.endpoint = "https://s3.example.jp/";
    assert_int_equal(bkp_s3_open(&c, &s), 0);
    /* Keys a URL would not carry as they are: refused before sending. */
    static const char *bad_keys[] = {"a/../b", "..", "./x", "a/.", "a\nb", ""};
    bkp_s3_object o;
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++)
        assert_int_equal(bkp_s3_head(s, bad_keys[i], NULL, &o), -EINVAL);
    bkp_s3_close(s);
    /* Plain http beyond loopback, only with allow_http. */
    logbuf[0] = '\0';
    c.endpoint = "http://s3.example.jp";
    assert_int_equal(bkp_s3_open(&c, &s), -EINVAL);
    assert_non_null(strstr(logbuf, "use https://"));
    c.allow_http = true;
    assert_int_equal(bkp_s3_open(&c, &s), 0);
    bkp_s3_close(s);
    c.allow_http = false;
    static const char *bad_endpoints[] = {"ftp://x",        "https://user@host",
                                          "https://h/path", "https://h:99999999",
                                          "https://h?x=1",  "s3.example.jp"};
    for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
        c.endpoint = bad_endpoints[i];
        assert_int_equal(bkp_s3_open(&c, &s), -EINVAL);
    }
    c.endpoint = "https://s3.example.jp";
    c.bucket = "Hospital_Bkp";
    assert_int_equal(bkp_s3_open(&c, &s), -EINVAL);
    c.bucket = "hospital-bkp";
    /* A credentials file others may read is not used. */
    chmod(path, 0644);
    assert_int_equal(bkp_s3_open(&c, &s), -EPERM);
    chmod(path, 0600);
    /* A malformed one is reported with its line. */
    fd = open(path, O_WRONLY | O_TRUNC);
    text = "[default]\naws_access_key_id: A\naws_secret_access_key = B\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    logbuf[0] = '\0';
    assert_int_equal(bkp_s3_open(&c, &s), -EPERM);
    assert_non_null(strstr(logbuf, "creds:2:"));
    unlink(path);
    logbuf[0] = '\0';
    assert_int_equal(bkp_s3_open(&c, &s), -ENOENT);
    assert_non_null(strstr(logbuf, "mode 0600"));
    bkp_log_set_sink(NULL, NULL);
    test_rm_rf(top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),         cmocka_unit_test(test_error),
        cmocka_unit_test(test_list),         cmocka_unit_test(test_versions),
        cmocka_unit_test(test_lock_config),  cmocka_unit_test(test_versioning),
        cmocka_unit_test(test_refused_xml),  cmocka_unit_test(test_creds),
        cmocka_unit_test(test_encode),       cmocka_unit_test(test_open),
        cmocka_unit_test(test_real_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
