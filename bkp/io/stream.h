/*
 * stream.h — bytes read from or written to a file, a medium or memory, one
 * way, with the first error kept.
 *
 * A stream has one backend, chosen when it is set up:
 *   bkp_stream_fd      a descriptor (a file, a pipe, a tape), read or written
 *   bkp_stream_open    a regular file by its path, for reading
 *   bkp_stream_open_at a regular file below a folder's descriptor (a medium),
 *                      following no symbolic link, for reading
 *   bkp_stream_mem     a constant buffer, for reading
 *   bkp_stream_buf     a growing bkp_buf, for writing (appended to)
 *   bkp_stream_sink    a function that takes every write (the durable file
 *                      of durable.h: bkp_dfile_stream)
 * Reads and writes loop over short transfers and EINTR, so no caller writes
 * that loop again.
 *
 * The first error is latched: every later operation does nothing (reads give
 * 0 bytes), and bkp_stream_error() returns it, so a caller checks once, at
 * the end. Errors are negative errno codes: those of the system; -EIO when a
 * stream ends before bkp_stream_read_exact had its bytes; -EFBIG past the cap
 * (bkp_stream_cap), which a reader of a medium reports as damage (-EBADMSG);
 * -ENOMEM when a bkp_buf cannot grow; -EBADF for an operation the backend
 * does not do (a write to a reading stream).
 *
 * The struct is on the caller's stack; its fields are the stream's own.
 * Nothing is allocated: only bkp_stream_close releases anything (the
 * descriptor the stream opened or was given with BKP_STREAM_OWN).
 */
#ifndef BKP_STREAM_H
#define BKP_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bkp/io/bytes.h"

typedef int (*bkp_stream_sink_fn)(void *ctx, const void *buf, size_t len);

typedef struct bkp_stream {
    int kind;
    int fd;
    int own;            /* close fd at bkp_stream_close */
    const uint8_t *mem; /* bkp_stream_mem */
    size_t mem_len;
    bkp_buf *out; /* bkp_stream_buf */
    bkp_stream_sink_fn sink;
    void *sink_ctx;
    uint64_t pos; /* bytes read or written so far */
    uint64_t cap; /* reads past this many bytes fail with -EFBIG */
    int err;      /* latched: 0 or the first error */
} bkp_stream;

enum {
    BKP_STREAM_OWN = 1, /* bkp_stream_fd: the stream closes the descriptor */
};

/* Set up `s` over the descriptor `fd` (borrowed, or owned with
 * BKP_STREAM_OWN), at its current position. */
void bkp_stream_fd(bkp_stream *s, int fd, unsigned flags);
/* Open the regular file `path` for reading (bkp_open_regular: a FIFO or a
 * device is refused, -EBADMSG, unopened). On failure `s` holds the error
 * (latched) and it is returned. */
int bkp_stream_open(bkp_stream *s, const char *path);
/* The same for `name` in the folder `dirfd`, following no symbolic link
 * (-ELOOP): a file of a medium (bkp_open_regular_at). */
int bkp_stream_open_at(bkp_stream *s, int dirfd, const char *name);
/* Read the `len` bytes at `data` (borrowed for the stream's life). */
void bkp_stream_mem(bkp_stream *s, const void *data, size_t len);
/* Append what is written to `out` (borrowed; not reset). */
void bkp_stream_buf(bkp_stream *s, bkp_buf *out);
/* Give every write to `fn(ctx, buf, len)`, which returns 0 or a negative
 * errno code. */
void bkp_stream_sink(bkp_stream *s, bkp_stream_sink_fn fn, void *ctx);

/* Refuse to read more than `max` bytes in all: the read that would pass it
 * latches -EFBIG (what a medium says about its own size is not trusted). */
void bkp_stream_cap(bkp_stream *s, uint64_t max);

/* Read up to `len` bytes into `buf`: fewer only at the end of the stream or
 * on an error. Returns how many. */
size_t bkp_stream_read(bkp_stream *s, void *buf, size_t len);
/* Read what one transfer of the backend gives, at most `len` bytes (0 at the
 * end): a tape's record is read whole, with one read(2), or not at all. */
size_t bkp_stream_read_some(bkp_stream *s, void *buf, size_t len);
/* Read exactly `len` bytes; a stream that ends before latches -EIO. */
int bkp_stream_read_exact(bkp_stream *s, void *buf, size_t len);
/* Append the rest of the stream to `out` (grown to the known size at once
 * when the backend knows it). */
int bkp_stream_read_all(bkp_stream *s, bkp_buf *out);
/* Write all of `buf`. */
int bkp_stream_write(bkp_stream *s, const void *buf, size_t len);

/* Bytes read or written so far. */
uint64_t bkp_stream_tell(const bkp_stream *s);
/* The whole size, where the backend knows it (a regular file's, a memory
 * buffer's): 0, else -ESPIPE (a pipe, a tape) or the stream's error. */
int bkp_stream_size(bkp_stream *s, uint64_t *size);
/* 0, or the first error. */
int bkp_stream_error(const bkp_stream *s);
/* Release what the stream owns; returns its error (or close's, for a
 * descriptor written to). `s` may then be set up again. */
int bkp_stream_close(bkp_stream *s);

#endif
