/*
 * capture_read.c — a regular file's bytes into chunks, and the workers that
 * store them.
 *
 * The reading thread preads a file's data regions into slabs (slab.h), cuts
 * chunks as the bytes arrive and queues each as a view into its slab; the
 * workers hash, compress, encrypt and pack it and drop the slab's reference.
 * No chunk's bytes are copied, save the few after a full slab's last cut.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive_entry.h>

#include "bkp/capture/capture_internal.h"
#include "bkp/io/log.h"

void capture_kick_locked(capture_ctx *c)
{
    if (c->qlen)
        pthread_cond_broadcast(&c->not_empty);
}

void capture_kick(capture_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    capture_kick_locked(c);
    pthread_mutex_unlock(&c->lock);
}

void *capture_worker(void *arg)
{
    capture_ctx *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->qlen && !c->stop)
            pthread_cond_wait(&c->not_empty, &c->lock);
        if (!c->qlen) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        job j = c->queue[c->qhead];
        c->qhead = (c->qhead + 1) % QUEUE_LEN;
        c->qlen--;
        c->qbytes -= j.len;
        pthread_cond_signal(&c->not_full);
        pthread_mutex_unlock(&c->lock);

        uint8_t id[BKP_ID_LEN];
        uint64_t added = 0;
        bkp_comp comp = c->o->compression;
        comp.learn = &c->learn;
        int rc = bkp_repo_put_as(c->repo, comp, BKP_BLOB_DATA, j.data, j.len, id, &added);
        bkp_slab_drop(c->slabs, j.slab); /* sealed: its bytes may be read over */

        pthread_mutex_lock(&c->lock);
        if (rc) {
            if (!c->err)
                c->err = rc;
        } else {
            memcpy(j.p->item.chunks[j.idx].id, id, BKP_ID_LEN);
            j.p->item.chunks[j.idx].len = j.len;
            c->out->stats.chunks++;
            if (added) {
                c->out->stats.chunks_new++;
                c->out->stats.bytes_new += j.len;
                c->out->stats.stored_new += added;
            }
        }
        j.p->outstanding--;
        pthread_cond_broadcast(&c->done);
        pthread_mutex_unlock(&c->lock);
    }
}

/* Hand one chunk of `p`, `len` bytes of the current slab from cpos, to the
 * workers; blocks while the queue is full. */
