/*
 * test_prune_index.c — the index a prune writes, a segment at a time
 * (bkp/store/prune_index.c), and what a kill in the middle of it leaves.
 *
 * Proves, through a real repository with segments of at most SEG_MAX
 * entries: that after pruning generations whose packs sit in the middle of
 * the index, every blob of every remaining generation is found (and reads
 * back), no blob only the pruned ones had is, the segments hold each entry
 * once and are full but for one (no segment could have taken another
 * pack); and that a prune killed right after its first new segment is
 * durable deletes nothing, the next open drops its intent with every
 * generation whole, and the next prune finishes the job without carrying
 * the doubled segment into the new index.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/seal.h"
#include "bkp/io/durable.h"
#include "bkp/io/log.h"
#include "bkp/store/prune.h"
#include "bkp/store/repo_internal.h"
#include "bkp/store/tree.h"

#include "ops_repo.h"

#define NGEN 6
#define NFILES 9
#define SEG_MAX 24
#define MAX_IDS 512

static const char policy_text[] = OPS_POLICY_HEAD
    "datasets:\n"
    "  - { name: emr, paths: [/srv/emr], schedule: daily 02:00, copy_to: [usb-a] }\n";

typedef struct ids {
    uint8_t v[MAX_IDS][BKP_ID_LEN];
    size_t n;
} ids;

static bool ids_has(const ids *s, const uint8_t id[BKP_ID_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (!memcmp(s->v[i], id, BKP_ID_LEN))
            return true;
    return false;
}

static void ids_add(ids *s, const uint8_t id[BKP_ID_LEN])
{
    if (ids_has(s, id))
        return;
    assert_true(s->n < MAX_IDS);
    memcpy(s->v[s->n++], id, BKP_ID_LEN);
}

typedef struct fixture {
    ops_repo o;
    bkp_gen *g[NGEN];
    ids blobs[NGEN]; /* what each generation needs: its trees and chunks */
} fixture;

/* Every blob generation `g` needs, as prune's mark finds them. */
static void needs(bkp_repo *r, const bkp_gen *g, ids *out)
{
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    int x;
    for (size_t t = 0; t < g->ntree; t++)
        ids_add(out, g->tree + t * BKP_ID_LEN);
    bkp_item_init(&it);
    assert_int_equal(bkp_tree_reader_new(r, g->tree, g->ntree, &tr), 0);
    while ((x = bkp_tree_reader_next(tr, &it)) > 0)
        for (uint32_t k = 0; k < it.nchunks; k++)
            ids_add(out, it.chunks[k].id);
    assert_int_equal(x, 0);
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
}

/* NGEN generations, each with NFILES files of its own (so its own packs),
 * each backup's packs in segments of at most SEG_MAX entries. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(&f->o, "prnidx", policy_text))
        return -1;
    f->o.r->segment_max = SEG_MAX;
    for (int g = 0; g < NGEN; g++) {
        for (int i = 0; i < NFILES; i++) {
            char p[200];
            snprintf(p, sizeof(p), "%s/f%02d", f->o.src, i);
            FILE *x = fopen(p, "w");
            if (!x ||
                fprintf(x, "generation %d, record %d: %u\n", g, i, randombytes_random()) < 0 ||
                fclose(x))
                return -1;
        }
        const char *paths[] = {f->o.src};
        bkp_capture_opts o = {.dataset = "emr", .paths = paths, .npaths = 1, .no_cache = true};
        bkp_capture cap;
        time_t t = bkp_now();
        if (bkp_capture_run(f->o.r, &o, &cap) ||
            bkp_gen_seal(f->o.r, "emr", &cap, t - 1, t, NULL, &f->g[g]))
            return -1;
        bkp_capture_clear(&cap);
        needs(f->o.r, f->g[g], &f->blobs[g]);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int g = 0; g < NGEN; g++)
        bkp_gen_free(f->g[g]);
    ops_repo_free(&f->o);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    bkp_repo_free(f->o.r);
    f->o.r = NULL;
    assert_int_equal(bkp_repo_open(f->o.repo, OPS_PASS, strlen(OPS_PASS), 0, &f->o.r), 0);
    f->o.r->segment_max = SEG_MAX;
}

/* The doomed generations are 2 and 3: their packs' segments are in the
 * middle of the index. */
