/*
 * test_tree.c — item records of a generation's item stream (bkp/store/tree.h).
 *
 * Proves that every piece of metadata a restore needs survives an
 * encode/decode round trip exactly — awkward paths (newline, non-UTF-8
 * bytes), owners, nanosecond times, symlink and hard-link targets, binary
 * extended attributes, the sparse map and the chunk list — that a truncated
 * record or one with trailing bytes is refused with -EBADMSG, and that the
 * content hash changes with any chunk ID, chunk length or the file size.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/tree.h"

#include "tree_util.h"

static const char path_weird[] = "home/\xff\xfe latin1 caf\xe9/new\nline\ttab";
static const uint8_t bin_value[] = {0, 1, 0, 0xff, 'x', 0};
static const char label[] = "system_u:object_r:user_home_t:s0"; /* stored with its NUL */
static const uint64_t sparse[] = {0, 4096, 1U << 20, 8192, 3U << 20, 1};

static const uint8_t repo_id[16] = "tree-test-repo";

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void make_file_item(bkp_item *it)
{
    bkp_item_init(it);
    struct archive_entry *e = it->entry = archive_entry_new();
    assert_non_null(e);
    archive_entry_copy_pathname(e, path_weird);
    archive_entry_set_mode(e, AE_IFREG | 04750);
    archive_entry_set_uid(e, 4000000001LL);
    archive_entry_set_gid(e, 70000);
    archive_entry_copy_uname(e, "alice");
    archive_entry_copy_gname(e, "staff");
    archive_entry_set_mtime(e, 1700000000, 123456789);
    archive_entry_set_ctime(e, 1700000001, 999999999);
    archive_entry_set_size(e, (3 << 20) + 1);
    archive_entry_xattr_add_entry(e, "user.binary", bin_value, sizeof(bin_value));
    archive_entry_xattr_add_entry(e, "security.selinux", label, sizeof(label));
    archive_entry_xattr_add_entry(e, "user.empty", "", 0);

    it->nsparse = 3;
    it->sparse = malloc(sizeof(sparse));
    assert_non_null(it->sparse);
    memcpy(it->sparse, sparse, sizeof(sparse));
    it->nchunks = 3;
    it->chunks = calloc(3, sizeof(*it->chunks));
    assert_non_null(it->chunks);
    for (uint32_t i = 0; i < 3; i++) {
        randombytes_buf(it->chunks[i].id, BKP_ID_LEN);
        it->chunks[i].len = 4096 + i;
    }
    randombytes_buf(it->content, BKP_ID_LEN);
}

static void encode(const bkp_item *it, bkp_buf *out)
{
    bkp_buf_init(out);
    assert_int_equal(bkp_item_encode(it, out), 0);
    /* A u32 length prefix, then the body. */
    assert_true(out->len > 4);
    assert_int_equal(bkp_get_le32(out->data), out->len - 4);
}

/* `name` is among the entry's xattrs with exactly this value. */
static void assert_xattr(struct archive_entry *e, const char *want, const void *val, size_t len)
{
    const char *name;
    const void *value;
    size_t vlen;
    int found = 0;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &vlen) == ARCHIVE_OK) {
        if (strcmp(name, want) != 0)
            continue;
        found++;
        assert_int_equal(vlen, len);
        if (len)
            assert_memory_equal(value, val, len);
    }
    assert_int_equal(found, 1);
}

/* The entry's xattr names in iteration order, joined with ','. */
static void xattr_names(struct archive_entry *e, char *out, size_t cap)
{
    const char *name;
    const void *value;
    size_t vlen;
    out[0] = '\0';
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &vlen) == ARCHIVE_OK) {
        strncat(out, name, cap - strlen(out) - 2);
        strcat(out, ",");
    }
}

