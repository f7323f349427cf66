#include "bkp/store/tree.h"
#include "bkp/io/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define ITEM_MAX (64U << 20)
#define PATH_MAX_BYTES (1U << 20)

enum { F_HARDLINK = 1, F_MTIME = 2, F_ATIME = 4, F_CTIME = 8, F_BIRTHTIME = 16 };

void bkp_item_init(bkp_item *it)
{
    memset(it, 0, sizeof(*it));
}

void bkp_item_clear(bkp_item *it)
{
    if (it->entry)
        archive_entry_free(it->entry);
    free(it->chunks);
    free(it->sparse);
    bkp_item_init(it);
}

void bkp_item_content_hash(const bkp_keys *k, uint64_t size, const bkp_chunk_ref *chunks,
                           uint32_t n, uint8_t out[BKP_ID_LEN])
{
    crypto_generichash_state st;
    uint8_t b[8];
    crypto_generichash_init(&st, bkp_keys_id_key(k), 32, BKP_ID_LEN);
    bkp_le64(b, size);
    crypto_generichash_update(&st, b, 8);
    for (uint32_t i = 0; i < n; i++) {
        crypto_generichash_update(&st, chunks[i].id, BKP_ID_LEN);
        bkp_le32(b, chunks[i].len);
        crypto_generichash_update(&st, b, 4);
    }
    crypto_generichash_final(&st, out, BKP_ID_LEN);
}

void bkp_item_content_hash_raw(const bkp_keys *k, uint64_t size, const uint8_t *refs, uint32_t n,
                               uint8_t out[BKP_ID_LEN])
{
    crypto_generichash_state st;
    uint8_t b[8];
    crypto_generichash_init(&st, bkp_keys_id_key(k), 32, BKP_ID_LEN);
    bkp_le64(b, size);
    crypto_generichash_update(&st, b, 8);
    crypto_generichash_update(&st, refs, (size_t)n * (BKP_ID_LEN + 4));
    crypto_generichash_final(&st, out, BKP_ID_LEN);
}

static void put_str(bkp_buf *b, const char *s)
{
    bkp_buf_bytes32(b, s ? s : "", s ? strlen(s) : 0);
}

static void put_time(uint8_t p[12], int64_t sec, long nsec)
{
    bkp_le64(p, (uint64_t)sec);
    bkp_le32(p + 8, (uint32_t)nsec);
}

/* The entry's head: flags, mode, path, owner, the fixed fields in one piece
 * and the link target. */
static void encode_head(struct archive_entry *e, bkp_buf *out)
{
    uint8_t flags = 0;
    unsigned long fset = 0, fclear = 0;
    const char *link;

    if (archive_entry_hardlink(e))
        flags |= F_HARDLINK;
    flags |= archive_entry_mtime_is_set(e) ? F_MTIME : 0;
    flags |= archive_entry_atime_is_set(e) ? F_ATIME : 0;
    flags |= archive_entry_ctime_is_set(e) ? F_CTIME : 0;
    flags |= archive_entry_birthtime_is_set(e) ? F_BIRTHTIME : 0;
    bkp_buf_u8(out, flags);
    bkp_buf_u32(out, (uint32_t)archive_entry_mode(e));
    put_str(out, archive_entry_pathname(e));
    bkp_buf_u64(out, (uint64_t)archive_entry_uid(e));
    bkp_buf_u64(out, (uint64_t)archive_entry_gid(e));
    put_str(out, archive_entry_uname(e));
    put_str(out, archive_entry_gname(e));
    /* The fixed fields in one piece: times, size, rdev, flags. */
    uint8_t f[4 * 12 + 4 * 8];
    put_time(f, archive_entry_mtime(e), archive_entry_mtime_nsec(e));
    put_time(f + 12, archive_entry_atime(e), archive_entry_atime_nsec(e));
    put_time(f + 24, archive_entry_ctime(e), archive_entry_ctime_nsec(e));
    put_time(f + 36, archive_entry_birthtime(e), archive_entry_birthtime_nsec(e));
    bkp_le64(f + 48, (uint64_t)archive_entry_size(e));
    bkp_le64(f + 56, (uint64_t)archive_entry_rdev(e));
    archive_entry_fflags(e, &fset, &fclear);
    bkp_le64(f + 64, fset);
    bkp_le64(f + 72, fclear);
    bkp_buf_put(out, f, sizeof(f));
    link = (flags & F_HARDLINK) ? archive_entry_hardlink(e) : archive_entry_symlink(e);
    put_str(out, link);
}

