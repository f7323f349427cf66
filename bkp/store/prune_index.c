/*
 * prune_index.c — the index of what stays after a prune, streamed: old
 * segments in, one at a time, new segments out as soon as each is full
 * (prune_internal.h). What prune.c's apply step relies on, and why it holds:
 *
 *  - every pack that stays is named by the new index. The plan judged the
 *    packs of the repository's index, which is the union of the segments'
 *    entries and of the packs the open indexed from their trailers (a pack
 *    no segment named, or one named only by a damaged segment). A pack of a
 *    segment read here is written with that segment's list of it; a pack
 *    that stays and that no segment read here named is written from its
 *    trailer (bkp_stays_end). Only the packs the plan doomed are dropped.
 *  - every entry the index has for a pack that stays is kept: the index's
 *    entry came from a list of that pack in some segment, and every
 *    different list of a pack is written (two segments may name one pack
 *    with different lists: a prune killed before its intent was marked
 *    leaves its new segments beside the old ones). Lists equal to one
 *    already written are written once, so such doubles do not pile up.
 *  - any doubt stops before anything is deleted: an old segment that cannot
 *    be read (unless the open found it damaged and indexed its packs from
 *    their trailers), or a trailer that cannot be read.
 */
#include "bkp/store/prune_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

struct bkp_stays_ref {
    uint8_t id[BKP_ID_LEN]; /* first: bsearch compares it with a bare ID */
    uint32_t num;
};

/* The lists of one pack written so far, by their digests. */
struct bkp_stays_seen {
    uint8_t (*digest)[16];
    uint32_t n;
};