static void test_file_round_trip(void **state)
{
    (void)state;
    bkp_item a, b;
    bkp_buf rec;
    make_file_item(&a);
    encode(&a, &rec);
    bkp_item_init(&b);
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, BKP_TREE_VERSION, &b), 0);

    struct archive_entry *e = b.entry;
    assert_non_null(e);
    assert_string_equal(archive_entry_pathname(e), path_weird);
    assert_int_equal(archive_entry_mode(e), AE_IFREG | 04750);
    assert_int_equal(archive_entry_uid(e), 4000000001LL);
    assert_int_equal(archive_entry_gid(e), 70000);
    assert_string_equal(archive_entry_uname(e), "alice");
    assert_string_equal(archive_entry_gname(e), "staff");
    assert_true(archive_entry_mtime_is_set(e));
    assert_int_equal(archive_entry_mtime(e), 1700000000);
    assert_int_equal(archive_entry_mtime_nsec(e), 123456789);
    assert_true(archive_entry_ctime_is_set(e));
    assert_int_equal(archive_entry_ctime_nsec(e), 999999999);
    /* What was not set stays unset (a restore must not invent an atime). */
    assert_false(archive_entry_atime_is_set(e));
    assert_false(archive_entry_birthtime_is_set(e));
    assert_int_equal(archive_entry_size(e), (3 << 20) + 1);
    assert_null(archive_entry_symlink(e));
    assert_null(archive_entry_hardlink(e));

    /* Extended attributes: same names, same bytes (NULs included). */
    assert_int_equal(archive_entry_xattr_reset(e), 3);
    assert_xattr(e, "user.binary", bin_value, sizeof(bin_value));
    assert_xattr(e, "security.selinux", label, sizeof(label));
    assert_xattr(e, "user.empty", "", 0);

    assert_int_equal(b.nsparse, 3);
    assert_memory_equal(b.sparse, sparse, sizeof(sparse));
    assert_int_equal(b.nchunks, 3);
    assert_memory_equal(b.chunks, a.chunks, 3 * sizeof(*a.chunks));
    /* Version 2 does not store the content hash: the tree reader computes it. */
    static const uint8_t zero[BKP_ID_LEN];
    assert_memory_equal(b.content, zero, BKP_ID_LEN);
    assert_true(bkp_item_has_content(&b));

    bkp_buf_free(&rec);
    bkp_item_clear(&a);
    bkp_item_clear(&b);
}

static void test_version_1_read(void **state)
{
    (void)state;
    bkp_item a, b;
    bkp_buf rec;
    make_file_item(&a);
    encode(&a, &rec);
    bkp_buf v2 = rec;
    bkp_buf_init(&rec);
    bkp_buf_put(&rec, v2.data, v2.len);
    tree_record_as_version_1(&a, &rec);
    bkp_item_init(&b);
    /* Its stored hash is read as it stands; the same chunks as version 2. */
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, 1, &b), 0);
    assert_memory_equal(b.content, a.content, BKP_ID_LEN);
    assert_int_equal(b.nchunks, 3);
    assert_memory_equal(b.chunks, a.chunks, 3 * sizeof(*a.chunks));
    /* Each version's record is refused under the other, and an unknown version. */
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, 2, &b), -EBADMSG);
    assert_int_equal(bkp_item_decode(v2.data + 4, v2.len - 4, 1, &b), -EBADMSG);
    assert_int_equal(bkp_item_decode(v2.data + 4, v2.len - 4, 3, &b), -EPROTO);
    assert_int_equal(bkp_item_decode(v2.data + 4, v2.len - 4, 0, &b), -EPROTO);
    bkp_buf_free(&rec);
    bkp_buf_free(&v2);
    bkp_item_clear(&a);
    bkp_item_clear(&b);
}

static void test_xattr_order_kept(void **state)
{
    (void)state;
    /* Decoding keeps the encoded order of xattrs, so a restore sets them in
     * the order they were captured and a re-encoded item has the same bytes. */
    bkp_item a, b;
    bkp_buf rec;
    char before[256], after[256];
    make_file_item(&a);
    encode(&a, &rec);
    bkp_item_init(&b);
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, BKP_TREE_VERSION, &b), 0);
    xattr_names(a.entry, before, sizeof(before));
    xattr_names(b.entry, after, sizeof(after));
    assert_string_equal(after, before);
    bkp_buf_free(&rec);
    bkp_item_clear(&a);
    bkp_item_clear(&b);
}

static void test_links_round_trip(void **state)
{
    (void)state;
    bkp_item a, b;
    bkp_buf rec;
    bkp_item_init(&b);

    /* A symlink whose target has a newline and a non-UTF-8 byte. */
    bkp_item_init(&a);
    a.entry = archive_entry_new();
    archive_entry_copy_pathname(a.entry, "etc/link");
    archive_entry_set_mode(a.entry, AE_IFLNK | 0777);
    archive_entry_copy_symlink(a.entry, "../target\n\xfe");
    archive_entry_set_mtime(a.entry, -1, 5); /* before 1970 */
    encode(&a, &rec);
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, BKP_TREE_VERSION, &b), 0);
    assert_int_equal(archive_entry_filetype(b.entry), AE_IFLNK);
    assert_string_equal(archive_entry_symlink(b.entry), "../target\n\xfe");
    assert_null(archive_entry_hardlink(b.entry));
    assert_int_equal(archive_entry_mtime(b.entry), -1);
    assert_int_equal(archive_entry_mtime_nsec(b.entry), 5);
    assert_int_equal(b.nchunks, 0);
    assert_int_equal(b.nsparse, 0);
    bkp_item_clear(&a);
    bkp_buf_free(&rec);

    /* A hard link: its target is a hard link, not a symlink, after decoding. */
    bkp_item_init(&a);
    a.entry = archive_entry_new();
    archive_entry_copy_pathname(a.entry, "data/second-name");
    archive_entry_set_mode(a.entry, AE_IFREG | 0644);
    archive_entry_copy_hardlink(a.entry, "data/first-name");
    encode(&a, &rec);
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, BKP_TREE_VERSION, &b), 0);
    assert_string_equal(archive_entry_hardlink(b.entry), "data/first-name");
    assert_null(archive_entry_symlink(b.entry));
    bkp_item_clear(&a);
    bkp_item_clear(&b);
    bkp_buf_free(&rec);
}

