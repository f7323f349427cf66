/*
 * audit_read.c — reading the audit log (audit.h): each record in order, the
 * last that matches a query, and the check of the whole log (chain,
 * signatures, head marker, a copy, times). One pass does both: each line is
 * parsed once and its signature checked once, whether the caller wants the
 * check, the records sound by themselves, or both (bkp_audit_each_sound).
 * A problem found is a code with its details (audit_problem.c says it).
 */
#include "bkp/audit/audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit/audit_internal.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* A log, or its copy on a medium, is read whole: bounded by the format, so
 * that a forged copy costs no more than a real log. A record is a few
 * hundred bytes; 256 MiB is several years of hourly records of ten data
 * sets. A record line is at most 64 KiB, so parsing one stays cheap, and
 * there are at most LOG_MAX / 64 lines, which bounds the line table. */
#define LOG_MAX BKP_AUDIT_LOG_MAX
#define LINE_MAX_LEN (64U << 10)

int bkp_audit_read(const char *path, bkp_buf *buf)
{
    int rc = bkp_read_file(path, buf, LOG_MAX);
    if (rc == -EFBIG)
        bkp_error(_("%s is larger than an audit log can be (%llu MiB): not read; it was not "
                    "written by bkp"),
                  path, LOG_MAX >> 20);
    return rc;
}

/* The log read whole (`buf`, bkp_audit_read) cut into lines (pointers into
 * `buf`, whose newlines become NULs). `path` names it in messages. */
static int split_lines(const char *path, bkp_buf *buf, char ***lines, size_t *n, bool *torn)
{
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
        /* A NUL inside a line would end it early for every reader after
         * this one (its hash, its JSON): the line is made one that no
         * reader takes for a record. */
        for (char *z = memchr(p, '\0', (size_t)(nl - p)); z; z = memchr(z, '\0', (size_t)(nl - z)))
            *z = '\x01';
        *nl = '\0';
        if (bkp_grow(lines, &cap, *n, sizeof(**lines), 256))
            return -ENOMEM;
        (*lines)[(*n)++] = p;
        p = nl + 1;
    }
    return 0;
}

/* Stands for a log a caller found absent (bkp_audit_verify_bytes). */
static const bkp_buf no_log;

/* Read a whole log into lines (pointers into `buf`); with `given`, the
 * bytes a caller read already (&no_log: the log is absent), copied into
 * `buf` so that the caller's stay as they were read. */
static int read_lines(const char *path, const bkp_buf *given, bkp_buf *buf, char ***lines,
                      size_t *n, bool *torn)
{
    int rc = 0;
    *lines = NULL;
    *n = 0;
    *torn = false;
    if (!given)
        rc = bkp_audit_read(path, buf);
    else if (given == &no_log)
        rc = -ENOENT;
    else if (given->len > LOG_MAX)
        rc = -EFBIG; /* bkp_audit_read said so as it read them */
    else if (given->len)
        bkp_buf_put(buf, given->data, given->len);
    return rc ? rc : split_lines(path, buf, lines, n, torn);
}

/* ---- one line: its form, its link to the line before, its signature ---- */

/* JSON, an audit record, in its place (its seq is its line). */
static bkp_audit_code line_form(json_t *j, uint64_t i)
{
    if (!json_is_object(j))
        return BKP_AUDIT_NOT_JSON;
    if (!json_is_string(json_object_get(j, "op")) || !json_is_string(json_object_get(j, "time")))
        return BKP_AUDIT_NOT_RECORD;
    if ((uint64_t)json_integer_value(json_object_get(j, "seq")) != i)
        return BKP_AUDIT_SEQUENCE_GAP;
    return BKP_AUDIT_SOUND;
}

/* The hash a record claims for the line before it, into `prev`, or that it
 * claims none (null: `*none`): 0, or -1 when "prev" is neither. */
static int claimed_prev(json_t *j, uint8_t prev[32], bool *none)
{
    json_t *pv = json_object_get(j, "prev");
    *none = json_is_null(pv);
    return *none || (json_is_string(pv) && !bkp_unhex(prev, 32, json_string_value(pv))) ? 0 : -1;
}

/* What only the key makes: the signature, and the form it was written in
 * (a line that verifies but is not in the canonical form was rewritten).
 * The one signature check of the line. */
