/*
 * test_index_levels.c — the blob index as a few tables and their manifest
 * (bkp/store/itable_levels.h, index.h).
 *
 * Proves that the merge policy writes each entry O(log N) times and keeps
 * few tables; and, through a repository whose memory bound is tiny, that
 * the tables serve every blob across opens; that a table left by a kill
 * between writing it and writing the manifest is removed by the next open
 * without a rebuild; that a manifest listing a table that is gone, a table
 * of another repository under a listed name, another repository's
 * manifest, and a flipped byte in any one table or in the manifest each
 * make the open rebuild from the segments with every blob still found; and
 * that the open of a copy on a medium neither reads, follows nor changes
 * anything the medium holds under cache/ (manifest, tables, links, FIFOs).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
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
#include "bkp/store/itable_levels.h"
#include "bkp/store/repo.h"
#include "bkp/store/repo_internal.h"

#include "testutil.h"

#define PASS "a long enough passphrase"
#define PLEN (sizeof(PASS) - 1)
#define BLOBS 6000
#define MAXT 64

typedef struct fixture {
    char dir[64], repo[128], other[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    strcpy(f->dir, "/tmp/bkp-test-ilevels-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(f->dir))
        return -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->dir);
    snprintf(f->other, sizeof(f->other), "%s/other", f->dir);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->dir[0])
        test_rm_rf(f->dir);
    free(f);
    return 0;
}

/* ---- the policy, by simulation ---- */

typedef struct sim {
    uint64_t counts[BKP_ITABLE_LEVELS_MAX + 1];
    uint32_t n, most;
    uint64_t written;
} sim;

/* `total` entries arriving `unit` at a time, as an initial backup does. */
static void simulate(sim *s, uint64_t total, uint64_t unit)
{
    memset(s, 0, sizeof(*s));
    for (uint64_t done = 0; done < total; done += unit) {
        uint32_t k = bkp_itable_levels_plan(s->counts, s->n, unit, unit);
        assert_true(k <= s->n);
        uint64_t sum = unit;
        for (uint32_t i = 0; i < k; i++)
            sum += s->counts[s->n - 1 - i];
        s->n -= k;
        s->counts[s->n++] = sum;
        s->written += sum;
        assert_true(s->n < BKP_ITABLE_LEVELS_MAX);
        s->most = s->n > s->most ? s->n : s->most;
    }
}

static void test_policy(void **state)
{
    (void)state;
    sim s;
    const uint64_t unit = 1 << 18;
    /* Ten million entries: one table rewritten whole would write about
     * 20 × N; the levels about 4 × N and never more than 10 tables. */
    simulate(&s, 10000000, unit);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s.n; i++)
        sum += s.counts[i];
    assert_true(sum >= 10000000);
    assert_true(s.written < 5 * sum);
    assert_true(s.most <= 10);
    /* A hundred million: still O(N log N). */
    simulate(&s, 100000000, unit);
    assert_true(s.written < 6ULL * 100000000);
    assert_true(s.most <= 13);
    /* Tiny young tables (opens with few new segments) merge too. */
    simulate(&s, 100000, 10);
    assert_true(s.most < BKP_ITABLE_LEVELS_MAX);
    /* The bound on the number of tables holds whatever the counts. */
    uint64_t many[BKP_ITABLE_LEVELS_MAX];
    for (uint32_t i = 0; i < BKP_ITABLE_LEVELS_MAX; i++)
        many[i] = (uint64_t)1 << (40 - i);
    assert_int_equal(bkp_itable_levels_plan(many, BKP_ITABLE_LEVELS_MAX, 1, 1),
                     BKP_ITABLE_LEVELS_MAX);
}

/* ---- through a repository ---- */