static bool doomed_gen(int g)
{
    return g == 2 || g == 3;
}

/* Every blob a remaining generation needs is found and reads back; no blob
 * only the pruned generations needed is found. */
static void index_is_what_stays(fixture *f)
{
    ids kept = {0};
    for (int g = 0; g < NGEN; g++)
        if (!doomed_gen(g))
            for (size_t i = 0; i < f->blobs[g].n; i++)
                ids_add(&kept, f->blobs[g].v[i]);
    for (size_t i = 0; i < kept.n; i++) {
        bkp_index_entry e;
        uint8_t pack[BKP_ID_LEN];
        bkp_buf b;
        bkp_buf_init(&b);
        assert_int_equal(bkp_repo_locate(f->o.r, kept.v[i], pack, &e), 0);
        assert_int_equal(bkp_repo_get(f->o.r, e.type, kept.v[i], &b), 0);
        bkp_buf_free(&b);
    }
    size_t gone = 0;
    for (int g = 2; g <= 3; g++)
        for (size_t i = 0; i < f->blobs[g].n; i++) {
            if (ids_has(&kept, f->blobs[g].v[i]))
                continue;
            bkp_index_entry e;
            uint8_t pack[BKP_ID_LEN];
            assert_int_equal(bkp_repo_locate(f->o.r, f->blobs[g].v[i], pack, &e), -ENOENT);
            gone++;
        }
    assert_true(gone >= 2 * NFILES); /* their files' chunks at least */
}

typedef struct seg_count {
    uint64_t entries, biggest_pack;
    uint32_t packs;
} seg_count;

static int count_pack(const uint8_t pack[BKP_ID_LEN], const bkp_pack_entry *e, uint32_t n,
                      void *ctx)
{
    (void)pack;
    (void)e;
    seg_count *c = ctx;
    c->entries += n;
    c->packs++;
    if (n > c->biggest_pack)
        c->biggest_pack = n;
    return 0;
}

/* The segments in index/: how many, their entries each, the largest pack. */
static size_t read_segments(fixture *f, seg_count *each, size_t max, uint64_t *biggest)
{
    char dir[200];
    snprintf(dir, sizeof(dir), "%s/index", f->o.repo);
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    bkp_buf seg;
    bkp_buf_init(&seg);
    *biggest = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 2 * BKP_ID_LEN)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%.64s", dir, e->d_name);
        assert_true(n < max);
        memset(&each[n], 0, sizeof(each[n]));
        assert_int_equal(bkp_read_file(p, &seg, 64 << 20), 0);
        assert_int_equal(
            bkp_index_segment_walk(seg.data, seg.len, bkp_repo_keys(f->o.r), count_pack, &each[n]),
            0);
        if (each[n].biggest_pack > *biggest)
            *biggest = each[n].biggest_pack;
        n++;
    }
    closedir(d);
    bkp_buf_free(&seg);
    return n;
}

/* Each entry once (the segments hold exactly the index's entries), no
 * segment over SEG_MAX but a single pack, and every segment but one so
 * full that the largest pack would not have fit: a segment is written only
 * when the next pack does not fit. */
static void segments_full(fixture *f)
{
    seg_count each[64];
    uint64_t biggest, total = 0;
    size_t n = read_segments(f, each, 64, &biggest), not_full = 0;
    assert_true(n >= 2);
    assert_true(biggest < SEG_MAX / 2);
    for (size_t i = 0; i < n; i++) {
        total += each[i].entries;
        assert_true(each[i].entries <= SEG_MAX || each[i].packs == 1);
        not_full += each[i].entries + biggest <= SEG_MAX;
    }
    assert_true(not_full <= 1);
    assert_int_equal(total, bkp_index_count(bkp_repo_index(f->o.r)));
}

