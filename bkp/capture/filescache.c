#include "bkp/capture/filescache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/capture/walk.h"

#define CACHE_VERSION 4 /* written; version 3 (no content hash) is still read */
#define CACHE_VERSION_OLD 3
#define SEGMENT_TARGET (1U << 20) /* plaintext bytes per segment, about 8,000 files */
#define PATH_LIMIT (1U << 20)
#define ID_LEN BKP_FCACHE_ID_LEN
#define SEALED_MAX (BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16 + BKP_BLOB_OVERHEAD)
static const uint8_t MAGIC[8] = {'B', 'K', 'P', 'F', 'C', 'S', '0', '4'};
static const uint8_t MAGIC_OLD[8] = {'B', 'K', 'P', 'F', 'C', 'S', '0', '3'};

/* An entry's fields between its path and its sparse map: mode, dev, ino,
 * size, mtime, ctime, ext, fflags_set, fflags_clear, region count. */
#define ENTRY_FIXED (4 + 5 * 8 + 1 + 2 * 8 + 4)

/* One entry as stored; pointers into the segment's plaintext. */
typedef struct fc_entry {
    const char *path;
    uint32_t plen;
    bkp_fstat st;
    bkp_fextra x;
    const uint8_t *sp, *ch;
    uint32_t nsp, nch;
    const uint8_t *content; /* a regular file's, from version 4; else NULL */
} fc_entry;

/*
 * The reader reads, opens and checks segments in a thread of its own, up to
 * AHEAD of them before the merge needs them: the walk does not wait for the
 * disk, the cipher and LZ4. The thread owns the file and the chain of last
 * paths; it hands each checked segment over whole, in order, and ends at
 * the final one or at the first that cannot be used (its reason then comes
 * after the segments before it, exactly as when read in line).
 */
#define AHEAD 2

typedef struct fc_ready {
    bkp_buf seg;
    uint32_t n;
    bool final;
} fc_ready;

struct bkp_fcache {
    const bkp_keys *k;
    char *dataset;
    uint8_t cache_id[ID_LEN];
    int fd;
    uint32_t version;     /* of every segment of this file, from its magic */
    uint64_t off, size;   /* the thread's: where the next segment starts; the file's size */
    uint64_t index;       /* the thread's: of the next segment to read */
    bkp_buf sealed, next; /* the thread's: a segment as read, and opened */

    pthread_mutex_t lock;
    pthread_cond_t cv;
    fc_ready ready[AHEAD]; /* checked segments not yet taken, from `head` */
    unsigned head, count;
    bool ended;      /* the thread has handed over all it will */
    const char *why; /* and why it stopped early, or NULL */
    bool stop;       /* asked to end */
    pthread_t thread;
    bool started;

    bkp_buf seg;
    bkp_rd rd;     /* the rest of `seg` */
    uint32_t left; /* entries of `seg` not yet under the cursor */
    bool final;    /* `seg` is the last segment */
    bool have;     /* `cur` is an entry not yet passed */
    fc_entry cur;
    char *last; /* the previous segment's last path */
    size_t last_len;
    uint64_t unseen;
    const char *problem;
    bool vouches; /* its stamp holds (filescache_stamp.c) */
    bkp_buf iter; /* the path bkp_fcache_next last gave */
};

/*
 * The writer seals and writes its segments in a thread of its own, so that
 * a backup's walk does not wait for LZ4, the cipher and the disk: the
 * caller's thread fills `seg` and hands it over whole (waiting while the
 * thread still has the previous one); the thread seals it and appends it to
 * the file, in order. Only the thread touches `f` until it has ended.
 */
struct bkp_fcache_writer {
    bkp_repo *r;
    const bkp_keys *k;
    char *dataset, *dir;
    uint8_t cache_id[ID_LEN];
    bkp_dfile *f; /* the file being written, or NULL */
    bkp_buf seg;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bkp_buf handed;      /* a whole segment for the thread, when `have` */
    bool have, last_one; /* the final segment has been handed over */
    bool abandon;        /* stop without writing more */
    int seal_err;        /* the thread's first error */
    pthread_t thread;
    bool started;
    bkp_buf work, sealed; /* the thread's own */
    uint32_t n;
    uint64_t index;
    char *last; /* the last path added (last_len of last_cap bytes) */
    size_t last_len, last_cap;
    int err;
};

