#include "bkp/io/direct.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bkp/io/fdio.h"
#include "bkp/io/log.h"

/* Buffers are kept for the next file: a backup streams one pack after
 * another from short-lived threads, and fresh memory for each (or heap arenas
 * growing per thread) would cost more than the copy it saves. At most as many
 * are kept as were ever in use at once, up to POOL_MAX. */
#define POOL_MAX 16
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *pool[POOL_MAX];
static int pooled;

static uint8_t *buffer_take(void)
{
    uint8_t *b = NULL;
    pthread_mutex_lock(&pool_lock);
    if (pooled)
        b = pool[--pooled];
    pthread_mutex_unlock(&pool_lock);
    if (!b) {
        void *p = mmap(NULL, BKP_DIRECT_BUFFER, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        b = p == MAP_FAILED ? NULL : p;
    }
    return b;
}

static void buffer_give(uint8_t *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&pool_lock);
    if (pooled < POOL_MAX) {
        pool[pooled++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    if (b)
        munmap(b, BKP_DIRECT_BUFFER);
}

static bool set_direct(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) == 0;
}

/* Write `len` bytes of `b` at `off`; with O_DIRECT, padded to whole blocks
 * (the end cuts the padding off). Runs on the writer thread. */
static int write_out(bkp_direct *d, uint8_t *b, size_t len, uint64_t off)
{
    size_t n = len;
    int rc;
    if (d->direct) {
        n = (len + BKP_DIRECT_ALIGN - 1) & ~(size_t)(BKP_DIRECT_ALIGN - 1);
        memset(b + len, 0, n - len);
        rc = bkp_pwrite_full(d->fd, b, n, off);
        if (rc != -EINVAL)
            return rc;
        /* Accepted at open, refused on write (some FUSE file systems).
         * Part of the padding may have been written: the end cuts it off. */
        set_direct(d->fd, false);
        d->direct = false;
        d->padded = true;
        n = len;
    }
    rc = bkp_pwrite_full(d->fd, b, n, off);
    if (!rc)
        (void)sync_file_range(d->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
    return rc;
}

static void *writer(void *arg)
{
    bkp_direct *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (!d->stop && !d->busy)
            pthread_cond_wait(&d->cond, &d->lock);
        if (!d->busy)
            break;
        uint8_t *b = d->buf[!d->cur];
        size_t len = d->out_len;
        uint64_t off = d->out_off;
        pthread_mutex_unlock(&d->lock);
        int rc = write_out(d, b, len, off);
        pthread_mutex_lock(&d->lock);
        if (rc && !d->err)
            d->err = rc;
        d->busy = false;
        pthread_cond_broadcast(&d->cond);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* Wait until the writer thread has no buffer; the latched error. */
static int wait_idle(bkp_direct *d)
{
    pthread_mutex_lock(&d->lock);
    while (d->busy)
        pthread_cond_wait(&d->cond, &d->lock);
    int rc = d->err;
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int bkp_direct_init(bkp_direct *d)
{
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    d->ready = true;
    if (!(d->buf[0] = buffer_take()) || !(d->buf[1] = buffer_take()) ||
        bkp_thread_create(&d->thread, writer, d) != 0) {
        bkp_direct_free(d);
        return -ENOMEM;
    }
    d->running = true;
    return 0;
}

void bkp_direct_free(bkp_direct *d)
{
    if (!d->ready)
        return; /* never initialised (a zeroed struct) */
    if (d->running) {
        pthread_mutex_lock(&d->lock);
        d->stop = true;
        pthread_cond_broadcast(&d->cond);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->thread, NULL);
    }
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    buffer_give(d->buf[0]);
    buffer_give(d->buf[1]);
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

void bkp_direct_start(bkp_direct *d, int fd)
{
    (void)wait_idle(d);
    d->fd = fd;
    d->fill = 0;
    d->done = 0;
    d->err = 0;
    d->padded = false;
    d->direct = set_direct(fd, true);
}

/* Hand the gathered buffer to the writer thread and gather into the other. */
static int hand_over(bkp_direct *d)
{
    int rc = wait_idle(d);
    if (rc)
        return rc;
    pthread_mutex_lock(&d->lock);
    d->out_len = d->fill;
    d->out_off = d->done;
    d->cur = !d->cur;
    d->busy = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    d->done += d->fill;
    d->fill = 0;
    return 0;
}

int bkp_direct_write(bkp_direct *d, const void *p, size_t len)
{
    const uint8_t *s = p;
    int rc = 0;
    while (len && !rc) {
        size_t n = BKP_DIRECT_BUFFER - d->fill < len ? BKP_DIRECT_BUFFER - d->fill : len;
        memcpy(d->buf[d->cur] + d->fill, s, n);
        d->fill += n;
        s += n;
        len -= n;
        if (d->fill == BKP_DIRECT_BUFFER)
            rc = hand_over(d);
    }
    return rc;
}

int bkp_direct_end(bkp_direct *d)
{
    int rc = d->fill ? hand_over(d) : 0;
    int w = wait_idle(d);
    rc = rc ? rc : w;
    if (d->direct || d->padded) {
        set_direct(d->fd, false);
        d->direct = d->padded = false;
        if (!rc && ftruncate(d->fd, (off_t)d->done) < 0)
            rc = -errno;
    }
    return rc;
}
