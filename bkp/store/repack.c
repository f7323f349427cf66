/* repack.c — blobs written again into new packs. */
#include "bkp/store/repack.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/*
 * The caller's thread reads each blob (bkp_repo_get: the index is read in
 * that thread alone, as before) and hands it to a ring of slots; workers seal
 * the slots (compressing is the cost of a recompression, and of an archive's
 * gathering), and the caller's thread appends them to the pack in the order
 * they were added, so the packs come out as one thread would write them.
 */
#define MAX_WORKERS 4
/* Blobs in flight: many, so that a worker rarely waits for the next small
 * one (a tree of small files hands over a blob every few microseconds), but
 * never more than BYTES_IN_FLIGHT of plaintext, nor a slot's buffers kept
 * larger than KEEP_BYTES once written. */
#define SLOTS 256
#define BYTES_IN_FLIGHT (32U << 20)
#define KEEP_BYTES (256U << 10)

typedef enum { SLOT_FREE, SLOT_TODO, SLOT_BUSY, SLOT_DONE } slot_state;

typedef struct slot {
    slot_state state;
    uint8_t type;
    uint8_t id[BKP_ID_LEN];
    bkp_buf plain, sealed;
    int rc;
} slot;

struct bkp_repack_pool {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    pthread_t thread[MAX_WORKERS];
    int nthreads;
    bool stop;
    const bkp_keys *keys;
    /* Counted from the first add: slots filled, taken by a worker, written
     * out; slot k is slots[k % nslots]. */
    uint64_t added, claimed, written;
    size_t nslots;
    size_t bytes; /* plaintext in the slots in use */
    slot slots[];
};

static void *worker(void *arg)
{
    struct bkp_repack_pool *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        if (q->claimed == q->added && q->stop)
            break;
        if (q->claimed == q->added) {
            pthread_cond_wait(&q->work, &q->lock);
            continue;
        }
        slot *s = &q->slots[q->claimed++ % q->nslots];
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&q->lock);
        bkp_buf_reset(&s->sealed);
        int rc = bkp_blob_seal(q->keys, s->type, s->id, s->plain.data, s->plain.len, (bkp_comp){0},
                               &s->sealed);
        pthread_mutex_lock(&q->lock);
        s->rc = rc;
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static void pool_free(struct bkp_repack_pool *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->thread[i], NULL);
    for (size_t i = 0; i < q->nslots; i++) {
        bkp_buf_free(&q->slots[i].plain);
        bkp_buf_free(&q->slots[i].sealed);
    }
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* One worker a processor, up to MAX_WORKERS. */
static int pool_new(bkp_repacker *p)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (int)cpus;
    size_t nslots = SLOTS;
    struct bkp_repack_pool *q = calloc(1, sizeof(*q) + nslots * sizeof(slot));
    if (!q)
        return -ENOMEM;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    q->keys = bkp_repo_keys(p->repo);
    q->nslots = nslots;
    for (size_t i = 0; i < nslots; i++) {
        bkp_buf_init(&q->slots[i].plain);
        bkp_buf_init(&q->slots[i].sealed);
    }
    while (q->nthreads < n && bkp_thread_create(&q->thread[q->nthreads], worker, q) == 0)
        q->nthreads++;
    if (!q->nthreads) {
        pool_free(q);
        return -EAGAIN;
    }
    p->pool = q;
    return 0;
}

static void say_failed(const bkp_repacker *p, const uint8_t id[BKP_ID_LEN], int rc)
{
    char hex[2 * BKP_ID_LEN + 1];
    bkp_hex(hex, id, BKP_ID_LEN);
    bkp_error(_("cannot write blob %.16s into a new pack in %s: %s"), hex, p->dir,
              bkp_strerror(rc));
}

/* Finish the open pack, if any, and hand it to `done`. */
static int pack_finish(bkp_repacker *p)
{
    uint8_t id[BKP_ID_LEN];
    if (!p->w)
        return 0;
    int rc = bkp_pack_writer_finish(p->w, bkp_repo_keys(p->repo), id);
    p->w = NULL;
    if (!rc)
        rc = p->done(id, p->pending, (uint32_t)p->npending, p->ctx);
    p->npending = 0;
    return rc;
}