/* Extended attributes, in the order the file system listed them. */
static void encode_xattrs(struct archive_entry *e, bkp_buf *out)
{
    const char *name;
    const void *value;
    size_t vlen;
    uint32_t nx = (uint32_t)archive_entry_xattr_reset(e);
    bkp_buf_u32(out, nx);
    while (archive_entry_xattr_next(e, &name, &value, &vlen) == ARCHIVE_OK) {
        put_str(out, name);
        bkp_buf_bytes32(out, value, vlen);
    }
}

/* ACL entries, POSIX.1e (access and default) or NFSv4. The count is the
 * number actually written, patched in once they are. */
static void encode_acls(struct archive_entry *e, bkp_buf *out)
{
    int types = archive_entry_acl_types(e);
    uint32_t na = types ? (uint32_t)archive_entry_acl_reset(e, types) : 0;
    size_t na_at = out->len;
    bkp_buf_u32(out, 0);
    uint32_t written = 0;
    int type, permset, tag, qual;
    const char *aname;
    while (na && archive_entry_acl_next(e, types, &type, &permset, &tag, &qual, &aname) ==
                     ARCHIVE_OK) {
        bkp_buf_u32(out, (uint32_t)type);
        bkp_buf_u32(out, (uint32_t)permset);
        bkp_buf_u32(out, (uint32_t)tag);
        bkp_buf_u32(out, (uint32_t)qual);
        put_str(out, aname);
        written++;
    }
    if (!out->failed)
        bkp_le32(out->data + na_at, written);
}

/* The tail, written in place: sparse map, chunks. */
static void encode_tail(const bkp_item *it, bkp_buf *out)
{
    size_t tail = 4 + (size_t)it->nsparse * 16 + 4 + (size_t)it->nchunks * (BKP_ID_LEN + 4);
    uint8_t *d = bkp_buf_reserve(out, tail);
    if (!d)
        return;
    bkp_le32(d, it->nsparse);
    d += 4;
    for (uint32_t i = 0; i < 2 * it->nsparse; i++, d += 8)
        bkp_le64(d, it->sparse[i]);
    bkp_le32(d, it->nchunks);
    d += 4;
    for (uint32_t i = 0; i < it->nchunks; i++, d += BKP_ID_LEN + 4) {
        memcpy(d, it->chunks[i].id, BKP_ID_LEN);
        bkp_le32(d + BKP_ID_LEN, it->chunks[i].len);
    }
    out->len += tail;
}

int bkp_item_encode(const bkp_item *it, bkp_buf *out)
{
    size_t start = out->len;

    bkp_buf_u32(out, 0); /* length, patched below */
    encode_head(it->entry, out);
    encode_xattrs(it->entry, out);
    encode_acls(it->entry, out);
    encode_tail(it, out);
    if (out->failed)
        return -ENOMEM;
    size_t len = out->len - start - 4;
    if (len > ITEM_MAX)
        return -E2BIG;
    bkp_le32(out->data + start, (uint32_t)len);
    return 0;
}

/* A string field as a NUL-terminated copy in `tmp` (reused). */
static const char *get_str(bkp_rd *rd, bkp_buf *tmp, uint32_t max)
{
    uint32_t n;
    const uint8_t *p = bkp_rd_bytes32(rd, &n, max);
    if (!p)
        return NULL;
    bkp_buf_reset(tmp);
    bkp_buf_put(tmp, p, n);
    bkp_buf_u8(tmp, 0);
    return tmp->failed ? NULL : (const char *)tmp->data;
}

/*
 * The decoding steps below share one reader and one scratch buffer. The
 * reader latches a short read (it then returns zeros), so a step checks
 * bkp_rd_ok() only where a count read from the input is about to size an
 * allocation or a loop; each step returns 0, -EBADMSG or -ENOMEM.
 */

