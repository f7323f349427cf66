#include "bkp/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/generation.h"
#include "bkp/log.h"

static char *command_line;

void bkp_audit_set_command(int argc, char **argv)
{
    bkp_buf b;
    bkp_buf_init(&b);
    for (int i = 0; i < argc; i++) {
        if (i)
            bkp_buf_u8(&b, ' ');
        bkp_buf_put(&b, argv[i], strlen(argv[i]));
    }
    bkp_buf_u8(&b, 0);
    free(command_line);
    command_line = b.failed ? NULL : (char *)b.data;
}

char *bkp_audit_path(const bkp_repo *r)
{
    return bkp_repo_subpath(r, "audit/log.jsonl");
}

/* The signed bytes: the record's JSON without "sig", compact, sorted keys. */
static char *signed_text(json_t *rec)
{
    json_t *copy = json_copy(rec);
    json_object_del(copy, "sig");
    char *t = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    return t;
}

/* The last complete line of `fd` (of `size` bytes): its seq and hash. A torn
 * tail (a crash mid-append) is cut off and reported in `*torn`. */
static int last_line(int fd, uint64_t size, uint64_t *seq, uint8_t hash[32], bool *have,
                     bool *torn)
{
    *have = *torn = false;
    *seq = 0;
    if (!size)
        return 0;
    size_t want = size < (1 << 20) ? (size_t)size : (1 << 20);
    char *buf = malloc(want + 1);
    if (!buf)
        return -ENOMEM;
    int rc = bkp_pread_full(fd, buf, want, size - want);
    if (rc) {
        free(buf);
        return rc;
    }
    size_t end = want;
    if (buf[end - 1] != '\n') {
        /* torn: cut back to the last newline */
        while (end && buf[end - 1] != '\n')
            end--;
        if (ftruncate(fd, (off_t)(size - want + end)) < 0 || fsync(fd) < 0) {
            free(buf);
            return -errno;
        }
        *torn = true;
    }
    if (!end) {
        free(buf);
        return 0;
    }
    size_t start = end - 1;
    while (start && buf[start - 1] != '\n')
        start--;
    crypto_generichash(hash, 32, (const uint8_t *)buf + start, end - 1 - start, NULL, 0);
    json_t *j = json_loadb(buf + start, end - 1 - start, 0, NULL);
    *seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
    *have = true;
    json_decref(j);
    free(buf);
    return 0;
}

int bkp_audit_append(bkp_repo *r, const bkp_audit_rec *rec)
{
    char *dir = bkp_repo_subpath(r, "audit");
    char *path = bkp_audit_path(r);
    char hex[65], when[32], host[256] = "", sighex[129];
    uint8_t prev[32], sig[64];
    uint64_t seq;
    bool have, torn;
    json_t *j = NULL;
    char *text = NULL, *line = NULL;
    int fd = -1, rc;
    if (!dir || !path) {
        rc = -ENOMEM;
        goto out;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    /* One writer at a time: the chain never forks, lines never interleave. */
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        rc = -errno;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if ((rc = last_line(fd, (uint64_t)st.st_size, &seq, prev, &have, &torn)))
        goto out;
    time_t now = bkp_now();
    struct tm lt;
    localtime_r(&now, &lt);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof(host) - 1);
    struct passwd *pw = getpwuid(getuid());
    if (have)
        bkp_hex(hex, prev, 32);
    j = json_pack("{s:I, s:s, s:I, s:o, s:I, s:s, s:o, s:s, s:s, s:o, s:O}", "seq",
                  (json_int_t)(seq + 1), "time", when, "offset", (json_int_t)lt.tm_gmtoff, "host",
                  bkp_json_bytes(host), "uid", (json_int_t)getuid(), "user",
                  pw ? pw->pw_name : "?", "command", bkp_json_bytes(command_line ? command_line : "?"),
                  "op", rec->op, "outcome", rec->failed ? "failed" : "ok", "prev",
                  have ? json_string(hex) : json_null(), "figures",
                  rec->figures ? rec->figures : json_object());
    if (j && !rec->figures)
        json_decref(json_object_get(j, "figures")); /* "O" took a second reference */
    if (!j) {
        rc = -ENOMEM;
        goto out;
    }
    if (rec->dataset)
        json_object_set_new(j, "dataset", json_string(rec->dataset));
    if (rec->generation)
        json_object_set_new(j, "generation", json_string(rec->generation));
    if (rec->medium)
        json_object_set_new(j, "medium", json_string(rec->medium));
    if (rec->error)
        json_object_set_new(j, "error", bkp_json_bytes(rec->error));
    if (torn)
        json_object_set_new(j, "recovered", json_string("a torn record at the end was cut off"));
    if (!(text = signed_text(j))) {
        rc = -ENOMEM;
        goto out;
    }
    bkp_keys_sign(bkp_repo_keys(r), sig, text, strlen(text));
    bkp_hex(sighex, sig, 64);
    json_object_set_new(j, "sig", json_string(sighex));
    line = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!line) {
        rc = -ENOMEM;
        goto out;
    }
    size_t len = strlen(line);
    line[len] = '\n'; /* json_dumps leaves room only for the NUL: it becomes the newline */
    /* One write of the whole line, then fsync before anyone reports success. */
    rc = bkp_write_full(fd, line, len + 1);
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    if (!rc && !have)
        rc = bkp_fsync_dir(dir);
