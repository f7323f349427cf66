/*
 * s3.h — a client for one bucket of an S3 object store with Object Lock.
 *
 * The HTTP is libcurl's, and so is the request signing (AWS Signature
 * Version 4, CURLOPT_AWS_SIGV4 with "aws:amz:REGION:s3"); this module adds
 * what S3 itself needs: the request for each operation, the headers of
 * Object Lock, Content-MD5 on every upload (the server refuses bytes that
 * arrive damaged, and its ETag — the MD5 of a single-part upload — is
 * compared with ours before an upload counts), bounded reads of the
 * server's XML answers, and errors turned into what the operator should do.
 *
 * Nothing the server says is trusted beyond its shape: every answer is size
 * limited, parsed strictly (no DTD, no entities, no network), and its keys
 * checked by the caller against the repository layout before use. The bytes
 * of the objects themselves are authenticated by the repository code that
 * reads them, never by this module.
 *
 * Credentials are an AWS shared-credentials file ([PROFILE] with
 * aws_access_key_id and aws_secret_access_key), trusted only as the
 * passphrase file is (trust.h, BKP_TRUST_SECRET).
 *
 * Errors: 0 or a negative errno, logged once here with what to do next:
 *   -ENOENT     no such object, version or bucket (not logged by head/get:
 *               the caller says what it was looking for)
 *   -EACCES     the server refused an operation on an object (403
 *               AccessDenied): for a delete of a locked version, what the
 *               caller hopes for; not logged by bkp_s3_delete
 *   -EPERM      the credentials are wrong or lack a permission
 *               (InvalidAccessKeyId, SignatureDoesNotMatch)
 *   -ETIME      the clocks differ too much (RequestTimeTooSkewed)
 *   -ENOSPC     the quota is full (QuotaExceeded)
 *   -EBADMSG    an answer that is not what S3 sends, or an ETag that is not
 *               the MD5 of what was sent
 *   -EIO        the network, or the server failed (5xx) after the retries
 *   -ENOTSUP    the bucket lacks versioning or Object Lock (bucket_check)
 *   -EINVAL     the server refused the request as malformed (400:
 *               InvalidRequest, InvalidArgument — e.g. a retention on a
 *               bucket without Object Lock, or a retain-until in the past);
 *               or a key no URL carries exactly (empty, over
 *               BKP_S3_KEY_MAX, a "." or ".." segment, a control
 *               character), refused before sending
 *   -EFBIG      a download larger than the caller's limit
 * Requests that may be repeated (all of them: an upload writes a new
 * version of immutable bytes) are retried on network errors, 5xx, SlowDown
 * and RequestTimeout, five attempts with a doubling pause from 250 ms
 * (about 4 s in all; a test build reads the first pause from
 * $BKP_S3_BACKOFF_MS), before -EIO. Every attempt has a deadline: below
 * 16 KiB/s for 30 s, or longer than 2 minutes plus its size at that rate,
 * it fails; two such timeouts end the request (-EIO).
 */
#ifndef BKP_S3_H
#define BKP_S3_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

/* One connection to one bucket; used by one thread at a time (open one per
 * thread for parallel transfers). */
typedef struct bkp_s3 bkp_s3;

typedef struct bkp_s3_conf {
    const char *endpoint;         /* "https://host[:port]" or "http://127.0.0.1:PORT" */
    const char *bucket;           /* an S3 bucket name (3–63 of a-z 0-9 . -) */
    const char *region;           /* "ap-northeast-1"; RGW accepts its zonegroup or "us-east-1" */
    const char *credentials_file; /* AWS shared-credentials format */
    const char *profile;          /* the section to use; NULL means "default" */
    /* Plain http is refused except to a loopback address (127.0.0.0/8,
     * [::1], localhost: a test gateway), unless this is set — for a closed
     * test network only; an endpoint a hospital uses is https. TLS
     * certificates are always verified. */
    bool allow_http;
    unsigned page_size; /* max-keys of a listing page; 0: the server's (1000) */
} bkp_s3_conf;

typedef enum { BKP_S3_LOCK_NONE, BKP_S3_LOCK_GOVERNANCE, BKP_S3_LOCK_COMPLIANCE } bkp_s3_lock;

/* Longest object key, version id and ETag kept. */
#define BKP_S3_KEY_MAX 1024
#define BKP_S3_VERSION_MAX 256

/* What the server says of one object version (HEAD or a listing). */
typedef struct bkp_s3_object {
    char key[BKP_S3_KEY_MAX + 1];
    char version_id[BKP_S3_VERSION_MAX + 1]; /* "" when the answer had none */
    uint64_t size;
    char etag[65];       /* without quotes */
    time_t mtime;        /* Last-Modified */
    bkp_s3_lock mode;    /* of its retention; NONE when it has none */
    time_t retain_until; /* 0 when it has none */
    bool latest;         /* listings of versions: is the current version */
    bool delete_marker;  /* listings of versions */
} bkp_s3_object;

/* Read the credentials (trust-checked) and prepare a connection: 0, or
 * -EPERM (untrusted or malformed credentials file, logged with file:line and
 * the fix), -ENOENT (no credentials file, logged), -EINVAL (a bad endpoint,
 * bucket or region name, or http:// to a host that is not loopback without
 * allow_http; logged). Nothing is sent. `conf` is copied: borrowed only
 * during the call. bkp_s3_close(NULL) is a no-op. */
int bkp_s3_open(const bkp_s3_conf *conf, bkp_s3 **out) __attribute__((warn_unused_result));
void bkp_s3_close(bkp_s3 *s);

/* Parse a shared-credentials file's `len` bytes for section `profile`:
 * 0 with the key id and secret (malloc'd), or -EBADMSG with `*line` the line
 * at fault (0: the section or a key is missing). Unknown keys (region,
 * aws_session_token, …) are ignored; a key given twice in the section,
 * empty values or control characters are not. Nothing is logged. */