/* Flags, mode, path and owner. Unknown flags and an empty path are refused. */
static int decode_names(bkp_rd *rd, bkp_buf *tmp, struct archive_entry *e, uint8_t *flags)
{
    const char *s;

    *flags = bkp_rd_u8(rd);
    if (*flags & ~(F_HARDLINK | F_MTIME | F_ATIME | F_CTIME | F_BIRTHTIME))
        return -EBADMSG; /* a flag this version does not know: refuse, never guess */
    archive_entry_set_mode(e, (mode_t)bkp_rd_u32(rd));
    if (!(s = get_str(rd, tmp, PATH_MAX_BYTES)) || !*s)
        return -EBADMSG;
    archive_entry_copy_pathname(e, s);
    archive_entry_set_uid(e, (la_int64_t)bkp_rd_u64(rd));
    archive_entry_set_gid(e, (la_int64_t)bkp_rd_u64(rd));
    if ((s = get_str(rd, tmp, 4096)) && *s)
        archive_entry_copy_uname(e, s);
    if ((s = get_str(rd, tmp, 4096)) && *s)
        archive_entry_copy_gname(e, s);
    return 0;
}

/* The fixed fields (times, size, rdev, file flags) and the link target. */
static int decode_fixed(bkp_rd *rd, bkp_buf *tmp, struct archive_entry *e, uint8_t flags)
{
    const char *s;
    int64_t t[8];

    for (int i = 0; i < 4; i++) {
        t[2 * i] = (int64_t)bkp_rd_u64(rd);
        t[2 * i + 1] = bkp_rd_u32(rd);
    }
    if (flags & F_MTIME)
        archive_entry_set_mtime(e, t[0], (long)t[1]);
    if (flags & F_ATIME)
        archive_entry_set_atime(e, t[2], (long)t[3]);
    if (flags & F_CTIME)
        archive_entry_set_ctime(e, t[4], (long)t[5]);
    if (flags & F_BIRTHTIME)
        archive_entry_set_birthtime(e, t[6], (long)t[7]);
    archive_entry_set_size(e, (la_int64_t)bkp_rd_u64(rd));
    archive_entry_set_rdev(e, (dev_t)bkp_rd_u64(rd));
    uint64_t fset = bkp_rd_u64(rd), fclear = bkp_rd_u64(rd);
    if (fset || fclear)
        archive_entry_set_fflags(e, (unsigned long)fset, (unsigned long)fclear);
    if (!(s = get_str(rd, tmp, PATH_MAX_BYTES)))
        return -EBADMSG;
    if (*s) {
        if (flags & F_HARDLINK)
            archive_entry_copy_hardlink(e, s);
        else
            archive_entry_copy_symlink(e, s);
    }
    return 0;
}

/* libarchive prepends each added xattr: add them last to first so the
 * entry lists them in the order they were encoded. A count that the bytes
 * left cannot hold (8 bytes at least each) is refused before allocating. */
static int decode_xattrs(bkp_rd *rd, bkp_buf *tmp, struct archive_entry *e)
{
    const char *s;
    uint32_t nx = bkp_rd_u32(rd);
    if (nx > rd->left / 8)
        return -EBADMSG;
    struct xa {
        char *name;
        const uint8_t *v;
        uint32_t vlen;
    } *xv = nx ? calloc(nx, sizeof(*xv)) : NULL;
    if (nx && !xv)
        return -ENOMEM;
    for (uint32_t i = 0; i < nx && bkp_rd_ok(rd); i++) {
        xv[i].name = (s = get_str(rd, tmp, 65536)) ? strdup(s) : NULL;
        xv[i].v = bkp_rd_bytes32(rd, &xv[i].vlen, ITEM_MAX);
    }
    for (uint32_t i = nx; i-- > 0;) {
        if (xv[i].name && xv[i].v)
            archive_entry_xattr_add_entry(e, xv[i].name, xv[i].v, xv[i].vlen);
        free(xv[i].name);
    }
    free(xv);
    return 0;
}

/* ACL entries; one libarchive refuses is a record we did not write. */
static int decode_acls(bkp_rd *rd, bkp_buf *tmp, struct archive_entry *e)
{
    const char *s;
    uint32_t na = bkp_rd_u32(rd);
    for (uint32_t i = 0; i < na && bkp_rd_ok(rd); i++) {
        int type = (int)bkp_rd_u32(rd), perm = (int)bkp_rd_u32(rd);
        int tag = (int)bkp_rd_u32(rd), qual = (int)bkp_rd_u32(rd);
        s = get_str(rd, tmp, 4096);
        if (s && archive_entry_acl_add_entry(e, type, perm, tag, qual, *s ? s : NULL) != ARCHIVE_OK)
            return -EBADMSG;
    }
    return 0;
}

