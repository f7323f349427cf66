/* stream.c — one way to read and write bytes, with the first error kept. */
#include "bkp/io/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/fdio.h"

enum { FD = 1, MEM, BUF, SINK };

static void setup(bkp_stream *s, int kind)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->fd = -1;
    s->cap = UINT64_MAX;
}

void bkp_stream_fd(bkp_stream *s, int fd, unsigned flags)
{
    setup(s, FD);
    s->fd = fd;
    s->own = (flags & BKP_STREAM_OWN) != 0;
}

static int opened(bkp_stream *s, int fd)
{
    bkp_stream_fd(s, fd, BKP_STREAM_OWN);
    if (fd < 0) {
        s->err = fd;
        s->fd = -1;
    }
    return s->err;
}

int bkp_stream_open(bkp_stream *s, const char *path)
{
    return opened(s, bkp_open_regular(path));
}

int bkp_stream_open_at(bkp_stream *s, int dirfd, const char *name)
{
    return opened(s, bkp_open_regular_at(dirfd, name));
}

void bkp_stream_mem(bkp_stream *s, const void *data, size_t len)
{
    setup(s, MEM);
    s->mem = data;
    s->mem_len = len;
}

void bkp_stream_buf(bkp_stream *s, bkp_buf *out)
{
    setup(s, BUF);
    s->out = out;
}

void bkp_stream_sink(bkp_stream *s, bkp_stream_sink_fn fn, void *ctx)
{
    setup(s, SINK);
    s->sink = fn;
    s->sink_ctx = ctx;
}

void bkp_stream_cap(bkp_stream *s, uint64_t max)
{
    s->cap = max;
}

/* Keep the first error; return it. */
static int latch(bkp_stream *s, int err)
{
    if (!s->err)
        s->err = err;
    return s->err;
}

/* One transfer of the backend: what it gives, 0 at the end or on an error.
 * Reading is never asked for more than one byte past the cap: that byte, if
 * it comes, says the stream is longer than allowed. */
static size_t transfer(bkp_stream *s, void *buf, size_t len)
{
    if (s->err || len == 0)
        return 0;
    uint64_t room = s->pos > s->cap ? 0 : s->cap - s->pos;
    if (room < UINT64_MAX && len > room + 1)
        len = (size_t)(room + 1);
    size_t got = 0;
    if (s->kind == FD) {
        ssize_t n;
        do
            n = read(s->fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            latch(s, -errno);
            return 0;
        }
        got = (size_t)n;
    } else if (s->kind == MEM) {
        got = s->mem_len - (size_t)s->pos < len ? s->mem_len - (size_t)s->pos : len;
        memcpy(buf, s->mem + s->pos, got);
    } else {
        latch(s, -EBADF);
        return 0;
    }
    if (got > room) {
        latch(s, -EFBIG);
        return 0;
    }
    s->pos += got;
    return got;
}

size_t bkp_stream_read_some(bkp_stream *s, void *buf, size_t len)
{
    return transfer(s, buf, len);
}

size_t bkp_stream_read(bkp_stream *s, void *buf, size_t len)
{
    size_t have = 0;
    while (have < len) {
        size_t n = transfer(s, (uint8_t *)buf + have, len - have);
        if (n == 0)
            break;
        have += n;
    }
    return have;
}

int bkp_stream_read_exact(bkp_stream *s, void *buf, size_t len)
{
    if (bkp_stream_read(s, buf, len) != len)
        return latch(s, -EIO);
    return s->err;
}

int bkp_stream_read_all(bkp_stream *s, bkp_buf *out)
{
    uint64_t size = 0;
    /* The known size up front: a buffer doubled as it fills would hold up to
     * twice what it needs (64 MiB for a 33 MiB pack). Past the cap, nothing
     * is read. */
    if (s->kind == MEM || (s->kind == FD && bkp_stream_size(s, &size) == 0)) {
        size = s->kind == MEM ? s->mem_len : size;
        size = size > s->pos ? size - s->pos : 0;
        if (size > s->cap - (s->pos > s->cap ? s->cap : s->pos))
            return latch(s, -EFBIG);
        if (out->cap - out->len < size + 1 && !bkp_buf_reserve(out, (size_t)size + 1))
            return latch(s, -ENOMEM);
    }
    while (!s->err) {
        size_t room = out->cap - out->len;
        uint8_t *d = bkp_buf_reserve(out, room > 65536 ? room : 65536);
        if (!d)
            return latch(s, -ENOMEM);
        size_t n = transfer(s, d, out->cap - out->len);
        if (n == 0)
            break;
        out->len += n;
    }
    return s->err;
}

int bkp_stream_write(bkp_stream *s, const void *buf, size_t len)
{
    if (s->err)
        return s->err;
    int rc = -EBADF;
    if (s->kind == FD) {
        rc = bkp_write_full(s->fd, buf, len);
    } else if (s->kind == BUF) {
        bkp_buf_put(s->out, buf, len);
        rc = s->out->failed ? -ENOMEM : 0;
    } else if (s->kind == SINK) {
        rc = s->sink(s->sink_ctx, buf, len);
    }
    if (rc)
        return latch(s, rc);
    s->pos += len;
    return 0;
}

uint64_t bkp_stream_tell(const bkp_stream *s)
{
    return s->pos;
}

int bkp_stream_size(bkp_stream *s, uint64_t *size)
{
    struct stat st;
    if (s->err)
        return s->err;
    if (s->kind == MEM) {
        *size = s->mem_len;
        return 0;
    }
    if (s->kind != FD)
        return -ESPIPE;
    if (fstat(s->fd, &st) < 0)
        return latch(s, -errno);
    if (!S_ISREG(st.st_mode))
        return -ESPIPE;
    *size = (uint64_t)st.st_size;
    return 0;
}

int bkp_stream_error(const bkp_stream *s)
{
    return s->err;
}

int bkp_stream_close(bkp_stream *s)
{
    int rc = s->err;
    if (s->kind == FD && s->own && s->fd >= 0 && close(s->fd) < 0 && !rc)
        rc = -errno;
    s->fd = -1;
    s->own = 0;
    s->kind = 0;
    return rc;
}
