/*
 * browse.h — generations as a read-only tree of folders, for `bkp mount`.
 *
 * What the root shows depends on what was asked for: every data set (one
 * folder per data set, in each one folder per generation named as `bkp
 * generations` names it, "DATASET:SEQ", and a symbolic link `latest`), one
 * data set (its generation folders and `latest`), or one generation (its
 * stored paths at the root). A generation's folder holds the paths as `bkp
 * ls` shows them; folders above the captured paths, which were not stored,
 * appear with mode 0555, owner 0 and the generation's time.
 *
 * Nothing is read at creation but the generation records: a generation's
 * item stream is read whole (every tree blob authenticated) the first time
 * anything inside its folder is looked up or listed, and kept in memory
 * (about 250 bytes per item plus 36 bytes per chunk reference) until
 * rst_browse_free. A file's content is read on demand, by range, chunk by
 * chunk through bkp_repo_get (authenticated, checked against its ID), with a
 * cache of at most RST_BROWSE_CACHE_CHUNKS chunks and RST_BROWSE_CACHE_BYTES
 * bytes (the newest chunk always kept). A chunk that cannot be read makes
 * that read fail with -EIO, logged once per file; no wrong byte is returned.
 *
 * Stored owner, group, mode, times and size are kept. A hard link shows as a
 * separate file with the content of the file it names (link count 1).
 *
 * The handle is not thread-safe: one caller at a time (bkp mount serves the
 * kernel from one thread). Nodes stay valid until rst_browse_free.
 */
#ifndef RST_BROWSE_H
#define RST_BROWSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bkp/store/repo.h"

#define RST_BROWSE_CACHE_CHUNKS 8
#define RST_BROWSE_CACHE_BYTES (32u << 20)

typedef struct rst_browse rst_browse;
typedef struct rst_node rst_node;

/* A view of repository `r` (borrowed, open until rst_browse_free): `spec`
 * NULL for every data set, a data set's name for its generations, else a
 * generation (DATASET:SEQ, DATASET:latest, a UUID prefix). Generations
 * deleted by prune or whose record is damaged are left out (a damaged one
 * is warned about). -ENOENT (logged) when `spec` names nothing; -EINVAL
 * (logged) when it is ambiguous. */
int rst_browse_new(const bkp_repo *r, const char *spec, rst_browse **out)
    __attribute__((warn_unused_result));
void rst_browse_free(rst_browse *b);

/* The node at `path` ("/", "/emr-db/emr-db:3/var/x"): 0, -ENOENT, -ENOTDIR
 * (a component is not a folder), -EIO when the item stream of the
 * generation it lies in could not be read whole (logged once: what was read
 * before the damage is still shown). */
int rst_browse_lookup(rst_browse *b, const char *path, rst_node **out);
/* Its metadata (st_ino left 0). */
void rst_browse_stat(const rst_node *n, struct stat *st);
/* A symbolic link's stored target, else NULL. */
const char *rst_browse_link(const rst_node *n);
/* Call `fn` with the name and metadata of each entry of folder `dir`, in
 * name order ("." and ".." are not given); its non-zero return stops and is
 * returned. -ENOTDIR; a generation's folder whose item stream is damaged
 * lists what was read before the damage (logged once). */
int rst_browse_list(rst_browse *b, rst_node *dir,
                    int (*fn)(const char *name, const struct stat *st, void *ctx), void *ctx);
/* Before reading a regular file: its data regions and chunks are checked
 * once against its size. 0; -EISDIR when it is
 * not a regular file; -EIO (logged once) when the stored list is damaged. */
int rst_browse_open(rst_browse *b, rst_node *n);
/* Read up to `len` bytes at `off` of regular file `n` (opened) into `buf`:
 * the number of bytes (0 at or past the end), holes as zeros, or -EIO when
 * a chunk it needs is missing or fails authentication (logged once). */
ssize_t rst_browse_read(rst_browse *b, rst_node *n, uint64_t off, void *buf, size_t len);

#endif
