/*
 * test_repack.c — the repacker (bkp/store/repack.h): blobs read back,
 * sealed by its workers and written in the order they were added, into
 * packs of about BKP_PACK_TARGET bytes that check whole; a blob that cannot
 * be read is said by its add, and what was added before it still lands.
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
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/repack.h"

#include "testutil.h"

#define PASS "a long enough passphrase"
#define NSMALL 3000
#define NLARGE 40

typedef struct fixture {
    char base[64], repo[128], out[160];
    bkp_repo *r;
    uint8_t (*ids)[BKP_ID_LEN];
    size_t nids;
    /* What the repacker handed over, in order. */
    uint8_t (*got)[BKP_ID_LEN];
    size_t ngot, npacks;
} fixture;

static int done(const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *e, uint32_t n, void *ctx)
{
    fixture *f = ctx;
    /* Durable and whole before it is handed over. */
    char *path = bkp_pack_path(f->out, id);
    assert_non_null(path);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *bytes = malloc((size_t)st.st_size);
    assert_int_equal(pread(fd, bytes, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    bkp_pack_entry *list = NULL;
    uint32_t count = 0;
    assert_int_equal(bkp_pack_check(bkp_repo_keys(f->r), bytes, (uint64_t)st.st_size, id, &list, &count), 0);
    assert_int_equal(count, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_memory_equal(list[i].id, e[i].id, BKP_ID_LEN);
        assert_int_equal(list[i].offset, e[i].offset);
        memcpy(f->got[f->ngot++], e[i].id, BKP_ID_LEN);
    }
    free(list);
    free(bytes);
    free(path);
    f->npacks++;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_true(sodium_init() >= 0);
    snprintf(f->base, sizeof(f->base), "/tmp/bkp-test-repack-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    snprintf(f->out, sizeof(f->out), "%s/out", f->base);
    assert_int_equal(mkdir(f->out, 0700), 0);
    assert_int_equal(bkp_repo_init(f->repo, PASS, strlen(PASS)), 0);
    assert_int_equal(bkp_repo_open(f->repo, PASS, strlen(PASS), 0, &f->r), 0);
    /* Many small blobs (a worker per blob would wait on each) and some of
     * a megabyte, text that compresses. */
    f->ids = calloc(NSMALL + NLARGE, BKP_ID_LEN);
    f->got = calloc(NSMALL + NLARGE, BKP_ID_LEN);
    assert_non_null(f->ids);
    assert_non_null(f->got);
    char *text = malloc(1 << 20);
    assert_non_null(text);
    for (size_t i = 0; i < NSMALL + NLARGE; i++) {
        /* A large one among every 75, so the ring turns over while the
         * workers are still sealing one. */
        size_t len = i % 75 == 74 ? (1 << 20) - i : 100 + i % 900;
        for (size_t k = 0; k < len; k++)
            text[k] = (char)('a' + (k * 7 + i) % 26);
        snprintf(text, 32, "blob %zu", i);
        assert_int_equal(bkp_repo_put(f->r, BKP_BLOB_DATA, text, len, f->ids[f->nids++], NULL), 0);
    }
    free(text);
    assert_int_equal(bkp_repo_flush(f->r), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_repo_free(f->r);
    test_rm_rf(f->base);
    free(f->ids);
    free(f->got);
    free(f);
    return 0;
}

static void test_order_and_packs(void **state)
{
    fixture *f = *state;
    bkp_repacker rp = {.repo = f->r, .dir = f->out, .done = done, .ctx = f};
    for (size_t i = 0; i < f->nids; i++)
        assert_int_equal(bkp_repacker_add(&rp, BKP_BLOB_DATA, f->ids[i]), 0);
    assert_int_equal(bkp_repacker_flush(&rp), 0);
    assert_int_equal(f->ngot, f->nids);
    for (size_t i = 0; i < f->nids; i++)
        assert_memory_equal(f->got[i], f->ids[i], BKP_ID_LEN);
    /* About 41 MB of plaintext, text: packs of their size, compressed. */
    assert_true(f->npacks >= 1);
    assert_true(rp.moved > 40u << 20);
    assert_true(rp.written < rp.moved);
    bkp_repacker_free(&rp);
}

static void test_missing_blob(void **state)
{
    fixture *f = *state;
    uint8_t nobody[BKP_ID_LEN];
    memset(nobody, 0x5a, sizeof(nobody));
    bkp_repacker rp = {.repo = f->r, .dir = f->out, .done = done, .ctx = f};
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(bkp_repacker_add(&rp, BKP_BLOB_DATA, f->ids[i]), 0);
    assert_int_equal(bkp_repacker_add(&rp, BKP_BLOB_DATA, nobody), -ENODATA);
    /* What came before it is written whole. */
    assert_int_equal(bkp_repacker_flush(&rp), 0);
    assert_int_equal(f->ngot, 10);
    bkp_repacker_free(&rp);
    /* Freed with blobs in flight and a pack open: nothing left behind but
     * what was finished. */
    bkp_repacker rq = {.repo = f->r, .dir = f->out, .done = done, .ctx = f};
    for (size_t i = 0; i < 500; i++)
        assert_int_equal(bkp_repacker_add(&rq, BKP_BLOB_DATA, f->ids[i]), 0);
    bkp_repacker_free(&rq);
    assert_int_equal(f->ngot, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_packs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_blob, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
