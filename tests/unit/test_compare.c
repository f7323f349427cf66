/* Unit tests for restore/compare.c: a restored tree read back against its
 * generation notices a changed byte, a grown file, data written into a hole
 * and a missing file, and a clean tree passes; what else is in the target
 * is named (rst_extra_find). And rst_restore's answer: a
 * restore that meets missing objects runs to its end, returns 0 and counts
 * the damage; one that cannot be done returns a negative errno. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "bkp/store/repo.h"
#include "restore/restore.h"
#include "testutil.h"

static const char PASS[] = "correct horse battery staple";

typedef struct fixture {
    char base[64], src[96], repo[96], target[96];
    bkp_repo *r;
    bkp_gen *g;
} fixture;

static void write_at(const char *path, const void *data, size_t len, off_t off, int oflags)
{
    int fd = open(path, O_WRONLY | O_CREAT | oflags, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static char *at(const fixture *f, const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s%s/%s", f->target, f->src, name);
    return p;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->base, sizeof(f->base), "/tmp/bkp-test-compare-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->src, sizeof(f->src), "%s/src", f->base);
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->target, sizeof(f->target), "%s/target", f->base);
    assert_int_equal(mkdir(f->src, 0755), 0);

    /* A dense file, a small one, and a sparse one: 8 MiB with 64 KiB of data at 4 MiB. */
    static uint8_t buf[300000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    char p[256];
    snprintf(p, sizeof(p), "%s/dense", f->src);
    write_at(p, buf, sizeof(buf), 0, O_TRUNC);
    snprintf(p, sizeof(p), "%s/small", f->src);
    write_at(p, "hello\n", 6, 0, O_TRUNC);
    snprintf(p, sizeof(p), "%s/sparse", f->src);
    write_at(p, buf, 65536, 4 << 20, O_TRUNC);
    assert_int_equal(truncate(p, 8 << 20), 0);

    assert_int_equal(bkp_repo_init(f->repo, PASS, strlen(PASS)), 0);
    assert_int_equal(bkp_repo_open(f->repo, PASS, strlen(PASS), 0, &f->r), 0);
    const char *paths[] = {f->src};
    bkp_capture_opts o = {.dataset = "t", .paths = paths, .npaths = 1};
    bkp_capture cap;
    time_t t0 = time(NULL);
    assert_int_equal(bkp_capture_run(f->r, &o, &cap), 0);
    assert_int_equal(bkp_gen_seal(f->r, "t", &cap, t0, time(NULL), NULL, &f->g), 0);
    bkp_capture_clear(&cap);

    rst_opts ro = {.target = f->target};
    rst_result res;
    assert_int_equal(rst_restore(f->r, f->g, &ro, &res), 0);
    assert_int_equal(res.damaged, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_gen_free(f->g);
    bkp_repo_free(f->r);
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static void compare(fixture *f, uint64_t differ, uint64_t missing)
{
    rst_compared c;
    assert_int_equal(rst_compare(f->r, f->g, f->target, NULL, NULL, &c), 0);
    assert_int_equal(c.files, 3);
    assert_int_equal(c.differ, differ);
    assert_int_equal(c.missing, missing);
}

static void test_clean_tree_passes(void **state)
{
    compare(*state, 0, 0);
}

static void test_changes_are_found(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(at(f, "sparse"), &st), 0);
    /* The restore kept the holes: far fewer blocks than the 8 MiB. */
    assert_true((uint64_t)st.st_blocks * 512 < (1u << 20));

    write_at(at(f, "dense"), "\xff", 1, 123456, 0); /* one byte changed */
    compare(f, 1, 0);
    write_at(at(f, "small"), "!", 1, 6, 0); /* grown by a byte */
    compare(f, 2, 0);
    write_at(at(f, "sparse"), "x", 1, 1 << 20, 0); /* data inside a hole */
    compare(f, 3, 0);
    assert_int_equal(unlink(at(f, "small")), 0); /* gone */
    compare(f, 2, 1);
}

/* What the target holds beyond the generation: a file beside the restored
 * ones, a folder (counted once, not its contents); not one beside the
 * folders a restore only made as parents (the target's root here); a link
 * to a folder is counted, not followed. A deep name keeps its end. A
 * restore of a stored folder's contents (strip) is seen from that folder. */
static void test_extra_names_are_found(void **state)
{
    fixture *f = *state;
    rst_extra x;
    assert_int_equal(rst_extra_find(f->r, f->g, f->target, NULL, &x), 0);
    assert_int_equal(x.n, 0);
    write_at(at(f, "README-LOCKED.txt"), "pay", 3, 0, O_TRUNC);
    char p[600]; /* at() gives up to 511 bytes and a name follows */
    snprintf(p, sizeof(p), "%s/dropped", at(f, ""));
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/dropped/inside", at(f, ""));
    write_at(p, "x", 1, 0, O_TRUNC);
    snprintf(p, sizeof(p), "%s/top", f->target);
    write_at(p, "x", 1, 0, O_TRUNC);
    snprintf(p, sizeof(p), "%s/link", at(f, ""));
    assert_int_equal(symlink("/etc", p), 0);
    assert_int_equal(rst_extra_find(f->r, f->g, f->target, NULL, &x), 0);
    assert_int_equal(x.n, 3);
    bool note = false, dir = false, link = false;
    for (int i = 0; i < RST_EXTRA_NAMED; i++) {
        note |= strstr(x.named[i], "src/README-LOCKED.txt") != NULL;
        dir |= strstr(x.named[i], "src/dropped") != NULL && !strstr(x.named[i], "inside");
        link |= strstr(x.named[i], "src/link") != NULL;
        assert_null(strstr(x.named[i], "top"));
    }
    assert_true(note && dir && link);
    assert_int_equal(unlink(p), 0);
    /* A long path: its end is kept, "…" in front. */
    snprintf(p, sizeof(p), "%s/dropped", at(f, ""));
    test_rm_rf(p);
    assert_int_equal(unlink(at(f, "README-LOCKED.txt")), 0);
    char name[251];
    memset(name, 'n', 240);
    snprintf(name + 240, sizeof(name) - 240, "-LOCK.txt");
    write_at(at(f, name), "x", 1, 0, O_TRUNC);
    assert_int_equal(rst_extra_find(f->r, f->g, f->target, NULL, &x), 0);
    assert_int_equal(x.n, 1);
    assert_int_equal(strncmp(x.named[0], "\xe2\x80\xa6", 3), 0);
    size_t l = strlen(x.named[0]);
    assert_true(l < sizeof(x.named[0]) && l > 9);
    assert_string_equal(x.named[0] + l - 9, "-LOCK.txt");
    assert_int_equal(unlink(at(f, name)), 0);
    /* The stored folder src's contents, restored at a target's root. */
    char strip[128], t2[160];
    snprintf(strip, sizeof(strip), "%s", f->src + 1);
    snprintf(t2, sizeof(t2), "%s/t2", f->base);
    rst_opts ro = {.target = t2, .strip = strip};
    rst_result res;
    assert_int_equal(rst_restore(f->r, f->g, &ro, &res), 0);
    snprintf(p, sizeof(p), "%s/note", t2);
    write_at(p, "x", 1, 0, O_TRUNC);
    assert_int_equal(rst_extra_find(f->r, f->g, t2, strip, &x), 0);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.named[0], "note");
    assert_int_equal(rst_extra_find(f->r, f->g, "/nonexistent-target", NULL, &x), -ENOENT);
}

