/*
 * audit_read.c — reading the audit log (audit.h): each record in order, the
 * last that matches a query, and the check of the whole log (chain,
 * signatures, head marker, a copy, times). A problem found is described
 * twice: in English for what programs read (--json, the records of the log)
 * and in the reader's language for people (bkp_audit_check.problem_local).
 */
#include "bkp/audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/audit_internal.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"

/* A log, or its copy on a medium, is read whole: bounded by the format, so
 * that a forged copy costs no more than a real log. A record is a few
 * hundred bytes; 256 MiB is several years of hourly records of ten data
 * sets. A record line is at most 64 KiB, so parsing one stays cheap, and
 * there are at most LOG_MAX / 64 lines, which bounds the line table. */
#define LOG_MAX BKP_AUDIT_LOG_MAX
#define LINE_MAX_LEN (64U << 10)

/* Read a whole log into lines (pointers into `buf`). */
static int read_lines(const char *path, bkp_buf *buf, char ***lines, size_t *n, bool *torn)
{
    int rc = bkp_read_file(path, buf, LOG_MAX);
    *lines = NULL;
    *n = 0;
    *torn = false;
    if (rc == -EFBIG)
        bkp_error(_("%s is larger than an audit log can be (%llu MiB): not read; it was not "
                    "written by bkp"),
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
        if ((nl ? (size_t)(nl - p) : (size_t)(end - p)) > LINE_MAX_LEN || *n >= LOG_MAX / 64) {
            bkp_error(_("%s holds a line of more than %u KiB, or more lines than a log of its "
                        "size can: not read; it was not written by bkp"),
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

const char *bkp_audit_check_line(const char *line, uint64_t i, const uint8_t *prev_hash,
                                 const uint8_t pk[32])
{
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    const char *why = NULL;
    uint8_t sig[64], prev[32];
    const char *sighex = json_string_value(json_object_get(j, "sig"));
    json_t *pv = json_object_get(j, "prev");
    char *text = j ? bkp_audit_signed_text(j) : NULL;
    if (!json_is_object(j))
        why = N_("record %llu is not valid JSON");
    else if (!json_is_string(json_object_get(j, "op")) ||
             !json_is_string(json_object_get(j, "time")))
        why = N_("record %llu is not an audit record (no op or time)");
    else if ((uint64_t)json_integer_value(json_object_get(j, "seq")) != i)
        why = N_("record %llu has the wrong sequence number (records were removed, added or "
                 "reordered)");
    else if (prev_hash ? (!json_is_string(pv) || bkp_unhex(prev, 32, json_string_value(pv)) ||
                          memcmp(prev, prev_hash, 32))
                       : !json_is_null(pv))
        why = N_("record %llu does not chain to the record before it (that record was changed "
                 "or removed)");
    else if (!sighex || bkp_unhex(sig, 64, sighex) || !text ||
             bkp_sig_verify(pk, sig, text, strlen(text)))
        why = N_("record %llu is not signed by this repository's key (edited or forged)");
    /* A line that verifies but is not in the canonical form was rewritten. */
    if (!why) {
        char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!canon || strcmp(canon, line) != 0)
            why = N_("record %llu is not in the form it was written in (edited)");
        free(canon);
    }
    free(text);
    json_decref(j);
    return why;
}

/* Describe the problem in `out` twice: `fmt` (English, marked N_) for
 * programs, and its translation for people. */
static void vsay(bkp_audit_check *out, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    vsnprintf(out->problem, sizeof(out->problem), fmt, ap);
    vsnprintf(out->problem_local, sizeof(out->problem_local), _(fmt), again);
    va_end(again);
}

static void __attribute__((format(printf, 2, 3))) say(bkp_audit_check *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(out, fmt, ap);
    va_end(ap);
}

/* The same with one of bkp_audit_check_line's formats (not a literal here),
 * whose one argument is the record's number as unsigned long long. */
static void say_record(bkp_audit_check *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(out, fmt, ap);
    va_end(ap);
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
            say(out,
                N_("record %zu is dated %s, before %s of an earlier record: times go backwards "
                   "(the clock was set back, or records were written with a false time)"),
                i + 1, a, b);
            at = i + 1;
            break;
        }
        if (t > latest)
            latest = t;
    }
    return at;
}

/* Check the end of the log (lines `l`, `n` of them) against its head marker
 * beside `path`; describe a loss in `out`. */
static void check_head(const char *path, const uint8_t pk[32], char **l, size_t n,
                       bkp_audit_check *out)
{
    char *hpath = bkp_audit_head_path(path);
    uint8_t at[32];
    bkp_audit_head h = {0};
    if (!hpath)
        return;
    int hrc = bkp_audit_head_read(hpath, pk, &h);
    uint64_t hseq = h.seq;
    if (hrc == -ENOENT && !n && out->absent) {
        say(out, N_("the log is missing and so is its head marker: every repository has a log "
                    "from `bkp init` on, so it was deleted; `bkp audit restart REASON` continues "
                    "with a signed record of the loss"));
    } else if (hrc == -ENOENT) {
        say(out,
            N_("its head marker %s is missing, so records removed from its end would not show "
               "(deleted?); `bkp audit restart REASON` records this and writes a new marker"),
            hpath);
        out->head_bad = true;
    } else if (hrc) {
        /* The cause in English for programs, in the reader's words for people. */
        snprintf(out->problem, sizeof(out->problem),
                 "its head marker %s is damaged or not signed by this repository (%s)", hpath,
                 bkp_strerror_en(hrc));
        snprintf(out->problem_local, sizeof(out->problem_local),
                 _("its head marker %s is damaged or not signed by this repository (%s)"), hpath,
                 bkp_strerror(hrc));
        out->head_bad = true;
    } else if (hseq > n) {
        out->missing = hseq - n;
        say(out,
            out->absent ? N_("the log is missing: records %zu to %llu are missing at the end (its "
                             "signed head marker says the log reached record %llu): the log was "
                             "deleted; `bkp audit restart REASON` records the loss and continues")
            : n ? N_("the log was cut short: records %zu to %llu are missing at the end (its "
                     "signed head marker says the log reached record %llu): the log was "
                     "shortened; `bkp audit restart REASON` records the loss and continues")
                : N_("the log is empty: records %zu to %llu are missing at the end (its signed "
                     "head marker says the log reached record %llu): the log was emptied; `bkp "
                     "audit restart REASON` records the loss and continues"),
            n + 1, (unsigned long long)hseq, (unsigned long long)hseq);
    } else {
        crypto_generichash(at, 32, (const uint8_t *)l[hseq - 1], strlen(l[hseq - 1]), NULL, 0);
        if (memcmp(at, h.record, 32)) {
            out->first_bad = hseq;
            say(out,
                N_("record %llu is not the one its signed head marker names: the log was "
                   "rewritten from there on"),
                (unsigned long long)hseq);
        }
    }
    free(hpath);
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
    rc = read_lines(path, &a, &la, &na, &torn);
    if (rc == -ENOENT) {
        out->absent = true; /* a loss to report, not a failure to read */
        rc = 0;
    }
    if (rc)
        goto done;
    out->records = na;
    for (size_t i = 0; i < na && !out->first_bad; i++) {
        const char *why = bkp_audit_check_line(la[i], i + 1, i ? hash : NULL, pk);
        if (why) {
            out->first_bad = i + 1;
            say_record(out, why, (unsigned long long)(i + 1));
            break;
        }
        json_t *j = json_loads(la[i], 0, NULL);
        const char *op = json_string_value(json_object_get(j, "op"));
        if (op && !strcmp(op, "log_restarted")) {
            out->restarts++;
            out->restart_seq = i + 1;
        }
        json_decref(j);
        crypto_generichash(hash, 32, (const uint8_t *)la[i], strlen(la[i]), NULL, 0);
    }
    if (!out->first_bad)
        check_head(path, pk, la, na, out);
    if (!*out->problem && out->absent)
        say(out, N_("the log is missing"));
    if (!*out->problem && torn)
        say(out, N_("the log ends in a torn record after record %zu (a crash while writing)"), na);
    if (!out->first_bad && !out->missing && !out->absent && against) {
        if ((rc = read_lines(against, &b, &lb, &nb, &torn_b)))
            goto done;
        size_t common = na < nb ? na : nb;
        for (size_t i = 0; i < common; i++)
            if (strcmp(la[i], lb[i]) != 0) {
                out->first_bad = i + 1;
                say(out,
                    N_("record %zu differs from the copy %s: one of the two logs was rewritten "
                       "from there on"),
                    i + 1, against);
                break;
            }
        if (!out->first_bad && nb > na) {
            out->missing = nb - na;
            say(out,
                N_("records %zu to %zu are missing at the end (the copy %s has them): this log "
                   "was cut short"),
                na + 1, nb, against);
        }
    }
    /* Authentic records whose times go backwards are a problem too; they
     * are named only when nothing worse was found. */
    uint64_t back = !*out->problem && !torn ? time_backwards(la, na, out) : 0;
    rc = out->first_bad || out->missing || out->absent || out->head_bad || torn || back ? 1 : 0;
    char *own = bkp_audit_head_path(path); /* a repository's own log, not a copy of one */
    if (own && (out->first_bad || out->missing || out->absent || out->head_bad))
        bkp_audit_lost_reported(); /* the caller reports it, with what it found */
    free(own);
done:
    free(la);
    free(lb);
    bkp_buf_free(&a);
    bkp_buf_free(&b);
    return rc;
}

/* Is line `line`, record `i`, sound by itself under `pk`: in its place
 * (its seq), signed, in the form it was written in? Its link to the record
 * before is taken as it claims: a record changed before it does not make
 * it less authentic. */
static bool signed_in_place(const char *line, const json_t *j, uint64_t i, const uint8_t pk[32])
{
    const char *pv = json_string_value(json_object_get(j, "prev"));
    uint8_t prev[32];
    if (pv && bkp_unhex(prev, 32, pv))
        return false;
    return !bkp_audit_check_line(line, i, pv ? prev : NULL, pk);
}

/* Each record of the log to `fn`; with `pk`, only those signed in place. */
static int each(const char *path, const uint8_t *pk, int (*fn)(json_t *rec, void *ctx), void *ctx)
{
    bkp_buf buf;
    char **lines = NULL;
    size_t n = 0;
    bool torn;
    bkp_buf_init(&buf);
    int rc = read_lines(path, &buf, &lines, &n, &torn);
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *j = json_loads(lines[i], 0, NULL);
        if (j && (!pk || signed_in_place(lines[i], j, i + 1, pk)))
            rc = fn(j, ctx);
        json_decref(j);
    }
    free(lines);
    bkp_buf_free(&buf);
    return rc;
}