static void test_truncated_or_trailing_refused(void **state)
{
    (void)state;
    bkp_item a, b;
    bkp_buf rec;
    make_file_item(&a);
    encode(&a, &rec);
    const uint8_t *body = rec.data + 4;
    size_t len = rec.len - 4;
    bkp_item_init(&b);
    /* Cut at every possible length: never accepted, never a crash. */
    for (size_t n = 0; n < len; n++) {
        int r = bkp_item_decode(body, n, BKP_TREE_VERSION, &b);
        if (r != -EBADMSG)
            fail_msg("record cut to %zu of %zu bytes: decode returned %d", n, len, r);
    }
    /* Trailing bytes. */
    bkp_buf_u8(&rec, 0);
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, BKP_TREE_VERSION, &b), -EBADMSG);
    bkp_buf_put(&rec, "more", 4);
    assert_int_equal(bkp_item_decode(rec.data + 4, rec.len - 4, BKP_TREE_VERSION, &b), -EBADMSG);
    /* Control: the exact record decodes. */
    assert_int_equal(bkp_item_decode(rec.data + 4, len, BKP_TREE_VERSION, &b), 0);
    assert_int_equal(b.nchunks, 3);
    bkp_item_clear(&a);
    bkp_item_clear(&b);
    bkp_buf_free(&rec);
}

static void test_content_hash(void **state)
{
    (void)state;
    bkp_keys *k = NULL, *other = NULL;
    bkp_chunk_ref c[3], m[3];
    uint8_t base[BKP_ID_LEN], h[BKP_ID_LEN];
    const uint64_t size = 3 * 4096 + 3;
    assert_int_equal(bkp_keys_generate(repo_id, &k), 0);
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    for (int i = 0; i < 3; i++) {
        randombytes_buf(c[i].id, BKP_ID_LEN);
        c[i].len = 4096 + (uint32_t)i;
    }
    bkp_item_content_hash(k, size, c, 3, base);
    bkp_item_content_hash(k, size, c, 3, h);
    assert_memory_equal(base, h, BKP_ID_LEN); /* deterministic */

    for (int i = 0; i < 3; i++) {
        for (int byte = 0; byte < BKP_ID_LEN; byte += 31) { /* first and last byte */
            memcpy(m, c, sizeof(c));
            m[i].id[byte] ^= 1;
            bkp_item_content_hash(k, size, m, 3, h);
            assert_memory_not_equal(base, h, BKP_ID_LEN);
        }
        memcpy(m, c, sizeof(c));
        m[i].len++;
        bkp_item_content_hash(k, size, m, 3, h);
        assert_memory_not_equal(base, h, BKP_ID_LEN);
    }
    bkp_item_content_hash(k, size + 1, c, 3, h);
    assert_memory_not_equal(base, h, BKP_ID_LEN);
    bkp_item_content_hash(k, size, c, 2, h); /* a chunk dropped */
    assert_memory_not_equal(base, h, BKP_ID_LEN);
    memcpy(m, c, sizeof(c)); /* two chunks swapped */
    m[0] = c[1];
    m[1] = c[0];
    bkp_item_content_hash(k, size, m, 3, h);
    assert_memory_not_equal(base, h, BKP_ID_LEN);
    bkp_item_content_hash(other, size, c, 3, h); /* keyed per repository */
    assert_memory_not_equal(base, h, BKP_ID_LEN);
    bkp_keys_free(k);
    bkp_keys_free(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, setup)
    const struct CMUnitTest tests[] = {
        T(test_file_round_trip),  T(test_xattr_order_kept),
        T(test_links_round_trip), T(test_truncated_or_trailing_refused),
        T(test_content_hash),     T(test_version_1_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
