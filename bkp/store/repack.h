/*
 * repack.h — blobs of a repository written again into new packs.
 *
 * Each blob is read back authenticated (bkp_repo_get: a damaged blob is
 * never copied as if it were good), sealed anew by a worker thread (one a
 * processor, up to four) and appended, in the order added, to a pack of
 * about BKP_PACK_TARGET bytes in `dir`; each finished pack (durable, renamed
 * to dir/XX/ID) is handed to `done` with its trailer's list, in the caller's
 * thread. A write that fails is reported by a later add or by the flush. Prune moves the
 * live blobs of mostly empty packs this way; an archive gathers exactly the
 * blobs of one generation.
 */
#ifndef BKP_REPACK_H
#define BKP_REPACK_H

#include <stdint.h>

#include "bkp/store/pack.h"
#include "bkp/store/repo.h"

typedef struct bkp_repacker {
    bkp_repo *repo;
    const char *dir; /* where the new packs go */
    int (*done)(const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *e, uint32_t n, void *ctx);
    void *ctx;
    /* private */
    struct bkp_repack_pool *pool; /* the sealing workers, started by the first add */
    bkp_pack_writer *w;
    bkp_pack_entry *pending;
    size_t npending, cap;
    uint64_t moved;   /* plaintext bytes written */
    uint64_t written; /* sealed bytes written */
} bkp_repacker;

/* Append blob `id` of `type`. Logs what failed. */
int bkp_repacker_add(bkp_repacker *p, uint8_t type, const uint8_t id[BKP_ID_LEN])
    __attribute__((warn_unused_result));
/* Finish the open pack, if any. */
int bkp_repacker_flush(bkp_repacker *p) __attribute__((warn_unused_result));
/* Abandon the open pack and free. */
void bkp_repacker_free(bkp_repacker *p);

#endif
