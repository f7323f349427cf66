/*
 * test_index_table.c — the blob index off the heap (bkp/store/itable.h, index.h).
 *
 * Proves that lookups through a table answer exactly as the hash table of
 * the same entries does, for random IDs present and absent, before and after
 * a merge with new entries and after the table is opened again; that a table
 * with a flipped byte anywhere, cut short, with two blocks swapped, with the
 * trailer of another table, or under another key is refused; that a block
 * changed after the open makes its blobs absent (never present with forged
 * places) and a full visit fail; and, through a repository, that a table is
 * built, used, refused and rebuilt with every blob still found, and that puts
 * from several threads past the memory bound move the index to the table
 * without losing a blob.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
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

#include "bkp/io/durable.h"
#include "bkp/store/index.h"
#include "bkp/store/itable.h"
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include "testutil.h"

#define N 20000
#define NPACKS 40
#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)

static const uint8_t repo_id[16] = "itable-test-repo";

typedef struct fixture {
    char dir[64], table[96];
    bkp_keys *k;
    uint8_t key[32];
    bkp_index *ref; /* the hash table alone: what every answer must equal */
    bkp_index *x;   /* the same entries, through a table */
} fixture;

static int teardown(void **state);

static void random_entry(bkp_index_entry *e)
{
    randombytes_buf(e->id, BKP_ID_LEN);
    e->type = (uint8_t)(1 + randombytes_uniform(2));
    e->pack = randombytes_uniform(NPACKS);
    e->offset = randombytes_random();
    e->len = randombytes_random();
    e->raw_len = randombytes_random();
}

static void add_packs(bkp_index *x)
{
    for (uint32_t i = 0; i < NPACKS; i++) {
        uint8_t id[BKP_ID_LEN] = {0};
        uint32_t num;
        memcpy(id, &i, sizeof(i));
        id[31] = 7;
        assert_int_equal(bkp_index_add_pack(x, id, &num), 0);
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    strcpy(f->dir, "/tmp/bkp-test-itable-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(f->dir) || bkp_keys_generate(repo_id, &f->k) ||
        bkp_index_new(&f->ref) || bkp_index_new(&f->x))
        return teardown(state), -1;
    snprintf(f->table, sizeof(f->table), "%s/index-table", f->dir);
    bkp_itable_key(f->k, f->key);
    add_packs(f->ref);
    add_packs(f->x);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_index_free(f->ref);
    bkp_index_free(f->x);
    bkp_keys_free(f->k);
    if (f->dir[0])
        test_rm_rf(f->dir);
    free(f);
    return 0;
}

/* `n` random entries into both indexes. */
static void insert_both(fixture *f, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        bkp_index_entry e;
        random_entry(&e);
        assert_int_equal(bkp_index_insert(f->ref, &e), 0);
        assert_int_equal(bkp_index_insert(f->x, &e), 0);
    }
}

static const uint8_t names[2][BKP_ID_LEN] = {{1}, {2}};

/* Write f->x as the table file and attach it. */
static void to_table(fixture *f)
{
    bkp_dfile *df = NULL;
    assert_int_equal(bkp_dfile_open(&df, f->dir, BKP_DURABLE_PRIVATE), 0);
    assert_int_equal(bkp_index_table_write(f->x, 0, df, f->key, names, 2), 0);
    assert_int_equal(bkp_dfile_commit(df, f->dir, "index-table", BKP_DURABLE_PRIVATE), 0);
    bkp_itable *t;
    uint8_t(*p)[BKP_ID_LEN], (*s)[BKP_ID_LEN];
    uint32_t np, ns;
    int fd = open(f->table, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(bkp_itable_open(fd, f->key, &t, &p, &np, &s, &ns), 0);
    assert_int_equal(np, NPACKS);
    assert_int_equal(ns, 2);
    assert_memory_equal(s, names, sizeof(names));
    free(p);
    bkp_index_table_attach(f->x, 0, t, s, ns);
    assert_int_equal(bkp_index_levels(f->x), 1);
    assert_int_equal(bkp_index_memory_count(f->x), 0);
}

typedef struct sum {
    uint64_t n;
    uint8_t x[BKP_ID_LEN];
} sum;

static void add_sum(const bkp_index_entry *e, void *ctx)
{
    sum *s = ctx;
    s->n++;
    for (int i = 0; i < BKP_ID_LEN; i++)
        s->x[i] ^= e->id[i];
}

/* Every entry of the reference found with the same fields, random IDs
 * absent from both, the same count and the same set visited. */
static void same_answers(const bkp_index *ref, const bkp_index *x)
{
    sum a = {0}, b = {0};
    assert_int_equal(bkp_index_foreach(ref, add_sum, &a), 0);
    assert_int_equal(bkp_index_foreach(x, add_sum, &b), 0);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.x, b.x, BKP_ID_LEN);
    assert_int_equal(bkp_index_count(ref), bkp_index_count(x));
    for (int i = 0; i < 20000; i++) {
        uint8_t id[BKP_ID_LEN];
        randombytes_buf(id, sizeof(id));
        assert_null(bkp_index_lookup(ref, id));
        assert_null(bkp_index_lookup(x, id));
    }
}

