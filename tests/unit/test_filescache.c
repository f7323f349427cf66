/*
 * test_filescache.c — the files cache as a stream of sealed segments merged
 * with the walk (bkp/capture/filescache.h, docs/FORMAT.md §8).
 *
 * Proves, on a real repository and a cache of about 50,000 entries (several
 * segments): that what is written in walk order comes back — chunks, sparse
 * map and extras of every unchanged entry, the former content hash of a
 * changed file (any of mode, dev, ino, size, mtime, ctime), new paths as new
 * without losing the entry after them, and the regular files never looked
 * up counted as gone (folders not); that an add out of walk order is left out
 * without error; that a cache cut short (inside a segment, inside a length,
 * at a boundary), with a byte flipped, with segments swapped in from another
 * cache of the same data set or moved within it, or copied under another data
 * set's name, gives hits up to its last good segment and a problem, never a
 * wrong hit; that a file of another version is a problem, an absent cache is
 * not; that a writer dropped without commit leaves the old cache and no
 * temporary file. And that bkp_fcache_segment_check refuses hand-built
 * segments with paths not rising, a NUL, a relative or empty path, trailing
 * bytes, a wrong index or version, or final = 2.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/capture/filescache.h"
#include "bkp/store/repo.h"

#include "testutil.h"

#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)

/* The data set: 500 folders of 99 files, then a few names that sort
 * differently bytewise than in walk order. */
#define PER 100
#define NDIRS 500
#define NGRID (NDIRS * PER)
static const char *const tail[] = {"/zz", "/zz/b", "/zz/b/inner", "/zz/b-c", "/zz/b.txt"};
#define NTAIL (sizeof(tail) / sizeof(tail[0]))
#define NALL (NGRID + (uint32_t)NTAIL)

static struct {
    char base[64], repo[128];
    bkp_repo *r;
} g;