/* A segment's blob ID: the data set, the cache and the segment's place. */
static void segment_id(const char *dataset, const uint8_t cache_id[ID_LEN], uint64_t index,
                       uint8_t out[BKP_ID_LEN])
{
    crypto_generichash_state h;
    uint8_t le[8];
    bkp_le64(le, index);
    crypto_generichash_init(&h, NULL, 0, BKP_ID_LEN);
    crypto_generichash_update(&h, (const uint8_t *)dataset, strlen(dataset) + 1);
    crypto_generichash_update(&h, cache_id, ID_LEN);
    crypto_generichash_update(&h, le, sizeof(le));
    crypto_generichash_final(&h, out, BKP_ID_LEN);
}

static void cache_name(char *out, size_t n, const char *dataset)
{
    snprintf(out, n, "files-%s", dataset);
}

static void read_entry(bkp_rd *rd, fc_entry *e, uint32_t version)
{
    e->path = (const char *)bkp_rd_bytes32(rd, &e->plen, PATH_LIMIT);
    /* The fixed fields in one piece (a call per field shows in a
     * no-change backup of many small files). */
    const uint8_t *f = bkp_rd_take(rd, ENTRY_FIXED);
    if (!f) {
        memset(&e->st, 0, sizeof(e->st));
        memset(&e->x, 0, sizeof(e->x));
        e->nsp = e->nch = 0;
        e->sp = e->ch = e->content = NULL;
        return;
    }
    e->st.mode = bkp_get_le32(f);
    e->st.dev = bkp_get_le64(f + 4);
    e->st.ino = bkp_get_le64(f + 12);
    e->st.size = bkp_get_le64(f + 20);
    e->st.mtime = (int64_t)bkp_get_le64(f + 28);
    e->st.ctime = (int64_t)bkp_get_le64(f + 36);
    e->x.ext = f[44] != 0;
    e->x.fflags_set = bkp_get_le64(f + 45);
    e->x.fflags_clear = bkp_get_le64(f + 53);
    e->nsp = bkp_get_le32(f + 61);
    e->sp = bkp_rd_take(rd, (size_t)e->nsp * 16);
    e->nch = bkp_rd_u32(rd);
    e->ch = bkp_rd_take(rd, (size_t)e->nch * (BKP_ID_LEN + 4));
    e->content = version >= 4 && S_ISREG(e->st.mode) ? bkp_rd_take(rd, BKP_ID_LEN) : NULL;
}

int bkp_fcache_segment_check(const uint8_t *p, size_t len, uint32_t want_version, uint64_t index,
                             const char *after, size_t alen, uint32_t *entries, bool *final,
                             const char **last, size_t *last_len)
{
    bkp_rd rd;
    bkp_rd_init(&rd, p, len);
    uint32_t version = bkp_rd_u32(&rd);
    uint64_t idx = bkp_rd_u64(&rd);
    uint8_t fin = bkp_rd_u8(&rd);
    uint32_t n = bkp_rd_u32(&rd);
    if (!bkp_rd_ok(&rd) || version != want_version ||
        (version != CACHE_VERSION && version != CACHE_VERSION_OLD) || idx != index || fin > 1)
        return -EBADMSG;
    const char *prev = alen ? after : NULL;
    size_t plen = alen;
    for (uint32_t i = 0; i < n; i++) {
        fc_entry e;
        read_entry(&rd, &e, version);
        /* Paths are absolute, without NUL, and rise strictly in walk
         * order: the merge with the next walk depends on it. */
        if (!bkp_rd_ok(&rd) || e.plen == 0 || e.path[0] != '/' || memchr(e.path, 0, e.plen) ||
            (prev && bkp_walk_cmpn(prev, plen, e.path, e.plen) >= 0))
            return -EBADMSG;
        prev = e.path;
        plen = e.plen;
    }
    if (rd.left)
        return -EBADMSG;
    *entries = n;
    *final = fin;
    *last = prev;
    *last_len = prev ? plen : 0;
    return 0;
}