static bkp_audit_code line_signed(json_t *j, const char *line, const uint8_t pk[32])
{
    uint8_t sig[64];
    const char *sighex = json_string_value(json_object_get(j, "sig"));
    char *text = bkp_audit_signed_text(j), *canon = NULL;
    bkp_audit_code c = BKP_AUDIT_SOUND;
    if (!sighex || bkp_unhex(sig, 64, sighex) || !text ||
        bkp_sig_verify(pk, sig, text, strlen(text)))
        c = BKP_AUDIT_WRONG_SIGNATURE;
    else if (!(canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) || strcmp(canon, line))
        c = BKP_AUDIT_ALTERED;
    free(canon);
    free(text);
    return c;
}

bkp_audit_code bkp_audit_check_line(const char *line, uint64_t i, const uint8_t *prev_hash,
                                    const uint8_t pk[32])
{
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    uint8_t claim[32];
    bool none;
    bkp_audit_code c = line_form(j, i);
    if (!c && (claimed_prev(j, claim, &none) ||
               (prev_hash ? none || memcmp(claim, prev_hash, 32) : !none)))
        c = BKP_AUDIT_CHAIN_BROKEN;
    if (!c)
        c = line_signed(j, line, pk);
    json_decref(j);
    return c;
}

/* ---- the whole log, in one pass ---- */