/* The tail: sparse map, (version 1) content hash, chunks. Each count is
 * checked against the bytes left before it sizes an allocation. */
static int decode_tail(bkp_rd *rd, uint32_t version, bkp_item *it)
{
    it->nsparse = bkp_rd_u32(rd);
    if (!bkp_rd_ok(rd) || it->nsparse > rd->left / 16)
        return -EBADMSG;
    if (it->nsparse) {
        if (!(it->sparse = malloc(2 * sizeof(uint64_t) * it->nsparse)))
            return -ENOMEM;
        for (uint32_t i = 0; i < 2 * it->nsparse; i++)
            it->sparse[i] = bkp_rd_u64(rd);
    }
    const uint8_t *c = version == 1 ? bkp_rd_take(rd, BKP_ID_LEN) : NULL;
    if (c)
        memcpy(it->content, c, BKP_ID_LEN);
    it->nchunks = bkp_rd_u32(rd);
    if (!bkp_rd_ok(rd) || it->nchunks > rd->left / (BKP_ID_LEN + 4))
        return -EBADMSG;
    if (it->nchunks) {
        if (!(it->chunks = malloc(sizeof(*it->chunks) * it->nchunks)))
            return -ENOMEM;
        for (uint32_t i = 0; i < it->nchunks; i++) {
            memcpy(it->chunks[i].id, bkp_rd_take(rd, BKP_ID_LEN), BKP_ID_LEN);
            it->chunks[i].len = bkp_rd_u32(rd);
        }
    }
    return 0;
}

bool bkp_item_has_content(const bkp_item *it)
{
    return it->entry && archive_entry_filetype(it->entry) == AE_IFREG && !archive_entry_hardlink(it->entry);
}

int bkp_item_decode(const uint8_t *p, size_t len, uint32_t version, bkp_item *it)
{
    bkp_rd rd;
    bkp_buf tmp;
    uint8_t flags;
    int rc;

    bkp_item_clear(it);
    if (version < BKP_TREE_VERSION_MIN || version > BKP_TREE_VERSION)
        return -EPROTO;
    bkp_buf_init(&tmp);
    bkp_rd_init(&rd, p, len);
    struct archive_entry *e = it->entry = archive_entry_new();
    if (!e)
        return -ENOMEM;
    if ((rc = decode_names(&rd, &tmp, e, &flags)) || (rc = decode_fixed(&rd, &tmp, e, flags)) ||
        (rc = decode_xattrs(&rd, &tmp, e)) || (rc = decode_acls(&rd, &tmp, e)) ||
        (rc = decode_tail(&rd, version, it)))
        goto out;
    /* Exactly consumed: a record with trailing bytes is not one we wrote. */
    rc = bkp_rd_ok(&rd) && rd.left == 0 ? 0 : -EBADMSG;
out:
    bkp_buf_free(&tmp);
    if (rc)
        bkp_item_clear(it);
    return rc;
}

/*
 * The writer runs in two threads, so that a backup's walk is not held up by
 * the tree: the caller's thread encodes items into `fill` and hands it over
 * about every HANDOFF bytes; the writer's own thread appends what it is
 * handed to the stream, cuts it with the chunker and stores the tree blobs,
 * in order. Where the chunker cuts depends only on the stream's bytes (a cut
 * is looked for within `max` bytes, and bytes are cut only while `max` of
 * them are there, or at the end), never on how the stream was handed over,
 * so the blobs are the ones one thread would store.
 */
#define HANDOFF (1U << 20)

struct bkp_tree_writer {
    bkp_repo *repo;
    bkp_comp comp;
    bkp_buf fill; /* the caller's: encoded items not yet handed over */
    uint64_t items;

    pthread_mutex_t lock;
    pthread_cond_t cv;
    bkp_buf handed; /* handed over, not yet taken by the thread */
    bool eof;       /* nothing more will be handed over */
    bool abandon;   /* stop without storing the rest */
    int err;        /* the thread's first error */
    pthread_t thread;
    bool started;

    /* The thread's own. */
    bkp_buf in, pending; /* taken, and not yet cut into a blob */
    bkp_buf ids;
    uint64_t bytes;
};