static int submit(capture_ctx *c, pending *p, size_t len)
{
    pthread_mutex_lock(&c->lock);
    while (c->qlen == QUEUE_LEN && !c->err)
        pthread_cond_wait(&c->not_full, &c->lock);
    int rc = c->err;
    if (!rc && p->item.nchunks == p->chunks_cap) {
        /* Grown under the lock: workers write results into this array. */
        uint32_t cap = p->chunks_cap ? 2 * p->chunks_cap : 4;
        bkp_chunk_ref *n = realloc(p->item.chunks, cap * sizeof(*n));
        if (!n)
            rc = -ENOMEM;
        else {
            p->item.chunks = n;
            p->chunks_cap = cap;
        }
    }
    if (rc) {
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    bkp_slab_ref(c->slabs, c->cur);
    c->queue[(c->qhead + c->qlen) % QUEUE_LEN] =
        (job){p, p->item.nchunks, c->cur, c->cur->data + c->cpos, (uint32_t)len};
    c->qlen++;
    c->qbytes += len;
    p->item.nchunks++;
    p->outstanding++;
    if (c->qlen >= WAKE_JOBS || c->qbytes >= WAKE_BYTES)
        pthread_cond_signal(&c->not_empty);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* Cut and submit the chunks whose ends the bytes read so far show; with
 * `eof`, the rest too. Called after every read: each byte is hashed once,
 * while the read has just brought it into the cache, and a chunk is cut at
 * the same point however its bytes arrived (bkp_chunker_cut_more). */
int capture_cut(capture_ctx *c, pending *p, bool eof)
{
    const bkp_chunker *ch = bkp_repo_chunker(c->repo);
    while (c->cur && c->cur->len > c->cpos) {
        size_t cut =
            bkp_chunker_cut_more(ch, &c->cut, c->cur->data + c->cpos, c->cur->len - c->cpos, eof);
        if (!cut)
            break;
        int rc = submit(c, p, cut);
        if (rc)
            return rc;
        c->cpos += cut;
        c->cut = (bkp_cut_state){0, 0};
    }
    return 0;
}

/* A slab with room to read into. A full one is left to the chunks cut from
 * it; the bytes after its last cut (fewer than a maximal chunk: more would
 * have been cut) move to the start of the next, so that every chunk is one
 * run of bytes. They keep their place in the chunk being looked at. */
static int slab_room(capture_ctx *c)
{
    size_t size = bkp_slab_size(c->slabs);
    if (c->cur && c->cur->len < size)
        return 0;
    bkp_slab *next = NULL;
    capture_kick(c); /* the slabs free up as the workers store their chunks */
    int rc = bkp_slab_get(c->slabs, &next);
    if (rc)
        return rc;
    if (c->cur) {
        next->len = c->cur->len - c->cpos;
        memcpy(next->data, c->cur->data + c->cpos, next->len);
        bkp_slab_drop(c->slabs, c->cur);
    }
    c->cur = next;
    c->cpos = 0;
    return 0;
}

int capture_add_region(pending *p, uint64_t off, uint64_t len)
{
    uint64_t *s = p->item.sparse;
    uint32_t n = p->item.nsparse;
    if (n && s[2 * (n - 1)] + s[2 * (n - 1) + 1] == off) {
        s[2 * (n - 1) + 1] += len;
        return 0;
    }
    s = realloc(s, 2 * sizeof(*s) * (n + 1));
    if (!s)
        return -ENOMEM;
    s[2 * n] = off;
    s[2 * n + 1] = len;
    p->item.sparse = s;
    p->item.nsparse = n + 1;
    return 0;
}

/* Read [off, off + len) of the file, or to its end, chunking as it comes. */
/* Is the whole of `b` zero? */
static bool all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

int capture_read_range(capture_ctx *c, pending *p, int fd, uint64_t off, uint64_t len)
{
    while (len) {
        int rc = slab_room(c);
        if (rc)
            return rc;
        size_t room = bkp_slab_size(c->slabs) - c->cur->len;
        size_t want = len < READ_BLOCK ? (size_t)len : READ_BLOCK;
        want = want < room ? want : room;
        ssize_t n = pread(fd, c->cur->data + c->cur->len, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break; /* the end of the file, or of what it still holds */
        if (p->zero_holes && all_zero(c->cur->data + c->cur->len, (size_t)n)) {
            off += (uint64_t)n; /* a hole: not stored, not kept in the slab */
            len -= (uint64_t)n;
            c->out->stats.bytes_read += (uint64_t)n;
            continue;
        }
        if ((rc = capture_add_region(p, off, (uint64_t)n)))
            return rc;
        c->cur->len += (size_t)n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
        c->out->stats.bytes_read += (uint64_t)n;
        if ((rc = capture_cut(c, p, false)))
            return rc;
        /* A short read that ends exactly where the file's stat put its
         * end is the end: no other read is needed to say so. Anywhere else
         * (a size of 0 that says nothing, a file that grew) the next read
         * says it. */
        uint64_t size = (uint64_t)archive_entry_size(p->item.entry);
        if ((size_t)n < want && size && off == size)
            break;
    }
    return 0;
}

int capture_take(capture_ctx *c, pending *p, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *b = buf;
    while (len) {
        int rc = slab_room(c);
        if (rc)
            return rc;
        size_t room = bkp_slab_size(c->slabs) - c->cur->len;
        size_t n = len < room ? len : room;
        memcpy(c->cur->data + c->cur->len, b, n);
        if ((rc = capture_add_region(p, off, n)))
            return rc;
        c->cur->len += n;
        b += n;
        off += n;
        len -= n;
        c->out->stats.bytes_read += n;
        if ((rc = capture_cut(c, p, false)))
            return rc;
    }
    return 0;
}

int capture_read_stream(capture_ctx *c, pending *p, int fd, int cancel)
{
    uint64_t off = 0;
    for (;;) {
        int rc = slab_room(c);
        if (rc)
            return rc;
        struct pollfd w[2] = {{.fd = fd, .events = POLLIN}, {.fd = cancel, .events = POLLIN}};
        if (poll(w, cancel >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (cancel >= 0 && (w[1].revents & POLLIN))
            return -ECANCELED;
        size_t room = bkp_slab_size(c->slabs) - c->cur->len;
        ssize_t n = read(fd, c->cur->data + c->cur->len, room < READ_BLOCK ? room : READ_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return capture_cut(c, p, true);
        c->cur->len += (size_t)n;
        off += (uint64_t)n;
        c->out->stats.bytes_read += (uint64_t)n;
        archive_entry_set_size(p->item.entry, (la_int64_t)off);
        bkp_progress_meter(c->o->dataset, 0, 0, "files", off, &c->t0);
        if ((rc = capture_cut(c, p, false)))
            return rc;
    }
}