out:
    if (rc)
        bkp_error("cannot append to the audit log %s: %s; what was done is not recorded",
                  path ? path : "audit/log.jsonl", bkp_strerror(rc));
    json_decref(j);
    free(text);
    free(line);
    if (fd >= 0)
        close(fd);
    free(dir);
    free(path);
    return rc;
}

/* A log, or its copy on a medium, is read whole: bounded by the format, so
 * that a forged copy costs no more than a real log. A record is a few
 * hundred bytes; 256 MiB is several years of hourly records of ten data
 * sets. A record line is at most 64 KiB, so parsing one stays cheap, and
 * there are at most LOG_MAX / 64 lines, which bounds the line table. */
#define LOG_MAX (256ULL << 20)
#define LINE_MAX_LEN (64U << 10)

/* Read a whole log into lines (pointers into `buf`). */
static int read_lines(const char *path, bkp_buf *buf, char ***lines, size_t *n, bool *torn)
{
    int rc = bkp_read_file(path, buf, LOG_MAX);
    *lines = NULL;
    *n = 0;
    *torn = false;
    if (rc == -EFBIG)
        bkp_error("%s is larger than an audit log can be (%llu MiB): not read; it was not "
                  "written by bkp",
                  path, LOG_MAX >> 20);
    if (rc)
        return rc;
    bkp_buf_u8(buf, 0);
    if (buf->failed)
        return -ENOMEM;
    size_t cap = 0;
    char *p = (char *)buf->data, *end = p + buf->len - 1;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if ((nl ? (size_t)(nl - p) : (size_t)(end - p)) > LINE_MAX_LEN ||
            *n >= LOG_MAX / 64) {
            bkp_error("%s holds a line of more than %u KiB, or more lines than a log of its "
                      "size can: not read; it was not written by bkp",
                      path, LINE_MAX_LEN >> 10);
            free(*lines);
            *lines = NULL;
            *n = 0;
            return -EBADMSG;
        }
        if (!nl) {
            *torn = true;
            break;
        }
        *nl = '\0';
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            char **v = realloc(*lines, cap * sizeof(*v));
            if (!v)
                return -ENOMEM;
            *lines = v;
        }
        (*lines)[(*n)++] = p;
        p = nl + 1;
    }
    return 0;
}

/* The problem with line `i` of the chain, or NULL when it is sound. */
static const char *check_line(const char *line, uint64_t i, const uint8_t *prev_hash,
                              const uint8_t pk[32])
{
    json_t *j = json_loads(line, 0, NULL);
    const char *why = NULL;
    uint8_t sig[64], prev[32];
    const char *sighex = json_string_value(json_object_get(j, "sig"));
    json_t *pv = json_object_get(j, "prev");
    char *text = j ? signed_text(j) : NULL;
    if (!j)
        why = "is not valid JSON";
    else if ((uint64_t)json_integer_value(json_object_get(j, "seq")) != i)
        why = "has the wrong sequence number (records were removed, added or reordered)";
    else if (prev_hash ? (!json_is_string(pv) || bkp_unhex(prev, 32, json_string_value(pv)) ||
                          memcmp(prev, prev_hash, 32))
                       : !json_is_null(pv))
        why = "does not chain to the record before it (that record was changed or removed)";
    else if (!sighex || bkp_unhex(sig, 64, sighex) || !text ||
             bkp_sig_verify(pk, sig, text, strlen(text)))
        why = "is not signed by this repository's key (edited or forged)";
    /* A line that verifies but is not in the canonical form was rewritten. */
    if (!why) {
        char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!canon || strcmp(canon, line) != 0)
            why = "is not in the form it was written in (edited)";
        free(canon);
    }
    free(text);
    json_decref(j);
    return why;
}

