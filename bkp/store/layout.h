/*
 * layout.h — a repository copy on a medium holds only its own folders.
 *
 * Everything bkp writes into a copy (packs, index segments, records,
 * tombstones, locks, pins, the audit log's copy) and everything its prune
 * deletes is reached by joining names to the copy's path. A medium that
 * someone prepared could put a symbolic link where a folder belongs
 * (repo/packs -> /var/lib/..., repo/generations/DS -> the primary's records),
 * and every such write or delete would land outside the medium. So before a
 * copy is opened or started, its top folder and every folder bkp uses
 * inside it must be a real folder, not a link and not anything else.
 *
 * What this does not cover: a process on the host swapping a folder for a
 * link between the check and the write. That is root on the host, which can
 * write to a plugged-in medium anyway (docs/SECURITY.md §9); a medium is
 * static.
 */
#ifndef BKP_LAYOUT_H
#define BKP_LAYOUT_H

#include <stdbool.h>

/* A data set name, which names a folder of generations/ (and an archive):
 * letters, digits, '.', '_', '-', at most 64, not starting with '.' or '-'. */
bool bkp_dataset_name_ok(const char *name);

/* 0 when every folder of the repository layout under `path` that exists is
 * a real folder (and `path` itself is one, or is absent); -ELOOP (logged,
 * naming the first offender and what to do) when one is a symbolic link or
 * not a folder; another negative errno when a folder cannot be listed. */
int bkp_layout_check(const char *path) __attribute__((warn_unused_result));

#endif