int bkp_s3_creds_parse(const char *buf, size_t len, const char *profile, char **key_id,
                       char **secret, int *line);

/* How the bucket is set up: versioning enabled, Object Lock enabled, and its
 * default retention (mode NONE and 0 days when it has none). -ENOTSUP (logged
 * with how to create a bucket that has both) when versioning or Object Lock
 * is missing; -ENOENT (logged) when there is no such bucket. */
typedef struct bkp_s3_bucket_info {
    bool versioning, object_lock;
    bkp_s3_lock default_mode;
    unsigned default_days;
} bkp_s3_bucket_info;
int bkp_s3_bucket_check(bkp_s3 *s, bkp_s3_bucket_info *info) __attribute__((warn_unused_result));

/* Upload `len` bytes from `fd` at offset 0 (a regular file, read with pread)
 * or from `buf` (when fd < 0) as object `key`, with retention (`mode`,
 * `retain_until`) unless mode is NONE. Sends Content-MD5; compares the
 * returned ETag with the MD5. `version_id` (may be NULL) receives the new
 * version's id. */
int bkp_s3_put(bkp_s3 *s, const char *key, int fd, const void *buf, uint64_t len, bkp_s3_lock mode,
               time_t retain_until, char version_id[BKP_S3_VERSION_MAX + 1])
    __attribute__((warn_unused_result));

/* The MD5 of `len` bytes from `fd` (pread from offset 0) or `buf`, as
 * lower-case hex: what the ETag of a single-part upload of them is. */
int bkp_s3_md5(int fd, const void *buf, uint64_t len, char hex[33])
    __attribute__((warn_unused_result));
/* HEAD of `key` (its current version, or `version_id` when not NULL): size,
 * ETag, retention. -ENOENT when absent or when the current version is a
 * delete marker. */
int bkp_s3_head(bkp_s3 *s, const char *key, const char *version_id, bkp_s3_object *out)
    __attribute__((warn_unused_result));

/* GET of `key` (current version, or `version_id`) into `fd` (written from
 * its current offset), at most `max` bytes: -EFBIG (logged) when the object
 * is larger. `*len` (may be NULL) receives the size written. An attempt that
 * fails part way is retried after truncating `fd` back to that offset (a
 * file that cannot seek is not retried). -ENOENT is not logged. */
int bkp_s3_get_fd(bkp_s3 *s, const char *key, const char *version_id, int fd, uint64_t max,
                  uint64_t *len) __attribute__((warn_unused_result));

/* The same into a buffer (malloc'd, `*len` bytes, NUL-terminated beyond). */
int bkp_s3_get(bkp_s3 *s, const char *key, const char *version_id, size_t max, void **buf,
               size_t *len) __attribute__((warn_unused_result));

/* Call `fn` for every current object whose key starts with `prefix`, in key
 * order (ListObjectsV2, every page); a non-zero return from `fn` stops the
 * listing and is returned. Retention is not in a listing: mode NONE. */
int bkp_s3_list(bkp_s3 *s, const char *prefix, int (*fn)(const bkp_s3_object *o, void *ctx),
                void *ctx) __attribute__((warn_unused_result));

/* The same for every version and delete marker (ListObjectVersions). */
int bkp_s3_list_versions(bkp_s3 *s, const char *prefix,
                         int (*fn)(const bkp_s3_object *o, void *ctx), void *ctx)
    __attribute__((warn_unused_result));

/* Set the retention of a version to (`mode`, `until`): extending is always
 * allowed; shortening a COMPLIANCE retention is refused by the server
 * (-EACCES, not logged: the caller says what the refusal means). `bypass`
 * sends the governance bypass header, which turning a GOVERNANCE retention
 * into COMPLIANCE needs (it never loosens a COMPLIANCE one). */
int bkp_s3_retain(bkp_s3 *s, const char *key, const char *version_id, bkp_s3_lock mode,
                  time_t until, bool bypass) __attribute__((warn_unused_result));

/* DELETE a version (`version_id` not NULL) or the current object (adds a
 * delete marker), with the governance bypass header when `bypass`: -EACCES
 * when the server refuses (not logged: a refusal is what a lock should do). */
int bkp_s3_delete(bkp_s3 *s, const char *key, const char *version_id, bool bypass)
    __attribute__((warn_unused_result));

/* ---- the parsers of the server's answers (bytes, for tests and fuzzing) ---- */

/* An <Error> body: its Code and Message (truncated to the buffers). */
int bkp_s3_parse_error(const char *xml, size_t len, char code[64], char message[256]);

/* A ListBucketResult or ListVersionsResult page: `fn` per object or
 * version; `next` (size BKP_S3_KEY_MAX + 1, "" when the listing is
 * complete) the continuation token, or the next key marker, and
 * `next_version` the next version-id marker (NULL for ListObjectsV2).
 * -EBADMSG on anything not of that shape. */
int bkp_s3_parse_list(const char *xml, size_t len, bool versions,
                      int (*fn)(const bkp_s3_object *o, void *ctx), void *ctx, char *next,
                      char *next_version);

/* VersioningConfiguration, ObjectLockConfiguration. */
int bkp_s3_parse_versioning(const char *xml, size_t len, bool *enabled);
int bkp_s3_parse_lock_config(const char *xml, size_t len, bool *enabled, bkp_s3_lock *mode,
                             unsigned *days);

/* "2026-11-23T20:40:00Z" (ISO 8601, UTC) <-> time_t; parse returns -EINVAL. */
void bkp_s3_format_time(time_t t, char out[32]);
int bkp_s3_parse_time(const char *s, time_t *out);

#endif
