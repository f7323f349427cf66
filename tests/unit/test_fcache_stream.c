/*
 * test_fcache_stream.c — the files cache as a stream of segments (filescache.h).
 *
 * Proves that a cache of many segments is read back whole: every entry of a
 * cache several times larger than one segment is found again, with no
 * problem reported, and the file grows linearly with its entries (a segment
 * carries only its own entries). And that a segment length beyond what one
 * sealed blob can be is refused at once, before anything is allocated or
 * read: the entries before it still count, the cache is reported damaged.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
/* About 130 bytes of plaintext each: several 1 MiB segments. */
#define ENTRIES 40000

typedef struct fixture {
    char base[64], repo[128], cache[192];
    bkp_repo *r;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_repo_free(f->r);
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    strcpy(f->base, "/tmp/bkp-test-fcache-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(f->base))
        return teardown(state), -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->cache, sizeof(f->cache), "%s/cache/files-ds", f->repo);
    if (bkp_repo_init(f->repo, PASS, PLEN) || bkp_repo_open(f->repo, PASS, PLEN, 0, &f->r))
        return teardown(state), -1;
    return 0;
}

static void path_of(char *out, size_t n, uint32_t i)
{
    snprintf(out, n, "/data/patients/%08u", i);
}

static bkp_fstat stat_of(uint32_t i)
{
    return (bkp_fstat){.dev = 1, .ino = 1000 + i, .size = 0, .mtime = 1000000000LL * i,
                       .ctime = 1000000000LL * i + 1, .mode = S_IFDIR | 0755};
}

/* A cache of `n` folder entries, in walk order. */
static void write_cache(fixture *f, uint32_t n)
{
    bkp_fcache_writer *w = NULL;
    bkp_item it;
    bkp_fextra x = {0};
    char path[64];
    bkp_item_init(&it);
    assert_int_equal(bkp_fcache_writer_new(f->r, "ds", &w), 0);
    for (uint32_t i = 0; i < n; i++) {
        bkp_fstat st = stat_of(i);
        path_of(path, sizeof(path), i);
        assert_int_equal(bkp_fcache_add(w, path, &st, &it, &x), 0);
    }
    assert_int_equal(bkp_fcache_commit(w), 0);
}

/* How many of the first `n` entries are found unchanged. */
static uint32_t hits(fixture *f, uint32_t n, const char **problem)
{
    bkp_fcache *c = NULL;
    bool found = false;
    char path[64];
    uint32_t got = 0;
    uint8_t old[BKP_ID_LEN];
    assert_int_equal(bkp_fcache_open(f->r, "ds", &c, &found), 0);
    for (uint32_t i = 0; i < n; i++) {
        bkp_fstat st = stat_of(i);
        bkp_fextra x;
        path_of(path, sizeof(path), i);
        got += bkp_fcache_lookup(c, path, &st, NULL, old, &x) == 1;
    }
    *problem = bkp_fcache_problem(c);
    bkp_fcache_free(c);
    return got;
}

static void test_many_segments_read_back(void **state)
{
    fixture *f = *state;
    const char *problem = "unset";
    struct stat st;
    write_cache(f, ENTRIES);
    assert_int_equal(stat(f->cache, &st), 0);
    /* Linear: well under twice the plaintext (LZ4 makes it smaller still). */
    assert_true(st.st_size < 2 * 140 * ENTRIES);
    assert_int_equal(hits(f, ENTRIES, &problem), ENTRIES);
    assert_null(problem);
}

static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A segment length of 512 MiB on a sparse file: refused without reading it. */
static void test_huge_segment_length_refused(void **state)
{
    fixture *f = *state;
    const char *problem = NULL;
    struct stat st;
    write_cache(f, ENTRIES);
    assert_int_equal(stat(f->cache, &st), 0);
    /* The first segment stays; the second's length becomes 512 MiB. */
    int fd = open(f->cache, O_RDWR);
    assert_true(fd >= 0);
    uint8_t le[4];
    assert_int_equal(pread(fd, le, 4, 24), 4);
    off_t second = 24 + 4 + (off_t)bkp_get_le32(le);
    assert_true(second < st.st_size);
    bkp_le32(le, 512U << 20);
    assert_int_equal(pwrite(fd, le, 4, second), 4);
    assert_int_equal(ftruncate(fd, second + 4 + (512LL << 20)), 0);
    close(fd);
    long before = peak_kib();
    uint32_t got = hits(f, ENTRIES, &problem);
    assert_true(got > 0 && got < ENTRIES);
    assert_non_null(problem);
    /* Reading the 512 MiB of zeros would have raised the peak by as much. */
    assert_true(peak_kib() - before < 128 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_segments_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_segment_length_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