static const char *member(const json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

void bkp_audit_entry_hold(bkp_audit_entry *slot, const bkp_audit_entry *e)
{
    json_incref(e->json); /* first: `slot` may be `e`'s own */
    json_decref(slot->json);
    *slot = *e;
}

void bkp_audit_entry_release(bkp_audit_entry *slot)
{
    json_decref(slot->json);
    *slot = (bkp_audit_entry){0};
}

/* The record `j` as a reader takes it (audit.h): borrowed from `j`. */
static int hand_over(bkp_audit_fn fn, json_t *j, void *ctx)
{
    const json_t *fig = json_object_get(j, "figures");
    const char *op = member(j, "op"), *outcome = member(j, "outcome");
    time_t t = bkp_iso_parse(member(j, "time"));
    json_int_t seq = json_integer_value(json_object_get(j, "seq"));
    bkp_audit_entry e = {.seq = seq > 0 ? (uint64_t)seq : 0,
                         .time = t > 0 ? t : 0,
                         .op = op ? op : "",
                         .host = member(j, "host"),
                         .user = member(j, "user"),
                         .command = member(j, "command"),
                         .dataset = member(j, "dataset"),
                         .generation = member(j, "generation"),
                         .medium = member(j, "medium"),
                         .ok = outcome && !strcmp(outcome, "ok"),
                         .outcome = outcome,
                         .error = member(j, "error"),
                         .error_ja = json_string_value(json_object_get(fig, "error_ja")),
                         .figures = json_is_object(fig) ? fig : NULL,
                         .json = j};
    return fn(&e, ctx);
}

/* How far a record's time may lie before an earlier one's (NTP steps). */

/* One reading of a log: each line parsed once and its signature checked
 * once, for both answers — the check of the whole chain, and the records
 * sound by themselves handed to `fn`. */
typedef struct walk {
    const uint8_t *pk;
    bkp_audit_fn fn; /* may be NULL */
    void *ctx;
    int stopped; /* what fn returned when it asked to stop: it is not called again */
    bkp_audit_check *out;
    bool chained;     /* every record so far checks and chains */
    uint8_t hash[32]; /* of the line before, while chained */
    time_t latest;    /* the latest time of the chained records, -1 none */
    bkp_audit_problem back; /* the first record of them dated before it */
} walk;

static void say_problem(bkp_audit_check *out, bkp_audit_code code, uint64_t at, uint64_t upto,
                        const char *file)
{
    bkp_audit_problem p = {.code = code, .at = at, .upto = upto};
    snprintf(p.file, sizeof(p.file), "%s", file ? file : "");
    bkp_audit_problem_say(out, &p);
}

/* A record of the sound chain: a restart of the log, and its time, which
 * must not go back before an earlier record's: the clock was set back
 * while the log was written, or the log was made up by someone holding
 * the key (named only when nothing worse is found). */
static void chained_record(walk *w, json_t *j, uint64_t i)
{
    const char *op = json_string_value(json_object_get(j, "op"));
    time_t t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
    if (op && !strcmp(op, "log_restarted")) {
        w->out->restarts++;
        w->out->restart_seq = i;
    }
    if (t < 0)
        return;
    if (w->latest >= 0 && t < w->latest - BKP_AUDIT_TIME_TOLERANCE && !w->back.code) {
        w->back = (bkp_audit_problem){.code = BKP_AUDIT_TIME_BACKWARDS, .at = i};
        bkp_iso_time(w->back.when, sizeof(w->back.when), t);
        bkp_iso_time(w->back.before, sizeof(w->back.before), w->latest);
    }
    if (t > w->latest)
        w->latest = t;
}

/* Line `line`, record `i`. A record is sound by itself when it is in its
 * place, signed and in the form it was written in; its link to the record
 * before is then taken as it claims: a record changed before it does not
 * make it less authentic (what it says happened did). */
static void walk_line(walk *w, const char *line, uint64_t i)
{
    if (!w->chained && !w->fn)
        return; /* past the first bad record, nobody is handed the rest */
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    uint8_t claim[32];
    bool none = false;
    bkp_audit_code form = line_form(j, i), link = BKP_AUDIT_SOUND, sig = BKP_AUDIT_SOUND;
    if (!form && claimed_prev(j, claim, &none))
        link = BKP_AUDIT_CHAIN_BROKEN;
    else if (!form)
        sig = line_signed(j, line, w->pk);
    bool alone = !form && !link && !sig;
    if (w->chained) {
        if (!form && !link && (i > 1 ? none || memcmp(claim, w->hash, 32) : !none))
            link = BKP_AUDIT_CHAIN_BROKEN;
        bkp_audit_code c = form ? form : link ? link : sig;
        if (c) {
            w->chained = false;
            w->out->first_bad = i;
            say_problem(w->out, c, i, 0, NULL);
        } else {
            chained_record(w, j, i);
            crypto_generichash(w->hash, 32, (const uint8_t *)line, strlen(line), NULL, 0);
        }
    }
    if (alone && w->fn && !w->stopped)
        w->stopped = hand_over(w->fn, j, w->ctx);
    json_decref(j);
}

/* The head marker beside the log at `path`, read before the log itself: an
 * append between the two readings then leaves the log longer than the
 * marker read (a floor), never shorter. */
typedef struct head_seen {
    char *hpath; /* NULL: a copy of a log, which has no marker */
    int hrc;     /* bkp_audit_head_read's */
    bkp_audit_head h;
} head_seen;

static void head_read_first(const char *path, const uint8_t pk[32], head_seen *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->hpath = bkp_audit_head_path(path);
    hs->hrc = hs->hpath ? bkp_audit_head_read(hs->hpath, pk, &hs->h) : -ENOENT;
}

/* Check the end of the log (lines `l`, `n` of them) against its head marker
 * `hs`; describe a loss in `out`. */
static void check_head(const head_seen *hs, char **l, size_t n, bkp_audit_check *out)
{
    const char *hpath = hs->hpath;
    uint8_t at[32];
    if (!hpath)
        return;
    int hrc = hs->hrc;
    bkp_audit_head h = hs->h;
    uint64_t hseq = h.seq;
    if (hrc == -ENOENT && !n && out->absent) {
        say_problem(out, BKP_AUDIT_DELETED, 0, 0, NULL);
    } else if (hrc == -ENOENT) {
        say_problem(out, BKP_AUDIT_HEAD_MISSING, 0, 0, hpath);
        out->head_bad = true;
    } else if (hrc) {
        bkp_audit_problem p = {.code = BKP_AUDIT_HEAD_DAMAGED, .err = hrc};
        snprintf(p.file, sizeof(p.file), "%s", hpath);
        bkp_audit_problem_say(out, &p);
        out->head_bad = true;
    } else if (hseq > n) {
        out->missing = hseq - n;
        say_problem(out,
                    out->absent ? BKP_AUDIT_LOG_REMOVED
                    : n         ? BKP_AUDIT_ROLLED_BACK
                                : BKP_AUDIT_EMPTIED,
                    n + 1, hseq, NULL);
    } else {
        crypto_generichash(at, 32, (const uint8_t *)l[hseq - 1], strlen(l[hseq - 1]), NULL, 0);
        if (memcmp(at, h.record, 32)) {
            out->first_bad = hseq;
            say_problem(out, BKP_AUDIT_REWRITTEN, hseq, 0, NULL);
        } else {
            out->past_marker = n - hseq; /* a floor left behind by a crash or a full disk */
        }
    }
}

/* The log (lines `la`, `na`) against its copy `against`: line for line,
 * and not shorter. */
static int check_copy(const char *against, char **la, size_t na, bkp_audit_check *out)
{
    bkp_buf b;
    char **lb = NULL;
    size_t nb = 0;
    bool torn_b;
    bkp_buf_init(&b);
    int rc = read_lines(against, NULL, &b, &lb, &nb, &torn_b);
    size_t common = na < nb ? na : nb;
    for (size_t i = 0; !rc && i < common; i++)
        if (strcmp(la[i], lb[i]) != 0) {
            out->first_bad = i + 1;
            say_problem(out, BKP_AUDIT_COPY_DIFFERS, i + 1, 0, against);
            break;
        }
    if (!rc && !out->first_bad && nb > na) {
        out->missing = nb - na;
        say_problem(out, BKP_AUDIT_COPY_LONGER, na + 1, nb, against);
    }
    free(lb);
    bkp_buf_free(&b);
    return rc;
}

/* Read the log at `path` once (or take its bytes `given`, read_lines):
 * every line through walk_line, then its end against its head marker and,
 * with `against`, its copy. 0 when it was read (problems: w->out->bad),
 * negative when it cannot be. */
static int walk_log(const char *path, const bkp_buf *given, const char *against, walk *w)
{
    bkp_audit_check *out = w->out;
    bkp_buf a;
    char **la = NULL;
    size_t na = 0;
    bool torn = false;
    head_seen hs;
    memset(out, 0, sizeof(*out));
    out->latest = -1;
    w->chained = true;
    w->latest = -1;
    bkp_buf_init(&a);
    head_read_first(path, w->pk, &hs);
    int rc = read_lines(path, given, &a, &la, &na, &torn);
    if (rc == -ENOENT) {
        out->absent = true; /* a loss to report, not a failure to read */
        rc = 0;
    }
    if (rc)
        goto done;
    out->records = na;
    for (size_t i = 0; i < na; i++)
        walk_line(w, la[i], i + 1);
    out->latest = w->latest;
    if (!out->first_bad)
        check_head(&hs, la, na, out);
    if (!out->why.code && out->absent)
        say_problem(out, BKP_AUDIT_MISSING, 0, 0, NULL);
    if (!out->why.code && torn)
        say_problem(out, BKP_AUDIT_TORN_END, na, 0, NULL);
    if (!out->first_bad && !out->missing && !out->absent && against &&
        (rc = check_copy(against, la, na, out)))
        goto done;
    bool back = !out->why.code && !torn && w->back.code;
    if (back)
        bkp_audit_problem_say(out, &w->back);
    out->bad = out->first_bad || out->missing || out->absent || out->head_bad || torn || back;
done:
    free(hs.hpath);
    free(la);
    bkp_buf_free(&a);
    return rc;
}

/* A problem of a repository's own log (not of a copy of one) found by a
 * check whose caller reports it: the appender says no more of it. */
static void reported(const char *path, const bkp_audit_check *c)
{
    char *own = bkp_audit_head_path(path);
    if (own && (c->first_bad || c->missing || c->absent || c->head_bad))
        bkp_audit_lost_reported();
    free(own);
}

int bkp_audit_verify(const char *path, const uint8_t pk[32], const char *against,
                     bkp_audit_check *out)
{
    walk w = {.pk = pk, .out = out};
    int rc = walk_log(path, NULL, against, &w);
    if (rc >= 0)
        reported(path, out);
    return rc;
}

int bkp_audit_verify_bytes(const char *path, const bkp_buf *log, const uint8_t pk[32],
                           const char *against, bkp_audit_check *out)
{
    walk w = {.pk = pk, .out = out};
    int rc = walk_log(path, log ? log : &no_log, against, &w);
    if (rc >= 0)
        reported(path, out);
    return rc;
}

int bkp_audit_copy_holds(const char *path, const char *copy, const uint8_t pk[32], uint64_t at)
{
    bkp_audit_check cc;
    bkp_buf raw, a, b;
    char **la = NULL, **lb = NULL;
    size_t na = 0, nb = 0;
    bool torn;
    bkp_buf_init(&raw);
    bkp_buf_init(&a);
    bkp_buf_init(&b);
    /* The copy read once: checked, then compared, as those bytes. */
    int rc = bkp_audit_read(copy, &raw);
    bool none = rc == -ENOENT; /* no copy there: it holds nothing */
    rc = none ? 0 : rc;
    cc.absent = none;
    if (!rc && !none)
        rc = bkp_audit_verify_bytes(copy, &raw, pk, NULL, &cc);
    int holds = !rc && at && !cc.absent && (!cc.first_bad || cc.first_bad > at) &&
                cc.records >= at; /* else the copy does not hold it sound either */
    if (holds)
        rc = read_lines(path, NULL, &a, &la, &na, &torn);
    if (holds && !rc)
        rc = read_lines(copy, &raw, &b, &lb, &nb, &torn);
    holds = holds && !rc && na >= at - 1 && nb >= at;
    /* The same history up to it ... */
    for (size_t i = 0; holds && i + 1 < at; i++)
        holds = !strcmp(la[i], lb[i]);
    /* ... and the log's next record, sound by itself, chains to the copy's. */
    if (holds && na > at) {
        uint8_t h[32];
        crypto_generichash(h, 32, (const uint8_t *)lb[at - 1], strlen(lb[at - 1]), NULL, 0);
        holds = bkp_audit_check_line(la[at], at + 1, h, pk) == BKP_AUDIT_SOUND;
    }
    free(la);
    free(lb);
    bkp_buf_free(&raw);
    bkp_buf_free(&a);
    bkp_buf_free(&b);
    return rc ? rc : holds;
}

/* Each record of the log to `fn`, unchecked. */
static int each(const char *path, bkp_audit_fn fn, void *ctx)
{
    bkp_buf buf;
    char **lines = NULL;
    size_t n = 0;
    bool torn;
    bkp_buf_init(&buf);
    int rc = read_lines(path, NULL, &buf, &lines, &n, &torn);
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *j = json_loads(lines[i], 0, NULL);
        if (json_is_object(j))
            rc = hand_over(fn, j, ctx);
        json_decref(j);
    }
    free(lines);
    bkp_buf_free(&buf);
    return rc;
}

