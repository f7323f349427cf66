#include "bkp/io/log.h"

#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/io/text.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum bkp_log_level log_level = BKP_LOG_WARN;
static bool progress_on;
static bool progress_dirty;
static struct timespec progress_last;
/* Workers may warn while the main thread draws progress. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*sink)(enum bkp_log_level, const char *, void *);
static void *sink_ctx;

void bkp_log_set_sink(void (*fn)(enum bkp_log_level level, const char *msg, void *ctx), void *ctx)
{
    pthread_mutex_lock(&log_lock);
    sink = fn;
    sink_ctx = ctx;
    pthread_mutex_unlock(&log_lock);
}

void bkp_log_set_level(enum bkp_log_level level)
{
    log_level = level;
}

enum bkp_log_level bkp_log_get_level(void)
{
    return log_level;
}

static void clear_progress_locked(void)
{
    if (progress_dirty) {
        fputs("\r\033[K", stderr);
        progress_dirty = false;
    }
}

/* One message held by a log scope (log.h), or a command's output: what it
 * printed in a row, one entry. */
struct held {
    enum bkp_log_level level;
    bool output;
    char *text;
    size_t len;
};

struct bkp_log_scope {
    void (*journal)(enum bkp_log_level, const char *, void *);
    void *ctx;
    struct held *v;
    size_t n, cap;
    size_t bytes;  /* what the entries cost, their text and themselves */
    size_t more;   /* messages not held (the journal has them) */
    bool full;     /* none held after one was not: no gaps */
    bool cut;      /* the start of a command's output was let go for its end */
    unsigned refs; /* its owner's, and each thread started in it that runs */
    bool closed;
};

/* The scope of the calling thread's words; all scopes under log_lock. */
static _Thread_local bkp_log_scope *current;

/* A message (`output`: a command's bytes) as it is printed: on stderr, or
 * to the sink. */
static void print_locked(enum bkp_log_level level, bool output, const char *text, size_t len)
{
    /* The level's word, in the reader's language like the message. */
    static const char *const prefix[] = {N_("error: "), N_("warning: "), "", "", N_("note: ")};
    if (sink && !output) {
        sink(level, text, sink_ctx);
        return;
    }
    clear_progress_locked();
    if (!output) {
        fputs(level <= BKP_LOG_WARN || level == BKP_LOG_NOTE ? "bkp: " : "", stderr);
        fputs(*prefix[level] ? _(prefix[level]) : "", stderr);
    }
    fwrite(text, 1, len, stderr);
    if (!output)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Let go of the start of the oldest output `s` holds until it costs no more
 * than its room (or there is no output left to let go of). */
static void trim_output(bkp_log_scope *s)
{
    for (size_t i = 0; i < s->n && s->bytes > BKP_LOG_SCOPE_HELD;) {
        struct held *h = &s->v[i];
        size_t drop = s->bytes - BKP_LOG_SCOPE_HELD;
        if (!h->output) {
            i++;
            continue;
        }
        s->cut = true;
        if (drop < h->len) {
            memmove(h->text, h->text + drop, h->len - drop + 1);
            h->len -= drop;
            s->bytes -= drop;
            return;
        }
        s->bytes -= h->len + sizeof(*h);
        free(h->text);
        memmove(h, h + 1, (s->n - i - 1) * sizeof(*h));
        s->n--;
    }
}

/* Hold a message in `s`, or count it when there is no room; a command's
 * output joins the output just before it, and keeps its end. */
static void hold_locked(bkp_log_scope *s, enum bkp_log_level level, bool output, const char *text,
                        size_t len)
{
    struct held *last = s->n ? &s->v[s->n - 1] : NULL;
    if (output && last && last->output) {
        char *more = realloc(last->text, last->len + len + 1);
        if (more) {
            memcpy(more + last->len, text, len);
            more[last->len + len] = '\0';
            last->text = more;
            last->len += len;
            s->bytes += len;
            trim_output(s);
        }
        return; /* without memory: what it printed before stays */
    }
    /* A message past the room is not held, nor any after it; output is,
     * and the oldest output makes room for it. */
    bool room = !s->full && s->bytes + sizeof(*last) + len <= BKP_LOG_SCOPE_HELD;
    char *copy = NULL;
    if ((room || output) && !bkp_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 16) &&
        (copy = malloc(len + 1))) {
        memcpy(copy, text, len);
        copy[len] = '\0';
        s->v[s->n++] = (struct held){level, output, copy, len};
        s->bytes += sizeof(*last) + len;
        trim_output(s);
    } else if (!output) {
        s->full = true;
        s->more++;
    }
}

