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
 */
#ifndef BKP_AUDIT_H
#define BKP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bkp/repo.h"

typedef struct bkp_audit_rec {
    const char *op;         /* "backup", "prune", "verify", ... */
    const char *dataset;    /* may be NULL */
    const char *generation; /* "emr-db:42", may be NULL */
    const char *medium;     /* may be NULL */
    bool failed;
    const char *error; /* may be NULL */
    json_t *figures;   /* borrowed, may be NULL */
} bkp_audit_rec;

/* The command line recorded with every record (set once, by main). */
void bkp_audit_set_command(int argc, char **argv);

/* Append one signed record, durably. Logs and returns an error on failure. */
int bkp_audit_append(bkp_repo *r, const bkp_audit_rec *rec) __attribute__((warn_unused_result));

typedef struct bkp_audit_check {
    uint64_t records;
    uint64_t first_bad; /* 0: none; else the position (seq) of the first bad record */
    uint64_t missing;   /* records the other copy has beyond the end of this one */
    char problem[512];
} bkp_audit_check;

/* Check the log at `path` against public key `pk`; with `against` (another
 * copy), also that neither log lost records the other has. 0 clean, 1
 * problems (described in `out`), negative on failure to read. */
int bkp_audit_verify(const char *path, const uint8_t pk[32], const char *against,
                     bkp_audit_check *out);

/* Call `fn` with each record of the log at `path` in order, parsed but not
 * checked (bkp_audit_verify checks), until it returns non-zero. -ENOENT when
 * there is no log yet. */
int bkp_audit_each(const char *path, int (*fn)(json_t *rec, void *ctx), void *ctx);
/* The log's path in repository `r` (malloc'd). */
char *bkp_audit_path(const bkp_repo *r);

#endif