static int group_setup(void **state)
{
    (void)state;
    strcpy(g.base, "/tmp/bkp-test-fcache-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(g.base))
        return -1;
    snprintf(g.repo, sizeof(g.repo), "%s/repo", g.base);
    if (bkp_repo_init(g.repo, PASS, PLEN) != 0 || bkp_repo_open(g.repo, PASS, PLEN, 0, &g.r) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bkp_repo_free(g.r);
    test_rm_rf(g.base);
    return 0;
}

/* ------------------------------------------------------------- the data */

static void entry_path(uint32_t i, char *out, size_t n)
{
    if (i >= NGRID)
        snprintf(out, n, "%s", tail[i - NGRID]);
    else if (i % PER == 0)
        snprintf(out, n, "/data/d%03u", i / PER);
    else
        snprintf(out, n, "/data/d%03u/f%02u", i / PER, i % PER);
}

static bool entry_is_dir(uint32_t i)
{
    return i < NGRID ? i % PER == 0 : i <= NGRID + 1;
}

static void entry_stat(uint32_t i, bkp_fstat *st)
{
    memset(st, 0, sizeof(*st));
    st->dev = 0x801;
    st->ino = 1000 + i;
    st->size = entry_is_dir(i) ? 0 : (i % 7) * 1000 + 1;
    st->mtime = (int64_t)i * 1000000000 + 5;
    st->ctime = (int64_t)i * 1000000000 + 7;
    st->mode = entry_is_dir(i) ? (S_IFDIR | 0755) : (S_IFREG | 0644);
}

static void entry_extra(uint32_t i, bkp_fextra *x)
{
    x->ext = i % 3 == 0;
    x->fflags_set = i;
    x->fflags_clear = (uint64_t)i * 3 + 1;
}

/* A file's chunks (0 to 3), its content hash and, for every fifth, a sparse map. */
static void entry_item(uint32_t i, bkp_item *it)
{
    bkp_item_init(it);
    if (entry_is_dir(i))
        return;
    it->nchunks = i % 4;
    if (it->nchunks) {
        it->chunks = calloc(it->nchunks, sizeof(*it->chunks));
        assert_non_null(it->chunks);
    }
    for (uint32_t j = 0; j < it->nchunks; j++) {
        for (uint32_t k = 0; k < BKP_ID_LEN; k++)
            it->chunks[j].id[k] = (uint8_t)(i * 31 + j * 7 + k);
        it->chunks[j].len = 1000 + i % 50 + j;
    }
    bkp_fstat st; /* the content hash the cache stores (filescache.h) */
    entry_stat(i, &st);
    bkp_item_content_hash(bkp_repo_keys(g.r), st.size, it->chunks, it->nchunks, it->content);
    if (i % 5 == 0) {
        it->nsparse = 2;
        it->sparse = malloc(4 * sizeof(*it->sparse));
        assert_non_null(it->sparse);
        uint64_t sp[4] = {0, 10 + i, 1U << 20, 20};
        memcpy(it->sparse, sp, sizeof(sp));
    }
}

static void cache_file(const char *dataset, char *out, size_t n)
{
    snprintf(out, n, "%s/cache/files-%s", g.repo, dataset);
}

/* Write entries [0, n) of the data set as the cache of `dataset`. */
static void write_cache(const char *dataset, uint32_t n)
{
    bkp_fcache_writer *w = NULL;
    assert_int_equal(bkp_fcache_writer_new(g.r, dataset, &w), 0);
    for (uint32_t i = 0; i < n; i++) {
        char p[64];
        bkp_fstat st;
        bkp_fextra x;
        bkp_item it;
        entry_path(i, p, sizeof(p));
        entry_stat(i, &st);
        entry_extra(i, &x);
        entry_item(i, &it);
        assert_int_equal(bkp_fcache_add(w, p, &st, &it, &x), 0);
        bkp_item_clear(&it);
    }
    assert_int_equal(bkp_fcache_commit(w), 0);
}

static bkp_fcache *open_cache(const char *dataset, bool want_found)
{
    bkp_fcache *c = NULL;
    bool found = !want_found;
    assert_int_equal(bkp_fcache_open(g.r, dataset, &c, &found), 0);
    assert_non_null(c);
    assert_int_equal(found, want_found);
    return c;
}

/* Entry `i` is a hit, with everything it was written with. */
static void expect_hit(bkp_fcache *c, uint32_t i, bool with_item)
{
    char p[64];
    bkp_fstat st;
    bkp_fextra x = {.ext = !(i % 3 == 0), .fflags_set = 0xdead, .fflags_clear = 0xbeef}, wx;
    bkp_item it, want;
    uint8_t old[BKP_ID_LEN];
    entry_path(i, p, sizeof(p));
    entry_stat(i, &st);
    entry_extra(i, &wx);
    entry_item(i, &want);
    bkp_item_init(&it);
    assert_int_equal(bkp_fcache_lookup(c, p, &st, with_item ? &it : NULL, old, &x), 1);
    assert_int_equal(x.ext, wx.ext);
    assert_int_equal(x.fflags_set, wx.fflags_set);
    assert_int_equal(x.fflags_clear, wx.fflags_clear);
    if (with_item) {
        /* The content hash comes back as stored, equal to the one its
         * size and chunks give. */
        uint8_t hash[BKP_ID_LEN];
        bkp_item_content_hash(bkp_repo_keys(g.r), st.size, want.chunks, want.nchunks, hash);
        if (!entry_is_dir(i))
            assert_memory_equal(it.content, hash, BKP_ID_LEN);
        assert_int_equal(it.nchunks, want.nchunks);
        assert_int_equal(it.nsparse, want.nsparse);
        for (uint32_t j = 0; j < want.nchunks; j++) {
            assert_memory_equal(it.chunks[j].id, want.chunks[j].id, BKP_ID_LEN);
            assert_int_equal(it.chunks[j].len, want.chunks[j].len);
        }
        if (want.nsparse)
            assert_memory_equal(it.sparse, want.sparse, 2 * want.nsparse * sizeof(uint64_t));
    }
    bkp_item_clear(&it);
    bkp_item_clear(&want);
}

/* Entry `i` looked up with one stat field changed (`what` 0–5): changed,
 * and a file's former content hash is that of its cached chunks. */
static void expect_changed(bkp_fcache *c, uint32_t i, int what)
{
    char p[64];
    bkp_fstat st;
    bkp_fextra x = {.ext = true, .fflags_set = 0xdead, .fflags_clear = 0xbeef};
    bkp_item it, want;
    uint8_t old[BKP_ID_LEN], hash[BKP_ID_LEN], sentinel[BKP_ID_LEN];
    memset(sentinel, 0xA5, sizeof(sentinel));
    memcpy(old, sentinel, sizeof(old));
    entry_path(i, p, sizeof(p));
    entry_stat(i, &st);
    entry_item(i, &want);
    bkp_item_content_hash(bkp_repo_keys(g.r), st.size, want.chunks, want.nchunks, hash);
    switch (what) {
    case 0:
        st.mode ^= 0100;
        break;
    case 1:
        st.mtime += 1;
        break;
    case 2:
        st.ctime += 1;
        break;
    case 3:
        st.size += 1;
        break;
    case 4:
        st.ino += 1;
        break;
    default:
        st.dev += 1;
        break;
    }
    bkp_item_init(&it);
    assert_int_equal(bkp_fcache_lookup(c, p, &st, &it, old, &x), 0);
    assert_memory_equal(old, entry_is_dir(i) ? sentinel : hash, BKP_ID_LEN);
    assert_int_equal(it.nchunks, 0); /* nothing of the old entry is taken */
    assert_null(it.chunks);
    assert_true(x.ext && x.fflags_set == 0xdead && x.fflags_clear == 0xbeef);
    bkp_item_clear(&it);
    bkp_item_clear(&want);
}

static void expect_new(bkp_fcache *c, const char *path)
{
    bkp_fstat st = {.dev = 1, .ino = 2, .mode = S_IFREG | 0600};
    bkp_fextra x = {0};
    bkp_item it;
    uint8_t old[BKP_ID_LEN];
    bkp_item_init(&it);
    assert_int_equal(bkp_fcache_lookup(c, path, &st, &it, old, &x), -ENOENT);
    assert_int_equal(it.nchunks, 0);
}

/* Look every entry up in order, unchanged: how many hits before the first
 * miss, and that there is no hit after it. */
static uint32_t hit_prefix(bkp_fcache *c)
{
    uint32_t hits = 0;
    for (uint32_t i = 0; i < NALL; i++) {
        char p[64];
        bkp_fstat st;
        bkp_fextra x;
        bkp_item it;
        uint8_t old[BKP_ID_LEN];
        entry_path(i, p, sizeof(p));
        entry_stat(i, &st);
        bkp_item_init(&it);
        int rc = bkp_fcache_lookup(c, p, &st, &it, old, &x);
        bkp_item_clear(&it);
        if (rc == 1 && hits == i) {
            hits++;
            continue;
        }
        assert_int_equal(rc, -ENOENT);
    }
    return hits;
}

/* ------------------------------------------------- the stream on disk */

#define MAXSEG 64
typedef struct segs {
    uint8_t *file;
    size_t size;
    size_t n;
    size_t off[MAXSEG], len[MAXSEG]; /* of each u32 length || sealed segment */
    uint32_t entries[MAXSEG];
} segs;

static uint8_t *slurp(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *p = malloc((size_t)st.st_size + 1);
    assert_non_null(p);
    assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *size = (size_t)st.st_size;
    return p;
}

static void spill(const char *path, const uint8_t *p, size_t n)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* A segment's ID, recomputed from FORMAT.md §8. */
static void seg_id(const char *dataset, const uint8_t *cache_id, uint64_t index,
                   uint8_t id[BKP_ID_LEN])
{
    crypto_generichash_state h;
    uint8_t le[8];
    bkp_le64(le, index);
    crypto_generichash_init(&h, NULL, 0, BKP_ID_LEN);
    crypto_generichash_update(&h, (const uint8_t *)dataset, strlen(dataset) + 1);
    crypto_generichash_update(&h, cache_id, 16);
    crypto_generichash_update(&h, le, sizeof(le));
    crypto_generichash_final(&h, id, BKP_ID_LEN);
}

/* Split the cache of `dataset` into its segments, opening and checking each
 * as FORMAT.md §8 says: the format on disk is the documented one. */
static void read_segs(const char *dataset, segs *s)
{
    char path[256];
    memset(s, 0, sizeof(*s));
    cache_file(dataset, path, sizeof(path));
    s->file = slurp(path, &s->size);
    assert_true(s->size >= 24);
    assert_memory_equal(s->file, "BKPFCS04", 8);
    bkp_buf plain;
    bkp_buf_init(&plain);
    char *last = NULL;
    size_t last_len = 0, off = 24;
    bool final = false;
    while (off < s->size && !final) {
        assert_true(s->n < MAXSEG);
        uint32_t len = bkp_get_le32(s->file + off);
        assert_true(off + 4 + len <= s->size);
        uint8_t id[BKP_ID_LEN];
        seg_id(dataset, s->file + 8, s->n, id);
        assert_int_equal(
            bkp_blob_open(bkp_repo_keys(g.r), BKP_BLOB_CACHE, id, s->file + off + 4, len, &plain),
            0);
        assert_true(plain.len <= (1U << 20) + 4096);
        const char *l;
        size_t ll;
        assert_int_equal(bkp_fcache_segment_check(plain.data, plain.len, 4, s->n, last, last_len,
                                                  &s->entries[s->n], &final, &l, &ll),
                         0);
        char *copy = malloc(ll + 1);
        assert_non_null(copy);
        memcpy(copy, l, ll);
        free(last);
        last = copy;
        last_len = ll;
        s->off[s->n] = off;
        s->len[s->n] = 4 + len;
        s->n++;
        off += 4 + len;
    }
    assert_true(final);
    /* After the final segment, the stamp and nothing else (FORMAT.md §8);
     * the cases below work on the segments alone. */
    if (off < s->size) {
        assert_true(s->size - off >= 12);
        assert_memory_equal(s->file + s->size - 8, "BKPFCV01", 8);
        uint32_t slen = bkp_get_le32(s->file + s->size - 12);
        assert_int_equal(off + slen + 12, s->size);
        static const char domain[] = "bkp files cache stamp";
        crypto_generichash_state h;
        uint8_t id[BKP_ID_LEN];
        crypto_generichash_init(&h, NULL, 0, BKP_ID_LEN);
        crypto_generichash_update(&h, (const uint8_t *)domain, sizeof(domain));
        crypto_generichash_update(&h, (const uint8_t *)dataset, strlen(dataset) + 1);
        crypto_generichash_update(&h, s->file + 8, 16);
        crypto_generichash_final(&h, id, BKP_ID_LEN);
        assert_int_equal(
            bkp_blob_open(bkp_repo_keys(g.r), BKP_BLOB_CACHE, id, s->file + off, slen, &plain), 0);
        assert_true(plain.len >= 4);
        assert_int_equal(plain.len, 4 + (size_t)bkp_get_le32(plain.data) * BKP_ID_LEN);
        s->size = off;
    }
    free(last);
    bkp_buf_free(&plain);
}

static uint32_t entries_before(const segs *s, size_t k)
{
    uint32_t n = 0;
    for (size_t j = 0; j < k; j++)
        n += s->entries[j];
    return n;
}

/* ------------------------------------------------------------- tests */

static void round_trip(void **state)
{
    (void)state;
    write_cache("main", NALL);
    segs s;
    read_segs("main", &s);
    assert_true(s.n >= 4); /* several segments, so the merge crosses them */
    assert_int_equal(entries_before(&s, s.n), NALL);
    free(s.file);

    bkp_fcache *c = open_cache("main", true);
    uint64_t gone = 0;
    expect_new(c, "/"); /* before everything: the first entry stays */
    for (uint32_t i = 0; i < NGRID; i++) {
        uint32_t r = i % 1000;
        if (r == 1 || r == 100) { /* deleted: a file, a folder */
            gone += !entry_is_dir(i);
            continue;
        }
        if (r >= 2 && r <= 7)
            expect_changed(c, i, (int)(r - 2));
        else if (r == 200)
            expect_changed(c, i, 1); /* a folder's mtime */
        else
            expect_hit(c, i, r != 9);
        if (r == 7) {
            char p[64];
            entry_path(i, p, sizeof(p));
            strcat(p, ".new"); /* between f07 and f08 */
            expect_new(c, p);
        }
    }
    expect_hit(c, NGRID, true);     /* /zz */
    expect_hit(c, NGRID + 1, true); /* /zz/b */
    expect_hit(c, NGRID + 2, true); /* /zz/b/inner */
    expect_new(c, "/zz/b/z");
    expect_hit(c, NGRID + 3, true); /* /zz/b-c */
    gone++;                         /* /zz/b.txt never looked up */
    expect_new(c, "/zzz");
    assert_null(bkp_fcache_problem(c));
    assert_int_equal(bkp_fcache_unseen(c), gone);
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* Nothing looked up: every regular file is gone, no folder counts. */
    c = open_cache("main", true);
    assert_int_equal(bkp_fcache_unseen(c), NGRID - NDIRS + 3);
    bkp_fcache_free(c);
}

static void out_of_order(void **state)
{
    (void)state;
    static const char *const order[] = {"/a/b", "/a/a", "/a/b", "relative", "", "/a/b.c", "/a/b/x"};
    bkp_fcache_writer *w = NULL;
    assert_int_equal(bkp_fcache_writer_new(g.r, "order", &w), 0);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        bkp_fstat st;
        bkp_fextra x;
        bkp_item it;
        entry_stat(1, &st);
        entry_extra(1, &x);
        entry_item(1, &it);
        assert_int_equal(bkp_fcache_add(w, order[i], &st, &it, &x), 0);
        bkp_item_clear(&it);
    }
    assert_int_equal(bkp_fcache_commit(w), 0);

    segs s;
    read_segs("order", &s);                       /* what was written is in order */
    assert_int_equal(entries_before(&s, s.n), 2); /* "/a/b", "/a/b.c" */
    free(s.file);

    bkp_fcache *c = open_cache("order", true);
    bkp_fstat st;
    bkp_fextra x;
    entry_stat(1, &st);
    assert_int_equal(bkp_fcache_lookup(c, "/a/a", &st, NULL, NULL, &x), -ENOENT);
    assert_int_equal(bkp_fcache_lookup(c, "/a/b", &st, NULL, NULL, &x), 1);
    assert_int_equal(bkp_fcache_lookup(c, "/a/b/x", &st, NULL, NULL, &x), -ENOENT);
    /* A lookup out of walk order is new, and loses nothing after it. */
    assert_int_equal(bkp_fcache_lookup(c, "/a/a", &st, NULL, NULL, &x), -ENOENT);
    assert_int_equal(bkp_fcache_lookup(c, "/a/b.c", &st, NULL, NULL, &x), 1);
    assert_int_equal(bkp_fcache_unseen(c), 0);
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
}

/* Replace the cache of "cut" by `len` bytes of `s`, open it, and check the
 * hits stop after `hits` entries with a problem (or, hits 0, that it is not
 * found at all). */
static void expect_cut(const segs *s, size_t len, uint32_t hits)
{
    char path[256];
    cache_file("cut", path, sizeof(path));
    spill(path, s->file, len);
    bkp_fcache *c = open_cache("cut", hits > 0);
    assert_int_equal(hit_prefix(c), hits);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
}

static void cut_short(void **state)
{
    (void)state;
    write_cache("cut", NALL);
    segs s;
    read_segs("cut", &s);
    assert_true(s.n >= 4);
    for (size_t k = 1; k < s.n; k++) {
        uint32_t before = entries_before(&s, k);
        expect_cut(&s, s.off[k], before);                /* at a boundary */
        expect_cut(&s, s.off[k] + 2, before);            /* inside a length */
        expect_cut(&s, s.off[k] + s.len[k] / 2, before); /* inside a segment */
        expect_cut(&s, s.off[k] + s.len[k] - 1, before); /* its last byte */
    }
    expect_cut(&s, 24, 0); /* the header alone */
    expect_cut(&s, s.off[0] + s.len[0] / 2, 0);
    free(s.file);
}

static void flipped(void **state)
{
    (void)state;
    char path[256];
    write_cache("cut", NALL);
    segs s;
    read_segs("cut", &s);
    cache_file("cut", path, sizeof(path));
    for (size_t k = 0; k < s.n; k++) {
        /* In the length, in the nonce, in the middle, in the tag. */
        size_t at[] = {s.off[k] + 1, s.off[k] + 10, s.off[k] + s.len[k] / 2,
                       s.off[k] + s.len[k] - 1};
        for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
            s.file[at[a]] ^= 0x20;
            spill(path, s.file, s.size);
            s.file[at[a]] ^= 0x20;
            bkp_fcache *c = open_cache("cut", k > 0);
            assert_int_equal(hit_prefix(c), entries_before(&s, k));
            assert_non_null(bkp_fcache_problem(c));
            bkp_fcache_free(c);
        }
    }
    /* The header's cache ID: no segment is its own any more. */
    s.file[8] ^= 1;
    spill(path, s.file, s.size);
    bkp_fcache *c = open_cache("cut", false);
    assert_int_equal(hit_prefix(c), 0);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
    free(s.file);
}

