/* Unit tests for restore/browse.c and browse_read.c, without FUSE: the
 * layout of data sets and generations, path lookups, stored metadata,
 * reads by range across chunks and holes equal to the original, a hard
 * link's content, the cache's bound, and a damaged chunk failing its reads
 * with -EIO while other files still read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/capture/capture.h"
#include "bkp/store/generation.h"
#include "bkp/store/seal.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"
#include "bkp/store/repo.h"
#include "restore/browse.h"
#include "restore/browse_internal.h"
#include "testutil.h"

static const char PASS[] = "correct horse battery staple";
#define DENSE (6u << 20)

typedef struct fixture {
    char base[64], src[96], repo[96];
    bkp_repo *r;
} fixture;

static void write_at(const char *path, const void *data, size_t len, off_t off)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static const char *src(const fixture *f, const char *name)
{
    static char p[256];
    snprintf(p, sizeof(p), "%s/%s", f->src, name);
    return p;
}

static void backup(fixture *f)
{
    const char *paths[] = {f->src};
    bkp_capture_opts o = {.dataset = "t", .paths = paths, .npaths = 1};
    bkp_capture cap;
    bkp_gen *g = NULL;
    time_t t0 = time(NULL);
    assert_int_equal(bkp_capture_run(f->r, &o, &cap), 0);
    assert_int_equal(bkp_gen_seal(f->r, "t", &cap, t0, time(NULL), NULL, &g), 0);
    bkp_capture_clear(&cap);
    bkp_gen_free(g);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->base, sizeof(f->base), "/tmp/bkp-test-browse-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->src, sizeof(f->src), "%s/src", f->base);
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    assert_int_equal(mkdir(f->src, 0755), 0);
    assert_int_equal(mkdir(src(f, "sub"), 0750), 0);

    /* Dense (several chunks), small, empty, sparse, a link, a hard link. */
    uint8_t *buf = malloc(DENSE);
    assert_non_null(buf);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < DENSE; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    write_at(src(f, "dense"), buf, DENSE, 0);
    write_at(src(f, "sub/small"), "hello\n", 6, 0);
    write_at(src(f, "empty"), "", 0, 0);
    write_at(src(f, "sparse"), buf, 65536, 4 << 20);
    assert_int_equal(truncate(src(f, "sparse"), 8 << 20), 0);
    free(buf);
    assert_int_equal(symlink("sub/small", src(f, "link")), 0);
    char small[256];
    snprintf(small, sizeof(small), "%s", src(f, "sub/small"));
    assert_int_equal(link(small, src(f, "sub/hard")), 0);
    assert_int_equal(chmod(src(f, "sub/small"), 0640), 0);

    assert_int_equal(bkp_repo_init(f->repo, PASS, strlen(PASS)), 0);
    assert_int_equal(bkp_repo_open(f->repo, PASS, strlen(PASS), 0, &f->r), 0);
    backup(f);
    write_at(src(f, "sub/small"), "HELLO\n", 6, 0);
    backup(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_repo_free(f->r);
    test_rm_rf(f->base);
    free(f);
    return 0;
}

/* Messages a user would read, counted instead of printed. */
static int told;
static void count(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)ctx, (void)msg;
    told += level == BKP_LOG_ERROR;
}

typedef struct names {
    char all[512];
} names;

static int add_name(const char *name, const struct stat *st, void *ctx)
{
    names *n = ctx;
    size_t k = strlen(n->all);
    snprintf(n->all + k, sizeof(n->all) - k, "%s%s ", name, S_ISDIR(st->st_mode) ? "/" : "");
    return 0;
}

static const char *list(rst_browse *b, const char *path)
{
    static names n;
    rst_node *d;
    n.all[0] = '\0';
    assert_int_equal(rst_browse_lookup(b, path, &d), 0);
    assert_int_equal(rst_browse_list(b, d, add_name, &n), 0);
    return n.all;
}

/* In generation `gen` (a folder of the mount, "" at the root): SRC/name. */
static rst_node *at(rst_browse *b, const fixture *f, const char *gen, const char *name)
{
    char p[512];
    rst_node *n = NULL;
    snprintf(p, sizeof(p), "%s%s/%s", gen, f->src, name);
    assert_int_equal(rst_browse_lookup(b, p, &n), 0);
    return n;
}