/* ---------------------------------------------------------------- reading */

static void give_up(bkp_fcache *c, const char *why)
{
    if (!c->problem)
        c->problem = why;
    c->final = true;
    c->left = 0;
    c->have = false;
}

/* In the thread: read, open and check the next segment into `next`. NULL,
 * or why the cache cannot be used from here on. */
static const char *read_segment(bkp_fcache *c, uint32_t *n, bool *fin)
{
    uint8_t le[4], id[BKP_ID_LEN];
    if (c->off + 4 > c->size || bkp_pread_full(c->fd, le, 4, c->off) != 0)
        return N_("it ends before its last part (cut short)");
    uint32_t slen = bkp_get_le32(le);
    c->sealed.len = 0;
    /* No segment seals more than one blob's plaintext: a length beyond that
     * is damage, refused before it is allocated or read (a sparse file
     * would otherwise cost gigabytes of memory for nothing). */
    if (slen > SEALED_MAX)
        return N_("a part of it does not authenticate (damaged or altered)");
    uint8_t *p = slen <= c->size - c->off - 4 ? bkp_buf_reserve(&c->sealed, slen) : NULL;
    if (!p || bkp_pread_full(c->fd, p, slen, c->off + 4) != 0)
        return N_("it ends before its last part (cut short)");
    c->off += 4 + (uint64_t)slen;
    segment_id(c->dataset, c->cache_id, c->index, id);
    const char *last;
    size_t last_len;
    if (bkp_blob_open(c->k, BKP_BLOB_CACHE, id, p, slen, &c->next) != 0 ||
        bkp_fcache_segment_check(c->next.data, c->next.len, c->version, c->index, c->last,
                                 c->last_len, n, fin, &last, &last_len) != 0)
        return N_("a part of it does not authenticate (damaged or altered)");
    if (last_len) {
        char *copy = malloc(last_len);
        if (!copy)
            return N_("out of memory");
        memcpy(copy, last, last_len);
        free(c->last);
        c->last = copy;
        c->last_len = last_len;
    }
    c->index++;
    return NULL;
}

static void swap_bufs(bkp_buf *a, bkp_buf *b)
{
    bkp_buf t = *a;
    *a = *b;
    *b = t;
}

static void *read_thread(void *arg)
{
    bkp_fcache *c = arg;
    for (;;) {
        uint32_t n = 0;
        bool fin = false;
        const char *why = read_segment(c, &n, &fin);
        pthread_mutex_lock(&c->lock);
        while (!why && c->count == AHEAD && !c->stop)
            pthread_cond_wait(&c->cv, &c->lock);
        if (!why && !c->stop) {
            fc_ready *r = &c->ready[(c->head + c->count) % AHEAD];
            swap_bufs(&r->seg, &c->next);
            r->n = n;
            r->final = fin;
            c->count++;
        }
        bool end = why || fin || c->stop;
        c->why = why;
        c->ended = end;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->lock);
        if (end)
            return NULL;
    }
}

/* Take the next segment from the thread; false at the end of the cache (or
 * where it stops being readable, which is then the problem). */
static bool next_segment(bkp_fcache *c)
{
    if (c->final)
        return false;
    pthread_mutex_lock(&c->lock);
    while (!c->count && !c->ended)
        pthread_cond_wait(&c->cv, &c->lock);
    bool got = c->count > 0;
    if (got) {
        fc_ready *r = &c->ready[c->head];
        swap_bufs(&c->seg, &r->seg);
        c->final = r->final;
        c->left = r->n;
        c->head = (c->head + 1) % AHEAD;
        c->count--;
        pthread_cond_broadcast(&c->cv);
    }
    const char *why = c->why;
    pthread_mutex_unlock(&c->lock);
    if (!got) {
        /* The thread ended without a final segment. */
        give_up(c, why ? why : N_("it ends before its last part (cut short)"));
        return false;
    }
    bkp_rd_init(&c->rd, c->seg.data, c->seg.len);
    bkp_rd_take(&c->rd, 4 + 8 + 1 + 4); /* the header, checked by the thread */
    return true;
}

