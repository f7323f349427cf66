/*
 * folder.h — a restored file's folder, entered without following any link.
 *
 * A writer thread creates a file by its last name in the folder it has
 * entered (writers.h). That folder is resolved beneath the target by the
 * kernel with no symbolic link followed at all (openat2 with RESOLVE_BENEATH
 * and RESOLVE_NO_SYMLINKS), or, where openat2 is missing or the path is
 * longer than PATH_MAX, one component at a time with O_NOFOLLOW. The lookup
 * is the check, so there is no window between checking a path and using it:
 * a link planted in the target (or laid down by the restore itself) is
 * refused, never followed.
 */
#ifndef RST_FOLDER_H
#define RST_FOLDER_H

#include <stdbool.h>

/* Open the folder `dir` (relative; "." is the target itself) beneath the
 * directory `root`, making the folders that are missing as a restore makes
 * parents it was not given (mode 0777 less the umask; the item list sets
 * the real modes of those it holds). `*out`: a descriptor (O_DIRECTORY,
 * close-on-exec) owned by the caller. 0; -ELOOP when a symbolic link is on
 * the way; -EINVAL for a ".." component or an absolute path; or the errno of
 * the lookup or mkdir. Nothing is made or opened outside `root`. */
int rst_folder_open(int root, const char *dir, int *out) __attribute__((warn_unused_result));

/* rst_folder_open, making nothing: -ENOENT when a folder on the way is
 * missing. */
int rst_folder_enter(int root, const char *dir, int *out) __attribute__((warn_unused_result));

/* Is `p` a stored path that may be entered one name at a time beneath the
 * target: relative, with no empty, "." or ".." component? */
bool rst_folder_plain_path(const char *p);

#endif