/* Build a cache file from the header of `h` and segment k of `from[k]`. */
static void splice_segs(const char *path, const segs *h, const segs *const *from, size_t n)
{
    bkp_buf b;
    bkp_buf_init(&b);
    bkp_buf_put(&b, h->file, 24);
    for (size_t k = 0; k < n; k++)
        bkp_buf_put(&b, from[k]->file + from[k]->off[k], from[k]->len[k]);
    assert_false(b.failed);
    spill(path, b.data, b.len);
    bkp_buf_free(&b);
}

static void swapped(void **state)
{
    (void)state;
    char path[256], other[256];
    segs a, b;
    write_cache("swap", NALL);
    read_segs("swap", &a);
    write_cache("swap", NALL); /* the same data set again: another cache ID */
    read_segs("swap", &b);
    assert_int_equal(a.n, b.n);
    assert_memory_not_equal(a.file + 8, b.file + 8, 16);
    cache_file("swap", path, sizeof(path));
    const segs *from[MAXSEG];

    /* Segment 2 of another cache of the same data set, at its own place. */
    for (size_t k = 0; k < a.n; k++)
        from[k] = k == 2 ? &b : &a;
    splice_segs(path, &a, from, a.n);
    bkp_fcache *c = open_cache("swap", true);
    assert_int_equal(hit_prefix(c), entries_before(&a, 2));
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* Another cache's segments under this one's header. */
    for (size_t k = 0; k < a.n; k++)
        from[k] = &b;
    splice_segs(path, &a, from, a.n);
    c = open_cache("swap", false);
    assert_int_equal(hit_prefix(c), 0);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* Segments 1 and 2 of one cache in each other's place. */
    bkp_buf m;
    bkp_buf_init(&m);
    bkp_buf_put(&m, a.file, a.off[1]);
    bkp_buf_put(&m, a.file + a.off[2], a.len[2]);
    bkp_buf_put(&m, a.file + a.off[1], a.len[1]);
    bkp_buf_put(&m, a.file + a.off[3], a.size - a.off[3]);
    spill(path, m.data, m.len);
    bkp_buf_free(&m);
    c = open_cache("swap", true);
    assert_int_equal(hit_prefix(c), entries_before(&a, 1));
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* A segment left out. */
    bkp_buf_init(&m);
    bkp_buf_put(&m, a.file, a.off[1]);
    bkp_buf_put(&m, a.file + a.off[2], a.size - a.off[2]);
    spill(path, m.data, m.len);
    bkp_buf_free(&m);
    c = open_cache("swap", true);
    assert_int_equal(hit_prefix(c), entries_before(&a, 1));
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* A whole good cache copied under another data set's name. */
    cache_file("swap2", other, sizeof(other));
    spill(other, a.file, a.size);
    c = open_cache("swap2", false);
    assert_int_equal(hit_prefix(c), 0);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* And the untouched original still works. */
    spill(path, a.file, a.size);
    c = open_cache("swap", true);
    assert_int_equal(hit_prefix(c), NALL);
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
    free(a.file);
    free(b.file);
}

