/* Putting blobs into packs, making them durable, and reading them back. */
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"
#include "bkp/store/prune_recover.h"

/* Finish a detached writer outside the lock. */
static int finish_pack(bkp_repo *r, bkp_pack_writer *w, uint32_t num)
{
    uint8_t id[BKP_ID_LEN];
    int rc = bkp_pack_writer_finish(w, r->keys, id);
    pthread_mutex_lock(&r->mut->lock);
    if (rc) {
        if (!r->err)
            r->err = rc;
    } else {
        bkp_index_set_pack_id(r->mut->index, num, id);
    }
    pthread_mutex_unlock(&r->mut->lock);
    if (rc)
        bkp_error(_("cannot write a pack in %s: %s"), r->packs_dir, bkp_strerror(rc));
    return rc;
}

/* A free pack writer, opened on demand. With all MAX_WRITERS busy (more
 * threads put at once: the captures of a run side by side), it waits for
 * one: a busy writer is released by its put, which waits on nothing.
 * Called with the lock held. */
static int take_writer(bkp_repo *r, int *slot)
{
    int free_slot = -1;
    for (;;) {
        for (int i = 0; i < r->writers_max; i++) {
            if (r->writers[i].w && !r->writers[i].busy) {
                r->writers[i].busy = true;
                *slot = i;
                return 0;
            }
            if (!r->writers[i].w && free_slot < 0)
                free_slot = i;
        }
        if (free_slot >= 0)
            break;
        pthread_cond_wait(&r->mut->idle, &r->mut->lock);
    }
    int rc = bkp_pack_writer_open(r->packs_dir, &r->writers[free_slot].w);
    if (!rc)
        rc = bkp_index_add_pack(r->mut->index, (const uint8_t[BKP_ID_LEN]){0},
                                &r->writers[free_slot].num);
    if (rc) {
        bkp_pack_writer_abort(r->writers[free_slot].w);
        r->writers[free_slot].w = NULL;
        return rc;
    }
    r->writers[free_slot].busy = true;
    *slot = free_slot;
    return 0;
}

typedef struct finish_job {
    bkp_repo *repo;
    bkp_pack_writer *w;
    uint32_t num;
} finish_job;

static void *finish_thread(void *arg)
{
    finish_job *j = arg;
    (void)finish_pack(j->repo, j->w, j->num); /* latches r->err on failure */
    free(j);
    return NULL;
}

/* The fsync of a full pack waits for the disk; the workers need not wait
 * with it. A failure is latched and reported by the next put or by flush,
 * before any generation can name the pack's blobs. */
static int finish_in_background(bkp_repo *r, bkp_pack_writer *w, uint32_t num)
{
    finish_job *j = malloc(sizeof(*j));
    pthread_t t;
    if (!j)
        return finish_pack(r, w, num);
    *j = (finish_job){r, w, num};
    /* Keep a few packs in flight: more means the disk is the bottleneck, and
     * waiting for the oldest is the right back-pressure (and reaps it). */
    for (;;) {
        pthread_mutex_lock(&r->mut->lock);
        if (r->nfinishing < MAX_FINISHING)
            break;
        pthread_t oldest = r->finishing[0];
        memmove(r->finishing, r->finishing + 1, (r->nfinishing - 1) * sizeof(*r->finishing));
        r->nfinishing--;
        pthread_mutex_unlock(&r->mut->lock);
        pthread_join(oldest, NULL);
    }
    if (r->nfinishing == r->finishing_cap) {
        size_t cap = r->finishing_cap ? 2 * r->finishing_cap : 16;
        pthread_t *n = realloc(r->finishing, cap * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&r->mut->lock);
            free(j);
            return finish_pack(r, w, num);
        }
        r->finishing = n;
        r->finishing_cap = cap;
    }
    if (bkp_thread_create(&t, finish_thread, j) != 0) {
        pthread_mutex_unlock(&r->mut->lock);
        free(j);
        return finish_pack(r, w, num);
    }
    r->finishing[r->nfinishing++] = t;
    pthread_mutex_unlock(&r->mut->lock);
    return 0;
}

void bkp_repo_join_finishing(bkp_repo *r)
{
    for (;;) {
        pthread_mutex_lock(&r->mut->lock);
        if (!r->nfinishing) {
            pthread_mutex_unlock(&r->mut->lock);
            return;
        }
        pthread_t t = r->finishing[--r->nfinishing];
        pthread_mutex_unlock(&r->mut->lock);
        pthread_join(t, NULL);
    }
}

static int put(bkp_repo *r, bkp_comp comp, uint8_t type, const void *data, size_t len,
               uint8_t id[BKP_ID_LEN], uint64_t *added);
