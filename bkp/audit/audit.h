/*
 * audit.h — the tamper-evident log: what was done, proved, or failed.
 *
 * REPO/audit/log.jsonl holds one JSON object per line (compact, sorted keys):
 * seq (from 1), time (UTC), offset (local, seconds east of UTC), host, uid,
 * user, command (the command line; bkp never takes secrets on it), op,
 * dataset, generation, medium, outcome ("ok" | "failed"), figures {}, error,
 * prev (BLAKE2b-256 hex of the previous line, null for seq 1) and sig (the
 * repository's Ed25519 signature of the line's JSON without "sig").
 * Appends are serialised with flock and fsynced before the caller reports.
 * The log is created 0600 by `init` only (bkp_audit_create); after each
 * append a signed head marker, REPO/audit/head, names the last record, so a
 * log deleted, emptied or cut at its end is reported by every command that
 * reads or appends to it — never started again by itself. An operator
 * continues a damaged log with bkp_audit_restart, a signed "log_restarted"
 * record naming what was found and the last head known (FORMAT.md §audit).
 */
#ifndef BKP_AUDIT_H
#define BKP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/io/bytes.h"
#include "bkp/keys/sheet.h"
#include "bkp/store/repo.h"

/* How far a record's time may fall behind an earlier record's before the
 * log is said to go back in time (a clock stepped back a little). */
#define BKP_AUDIT_TIME_TOLERANCE 300

/* The largest log (or copy of one) that is read: several years of hourly
 * records of ten data sets; anything larger was not written by bkp. */
#define BKP_AUDIT_LOG_MAX (256ULL << 20)

/* Where a medium keeps the copy of the primary's audit log (its own log,
 * audit/log.jsonl, records what was done with the medium directly). */
#define BKP_AUDIT_COPY "audit/primary.jsonl"

typedef struct bkp_audit_rec {
    const char *op;         /* "backup", "prune", "verify", ... */
    const char *dataset;    /* may be NULL */
    const char *generation; /* "emr-db:42", may be NULL */
    const char *medium;     /* may be NULL */
    bool failed;
    const char *error;    /* may be NULL */
    const char *error_ja; /* the same in Japanese (audit show); may be NULL */
    json_t *figures;      /* borrowed, may be NULL */
} bkp_audit_rec;

/* The command line recorded with every record (set once, by main). */
void bkp_audit_set_command(int argc, char **argv);

/* Append one signed record, durably, and move the head marker to it. Logs
 * and returns an error on failure: -ENOENT when the log is missing,
 * -EBADMSG when it disagrees with its head marker (emptied, shortened,
 * rewritten, marker missing); a fault of its disk (bkp_audit_fault: full,
 * read-only) is said as a record not written, and counted for the next
 * record when the disk still takes a name ("missed", FORMAT.md §9). The
 * marker is a floor: a log that runs past it along an unbroken signed
 * chain (a crash or a full disk between the line and the marker) is
 * appended to, and the marker moved on. A primary's log is never created
 * here; the own log of a copy on a medium (bkp_gen_copy_medium) begins
 * with its first record. A handle opened with the public key alone
 * (bkp_repo_open_public) can sign nothing: 0, and nothing is appended.
 * Thread-safe: the log's flock (taken on an open of its own) orders the
 * appends of several threads as it does those of several processes. */
int bkp_audit_append(bkp_repo *r, const bkp_audit_rec *rec) __attribute__((warn_unused_result));
/* Is `rc` a fault of the disk the record goes to (-ENOSPC, -EDQUOT,
 * -EROFS), not a log found wanting? A command that only read goes on: its
 * work stands without its record. */
bool bkp_audit_fault(int rc);
/* The same through a read-only handle: the one write a `const bkp_repo *`
 * may make (repo.h). A command that only reads the repository (a restore,
 * a drill, a verify) still records that it read it; the log is
 * append-only, each append holds the log's own lock (a flock on the log
 * while the line and the head marker are written), and nothing else of the
 * repository is touched, so no writer lock is needed. Use it only for such
 * records; a command that changes the repository holds a `bkp_repo *` and
 * calls bkp_audit_append. */
