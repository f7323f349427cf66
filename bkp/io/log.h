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

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* BKP_LOG_NOTE: what a person must know that is no fault (where a journal
 * of the bad day went): shown when a warning is, as "note: ". */
enum bkp_log_level {
    BKP_LOG_ERROR = 0,
    BKP_LOG_WARN = 1,
    BKP_LOG_INFO = 2,
    BKP_LOG_DEBUG = 3,
    BKP_LOG_NOTE = 4
};

/* Messages at or below `level` are printed. The default is BKP_LOG_WARN. */
void bkp_log_set_level(enum bkp_log_level level);
enum bkp_log_level bkp_log_get_level(void);

void bkp_log(enum bkp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a va_list, for functions that log what their callers format. */
void bkp_vlog(enum bkp_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define bkp_error(...) bkp_log(BKP_LOG_ERROR, __VA_ARGS__)
#define bkp_warn(...) bkp_log(BKP_LOG_WARN, __VA_ARGS__)
#define bkp_note(...) bkp_log(BKP_LOG_NOTE, __VA_ARGS__)
#define bkp_info(...) bkp_log(BKP_LOG_INFO, __VA_ARGS__)
#define bkp_debug(...) bkp_log(BKP_LOG_DEBUG, __VA_ARGS__)

/* Send messages to `fn` instead of stderr (NULL restores stderr): for tests
 * that check what a user would read. */
void bkp_log_set_sink(void (*fn)(enum bkp_log_level level, const char *msg, void *ctx), void *ctx);

/*
 * A log scope: the words of one piece of work nobody watches (a data set of
 * `bkp run` under cron), said by the thread that entered it and by the
 * threads that thread starts (bkp_thread_create). Each error and warning
 * said in it goes to `journal` as it is said, and is held instead of
 * printed, until the scope is closed: then it is printed as it would have
 * been, or not, as the closer decides — whether the words are news or the
 * failure an alert told before (bkp/ops/run.h). The room is
 * BKP_LOG_SCOPE_HELD bytes: past it a message is counted, not held, nor any
 * after it (the journal has them). The output of a command run for a
 * person (bkp_log_output) is held the same, its end kept when it is long,
 * and never journalled: a hook's output may hold a secret.
 */
#define BKP_LOG_SCOPE_HELD (64 * 1024)
typedef struct bkp_log_scope bkp_log_scope;
/* A scope whose words go to `journal(level, msg, ctx)` too (may be NULL),
 * or NULL without memory. */
bkp_log_scope *
bkp_log_scope_new(void (*journal)(enum bkp_log_level level, const char *msg, void *ctx), void *ctx);
/* Make `s` (NULL: none) the calling thread's scope; the one it had before. */
bkp_log_scope *bkp_log_scope_enter(bkp_log_scope *s);
/* Close `s` (NULL: nothing): print what it holds when `print`, else let it
 * go (it is in the journal). How many words it printed no more of (past
 * its room: the caller says where they are), 0 when not `print`. Words
 * said in it later, by a thread that outlives it, are printed as they
 * come. `journal` is called under the log's lock: it says nothing through
 * this log. */
size_t bkp_log_scope_close(bkp_log_scope *s, bool print);
/* pthread_create, the new thread in the caller's log scope (ENOMEM
 * without memory for it). */
int bkp_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);
/* `n` bytes a command wrote for a person (a hook's output): to stderr, or
 * held by the caller's scope. */
void bkp_log_output(const void *buf, size_t n);

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
