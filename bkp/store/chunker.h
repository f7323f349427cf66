/*
 * chunker.h — content-defined chunking (FastCDC-style gear hash, normalised).
 *
 * The gear table is derived from a repository secret so that chunk sizes do
 * not fingerprint known files. Cut points depend only on the content and the
 * secret, so an insert shifts only the chunks around it.
 */
#ifndef BKP_CHUNKER_H
#define BKP_CHUNKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BKP_CHUNK_MIN (256U << 10)
#define BKP_CHUNK_AVG (1U << 20)
#define BKP_CHUNK_MAX (4U << 20)

typedef struct bkp_chunker bkp_chunker;

/* `avg` must be a power of two with min < avg < max. -EINVAL otherwise. */
int bkp_chunker_new(const uint8_t seed[32], uint32_t min, uint32_t avg, uint32_t max,
                    bkp_chunker **out);
void bkp_chunker_free(bkp_chunker *c);
uint32_t bkp_chunker_max(const bkp_chunker *c);

/*
 * Length of the chunk that starts at `data`, or 0 when more data is needed.
 * The caller offers at least `max` bytes unless `eof` (no more bytes follow);
 * with `eof` the answer is never 0 for len > 0.
 */
size_t bkp_chunker_cut(const bkp_chunker *c, const uint8_t *data, size_t len, bool eof);

/* How far the search for one chunk's end has looked: zero it at each chunk's
 * start (and after each answer of bkp_chunker_cut_more). */
typedef struct bkp_cut_state {
    size_t pos;  /* bytes of the chunk already looked at */
    uint64_t fp; /* the hash after them */
} bkp_cut_state;

/*
 * bkp_chunker_cut's answer, found as the bytes arrive: `data` is the chunk's
 * start and `len` the bytes there so far, fewer than max allowed without
 * `eof` (the caller may offer more each call, at the same start). Returns the
 * chunk's length as soon as its cut point lies within those bytes, else 0;
 * `st` remembers the bytes looked at, so each is hashed once. The answer is
 * the one bkp_chunker_cut gives for the whole chunk: whether a position is a
 * cut point depends only on the bytes from the chunk's start to it.
 */
size_t bkp_chunker_cut_more(const bkp_chunker *c, bkp_cut_state *st, const uint8_t *data,
                            size_t len, bool eof);

#endif
