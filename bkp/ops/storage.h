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
/* The bytes of the files below folder `path` (a medium's: a folder of
 * archives, what sits beside a disk's copy), but `skip` (a name in `path`
 * not counted; NULL: none), into `*bytes`, the same way: 0, or a negative
 * errno (logged). */
int ops_folder_bytes(const char *path, const char *skip, uint64_t *bytes);
/* What the generations `v` (`n`, bkp_gen_list's: by data set, then
 * sequence) stand for, into the rest of `out`. */
void ops_storage_count(rst_storage *out, bkp_gen *const *v, size_t n);

#endif