static void other_version_absent(void **state)
{
    (void)state;
    char path[256];
    uint8_t junk[4096];
    randombytes_buf(junk, sizeof(junk));
    cache_file("v2", path, sizeof(path));
    spill(path, junk, sizeof(junk));
    bkp_fcache *c = open_cache("v2", false);
    assert_non_null(bkp_fcache_problem(c));
    expect_new(c, "/data");
    assert_int_equal(bkp_fcache_unseen(c), 0);
    bkp_fcache_free(c);

    /* The right magic, then garbage. */
    memcpy(junk, "BKPFCS03", 8);
    spill(path, junk, sizeof(junk));
    c = open_cache("v2", false);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* Not a regular file: a link to a good cache of this data set moved
     * elsewhere (not followed), a FIFO (opening must not block), a folder. */
    char good[256];
    snprintf(good, sizeof(good), "%s/elsewhere", g.base);
    unlink(path);
    write_cache("v2", PER);
    assert_int_equal(rename(path, good), 0);
    assert_int_equal(symlink(good, path), 0);
    c = open_cache("v2", false);
    assert_non_null(bkp_fcache_problem(c));
    expect_new(c, "/data/d000");
    bkp_fcache_free(c);
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    c = open_cache("v2", false);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
    unlink(path);
    assert_int_equal(mkdir(path, 0700), 0);
    c = open_cache("v2", false);
    assert_non_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
    assert_int_equal(rmdir(path), 0);

    c = open_cache("never-written", false);
    assert_null(bkp_fcache_problem(c));
    expect_new(c, "/data");
    assert_int_equal(bkp_fcache_unseen(c), 0);
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    /* An empty data set's cache: found, nothing in it, no problem. */
    write_cache("empty", 0);
    c = open_cache("empty", true);
    expect_new(c, "/data");
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
}

