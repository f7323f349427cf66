/*
 * test_pack.c — pack files (bkp/store/pack.h).
 *
 * Proves that a finished pack is published under packs/XX/ID where ID is the
 * BLAKE2b-256 of its bytes, read-only, with a trailer that lists exactly the
 * blobs written (each readable at its offset); that a truncated pack or a
 * damaged trailer is refused with -EBADMSG; and that neither finishing nor
 * aborting leaves a temporary file behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "bkp/io/durable.h"
#include "bkp/store/pack.h"

#include "testutil.h"

#define NBLOBS 5

static const uint8_t repo_id[16] = "pack-test-repo";

typedef struct fixture {
    bkp_keys *k;
    char dir[64];
    uint8_t *plain[NBLOBS];
    size_t plen[NBLOBS];
    uint8_t ids[NBLOBS][BKP_ID_LEN];
    uint64_t offs[NBLOBS];
    uint32_t slen[NBLOBS];
} fixture;

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    strcpy(f->dir, "/tmp/bkp-test-pack-XXXXXX");
    if (sodium_init() < 0 || bkp_keys_generate(repo_id, &f->k) || !mkdtemp(f->dir))
        return teardown(state), -1;
    for (int i = 0; i < NBLOBS; i++) {
        f->plen[i] = (size_t)(i * 40000 + 1);
        f->plain[i] = malloc(f->plen[i]);
        if (!f->plain[i])
            return teardown(state), -1;
        if (i % 2)
            randombytes_buf(f->plain[i], f->plen[i]);
        else
            memset(f->plain[i], 'a' + i, f->plen[i]);
        bkp_blob_id(f->k, f->plain[i], f->plen[i], f->ids[i]);
    }
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->dir);
    for (int i = 0; i < NBLOBS; i++)
        free(f->plain[i]);
    bkp_keys_free(f->k);
    free(f);
    return 0;
}

/* Write all blobs into a finished pack; returns its ID. */
static void write_pack(fixture *f, uint8_t id[BKP_ID_LEN])
{
    bkp_pack_writer *w = NULL;
    bkp_buf sealed;
    bkp_buf_init(&sealed);
    assert_int_equal(bkp_pack_writer_open(f->dir, &w), 0);
    assert_int_equal(bkp_pack_writer_size(w), 8);
    for (int i = 0; i < NBLOBS; i++) {
        bkp_buf_reset(&sealed);
        assert_int_equal(
            bkp_blob_seal(f->k, BKP_BLOB_DATA, f->ids[i], f->plain[i], f->plen[i], BKP_COMP_LZ4_1, &sealed), 0);
        uint64_t before = bkp_pack_writer_size(w);
        assert_int_equal(bkp_pack_writer_add(w, BKP_BLOB_DATA, f->ids[i], sealed.data, sealed.len,
                                             (uint32_t)f->plen[i], &f->offs[i]),
                         0);
        assert_int_equal(f->offs[i], before);
        assert_int_equal(bkp_pack_writer_size(w), before + sealed.len);
        f->slen[i] = (uint32_t)sealed.len;
    }
    assert_int_equal(bkp_pack_writer_finish(w, f->k, id), 0);
    bkp_buf_free(&sealed);
}

static void read_all(const char *path, bkp_buf *out)
{
    assert_int_equal(bkp_read_file(path, out, 1U << 30), 0);
}

/* Names in `dir` other than "." and "..", and how many start with ".tmp-". */
static int count_entries(const char *dir, int *tmps)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    *tmps = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (!strncmp(e->d_name, ".tmp-", 5))
            (*tmps)++;
    }
    closedir(d);
    return n;
}