/* How far a record's time may lie before an earlier one's (NTP steps). */
#define TIME_TOLERANCE 300

/* The time of a log line, or -1. */
static time_t line_time(const char *line)
{
    json_t *j = json_loads(line, 0, NULL);
    time_t t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
    json_decref(j);
    return t;
}

/* The first record of `la` (all sound) dated more than TIME_TOLERANCE before
 * the latest time of the records before it, described into `out`: the clock
 * was set back while the log was written, or the log was made up by someone
 * holding the key. 0 when none. */
static uint64_t time_backwards(char **la, size_t na, bkp_audit_check *out)
{
    time_t latest = -1;
    uint64_t at = 0;
    for (size_t i = 0; i < na; i++) {
        time_t t = line_time(la[i]);
        if (t < 0)
            continue;
        if (latest >= 0 && t < latest - TIME_TOLERANCE) {
            char a[32], b[32];
            bkp_iso_time(a, sizeof(a), t);
            bkp_iso_time(b, sizeof(b), latest);
            snprintf(out->problem, sizeof(out->problem),
                     "record %zu is dated %s, before %s of an earlier record: times go backwards "
                     "(the clock was set back, or records were written with a false time)",
                     i + 1, a, b);
            at = i + 1;
            break;
        }
        if (t > latest)
            latest = t;
    }
    return at;
}

int bkp_audit_verify(const char *path, const uint8_t pk[32], const char *against,
                     bkp_audit_check *out)
{
    bkp_buf a, b;
    char **la = NULL, **lb = NULL;
    size_t na = 0, nb = 0;
    bool torn = false, torn_b = false;
    uint8_t hash[32];
    int rc;
    memset(out, 0, sizeof(*out));
    bkp_buf_init(&a);
    bkp_buf_init(&b);
    if ((rc = read_lines(path, &a, &la, &na, &torn)))
        goto done;
    out->records = na;
    for (size_t i = 0; i < na && !out->first_bad; i++) {
        const char *why = check_line(la[i], i + 1, i ? hash : NULL, pk);
        if (why) {
            out->first_bad = i + 1;
            snprintf(out->problem, sizeof(out->problem), "record %zu %s", i + 1, why);
        }
        crypto_generichash(hash, 32, (const uint8_t *)la[i], strlen(la[i]), NULL, 0);
    }
    if (!out->first_bad && torn)
        snprintf(out->problem, sizeof(out->problem),
                 "the log ends in a torn record after record %zu (a crash while writing)", na);
    if (!out->first_bad && against) {
        if ((rc = read_lines(against, &b, &lb, &nb, &torn_b)))
            goto done;
        size_t common = na < nb ? na : nb;
        for (size_t i = 0; i < common; i++)
            if (strcmp(la[i], lb[i]) != 0) {
                out->first_bad = i + 1;
                snprintf(out->problem, sizeof(out->problem),
                         "record %zu differs from the copy %s: one of the two logs was rewritten "
                         "from there on",
                         i + 1, against);
                break;
            }
        if (!out->first_bad && nb > na) {
            out->missing = nb - na;
            snprintf(out->problem, sizeof(out->problem),
                     "records %zu to %zu are missing at the end (the copy %s has them): this log "
                     "was cut short",
                     na + 1, nb, against);
        }
    }
    /* Authentic records whose times go backwards are a problem too; they
     * are named only when nothing worse was found. */
    uint64_t back = !out->first_bad && !out->missing && !torn ? time_backwards(la, na, out) : 0;
    rc = out->first_bad || out->missing || torn || back ? 1 : 0;
done:
    free(la);
    free(lb);
    bkp_buf_free(&a);
    bkp_buf_free(&b);
    return rc;
}

int bkp_audit_each(const char *path, int (*fn)(json_t *rec, void *ctx), void *ctx)
{
    bkp_buf buf;
    char **lines = NULL;
    size_t n = 0;
    bool torn;
    bkp_buf_init(&buf);
    int rc = read_lines(path, &buf, &lines, &n, &torn);
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *j = json_loads(lines[i], 0, NULL);
        if (j)
            rc = fn(j, ctx);
        json_decref(j);
    }
    free(lines);
    bkp_buf_free(&buf);
    return rc;
}