static void dropped_writer(void **state)
{
    (void)state;
    char dir[256];
    write_cache("keep", 2 * PER);
    bkp_fcache_writer *w = NULL;
    assert_int_equal(bkp_fcache_writer_new(g.r, "keep", &w), 0);
    bkp_fstat st;
    bkp_fextra x;
    bkp_item it;
    entry_stat(5, &st);
    entry_extra(5, &x);
    entry_item(5, &it);
    assert_int_equal(bkp_fcache_add(w, "/other", &st, &it, &x), 0);
    bkp_item_clear(&it);
    bkp_fcache_writer_free(w);
    bkp_fcache_writer_free(NULL);

    bkp_fcache *c = open_cache("keep", true);
    for (uint32_t i = 0; i < 2 * PER; i++)
        expect_hit(c, i, true);
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);

    snprintf(dir, sizeof(dir), "%s/cache", g.repo);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) /* no temporary file left behind */
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            assert_true(strncmp(e->d_name, "files-", 6) == 0);
    closedir(d);
}

/* ------------------------------------------- hand-built segments */

/* A regular file of stat (1, 1, 1, 1, 1) and one chunk {7} of length 1;
 * from version 4 with its content hash (`content`, or zeros). */
static void put_entry(bkp_buf *b, uint32_t version, const char *path, size_t plen,
                      const uint8_t *content)
{
    bkp_buf_bytes32(b, path, plen);
    bkp_buf_u32(b, S_IFREG | 0644);
    for (int i = 0; i < 5; i++)
        bkp_buf_u64(b, 1);
    bkp_buf_u8(b, 0);
    bkp_buf_u64(b, 0);
    bkp_buf_u64(b, 0);
    bkp_buf_u32(b, 1); /* one sparse region */
    bkp_buf_u64(b, 0);
    bkp_buf_u64(b, 1);
    bkp_buf_u32(b, 1); /* one chunk */
    uint8_t id[BKP_ID_LEN] = {7};
    bkp_buf_put(b, id, sizeof(id));
    bkp_buf_u32(b, 1);
    uint8_t zero[BKP_ID_LEN] = {0};
    if (version >= 4)
        bkp_buf_put(b, content ? content : zero, BKP_ID_LEN);
}