/* Put the next entry under the cursor; false at the end. */
static bool advance(bkp_fcache *c)
{
    while (!c->left)
        if (!next_segment(c))
            return c->have = false;
    read_entry(&c->rd, &c->cur, c->version);
    c->left--;
    return c->have = true;
}

int bkp_fcache_open(bkp_repo *r, const char *dataset, bkp_fcache **out, bool *found)
{
    *found = false;
    bkp_fcache *c = calloc(1, sizeof(*c));
    if (!c || !(c->dataset = strdup(dataset))) {
        free(c);
        return -ENOMEM;
    }
    c->k = bkp_repo_keys(r);
    c->fd = -1;
    c->final = true; /* until a header is read: an empty cache */
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cv, NULL);
    *out = c;
    char name[300];
    cache_name(name, sizeof(name), dataset);
    char *dir = bkp_repo_subpath(r, "cache");
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(dir);
    if (dfd < 0)
        return 0;
    c->fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dfd);
    if (c->fd < 0) {
        if (errno != ENOENT)
            c->problem = N_("it cannot be opened");
        return 0;
    }
    struct stat st;
    uint8_t head[sizeof(MAGIC) + ID_LEN];
    if (fstat(c->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        c->problem = N_("it is not a regular file");
        return 0;
    }
    if (bkp_pread_full(c->fd, head, sizeof(head), 0) != 0) {
        c->problem = N_("it is of an older version, or damaged");
        return 0;
    }
    if (!memcmp(head, MAGIC, sizeof(MAGIC)))
        c->version = CACHE_VERSION;
    else if (!memcmp(head, MAGIC_OLD, sizeof(MAGIC_OLD)))
        c->version = CACHE_VERSION_OLD; /* its content hashes are recomputed */
    else {
        c->problem = N_("it is of an older version, or damaged");
        return 0;
    }
    memcpy(c->cache_id, head + sizeof(MAGIC), ID_LEN);
    c->off = sizeof(head);
    c->size = (uint64_t)st.st_size;
    c->vouches = c->version == CACHE_VERSION &&
                 bkp_fcache_stamp_holds(r, dataset, c->cache_id, c->fd, c->size, c->off);
    if (bkp_thread_create(&c->thread, read_thread, c) != 0) {
        c->problem = N_("it cannot be read now (no thread)");
        return 0;
    }
    c->started = true;
    c->final = false;
    /* The first segment decides whether there is a cache at all. */
    if (advance(c) || !c->problem)
        *found = true;
    return 0;
}

void bkp_fcache_free(bkp_fcache *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cv);
    if (c->fd >= 0)
        close(c->fd);
    bkp_buf_free(&c->sealed);
    bkp_buf_free(&c->next);
    for (unsigned i = 0; i < AHEAD; i++)
        bkp_buf_free(&c->ready[i].seg);
    bkp_buf_free(&c->seg);
    bkp_buf_free(&c->iter);
    free(c->last);
    free(c->dataset);
    free(c);
}

const char *bkp_fcache_problem(const bkp_fcache *c)
{
    return c->problem;
}

bool bkp_fcache_vouches(const bkp_fcache *c)
{
    return c->vouches;
}

/* Pass the entry under the cursor. */
static void pass(bkp_fcache *c, bool seen)
{
    if (!seen && S_ISREG(c->cur.st.mode))
        c->unseen++;
    advance(c);
}

static bool same_stat(const bkp_fstat *a, const bkp_fstat *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime == b->mtime &&
           a->ctime == b->ctime && a->mode == b->mode;
}

/* A regular file's content hash: as stored (version 4), or computed from
 * its size and chunks as bkp_item_content_hash does (version 3). */
