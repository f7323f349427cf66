/*
 * log.h — the one place messages reach a person.
 *
 * Errors say what, where, and what to do next; they are printed once, where the
 * context is. Warnings are always shown; information only at verbosity >= 1
 * (a terminal) so that cron stays quiet.
 *
 * The library's one error convention: a function returns 0 or a negative
 * errno, and logs the error once, where the context is:
 *   -EBADMSG       the bytes are there and damaged or forged; a parser of
 *                  untrusted bytes returns it for anything not exactly of
 *                  its shape
 *   -ENODATA       an object the repository should hold is missing: damage
 *   -ENOENT        a name given from outside is absent (a generation, a
 *                  path, a medium): usage
 *   -EKEYREJECTED  a wrong passphrase, or a key that is not the pinned one
 *   -EBUSY         a lock is held
 * A check or a restore that ran to its end returns 0 whatever it found: the
 * damage is counted in its result (bkp_verify_result.problems,
 * rst_result.damaged); a negative errno means it could not be done. Where
 * a function answers in an int ("1 found, 0 not, negative errno"), or
 * returns a count, a bool or a NULL, its declaration says so;
 * tests/support/code-figures.sh §8 lists them. The program turns errors
 * into exit codes (bkp/cli/cli.h).
 */
#ifndef BKP_LOG_H
#define BKP_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
/* A progress line with totals, on a terminal only: "WHAT: 45 % (450 of 1000
 * UNIT), 1.2 GB at 85.0 MB/s, 0:18 left" — or, with `unit` NULL, `done` and
 * `total` in bytes: "WHAT: 45 % (1.2 GB of 2.7 GB) at 85.0 MB/s, 0:18 left".
 * `total` 0: not known (no percent and no time left); `bytes` done so far; `t0` when the work
 * started (CLOCK_MONOTONIC). The time left is the elapsed time scaled by what is left of `total`.
 */
void bkp_progress_meter(const char *what, uint64_t done, uint64_t total, const char *unit,
                        uint64_t bytes, const struct timespec *t0);
/* Its text, `secs` after the start (no time left before half a second). */
void bkp_progress_text(char *out, size_t n, const char *what, uint64_t done, uint64_t total,
                       const char *unit, uint64_t bytes, double secs);
void bkp_progress_enable(bool on);
void bkp_progress_done(void);

/* A short description of a negative errno-style code, in the reader's
 * language (libc translates the errno texts). bkp's own meanings:
 * -EBADMSG damaged or tampered with, -EKEYREJECTED a wrong passphrase,
 * -EPROTO an unknown format, -ENODATA missing from the repository,
 * -EDOM a capture that could read none of its paths (a code no file's
 * read gives). */
const char *bkp_strerror(int err);
/* The same in English whatever the locale: for what programs read (--json,
 * the audit log). */
const char *bkp_strerror_en(int err);

#endif