/* A segment of version `version`, index `index`, final flag `fin`, with
 * the paths of `paths` (n of them, each of the length strlen gives, or
 * the one of `lens` when given). */
static void build(bkp_buf *b, uint32_t version, uint64_t index, uint8_t fin,
                  const char *const *paths, const size_t *lens, uint32_t n)
{
    bkp_buf_reset(b);
    bkp_buf_u32(b, version);
    bkp_buf_u64(b, index);
    bkp_buf_u8(b, fin);
    bkp_buf_u32(b, n);
    for (uint32_t i = 0; i < n; i++)
        put_entry(b, version, paths[i], lens ? lens[i] : strlen(paths[i]), NULL);
    assert_false(b->failed);
}

static uint32_t want_version = 3; /* what check() expects of a segment */

static int check(const bkp_buf *b, uint64_t index, const char *after)
{
    uint32_t n = 99;
    bool fin = false;
    const char *last = NULL;
    size_t ll = 99;
    int rc = bkp_fcache_segment_check(b->data, b->len, want_version, index, after,
                                      after ? strlen(after) : 0, &n, &fin, &last, &ll);
    if (rc)
        assert_true(n == 99 && ll == 99); /* written only on success */
    return rc;
}

static void segment_check(void **state)
{
    (void)state;
    bkp_buf b;
    bkp_buf_init(&b);
    const char *good[] = {"/b", "/b/inner", "/b-c", "/b.txt", "/\xff"};
    build(&b, 3, 4, 1, good, NULL, 5);
    uint32_t n;
    bool fin;
    const char *last;
    size_t ll;
    assert_int_equal(bkp_fcache_segment_check(b.data, b.len, 3, 4, "/a", 2, &n, &fin, &last, &ll),
                     0);
    assert_int_equal(n, 5);
    assert_true(fin);
    assert_int_equal(ll, 2);
    assert_memory_equal(last, "/\xff", 2);
    assert_int_equal(check(&b, 4, NULL), 0);

    /* An empty final segment is fine. */
    build(&b, 3, 0, 1, NULL, NULL, 0);
    assert_int_equal(bkp_fcache_segment_check(b.data, b.len, 3, 0, NULL, 0, &n, &fin, &last, &ll),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(ll, 0);

    /* Not after the previous segment's last path. */
    build(&b, 3, 4, 1, good, NULL, 5);
    assert_int_equal(check(&b, 4, "/b"), -EBADMSG);
    assert_int_equal(check(&b, 4, "/b/a"), -EBADMSG);
    assert_int_equal(check(&b, 4, "/c"), -EBADMSG);

    /* Paths not rising: equal, falling, in strcmp's order but not the walk's. */
    const char *twice[] = {"/a", "/a"}, *down[] = {"/b", "/a"}, *bytewise[] = {"/b-c", "/b/x"};
    const char *dot[] = {"/b.txt", "/b/x"}, *deeper[] = {"/b/x", "/b"};
    build(&b, 3, 0, 0, twice, NULL, 2);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 0, down, NULL, 2);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 0, bytewise, NULL, 2);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 0, dot, NULL, 2);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 0, deeper, NULL, 2);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);

    /* A NUL in a path (which would compare as its prefix), a relative path, an empty one. */
    const char *nul[] = {"/a", "/b\0c"};
    size_t nul_lens[] = {2, 4};
    build(&b, 3, 0, 0, nul, nul_lens, 2);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    const char *rel[] = {"a/b"}, *empty[] = {""};
    build(&b, 3, 0, 0, rel, NULL, 1);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 0, empty, NULL, 1);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);

    /* Trailing bytes; one byte short; a count larger than the entries. */
    build(&b, 3, 0, 1, good, NULL, 5);
    bkp_buf_u8(&b, 0);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, good, NULL, 5);
    b.len--;
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, good, NULL, 5);
    bkp_le32(b.data + 13, 6);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    bkp_le32(b.data + 13, 4); /* fewer: the fifth entry is trailing bytes */
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);

    /* A wrong index, version, final flag; a header cut short. */
    build(&b, 3, 4, 1, good, NULL, 5);
    assert_int_equal(check(&b, 5, NULL), -EBADMSG);
    assert_int_equal(check(&b, 3, NULL), -EBADMSG);
    build(&b, 2, 0, 1, good, NULL, 5);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 4, 0, 1, good, NULL, 5);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 2, good, NULL, 5);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 0xff, good, NULL, 5);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, NULL, NULL, 0);
    b.len = 16;
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);

    /* Chunk and region counts that would run past the end (or overflow). */
    build(&b, 3, 0, 1, good, NULL, 1);
    size_t nsp_at = 17 + 4 + 2 + 4 + 5 * 8 + 1 + 2 * 8;
    bkp_le32(b.data + nsp_at, 0xffffffffU);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, good, NULL, 1);
    bkp_le32(b.data + nsp_at + 4 + 16, 0xffffffffU);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, good, NULL, 1);
    bkp_le32(b.data + 17, 0xfffffff0U); /* the path's length */
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);

    /* Version 4 carries each file's content hash: a segment is read as
     * the version its file names, never as the other. */
    build(&b, 4, 0, 1, good, NULL, 5);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    want_version = 4;
    assert_int_equal(check(&b, 0, NULL), 0);
    b.len -= BKP_ID_LEN; /* the last hash missing */
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, good, NULL, 5);
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    build(&b, 3, 0, 1, good, NULL, 1);
    bkp_le32(b.data, 4); /* a version 3 entry labelled 4: short of its hash */
    assert_int_equal(check(&b, 0, NULL), -EBADMSG);
    want_version = 3;
    bkp_buf_free(&b);
}

