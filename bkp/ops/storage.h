/*
 * storage.h — what a repository takes on its disk, and what that stands
 * for: the bytes a disk, a tape or a bucket will need for a copy of it, and
 * the ratio of those to the files its generations hold (`bkp status`),
 * into the status record's rst_storage (bkp/report/status_doc.h).
 */
#ifndef BKP_OPS_STORAGE_H
#define BKP_OPS_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "bkp/report/status_doc.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

/* The bytes of `r`'s files into `out->stored` and `out->packs`: 0, or a
 * negative errno when its folders cannot be read (logged). One stat per
 * file, nothing read. */
int ops_storage_files(const bkp_repo *r, rst_storage *out);
/* What the medium at folder `path` holds, in bytes, into `*bytes`: its
 * label and pins (BKP-*), its recovery kit, its archives (DATASET@SEQ.tar),
 * and the repository copy `copy` (NULL: none) as ops_storage_files counts
 * it; nothing else on that file system, nothing on another mounted below,
 * no link followed. 0, or a negative errno (not said: the caller warns;
 * `*bytes` is then 0). */
int ops_medium_bytes(const char *path, const bkp_repo *copy, uint64_t *bytes);
/* What the generations `v` (`n`, bkp_gen_list's: by data set, then
 * sequence) stand for, into the rest of `out`. */
void ops_storage_count(rst_storage *out, bkp_gen *const *v, size_t n);

#endif
