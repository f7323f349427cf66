/*
 * browse_internal.h — the nodes and the chunk cache of a browse handle,
 * shared by browse.c (the folders) and browse_read.c (file contents) only.
 */
#ifndef RST_BROWSE_INTERNAL_H
#define RST_BROWSE_INTERNAL_H

#include <stdbool.h>

#include "bkp/store/generation.h"
#include "bkp/store/tree.h"
#include "restore/browse.h"

struct rst_node {
    char *name; /* owned; "" for the root */
    rst_node *parent;
    rst_node **kids; /* owned; sorted by name (strcmp) */
    uint32_t nkids, cap;
    struct stat st;
    char *link;     /* owned: a symbolic link's target */
    bkp_gen *gen;   /* a generation's folder: its record (borrowed from the handle) */
    int loaded;     /* a generation's folder: 0 not read yet, 1 read, -EIO damaged */
    bkp_item it;    /* a regular file: chunks, regions, content hash (no entry) */
    rst_node *same; /* a hard link: the file it names, in the same generation */
    /* After rst_browse_open: where each chunk (nchunks + 1) and each region
     * begins in the data stream (the file's bytes without its holes). */
    uint64_t *cstart, *rstart;
    int checked; /* 0 not yet, 1 whole, -EIO damaged */
    bool told;   /* a failed read of it was logged */
};

typedef struct rst_cached {
    uint8_t id[BKP_ID_LEN];
    bkp_buf data;
    uint64_t used; /* the handle's clock when last used; 0: empty slot */
} rst_cached;

struct rst_browse {
    const bkp_repo *r;
    rst_node *root;
    bkp_gen **gens; /* owned */
    size_t ngens;
    rst_cached cache[RST_BROWSE_CACHE_CHUNKS];
    uint64_t clock;
};

/* The file a node's content is read from (itself, or what a hard link names). */
static inline rst_node *rst_browse_data(rst_node *n)
{
    return n->same ? n->same : n;
}
/* A node's path inside its generation, for messages (malloc'd, or NULL). */
char *rst_browse_path(const rst_node *n);
/* Drop the cached chunks (rst_browse_free). */
void rst_browse_cache_clear(rst_browse *b);
/* Free what rst_browse_open computed for `n`. */
void rst_browse_node_data_free(rst_node *n);

#endif
