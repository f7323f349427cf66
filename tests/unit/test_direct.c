/*
 * test_direct.c — streaming past the page cache (bkp/io/direct.h).
 *
 * A file streamed through the writer holds exactly the bytes written and is
 * exactly as long, whatever the sizes of the pieces and of the file relative
 * to the block size and to the writer's buffers: on a file system that takes
 * O_DIRECT (the padding of the last block is cut off again) and on one that
 * refuses it (tmpfs before Linux 6.6, where the page cache is used). One
 * writer streams several files in turn, as a restore does; a write error is
 * latched and returned; a durable file (BKP_DURABLE_DIRECT) is published
 * whole with its mode.
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
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/direct.h"
#include "bkp/io/durable.h"

#include "testutil.h"

#define MiB (1U << 20)

static const size_t sizes[] = {
    0,
    1,
    4095,
    4096,
    4097,
    BKP_DIRECT_BUFFER - 1,
    BKP_DIRECT_BUFFER,
    BKP_DIRECT_BUFFER + 1,
    2 * BKP_DIRECT_BUFFER + 12345,
};
static const size_t pieces[] = {4093, MiB + 7, 3 * BKP_DIRECT_BUFFER};

typedef struct fixture {
    char dir[128];
    char path[256];
    uint8_t *data; /* the largest size of pseudo-random bytes */
    size_t max;
} fixture;

static int make_fixture(void **state, const char *base)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/bkp-test-direct-XXXXXX", base);
    f->max = sizes[sizeof(sizes) / sizeof(*sizes) - 1];
    if (sodium_init() < 0 || !mkdtemp(f->dir) || !(f->data = malloc(f->max))) {
        free(f);
        return -1;
    }
    static const uint8_t seed[randombytes_SEEDBYTES] = {7};
    randombytes_buf_deterministic(f->data, f->max, seed);
    *state = f;
    return 0;
}

static int setup_disk(void **state)
{
    return make_fixture(state, "/tmp");
}

/* tmpfs; skipped where there is none. */
static int setup_tmpfs(void **state)
{
    struct stat st;
    if (stat("/dev/shm", &st) != 0 || !S_ISDIR(st.st_mode)) {
        *state = NULL;
        return 0;
    }
    return make_fixture(state, "/dev/shm");
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f) {
        test_rm_rf(f->dir);
        free(f->data);
        free(f);
    }
    return 0;
}

static const char *at(fixture *f, const char *name)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
    return f->path;
}

/* The file holds exactly the first `size` bytes of the pattern. */
static void assert_file(fixture *f, const char *path, size_t size)
{
    bkp_buf b;
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(path, &b, f->max + 1), 0);
    assert_int_equal(b.len, size);
    if (size)
        assert_memory_equal(b.data, f->data, size);
    bkp_buf_free(&b);
}

static void stream(bkp_direct *d, fixture *f, const char *path, size_t size, size_t piece)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    bkp_direct_start(d, fd);
    for (size_t at = 0; at < size; at += piece)
        assert_int_equal(bkp_direct_write(d, f->data + at, size - at < piece ? size - at : piece),
                         0);
    assert_int_equal(bkp_direct_end(d), 0);
    assert_false(d->direct); /* left without O_DIRECT for the caller */
    assert_int_equal(close(fd), 0);
}

/* Every size, in pieces of every size, through one writer (as a restore). */
static void test_sizes(void **state)
{
    fixture *f = *state;
    bkp_direct d;
    if (!f) {
        skip();
        return;
    }
    assert_int_equal(bkp_direct_init(&d), 0);
    for (size_t p = 0; p < sizeof(pieces) / sizeof(*pieces); p++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
            char name[64];
            snprintf(name, sizeof(name), "f-%zu-%zu", p, s);
            stream(&d, f, at(f, name), sizes[s], pieces[p]);
            assert_file(f, at(f, name), sizes[s]);
        }
    }
    bkp_direct_free(&d);
}

/* On a local disk (ext4, xfs, btrfs) the writer really bypasses the cache. */
static void test_disk_takes_direct(void **state)
{
    fixture *f = *state;
    bkp_direct d;
    int fd = open(at(f, "probe"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(bkp_direct_init(&d), 0);
    bkp_direct_start(&d, fd);
    struct statfs fs;
    assert_int_equal(fstatfs(fd, &fs), 0);
    if (fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC ||
        fs.f_type == BTRFS_SUPER_MAGIC)
        assert_true(d.direct);
    else if (!d.direct)
        print_message("note: %s refuses O_DIRECT; only the fallback is tested\n", f->dir);
    assert_int_equal(bkp_direct_end(&d), 0);
    close(fd);
    bkp_direct_free(&d);
}

/* A descriptor that cannot be written: the error comes back, at the latest
 * from end, and stays. */
static void test_error_latched(void **state)
{
    fixture *f = *state;
    bkp_direct d;
    int fd = open(at(f, "ro"), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(bkp_direct_init(&d), 0);
    bkp_direct_start(&d, fd);
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        rc = bkp_direct_write(&d, f->data, BKP_DIRECT_BUFFER);
    if (!rc)
        rc = bkp_direct_end(&d);
    assert_int_equal(rc, -EBADF);
    close(fd);
    bkp_direct_free(&d);
}

/* A pack-like durable file: published whole, read-only, nothing left over. */
static void test_durable_direct(void **state)
{
    fixture *f = *state;
    bkp_dfile *df = NULL;
    size_t size = sizes[sizeof(sizes) / sizeof(*sizes) - 1];
    struct stat st;
    assert_int_equal(bkp_dfile_open(&df, f->dir, BKP_DURABLE_DIRECT), 0);
    for (size_t at = 0; at < size; at += 99991)
        assert_int_equal(bkp_dfile_write(df, f->data + at, size - at < 99991 ? size - at : 99991),
                         0);
    assert_int_equal(bkp_dfile_size(df), size);
    assert_int_equal(
        bkp_dfile_commit(df, f->dir, "pack", BKP_DURABLE_NOREPLACE | BKP_DURABLE_READONLY), 0);
    assert_file(f, at(f, "pack"), size);
    assert_int_equal(stat(at(f, "pack"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);

    /* Aborted half-way: no file of any name remains. */
    assert_int_equal(bkp_dfile_open(&df, f->dir, BKP_DURABLE_DIRECT), 0);
    assert_int_equal(bkp_dfile_write(df, f->data, BKP_DIRECT_BUFFER + 5), 0);
    bkp_dfile_abort(df);
    DIR *dir = opendir(f->dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(dir);
    while ((e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++, assert_string_equal(e->d_name, "pack");
    closedir(dir);
    assert_int_equal(n, 1);
}

/* A zeroed writer may be freed, as restore does when no file was large. */
static void test_free_zeroed(void **state)
{
    (void)state;
    bkp_direct d;
    memset(&d, 0, sizeof(d));
    bkp_direct_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sizes, setup_disk, teardown),
        cmocka_unit_test_setup_teardown(test_sizes, setup_tmpfs, teardown),
        cmocka_unit_test_setup_teardown(test_disk_takes_direct, setup_disk, teardown),
        cmocka_unit_test_setup_teardown(test_error_latched, setup_disk, teardown),
        cmocka_unit_test_setup_teardown(test_durable_direct, setup_disk, teardown),
        cmocka_unit_test(test_free_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
