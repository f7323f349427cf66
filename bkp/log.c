#include "bkp/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
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

void bkp_vlog(enum bkp_log_level level, const char *fmt, va_list ap)
{
    static const char *const prefix[] = {"error: ", "warning: ", "", ""};

    if (level > log_level)
        return;
    pthread_mutex_lock(&log_lock);
    if (sink) {
        char msg[2048];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        sink(level, msg, sink_ctx);
        pthread_mutex_unlock(&log_lock);
        return;
    }
    clear_progress_locked();
    fputs(level <= BKP_LOG_WARN ? "bkp: " : "", stderr);
    fputs(prefix[level], stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
}

void bkp_log(enum bkp_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bkp_vlog(level, fmt, ap);
    va_end(ap);
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
    pthread_mutex_lock(&log_lock);
    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
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

const char *bkp_strerror(int err)
{
    switch (err) {
    case -EBADMSG:
        return "data is corrupt or was tampered with (authentication failed)";
    case -EKEYREJECTED:
        return "wrong passphrase";
    case -EPROTO:
        return "unknown or unsupported format";
    default:
        return strerror(err < 0 ? -err : err);
    }
}