/* A cache written by the previous version (3, without content hashes) is
 * still used: its files are hits, with the content hash their size and
 * chunks give. */
static void version3_read(void **state)
{
    (void)state;
    const char *paths[] = {"/v3", "/v3/a", "/v3/b"};
    bkp_buf seg, file;
    bkp_buf_init(&seg);
    bkp_buf_init(&file);
    build(&seg, 3, 0, 1, paths, NULL, 3);
    uint8_t cache_id[16], id[BKP_ID_LEN];
    randombytes_buf(cache_id, sizeof(cache_id));
    seg_id("old", cache_id, 0, id);
    bkp_buf_put(&file, "BKPFCS03", 8);
    bkp_buf_put(&file, cache_id, sizeof(cache_id));
    bkp_buf sealed;
    bkp_buf_init(&sealed);
    assert_int_equal(bkp_blob_seal(bkp_repo_keys(g.r), BKP_BLOB_CACHE, id, seg.data, seg.len, BKP_COMP_LZ4_1,
                                   &sealed),
                     0);
    bkp_buf_u32(&file, (uint32_t)sealed.len);
    bkp_buf_put(&file, sealed.data, sealed.len);
    char path[256];
    cache_file("old", path, sizeof(path));
    spill(path, file.data, file.len);

    bkp_fcache *c = open_cache("old", true);
    bkp_fstat st = {.dev = 1, .ino = 1, .size = 1, .mtime = 1, .ctime = 1, .mode = S_IFREG | 0644};
    bkp_chunk_ref ch = {.id = {7}, .len = 1};
    uint8_t want[BKP_ID_LEN], old[BKP_ID_LEN];
    bkp_item_content_hash(bkp_repo_keys(g.r), 1, &ch, 1, want);
    bkp_fextra x;
    bkp_item it;
    bkp_item_init(&it);
    assert_int_equal(bkp_fcache_lookup(c, "/v3/a", &st, &it, old, &x), 1);
    assert_int_equal(it.nchunks, 1);
    assert_memory_equal(it.content, want, BKP_ID_LEN);
    bkp_item_clear(&it);
    st.mtime = 2; /* changed: its former hash, computed */
    assert_int_equal(bkp_fcache_lookup(c, "/v3/b", &st, &it, old, &x), 0);
    assert_memory_equal(old, want, BKP_ID_LEN);
    assert_null(bkp_fcache_problem(c));
    bkp_fcache_free(c);
    bkp_buf_free(&seg);
    bkp_buf_free(&file);
    bkp_buf_free(&sealed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(segment_check),
        cmocka_unit_test(version3_read),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(out_of_order),
        cmocka_unit_test(cut_short),
        cmocka_unit_test(flipped),
        cmocka_unit_test(swapped),
        cmocka_unit_test(other_version_absent),
        cmocka_unit_test(dropped_writer),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
