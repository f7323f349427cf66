/*
 * fetch.h — chunks fetched ahead, in order, by worker threads.
 *
 * The writer asks for chunks in the order it will write them; workers fetch,
 * authenticate and decompress them meanwhile (bkp_repo_get_sealed). At most `depth` chunks are in
 * flight or waiting, so memory stays bounded whatever the file sizes.
 */
#ifndef RST_FETCH_H
#define RST_FETCH_H

#include "bkp/store/repo.h"

typedef struct rst_fetch rst_fetch;

int rst_fetch_new(const bkp_repo *r, int workers, unsigned depth, rst_fetch **out);
void rst_fetch_free(rst_fetch *f);
/* Room for another request? */
bool rst_fetch_room(const rst_fetch *f);
/* Queue a chunk; requests complete in the order they were queued. */
int rst_fetch_push(rst_fetch *f, const uint8_t id[BKP_ID_LEN]);
/* Wait for the oldest request. `*data` is valid until the next pop; the
 * return value is 0 or the fetch's error (-ENOENT, -EBADMSG). */
int rst_fetch_pop(rst_fetch *f, const uint8_t **data, size_t *len);

/* Say that chunk `id` of the file `path` is missing (`rc` -ENOENT) or
 * damaged, in which pack, and that the file is not restored. Thread-safe. */
void rst_fetch_report(const bkp_repo *r, const char *path, const uint8_t id[BKP_ID_LEN], int rc);

#endif