static void entry_content(const bkp_keys *k, const fc_entry *e, uint8_t out[BKP_ID_LEN])
{
    if (e->content)
        memcpy(out, e->content, BKP_ID_LEN);
    else
        bkp_item_content_hash_raw(k, e->st.size, e->ch, e->nch, out);
}

/* Copy the cursor's chunks, sparse map and content hash into `it`. */
static int take_content(const bkp_keys *k, const fc_entry *e, bkp_item *it)
{
    bkp_chunk_ref *ch = e->nch ? malloc(e->nch * sizeof(*ch)) : NULL;
    uint64_t *sp = e->nsp ? malloc(2 * (size_t)e->nsp * sizeof(*sp)) : NULL;
    if ((e->nch && !ch) || (e->nsp && !sp)) {
        free(ch);
        free(sp);
        return -ENOMEM;
    }
    for (uint32_t j = 0; j < 2 * e->nsp; j++)
        sp[j] = bkp_get_le64(e->sp + 8 * j);
    for (uint32_t j = 0; j < e->nch; j++) {
        memcpy(ch[j].id, e->ch + j * (BKP_ID_LEN + 4), BKP_ID_LEN);
        ch[j].len = bkp_get_le32(e->ch + j * (BKP_ID_LEN + 4) + BKP_ID_LEN);
    }
    free(it->chunks);
    free(it->sparse);
    entry_content(k, e, it->content);
    it->chunks = ch;
    it->nchunks = e->nch;
    it->sparse = sp;
    it->nsparse = e->nsp;
    return 0;
}

int bkp_fcache_lookup(bkp_fcache *c, const char *path, const bkp_fstat *st, bkp_item *it,
                      uint8_t old_content[BKP_ID_LEN], bkp_fextra *x)
{
    size_t plen = strlen(path);
    int cmp = -1;
    /* The merge: entries before `path` are paths that are gone. */
    while (c->have && (cmp = bkp_walk_cmpn(c->cur.path, c->cur.plen, path, plen)) < 0)
        pass(c, false);
    if (!c->have || cmp > 0)
        return -ENOENT;
    const fc_entry *e = &c->cur;
    int rc = 1;
    if (!same_stat(&e->st, st)) {
        rc = 0;
        if (S_ISREG(e->st.mode) && old_content)
            entry_content(c->k, e, old_content);
    } else if (!it || !S_ISREG(e->st.mode) || !(rc = take_content(c->k, e, it))) {
        *x = e->x;
        rc = 1;
    }
    pass(c, true);
    return rc;
}

int bkp_fcache_next(bkp_fcache *c, const char **path, bkp_fstat *st, bkp_item *it)
{
    if (!c->have)
        return 0;
    bkp_buf_reset(&c->iter);
    bkp_buf_put(&c->iter, c->cur.path, c->cur.plen);
    bkp_buf_put(&c->iter, "", 1);
    int rc = c->iter.failed ? -ENOMEM : 0;
    if (!rc && it && S_ISREG(c->cur.st.mode))
        rc = take_content(c->k, &c->cur, it);
    if (rc)
        return rc;
    *path = (const char *)c->iter.data;
    *st = c->cur.st;
    pass(c, true);
    return 1;
}

uint64_t bkp_fcache_unseen(bkp_fcache *c)
{
    while (c->have)
        pass(c, false);
    return c->unseen;
}

/* ---------------------------------------------------------------- writing */

static void segment_start(bkp_fcache_writer *w)
{
    bkp_buf_reset(&w->seg);
    bkp_buf_u32(&w->seg, CACHE_VERSION);
    bkp_buf_u64(&w->seg, w->index);
    bkp_buf_u8(&w->seg, 0);  /* final: set when sealed */
    bkp_buf_u32(&w->seg, 0); /* count: set when sealed */
    w->n = 0;
}

/* LZ4's acceleration for cache segments: rewritten on every run, so speed
 * counts more than their size (measured: about half the compression time,
 * a slightly larger file). */
#define CACHE_LZ4_ACCEL 8