int bkp_audit_append_ro(const bkp_repo *r, const bkp_audit_rec *rec)
    __attribute__((warn_unused_result));
/* ... and never onto a copy on a medium (bkp_gen_copy_medium): -EROFS,
 * nothing written, nothing said; the caller records in the primary's log
 * or in a journal (bkp_audit_journal). */
/* Append `rec` to the journal at `path` (created 0600 when missing, never
 * through a link), signed with the key of `r` and naming it: the record
 * of a read of a copy where no primary is open. 0, or a negative errno
 * (said, with what to do). */
int bkp_audit_journal(const bkp_repo *r, const char *path, const bkp_audit_rec *rec)
    __attribute__((warn_unused_result));
/* A journal's file name in its folder, from the repository's id (its
 * first eight characters): printf format and argument. */
#define BKP_AUDIT_JOURNAL_NAME "bkp-journal-%.8s.jsonl"
/* Create the log of a new repository with `rec` as record 1 (`init`):
 * -EEXIST when there is one. */
int bkp_audit_create(bkp_repo *r, const bkp_audit_rec *rec) __attribute__((warn_unused_result));
/* Report (once per process) a log of `r` that is missing, emptied, cut
 * short, rewritten at its end or without its marker, reading only: 0 when
 * it was checked (what it found is reported, as an error, and `*sound`,
 * when not NULL, says whether it found nothing wrong), negative when it
 * cannot be read (`*sound` false). Every command runs it; the metric
 * bkp_audit_head_ok is `*sound`. */
int bkp_audit_report_state(const bkp_repo *r, bool *sound);
/* An operator's answer to a log found missing, emptied, shortened or without
 * its marker: a signed "log_restarted" record (figures: reason, found, the
 * marker's last_known_head, records_found) continues the log where it is
 * (record 1 when it is gone), and a new marker is written. `found` receives
 * what was found ("missing", "emptied", "shortened", "rewritten", "no
 * head", "damaged head"). -EEXIST when the log and its marker agree. */
int bkp_audit_restart(bkp_repo *r, const char *reason, char *found, size_t n)
    __attribute__((warn_unused_result));

/* What is wrong with a log: a stable word for programs (`"code"` in
 * --json, bkp_audit_code_name) and a sentence for people in the reader's
 * language (bkp_audit_problem_text). Each says which fields of
 * bkp_audit_problem it uses. */
typedef enum bkp_audit_code {
    BKP_AUDIT_SOUND = 0,       /* "": nothing wrong */
    BKP_AUDIT_UNREADABLE,      /* "unreadable": `err` */
    BKP_AUDIT_MISSING,         /* "missing": no log (a copy, which has no marker) */
    BKP_AUDIT_DELETED,         /* "deleted": no log and no head marker */
    BKP_AUDIT_NOT_JSON,        /* "not_json": record `at` */
    BKP_AUDIT_NOT_RECORD,      /* "not_a_record": record `at` has no op or time */
    BKP_AUDIT_SEQUENCE_GAP,    /* "sequence_gap": record `at` has another seq */
    BKP_AUDIT_CHAIN_BROKEN,    /* "chain_broken": record `at` does not chain to the one before */
    BKP_AUDIT_WRONG_SIGNATURE, /* "wrong_signature": record `at` */
    BKP_AUDIT_ALTERED,         /* "altered": record `at` not in the form it was written in */
    BKP_AUDIT_HEAD_MISSING,    /* "head_missing": the marker `file` */
    BKP_AUDIT_HEAD_DAMAGED,    /* "head_damaged": the marker `file`, `err` */
    BKP_AUDIT_LOG_REMOVED,     /* "log_removed": records `at`..`upto` gone with the log */
    BKP_AUDIT_EMPTIED,         /* "emptied": records `at`..`upto` gone, the log empty */
    BKP_AUDIT_ROLLED_BACK,     /* "rolled_back": records `at`..`upto` missing at the end
                                  against the head marker (cut short, or an older copy) */
    BKP_AUDIT_REWRITTEN,       /* "rewritten": record `at` is not the one the marker names */
    BKP_AUDIT_TORN_END,        /* "torn_end": a torn record after record `at` */
    BKP_AUDIT_COPY_DIFFERS,    /* "differs_from_copy": record `at`, the copy `file` */
    BKP_AUDIT_COPY_LONGER,     /* "shorter_than_copy": records `at`..`upto`, the copy `file` */
    BKP_AUDIT_TIME_BACKWARDS,  /* "time_backwards": record `at` dated `when`, before `before` */
    BKP_AUDIT_CODES
} bkp_audit_code;