static int cmp_ref(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

int bkp_stays_begin(bkp_stays *s)
{
    const bkp_index *x = bkp_repo_index(s->r);
    s->np = bkp_index_pack_count(x);
    s->max = bkp_repo_segment_entries(s->r);
    s->segments = 0;
    s->refs = malloc(((size_t)s->np + 1) * sizeof(*s->refs));
    s->seen = calloc((size_t)s->np + 1, sizeof(*s->seen));
    s->cur = NULL;
    if (!s->refs || !s->seen)
        return -ENOMEM;
    for (uint32_t k = 0; k < s->np; k++) {
        memcpy(s->refs[k].id, bkp_index_pack_id(x, k), BKP_ID_LEN);
        s->refs[k].num = k;
    }
    qsort(s->refs, s->np, sizeof(*s->refs), cmp_ref);
    return bkp_index_new(&s->cur);
}

void bkp_stays_free(bkp_stays *s)
{
    for (uint32_t k = 0; s->seen && k < s->np; k++)
        free(s->seen[k].digest);
    free(s->seen);
    free(s->refs);
    bkp_index_free(s->cur);
    s->seen = NULL;
    s->refs = NULL;
    s->cur = NULL;
}

/* One segment of the new index, durable (bkp_durable_write), then named in
 * the intent in memory: the second intent, which lists them all, is written
 * only after the last one. */
static int write_one(const bkp_buf *seg, void *ctx)
{
    bkp_stays *s = ctx;
    char hex[2 * BKP_ID_LEN + 1];
    uint8_t id[BKP_ID_LEN];
    int rc = bkp_index_segment_store(s->idir, seg, hex);
    if (!rc && !(rc = bkp_unhex(id, BKP_ID_LEN, hex)))
        rc = bkp_intent_add(&s->in->new_segs, &s->in->nnew, id);
    if (!rc) {
        s->segments++;
        bkp_debug("prune: index segment %s written (%llu so far)", hex,
                  (unsigned long long)s->segments);
    }
    return rc;
}

/* Write the segment being filled and start the next. */
static int flush_segment(bkp_stays *s)
{
    uint32_t np = bkp_index_pack_count(s->cur);
    if (!np)
        return 0;
    /* At most `max` entries, or one pack: exactly one segment. */
    int rc = bkp_index_segments_encode(s->cur, 0, np, bkp_repo_keys(s->r), s->max, write_one, s);
    bkp_index_free(s->cur);
    s->cur = NULL;
    if (rc)
        bkp_error(_("cannot write an index segment in %s: %s"), s->idir, bkp_strerror(rc));
    return rc ? rc : bkp_index_new(&s->cur);
}

int bkp_stays_add(bkp_stays *s, const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e, uint32_t n)
{
    /* Whole packs: a segment is written when the next pack would not fit. */
    uint64_t have = bkp_index_count(s->cur);
    int rc = have && have + n > s->max ? flush_segment(s) : 0;
    if (!rc)
        rc = bkp_index_add_pack_entries(s->cur, pack, e, n);
    return rc;
}

/* A list's digest whatever the order of its entries (a segment's writer
 * may order a pack's entries differently): the sum, as two 64-bit words, of
 * each entry's 16-byte hash. */
static void digest_of(const bkp_pack_entry *e, uint32_t n, uint8_t out[16])
{
    uint64_t sum[2] = {n, 0};
    for (uint32_t i = 0; i < n; i++) {
        uint8_t f[BKP_ID_LEN + 1 + 8 + 4 + 4], h[16];
        uint64_t w[2];
        memcpy(f, e[i].id, BKP_ID_LEN);
        f[BKP_ID_LEN] = e[i].type;
        memcpy(f + BKP_ID_LEN + 1, &e[i].offset, 8);
        memcpy(f + BKP_ID_LEN + 9, &e[i].len, 4);
        memcpy(f + BKP_ID_LEN + 13, &e[i].raw_len, 4);
        crypto_generichash(h, sizeof(h), f, sizeof(f), NULL, 0);
        memcpy(w, h, sizeof(w));
        sum[0] += w[0];
        sum[1] += w[1];
    }
    memcpy(out, sum, 16);
}

/* Has this list of pack `num` been written? If not, it is noted as written. */
static int seen_before(bkp_stays_seen *v, const uint8_t d[16])
{
    for (uint32_t i = 0; i < v->n; i++)
        if (!memcmp(v->digest[i], d, 16))
            return 1;
    void *p = realloc(v->digest, ((size_t)v->n + 1) * 16);
    if (!p)
        return -ENOMEM;
    v->digest = p;
    memcpy(v->digest[v->n++], d, 16);
    return 0;
}

/* One pack of an old segment: dropped when it goes, or when this very list
 * of it is written already; else written. A pack the index does not know
 * (no segment loaded at the open named it) is no pack the plan doomed. */
static int old_pack(const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e, uint32_t n, void *ctx)
{
    bkp_stays *s = ctx;
    const bkp_stays_ref *ref = bsearch(pack, s->refs, s->np, sizeof(*ref), cmp_ref);
    if (ref && s->dead[ref->num])
        return 0;
    if (ref) {
        uint8_t d[16];
        digest_of(e, n, d);
        int x = seen_before(&s->seen[ref->num], d);
        if (x)
            return x < 0 ? x : 0;
    }
    return bkp_stays_add(s, pack, e, n);
}

/* Did the open find segment `hex` damaged (and index its packs from their
 * trailers)? */
static bool found_damaged(const bkp_repo *r, const char *hex)
{
    size_t l = strlen(hex);
    for (size_t i = 0; i < bkp_repo_damaged_segments(r); i++) {
        const char *p = bkp_repo_damaged_segment(r, i);
        size_t pl = strlen(p);
        if (pl > l && p[pl - l - 1] == '/' && !strcmp(p + pl - l, hex))
            return true;
    }
    return false;
}

int bkp_stays_old(bkp_stays *s)
{
    int dfd = open(s->idir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
    bkp_buf seg;
    if (dfd < 0) {
        rc = -errno;
        bkp_error(_("cannot read %s: %s"), s->idir, bkp_strerror(rc));
        return rc;
    }
    bkp_buf_init(&seg);
    /* One old segment in memory at a time; no segment is larger than one
     * blob. */
    for (size_t i = 0; !rc && i < s->in->nold; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, s->in->old_segs[i], BKP_ID_LEN);
        int x = bkp_read_file_at(dfd, hex, &seg, 8 + BKP_BLOB_MAX_RAW + BKP_BLOB_MAX_RAW / 16);
        if (!x)
            x = bkp_index_segment_walk(seg.data, seg.len, bkp_repo_keys(s->r), old_pack, s);
        if ((x == -EBADMSG || x == -EFBIG) && found_damaged(s->r, hex))
            continue;
        if (x && x != -ENOMEM)
            bkp_error(_("index segment %s/%s cannot be read (%s); prune deleted nothing: run `bkp "
                        "verify`"),
                      s->idir, hex, bkp_strerror(x));
        rc = x;
    }
    bkp_buf_free(&seg);
    close(dfd);
    return rc;
}

/* Pack `num`, which stays, from its own trailer. */
static int from_trailer(bkp_stays *s, uint32_t num)
{
    const uint8_t *id = bkp_index_pack_id(bkp_repo_index(s->r), num);
    char *path = bkp_pack_path(s->pdir, id);
    int fd = path ? bkp_open_regular(path) : -ENOMEM, rc = fd < 0 ? fd : 0;
    bkp_pack_entry *e = NULL;
    uint32_t n = 0;
    struct stat st;
    if (!rc && fstat(fd, &st) < 0)
        rc = -errno;
    if (!rc)
        rc = bkp_pack_read_trailer(fd, (uint64_t)st.st_size, bkp_repo_keys(s->r), &e, &n);
    if (fd >= 0)
        close(fd);
    if (rc && rc != -ENOMEM)
        bkp_error(_("pack %s stays, no index segment names it, and its trailer cannot be read "
                    "(%s); prune deleted nothing: run `bkp verify --read-data`"),
                  path ? path : "?", bkp_strerror(rc));
    if (!rc)
        rc = bkp_stays_add(s, id, e, n);
    free(e);
    free(path);
    return rc;
}

int bkp_stays_end(bkp_stays *s)
{
    int rc = 0;
    for (uint32_t k = 0; !rc && k < s->np; k++)
        if (!s->dead[k] && !s->seen[k].n)
            rc = from_trailer(s, k);
    return rc ? rc : flush_segment(s);
}