static void test_finished_pack(void **state)
{
    fixture *f = *state;
    uint8_t id[BKP_ID_LEN], hash[BKP_ID_LEN];
    char hex[2 * BKP_ID_LEN + 1], want[256];
    struct stat st;
    bkp_buf file;
    bkp_buf_init(&file);
    write_pack(f, id);

    char *path = bkp_pack_path(f->dir, id);
    assert_non_null(path);
    bkp_hex(hex, id, BKP_ID_LEN);
    snprintf(want, sizeof(want), "%s/%.2s/%s", f->dir, hex, hex);
    assert_string_equal(path, want);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0444);

    /* Named by the unkeyed BLAKE2b-256 of its trailer section. */
    read_all(path, &file);
    assert_int_equal(file.len, (size_t)st.st_size);
    uint32_t tlen = bkp_get_le32(file.data + file.len - 12);
    crypto_generichash(hash, sizeof(hash), file.data + file.len - 12 - tlen, tlen + 12, NULL, 0);
    assert_memory_equal(hash, id, BKP_ID_LEN);
    assert_int_equal(bkp_pack_name(file.data, file.len, hash), 0);
    assert_memory_equal(hash, id, BKP_ID_LEN);
    assert_memory_equal(file.data, BKP_PACK_MAGIC, 8);
    assert_memory_equal(file.data + file.len - 8, BKP_PACK_END_MAGIC, 8);

    /* The trailer, read from the file and from memory, lists every blob. */
    bkp_pack_entry *ents = NULL, *ents2 = NULL;
    uint32_t n = 0, n2 = 0;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(bkp_pack_read_trailer(fd, file.len, f->k, &ents, &n), 0);
    close(fd);
    assert_int_equal(bkp_pack_parse_trailer(file.data, file.len, f->k, &ents2, &n2), 0);
    assert_int_equal(n, NBLOBS);
    assert_int_equal(n2, NBLOBS);
    assert_memory_equal(ents, ents2, sizeof(*ents) * NBLOBS);
    bkp_buf plain;
    bkp_buf_init(&plain);
    for (int i = 0; i < NBLOBS; i++) {
        assert_memory_equal(ents[i].id, f->ids[i], BKP_ID_LEN);
        assert_int_equal(ents[i].type, BKP_BLOB_DATA);
        assert_int_equal(ents[i].offset, f->offs[i]);
        assert_int_equal(ents[i].len, f->slen[i]);
        assert_int_equal(ents[i].raw_len, f->plen[i]);
        /* Each blob opens at the listed place. */
        assert_int_equal(bkp_blob_open(f->k, BKP_BLOB_DATA, ents[i].id, file.data + ents[i].offset,
                                       ents[i].len, &plain),
                         0);
        assert_int_equal(plain.len, f->plen[i]);
        assert_memory_equal(plain.data, f->plain[i], f->plen[i]);
    }
    /* Another repository cannot read the trailer. */
    bkp_keys *other = NULL;
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    assert_int_equal(bkp_pack_parse_trailer(file.data, file.len, other, &ents2, &n2), -EBADMSG);
    bkp_keys_free(other);

    /* Nothing but the XX subdirectory in packs/, nothing but the pack in it. */
    int tmps;
    assert_int_equal(count_entries(f->dir, &tmps), 1);
    assert_int_equal(tmps, 0);
    snprintf(want, sizeof(want), "%s/%.2s", f->dir, hex);
    assert_int_equal(count_entries(want, &tmps), 1);
    assert_int_equal(tmps, 0);

    bkp_buf_free(&plain);
    free(ents);
    free(ents2);
    free(path);
    bkp_buf_free(&file);
}

static void test_empty_pack(void **state)
{
    fixture *f = *state;
    bkp_pack_writer *w = NULL;
    uint8_t id[BKP_ID_LEN];
    bkp_pack_entry *ents = NULL;
    uint32_t n = 77;
    bkp_buf file;
    bkp_buf_init(&file);
    assert_int_equal(bkp_pack_writer_open(f->dir, &w), 0);
    assert_int_equal(bkp_pack_writer_finish(w, f->k, id), 0);
    char *path = bkp_pack_path(f->dir, id);
    read_all(path, &file);
    assert_int_equal(bkp_pack_parse_trailer(file.data, file.len, f->k, &ents, &n), 0);
    assert_int_equal(n, 0);
    free(ents);
    free(path);
    bkp_buf_free(&file);
}