typedef struct bkp_audit_problem {
    bkp_audit_code code;
    uint64_t at, upto; /* the record concerned; the last of a range */
    int err;           /* a negative errno */
    char file[256];    /* the head marker or the copy */
    char when[32], before[32];
} bkp_audit_problem;

/* The word of `code` ("" for BKP_AUDIT_SOUND). */
const char *bkp_audit_code_name(bkp_audit_code code);
/* Is `code` a log changed, cut or gone (what someone who could write to the
 * server may have done), not a fault (a torn end after a crash, a clock set
 * back, a log that could not be read)? */
bool bkp_audit_code_tampered(bkp_audit_code code);
/* Is it a record changed where it stands (`at` names it)? */
bool bkp_audit_code_edited(bkp_audit_code code);
/* `p` as a sentence in the language of the moment (_()) into `buf`. */
void bkp_audit_problem_text(const bkp_audit_problem *p, char *buf, size_t n);
/* The figures of a record that say which key sheets opened a repository:
 * {"kind": "paper"|"shares", "shares": [numbers], "threshold", "of",
 * "typed"} (never a secret). A new reference; NULL without memory. */
json_t *bkp_audit_sheets(const bkp_sheets_used *u);
/* The figures of a record that keeps report files (a drill's, an evidence
 * report's), so that `bkp audit check FILE` tells a file as written from
 * one changed since: "reports" (their paths) and "reports_sha256" (hex, in
 * the same order), set in `fig`. 0, or -ENOMEM. */
int bkp_audit_reports_set(json_t *fig, const bkp_strlist *paths, const bkp_strlist *sums);

/* Put `p` into the JSON object `obj`: "code" and, when it has any, "detail"
 * (record, last_record, file, errno, time, earlier). */
void bkp_audit_problem_to_json(const bkp_audit_problem *p, json_t *obj);
/* The problem of a JSON object made by bkp_audit_problem_to_json into `p`:
 * false when it names no code this program knows (`p` then SOUND). */
bool bkp_audit_problem_from_json(const json_t *obj, bkp_audit_problem *p);

typedef struct bkp_audit_check {
    uint64_t records;
    uint64_t first_bad;    /* 0: none; else the position (seq) of the first bad record */
    uint64_t missing;      /* records lost at the end: the other copy or the head marker has them */
    bool absent;           /* there is no log at all */
    bool head_bad;         /* the head marker is missing, damaged or forged */
    uint64_t restarts;     /* "log_restarted" records in the sound part of the log */
    uint64_t restart_seq;  /* the last of them */
    time_t latest;         /* the latest time of the records that check and chain (-1: none):
                              of two histories of one log, the later goes further */
    uint64_t past_marker;  /* records after the one the head marker names (a crash or a
                              full disk left it behind; the next append moves it) */
    bkp_audit_problem why; /* the first problem, as a code and its details */
    char problem[512];     /* the same in English: for --json and records */
    char problem_local[1024]; /* the same in the reader's language: for people */
    bool bad; /* the log does not check: any of the above, a torn end, or a log behind
               * its copy (`why` says which); false when it checks */
} bkp_audit_check;

/* Check the log at `path` against public key `pk`; with `against` (another
 * copy), also that neither log lost records the other has. 0 when it was
 * checked (problems: `out->bad`, described in `problem` for programs and
 * `problem_local` for a person), negative on failure to read. */
int bkp_audit_verify(const char *path, const uint8_t pk[32], const char *against,
                     bkp_audit_check *out);
/* The log at `path` read whole into `buf` (bounded by the format, -EFBIG
 * logged; -ENOENT quietly), for bkp_audit_verify_bytes. */