static int tree_emit(bkp_tree_writer *w, bool eof)
{
    const bkp_chunker *c = bkp_repo_chunker(w->repo);
    size_t pos = 0;
    int rc = 0;
    while (pos < w->pending.len) {
        size_t cut = bkp_chunker_cut(c, w->pending.data + pos, w->pending.len - pos, eof);
        if (!cut)
            break;
        uint8_t id[BKP_ID_LEN];
        if ((rc = bkp_repo_put_as(w->repo, w->comp, BKP_BLOB_TREE, w->pending.data + pos, cut, id, NULL)))
            break;
        bkp_buf_put(&w->ids, id, BKP_ID_LEN);
        w->bytes += cut;
        pos += cut;
    }
    bkp_buf_consume(&w->pending, pos);
    return rc ? rc : (w->ids.failed || w->pending.failed) ? -ENOMEM : 0;
}

static void swap_bufs(bkp_buf *a, bkp_buf *b)
{
    bkp_buf t = *a;
    *a = *b;
    *b = t;
}

static void *tree_thread(void *arg)
{
    bkp_tree_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->handed.len && !w->eof && !w->abandon)
            pthread_cond_wait(&w->cv, &w->lock);
        if (w->abandon) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        swap_bufs(&w->handed, &w->in);
        bool eof = w->eof;
        pthread_cond_broadcast(&w->cv); /* `handed` is free again */
        pthread_mutex_unlock(&w->lock);

        bkp_buf_put(&w->pending, w->in.data, w->in.len);
        bkp_buf_reset(&w->in);
        int rc = w->pending.failed ? -ENOMEM : 0;
        /* Cut once two maximal chunks wait (or at the end), as the stream
         * grows: fewer passes over the same bytes. */
        if (!rc && (eof || w->pending.len >= 2 * (size_t)bkp_chunker_max(bkp_repo_chunker(w->repo))))
            rc = tree_emit(w, eof);
        if (rc) {
            pthread_mutex_lock(&w->lock);
            w->err = rc;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        if (eof)
            return NULL;
    }
}

int bkp_tree_writer_new(bkp_repo *r, bkp_comp comp, bkp_tree_writer **out)
{
    bkp_tree_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->repo = r;
    w->comp = comp;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cv, NULL);
    /* The stream starts with its version so a reader can refuse what it
     * does not understand. */
    bkp_buf_u32(&w->fill, BKP_TREE_VERSION);
    int rc = w->fill.failed ? -ENOMEM : 0;
    if (!rc && bkp_thread_create(&w->thread, tree_thread, w) != 0)
        rc = -EAGAIN;
    if (rc) {
        bkp_tree_writer_free(w);
        return rc;
    }
    w->started = true;
    *out = w;
    return 0;
}

/* Hand `fill` to the thread (waiting while it has not taken the last one);
 * with `eof`, the end of the stream. The thread's error, if any. */
static int hand_over(bkp_tree_writer *w, bool eof)
{
    pthread_mutex_lock(&w->lock);
    while (w->handed.len && !w->err)
        pthread_cond_wait(&w->cv, &w->lock);
    int rc = w->err;
    if (!rc) {
        swap_bufs(&w->fill, &w->handed);
        w->eof = eof;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->lock);
    bkp_buf_reset(&w->fill);
    return rc;
}

/* Stop the thread: at the end of the stream, or abandoning it. */
static void stop_thread(bkp_tree_writer *w, bool abandon)
{
    if (!w->started)
        return;
    if (abandon) {
        pthread_mutex_lock(&w->lock);
        w->abandon = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->lock);
    }
    pthread_join(w->thread, NULL);
    w->started = false;
}

void bkp_tree_writer_free(bkp_tree_writer *w)
{
    if (!w)
        return;
    stop_thread(w, true);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cv);
    bkp_buf_free(&w->fill);
    bkp_buf_free(&w->handed);
    bkp_buf_free(&w->in);
    bkp_buf_free(&w->pending);
    bkp_buf_free(&w->ids);
    free(w);
}

int bkp_tree_writer_add(bkp_tree_writer *w, const bkp_item *it)
{
    int rc = bkp_item_encode(it, &w->fill);
    if (rc)
        return rc;
    w->items++;
    if (w->fill.len >= HANDOFF)
        return hand_over(w, false);
    return 0;
}