/* Append the sealed blob of slot `s` to the open pack (opening one), and
 * finish the pack once it reaches its size. */
static int append(bkp_repacker *p, const slot *s)
{
    int rc = s->rc;
    if (!rc && !p->w)
        rc = bkp_pack_writer_open(p->dir, &p->w);
    if (!rc && p->npending == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        bkp_pack_entry *n = realloc(p->pending, cap * sizeof(*n));
        rc = n ? 0 : -ENOMEM;
        if (n) {
            p->pending = n;
            p->cap = cap;
        }
    }
    if (!rc) {
        bkp_pack_entry *pe = &p->pending[p->npending];
        memcpy(pe->id, s->id, BKP_ID_LEN);
        pe->type = s->type;
        pe->len = (uint32_t)s->sealed.len;
        pe->raw_len = (uint32_t)s->plain.len;
        rc = bkp_pack_writer_add(p->w, s->type, s->id, s->sealed.data, s->sealed.len,
                                 (uint32_t)s->plain.len, &pe->offset);
        if (!rc) {
            p->npending++;
            p->moved += s->plain.len;
            p->written += s->sealed.len;
        }
    }
    if (!rc && bkp_pack_writer_size(p->w) >= BKP_PACK_TARGET)
        rc = pack_finish(p);
    if (rc)
        say_failed(p, s->id, rc);
    return rc;
}

/* Wait for the oldest slot to be sealed, append it (unless `discard`: an
 * earlier one failed) and free the slot. */
static int write_oldest(bkp_repacker *p, bool discard)
{
    struct bkp_repack_pool *q = p->pool;
    pthread_mutex_lock(&q->lock);
    slot *s = &q->slots[q->written % q->nslots];
    while (s->state != SLOT_DONE)
        pthread_cond_wait(&q->done, &q->lock);
    pthread_mutex_unlock(&q->lock);
    int rc = discard ? 0 : append(p, s);
    pthread_mutex_lock(&q->lock);
    s->state = SLOT_FREE;
    q->written++;
    q->bytes -= s->plain.len;
    pthread_mutex_unlock(&q->lock);
    if (s->plain.cap > KEEP_BYTES)
        bkp_buf_free(&s->plain);
    if (s->sealed.cap > KEEP_BYTES)
        bkp_buf_free(&s->sealed);
    return rc;
}

int bkp_repacker_flush(bkp_repacker *p)
{
    int rc = 0;
    while (p->pool && p->pool->written < p->pool->added) {
        int r = write_oldest(p, rc != 0);
        rc = rc ? rc : r;
    }
    return rc ? rc : pack_finish(p);
}

int bkp_repacker_add(bkp_repacker *p, uint8_t type, const uint8_t id[BKP_ID_LEN])
{
    int rc = p->pool ? 0 : pool_new(p);
    struct bkp_repack_pool *q = p->pool;
    /* A slot free, and room for another blob: the oldest written out when
     * the ring is full. */
    while (!rc && (q->added - q->written == q->nslots || q->bytes >= BYTES_IN_FLIGHT))
        rc = write_oldest(p, false);
    if (rc)
        return rc;
    slot *s = &q->slots[q->added % q->nslots];
    /* Read back authenticated here, in the caller's thread; sealed by a worker. */
    rc = bkp_repo_get(p->repo, type, id, &s->plain);
    if (rc) {
        say_failed(p, id, rc);
        return rc;
    }
    s->type = type;
    memcpy(s->id, id, BKP_ID_LEN);
    s->rc = 0;
    pthread_mutex_lock(&q->lock);
    s->state = SLOT_TODO;
    q->added++;
    q->bytes += s->plain.len;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void bkp_repacker_free(bkp_repacker *p)
{
    pool_free(p->pool);
    p->pool = NULL;
    bkp_pack_writer_abort(p->w);
    p->w = NULL;
    free(p->pending);
    p->pending = NULL;
    p->npending = p->cap = 0;
}