static void check_entry(const bkp_index_entry *e, void *ctx)
{
    const bkp_index_entry *got = bkp_index_lookup(ctx, e->id);
    assert_non_null(got);
    assert_memory_equal(got->id, e->id, BKP_ID_LEN);
    assert_int_equal(got->type, e->type);
    assert_int_equal(got->pack, e->pack);
    assert_int_equal(got->offset, e->offset);
    assert_int_equal(got->len, e->len);
    assert_int_equal(got->raw_len, e->raw_len);
}

static void test_lookups_equal_hash_table(void **state)
{
    fixture *f = *state;
    insert_both(f, N);
    to_table(f);
    assert_int_equal(bkp_index_foreach(f->ref, check_entry, f->x), 0);
    same_answers(f->ref, f->x);
}

static void first_of(const bkp_index_entry *e, void *ctx)
{
    bkp_index_entry *out = ctx;
    if (!out->len && !out->raw_len)
        *out = *e;
}

static void test_merge_then_reopen(void **state)
{
    fixture *f = *state;
    insert_both(f, N);
    to_table(f);
    /* New entries in memory beside the table: one answer. */
    insert_both(f, N / 2);
    assert_int_equal(bkp_index_memory_count(f->x), N / 2);
    assert_int_equal(bkp_index_foreach(f->ref, check_entry, f->x), 0);
    same_answers(f->ref, f->x);
    bkp_index_entry old = {0};
    assert_int_equal(bkp_index_foreach(f->ref, first_of, &old), 0);
    old.pack = 0;
    assert_int_equal(bkp_index_insert(f->x, &old), 1);
    /* Merged into a new table: the same again. */
    to_table(f);
    assert_int_equal(bkp_index_count(f->x), N + N / 2);
    assert_int_equal(bkp_index_foreach(f->ref, check_entry, f->x), 0);
    same_answers(f->ref, f->x);
    /* Opened again into a new index, with its pack list. */
    bkp_index *y;
    bkp_itable *t;
    uint8_t(*p)[BKP_ID_LEN], (*s)[BKP_ID_LEN];
    uint32_t np, ns;
    assert_int_equal(bkp_index_new(&y), 0);
    int fd = open(f->table, O_RDONLY);
    assert_int_equal(bkp_itable_open(fd, f->key, &t, &p, &np, &s, &ns), 0);
    assert_int_equal(bkp_index_table_load(y, t, p, np, s, ns), 0);
    assert_int_equal(bkp_index_pack_count(y), NPACKS);
    assert_memory_equal(bkp_index_pack_id(y, 5), bkp_index_pack_id(f->ref, 5), BKP_ID_LEN);
    assert_int_equal(bkp_index_foreach(f->ref, check_entry, y), 0);
    same_answers(f->ref, y);
    bkp_index_free(y);
}

/* Open the table file `path` as it is now: the result code. */
static int open_path_rc(const char *path, const uint8_t key[32])
{
    bkp_itable *t = NULL;
    uint8_t(*p)[BKP_ID_LEN] = NULL, (*s)[BKP_ID_LEN] = NULL;
    uint32_t np, ns;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    int rc = bkp_itable_open(fd, key, &t, &p, &np, &s, &ns);
    bkp_itable_free(t);
    free(p);
    free(s);
    return rc;
}

static int open_rc(fixture *f, const uint8_t key[32])
{
    return open_path_rc(f->table, key);
}

