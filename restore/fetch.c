#include "restore/fetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

#define MAX_WORKERS 16

typedef struct slot {
    uint8_t id[BKP_ID_LEN];
    bkp_buf data;
    int state; /* 0 queued, 1 taken, 2 done */
    int rc;
} slot;

struct rst_fetch {
    const bkp_repo *repo;
    slot *ring;
    unsigned depth, head, count, next_job; /* next_job: offset from head of the first queued */
    bkp_buf current; /* what the last pop returned */
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    bool stop;
    pthread_t threads[MAX_WORKERS];
    int nthreads;
};

static void *fetch_worker(void *arg)
{
    rst_fetch *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && f->next_job >= f->count)
            pthread_cond_wait(&f->work, &f->lock);
        if (f->stop)
            break;
        slot *s = &f->ring[(f->head + f->next_job) % f->depth];
        f->next_job++;
        s->state = 1;
        pthread_mutex_unlock(&f->lock);
        s->rc = bkp_repo_get_sealed(f->repo, BKP_BLOB_DATA, s->id, &s->data);
        pthread_mutex_lock(&f->lock);
        s->state = 2;
        pthread_cond_broadcast(&f->done);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

int rst_fetch_new(const bkp_repo *r, int workers, unsigned depth, rst_fetch **out)
{
    rst_fetch *f = calloc(1, sizeof(*f));
    if (!f || !(f->ring = calloc(depth, sizeof(*f->ring)))) {
        free(f);
        return -ENOMEM;
    }
    f->repo = r;
    f->depth = depth;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->work, NULL);
    pthread_cond_init(&f->done, NULL);
    int n = workers > 0 ? workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
    for (int i = 0; i < n; i++) {
        if (bkp_thread_create(&f->threads[i], fetch_worker, f) != 0)
            break;
        f->nthreads++;
    }
    if (!f->nthreads) {
        rst_fetch_free(f);
        return -EAGAIN;
    }
    *out = f;
    return 0;
}

void rst_fetch_free(rst_fetch *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_cond_broadcast(&f->work);
    pthread_mutex_unlock(&f->lock);
    for (int i = 0; i < f->nthreads; i++)
        pthread_join(f->threads[i], NULL);
    for (unsigned i = 0; i < f->depth; i++)
        bkp_buf_free(&f->ring[i].data);
    bkp_buf_free(&f->current);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->work);
    pthread_cond_destroy(&f->done);
    free(f->ring);
    free(f);
}

bool rst_fetch_room(const rst_fetch *f)
{
    return f->count < f->depth;
}

int rst_fetch_push(rst_fetch *f, const uint8_t id[BKP_ID_LEN])
{
    pthread_mutex_lock(&f->lock);
    if (f->count == f->depth) {
        pthread_mutex_unlock(&f->lock);
        return -ENOSPC;
    }
    slot *s = &f->ring[(f->head + f->count) % f->depth];
    memcpy(s->id, id, BKP_ID_LEN);
    s->state = 0;
    s->rc = 0;
    f->count++;
    pthread_cond_signal(&f->work);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int rst_fetch_pop(rst_fetch *f, const uint8_t **data, size_t *len)
{
    pthread_mutex_lock(&f->lock);
    if (!f->count) {
        pthread_mutex_unlock(&f->lock);
        return -EINVAL;
    }
    slot *s = &f->ring[f->head];
    while (s->state != 2)
        pthread_cond_wait(&f->done, &f->lock);
    /* Swap buffers: the slot keeps an allocation for its next chunk. */
    bkp_buf tmp = f->current;
    f->current = s->data;
    s->data = tmp;
    bkp_buf_reset(&s->data);
    int rc = s->rc;
    f->head = (f->head + 1) % f->depth;
    f->count--;
    f->next_job--;
    pthread_mutex_unlock(&f->lock);
    *data = f->current.data;
    *len = f->current.len;
    return rc;
}

void rst_fetch_report(const bkp_repo *r, const char *path, const uint8_t id[BKP_ID_LEN], int rc)
{
    char hex[2 * BKP_ID_LEN + 1], phex[2 * BKP_ID_LEN + 1] = "?";
    uint8_t pack[BKP_ID_LEN];
    bkp_hex(hex, id, BKP_ID_LEN);
    if (bkp_repo_locate(r, id, pack, NULL) == 0)
        bkp_hex(phex, pack, BKP_ID_LEN);
    bkp_error(_("%s: chunk %.16s in pack %.16s is %s; the file is not restored "
                "(`bkp verify --read-data` lists all damage)"),
              path, hex, phex, rc == -ENODATA ? _("missing") : _("damaged"));
}