int bkp_audit_read(const char *path, bkp_buf *buf) __attribute__((warn_unused_result));
/* bkp_audit_verify of the bytes `log` read from `path` (bkp_audit_read;
 * `log` NULL: there was no log), so that a caller checks exactly
 * the bytes it goes on to use. The head marker beside `path`, and
 * `against`, are read from disk as bkp_audit_verify does. `log` is borrowed
 * and left unchanged. */
int bkp_audit_verify_bytes(const char *path, const bkp_buf *log, const uint8_t pk[32],
                           const char *against, bkp_audit_check *out)
    __attribute__((warn_unused_result));

/* Does the copy `copy` of the log at `path` hold record `at` (which fails
 * in the log) as it was written: the copy signed and chained through it,
 * the two alike line for line before it, and the log's record after it,
 * when there is one, signed and chained to the copy's? 1 yes, 0 no,
 * negative errno when either cannot be read. */
int bkp_audit_copy_holds(const char *path, const char *copy, const uint8_t pk[32], uint64_t at);

/* The time of the first record of the log at `path` when it is sound as
 * record 1 (its signature by `pk`, no line before it): when the log began,
 * the repository's creation (or an operator's restart). 0 when there is no
 * such record. Only the first line is read (at most one record's length):
 * a time neither root nor a medium can choose, as the config's `created`
 * (FORMAT.md §1) can be by stripping its MAC. */
time_t bkp_audit_first_time(const char *path, const uint8_t pk[32]);

/* The problem with line `line` (NUL-terminated, without its newline) as
 * record `i` of a chain whose previous line hashes to `prev_hash` (NULL for
 * record 1), or BKP_AUDIT_SOUND: one of the codes of a record (not JSON,
 * not a record, sequence gap, chain broken, wrong signature, altered). */
bkp_audit_code bkp_audit_check_line(const char *line, uint64_t i, const uint8_t *prev_hash,
                                    const uint8_t pk[32]);
/* The head marker beside the log at `log` ("DIR/log.jsonl" -> "DIR/head";
 * NULL for a copy of a log, which has none) (malloc'd). */
char *bkp_audit_head_path(const char *log);
typedef struct bkp_audit_head {
    uint64_t seq;       /* the last record appended */
    uint8_t record[32]; /* BLAKE2b-256 of its line */
    bool medium;        /* the own log of a copy on a medium, not a primary's */
    char medium_id[40]; /* that medium's label UUID */
} bkp_audit_head;
/* Parse a head marker's bytes into `out`: 0, or -EBADMSG when it is
 * malformed or its signature fails under `pk`. */
int bkp_audit_head_parse(const uint8_t *buf, size_t len, const uint8_t pk[32], bkp_audit_head *out);

/* What the log's marker says the folder of `r` is: the log of a primary
 * (BKP_AUDIT_PRIMARY), of a copy on a medium (BKP_AUDIT_MEDIUM, `*medium`
 * receiving its label UUID, malloc'd), neither log nor marker
 * (BKP_AUDIT_NONE), or a marker missing or unsound beside a log
 * (BKP_AUDIT_UNKNOWN); -ENOMEM. A marker cannot be forged without the key,
 * so files planted in a primary do not make it pass for a copy. */
enum { BKP_AUDIT_PRIMARY = 1, BKP_AUDIT_MEDIUM, BKP_AUDIT_NONE, BKP_AUDIT_UNKNOWN };
int bkp_audit_role(const bkp_repo *r, char **medium);

/* One record of a log as its readers take it: the fields every record has,
 * typed, and what is particular to its op (`figures`) as it was written.
 * Borrowed for the time of the call that hands it over. */
typedef struct bkp_audit_entry {
    uint64_t seq;
    time_t time;                       /* 0 when it is not a time */
    const char *op; /* "" when a record (unchecked) has none */
    /* The strings below are NULL when absent or not a string. */
    const char *host, *user, *command;
    const char *dataset, *generation, *medium;
    bool ok;             /* outcome "ok" */
    const char *outcome; /* as written: "ok" or "failed" in what bkp wrote */
    const char *error, *error_ja;
    const json_t *figures;                     /* an object, may be NULL */
    json_t *json; /* the record whole, for a reader that prints or keeps it */
} bkp_audit_entry;
/* Keep `e` past the call that handed it over, in `slot` (its fields point
 * into its record, a reference to which `slot` holds); what `slot` held
 * before is released. bkp_audit_entry_release lets it go (an empty slot,
 * json NULL, is nothing to release). */
