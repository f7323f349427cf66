/*
 * test_prune_recompress.c — `prune --recompress` (bkp/store/prune.h): the
 * packs that hold live LZ4 blobs are written again with the default
 * compression, through prune's own transaction.
 *
 * Proves, through a real repository whose generations were captured with
 * LZ4: that the dry run finds the packs and changes no file; that the
 * prune leaves no live LZ4 blob, every generation reading back and
 * verifying, in fewer bytes of packs; that the next one finds nothing to
 * do; that a repository already in zstd is left as it is; and that a
 * damaged blob stops the plan before anything is deleted.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/audit/verify.h"
#include "bkp/store/prune.h"
#include "bkp/store/seal.h"
#include "bkp/store/tree.h"

#include "ops_repo.h"

static const char policy_text[] =
    OPS_POLICY_HEAD "datasets:\n"
                    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00 }\n";

/* `n` files of words, which both LZ4 and zstd shrink (zstd more). */
static void write_notes(const char *dir, int gen, int n)
{
    static const char *w[] = {"patient",   "blood",   "pressure", "normal", "follow-up", "ward",
                              "discharge", "allergy", "none",     "dose",   "mg",        "daily"};
    for (int i = 0; i < n; i++) {
        char p[200];
        snprintf(p, sizeof(p), "%s/note-%d-%02d.txt", dir, gen, i);
        FILE *x = fopen(p, "w");
        assert_non_null(x);
        for (int k = 0; k < 20000; k++)
            fprintf(x, "%s%c", w[randombytes_uniform(12)], k % 11 ? ' ' : '\n');
        assert_int_equal(fclose(x), 0);
    }
}

static bkp_gen *capture(ops_repo *o, int gen, bkp_comp comp)
{
    const char *paths[] = {o->src};
    bkp_capture_opts opt = {
        .dataset = "emr", .paths = paths, .npaths = 1, .no_cache = true, .compression = comp};
    bkp_capture cap;
    bkp_gen *g = NULL;
    time_t t = bkp_now();
    write_notes(o->src, gen, 6);
    assert_int_equal(bkp_capture_run(o->r, &opt, &cap), 0);
    assert_int_equal(bkp_gen_seal(o->r, "emr", &cap, t - 1, t, NULL, &g), 0);
    bkp_capture_clear(&cap);
    return g;
}

typedef struct tally {
    const bkp_repo *r;
    uint64_t lz4, zstd, stored;
} tally;

static void tally_one(const bkp_index_entry *e, void *ctx)
{
    tally *t = ctx;
    bkp_comp_kind k;
    assert_int_equal(bkp_repo_comp_of(t->r, e->type, e->id, &k), 0);
    t->lz4 += k == BKP_COMP_LZ4;
    t->zstd += k == BKP_COMP_ZSTD;
    t->stored += k == BKP_COMP_NONE;
}

static tally count_kinds(const bkp_repo *r)
{
    tally t = {.r = r};
    assert_int_equal(bkp_index_foreach(bkp_repo_index(r), tally_one, &t), 0);
    return t;
}

/* The packs' names and total size. */
static uint64_t packs_size(const char *repo, char *names, size_t cap)
{
    char dir[256];
    uint64_t sum = 0;
    names[0] = 0;
    for (int h = 0; h < 256; h++) {
        snprintf(dir, sizeof(dir), "%s/packs/%02x", repo, h);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char p[600];
            struct stat st;
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            assert_int_equal(stat(p, &st), 0);
            sum += (uint64_t)st.st_size;
            strncat(names, e->d_name, cap - strlen(names) - 1);
        }
        if (d)
            closedir(d);
    }
    return sum;
}

static void verify_clean(const bkp_repo *r)
{
    bkp_verify_result v = {0};
    assert_int_equal(bkp_verify(r, true, 2, &v), 0);
    assert_int_equal(v.problems, 0);
    bkp_verify_result_clear(&v);
}

static void reopen(ops_repo *o)
{
    bkp_repo_free(o->r);
    o->r = NULL;
    assert_int_equal(bkp_repo_open(o->repo, OPS_PASS, strlen(OPS_PASS), 0, &o->r), 0);
}

static int setup(void **state)
{
    ops_repo *o = calloc(1, sizeof(*o));
    if (!o || ops_repo_new(o, "recomp", policy_text))
        return -1;
    *state = o;
    return 0;
}

static int teardown(void **state)
{
    ops_repo_free(*state);
    free(*state);
    return 0;
}

