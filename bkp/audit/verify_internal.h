/*
 * verify_internal.h — what verify.c and verify_audit.c share: the state of
 * one verification and the way a problem is reported. Nothing else
 * includes it.
 */
#ifndef BKP_VERIFY_INTERNAL_H
#define BKP_VERIFY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/store/index.h"
#include "bkp/audit/verify.h"

#define AFFECTED_SHOWN 5

typedef struct bad_pack {
    uint8_t id[BKP_ID_LEN];
    char reason[160];  /* what is wrong with it, in English (kept) */
    char shown[320];   /* the same in the reader's language (printed) */
    uint64_t affected; /* files affected */
    char **gens;       /* generation names affected */
    size_t ngens;
    char *files[AFFECTED_SHOWN];
    size_t nfiles;
} bad_pack;

typedef struct verify_ctx {
    const bkp_repo *repo;
    bkp_verify_result *res;
    pthread_mutex_t lock;
    char **packs; /* pack file paths found on disk */
    size_t npacks, next;
    bkp_index *bad_blobs; /* blobs that failed: .pack is an index into bad[] */
    bad_pack *bad;
    size_t nbad;
    int8_t *pack_missing; /* per index pack number: 1 missing, 0 present, -1 unknown */
    uint32_t *indexed;    /* per index pack number: entries the index places there */
    struct pack_num {
        uint8_t id[BKP_ID_LEN];
        uint32_t num;
    } * nums; /* index pack IDs, sorted, for lookups by file name */
    uint32_t nnums;
    char *const *only; /* read only these packs (hex names, sorted), when set */
    size_t nonly;
    struct timespec t0; /* for the progress meter */
} verify_ctx;

/* bkp_verify_add_problem (verify.h) on the result of `c`. */
void bkp_verify_problem(verify_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* verify_audit.c: the primary's audit log against its records — every
 * generation it says was sealed is there or was pruned, times do not go
 * backwards, the key file is not older than the last key change it records
 * (`log_problems`: also report the log's own defects). */
void bkp_verify_check_audit(verify_ctx *c, bkp_gen **v, size_t n, bool log_problems);

#endif