int bkp_audit_each(const char *path, bkp_audit_fn fn, void *ctx)
{
    return each(path, fn, ctx);
}

time_t bkp_audit_first_time(const char *path, const uint8_t pk[32])
{
    char *line = path ? malloc(LINE_MAX_LEN + 1) : NULL;
    int fd = line ? bkp_open_regular(path) : -1; /* never a FIFO waited on */
    time_t t = 0;
    /* A regular file: one pread gives what is there, up to one record. */
    ssize_t got = fd >= 0 ? pread(fd, line, LINE_MAX_LEN, 0) : -1;
    char *nl = got > 0 ? memchr(line, '\n', (size_t)got) : NULL;
    if (nl) {
        *nl = '\0';
        if (bkp_audit_check_line(line, 1, NULL, pk) == BKP_AUDIT_SOUND) {
            json_t *j = json_loads(line, 0, NULL);
            t = bkp_iso_parse(json_string_value(json_object_get(j, "time")));
            json_decref(j);
        }
    }
    if (fd >= 0)
        close(fd);
    free(line);
    return t > 0 ? t : 0;
}

int bkp_audit_each_sound(const char *path, const uint8_t pk[32], bkp_audit_fn fn, void *ctx,
                         bkp_audit_check *chk)
{
    bkp_audit_check own;
    walk w = {.pk = pk, .fn = fn, .ctx = ctx, .out = chk ? chk : &own};
    int rc = walk_log(path, NULL, NULL, &w);
    if (rc < 0)
        return rc;
    reported(path, w.out);
    if (w.out->absent)
        return -ENOENT;
    return w.stopped ? w.stopped : rc;
}