static void test_layout_of_every_data_set(void **state)
{
    fixture *f = *state;
    rst_browse *b = NULL;
    rst_node *n;
    struct stat st;
    assert_int_equal(rst_browse_new(f->r, NULL, &b), 0);
    assert_string_equal(list(b, "/"), "t/ ");
    assert_string_equal(list(b, "/t"), "latest t:1/ t:2/ ");
    assert_int_equal(rst_browse_lookup(b, "/t/latest", &n), 0);
    assert_string_equal(rst_browse_link(n), "t:2");
    assert_int_equal(rst_browse_lookup(b, "/t/t:1", &n), 0);
    rst_browse_stat(n, &st);
    assert_true(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0555);
    /* Folders above the captured path were not stored: made up, and shown
     * 0700 root (their owner and mode were never known; a mount for other
     * users must not open them). */
    assert_int_equal(rst_browse_lookup(b, "/t/t:1/tmp", &n), 0);
    rst_browse_stat(n, &st);
    assert_true(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(rst_browse_lookup(b, "/nosuch", &n), -ENOENT);
    assert_int_equal(rst_browse_lookup(b, "/t/t:3", &n), -ENOENT);
    rst_browse_free(b);
}

static void test_one_data_set_or_one_generation(void **state)
{
    fixture *f = *state;
    rst_browse *b = NULL;
    assert_int_equal(rst_browse_new(f->r, "t", &b), 0);
    assert_string_equal(list(b, "/"), "latest t:1/ t:2/ ");
    rst_browse_free(b);
    assert_int_equal(rst_browse_new(f->r, "t:1", &b), 0);
    assert_string_equal(list(b, f->src), "dense empty link sparse sub/ ");
    char p[256];
    snprintf(p, sizeof(p), "%s/sub", f->src);
    assert_string_equal(list(b, p), "hard small ");
    rst_browse_free(b);
    b = NULL;
    bkp_log_set_sink(count, NULL); /* the refusals below are logged */
    assert_int_equal(rst_browse_new(f->r, "t:9", &b), -ENOENT);
    assert_int_equal(rst_browse_new(f->r, "nosuch", &b), -ENOENT);
    bkp_log_set_sink(NULL, NULL);
    assert_null(b);
}

static void test_metadata_kept(void **state)
{
    fixture *f = *state;
    rst_browse *b = NULL;
    struct stat want, got;
    assert_int_equal(rst_browse_new(f->r, "t:2", &b), 0);
    const char *files[] = {"dense", "empty", "sparse", "sub/small", "sub", "link"};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        assert_int_equal(lstat(src(f, files[i]), &want), 0);
        rst_browse_stat(at(b, f, "", files[i]), &got);
        assert_int_equal(got.st_mode, want.st_mode);
        assert_int_equal(got.st_uid, want.st_uid);
        assert_int_equal(got.st_gid, want.st_gid);
        assert_int_equal(got.st_mtim.tv_sec, want.st_mtim.tv_sec);
        if (!S_ISDIR(want.st_mode))
            assert_int_equal(got.st_size, want.st_size);
    }
    assert_string_equal(rst_browse_link(at(b, f, "", "link")), "sub/small");
    assert_null(rst_browse_link(at(b, f, "", "dense")));
    rst_node *n;
    char p[256];
    snprintf(p, sizeof(p), "%s/dense/x", f->src);
    assert_int_equal(rst_browse_lookup(b, p, &n), -ENOTDIR);
    assert_int_equal(rst_browse_open(b, at(b, f, "", "sub")), -EISDIR);
    rst_browse_free(b);
}

/* Read `name` of the mount through ranges of `step` bytes from `start`,
 * against the original's bytes. */
