/*
 * log.h — the one place messages reach a person.
 *
 * Errors say what, where, and what to do next; they are printed once, where the
 * context is. Warnings are always shown; information only at verbosity >= 1
 * (a terminal) so that cron stays quiet.
 */
#ifndef BKP_LOG_H
#define BKP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum bkp_log_level { BKP_LOG_ERROR = 0, BKP_LOG_WARN = 1, BKP_LOG_INFO = 2, BKP_LOG_DEBUG = 3 };

/* Messages at or below `level` are printed. The default is BKP_LOG_WARN. */
void bkp_log_set_level(enum bkp_log_level level);
enum bkp_log_level bkp_log_get_level(void);

void bkp_log(enum bkp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a va_list, for functions that log what their callers format. */
void bkp_vlog(enum bkp_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define bkp_error(...) bkp_log(BKP_LOG_ERROR, __VA_ARGS__)
#define bkp_warn(...) bkp_log(BKP_LOG_WARN, __VA_ARGS__)
#define bkp_info(...) bkp_log(BKP_LOG_INFO, __VA_ARGS__)
#define bkp_debug(...) bkp_log(BKP_LOG_DEBUG, __VA_ARGS__)

/* Send messages to `fn` instead of stderr (NULL restores stderr): for tests
 * that check what a user would read. */
void bkp_log_set_sink(void (*fn)(enum bkp_log_level level, const char *msg, void *ctx), void *ctx);

/* Progress on a terminal only: a single line rewritten in place. No-op otherwise. */
void bkp_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bkp_progress_enable(bool on);
void bkp_progress_done(void);

/* A short description of a negative errno-style code. */
const char *bkp_strerror(int err);

#endif