static int flush_idle(bkp_repo *r);

/*
 * The index's memory is bounded (index.h): the put that finds it past the
 * bound waits for the puts in flight to end, holding new ones back, then
 * flushes (every blob so far becomes durable, with its segment) and moves
 * the memory to the table. The others wait a flush; nobody waits forever,
 * since a put in flight never waits for another put.
 */
int bkp_repo_put(bkp_repo *r, uint8_t type, const void *data, size_t len, uint8_t id[BKP_ID_LEN],
                 uint64_t *added)
{
    return bkp_repo_put_as(r, (bkp_comp){.kind = BKP_COMP_DEFAULT, .level = 0}, type, data, len, id, added);
}

int bkp_repo_put_as(bkp_repo *r, bkp_comp comp, uint8_t type, const void *data, size_t len,
                    uint8_t id[BKP_ID_LEN], uint64_t *added)
{
    pthread_mutex_lock(&r->mut->lock);
    while (r->quiesce)
        pthread_cond_wait(&r->mut->idle, &r->mut->lock);
    r->puts++;
    pthread_mutex_unlock(&r->mut->lock);
    int rc = put(r, comp, type, data, len, id, added);
    pthread_mutex_lock(&r->mut->lock);
    r->puts--;
    bool spill = !rc && !r->quiesce && !r->table_failed &&
                 bkp_index_memory_count(r->mut->index) > r->index_max;
    if (spill) {
        r->quiesce = true;
        while (r->puts)
            pthread_cond_wait(&r->mut->idle, &r->mut->lock);
    } else if (!r->puts) {
        pthread_cond_broadcast(&r->mut->idle);
    }
    pthread_mutex_unlock(&r->mut->lock);
    if (spill) {
        rc = flush_idle(r); /* which moves the memory to the table */
        pthread_mutex_lock(&r->mut->lock);
        r->quiesce = false;
        pthread_cond_broadcast(&r->mut->idle);
        pthread_mutex_unlock(&r->mut->lock);
    }
    return rc;
}

static int put(bkp_repo *r, bkp_comp comp, uint8_t type, const void *data, size_t len,
               uint8_t id[BKP_ID_LEN], uint64_t *added)
{
    uint8_t myid[BKP_ID_LEN];
    bkp_buf sealed;
    bkp_pack_writer *full = NULL;
    uint32_t full_num = 0;
    int rc, slot = -1;

    bkp_blob_id(r->keys, data, len, myid);
    if (added)
        *added = 0;
    pthread_mutex_lock(&r->mut->lock);
    rc = r->err;
    bool have = bkp_index_lookup(r->mut->index, myid) != NULL;
    pthread_mutex_unlock(&r->mut->lock);
    if (rc)
        return rc;
    if (have) {
        memcpy(id, myid, BKP_ID_LEN);
        return 0;
    }
    bkp_buf_init(&sealed);
    rc = bkp_blob_seal(r->keys, type, myid, data, len, comp, &sealed);
    if (rc)
        goto out;
    pthread_mutex_lock(&r->mut->lock);
    /* Another worker may have stored the same content meanwhile. */
    if (bkp_index_lookup(r->mut->index, myid)) {
        pthread_mutex_unlock(&r->mut->lock);
        goto done;
    }
    rc = take_writer(r, &slot);
    if (rc) {
        pthread_mutex_unlock(&r->mut->lock);
        bkp_error(_("cannot start a pack in %s: %s"), r->packs_dir, bkp_strerror(rc));
        goto out;
    }
    bkp_pack_writer *w = r->writers[slot].w;
    /* The entry goes in now, so no other thread stores the same blob; it
     * becomes durable with its pack, before any record can name it. */
    bkp_index_entry e = {.type = type, .pack = r->writers[slot].num,
                         .offset = bkp_pack_writer_size(w), .len = (uint32_t)sealed.len,
                         .raw_len = (uint32_t)len};
    memcpy(e.id, myid, BKP_ID_LEN);
    rc = bkp_index_insert(r->mut->index, &e) < 0 ? -ENOMEM : 0;
    pthread_mutex_unlock(&r->mut->lock);
    uint64_t off = 0;
    if (!rc)
        rc = bkp_pack_writer_add(w, type, myid, sealed.data, sealed.len, (uint32_t)len, &off);
    pthread_mutex_lock(&r->mut->lock);
    r->writers[slot].busy = false;
    pthread_cond_broadcast(&r->mut->idle); /* a put may wait for a writer (take_writer) */
    if (!rc && bkp_pack_writer_size(w) >= BKP_PACK_TARGET) {
        full = w;
        full_num = r->writers[slot].num;
        r->writers[slot].w = NULL;
    }
    if (rc && !r->err)
        r->err = rc;
    pthread_mutex_unlock(&r->mut->lock);
    if (rc) {
        bkp_error(_("cannot write to a pack in %s: %s"), r->packs_dir, bkp_strerror(rc));
        goto out;
    }
    if (added)
        *added = sealed.len;
    if (full && (rc = finish_in_background(r, full, full_num)))
        goto out;
done:
    memcpy(id, myid, BKP_ID_LEN);
out:
    bkp_buf_free(&sealed);
    return rc;
}

