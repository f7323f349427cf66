/*
 * durable.h — the one way this program writes anything that must survive.
 *
 * Every durable write is: a temporary file created O_EXCL in the target
 * directory, the bytes, fsync, rename (no-replace for content-addressed
 * objects), fsync of the directory. On any failure the temporary file is
 * unlinked, so a reader never sees a half-written object under its real name.
 *
 * Temporary files are named ".tmp-HOST-PID-RANDOM" so that the start-up
 * clean-up pass (bkp_durable_cleanup) removes only those of dead processes on
 * this host and never a concurrent writer's.
 *
 * All functions return 0 or a negative errno code.
 */
#ifndef BKP_DURABLE_H
#define BKP_DURABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bkp/bytes.h"

enum {
    BKP_DURABLE_NOREPLACE = 1, /* fail with -EEXIST if the name exists */
    BKP_DURABLE_READONLY = 2,  /* leave the file mode 0444 (0400 with PRIVATE): sealed objects */
    BKP_DURABLE_PRIVATE = 4,   /* mode 0600 (keys, caches) */
    BKP_DURABLE_DIRECT = 8,    /* a large file streamed past the page cache (direct.h) */
};

/* Write `len` bytes of `buf` as `dir`/`name`. */
int bkp_durable_write(const char *dir, const char *name, const void *buf, size_t len,
                      unsigned flags) __attribute__((warn_unused_result));

/* A file being written in steps; commit publishes it, abort removes it. */
typedef struct bkp_dfile {
    int fd;
    char *dir;
    char *tmp; /* full path of the temporary file */
    uint64_t size;
    int err;                   /* latched write error */
    struct bkp_direct *direct; /* with BKP_DURABLE_DIRECT */
} bkp_dfile;

int bkp_dfile_open(bkp_dfile *f, const char *dir, unsigned flags);
int bkp_dfile_write(bkp_dfile *f, const void *buf, size_t len);
/* fsync, rename into `dir`/`name` (dir may differ from the open dir on the same
 * file system), fsync both directories. Always releases `f`. */
int bkp_dfile_commit(bkp_dfile *f, const char *dir, const char *name, unsigned flags)
    __attribute__((warn_unused_result));
void bkp_dfile_abort(bkp_dfile *f);

int bkp_fsync_dir(const char *dir);
/* mkdir -p with `mode`; existing directories are fine. */
int bkp_mkdir_p(const char *path, mode_t mode);
/* Read a whole file of at most `max` bytes into `out` (reset first). Only a
 * regular file is read: anything else (a FIFO, a device) is -EBADMSG at
 * once, never waited on. */
int bkp_read_file(const char *path, bkp_buf *out, size_t max);
/* Open `path` for reading if it is a regular file: the descriptor, or a
 * negative errno (-EBADMSG for a FIFO, a device or a folder, without
 * blocking on it). */
int bkp_open_regular(const char *path);
/* The same for `name` in the directory `dirfd`, following no symbolic link:
 * anything but a regular file (a FIFO, a device) is -EBADMSG, unread. */
int bkp_read_file_at(int dirfd, const char *name, bkp_buf *out, size_t max);
/* pread exactly `len` bytes; -EIO on a short file. */
int bkp_pread_full(int fd, void *buf, size_t len, uint64_t off);
int bkp_write_full(int fd, const void *buf, size_t len);
int bkp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Remove stale temporary files (of dead processes on this host) in `dir`. */
void bkp_durable_cleanup(const char *dir);

/* Set (`on`) or clear the immutable attribute of the file `path`, where the
 * file system and privileges allow: 0, or -EPERM, -ENOTTY, -EOPNOTSUPP when
 * they do not (the file stays read-only by its mode alone). */
int bkp_immutable(const char *path, bool on);
/* The same for `name` in the directory `dirfd`, following no symbolic link;
 * -EBADF for anything but a regular file. */
int bkp_immutable_at(int dirfd, const char *name, bool on);
/* Mark every regular file in `dir` and two levels below immutable (names
 * starting with '.' excepted); `*sealed` counts them. Stops at the first
 * refusal of the file system. */
int bkp_immutable_tree(const char *dir, uint64_t *sealed);
/* Unlink a sealed object, clearing its immutable attribute first. */
int bkp_unlink_sealed(const char *path);
/* Unlink `name` (one component, never "." or "..") in the directory `dirfd`,
 * clearing its immutable attribute first: a deletion that cannot leave the
 * directory, whatever the name or a symbolic link on the way says. */
int bkp_unlink_sealed_at(int dirfd, const char *name);

/* Open `path`, relative to `dirfd` (or AT_FDCWD) and of any length (past
 * PATH_MAX), one component at a time, following no symbolic link: a
 * descriptor opened with `flags`, or a negative errno code. */
int bkp_open_deep(int dirfd, const char *path, int flags);

/* Remove the folder `path` and everything under it, following no link (a
 * staging folder of the process's own). 0 or the first error. */
int bkp_remove_tree(const char *path);

/* Join path parts with '/'; returns malloc'd string or NULL. */
char *bkp_path_join(const char *a, const char *b);

#endif