int bkp_audit_each(const char *path, int (*fn)(json_t *rec, void *ctx), void *ctx)
{
    return each(path, NULL, fn, ctx);
}

int bkp_audit_each_sound(const char *path, const uint8_t pk[32], int (*fn)(json_t *rec, void *ctx),
                         void *ctx, bkp_audit_check *chk)
{
    bkp_audit_check own;
    bkp_audit_check *c = chk ? chk : &own;
    memset(c, 0, sizeof(*c));
    int rc = bkp_audit_verify(path, pk, NULL, c);
    if (rc < 0 || c->absent)
        return rc < 0 ? rc : -ENOENT;
    int e = each(path, pk, fn, ctx);
    return e ? e : rc;
}

typedef struct last_ctx {
    const bkp_audit_query *q;
    json_t *found;
} last_ctx;

static bool str_is(json_t *j, const char *want)
{
    const char *s = json_string_value(j);
    return s && !strcmp(s, want);
}

static int keep_last(json_t *rec, void *ctx)
{
    last_ctx *l = ctx;
    const bkp_audit_query *q = l->q;
    json_t *fig = q->figure ? json_object_get(json_object_get(rec, "figures"), q->figure) : NULL;
    if (!str_is(json_object_get(rec, "op"), q->op) ||
        (q->outcome && !str_is(json_object_get(rec, "outcome"), q->outcome)) ||
        (q->figure && !(q->equals ? str_is(fig, q->equals) : json_is_true(fig))))
        return 0;
    json_decref(l->found);
    l->found = json_incref(rec);
    return 0;
}

json_t *bkp_audit_last(const char *path, const uint8_t pk[32], const bkp_audit_query *q,
                       time_t *when)
{
    last_ctx l = {q, NULL};
    if (path)
        (void)each(path, pk, keep_last, &l);
    if (when) {
        *when = l.found ? bkp_iso_parse(json_string_value(json_object_get(l.found, "time"))) : 0;
        if (*when < 0)
            *when = 0;
    }
    return l.found;
}