static void put_range(bkp_repo *r, uint32_t from, uint32_t n)
{
    for (uint32_t i = from; i < from + n; i++) {
        uint8_t id[BKP_ID_LEN];
        char text[32];
        int len = snprintf(text, sizeof(text), "blob number %u", i);
        assert_int_equal(bkp_repo_put(r, BKP_BLOB_DATA, text, (size_t)len, id, NULL), 0);
        if (i % 97 == 0) {
            assert_int_equal(bkp_repo_flush(r), 0);
        }
    }
    assert_int_equal(bkp_repo_flush(r), 0);
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
    assert_int_equal(bkp_index_count(bkp_repo_index(r)), n);
}

/* The table files in `repo`'s cache, sorted; their number. */
static int tables(const char *repo, char names[MAXT][64])
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/cache", repo);
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "index-table", 11) && strlen(e->d_name) < 64 && n < MAXT)
            memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
    closedir(d);
    qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

static bkp_repo *open_repo(const char *repo)
{
    bkp_repo *r = NULL;
    assert_int_equal(bkp_repo_open(repo, PASS, PLEN, 0, &r), 0);
    r->index_max = 200;
    return r;
}

/* A repository of BLOBS blobs in several tables; their names in `names`. */
static int make(const char *repo, char names[MAXT][64])
{
    assert_int_equal(bkp_repo_init(repo, PASS, PLEN), 0);
    bkp_repo *r = open_repo(repo);
    put_range(r, 0, BLOBS);
    assert_true(bkp_index_levels(bkp_repo_index(r)) >= 2);
    assert_true(bkp_index_memory_count(bkp_repo_index(r)) <= 200);
    all_there(r, BLOBS);
    bkp_repo_free(r);
    int n = tables(repo, names);
    assert_true(n >= 2);
    return n;
}

/* Open: every blob there; 1 when the tables were used as they were (the
 * same files), 0 when the index was rebuilt into new ones. */
static int reopen_same(const char *repo, char before[MAXT][64], int nb)
{
    char after[MAXT][64];
    bkp_repo *r = open_repo(repo);
    all_there(r, BLOBS);
    bkp_repo_free(r);
    int na = tables(repo, after);
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++)
        if (strcmp(before[i], after[i]))
            return 0;
    return 1;
}

static void path_of(const char *repo, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/cache/%s", repo, name);
    assert_true(n > 0 && (size_t)n < len);
}

static void copy_file(const char *from, const char *to)
{
    bkp_buf b;
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(from, &b, 1 << 30), 0);
    unlink(to);
    FILE *fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b.data, 1, b.len, fp), b.len);
    fclose(fp);
    bkp_buf_free(&b);
}

static void test_used_across_opens(void **state)
{
    fixture *f = *state;
    char names[MAXT][64];
    int n = make(f->repo, names);
    assert_int_equal(reopen_same(f->repo, names, n), 1);
    /* More blobs in a later run: more tables, merged, all found. */
    bkp_repo *r = open_repo(f->repo);
    put_range(r, 0, BLOBS); /* the same blobs: nothing new */
    assert_int_equal(bkp_index_count(bkp_repo_index(r)), BLOBS);
    bkp_repo_free(r);
    assert_int_equal(reopen_same(f->repo, names, n), 1);
}

/* A kill after a table was written and before the manifest listed it
 * leaves it beside the others: the next open removes it, uses the rest. */
static void test_kill_between_table_and_manifest(void **state)
{
    fixture *f = *state;
    char names[MAXT][64], from[512], to[512];
    int n = make(f->repo, names);
    path_of(f->repo, names[0], from, sizeof(from));
    path_of(f->repo, "index-table-0123456789abcdef0123456789abcdef", to, sizeof(to));
    copy_file(from, to);
    /* The single table of the format before levels goes too. */
    path_of(f->repo, "index-table", to, sizeof(to));
    copy_file(from, to);
    assert_int_equal(reopen_same(f->repo, names, n), 1);
}