/* In the thread: seal the segment in `work` and append it to the file. */
static int seal_and_write(bkp_fcache_writer *w)
{
    uint8_t id[BKP_ID_LEN], le[4];
    segment_id(w->dataset, w->cache_id, bkp_get_le64(w->work.data + 4), id);
    /* bkp_blob_seal appends: without the reset every segment would carry
     * all the sealed segments before it (and fail to open). */
    bkp_buf_reset(&w->sealed);
    int rc = bkp_blob_seal(w->k, BKP_BLOB_CACHE, id, w->work.data, w->work.len, (bkp_comp){.kind = BKP_COMP_LZ4, .level = CACHE_LZ4_ACCEL},
                           &w->sealed);
    if (!rc) {
        bkp_le32(le, (uint32_t)w->sealed.len);
        if (!(rc = bkp_dfile_write(w->f, le, 4)))
            rc = bkp_dfile_write(w->f, w->sealed.data, w->sealed.len);
    }
    return rc;
}

static void *seal_thread(void *arg)
{
    bkp_fcache_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->have && !w->last_one && !w->abandon)
            pthread_cond_wait(&w->cv, &w->lock);
        if (w->abandon || !w->have) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        swap_bufs(&w->handed, &w->work);
        w->have = false;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->lock);
        int rc = seal_and_write(w);
        if (rc) {
            pthread_mutex_lock(&w->lock);
            w->seal_err = rc;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
    }
}

/* Hand the segment being filled to the thread and start the next. */
static void segment_seal(bkp_fcache_writer *w, bool final)
{
    if (w->err)
        return;
    if (w->seg.failed) {
        w->err = -ENOMEM;
        return;
    }
    w->seg.data[12] = final;
    bkp_le32(w->seg.data + 13, w->n);
    pthread_mutex_lock(&w->lock);
    while (w->have && !w->seal_err)
        pthread_cond_wait(&w->cv, &w->lock);
    if (w->seal_err) {
        w->err = w->seal_err;
    } else {
        swap_bufs(&w->seg, &w->handed);
        w->have = true;
        w->last_one = final;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->lock);
    w->index++;
    segment_start(w);
}

/* Stop the thread: once it has written what it was handed, or at once. */
static void stop_thread(bkp_fcache_writer *w, bool abandon)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    if (abandon)
        w->abandon = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->started = false;
}

int bkp_fcache_writer_new(bkp_repo *r, const char *dataset, bkp_fcache_writer **out)
{
    bkp_fcache_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    bkp_buf_init(&w->seg);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->r = r;
    w->k = bkp_repo_keys(r);
    if (!(w->dataset = strdup(dataset)) || !(w->dir = bkp_repo_subpath(r, "cache"))) {
        bkp_fcache_writer_free(w);
        return -ENOMEM;
    }
    randombytes_buf(w->cache_id, ID_LEN);
    int rc = bkp_dfile_open(&w->f, w->dir, BKP_DURABLE_PRIVATE);
    if (!rc && !(rc = bkp_dfile_write(w->f, MAGIC, sizeof(MAGIC))))
        rc = bkp_dfile_write(w->f, w->cache_id, ID_LEN);
    if (!rc && bkp_thread_create(&w->thread, seal_thread, w) != 0)
        rc = -EAGAIN;
    w->started = !rc;
    w->err = rc; /* reported at commit: the backup itself goes on */
    segment_start(w);
    *out = w;
    return 0;
}

