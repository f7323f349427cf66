/*
 * test_gen_record.c — a generation's record read back typed (FORMAT.md §7):
 * the capture's figures, its paths, its tree's item count, the unreadable
 * paths counted, the change-rate guard's verdict; a tombstone's reason and
 * time; the signed text kept for --json, which says the same.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/store/seal.h"
#include "bkp/store/tree.h"

#include "testutil.h"

#define PASS "a long enough passphrase"

typedef struct fixture {
    char base[64], src[128], repo[128];
    bkp_repo *r;
} fixture;

static void put(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_true(sodium_init() >= 0);
    snprintf(f->base, sizeof(f->base), "/tmp/bkp-test-genrec-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->src, sizeof(f->src), "%s/src", f->base);
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    assert_int_equal(mkdir(f->src, 0755), 0);
    put(f->src, "a.txt", "first\n");
    put(f->src, "b.txt", "second, a little longer\n");
    assert_int_equal(bkp_repo_init(f->repo, PASS, strlen(PASS)), 0);
    assert_int_equal(bkp_repo_open(f->repo, PASS, strlen(PASS), 0, &f->r), 0);
    bkp_audit_rec init = {.op = "init"};
    assert_int_equal(bkp_audit_create(f->r, &init), 0);
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

/* Capture the source (and `missing`, a path that is not there) and seal it
 * with `guard`. */
static bkp_gen *seal_at(fixture *f, const bkp_gen_guard *guard, bkp_capture *cap, time_t t)
{
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/gone", f->base);
    const char *paths[] = {f->src, missing};
    bkp_capture_opts o = {.dataset = "emr", .paths = paths, .npaths = 2};
    bkp_gen *g = NULL;
    assert_int_equal(bkp_capture_run(f->r, &o, cap), 0);
    assert_int_equal(bkp_gen_seal(f->r, "emr", cap, t - 1, t, guard, &g), 0);
    return g;
}

static bkp_gen *seal(fixture *f, const bkp_gen_guard *guard, bkp_capture *cap)
{
    return seal_at(f, guard, cap, time(NULL));
}

