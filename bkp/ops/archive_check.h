/*
 * archive_check.h — the archives of an archive folder (bkp/media/archive.h):
 * which files are archives, and whether one reads back whole. A rotation
 * reads each archive back before naming it (medium_archive.c); `verify
 * --media` checks every archive already there; a drill and a restore find
 * their source among them.
 *
 * Only NAME@SEQ.tar names an archive: the temporary files a rotation writes
 * (".tmp-…", durable.h) never do, so an archive cut short by a kill is never
 * taken for one.
 *
 * Errors: a negative errno; what is wrong with an archive is logged (what,
 * which file, what to do).
 */
#ifndef BKP_OPS_ARCHIVE_CHECK_H
#define BKP_OPS_ARCHIVE_CHECK_H

#include <stddef.h>

#include "bkp/store/repo.h"
#include "bkp/audit/verify.h"

/* The archives (NAME@SEQ.tar) in folder `dir`, sorted: `*names` (each and
 * the vector malloc'd; bkp_strv_free) and `*n`. 0, or the negative errno
 * of opening `dir`. */
int ops_archive_list(const char *dir, char ***names, size_t *n);

/* The device `path` of archive medium `medium` opened to write to it
 * (bkp_archive_device_open: a tape drive, or a block device no one uses),
 * into `*fd` (NULL: checked only). 0, or its negative errno, said with what
 * to do: a mounted disk, /dev/null or a terminal never stand for a tape. */
int ops_archive_device(const char *path, const char *medium, int *fd);

/* Where staging folders go: `tmpdir` when given, else $TMPDIR, else
 * /var/tmp. */
const char *ops_staging_parent(const char *tmpdir);

/* Read the archive file `path` back: extracted into a new staging folder
 * under ops_staging_parent(`tmpdir`), opened as a copy of `primary` and
 * verified whole, every blob read; the staging folder is removed whatever
 * happens. What was read is added to `*sum` (may be NULL). 0; -EBADMSG when
 * it does not verify (logged, after the problems found); another negative
 * errno when it could not be extracted or checked. */
int ops_archive_check(const bkp_repo *primary, const char *path, const char *tmpdir, int workers,
                      bkp_verify_result *sum);

/* Every archive of the archive folder `dir` of medium `medium` checked as
 * ops_archive_check does; each one that fails is logged by name. `*res`
 * (reset first): the archives as generations, what was read, the failed
 * archives as problems. 0 when every archive was checked (those that do
 * not verify counted in `res->problems`), or the negative errno of listing
 * `dir`. */
int ops_archive_verify(const bkp_repo *primary, const char *medium, const char *dir,
                       const char *tmpdir, int workers, bkp_verify_result *res);

#endif