static void test_zeros_written_into_a_hole_are_the_same_content(void **state)
{
    fixture *f = *state;
    static const uint8_t zeros[4096];
    write_at(at(f, "sparse"), zeros, sizeof(zeros), 6 << 20, 0);
    compare(f, 0, 0);
}

static void test_fifo_in_place_of_a_file_differs_without_blocking(void **state)
{
    fixture *f = *state;
    assert_int_equal(unlink(at(f, "small")), 0);
    assert_int_equal(mkfifo(at(f, "small"), 0644), 0);
    compare(f, 1, 0);
}

static void test_restore_counts_damage_and_returns_errors(void **state)
{
    fixture *f = *state;
    rst_result res;
    char archive[128], target[128], cmd[256];
    /* Cannot be done: the archive file is there, and no force. */
    snprintf(archive, sizeof(archive), "%s/out.tar", f->base);
    write_at(archive, "x", 1, 0, O_TRUNC);
    rst_opts ro = {.to_archive = archive};
    assert_int_equal(rst_restore(f->r, f->g, &ro, &res), -EEXIST);
    /* Every pack gone: the objects are missing, which is damage, counted. */
    snprintf(cmd, sizeof(cmd), "find %s/packs -type f -delete", f->repo);
    assert_int_equal(system(cmd), 0);
    bkp_repo_free(f->r);
    f->r = NULL;
    assert_int_equal(bkp_repo_open(f->repo, PASS, strlen(PASS), 0, &f->r), 0);
    snprintf(target, sizeof(target), "%s/again", f->base);
    ro = (rst_opts){.target = target};
    assert_int_equal(rst_restore(f->r, f->g, &ro, &res), 0);
    assert_true(res.list_damaged || res.damaged > 0);
    assert_int_equal(res.files, 0);
}

int main(void)
{
    bkp_log_set_level(BKP_LOG_ERROR);
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_tree_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_are_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_names_are_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeros_written_into_a_hole_are_the_same_content, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fifo_in_place_of_a_file_differs_without_blocking,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_counts_damage_and_returns_errors, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