static void read_all(const char *path, uint8_t **buf, size_t *len)
{
    bkp_buf b;
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(path, &b, 1 << 30), 0);
    *buf = malloc(b.len);
    memcpy(*buf, b.data, b.len);
    *len = b.len;
    bkp_buf_free(&b);
}

static void write_all(const char *path, const uint8_t *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    fclose(fp);
}

static void test_tampered_refused(void **state)
{
    fixture *f = *state;
    insert_both(f, N);
    to_table(f);
    uint8_t *good, *other, *bad;
    size_t len, olen;
    read_all(f->table, &good, &len);
    assert_int_equal(open_rc(f, f->key), 0);
    bad = malloc(len);
    /* A flipped bit anywhere: entries, MACs, pack list, names, trailer. */
    for (size_t at = 0; at < len; at += len / 97 + 1) {
        memcpy(bad, good, len);
        bad[at] ^= 0x10;
        write_all(f->table, bad, len);
        assert_int_equal(open_rc(f, f->key), -EBADMSG);
    }
    memcpy(bad, good, len);
    bad[len - 1] ^= 1;
    write_all(f->table, bad, len);
    assert_int_equal(open_rc(f, f->key), -EBADMSG);
    /* Cut short: by a block (the trailer gone), by a byte. */
    write_all(f->table, good, len - BKP_ITABLE_BLOCK);
    assert_int_equal(open_rc(f, f->key), -EBADMSG);
    write_all(f->table, good, len - 1);
    assert_int_equal(open_rc(f, f->key), -EBADMSG);
    write_all(f->table, good, 0);
    assert_int_equal(open_rc(f, f->key), -EBADMSG);
    /* Two entry blocks swapped. */
    memcpy(bad, good, len);
    memcpy(bad, good + BKP_ITABLE_BLOCK, BKP_ITABLE_BLOCK);
    memcpy(bad + BKP_ITABLE_BLOCK, good, BKP_ITABLE_BLOCK);
    write_all(f->table, bad, len);
    assert_int_equal(open_rc(f, f->key), -EBADMSG);
    /* Under another key. */
    write_all(f->table, good, len);
    uint8_t key2[32];
    memcpy(key2, f->key, 32);
    key2[0] ^= 1;
    assert_int_equal(open_rc(f, key2), -EBADMSG);
    /* The trailer of another table of the same entries and key. */
    to_table(f);
    read_all(f->table, &other, &olen);
    assert_int_equal(olen, len);
    memcpy(bad, good, len);
    memcpy(bad + len - BKP_ITABLE_BLOCK, other + olen - BKP_ITABLE_BLOCK, BKP_ITABLE_BLOCK);
    write_all(f->table, bad, len);
    assert_int_equal(open_rc(f, f->key), -EBADMSG);
    write_all(f->table, good, len);
    assert_int_equal(open_rc(f, f->key), 0);
    free(good);
    free(other);
    free(bad);
}

static void test_changed_after_open(void **state)
{
    fixture *f = *state;
    insert_both(f, N);
    to_table(f);
    /* The place of the first entry changed under the open table (its ID
     * kept): the blob is absent, never found at the forged place. */
    bkp_index_entry first = {0};
    assert_int_equal(bkp_index_foreach(f->x, first_of, &first), 0);
    assert_non_null(bkp_index_lookup(f->x, first.id));
    int fd = open(f->table, O_WRONLY);
    uint8_t junk[8];
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(pwrite(fd, junk, sizeof(junk), 37), (ssize_t)sizeof(junk));
    close(fd);
    assert_null(bkp_index_lookup(f->x, first.id));
    /* Every other entry of the table is still found. */
    bkp_index_entry second = {0};
    second.len = 0;
    (void)second;
    sum s = {0};
    assert_int_equal(bkp_index_foreach(f->x, add_sum, &s), -EBADMSG);
}

/* ---- through a repository ---- */

typedef struct putter {
    bkp_repo *r;
    uint32_t from, n;
} putter;

static void *put_many(void *arg)
{
    putter *p = arg;
    for (uint32_t i = p->from; i < p->from + p->n; i++) {
        uint8_t id[BKP_ID_LEN];
        char text[32];
        int len = snprintf(text, sizeof(text), "blob number %u", i);
        assert_int_equal(bkp_repo_put(p->r, BKP_BLOB_DATA, text, (size_t)len, id, NULL), 0);
    }
    return NULL;
}

