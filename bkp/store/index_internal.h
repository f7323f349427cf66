/*
 * index_internal.h — the blob index's insides, shared by index.c (the hash
 * table in memory) and index_levels.c (the tables off the heap).
 */
#ifndef BKP_INDEX_INTERNAL_H
#define BKP_INDEX_INTERNAL_H

#include "bkp/store/index.h"
#include "bkp/store/itable.h"

/*
 * Entries live in one dense array (grown by realloc, which for large blocks
 * moves pages rather than copying them, and whose unused tail is never
 * touched), found through an open-addressing table of 8-byte slots: the
 * entry's number and 4 more bytes of its ID, so that a probe rarely reads an
 * entry that is not the one sought. About 70 bytes per blob in all, where a
 * table of whole entries at the same load costs twice that and three times
 * while it grows.
 */
typedef struct bkp_index_slot {
    uint32_t tag; /* ID bytes 8..11 */
    uint32_t at;  /* entry number + 1; 0: a free slot */
} bkp_index_slot;

/* One table of the entries off the heap, and the segments it holds. */
typedef struct bkp_index_level {
    bkp_itable *t;
    uint8_t (*names)[BKP_ID_LEN]; /* sorted */
    uint32_t nnames;
} bkp_index_level;

struct bkp_index {
    bkp_index_entry *ents;
    uint64_t count, ents_cap;
    bkp_index_slot *slots;
    uint64_t cap; /* a power of two */
    uint8_t (*packs)[BKP_ID_LEN];
    uint32_t npacks, packs_cap;
    bkp_index_level *levels; /* oldest first; none: every entry in memory */
    uint32_t nlevels;
    bkp_index_entry *hit; /* what a lookup found in a table */
    int table_err;        /* latched: a block of a table failed after its open */
};

/* index_levels.c: the lookup in the tables, newest first (index.c warns). */
int bkp_index_levels_lookup(const bkp_index *x, const uint8_t id[BKP_ID_LEN]);
/* Forget the memory's entries (they are in a table now). */
void bkp_index_memory_clear(bkp_index *x);

#endif