/* Is the calling thread's scope open? */
static bool scoped_locked(void)
{
    return current && !current->closed;
}

static void unref_locked(bkp_log_scope *s)
{
    if (--s->refs)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
    free(s);
}

bkp_log_scope *
bkp_log_scope_new(void (*journal)(enum bkp_log_level level, const char *msg, void *ctx), void *ctx)
{
    bkp_log_scope *s = calloc(1, sizeof(*s));
    if (s)
        *s = (bkp_log_scope){.journal = journal, .ctx = ctx, .refs = 1};
    return s;
}

bkp_log_scope *bkp_log_scope_enter(bkp_log_scope *s)
{
    bkp_log_scope *was = current;
    current = s;
    return was;
}

size_t bkp_log_scope_close(bkp_log_scope *s, bool print)
{
    size_t more = 0;
    if (!s)
        return 0;
    pthread_mutex_lock(&log_lock);
    s->closed = true;
    bool said_cut = false;
    for (size_t i = 0; i < s->n; i++) {
        if (print && s->cut && s->v[i].output && !said_cut) {
            said_cut = true;
            print_locked(BKP_LOG_INFO, false, _("(the start of the command's output is left out)"),
                         strlen(_("(the start of the command's output is left out)")));
        }
        if (print)
            print_locked(s->v[i].level, s->v[i].output, s->v[i].text, s->v[i].len);
        free(s->v[i].text);
    }
    s->n = 0;
    more = print ? s->more : 0;
    unref_locked(s);
    pthread_mutex_unlock(&log_lock);
    return more;
}

/* A thread started in a scope: it runs in it, and lets it go at its end. */
struct start {
    void *(*fn)(void *);
    void *arg;
    bkp_log_scope *scope;
};

static void *start_in_scope(void *p)
{
    struct start st = *(struct start *)p;
    free(p);
    current = st.scope;
    void *ret = st.fn(st.arg);
    pthread_mutex_lock(&log_lock);
    unref_locked(st.scope);
    pthread_mutex_unlock(&log_lock);
    return ret;
}

int bkp_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    bkp_log_scope *s = current;
    struct start *st = s ? malloc(sizeof(*st)) : NULL;
    if (!s)
        return pthread_create(t, NULL, fn, arg);
    if (!st)
        return ENOMEM; /* no thread: its words would leave the scope */
    *st = (struct start){fn, arg, s};
    pthread_mutex_lock(&log_lock);
    s->refs++;
    pthread_mutex_unlock(&log_lock);
    int rc = pthread_create(t, NULL, start_in_scope, st);
    if (rc) {
        pthread_mutex_lock(&log_lock);
        unref_locked(s);
        pthread_mutex_unlock(&log_lock);
        free(st);
    }
    return rc;
}

void bkp_log_output(const void *buf, size_t n)
{
    pthread_mutex_lock(&log_lock);
    if (scoped_locked())
        hold_locked(current, BKP_LOG_WARN, true, buf, n);
    else
        print_locked(BKP_LOG_WARN, true, buf, n);
    pthread_mutex_unlock(&log_lock);
}

/* The level a message is shown at: a note where a warning is. */
static enum bkp_log_level shown_at(enum bkp_log_level level)
{
    return level == BKP_LOG_NOTE ? BKP_LOG_WARN : level;
}

void bkp_vlog(enum bkp_log_level level, const char *fmt, va_list ap)
{
    if (shown_at(level) > log_level)
        return;
    /* A message names files, keys and servers' words: made safe for the
     * terminal and the log it lands in (text.h), its own newlines kept. */
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    char *safe = msg ? bkp_text_safe(msg, BKP_TEXT_LINES) : NULL;
    const char *text = safe ? safe : "(out of memory for a message)";
    pthread_mutex_lock(&log_lock);
    if (scoped_locked() && shown_at(level) <= BKP_LOG_WARN) {
        if (current->journal)
            current->journal(level, text, current->ctx);
        hold_locked(current, level, false, text, strlen(text));
    } else {
        print_locked(level, false, text, strlen(text));
    }
    pthread_mutex_unlock(&log_lock);
    free(safe);
    free(msg);
}

void bkp_log(enum bkp_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bkp_vlog(level, fmt, ap);
    va_end(ap);
}

