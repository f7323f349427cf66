/*
 * verify.h — prove that every sealed generation is restorable.
 *
 * Always: every record's signature and chain link, every tree blob and every
 * chunk it names is indexed and its pack is present. With read_data: every
 * pack file is read back, its name checked, its trailer and every blob
 * authenticated and re-hashed. Each problem names the pack and the
 * generations and files it affects. On a primary, the audit log is checked
 * against the records: a generation it says was sealed must be there, or
 * have a "pruned" tombstone backed by a prune record of the log.
 *
 * Errors: each check returns 0 when it ran to its end, whatever it found:
 * the problems are counted in `res->problems` (and printed and kept in
 * `res->messages`), so "checked, and damaged" is a count, never a code. A
 * negative errno only when the check could not be made (the records cannot
 * be listed, a segment cannot be read, no memory).
 */
#ifndef BKP_VERIFY_H
#define BKP_VERIFY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

typedef struct bkp_verify_result {
    uint64_t generations, packs_read, blobs_read, bytes_read;
    uint64_t problems;
    uint64_t tombstones, audit_records, pins; /* what bkp_verify_public checked besides */
    uint64_t log_problems; /* of `problems`: the audit log's own (not a record it says is gone) */
    char **messages;                          /* one line per problem, as printed */
    size_t nmessages;
    uint8_t (*bad_packs)[32]; /* packs missing, damaged, or not as the index says */
    size_t nbad_packs;
} bkp_verify_result;

void bkp_verify_result_clear(bkp_verify_result *res);

/* Count a problem in `res` and print it: `fmt` (as printf) is a message
 * marked N_(), printed in the reader's language and kept in English in
 * `messages` (--json, the audit log). For checks beside bkp_verify's, as
 * `verify --media` makes of a medium's recovery kit. */
void bkp_verify_add_problem(bkp_verify_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bkp_verify_add_vproblem(bkp_verify_result *res, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The same with both texts made by the caller: `shown` printed, `kept` kept. */
void bkp_verify_add_said(bkp_verify_result *res, const char *shown, const char *kept);

/* 0 when the check ran (problems found: `res->problems` > 0), negative
 * when it could not. Clear `res` afterwards in every case. */
int bkp_verify(const bkp_repo *r, bool read_data, int workers, bkp_verify_result *res)
    __attribute__((warn_unused_result));

/* Only the audit log of a primary against its records: every generation
 * the log says was sealed is there or was deleted by a prune the log
 * records, and every tombstone is backed by such a prune (what `verify`
 * also checks). 0 when it ran (problems counted in `res`), negative on
 * failure. */
int bkp_verify_log(const bkp_repo *r, bkp_verify_result *res) __attribute__((warn_unused_result));
/* The same against the generations `v` of `r` (bkp_gen_list, all data
 * sets; borrowed) that the caller read already. */
int bkp_verify_log_of(const bkp_repo *r, bkp_gen *const *v, size_t n, bkp_verify_result *res)
    __attribute__((warn_unused_result));

/*
 * What the public key alone proves, on a repository opened with it
 * (bkp_repo_open_public) or any other: every generation record's, tombstone's
 * and clearance's signature; the chain of each data set's records; on a
 * primary, the audit log — its records' signatures and chain, its signed
 * head marker — against the records (as bkp_verify_log does), and every pin
 * kept in media/ (media/NAME.pin, pin.h) against the records and the log.
 * Nothing is decrypted: that the objects the records name are there and
 * sound needs the key (bkp_verify). 0 when it ran (problems counted in
 * `res`), negative on failure. Clear `res` afterwards in every case.
 */
int bkp_verify_public(const bkp_repo *r, bkp_verify_result *res)
    __attribute__((warn_unused_result));

/* The same, reading back only the packs named (hex) in `packs`: a sample. */
int bkp_verify_packs(const bkp_repo *r, char *const *packs, size_t n, int workers,
                     bkp_verify_result *res) __attribute__((warn_unused_result));

#endif