typedef struct last_ctx {
    const bkp_audit_query *q;
    bkp_audit_entry *found;
} last_ctx;

const char *bkp_audit_pruned(const bkp_audit_entry *e, size_t i)
{
    if (e->medium)
        return NULL;
    if (!strcmp(e->op, "prune-generation"))
        return i ? NULL : e->generation;
    if (strcmp(e->op, "prune"))
        return NULL;
    json_t *v = json_array_get(json_object_get(e->figures, "generations_deleted"), i);
    return !v ? NULL : json_is_string(v) ? json_string_value(v) : "";
}

static bool str_is(const char *s, const char *want)
{
    return s && !strcmp(s, want);
}

static int keep_last(const bkp_audit_entry *e, void *ctx)
{
    last_ctx *l = ctx;
    const bkp_audit_query *q = l->q;
    const json_t *fig = q->figure ? json_object_get(e->figures, q->figure) : NULL;
    if (strcmp(e->op, q->op) || (q->outcome && !str_is(e->outcome, q->outcome)) ||
        (q->figure && !(q->equals ? str_is(json_string_value(fig), q->equals) : json_is_true(fig))))
        return 0;
    bkp_audit_entry_hold(l->found, e);
    return 0;
}

bool bkp_audit_last(const char *path, const uint8_t pk[32], const bkp_audit_query *q,
                    bkp_audit_entry *out)
{
    last_ctx l = {q, out};
    bkp_audit_check chk;
    walk w = {.pk = pk, .fn = keep_last, .ctx = &l, .out = &chk};
    *out = (bkp_audit_entry){0};
    if (path && pk)
        (void)walk_log(path, NULL, NULL, &w);
    else if (path)
        (void)each(path, keep_last, &l);
    return out->json != NULL;
}
