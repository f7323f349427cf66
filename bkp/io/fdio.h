/*
 * fdio.h — whole reads and writes of a descriptor.
 *
 * The loops every caller would otherwise write: retry on EINTR, go on after a
 * short transfer. They make nothing durable (no fsync); durable.h does that.
 * Kept apart from durable.c so that the streaming writer (direct.c), which
 * durable.c uses, needs nothing of durable.c: no include cycle.
 *
 * With them, the safe opens of a file to read: only a regular file, never a
 * FIFO or a device put in its place (which an open alone could block on or
 * set off).
 *
 * All functions return 0 (or a descriptor) or a negative errno code; -EIO
 * when the file ends before `len` bytes (pread) or a write makes no progress
 * (pwrite).
 */
#ifndef BKP_FDIO_H
#define BKP_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* pread exactly `len` bytes at `off`. */
int bkp_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* write all of `buf` at the descriptor's position (or its end, O_APPEND). */
int bkp_write_full(int fd, const void *buf, size_t len);
/* pwrite all of `buf` at `off`. */
int bkp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Open `path` for reading if it is a regular file: the descriptor, or a
 * negative errno (-EBADMSG for a FIFO, a device or a folder, without
 * blocking on it). */
int bkp_open_regular(const char *path);
/* The same for `name` in the directory `dirfd`, following no symbolic link
 * (-ELOOP): a file of a medium. */
int bkp_open_regular_at(int dirfd, const char *name);

#endif