static void test_lz4_rewritten(void **state)
{
    ops_repo *o = *state;
    bkp_gen *g[2] = {capture(o, 0, BKP_COMP_LZ4_1), capture(o, 1, BKP_COMP_LZ4_1)};
    tally before = count_kinds(o->r);
    assert_true(before.lz4 > 0);
    assert_int_equal(before.zstd, 0);

    static char names0[1 << 16], names1[1 << 16];
    uint64_t size0 = packs_size(o->repo, names0, sizeof(names0));
    bkp_prune_result res;
    assert_int_equal(
        bkp_prune(o->r, NULL, 0, (bkp_prune_how){.dry_run = true, .recompress = true}, &res), 0);
    assert_true(res.packs_recompressed > 0);
    assert_int_equal(res.packs_lz4_left, 0);
    assert_true(res.bytes_recompressed > 0);
    assert_int_equal(packs_size(o->repo, names1, sizeof(names1)), size0);
    assert_string_equal(names0, names1);

    uint64_t planned = res.packs_recompressed;
    assert_int_equal(bkp_prune(o->r, NULL, 0, (bkp_prune_how){.recompress = true}, &res), 0);
    assert_int_equal(res.packs_recompressed, planned);
    assert_int_equal(res.packs, 0);
    reopen(o);
    tally after = count_kinds(o->r);
    assert_int_equal(after.lz4, 0);
    assert_true(after.zstd > 0);
    assert_int_equal(after.lz4 + after.zstd + after.stored,
                     before.lz4 + before.zstd + before.stored);
    uint64_t size1 = packs_size(o->repo, names1, sizeof(names1));
    assert_true(size1 < size0);
    /* What it says it freed: the blobs' bytes, without the new packs'
     * trailers. */
    assert_true(res.bytes <= size0 - size1 + 4096 * planned &&
                res.bytes + 4096 * planned >= size0 - size1);
    verify_clean(o->r);

    /* Nothing left to do, and nothing done. */
    assert_int_equal(bkp_prune(o->r, NULL, 0, (bkp_prune_how){.recompress = true}, &res), 0);
    assert_int_equal(res.packs_recompressed, 0);
    assert_int_equal(res.packs_lz4_left, 0);
    assert_int_equal(packs_size(o->repo, names0, sizeof(names0)), size1);
    bkp_gen_free(g[0]);
    bkp_gen_free(g[1]);
}

static void test_zstd_left_alone(void **state)
{
    ops_repo *o = *state;
    bkp_gen *g = capture(o, 0, (bkp_comp){.kind = BKP_COMP_ZSTD, .level = 3});
    static char names0[1 << 16], names1[1 << 16];
    uint64_t size0 = packs_size(o->repo, names0, sizeof(names0));
    bkp_prune_result res;
    assert_int_equal(bkp_prune(o->r, NULL, 0, (bkp_prune_how){.recompress = true}, &res), 0);
    assert_int_equal(res.packs_recompressed, 0);
    assert_int_equal(packs_size(o->repo, names1, sizeof(names1)), size0);
    assert_string_equal(names0, names1);
    bkp_gen_free(g);
}

/* A pack's first blob damaged: whether the plan read it (then it
 * recompresses nothing, said) or the repack did (then the prune stops), no
 * pack is deleted (new ones a repack wrote before it stopped may stay: the
 * next open indexes them, and a later prune deletes what none serves). */
static void test_damage_stops_the_plan(void **state)
{
    ops_repo *o = *state;
    bkp_gen *g = capture(o, 0, BKP_COMP_LZ4_1);
    static char names0[1 << 16], names1[1 << 16];
    uint64_t size0 = packs_size(o->repo, names0, sizeof(names0));
    char dir[256], path[600];
    snprintf(dir, sizeof(dir), "%s/packs/%.2s", o->repo, names0);
    snprintf(path, sizeof(path), "%s/%.64s", dir, names0);
    assert_int_equal(test_flip_byte(path, 40, 0x10), 0);
    bkp_prune_result res;
    int rc = bkp_prune(o->r, NULL, 0, (bkp_prune_how){.recompress = true}, &res);
    assert_true(rc != 0 || res.packs_recompressed == 0);
    assert_true(packs_size(o->repo, names1, sizeof(names1)) >= size0);
    for (size_t i = 0; names0[i]; i += 64) {
        char one[65];
        snprintf(one, sizeof(one), "%.64s", names0 + i);
        assert_non_null(strstr(names1, one));
    }
    bkp_gen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lz4_rewritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_stops_the_plan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
