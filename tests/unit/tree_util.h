/*
 * tree_util.h — an item record as bkp wrote it before version 2 of the item
 * stream (FORMAT.md §6): the content hash stored before the chunk count.
 */
#ifndef BKP_TEST_TREE_UTIL_H
#define BKP_TEST_TREE_UTIL_H

#include "bkp/store/tree.h"

/* Rewrite `rec`, one version-2 record of `it` (with its u32 length), as the
 * version-1 record of the same item, storing it->content as its hash. */
static inline void tree_record_as_version_1(const bkp_item *it, bkp_buf *rec)
{
    size_t at = rec->len - 4 - (size_t)it->nchunks * (BKP_ID_LEN + 4);
    bkp_buf v1;
    bkp_buf_init(&v1);
    bkp_buf_put(&v1, rec->data, at);
    bkp_buf_put(&v1, it->content, BKP_ID_LEN);
    bkp_buf_put(&v1, rec->data + at, rec->len - at);
    assert_false(v1.failed);
    bkp_le32(v1.data, (uint32_t)(v1.len - 4));
    bkp_buf_free(rec);
    *rec = v1;
}

#endif