static size_t count_files(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%zu", &n), 1);
    pclose(p);
    return n;
}

static void test_middle_packs_pruned(void **state)
{
    fixture *f = *state;
    char packs[200], index[200];
    snprintf(packs, sizeof(packs), "%s/packs", f->o.repo);
    snprintf(index, sizeof(index), "%s/index", f->o.repo);
    size_t packs_before = count_files(packs), segs_before = count_files(index);
    assert_true(segs_before >= NGEN); /* a segment a backup at least */
    bkp_gen *doomed[] = {f->g[2], f->g[3]};
    bkp_prune_result res;
    assert_int_equal(bkp_prune(f->o.r, doomed, 2, (bkp_prune_how){0}, &res), 0);
    assert_true(res.packs >= 2);
    assert_int_equal(count_files(packs), packs_before - res.packs);
    /* Fewer segments than before: the old ones' packs gathered. */
    assert_true(count_files(index) < segs_before);
    reopen(f);
    index_is_what_stays(f);
    segments_full(f);
}

/* The child's log: the first new segment is durable, and the process
 * dies there, as a kill would leave it. */
static void die_after_segment(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)ctx;
    if (!strncmp(msg, "prune: index segment ", 21))
        _exit(0);
}

static void test_killed_after_first_segment(void **state)
{
    fixture *f = *state;
    char packs[200], index[200], intent[200];
    snprintf(packs, sizeof(packs), "%s/packs", f->o.repo);
    snprintf(index, sizeof(index), "%s/index", f->o.repo);
    snprintf(intent, sizeof(intent), "%s/locks/prune-intent", f->o.repo);
    size_t packs_before = count_files(packs), segs_before = count_files(index);
    bkp_gen *doomed[] = {f->g[2], f->g[3]};
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        bkp_prune_result res;
        bkp_repo *r = NULL;
        if (bkp_repo_open(f->o.repo, OPS_PASS, strlen(OPS_PASS), 0, &r))
            _exit(3);
        r->segment_max = SEG_MAX;
        bkp_log_set_level(BKP_LOG_DEBUG);
        bkp_log_set_sink(die_after_segment, NULL);
        int rc = bkp_prune(r, doomed, 2, (bkp_prune_how){0}, &res);
        _exit(rc ? 2 : 1); /* never reached a new segment */
    }
    int st = 0;
    assert_true(child > 0);
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* Killed: the intent and one new segment beside the old ones; nothing
     * deleted. */
    assert_int_equal(access(intent, F_OK), 0);
    assert_int_equal(count_files(index), segs_before + 1);
    assert_int_equal(count_files(packs), packs_before);

    /* The next open drops the intent; every remaining generation is whole. */
    reopen(f);
    assert_int_equal(access(intent, F_OK), -1);
    assert_int_equal(count_files(packs), packs_before);
    for (int g = 0; g < NGEN; g++)
        for (size_t i = 0; !doomed_gen(g) && i < f->blobs[g].n; i++) {
            bkp_index_entry e;
            uint8_t pack[BKP_ID_LEN];
            assert_int_equal(bkp_repo_locate(f->o.r, f->blobs[g].v[i], pack, &e), 0);
        }

    /* The tombstones were written before the kill: the next prune finds
     * their packs unused and finishes, the doubled segment read once. */
    bkp_prune_result res;
    assert_int_equal(bkp_prune(f->o.r, NULL, 0, (bkp_prune_how){0}, &res), 0);
    assert_true(res.packs >= 2);
    assert_int_equal(access(intent, F_OK), -1);
    reopen(f);
    index_is_what_stays(f);
    segments_full(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {T(test_middle_packs_pruned),
                                       T(test_killed_after_first_segment)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
