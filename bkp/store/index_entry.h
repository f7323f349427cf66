/*
 * index_entry.h — where one blob is: the entry the blob index (index.h)
 * keeps in memory and the blob index table (itable.h) keeps on disk. Its
 * own header, so that the table needs nothing else of the index.
 */
#ifndef BKP_INDEX_ENTRY_H
#define BKP_INDEX_ENTRY_H

#include <stdint.h>

#include "bkp/store/blob.h"

typedef struct bkp_index_entry {
    uint8_t id[BKP_ID_LEN];
    uint8_t type;
    uint32_t pack; /* number from bkp_index_add_pack */
    uint64_t offset;
    uint32_t len;
    uint32_t raw_len;
} bkp_index_entry;

#endif