/* "12.3 MiB", "1.2 GiB": binary, as every size bkp shows people
 * (bkp_size_text), so that the progress and the summary after it agree. */
static void size_text(char *out, size_t n, double b)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* The units callers count in, named here for the catalogue. */
static const char *unit_word(const char *unit)
{
    static const char *const known[] = {N_("files"), N_("packs")};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(unit, known[i]))
            return _(known[i]);
    return unit;
}

void bkp_progress_text(char *out, size_t n, const char *what, uint64_t done, uint64_t total,
                       const char *unit, uint64_t bytes, double secs)
{
    char size[32], speed[32], rate[64] = "", whole[32], left[48] = "";
    size_text(size, sizeof(size), (double)bytes);
    /* No rate before there is time to measure one: "0 B/s" would read as
     * stalled on a line that a quick step leaves drawn. */
    if (secs > 0.05) {
        size_text(speed, sizeof(speed), (double)bytes / secs);
        snprintf(rate, sizeof(rate), _(" at %s/s"), speed);
    }
    size_text(whole, sizeof(whole), (double)total);
    if (total && done && done <= total && secs >= 0.5) {
        long rest = (long)(secs * (double)(total - done) / (double)done + 0.5);
        if (rest >= 3600)
            snprintf(left, sizeof(left), _(", %ld:%02ld:%02ld left"), rest / 3600, rest / 60 % 60,
                     rest % 60);
        else
            snprintf(left, sizeof(left), _(", %ld:%02ld left"), rest / 60, rest % 60);
    }
    double pct = total ? 100.0 * (double)(done > total ? total : done) / (double)total : 0;
    if (total && !unit) /* `done` and `total` are bytes */
        snprintf(out, n, _("%s: %.0f %% (%s of %s)%s%s"), what, pct, size, whole, rate, left);
    else if (total)
        snprintf(out, n, _("%s: %.0f %% (%llu of %llu %s), %s%s%s"), what, pct,
                 (unsigned long long)done, (unsigned long long)total, unit_word(unit), size, rate,
                 left);
    else
        snprintf(out, n, _("%s: %llu %s, %s%s"), what, (unsigned long long)done,
                 unit ? unit_word(unit) : "", size, rate);
}

void bkp_progress_meter(const char *what, uint64_t done, uint64_t total, const char *unit,
                        uint64_t bytes, const struct timespec *t0)
{
    if (!progress_on)
        return;
    struct timespec now;
    char line[512];
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
    bkp_progress_text(line, sizeof(line), what, done, total, unit, bytes, secs);
    bkp_progress("%s", line);
}

void bkp_progress_enable(bool on)
{
    progress_on = on;
}

void bkp_progress(const char *fmt, ...)
{
    struct timespec now;
    va_list ap;

    if (!progress_on)
        return;
    /* A terminal redrawn more than ten times a second only costs time. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - progress_last.tv_sec) * 1000000000L + (now.tv_nsec - progress_last.tv_nsec) <
        100000000L)
        return;
    progress_last = now;
    char *line = NULL;
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    fputs("\r\033[K", stderr);
    if (line)
        bkp_text_put(stderr, line, BKP_TEXT_FIELD); /* one line: it may name a file */
    free(line);
    progress_dirty = true;
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void bkp_progress_done(void)
{
    pthread_mutex_lock(&log_lock);
    clear_progress_locked();
    pthread_mutex_unlock(&log_lock);
}

static const char *strerror_own(int err)
{
    switch (err) {
    case -EBADMSG:
        return N_("data is corrupt or was tampered with (authentication failed)");
    case -EKEYREJECTED:
        return N_("wrong passphrase");
    case -EPROTO:
        return N_("unknown or unsupported format");
    case -ENODATA:
        return N_("missing from the repository (in no pack, or its pack is gone)");
    case -EDOM: /* bkp_capture_run's; a file's read never gives it */
        return N_("none of its paths could be read");
    default:
        return NULL;
    }
}

const char *bkp_strerror(int err)
{
    const char *own = strerror_own(err);
    /* libc's own catalogue translates the others (Debian's libc-l10n). */
    return own ? _(own) : strerror(err < 0 ? -err : err);
}

const char *bkp_strerror_en(int err)
{
    const char *own = strerror_own(err);
    const char *desc = own ? own : strerrordesc_np(err < 0 ? -err : err);
    return desc ? desc : "unknown error";
}