int bkp_tree_writer_finish(bkp_tree_writer *w, bkp_buf *ids, uint64_t *items, uint64_t *bytes)
{
    int rc = w->fill.failed ? -ENOMEM : hand_over(w, true);
    stop_thread(w, rc != 0);
    if (!rc)
        rc = w->err; /* the thread has ended: no lock needed */
    if (!rc) {
        bkp_buf_reset(ids);
        bkp_buf_put(ids, w->ids.data, w->ids.len);
        *items = w->items;
        *bytes = w->bytes;
        rc = ids->failed ? -ENOMEM : 0;
    }
    bkp_tree_writer_free(w);
    return rc;
}

struct bkp_tree_reader {
    const bkp_repo *repo;
    uint8_t *ids;
    size_t nids, next;
    bkp_buf stream, blob;
    size_t pos;
    uint32_t version; /* the stream's, once started */
};

int bkp_tree_reader_new(const bkp_repo *r, const uint8_t *ids, size_t nids, bkp_tree_reader **out)
{
    bkp_tree_reader *tr = calloc(1, sizeof(*tr));
    if (!tr || !(tr->ids = malloc(nids * BKP_ID_LEN + 1))) {
        free(tr);
        return -ENOMEM;
    }
    memcpy(tr->ids, ids, nids * BKP_ID_LEN);
    tr->nids = nids;
    tr->repo = r;
    *out = tr;
    return 0;
}

void bkp_tree_reader_free(bkp_tree_reader *tr)
{
    if (!tr)
        return;
    free(tr->ids);
    bkp_buf_free(&tr->stream);
    bkp_buf_free(&tr->blob);
    free(tr);
}

size_t bkp_tree_reader_blob(const bkp_tree_reader *tr)
{
    return tr->next ? tr->next - 1 : 0;
}

/* Make at least `n` unread bytes available; 0 if the stream ends first. */
static int fill(bkp_tree_reader *tr, size_t n)
{
    while (tr->stream.len - tr->pos < n) {
        if (tr->next == tr->nids)
            return 0;
        int rc = bkp_repo_get(tr->repo, BKP_BLOB_TREE, tr->ids + BKP_ID_LEN * tr->next, &tr->blob);
        if (rc)
            return rc;
        tr->next++;
        bkp_buf_consume(&tr->stream, tr->pos);
        tr->pos = 0;
        bkp_buf_put(&tr->stream, tr->blob.data, tr->blob.len);
        if (tr->stream.failed)
            return -ENOMEM;
    }
    return 1;
}

int bkp_tree_reader_next(bkp_tree_reader *tr, bkp_item *it)
{
    int rc;
    if (!tr->version) {
        if ((rc = fill(tr, 4)) <= 0)
            return rc < 0 ? rc : -EBADMSG;
        uint32_t v = bkp_get_le32(tr->stream.data + tr->pos);
        if (v < BKP_TREE_VERSION_MIN || v > BKP_TREE_VERSION)
            return -EPROTO;
        tr->pos += 4;
        tr->version = v;
    }
    if ((rc = fill(tr, 4)) <= 0) {
        /* A clean end falls exactly between records. */
        if (rc == 0 && tr->stream.len != tr->pos)
            return -EBADMSG;
        return rc;
    }
    uint32_t len = bkp_get_le32(tr->stream.data + tr->pos);
    if (len > ITEM_MAX)
        return -EBADMSG;
    if ((rc = fill(tr, 4 + (size_t)len)) <= 0)
        return rc < 0 ? rc : -EBADMSG;
    rc = bkp_item_decode(tr->stream.data + tr->pos + 4, len, tr->version, it);
    if (rc)
        return rc;
    if (bkp_item_has_content(it)) {
        uint8_t h[BKP_ID_LEN];
        bkp_item_content_hash(bkp_repo_keys(tr->repo), (uint64_t)archive_entry_size(it->entry),
                              it->chunks, it->nchunks, h);
        /* Version 1 stored it: one that differs is a file we did not write
         * so (the rest of the generation reads on). */
        it->content_bad = tr->version == 1 && sodium_memcmp(h, it->content, BKP_ID_LEN) != 0;
        memcpy(it->content, h, BKP_ID_LEN);
    } else {
        memset(it->content, 0, BKP_ID_LEN); /* what version 1 stored there is not used */
    }
    tr->pos += 4 + (size_t)len;
    return 1;
}
