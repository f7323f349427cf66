/*
 * test_index_vouch.c — what an open and a no-change backup may skip, and
 * when they must not (bkp/capture/filescache_stamp.c, bkp/store/index_checked.h).
 *
 * Proves, through a real repository: that a backup after a backup trusts
 * the files cache's stamp and looks no chunk up, re-reading nothing; that
 * after a prune that removed every pack (the files cache still naming their
 * chunks) the next backup, in a new open, looks the chunks up again, finds
 * them gone and stores them again, so that the generation restores from
 * what is there; that a cache saved by a backup that could not vouch (a
 * damaged segment in that open), or a stamp cut off, vouches for nothing;
 * and that an open skips only the segments whose file is as it was when
 * last found good: a byte flipped in a segment (which changes its ctime) is
 * found at the next open, and one the list claims unchanged (a list forged
 * with the key) is skipped by the open but still found by a full check, as
 * `bkp verify` makes.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/seal.h"
#include "bkp/store/index_checked.h"
#include "bkp/store/itable.h"
#include "bkp/store/prune.h"
#include "bkp/store/repo_internal.h"

#include "ops_repo.h"

#define NFILES 40

/* The policy is not what these tests are about: the shared head of the
 * unit tests of bkp/ops/ and one data set. */
static const char policy_text[] = OPS_POLICY_HEAD
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, copy_to: [usb-a] }\n";

/* A folder of NFILES files of distinct content, older than a capture's
 * window of doubt (2 s around its start): cacheable. */
static int setup(void **state)
{
    ops_repo *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(f, "vouch", policy_text))
        return -1;
    for (int i = 0; i < NFILES; i++) {
        char p[200];
        snprintf(p, sizeof(p), "%s/f%02d", f->src, i);
        FILE *x = fopen(p, "w");
        if (!x ||
            fprintf(x, "record %d of a patient, with some words: %u\n", i, randombytes_random()) <
                0 ||
            fclose(x))
            return -1;
    }
    usleep(2500000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ops_repo_free(*state);
    free(*state);
    return 0;
}

/* Capture and seal `dataset`; the capture's figures into `st`. */
static void backup(ops_repo *f, bkp_capture_stats *st, bkp_gen **out)
{
    const char *paths[] = {f->src};
    bkp_capture_opts o = {.dataset = "emr", .paths = paths, .npaths = 1};
    bkp_capture cap;
    time_t t = bkp_now();
    assert_int_equal(bkp_capture_run(f->r, &o, &cap), 0);
    assert_int_equal(bkp_gen_seal(f->r, "emr", &cap, t - 1, t, NULL, out), 0);
    *st = cap.stats;
    bkp_capture_clear(&cap);
}

static void reopen(ops_repo *f)
{
    bkp_repo_free(f->r);
    assert_int_equal(bkp_repo_open(f->repo, OPS_PASS, strlen(OPS_PASS), 0, &f->r), 0);
}

static void test_no_lookup_without_prune_then_lookup_after(void **state)
{
    ops_repo *f = *state;
    bkp_capture_stats st;
    bkp_gen *g[3] = {0};
    backup(f, &st, &g[0]);
    assert_int_equal(st.files_cached, 0);
    reopen(f);
    backup(f, &st, &g[1]);
    assert_int_equal(st.files_cached, NFILES + 1); /* the one file of the fixture too */
    assert_int_equal(st.lookups, 0);
    assert_int_equal(st.chunks_new, 0);

    /* Every generation pruned: every pack goes, the files cache stays. */
    bkp_prune_result res;
    assert_int_equal(bkp_prune(f->r, g, 2, (bkp_prune_how){0}, &res), 0);
    assert_true(res.packs > 0);
    reopen(f);
    backup(f, &st, &g[2]);
    assert_true(st.lookups >= NFILES);
    assert_int_equal(st.files_cached, 0);
    assert_true(st.chunks_new >= NFILES); /* stored again, not trusted to be there */
    /* And the next backup trusts the new cache again. */
    bkp_gen *g4 = NULL;
    reopen(f);
    backup(f, &st, &g4);
    assert_int_equal(st.lookups, 0);
    assert_int_equal(st.files_cached, NFILES + 1);
    for (int i = 0; i < 3; i++)
        bkp_gen_free(g[i]);
    bkp_gen_free(g4);
}

