/*
 * dirs.h — the folders of a restore to disk that are made and finished by
 * descriptor.
 *
 * archive_write_disk makes a folder by its whole path: with its secure
 * flags, an lstat and an open of every component from the target down, then
 * the folder, its owner, an open to read and set its file flags, and a
 * umask round trip — some twenty-five system calls a folder, on the thread
 * that reads the item list, while the writers wait for it. On a tree of
 * many small folders that thread was the bottleneck of the whole restore.
 *
 * A plain folder (no xattrs, ACLs or Mac metadata, no file flags but those
 * ext4 gives a folder by itself, setuid/setgid only as root:
 * rst_plain_dir_fits) is made here instead: mkdirat by its last name in its
 * parent, which is still open from the item before it (the item list is in
 * walk order, parents first), never following a link (rst_plain_mkdir), mode
 * 0700 until it is finished. Its owner, mode, file flags and times are taken
 * from the item now (names looked up as archive_write_disk does) and set on
 * it by descriptor at the end, once every file in it is written, children
 * before parents: the folder ends as archive_write_disk would leave it, to
 * the bit. Folders too deep for archive_write_disk's own deferred fix-ups
 * (a path near PATH_MAX) are remembered here too and finished the same way.
 *
 * Where a parent is not open (it was not in the list, or not plain), it is
 * entered from the target with rst_folder_open, beneath the target and
 * without following any link, so nothing is made outside it.
 *
 * Against a race in the target: a folder already there (--force) is taken
 * over at once (owned by the restore, mode 0700), so whoever owned it
 * cannot move it elsewhere while the restore fills it through its
 * descriptor. At the end each folder is entered again without making
 * anything (rst_folder_enter) and finished only if it is still the folder
 * made (device and inode); one gone or replaced is reported and left as it
 * is. A deep folder's path must be plain (no ".."), and bkp_open_deep
 * refuses ".." too: a crafted item cannot have a folder outside the target
 * finished.
 *
 * Memory: one path and its metadata per folder, as archive_write_disk keeps
 * a fix-up per folder; at most RST_DIRS_OPEN descriptors are open.
 */
#ifndef RST_DIRS_H
#define RST_DIRS_H

#include <stdbool.h>
#include <stddef.h>

#include "bkp/store/tree.h"

struct archive;

#define RST_DIRS_OPEN 64

typedef struct rst_dirs rst_dirs;

/* For a restore into the directory `root` (borrowed, open for the life of
 * the handle) with the archive_write_disk options `flags`; `a` (borrowed)
 * is the restore's archive_write_disk, whose lookups give owners and groups
 * by name. NULL when out of memory. */
rst_dirs *rst_dirs_new(int root, struct archive *a, int flags);

/* Is `it` a folder this module makes (a plain folder, a plain relative
 * `path` short enough for a single lookup, or "." — the target itself,
 * when a stored folder is restored into it)? */
bool rst_dirs_takes(const rst_dirs *d, const bkp_item *it, const char *path);

/* Make the folder `it` at `path` (rst_dirs_takes said yes) and remember
 * its metadata for rst_dirs_finish ("." only remembered: the target is
 * there, and is finished after everything in it). 0, or the negative errno
 * of the folder that could not be made (the caller says so). */
int rst_dirs_make(rst_dirs *d, const bkp_item *it, const char *path)
    __attribute__((warn_unused_result));

/* Remember a folder archive_write_disk made at a path too long for its own
 * fix-ups, to be finished by rst_dirs_finish_deep. */
void rst_dirs_add_deep(rst_dirs *d, const bkp_item *it, const char *path);

/* Finish the folders made here (children first): owner, mode, flags, times.
 * Call once every file is written. Returns how many could not be entered
 * (each said); what cannot be set on one that was is warned. */
size_t rst_dirs_finish(rst_dirs *d);

/* The same for the deep folders: after archive_write_disk is closed. */
size_t rst_dirs_finish_deep(rst_dirs *d);

void rst_dirs_free(rst_dirs *d);

#endif