static void test_listed_table_gone(void **state)
{
    fixture *f = *state;
    char names[MAXT][64], p[512];
    int n = make(f->repo, names);
    path_of(f->repo, names[n - 1], p, sizeof(p));
    assert_int_equal(unlink(p), 0);
    assert_int_equal(reopen_same(f->repo, names, n - 1), 0);
    /* Rebuilt and kept: the next open uses it. */
    n = tables(f->repo, names);
    assert_int_equal(reopen_same(f->repo, names, n), 1);
}

static void test_other_repository(void **state)
{
    fixture *f = *state;
    char names[MAXT][64], others[MAXT][64], from[512], to[512];
    int n = make(f->repo, names);
    make(f->other, others);
    /* Another repository's table under a listed name. */
    path_of(f->other, others[0], from, sizeof(from));
    path_of(f->repo, names[0], to, sizeof(to));
    copy_file(from, to);
    assert_int_equal(reopen_same(f->repo, names, n), 0);
    /* Another repository's manifest. */
    n = tables(f->repo, names);
    path_of(f->other, "index-levels", from, sizeof(from));
    path_of(f->repo, "index-levels", to, sizeof(to));
    copy_file(from, to);
    assert_int_equal(reopen_same(f->repo, names, n), 0);
    n = tables(f->repo, names);
    assert_int_equal(reopen_same(f->repo, names, n), 1);
}

static void test_flipped_byte_each_level(void **state)
{
    fixture *f = *state;
    char names[MAXT][64], p[512], repo[160];
    int n = make(f->repo, names);
    /* Each table in turn, in a repository of its own with all its tables. */
    for (int i = 0; i < n; i++) {
        char again[MAXT][64];
        struct stat st;
        snprintf(repo, sizeof(repo), "%s/flip-%d", f->dir, i);
        assert_int_equal(make(repo, again), n);
        path_of(repo, again[i], p, sizeof(p));
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(test_flip_byte(p, (long)(st.st_size / 2 + i), 0x04), 0);
        assert_int_equal(reopen_same(repo, again, n), 0);
    }
    /* And in the manifest. */
    path_of(f->repo, "index-levels", p, sizeof(p));
    assert_int_equal(test_flip_byte(p, 13, 0x01), 0);
    assert_int_equal(reopen_same(f->repo, names, n), 0);
    n = tables(f->repo, names);
    assert_int_equal(reopen_same(f->repo, names, n), 1);
}

/* A FIFO planted as the cache's lock (a crafted medium, or root on the
 * host) neither hangs an open nor is taken for a lock: a read-only open
 * refuses it as not a regular file, a copy's open never looks. */
static void test_lock_planted_fifo(void **state)
{
    fixture *f = *state;
    char names[MAXT][64], p[512];
    make(f->repo, names);
    path_of(f->repo, BKP_ITABLE_LOCK, p, sizeof(p));
    unlink(p);
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(60); /* a hang fails the test instead of the suite's clock */
    bkp_repo *r = NULL, *c = NULL;
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), 0);
    all_there(r, BLOBS);
    assert_int_equal(bkp_repo_open_copy(f->repo, r, BKP_REPO_READONLY, &c), 0);
    all_there(c, BLOBS);
    bkp_repo_free(c);
    bkp_repo_free(r);
    alarm(0);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
}

/* What `repo`/cache holds, without following anything: each entry's name,
 * type, size, inode and change times, one a line, sorted. */
