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
 * bkp_durable_write writes a buffer, bkp_dfile_* a file written in steps
 * (BKP_DURABLE_DIRECT past the page cache, direct.h; bkp_dfile_sync before
 * a read-back). bkp_dfile is opaque: its bytes go through bkp_dfile_write
 * or a stream over it (bkp_dfile_stream; libarchive writes a tar through
 * one), so no caller writes round the direct writer. The other steps, each
 * ending with the fsyncs that make it durable: bkp_durable_create (O_EXCL,
 * to append to or to link), bkp_durable_append (one write, fsync, and the
 * folder's with a new file's first record: the audit log),
 * bkp_durable_truncate (a torn end cut), bkp_durable_link (published by
 * link, never replacing: the lock files), bkp_durable_rename[_at] (a file
 * set aside), bkp_durable_unlink[_at] (every deletion a crash must not
 * undo), bkp_sync_fs (a restore's files reach the disk before "restored").
 * The rules: bytes fsynced before the name that publishes them; the folder
 * fsynced after a name changes; a failed fsync is an error, never ignored;
 * every multi-step operation writes its intent or its last step, so that a
 * repeat is harmless. tests/support/code-figures.sh lists every call
 * outside this module that could write durably, and why each is there.
 *
 * Immutability: packs, index segments, records and archives are
 * content-addressed or numbered, written no-replace and read-only, and never
 * modified after their rename. On a medium the immutable attribute is set
 * over packs, index, generations, keys and config after a rotation
 * (bkp_immutable_tree) and on archives after their commit; deletions go
 * through bkp_unlink_sealed[_at], which clears it first.
 *
 * Where the crash-safety reasoning is written, each beside its code:
 * bkp_dfile_commit here and the steps above; generation.h (the record
 * last, no-replace); tombstone.c (the tombstone before the record goes);
 * copy.h (a medium pulled out at any moment); prune.h, prune.c apply_plan,
 * prune_index.c and prune_recover.c finish (each kill point of a prune and
 * what the next open does); intent.h; audit.h (append, fsync, then the head
 * marker); pin.h; bkp/ops/medium_disk.c (a disk rotation's order of
 * writes), bkp/ops/medium_archive.c (an archive's temporary name, read
 * back, rename), bkp/ops/medium_bucket.c and bkp/ops/rotate_finish.c (the
 * end of every rotation); lock.c publish (a lock appears whole or not at
 * all); repo.c (orphans re-indexed, damaged files set aside, the clean-up
 * pass); FORMAT.md §9a. tests/e2e/30-crash.sh and the kill-point sweeps
 * (tests/sweeps.sh) kill the program at chosen points and check.
 *
 * All functions return 0 or a negative errno code.
 */
#ifndef BKP_DURABLE_H
#define BKP_DURABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bkp/io/bytes.h"
#include "bkp/io/fdio.h"

struct bkp_stream;

enum {
    BKP_DURABLE_NOREPLACE = 1, /* fail with -EEXIST if the name exists */
    BKP_DURABLE_READONLY = 2,  /* leave the file mode 0444 (0400 with PRIVATE): sealed objects */
    BKP_DURABLE_PRIVATE = 4,   /* mode 0600 (keys, caches) */
    BKP_DURABLE_DIRECT = 8,    /* a large file streamed past the page cache (direct.h) */
    BKP_DURABLE_EXEC = 16,     /* with READONLY: mode 0555 (a recovery kit's program, kit.h) */
    BKP_DURABLE_EXCHANGE = 32, /* bkp_durable_rename: swap the two names (both must exist);
                                * -EINVAL where the file system cannot */
    BKP_DURABLE_PUBLIC = 64,   /* mode 0644 whatever the umask: a page for people who are
                                * not root (the status page under cron's umask 077) */
};

/* Write `len` bytes of `buf` as `dir`/`name`. */
int bkp_durable_write(const char *dir, const char *name, const void *buf, size_t len,
                      unsigned flags) __attribute__((warn_unused_result));

/* The same for a path a person named (`-o FILE`): its folder and name.
 * -EISDIR when it names no file ("", "/", "dir/", ".", ".."). */
int bkp_durable_write_path(const char *path, const void *buf, size_t len, unsigned flags)
    __attribute__((warn_unused_result));

/* A file being written in steps, under a temporary name in its folder;
 * commit publishes it, abort removes it, and either frees it. Its bytes go
 * through bkp_dfile_write (or a stream over it, bkp_dfile_stream: a tar
 * written by libarchive too) and nowhere else — they may still be in the
 * direct writer — so the descriptor is its own. */
typedef struct bkp_dfile bkp_dfile;

/* Open a new one in `dir` into `*out` (NULL on failure): 0 or -errno. */
int bkp_dfile_open(bkp_dfile **out, const char *dir, unsigned flags)
    __attribute__((warn_unused_result));
int bkp_dfile_write(bkp_dfile *f, const void *buf, size_t len);
/* Where its bytes are until it is committed: for a read-back after
 * bkp_dfile_sync, never for writing. */
const char *bkp_dfile_path(const bkp_dfile *f);
/* The bytes written to it so far. */
uint64_t bkp_dfile_size(const bkp_dfile *f);
/* Set up `s` (stream.h) to write into the open `f` through bkp_dfile_write:
 * a stream's writes to a durable file never go round it. `f` stays the
 * caller's, to commit or abort; the stream keeps nothing to close. */
void bkp_dfile_stream(bkp_dfile *f, struct bkp_stream *s);
/* fsync, rename into `dir`/`name` (dir may differ from the open dir on the same
 * file system), fsync both directories. Always frees `f`. */
int bkp_dfile_commit(bkp_dfile *f, const char *dir, const char *name, unsigned flags)
    __attribute__((warn_unused_result));
/* Remove the temporary file and free `f` (NULL: nothing). */
void bkp_dfile_abort(bkp_dfile *f);

int bkp_fsync_dir(const char *dir);

/*
 * The other durable steps, for what is not a whole new file: each ends with
 * the fsyncs that make it survive a crash, and returns their failure (a
 * caller may decide to go on, but says so where it does).
 */

/* Create `path` exclusively (O_EXCL, no link followed) with `mode`, open for
 * reading and writing, and with O_APPEND when `append`: the descriptor, or a
 * negative errno (-EEXIST when the name is taken). The file is empty and its
 * name not yet durable: the caller writes, then bkp_durable_append (which
 * fsyncs the folder on the first record) or bkp_durable_link. */
int bkp_durable_create(const char *path, mode_t mode, bool append);
/* Append `len` bytes to `fd` (opened O_APPEND) in one write, then fsync it;
 * with `dir`, fsync that folder too (the first record of a new file: its
 * name must survive with it). A crash leaves the file as it was, or with a
 * prefix of the bytes at its end (a torn record), never anything else: a
 * reader of an append-only file cuts a torn end (bkp_durable_truncate). A
 * write that fails (-ENOSPC, -EDQUOT) is taken back before returning. */
int bkp_durable_append(int fd, const void *buf, size_t len, const char *dir)
    __attribute__((warn_unused_result));
/* Cut `fd` back to `len` bytes and fsync it: a torn end removed. */
int bkp_durable_truncate(int fd, uint64_t len) __attribute__((warn_unused_result));
/* Publish the file written as `tmp` (open as `fd`, which stays open for the
 * caller) under `path`, never replacing it: fsync `fd`, link (-EEXIST when
 * `path` exists), unlink `tmp`, fsync the folder. Whoever reads `path` sees
 * the whole file or none; a crash before the unlink leaves `tmp` for the
 * writer's own sweep. */
int bkp_durable_link(int fd, const char *tmp, const char *path) __attribute__((warn_unused_result));
/* Give the existing file `from` the second name `to` (-EEXIST when taken)
 * and fsync the folder of `to`. */
int bkp_durable_link_name(const char *from, const char *to) __attribute__((warn_unused_result));
/* Rename `from` to `to` (with BKP_DURABLE_NOREPLACE, -EEXIST when `to`
 * exists) and fsync the folder of `to`, and of `from` when it differs. */
int bkp_durable_rename(const char *from, const char *to, unsigned flags)
    __attribute__((warn_unused_result));
/* The same relative to open folders, following no link on the way. */
int bkp_durable_rename_at(int fromdir, const char *from, int todir, const char *to, unsigned flags)
    __attribute__((warn_unused_result));
/* fsync an open folder (or file); EINVAL (a file system that cannot) is 0. */
int bkp_fsync_fd(int fd);
/* Everything written to the file system that holds `fd` reaches its disk
 * (syncfs): the end of a restore, whose files are written in place by
 * several writers and are not worth one fsync each. */
int bkp_sync_fs(int fd) __attribute__((warn_unused_result));
/* Unlink `name` in the folder `dirfd` and fsync the folder: the deletion
 * survives a crash. ENOENT is 0 (already gone: a repeated step). */
int bkp_durable_unlink_at(int dirfd, const char *name) __attribute__((warn_unused_result));
/* The same by path: the folder is the path's own (no link followed at its
 * end). Every deletion of what a crash must not bring back goes through
 * these two; a temporary file of one's own is simply unlinked. */
int bkp_durable_unlink(const char *path) __attribute__((warn_unused_result));
/* fdatasync the file being written and drop it from the page cache, so that
 * a read of bkp_dfile_path that follows reads the medium, not memory: the
 * read-back of a copy. */
int bkp_dfile_sync(bkp_dfile *f) __attribute__((warn_unused_result));
/* mkdir -p with `mode`; existing directories are fine. */
int bkp_mkdir_p(const char *path, mode_t mode);
/* Read a whole file of at most `max` bytes into `out` (reset first). Only a
 * regular file is read: anything else (a FIFO, a device) is -EBADMSG from
 * its stat, never opened nor waited on; -EFBIG past `max`. */
int bkp_read_file(const char *path, bkp_buf *out, size_t max);
/* The same for `name` in the directory `dirfd`, following no symbolic link
 * (-ELOOP): anything but a regular file (a FIFO, a device) is -EBADMSG,
 * never opened. */
int bkp_read_file_at(int dirfd, const char *name, bkp_buf *out, size_t max);
/* (Opening a regular file, and reading a stream of one: fdio.h, stream.h.) */

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
 * PATH_MAX), one component at a time, following no symbolic link and never
 * leaving `dirfd`: a descriptor opened with `flags`, or a negative errno
 * code (-EINVAL for an absolute path or a ".." component). */
int bkp_open_deep(int dirfd, const char *path, int flags);

/* Remove the folder `path` and everything under it, following no link (a
 * staging folder of the process's own). 0 or the first error. */
int bkp_remove_tree(const char *path);

/* Join path parts with '/'; returns malloc'd string or NULL. */
char *bkp_path_join(const char *a, const char *b);

#endif
