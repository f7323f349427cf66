/*
 * slab.h — a few large read buffers, shared by the chunks cut from them.
 *
 * A backup's reading thread reads file bytes into one slab after another and
 * hands the workers each chunk as a view into its slab, never as a copy. A
 * slab holds one reference for the reader while it fills it and one for each
 * chunk not yet stored; it is reused once the last is dropped. Memory is at
 * most `count` slabs of `size` bytes (allocated when first needed), whatever
 * the sizes of the files: bkp_slab_get waits for a free one.
 *
 * Thread-safe: the reader gets and drops, workers drop, from any thread.
 */
#ifndef BKP_SLAB_H
#define BKP_SLAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct bkp_slab {
    uint8_t *data; /* `size` bytes */
    size_t len;    /* bytes filled by the reader */
    unsigned refs;
    struct bkp_slab *next; /* in the free list */
} bkp_slab;

typedef struct bkp_slab_pool bkp_slab_pool;

/* -EINVAL for a zero size or count, -ENOMEM. */
int bkp_slab_pool_new(size_t size, unsigned count, bkp_slab_pool **out);
/* Every slab must have been dropped. NULL is a no-op. */
void bkp_slab_pool_free(bkp_slab_pool *p);
size_t bkp_slab_size(const bkp_slab_pool *p);

/* An empty slab with one reference, the caller's; waits while every slab is
 * in use. -ENOMEM when a slab cannot be allocated. */
int bkp_slab_get(bkp_slab_pool *p, bkp_slab **out);
/* One more reference (a chunk handed out). */
void bkp_slab_ref(bkp_slab_pool *p, bkp_slab *s);
/* One reference less; the last makes the slab free again. NULL is a no-op. */
void bkp_slab_drop(bkp_slab_pool *p, bkp_slab *s);

#endif