/* One segment file, durable, named by its hash. */
static int write_segment(const bkp_buf *seg, void *ctx)
{
    char name[2 * BKP_ID_LEN + 1];
    bkp_repo *r = ctx;
    int rc = bkp_index_segment_store(r->index_dir, seg, name);
    /* Its entries are in memory: the next table lists it (repo_index.c). */
    return rc ? rc : bkp_repo_index_wrote(r, name);
}


/* The flush itself, with no put in flight: every writer is idle. */
static int flush_idle(bkp_repo *r)
{
    int rc = 0;

    bkp_repo_join_finishing(r);
    for (int i = 0; i < MAX_WRITERS; i++) {
        pthread_mutex_lock(&r->mut->lock);
        bkp_pack_writer *w = r->writers[i].w;
        uint32_t num = r->writers[i].num;
        r->writers[i].w = NULL;
        pthread_mutex_unlock(&r->mut->lock);
        if (w && (rc = finish_pack(r, w, num)))
            return rc;
    }
    pthread_mutex_lock(&r->mut->lock);
    rc = r->err;
    uint32_t first = r->first_new_pack, last = bkp_index_pack_count(r->mut->index);
    pthread_mutex_unlock(&r->mut->lock);
    if (rc || first == last)
        return rc;
    rc = bkp_index_segments_encode(r->mut->index, first, last, r->keys, r->segment_max,
                                   write_segment, r);
    if (rc) {
        bkp_error(_("cannot write an index segment in %s: %s"), r->index_dir, bkp_strerror(rc));
        return rc;
    }
    r->first_new_pack = last;
    bkp_repo_index_bound(r);
    return 0;
}

/*
 * Another capture may be putting meanwhile (`bkp run` captures the data
 * sets of different sources at once), and a blob it is still writing may
 * already be named by ours (the index holds it from the moment its put
 * began). So the flush holds new puts back, waits for those in flight to
 * end, and only then makes every blob so far durable: a record sealed
 * after it never names a blob that is not on the disk. One flush at a
 * time; a put that spills flushes the same way (bkp_repo_put).
 */
int bkp_repo_flush(bkp_repo *r)
{
    pthread_mutex_lock(&r->mut->lock);
    while (r->quiesce)
        pthread_cond_wait(&r->mut->idle, &r->mut->lock);
    r->quiesce = true;
    while (r->puts)
        pthread_cond_wait(&r->mut->idle, &r->mut->lock);
    pthread_mutex_unlock(&r->mut->lock);
    int rc = flush_idle(r);
    pthread_mutex_lock(&r->mut->lock);
    r->quiesce = false;
    pthread_cond_broadcast(&r->mut->idle);
    pthread_mutex_unlock(&r->mut->lock);
    return rc;
}

int bkp_repo_add_pack(bkp_repo *r, const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *ents,
                      uint32_t n)
{
    uint32_t known;
    pthread_mutex_lock(&r->mut->lock);
    /* A pack put back under its own name (a repair) is indexed already. */
    int rc = bkp_index_find_pack(r->mut->index, id, &known) == 0
                 ? 0
                 : bkp_index_add_pack_entries(r->mut->index, id, ents, n);
    pthread_mutex_unlock(&r->mut->lock);
    return rc;
}

bool bkp_repo_has(const bkp_repo *r, const uint8_t id[BKP_ID_LEN])
{
    pthread_mutex_lock(&r->mut->lock);
    bool have = bkp_index_lookup(r->mut->index, id) != NULL;
    pthread_mutex_unlock(&r->mut->lock);
    return have;
}

int bkp_repo_locate(const bkp_repo *r, const uint8_t id[BKP_ID_LEN], uint8_t pack[BKP_ID_LEN],
                    bkp_index_entry *entry)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&r->mut->lock);
    const bkp_index_entry *e = bkp_index_lookup(r->mut->index, id);
    if (e) {
        if (pack)
            memcpy(pack, bkp_index_pack_id(r->mut->index, e->pack), BKP_ID_LEN);
        if (entry)
            *entry = *e;
        rc = 0;
    }
    pthread_mutex_unlock(&r->mut->lock);
    return rc;
}

