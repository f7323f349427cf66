/*
 * test_tree_writer.c — the tree writer stores the blobs one pass of the
 * chunker over the whole item stream gives (bkp/store/tree.h, FORMAT.md §6, §9).
 *
 * The writer cuts and stores in a thread of its own, handed the stream in
 * pieces: proves, on a real repository and a stream of about 20 MB (many
 * pieces, several blobs), that its blob IDs are exactly those of the stream
 * encoded whole and cut in one pass, that the items read back in order, that
 * an empty stream is one blob of the version alone, and that a writer dropped
 * before its end stops without hanging. A stream of version 1, as bkp wrote
 * it before, reads back with its stored hashes checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/chunker.h"
#include "bkp/store/tree.h"

#include "testutil.h"
#include "tree_util.h"

#define PASS "a long enough passphrase"
#define NITEMS 80000

static struct {
    char base[64], repo[128];
    bkp_repo *r;
} g;

static int group_setup(void **state)
{
    (void)state;
    strcpy(g.base, "/tmp/bkp-test-treew-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(g.base))
        return -1;
    snprintf(g.repo, sizeof(g.repo), "%s/repo", g.base);
    if (bkp_repo_init(g.repo, PASS, sizeof(PASS) - 1) != 0 ||
        bkp_repo_open(g.repo, PASS, sizeof(PASS) - 1, 0, &g.r) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    bkp_repo_free(g.r);
    test_rm_rf(g.base);
    return 0;
}

/* Item `i`: a file with a long, varied path and one chunk. */
static void make_item(uint32_t i, bkp_item *it)
{
    char path[400];
    bkp_item_init(it);
    it->entry = archive_entry_new();
    assert_non_null(it->entry);
    snprintf(path, sizeof(path), "data/patients/P%06u/visit-%u/%0*u-scan.dcm", i / 50, i % 7,
             (int)(i % 200) + 1, i);
    archive_entry_copy_pathname(it->entry, path);
    archive_entry_set_mode(it->entry, AE_IFREG | 0640);
    archive_entry_set_size(it->entry, 1000 + i);
    archive_entry_set_mtime(it->entry, 1600000000 + i, i);
    it->nchunks = 1;
    it->chunks = calloc(1, sizeof(*it->chunks));
    assert_non_null(it->chunks);
    for (uint32_t k = 0; k < BKP_ID_LEN; k++)
        it->chunks[0].id[k] = (uint8_t)(i * 7 + k);
    it->chunks[0].len = 1000 + i;
}

/* The blob IDs of `stream` cut in one pass, as FORMAT.md §9 says. */
static void cut_whole(const bkp_buf *stream, bkp_buf *ids)
{
    const bkp_chunker *c = bkp_repo_chunker(g.r);
    size_t pos = 0;
    while (pos < stream->len) {
        size_t cut = bkp_chunker_cut(c, stream->data + pos, stream->len - pos, true);
        uint8_t id[BKP_ID_LEN];
        assert_true(cut > 0);
        assert_int_equal(bkp_repo_put(g.r, BKP_BLOB_TREE, stream->data + pos, cut, id, NULL), 0);
        bkp_buf_put(ids, id, BKP_ID_LEN);
        pos += cut;
    }
}

static void same_blobs_as_one_pass(void **state)
{
    (void)state;
    bkp_tree_writer *w = NULL;
    bkp_buf stream, want, got;
    bkp_buf_init(&stream);
    bkp_buf_init(&want);
    bkp_buf_init(&got);
    bkp_buf_u32(&stream, BKP_TREE_VERSION);
    assert_int_equal(bkp_tree_writer_new(g.r, (bkp_comp){0}, &w), 0);
    for (uint32_t i = 0; i < NITEMS; i++) {
        bkp_item it;
        make_item(i, &it);
        assert_int_equal(bkp_item_encode(&it, &stream), 0);
        assert_int_equal(bkp_tree_writer_add(w, &it), 0);
        bkp_item_clear(&it);
    }
    uint64_t items = 0, bytes = 0;
    assert_int_equal(bkp_tree_writer_finish(w, &got, &items, &bytes), 0);
    assert_int_equal(items, NITEMS);
    assert_int_equal(bytes, stream.len);
    /* Many pieces handed over, and cuts made before the end. */
    assert_true(stream.len > 3 * (size_t)bkp_chunker_max(bkp_repo_chunker(g.r)));
    cut_whole(&stream, &want);
    assert_true(want.len / BKP_ID_LEN >= 4);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);

    /* And the items read back, in order (once their packs are written). */
    assert_int_equal(bkp_repo_flush(g.r), 0);
    bkp_tree_reader *tr = NULL;
    assert_int_equal(bkp_tree_reader_new(g.r, got.data, got.len / BKP_ID_LEN, &tr), 0);
    bkp_item it, ref;
    bkp_item_init(&it);
    uint32_t n = 0;
    int rc;
    while ((rc = bkp_tree_reader_next(tr, &it)) > 0) {
        make_item(n, &ref);
        assert_string_equal(archive_entry_pathname(it.entry), archive_entry_pathname(ref.entry));
        assert_int_equal(it.chunks[0].len, ref.chunks[0].len);
        /* Not stored (version 2): the reader computes it. */
        bkp_item_content_hash(bkp_repo_keys(g.r), 1000 + n, ref.chunks, 1, ref.content);
        assert_memory_equal(it.content, ref.content, BKP_ID_LEN);
        bkp_item_clear(&ref);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, NITEMS);
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    bkp_buf_free(&stream);
    bkp_buf_free(&want);
    bkp_buf_free(&got);
}