static char *cache_file(ops_repo *f)
{
    char dir[200];
    snprintf(dir, sizeof(dir), "%s/cache", f->repo);
    DIR *d = opendir(dir);
    struct dirent *e;
    char *out = NULL;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "files-", 6) && !strchr(e->d_name, '.'))
            out = bkp_path_join(dir, e->d_name);
    if (d)
        closedir(d);
    assert_non_null(out);
    return out;
}

static void test_stamp_cut_off_vouches_for_nothing(void **state)
{
    ops_repo *f = *state;
    bkp_capture_stats st;
    bkp_gen *g[2] = {0};
    backup(f, &st, &g[0]);
    /* Without its last 12 bytes (the stamp's length and magic) the cache
     * is still used, but each chunk is looked up. */
    char *p = cache_file(f);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(truncate(p, sb.st_size - 12), 0);
    free(p);
    reopen(f);
    backup(f, &st, &g[1]);
    assert_int_equal(st.files_cached, NFILES + 1);
    assert_true(st.lookups >= NFILES);
    bkp_gen_free(g[0]);
    bkp_gen_free(g[1]);
}

/* The first segment the table holds, as a path. */
static char *covered_segment(ops_repo *f)
{
    char hex[2 * BKP_ID_LEN + 1];
    assert_true(f->r->ncovered > 0);
    bkp_hex(hex, f->r->covered[0], BKP_ID_LEN);
    return bkp_path_join(f->r->index_dir, hex);
}

static void flip(const char *p, off_t at)
{
    assert_int_equal(test_flip_byte(p, (long)at, 0x5a), 0);
}

static void test_open_skips_only_unchanged_segments(void **state)
{
    ops_repo *f = *state;
    bkp_capture_stats st;
    bkp_gen *g = NULL, *g2 = NULL;
    backup(f, &st, &g);
    reopen(f); /* writes the table and lists its segments as good */
    reopen(f);
    assert_int_equal(bkp_repo_damaged_segments(f->r), 0);
    char *seg = covered_segment(f);
    (void)chmod(seg, 0600);
    flip(seg, 100);
    reopen(f);
    assert_int_equal(bkp_repo_damaged_segments(f->r), 1);

    /* A damaged segment in the open: the cache saved now vouches for
     * nothing, so the next backup looks its chunks up. */
    backup(f, &st, &g2);
    bkp_gen_free(g2);
    reopen(f);
    backup(f, &st, &g2);
    assert_true(st.lookups >= NFILES);
    bkp_gen_free(g2);
    bkp_gen_free(g);
    free(seg);
}

static void test_verify_reads_what_the_open_skips(void **state)
{
    ops_repo *f = *state;
    bkp_capture_stats st;
    bkp_gen *g = NULL;
    backup(f, &st, &g);
    reopen(f);
    reopen(f);
    char *seg = covered_segment(f);
    (void)chmod(seg, 0600);
    flip(seg, 100);
    /* A list forged with the key, claiming the segment as it is now. */
    struct stat sb;
    assert_int_equal(stat(seg, &sb), 0);
    bkp_checked c = {0};
    bkp_seg_seen s;
    bkp_seg_seen_of(&s, f->r->covered[0], &sb);
    assert_int_equal(bkp_checked_add(&c, &s), 0);
    uint8_t key[32];
    bkp_itable_key(bkp_repo_keys(f->r), key);
    char dir[200];
    snprintf(dir, sizeof(dir), "%s/cache", f->repo);
    assert_int_equal(bkp_checked_save(dir, key, &c), 0);
    bkp_checked_free(&c);
    reopen(f);
    assert_int_equal(bkp_repo_damaged_segments(f->r), 0);
    assert_int_equal(bkp_repo_check_segments(f->r, true), 0);
    assert_int_equal(bkp_repo_damaged_segments(f->r), 1);
    /* Under another key the list is not believed: the open reads it. */
    key[0] ^= 1;
    assert_int_equal(bkp_checked_add(&c, &s), 0);
    assert_int_equal(bkp_checked_save(dir, key, &c), 0);
    bkp_checked_free(&c);
    reopen(f);
    assert_int_equal(bkp_repo_damaged_segments(f->r), 1);
    bkp_gen_free(g);
    free(seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_lookup_without_prune_then_lookup_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stamp_cut_off_vouches_for_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_skips_only_unchanged_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_reads_what_the_open_skips, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