static void cache_listing(const char *repo, char *out, size_t len)
{
    char dir[256], lines[MAXT][320];
    int n = 0;
    snprintf(dir, sizeof(dir), "%s/cache", repo);
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) && n < MAXT) {
        struct stat st;
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
            continue;
        assert_int_equal(fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
        snprintf(lines[n++], sizeof(lines[0]), "%.64s %o %lld %llu %lld.%09ld %lld.%09ld\n",
                 e->d_name, (unsigned)st.st_mode, (long long)st.st_size,
                 (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    }
    closedir(d);
    qsort(lines, (size_t)n, sizeof(lines[0]), (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        strncat(out, lines[i], len - strlen(out) - 1);
}

/* A copy on a medium controls its cache/ folder: a manifest and tables
 * that check (the primary's own, copied with it), a table replaced by a
 * link to the primary's, a FIFO where the checked-segments list goes, and
 * a FIFO named as a temporary file of a dead writer of this host (which a
 * clean-up pass would open). Neither a read-only nor a writable open of the
 * copy, nor an open of its folder with the passphrase as a medium's (restore
 * --from), reads, follows, opens or changes any of it: no table is used, every
 * blob is found from the copy's own segments, the blobs a writable open
 * adds past the memory bound go to tables of its own elsewhere, and the
 * folder is exactly as it was. */
static void test_copy_ignores_its_cache(void **state)
{
    fixture *f = *state;
    char names[MAXT][64], copy[160], cmd[512], p[512], q[512], host[64] = "host";
    char before[MAXT * 320], after[MAXT * 320];
    int n = make(f->repo, names);
    snprintf(copy, sizeof(copy), "%s/copy", f->dir);
    snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", f->repo, copy);
    assert_int_equal(system(cmd), 0);
    path_of(copy, names[0], p, sizeof(p));
    path_of(f->repo, names[0], q, sizeof(q));
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink(q, p), 0);
    path_of(copy, "index-checked", p, sizeof(p));
    unlink(p);
    assert_int_equal(mkfifo(p, 0600), 0);
    /* The name bkp_durable_cleanup gives a temporary file of this host. */
    gethostname(host, sizeof(host) - 1);
    for (char *c = host; *c; c++)
        if (*c == '/' || *c == '-')
            *c = '_';
    assert_true(kill(2147483000, 0) < 0 && errno == ESRCH);
    snprintf(cmd, sizeof(cmd), ".tmp-%s-2147483000-0123456789abcdef", host);
    path_of(copy, cmd, p, sizeof(p));
    assert_int_equal(mkfifo(p, 0600), 0);
    cache_listing(copy, before, sizeof(before));

    alarm(120); /* a hang fails the test instead of the suite's clock */
    bkp_repo *r = NULL, *c = NULL;
    assert_int_equal(bkp_repo_open(f->repo, PASS, PLEN, BKP_REPO_READONLY, &r), 0);
    assert_int_equal(bkp_index_levels(bkp_repo_index(r)), n); /* the primary uses its tables */
    assert_int_equal(bkp_repo_open_copy(copy, r, BKP_REPO_READONLY, &c), 0);
    assert_int_equal(bkp_index_levels(bkp_repo_index(c)), 0);
    all_there(c, BLOBS);
    bkp_repo_free(c);
    c = NULL;
    assert_int_equal(bkp_repo_open_copy(copy, r, 0, &c), 0);
    assert_int_equal(bkp_index_levels(bkp_repo_index(c)), 0);
    all_there(c, BLOBS);
    c->index_max = 200;
    put_range(c, BLOBS, 1000);
    assert_true(bkp_index_levels(bkp_repo_index(c)) >= 1); /* its own, not in cache/ */
    all_there(c, BLOBS + 1000);
    bkp_repo_free(c);
    bkp_repo_free(r);
    /* Opened with the passphrase as a medium's folder (restore --from). */
    assert_int_equal(bkp_repo_open(copy, PASS, PLEN, BKP_REPO_READONLY | BKP_REPO_MEDIUM, &c), 0);
    assert_int_equal(bkp_index_levels(bkp_repo_index(c)), 0);
    all_there(c, BLOBS + 1000);
    bkp_repo_free(c);
    alarm(0);

    cache_listing(copy, after, sizeof(after));
    assert_string_equal(before, after);
    /* The primary's tables are as they were too. */
    assert_int_equal(reopen_same(f->repo, names, n), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_policy),
        T(test_used_across_opens),
        T(test_kill_between_table_and_manifest),
        T(test_listed_table_gone),
        T(test_other_repository),
        T(test_flipped_byte_each_level),
        T(test_lock_planted_fifo),
        T(test_copy_ignores_its_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
