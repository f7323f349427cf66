/*
 * dump.h — a lost file back without a restore: one stored file's content
 * to a descriptor (`bkp dump`), and which generations hold a path matching
 * a pattern (`bkp find`).
 */
#ifndef RST_DUMP_H
#define RST_DUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/store/tree.h"

/* Write the content of the regular file stored at `path` (as `bkp ls`
 * shows it, leading '/' or not) in generation `g` to `fd`: every chunk
 * fetched, authenticated and checked against its ID (bkp_repo_get), holes
 * as zeros, the chunks and regions checked against its size. A hard link gives the content of the file it
 * names. -ENOENT: no such path (logged); -EISDIR: it is not a regular file
 * (logged); -EBADMSG: damaged (logged); -EPIPE and other write errors. */
int rst_dump(const bkp_repo *r, const bkp_gen *g, const char *path, int fd, uint64_t *bytes)
    __attribute__((warn_unused_result));

/* Is stored file `it` of `size` bytes whole: its chunk list its own (not
 * content_bad), its data regions in order within its size, and its chunks
 * exactly filling them? 0, or -EBADMSG (logged, naming `name`). */
int rst_item_check(const bkp_item *it, uint64_t size, const char *name)
    __attribute__((warn_unused_result));

/* Call `fn` with each item of generation `g` whose path matches the shell
 * pattern `pattern`: against the whole stored path (with a leading '/')
 * when the pattern has a '/', else against the last component. Its
 * non-zero return stops and is returned; a damaged file list is -EBADMSG. */
int rst_find(const bkp_repo *r, const bkp_gen *g, const char *pattern,
             int (*fn)(const bkp_gen *g, const bkp_item *it, void *ctx), void *ctx)
    __attribute__((warn_unused_result));

#endif