static void empty_and_dropped(void **state)
{
    (void)state;
    bkp_tree_writer *w = NULL;
    bkp_buf got, stream, want;
    bkp_buf_init(&got);
    bkp_buf_init(&stream);
    bkp_buf_init(&want);
    uint64_t items = 1, bytes = 0;
    assert_int_equal(bkp_tree_writer_new(g.r, (bkp_comp){0}, &w), 0);
    assert_int_equal(bkp_tree_writer_finish(w, &got, &items, &bytes), 0);
    assert_int_equal(items, 0);
    assert_int_equal(bytes, 4);
    bkp_buf_u32(&stream, BKP_TREE_VERSION);
    cut_whole(&stream, &want);
    assert_int_equal(got.len, BKP_ID_LEN);
    assert_memory_equal(got.data, want.data, BKP_ID_LEN);

    /* Dropped at once, and dropped with pieces handed over. */
    assert_int_equal(bkp_tree_writer_new(g.r, (bkp_comp){0}, &w), 0);
    bkp_tree_writer_free(w);
    assert_int_equal(bkp_tree_writer_new(g.r, (bkp_comp){0}, &w), 0);
    for (uint32_t i = 0; i < NITEMS / 4; i++) {
        bkp_item it;
        make_item(i, &it);
        assert_int_equal(bkp_tree_writer_add(w, &it), 0);
        bkp_item_clear(&it);
    }
    bkp_tree_writer_free(w);
    bkp_tree_writer_free(NULL);
    bkp_buf_free(&got);
    bkp_buf_free(&stream);
    bkp_buf_free(&want);
}

/* Read a stream of `n` items of version 1, item `bad` (if below n) with a
 * content hash that does not match its chunks: the reader's result; every
 * item reads, the bad one marked. */
static int read_version_1(uint32_t n, uint32_t bad)
{
    bkp_buf stream, ids;
    bkp_buf_init(&stream);
    bkp_buf_init(&ids);
    bkp_buf_u32(&stream, 1);
    for (uint32_t i = 0; i < n; i++) {
        bkp_item it;
        bkp_buf rec;
        bkp_buf_init(&rec);
        make_item(i, &it);
        bkp_item_content_hash(bkp_repo_keys(g.r), 1000 + i, it.chunks, 1, it.content);
        it.content[0] ^= i == bad;
        assert_int_equal(bkp_item_encode(&it, &rec), 0);
        tree_record_as_version_1(&it, &rec);
        bkp_buf_put(&stream, rec.data, rec.len);
        bkp_buf_free(&rec);
        bkp_item_clear(&it);
    }
    cut_whole(&stream, &ids);
    assert_int_equal(bkp_repo_flush(g.r), 0);
    bkp_tree_reader *tr = NULL;
    assert_int_equal(bkp_tree_reader_new(g.r, ids.data, ids.len / BKP_ID_LEN, &tr), 0);
    bkp_item it, ref;
    bkp_item_init(&it);
    uint32_t got = 0;
    int rc;
    while ((rc = bkp_tree_reader_next(tr, &it)) > 0) {
        make_item(got, &ref);
        bkp_item_content_hash(bkp_repo_keys(g.r), 1000 + got, ref.chunks, 1, ref.content);
        assert_string_equal(archive_entry_pathname(it.entry), archive_entry_pathname(ref.entry));
        assert_memory_equal(it.content, ref.content, BKP_ID_LEN);
        assert_int_equal(it.content_bad, got == bad);
        bkp_item_clear(&ref);
        got++;
    }
    assert_int_equal(got, n);
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    bkp_buf_free(&stream);
    bkp_buf_free(&ids);
    return rc;
}

static void version_1_read(void **state)
{
    (void)state;
    assert_int_equal(read_version_1(3000, UINT32_MAX), 0);
    /* A stored hash that its chunks do not give: that file is damaged, the
     * generation reads on. */
    assert_int_equal(read_version_1(3000, 1234), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_blobs_as_one_pass),
        cmocka_unit_test(empty_and_dropped),
        cmocka_unit_test(version_1_read),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