/* Write `len` bytes of `data` to a scratch file and read its trailer. */
static int trailer_of(fixture *f, const uint8_t *data, size_t len)
{
    char path[128];
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    snprintf(path, sizeof(path), "%s/scratch", f->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(bkp_write_full(fd, data, len), 0);
    int r = bkp_pack_read_trailer(fd, len, f->k, &ents, &n);
    close(fd);
    unlink(path);
    free(ents);
    return r;
}

static void test_damaged_pack(void **state)
{
    fixture *f = *state;
    uint8_t id[BKP_ID_LEN];
    bkp_buf file;
    bkp_buf_init(&file);
    write_pack(f, id);
    char *path = bkp_pack_path(f->dir, id);
    read_all(path, &file);
    uint8_t *d = file.data;
    size_t len = file.len;

    /* Control: an intact copy reads. */
    assert_int_equal(trailer_of(f, d, len), 0);
    /* Truncated by one byte, or cut anywhere in the trailer. */
    assert_int_equal(trailer_of(f, d, len - 1), -EBADMSG);
    uint32_t tlen = bkp_get_le32(d + len - 12);
    size_t tstart = len - 12 - tlen;
    assert_int_equal(trailer_of(f, d, tstart + 5), -EBADMSG);
    assert_int_equal(trailer_of(f, d, 8), -EBADMSG);

    /* Every byte of the trailer and footer, flipped. */
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    for (size_t i = tstart; i < len; i++) {
        d[i] ^= 0x11;
        int r = bkp_pack_parse_trailer(d, len, f->k, &ents, &n);
        d[i] ^= 0x11;
        if (r != -EBADMSG)
            fail_msg("flipped byte %zu (trailer starts at %zu of %zu): %d", i, tstart, len, r);
    }
    /* The same through the file reader, for a byte inside the sealed trailer
     * and one in the footer's length; and a damaged leading magic. */
    d[tstart + tlen / 2] ^= 1;
    assert_int_equal(trailer_of(f, d, len), -EBADMSG);
    d[tstart + tlen / 2] ^= 1;
    d[len - 12] ^= 1;
    assert_int_equal(trailer_of(f, d, len), -EBADMSG);
    d[len - 12] ^= 1;
    d[0] ^= 1;
    assert_int_equal(trailer_of(f, d, len), -EBADMSG);
    d[0] ^= 1;

    free(path);
    bkp_buf_free(&file);
}

/* A footer that claims a 4 GiB trailer (a sparse file on a medium) is
 * refused before anything is allocated or read. */
static void test_huge_trailer_length(void **state)
{
    fixture *f = *state;
    char path[128];
    uint8_t footer[12];
    bkp_pack_entry *ents = NULL;
    uint32_t n = 0;
    uint64_t size = (5ULL << 30);
    snprintf(path, sizeof(path), "%s/sparse", f->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(bkp_write_full(fd, BKP_PACK_MAGIC, 8), 0);
    bkp_le32(footer, 0xFFFFFFF0U);
    memcpy(footer + 4, BKP_PACK_END_MAGIC, 8);
    assert_int_equal(bkp_pwrite_full(fd, footer, 12, size - 12), 0);
    assert_int_equal(bkp_pack_read_trailer(fd, size, f->k, &ents, &n), -EBADMSG);
    /* Just above the cap, too. */
    bkp_le32(footer, BKP_PACK_TRAILER_MAX + 1);
    assert_int_equal(bkp_pwrite_full(fd, footer, 12, size - 12), 0);
    assert_int_equal(bkp_pack_read_trailer(fd, size, f->k, &ents, &n), -EBADMSG);
    assert_null(ents);
    close(fd);
    unlink(path);
}

static void test_abort_leaves_nothing(void **state)
{
    fixture *f = *state;
    bkp_pack_writer *w = NULL;
    uint64_t off;
    int tmps;
    assert_int_equal(bkp_pack_writer_open(f->dir, &w), 0);
    /* While being written, the pack is a temporary file in packs_dir. */
    assert_int_equal(count_entries(f->dir, &tmps), 1);
    assert_int_equal(tmps, 1);
    assert_int_equal(bkp_pack_writer_add(w, BKP_BLOB_DATA, f->ids[0], "sealed?", 7, 7, &off), 0);
    bkp_pack_writer_abort(w);
    assert_int_equal(count_entries(f->dir, &tmps), 0);
    bkp_pack_writer_abort(NULL); /* a no-op */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_finished_pack),
        T(test_empty_pack),
        T(test_damaged_pack),
        T(test_huge_trailer_length),
        T(test_abort_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
