/*
 * s3_internal.h — what the parts of the S3 client share (s3.c, s3_ops.c,
 * s3_xml.c, s3_creds.c); not for other modules.
 */
#ifndef BKP_S3_INTERNAL_H
#define BKP_S3_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bkp/s3/s3.h"

/* libcurl and libxml2, loaded at the first use of a bucket (s3_lib.c): the
 * functions the client calls, by their names there. */
typedef struct s3_lib {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode cc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    time_t (*getdate)(const char *s, const time_t *unused);
    void (*init_parser)(void);
    xmlDocPtr (*read_memory)(const char *buf, int size, const char *url, const char *enc,
                             int options);
    xmlNodePtr (*doc_root)(const xmlDoc *doc);
    void (*free_doc)(xmlDocPtr doc);
    xmlChar *(*node_content)(const xmlNode *n);
    void (*set_generic_error)(void *ctx, xmlGenericErrorFunc fn);
    void (*set_structured_error)(void *ctx, xmlStructuredErrorFunc fn);
    xmlFreeFunc free;
} s3_lib;
/* Valid once s3_lib_load returned 0. */
extern const s3_lib *s3l;
/* Load them, once per process: 0, or -ENOSYS (said: what to install). */
int s3_lib_load(void);

/* The largest XML answer read: a page of 1000 keys or versions is a few
 * hundred KiB; anything much larger is not an answer S3 sends. */
#define S3_XML_MAX (4u << 20)

struct bkp_s3 {
    CURL *curl;
    char *endpoint; /* without a trailing '/' */
    char *bucket, *region;
    char *key_id, *secret; /* the secret is wiped on close */
    char sigv4[96];        /* "aws:amz:REGION:s3" */
    unsigned page_size;    /* max-keys of a listing; 0: the server's default */
    unsigned backoff_ms;   /* first pause between attempts; doubles each time */
    unsigned attempts;     /* tries of one request before giving up */
};

/* One request and its answer. The caller fills the first part; s3_perform
 * fills the rest. */
typedef struct s3_req {
    const char *method;         /* "GET", "PUT", "HEAD" or "DELETE" */
    const char *key;            /* NULL: the bucket itself */
    const char *query;          /* sorted, encoded ("versionId=abc"), or NULL */
    /* For messages only, in the reader's language: "upload of data/ab/cd".
     * What programs read names the request by `method` and the server's
     * `code`, which stay English. */
    const char *what;
    struct curl_slist *headers; /* extra request headers, borrowed */
    unsigned quiet;             /* S3_QUIET_* bits: errors the caller reports itself */
    /* Body of a PUT: `in_len` bytes from `in_fd` (pread) or `in_buf`. */
    int in_fd;
    const void *in_buf;
    uint64_t in_len;
    /* A 2xx answer's body goes to `out_fd` (at most `out_max` bytes) when
     * out_fd >= 0, else to `body` (at most `body_max` bytes). Error answers
     * always go to `body`. */
    int out_fd;
    uint64_t out_max;
    size_t body_max;
    /* The answer. */
    char *body; /* malloc'd, NUL-terminated; owned by the caller (s3_req_done) */
    size_t body_len;
    long status;
    uint64_t written; /* bytes of a 2xx answer delivered to out_fd or body */
    bool too_big;
    char etag[80], version_id[BKP_S3_VERSION_MAX + 1];
    char lock_mode[32], retain_until[64], last_modified[64];
    uint64_t content_length;
    bool has_length, delete_marker;
    bool bad_header; /* a header too long to be S3's */
    char code[64], message[256];
} s3_req;

enum { S3_QUIET_ENOENT = 1, S3_QUIET_EACCES = 2 };

/* How long an attempt may take (s3_http.c): slower than S3_SPEED_FLOOR
 * bytes a second over S3_SPEED_WINDOW seconds fails it, and so does taking
 * longer than S3_DEADLINE_BASE seconds plus what it moves at the floor;
 * S3_TIMEOUT_TRIES timed-out attempts end the request (-EIO). */
#define S3_SPEED_FLOOR 16384
#define S3_SPEED_WINDOW 30
#define S3_DEADLINE_BASE 120
#define S3_TIMEOUT_TRIES 2

/* A request ready to fill: no body, answer to memory (up to S3_XML_MAX). */
void s3_req_init(s3_req *r, const char *method, const char *key, const char *what);
void s3_req_done(s3_req *r);

/* Send `r` (retrying as s3.h says): 0 on a 2xx answer, else the errno of
 * s3_errno, logged once unless quiet for it. */
int s3_perform(bkp_s3 *s, s3_req *r);

/* The errno for an HTTP status and S3 error code (s3.h's list). */
int s3_errno(long status, const char *code, const char *method);

/* Percent-encode `in` as S3 wants (every byte but A-Z a-z 0-9 - . _ ~, and
 * '/' too when `keep_slash`) into `out` of `cap` bytes: 0 or -ENAMETOOLONG. */
int s3_encode(const char *in, bool keep_slash, char *out, size_t cap);

/* Lowercase hex of `n` bytes into `out` (2n + 1 bytes). */
void s3_hex(const unsigned char *in, size_t n, char *out);

/* Read and check the credentials file (trust.h, then bkp_s3_creds_parse):
 * 0 with malloc'd key id and secret, else logged, -EPERM or -ENOENT. */
int s3_creds_load(const char *path, const char *profile, char **key_id, char **secret);

/* "GOVERNANCE"/"COMPLIANCE" <-> bkp_s3_lock; parse returns -EBADMSG. */
const char *s3_lock_name(bkp_s3_lock mode);
int s3_lock_parse(const char *s, bkp_s3_lock *mode);

#endif
