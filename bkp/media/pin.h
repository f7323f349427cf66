/*
 * pin.h — what a medium saw of the primary when it was last written.
 *
 * Every rotation to a disk medium and every archive run leaves on the medium
 * a signed pin, BKP-PIN beside its label (and a copy in the primary,
 * media/NAME.pin, for when the medium is away):
 *   "BKPPIN01" | u32le length | JSON | Ed25519 signature (64 bytes)
 * the signature (the repository's key) covering everything before it. The
 * JSON names, for each data set, its head on the primary at that time
 * (sequence number and record hash) and the audit log's length (records)
 * and the BLAKE2b-256 of its last line (docs/FORMAT.md).
 *
 * Before a medium is written again, and whenever status, run or
 * verify --media look at it, the primary is compared with the pin. A primary
 * that is behind it (a pinned head or audit record missing: a rollback, a
 * deleted record, a cut log) or beside it (the same position holding other
 * bytes: rewritten history) must not be copied over the medium, whose copy
 * is then the better one. The pin only proves what the key holder signed:
 * a host that holds the key can sign a lower pin, but cannot make an
 * off-line medium it does not reach forget the one it holds.
 *
 * Errors: -ENOENT no pin, -EBADMSG a pin that fails its signature, size,
 * type or name checks (never used), -ENOMEM.
 */
#ifndef BKP_PIN_H
#define BKP_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

#define BKP_PIN_FILE "BKP-PIN"
#define BKP_PIN_MAGIC "BKPPIN01"
#define BKP_PIN_MAX (1U << 20) /* the whole file; caps what a medium can make us parse */

typedef struct bkp_pin_head {
    char dataset[65];
    uint32_t seq;
    uint8_t record[BKP_ID_LEN]; /* BLAKE2b-256 of the record file */
} bkp_pin_head;

typedef struct bkp_pin {
    char medium[65];
    char repository[37];
    time_t time;
    bkp_pin_head *heads; /* owned; sorted by data set */
    size_t nheads;
    uint64_t audit_records; /* lines of the primary's audit log */
    uint8_t audit_last[32]; /* hash of line `audit_records` (zero when 0) */
} bkp_pin;

/* What the primary holds now, as a pin for `medium` (`*out` owned). */
int bkp_pin_make(bkp_repo *r, const char *medium, bkp_pin **out)
    __attribute__((warn_unused_result));
/* The same from the generations `v` (bkp_gen_list of `r`, all data sets),
 * borrowed: the heads a rotation pins are those of the list it checked and
 * copied from (ops/pins.h). The audit log is read now. */
int bkp_pin_make_of(bkp_repo *r, const char *medium, bkp_gen *const *v, size_t n, bkp_pin **out)
    __attribute__((warn_unused_result));
/* Sign `p` with the keys of `r` and write it as `dir`/`name`, durably,
 * replacing the previous pin. */
int bkp_pin_write(bkp_repo *r, const bkp_pin *p, const char *dir, const char *name)
    __attribute__((warn_unused_result));
/* Read and authenticate the pin at `path` with the keys of `r`; it must
 * name the repository of `r`. */
int bkp_pin_read(const bkp_repo *r, const char *path, bkp_pin **out);
/* Parse the JSON of a pin whose signature was checked (or that a fuzzer
 * made up): every field's type, every name and hash checked. */
int bkp_pin_parse(const uint8_t *json, size_t len, bkp_pin **out);
void bkp_pin_free(bkp_pin *p);

/* The primary's audit log as a pin sees it: its complete lines, and the
 * hash of line `at` (the last when `at` is 0), `have_at` when it exists. */
typedef struct bkp_pin_log {
    uint64_t records;
    bool have_at;
    uint8_t at[32];
} bkp_pin_log;
int bkp_pin_log_read(const char *path, uint64_t at, bkp_pin_log *out);
/* The same for `n` positions `at[i]` in one pass over the log: `out[i]` for
 * each (every pin of every medium compared with one read of the log). */
int bkp_pin_log_read_many(const char *path, const uint64_t *at, size_t n, bkp_pin_log *out);

/* One way the primary falls short of a pin. */
typedef struct bkp_pin_finding {
    char dataset[65]; /* "" for the audit log */
    bool beside;      /* the position exists with other bytes: history rewritten */
    char what[400];   /* what is missing or different, for people */
} bkp_pin_finding;

/* Compare the primary — its generations `v` (bkp_gen_list, all data sets)
 * and its log `log` (read at the pin's audit position) — with pin `p`.
 * Findings go to `*out` (malloc'd, NULL when none); returns their number,
 * or a negative errno. Pure: no I/O, unit-tested with made-up lists. */
int bkp_pin_compare(const bkp_pin *p, bkp_gen *const *v, size_t n, const bkp_pin_log *log,
                    bkp_pin_finding **out);

#endif