/* An fd for pack `num`: cached while few are open; `*owned` when the caller
 * must close it. Called with the lock held. */
static int pack_fd(const bkp_repo *r, uint32_t num, bool *owned)
{
    *owned = false;
    if (num >= r->mut->fds_cap) {
        uint32_t cap = bkp_index_pack_count(r->mut->index) + 64;
        int *f = realloc(r->mut->fds, cap * sizeof(*f));
        if (!f)
            return -ENOMEM;
        for (uint32_t i = r->mut->fds_cap; i < cap; i++)
            f[i] = -1;
        r->mut->fds = f;
        r->mut->fds_cap = cap;
    }
    if (r->mut->fds[num] >= 0)
        return r->mut->fds[num];
    char *p = bkp_pack_path(r->packs_dir, bkp_index_pack_id(r->mut->index, num));
    int fd = p ? bkp_open_regular(p) : -ENOMEM;
    free(p);
    if (fd < 0)
        return fd;
    if (r->mut->fds_open < MAX_OPEN_PACKS) {
        r->mut->fds[num] = fd;
        r->mut->fds_open++;
    } else {
        *owned = true;
    }
    return fd;
}

/* Blob `id`'s sealed bytes as its pack holds them, into `*sealed` (the
 * caller frees it), and the type it is indexed as into `*type` — which may
 * differ from the one asked for only between data and tree. */
static int read_sealed(const bkp_repo *r, uint8_t *type, const uint8_t id[BKP_ID_LEN],
                       uint8_t **sealed, size_t *len)
{
    bkp_index_entry e;
    bool owned;
    int rc, fd;

    *sealed = NULL;
    pthread_mutex_lock(&r->mut->lock);
    const bkp_index_entry *pe = bkp_index_lookup(r->mut->index, id);
    /* Missing is -ENODATA, never -ENOENT: that is for a name a person gave
     * (a generation, a path), a usage error; this is damage (exit 1). */
    if (!pe) {
        pthread_mutex_unlock(&r->mut->lock);
        return -ENODATA;
    }
    e = *pe;
    fd = pack_fd(r, e.pack, &owned);
    pthread_mutex_unlock(&r->mut->lock);
    if (fd < 0)
        return fd == -ENOENT ? -ENODATA : fd;
    /* Data and tree blobs are deduplicated by content alone: identical
     * bytes stored first as the other type are the same content. */
    bool content = (*type == BKP_BLOB_DATA || *type == BKP_BLOB_TREE) &&
                   (e.type == BKP_BLOB_DATA || e.type == BKP_BLOB_TREE);
    if (e.type != *type && !content)
        rc = -EBADMSG;
    else
        rc = (*sealed = malloc(e.len ? e.len : 1)) ? 0 : -ENOMEM;
    *type = e.type;
    *len = e.len;
    if (!rc)
        rc = bkp_pread_full(fd, *sealed, e.len, e.offset);
    if (rc == -EIO)
        rc = -EBADMSG; /* a truncated pack */
    if (owned)
        close(fd);
    if (rc) {
        free(*sealed);
        *sealed = NULL;
    }
    return rc;
}

static int get(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN], bkp_buf *out,
               bool rehash)
{
    uint8_t check[BKP_ID_LEN], *sealed;
    size_t len;
    int rc = read_sealed(r, &type, id, &sealed, &len);
    if (!rc)
        rc = bkp_blob_open(r->keys, type, id, sealed, len, out);
    free(sealed);
    if (!rc && rehash && (type == BKP_BLOB_DATA || type == BKP_BLOB_TREE)) {
        /* The ID is the content's keyed hash. */
        bkp_blob_id(r->keys, out->data, out->len, check);
        if (sodium_memcmp(check, id, BKP_ID_LEN) != 0)
            rc = -EBADMSG;
    }
    return rc;
}

int bkp_repo_comp_of(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN],
                     bkp_comp_kind *kind)
{
    uint8_t *sealed;
    size_t len;
    int rc = read_sealed(r, &type, id, &sealed, &len);
    if (!rc)
        rc = bkp_blob_comp_of(r->keys, type, id, sealed, len, kind);
    free(sealed);
    return rc;
}

int bkp_repo_get(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN], bkp_buf *out)
{
    return get(r, type, id, out, true);
}

int bkp_repo_get_sealed(const bkp_repo *r, uint8_t type, const uint8_t id[BKP_ID_LEN], bkp_buf *out)
{
    return get(r, type, id, out, false);
}