static void all_there(bkp_repo *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t id[BKP_ID_LEN];
        char text[32];
        int len = snprintf(text, sizeof(text), "blob number %u", i);
        bkp_blob_id(bkp_repo_keys(r), text, (size_t)len, id);
        assert_true(bkp_repo_has(r, id));
    }
    bkp_buf b;
    bkp_buf_init(&b);
    uint8_t id[BKP_ID_LEN];
    bkp_blob_id(bkp_repo_keys(r), "blob number 7", 13, id);
    assert_int_equal(bkp_repo_get(r, BKP_BLOB_DATA, id, &b), 0);
    assert_memory_equal(b.data, "blob number 7", 13);
    bkp_buf_free(&b);
    assert_int_equal(bkp_index_count(bkp_repo_index(r)), n);
}

static void flip_byte(const char *path, off_t at)
{
    assert_int_equal(test_flip_byte(path, (long)at, 0x01), 0);
}

/* The path of one table file of the repository at `repo`. */
static void first_table(const char *repo, char *out, size_t len)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/cache", repo);
    DIR *d = opendir(dir);
    struct dirent *e;
    out[0] = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "index-table-", 12))
            snprintf(out, len, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(out[0] != 0);
}

static void test_repository(void **state)
{
    fixture *f = *state;
    char repo[128], table[160];
    snprintf(repo, sizeof(repo), "%s/repo", f->dir);
    snprintf(table, sizeof(table), "%s/cache/index-levels", repo);
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_init(repo, PASS, PLEN), 0);
    assert_int_equal(bkp_repo_open(repo, PASS, PLEN, 0, &r), 0);
    r->index_max = 500; /* so that these puts cross it many times */
    pthread_t th[4];
    putter p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (putter){r, (uint32_t)i * 1500, 1500};
        assert_int_equal(pthread_create(&th[i], NULL, put_many, &p[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(bkp_index_memory_count(bkp_repo_index(r)) <= 500 + 4);
    assert_int_equal(access(table, F_OK), 0);
    all_there(r, 6000);
    assert_int_equal(bkp_repo_flush(r), 0);
    bkp_repo_free(r);
    /* Opened again: the table serves, the last segments are in memory. */
    assert_int_equal(bkp_repo_open(repo, PASS, PLEN, 0, &r), 0);
    all_there(r, 6000);
    assert_true(bkp_index_memory_count(bkp_repo_index(r)) < 6000);
    bkp_repo_free(r);
    /* A changed byte in a table: refused, rebuilt, nothing lost; read-only
     * opens too. */
    char tfile[512];
    first_table(repo, tfile, sizeof(tfile));
    flip_byte(tfile, 100);
    assert_int_equal(bkp_repo_open(repo, PASS, PLEN, BKP_REPO_READONLY, &r), 0);
    all_there(r, 6000);
    bkp_repo_free(r);
    assert_int_equal(bkp_repo_open(repo, PASS, PLEN, 0, &r), 0);
    all_there(r, 6000);
    assert_int_equal(bkp_index_memory_count(bkp_repo_index(r)), 0);
    uint8_t key[32];
    bkp_itable_key(bkp_repo_keys(r), key);
    first_table(repo, tfile, sizeof(tfile));
    assert_int_equal(open_path_rc(tfile, key), 0);
    bkp_repo_free(r);
    /* A segment the table lists is gone (a prune): the table is stale and
     * rebuilt; the segment's packs are indexed from their trailers. */
    char idx[160], seg[512];
    snprintf(idx, sizeof(idx), "%s/index", repo);
    DIR *d = opendir(idx);
    struct dirent *e;
    seg[0] = 0;
    while ((e = readdir(d)))
        if (strlen(e->d_name) == 64)
            snprintf(seg, sizeof(seg), "%s/%s", idx, e->d_name);
    closedir(d);
    assert_int_equal(bkp_unlink_sealed(seg), 0);
    assert_int_equal(bkp_repo_open(repo, PASS, PLEN, 0, &r), 0);
    all_there(r, 6000);
    /* Only the re-indexed packs' entries are in memory. */
    assert_true(bkp_index_memory_count(bkp_repo_index(r)) < 3000);
    bkp_repo_free(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_lookups_equal_hash_table), T(test_merge_then_reopen), T(test_tampered_refused),
        T(test_changed_after_open), T(test_repository),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