int bkp_fcache_add(bkp_fcache_writer *w, const char *path, const bkp_fstat *st, const bkp_item *it,
                   const bkp_fextra *x)
{
    size_t plen = strlen(path);
    size_t need = 4 + plen + ENTRY_FIXED + (size_t)it->nsparse * 16 + 4 +
                  (size_t)it->nchunks * (BKP_ID_LEN + 4) + (S_ISREG(st->mode) ? BKP_ID_LEN : 0);
    if (w->err || plen == 0 || plen > PATH_LIMIT || path[0] != '/' ||
        need > BKP_BLOB_MAX_RAW - 64 ||
        (w->last && bkp_walk_cmpn(w->last, w->last_len, path, plen) >= 0))
        return 0; /* not remembered: read again next time */
    if (w->n && w->seg.len + need > SEGMENT_TARGET)
        segment_seal(w, false);
    bkp_buf *b = &w->seg;
    /* Written in place in one reservation: the entry's size is known. */
    uint8_t *d = bkp_buf_reserve(b, need);
    if (d && plen > w->last_cap) {
        char *last = realloc(w->last, plen + 256);
        if (last) {
            w->last = last;
            w->last_cap = plen + 256;
        }
    }
    if (!d || plen > w->last_cap) {
        w->err = -ENOMEM;
        return 0;
    }
    bkp_le32(d, (uint32_t)plen);
    memcpy(d + 4, path, plen);
    d += 4 + plen;
    bkp_le32(d, st->mode);
    bkp_le64(d + 4, st->dev);
    bkp_le64(d + 12, st->ino);
    bkp_le64(d + 20, st->size);
    bkp_le64(d + 28, (uint64_t)st->mtime);
    bkp_le64(d + 36, (uint64_t)st->ctime);
    d[44] = x->ext;
    bkp_le64(d + 45, x->fflags_set);
    bkp_le64(d + 53, x->fflags_clear);
    bkp_le32(d + 61, it->nsparse);
    d += ENTRY_FIXED;
    for (uint32_t j = 0; j < 2 * it->nsparse; j++, d += 8)
        bkp_le64(d, it->sparse[j]);
    bkp_le32(d, it->nchunks);
    d += 4;
    for (uint32_t j = 0; j < it->nchunks; j++, d += BKP_ID_LEN + 4) {
        memcpy(d, it->chunks[j].id, BKP_ID_LEN);
        bkp_le32(d + BKP_ID_LEN, it->chunks[j].len);
    }
    if (S_ISREG(st->mode))
        memcpy(d, it->content, BKP_ID_LEN);
    b->len += need;
    memcpy(w->last, path, plen);
    w->last_len = plen;
    w->n++;
    return 0;
}

int bkp_fcache_commit(bkp_fcache_writer *w)
{
    char name[300];
    segment_seal(w, true);
    /* The final segment handed over, the thread ends once it is written;
     * after an error nothing more is written. */
    stop_thread(w, w->err != 0);
    int rc = w->err ? w->err : w->seal_err;
    if (!rc) /* after the backup's flush: see filescache_stamp.c */
        rc = bkp_fcache_stamp_write(w->r, w->dataset, w->cache_id, w->f);
    if (!rc) {
        cache_name(name, sizeof(name), w->dataset);
        bkp_dfile *f = w->f;
        w->f = NULL; /* commit frees the file either way */
        rc = bkp_dfile_commit(f, w->dir, name, BKP_DURABLE_PRIVATE);
    }
    if (rc)
        bkp_warn(_("cannot save the files cache of %s in %s (%s); the next backup reads every "
                   "file again. Check the free space and permissions there"),
                 w->dataset, w->dir, bkp_strerror(rc));
    bkp_fcache_writer_free(w);
    return rc;
}

void bkp_fcache_writer_free(bkp_fcache_writer *w)
{
    if (!w)
        return;
    stop_thread(w, true);
    bkp_dfile_abort(w->f);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cv);
    bkp_buf_free(&w->seg);
    bkp_buf_free(&w->handed);
    bkp_buf_free(&w->work);
    bkp_buf_free(&w->sealed);
    free(w->last);
    free(w->dataset);
    free(w->dir);
    free(w);
}

void bkp_fextra_of(struct archive_entry *e, bkp_fextra *x)
{
    unsigned long set = 0, clear = 0;
    archive_entry_fflags(e, &set, &clear);
    x->fflags_set = set;
    x->fflags_clear = clear;
    x->ext =
        archive_entry_xattr_count(e) > 0 ||
        archive_entry_acl_count(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS | ARCHIVE_ENTRY_ACL_TYPE_DEFAULT |
                                       ARCHIVE_ENTRY_ACL_TYPE_NFS4) > 0;
}
