/*
 * itable_levels.h — the blob index as a few tables (levels) and the
 * manifest that says which tables make it.
 *
 * Why: one table rewritten whole at every move of the memory to disk
 * (index.h) costs O(N²) bytes: an initial backup of ten million blobs wrote
 * a growing table some forty times (about 15 GB). The index is now a few
 * tables instead, LSM-style: the memory is written as a young table, and a
 * run of the newest tables is merged into one only when FANOUT of them are
 * of the same size class (class k: entries below unit × FANOUT^(k+1)), so
 * every entry is rewritten about log_FANOUT(N / unit) times and there are
 * at most (FANOUT - 1) tables a class. A lookup tests each table's Bloom
 * filter (in memory) and reads one block of the table that may hold it:
 * one pread in the common case.
 *
 * Files, in the repository's `cache/` folder (FORMAT §5a):
 *   index-table-<32 hex digits of the table ID>   a table (itable.h)
 *   index-levels    the manifest: "BKPILV01" || u32 n ||
 *                   n × (table ID (16) || u64 count), oldest first ||
 *                   BLAKE2b-256(key = table key, "bkp index levels\0" ||
 *                   all the bytes before)
 *   index-lock      a flock held while the manifest and the tables change
 *
 * Nothing in cache/ is trusted: the manifest is keyed, and a table named in
 * it must carry that table ID in its trailer (a table's own MACs cover it)
 * and that count, or the whole index is rebuilt from the segments.
 * Errors: -ENOENT no manifest, -EBADMSG one that does not check, -errno.
 */
#ifndef BKP_ITABLE_LEVELS_H
#define BKP_ITABLE_LEVELS_H

#include <stddef.h>
#include <stdint.h>

#define BKP_ITABLE_LEVELS_MAX 32
#define BKP_ITABLE_LEVELS_FANOUT 4
#define BKP_ITABLE_MANIFEST "index-levels"
#define BKP_ITABLE_LOCK "index-lock"
#define BKP_ITABLE_PREFIX "index-table-"
/* "index-table-" and 32 hex digits, and the terminator. */
#define BKP_ITABLE_NAME_LEN (12 + 32 + 1)

typedef struct bkp_itable_level {
    uint8_t tid[16];
    uint64_t count;
} bkp_itable_level;

/* The file name of table `tid`. */
void bkp_itable_name(const uint8_t tid[16], char out[BKP_ITABLE_NAME_LEN]);
/* 1 when `name` is a table's file name (its ID into `tid`), else 0. */
int bkp_itable_name_parse(const char *name, uint8_t tid[16]);

/* Read `dir`/index-levels: `*v` malloc'd (n may be 0). */
int bkp_itable_manifest_load(const char *dir, const uint8_t key[32], bkp_itable_level **v,
                             uint32_t *n) __attribute__((warn_unused_result));
/* The manifest's bytes for `v` into `out` (at most
 * bkp_itable_manifest_size(BKP_ITABLE_LEVELS_MAX)), and their parse. */
size_t bkp_itable_manifest_size(uint32_t n);
void bkp_itable_manifest_encode(const uint8_t key[32], const bkp_itable_level *v, uint32_t n,
                                uint8_t *out);
int bkp_itable_manifest_decode(const uint8_t *data, size_t len, const uint8_t key[32],
                               bkp_itable_level **v, uint32_t *n);
/* Write it durably (temp, fsync, rename, fsync the folder: durable.h). */
int bkp_itable_manifest_save(const char *dir, const uint8_t key[32], const bkp_itable_level *v,
                             uint32_t n) __attribute__((warn_unused_result));

/*
 * The policy: given the entry counts of the tables (oldest first) and a
 * young table of `add` entries about to be written, how many of the newest
 * tables to merge with it (0: the young table is written alone). `unit` is
 * the memory bound. Always leaves fewer than BKP_ITABLE_LEVELS_MAX tables.
 */
uint32_t bkp_itable_levels_plan(const uint64_t *counts, uint32_t n, uint64_t add, uint64_t unit);

#endif