static void test_record_typed(void **state)
{
    fixture *f = *state;
    bkp_capture cap;
    bkp_gen_guard verdict = {.suspicious = true, .reason = "most files changed", .change = 0.75};
    bkp_gen *g = seal(f, &verdict, &cap);
    const bkp_capture_stats *s = &cap.stats;

    /* What the capture counted is what the record gives back. */
    assert_int_equal(g->stats.files, s->files);
    assert_int_equal(g->stats.files, 2);
    assert_int_equal(g->stats.dirs, s->dirs);
    assert_int_equal(g->stats.bytes, s->bytes);
    assert_int_equal(g->stats.bytes, 6 + 24);
    assert_int_equal(g->stats.bytes_read, s->bytes_read);
    assert_int_equal(g->stats.chunks, s->chunks);
    assert_int_equal(g->stats.chunks_new, s->chunks_new);
    assert_int_equal(g->stats.bytes_new, s->bytes_new);
    assert_int_equal(g->stats.stored_new, s->stored_new);
    assert_int_equal(g->items, cap.tree_items);
    assert_int_equal(g->npaths, 2);
    assert_true(!strcmp(g->paths[0], f->src) || !strcmp(g->paths[1], f->src));
    assert_int_equal(g->nerrors, cap.nerrors);
    assert_int_equal(g->nerrors, 1);
    assert_true(g->suspicious);
    assert_true(bkp_gen_marked(g));

    /* The signed text, for --json, says the same. */
    json_t *j = json_loadb(g->text, g->ntext, 0, NULL);
    assert_non_null(j);
    json_t *st = json_object_get(j, "stats");
    assert_int_equal(json_integer_value(json_object_get(st, "files")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "bytes")), 30);
    json_t *guard = json_object_get(j, "guard");
    assert_true(json_is_true(json_object_get(guard, "suspicious")));
    assert_string_equal(json_string_value(json_object_get(guard, "reason")), "most files changed");
    assert_true(json_real_value(json_object_get(guard, "change")) == 0.75);
    json_decref(j);
    bkp_capture_clear(&cap);
    /* One codec: what was read writes back to the very text that was
     * signed (by this version), and reads again to the same record. */
    char *again = bkp_gen_record_text(g, bkp_repo_uuid(f->r));
    assert_non_null(again);
    assert_int_equal(strlen(again), g->ntext);
    assert_memory_equal(again, g->text, g->ntext);
    bkp_gen g2 = {0};
    assert_int_equal(bkp_gen_record_parse((const uint8_t *)again, strlen(again),
                                          bkp_repo_uuid(f->r), &g2), 0);
    assert_string_equal(g2.guard_reason, "most files changed");
    assert_int_equal(g2.nerrors, 1);
    assert_string_equal(g2.errors[0].path, g->errors[0].path);
    assert_int_equal(g2.tree_version, BKP_TREE_VERSION);
    assert_int_equal(g2.ntree, g->ntree);
    assert_memory_equal(g2.tree, g->tree, g->ntree * BKP_ID_LEN);
    bkp_gen_empty(&g2);
    free(again);

    /* Listed again, from its file: the same figures. */
    bkp_gen **v = NULL;
    size_t n = 0;
    assert_int_equal(bkp_gen_list(f->r, "emr", &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0]->stats.files, 2);
    assert_int_equal(v[0]->nerrors, 1);
    assert_true(v[0]->suspicious);

    /* Without a guard: not judged, not marked; the record has no "guard". */
    bkp_gen *h = seal(f, NULL, &cap);
    assert_false(h->suspicious);
    j = json_loadb(h->text, h->ntext, 0, NULL);
    assert_null(json_object_get(j, "guard"));
    json_decref(j);
    again = bkp_gen_record_text(h, bkp_repo_uuid(f->r));
    assert_non_null(again);
    assert_int_equal(strlen(again), h->ntext);
    assert_memory_equal(again, h->text, h->ntext); /* its prev too */
    free(again);
    bkp_capture_clear(&cap);

    /* A capture time before its predecessor's, without a guard: marked for
     * the time alone, and no "change" that no guard measured. */
    bkp_gen *late = seal_at(f, NULL, &cap, time(NULL) - 3600);
    assert_true(late->suspicious);
    assert_true(late->guarded);
    assert_false(late->judged);
    assert_non_null(late->guard_time);
    j = json_loadb(late->text, late->ntext, 0, NULL);
    json_t *lg = json_object_get(j, "guard");
    assert_null(json_object_get(lg, "change"));
    assert_string_equal(json_string_value(json_object_get(lg, "time")),
                        json_string_value(json_object_get(lg, "reason")));
    json_decref(j);
    again = bkp_gen_record_text(late, bkp_repo_uuid(f->r));
    assert_string_equal(again, late->text);
    free(again);
    bkp_capture_clear(&cap);
    bkp_gen_free(late);

    /* Pruned: its tombstone says why and when. */
    time_t before = time(NULL);
    assert_int_equal(bkp_gen_prune(f->r, v[0]), 0);
    bkp_gen_list_free(v, n);
    assert_int_equal(bkp_gen_list(f->r, "emr", &v, &n), 0);
    assert_int_equal(n, 3);
    assert_true(v[0]->pruned);
    assert_int_equal(v[0]->status, 0);
    assert_string_equal(v[0]->reason, "pruned");
    assert_null(v[0]->medium);
    assert_true(v[0]->pruned_at >= before - 1 && v[0]->pruned_at <= time(NULL) + 1);
    assert_non_null(v[0]->text);
    bkp_gen_list_free(v, n);
    bkp_gen_free(g);
    bkp_gen_free(h);
}

/* A tombstone without a reason, written before media existed: a "pruned"
 * one, which counts anywhere; one whose reason is unknown does not count. */
static void test_tombstone_before_media(void **state)
{
    (void)state;
    static const char old[] =
        "{\"dataset\":\"emr\",\"finished\":\"2026-01-02T03:04:05Z\",\"format\":\"bkp-tombstone\","
        "\"prev\":null,\"pruned\":\"2026-02-03T04:05:06Z\",\"record\":"
        "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"seq\":3,"
        "\"user\":\"root\",\"uuid\":\"6f1c1a52-5d0e-4e43-a1d5-9c3e1e8a0b11\",\"version\":1}";
    for (int on_medium = 0; on_medium < 2; on_medium++) {
        bkp_gen *g = calloc(1, sizeof(*g));
        assert_non_null(g);
        assert_int_equal(bkp_gen_tombstone_parse((const uint8_t *)old, sizeof(old) - 1, "emr", 3,
                                                 on_medium ? "5e0f1d2c-3b4a-4968-8776-a5b4c3d2e1f0"
                                                           : NULL,
                                                 g),
                         0);
        assert_int_equal(g->status, 0);
        assert_string_equal(g->reason, "pruned");
        assert_null(g->medium);
        assert_int_equal(g->pruned_at, 1770091506);
        assert_int_equal(g->ntext, sizeof(old) - 1);
        bkp_gen_free(g);
    }
    char other[sizeof(old) + 32];
    snprintf(other, sizeof(other), "%.*s,\"reason\":\"moved\"}", (int)sizeof(old) - 2, old);
    bkp_gen *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    assert_int_equal(bkp_gen_tombstone_parse((const uint8_t *)other, strlen(other), "emr", 3, NULL, g),
                     -EBADMSG);
    assert_string_equal(g->reason, "moved"); /* said, for verify to name */
    assert_false(g->foreign);
    bkp_gen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_typed, setup, teardown),
        cmocka_unit_test(test_tombstone_before_media),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