void bkp_audit_entry_hold(bkp_audit_entry *slot, const bkp_audit_entry *e);
void bkp_audit_entry_release(bkp_audit_entry *slot);
/* Whether record `e` (bkp_audit_reports_set) keeps a report of SHA-256 `sha256` (hex), or, `sha256`
 * NULL, names a report file `name` (its last component); and whether it
 * keeps its reports' SHA-256 at all (records of older versions do not). */
bool bkp_audit_names_report(const bkp_audit_entry *e, const char *sha256, const char *name);
bool bkp_audit_keeps_sums(const bkp_audit_entry *e);
/* Whether the sheets record `used` says opened a repository (a "key-from"
 * record, or a key-recovery drill's "key_sheets") include one that the
 * split of record `split` ("key-split", the last before it) did not make:
 * sheets of an older split, whose holders still keep enough of them. Each
 * names its sheets' checksums (sheet.h); a record without them (written
 * before, or a paper sheet) is not judged: false. */
bool bkp_audit_sheets_older(const bkp_audit_entry *split, const bkp_audit_entry *used);
/* The `i`-th generation ("DATASET:SEQ") a prune of the repository deleted
 * by record `e`: a "prune-generation" record's own (written before each
 * tombstone), or one of an older bkp's "prune" record's
 * `generations_deleted`; NULL past the last, and for any other record or a
 * medium's prune (which deletes from its copy, not from the repository). */
const char *bkp_audit_pruned(const bkp_audit_entry *e, size_t i);
/* What a reader of the records is called with, until it returns non-zero. */
typedef int (*bkp_audit_fn)(const bkp_audit_entry *e, void *ctx);

/* Call `fn` with each record of the log at `path` in order, parsed but not
 * checked (bkp_audit_verify checks), until it returns non-zero. -ENOENT when
 * there is no log yet. */
int bkp_audit_each(const char *path, bkp_audit_fn fn, void *ctx);
/* Call `fn` as bkp_audit_each does, with only the records that are sound
 * by themselves under `pk`: signed by it, in their place (their seq is
 * their line), in the form they were written in. A line an insider wrote
 * without the key (appended, or put in place of a record) is never seen; a
 * signed record after one that was changed still is (what it says happened
 * did). `chk` (may be NULL) receives the check of the whole log, made in
 * the same pass: the log is read once and each signature checked once.
 * Once `fn` returns non-zero it is not called again; the check goes on to
 * the end. Returns `fn`'s non-zero when it stopped, else 0 when the log was
 * checked (problems: `chk->bad`; the sound records were still walked),
 * -ENOENT when there is no log, another negative errno. */
int bkp_audit_each_sound(const char *path, const uint8_t pk[32], bkp_audit_fn fn, void *ctx,
                         bkp_audit_check *chk);
/* What bkp_audit_last looks for: records of `op`; with `outcome`, only those
 * with that outcome; with `figure`, only those whose figures[figure] is the
 * string `equals`, or true when `equals` is NULL. */
typedef struct bkp_audit_query {
    const char *op;
    const char *outcome;
    const char *figure;
    const char *equals;
} bkp_audit_query;
/* The last record of the log at `path` that is sound by itself under `pk`
 * (as bkp_audit_each_sound walks them; in the log's order, which is the
 * order things happened) that matches `q`, held in `*out`
 * (bkp_audit_entry_release): true; false, `*out` empty (its time 0), when
 * none does or there is no log. For what to do next: a forged record
 * cannot silence a reminder. With `pk` NULL the whole log is read unchecked
 * (cheaper: only for whether to append a record, where a forged one costs a
 * record not written). */
bool bkp_audit_last(const char *path, const uint8_t pk[32], const bkp_audit_query *q,
                    bkp_audit_entry *out);
/* The log's path in repository `r` (malloc'd). */
char *bkp_audit_path(const bkp_repo *r);
/* The log's path in the repository folder `dir` (malloc'd), for a reader
 * that opens no repository (bkp policy print --regulation). */
char *bkp_audit_path_in(const char *dir);

#endif