static void same_bytes(rst_browse *b, const fixture *f, const char *gen, const char *name,
                       size_t start, size_t step)
{
    rst_node *n = at(b, f, gen, name);
    int fd = open(src(f, name), O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *want = malloc(step), *got = malloc(step);
    assert_int_equal(rst_browse_open(b, n), 0);
    for (uint64_t off = start; off < (uint64_t)st.st_size + step; off += step) {
        ssize_t w = pread(fd, want, step, (off_t)off);
        ssize_t g = rst_browse_read(b, n, off, got, step);
        assert_int_equal(g, w);
        if (w > 0) /* at the end nothing is read: nothing to compare */
            assert_memory_equal(got, want, (size_t)w);
    }
    free(want);
    free(got);
    close(fd);
}

static void test_reads_by_range(void **state)
{
    fixture *f = *state;
    rst_browse *b = NULL;
    assert_int_equal(rst_browse_new(f->r, "t:2", &b), 0);
    same_bytes(b, f, "", "dense", 0, 131072);
    same_bytes(b, f, "", "dense", 12345, 1000003); /* across chunk ends */
    same_bytes(b, f, "", "sparse", 0, 131072);
    same_bytes(b, f, "", "sparse", 4000000, 77777); /* hole, data, hole */
    same_bytes(b, f, "", "empty", 0, 4096);
    same_bytes(b, f, "", "sub/small", 0, 4096);
    /* The hard link reads as the file it names. */
    char buf[16] = {0};
    rst_node *h = at(b, f, "", "sub/hard");
    assert_int_equal(rst_browse_open(b, h), 0);
    assert_int_equal(rst_browse_read(b, h, 0, buf, sizeof(buf)), 6);
    assert_string_equal(buf, "HELLO\n");
    /* The cache stayed within its bounds. */
    size_t bytes = 0, held = 0;
    for (size_t i = 0; i < RST_BROWSE_CACHE_CHUNKS; i++)
        if (b->cache[i].used)
            held++, bytes += b->cache[i].data.len;
    assert_true(held >= 2 && held <= RST_BROWSE_CACHE_CHUNKS);
    assert_true(bytes <= RST_BROWSE_CACHE_BYTES);
    rst_browse_free(b);

    /* The first generation keeps its own version. */
    assert_int_equal(rst_browse_new(f->r, NULL, &b), 0);
    h = at(b, f, "/t/t:1", "sub/small");
    assert_int_equal(rst_browse_read(b, h, 0, buf, sizeof(buf)), 6);
    assert_string_equal(buf, "hello\n");
    rst_browse_free(b);
}

/* Flip a byte inside the stored blob of chunk `i` of `n`. */
static void damage(fixture *f, rst_node *n, uint32_t i)
{
    uint8_t pack[BKP_ID_LEN];
    bkp_index_entry e;
    assert_int_equal(bkp_repo_locate(f->r, n->it.chunks[i].id, pack, &e), 0);
    char dir[160];
    snprintf(dir, sizeof(dir), "%s/packs", f->repo);
    char *p = bkp_pack_path(dir, pack);
    assert_int_equal(chmod(p, 0644), 0);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c;
    off_t at = (off_t)(e.offset + e.len / 2);
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0xff;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    free(p);
}

static void test_damaged_chunk_is_eio(void **state)
{
    fixture *f = *state;
    rst_browse *b = NULL;
    uint8_t buf[4096];
    assert_int_equal(rst_browse_new(f->r, "t:2", &b), 0);
    rst_node *n = at(b, f, "", "dense");
    assert_true(n->it.nchunks >= 2);
    damage(f, n, 1);
    assert_int_equal(rst_browse_open(b, n), 0);
    told = 0;
    bkp_log_set_sink(count, NULL);
    /* The chunk before reads; the damaged one fails every time, told once. */
    assert_int_equal(rst_browse_read(b, n, 0, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    uint64_t second = n->it.chunks[0].len;
    assert_int_equal(rst_browse_read(b, n, second + 10, buf, sizeof(buf)), -EIO);
    assert_true(n->told);
    assert_int_equal(rst_browse_read(b, n, second + 10, buf, sizeof(buf)), -EIO);
    assert_int_equal(told, 1);
    same_bytes(b, f, "", "sub/small", 0, 4096);
    /* A chunk list that does not add up to its size is refused whole. */
    rst_node *s = at(b, f, "", "sparse");
    s->it.chunks[0].len += 1;
    assert_int_equal(rst_browse_open(b, s), -EIO);
    assert_int_equal(rst_browse_read(b, s, 0, buf, sizeof(buf)), -EIO);
    assert_int_equal(told, 2);
    bkp_log_set_sink(NULL, NULL);
    rst_browse_free(b);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_of_every_data_set),
        cmocka_unit_test(test_one_data_set_or_one_generation),
        cmocka_unit_test(test_metadata_kept),
        cmocka_unit_test(test_reads_by_range),
        cmocka_unit_test(test_damaged_chunk_is_eio),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
