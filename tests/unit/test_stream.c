/*
 * test_stream.c — the stream layer (bkp/io/stream.h).
 *
 * Each backend reads or writes the bytes it was given (memory, a growing
 * buffer, a regular file by path and below a folder, a pipe, a durable file);
 * a short stream is a short read for bkp_stream_read and -EIO for
 * read_exact; the cap refuses a stream one byte longer than allowed, whether
 * or not its size is known; the first error is kept and every later
 * operation does nothing; a signal that interrupts a read is not an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/media/archive.h"
#include "bkp/io/durable.h"
#include "bkp/io/log.h"
#include "bkp/io/stream.h"

#include "testutil.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/bkp-test-stream-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    test_rm_rf(dir);
    return 0;
}

static void put_file(const char *name, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_memory(void **state)
{
    (void)state;
    bkp_stream s;
    char b[8] = {0};
    uint64_t size = 0;
    bkp_stream_mem(&s, "abcdefghij", 10);
    assert_int_equal(bkp_stream_size(&s, &size), 0);
    assert_int_equal(size, 10);
    assert_int_equal(bkp_stream_read_exact(&s, b, 4), 0);
    assert_memory_equal(b, "abcd", 4);
    assert_int_equal(bkp_stream_read_some(&s, b, 2), 2);
    assert_memory_equal(b, "ef", 2);
    /* Four left: a read of eight gives them, and then the end. */
    assert_int_equal(bkp_stream_read(&s, b, 8), 4);
    assert_memory_equal(b, "ghij", 4);
    assert_int_equal(bkp_stream_read(&s, b, 8), 0);
    assert_int_equal(bkp_stream_tell(&s), 10);
    assert_int_equal(bkp_stream_close(&s), 0);
}

static void test_short_read_exact(void **state)
{
    (void)state;
    bkp_stream s;
    char b[8];
    bkp_stream_mem(&s, "abc", 3);
    assert_int_equal(bkp_stream_read_exact(&s, b, 4), -EIO);
    assert_int_equal(bkp_stream_error(&s), -EIO);
    assert_int_equal(bkp_stream_close(&s), -EIO);
}

static void test_buffer_and_latch(void **state)
{
    (void)state;
    bkp_stream s;
    bkp_buf out;
    char b[4];
    bkp_buf_init(&out);
    bkp_buf_put(&out, "x", 1);
    bkp_stream_buf(&s, &out);
    assert_int_equal(bkp_stream_write(&s, "hello ", 6), 0);
    assert_int_equal(bkp_stream_write(&s, "world", 5), 0);
    assert_int_equal(bkp_stream_tell(&s), 11);
    assert_int_equal(out.len, 12);
    assert_memory_equal(out.data, "xhello world", 12);
    /* A write-only backend refuses a read; the error stays, and the write
     * after it does nothing. */
    assert_int_equal(bkp_stream_read(&s, b, sizeof(b)), 0);
    assert_int_equal(bkp_stream_error(&s), -EBADF);
    assert_int_equal(bkp_stream_write(&s, "more", 4), -EBADF);
    assert_int_equal(out.len, 12);
    assert_int_equal(bkp_stream_tell(&s), 11);
    assert_int_equal(bkp_stream_close(&s), -EBADF);
    bkp_buf_free(&out);
}

static void test_file(void **state)
{
    (void)state;
    bkp_stream s;
    bkp_buf out;
    char path[128];
    uint8_t data[100000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    put_file("f", data, sizeof(data));
    snprintf(path, sizeof(path), "%s/f", dir);
    bkp_buf_init(&out);
    assert_int_equal(bkp_stream_open(&s, path), 0);
    assert_int_equal(bkp_stream_read_all(&s, &out), 0);
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_int_equal(out.len, sizeof(data));
    assert_memory_equal(out.data, data, sizeof(data));
    /* Below a folder, by name; the same bytes. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    bkp_buf_reset(&out);
    assert_int_equal(bkp_stream_open_at(&s, dfd, "f"), 0);
    assert_int_equal(bkp_stream_read_all(&s, &out), 0);
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_int_equal(out.len, sizeof(data));
    /* A link, a FIFO and a missing name are refused at the open, which is
     * kept as the stream's error. */
    snprintf(path, sizeof(path), "%s/link", dir);
    assert_int_equal(symlink("f", path), 0);
    assert_int_equal(bkp_stream_open_at(&s, dfd, "link"), -ELOOP);
    assert_int_equal(bkp_stream_read(&s, data, 1), 0);
    assert_int_equal(bkp_stream_close(&s), -ELOOP);
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(bkp_stream_open(&s, path), -EBADMSG);
    assert_int_equal(bkp_stream_close(&s), -EBADMSG);
    assert_int_equal(bkp_stream_open_at(&s, dfd, "none"), -ENOENT);
    assert_int_equal(bkp_stream_close(&s), -ENOENT);
    close(dfd);
    bkp_buf_free(&out);
}

static void test_cap(void **state)
{
    (void)state;
    bkp_stream s;
    bkp_buf out;
    char path[128], b[200];
    memset(b, 'a', sizeof(b));
    put_file("cap", b, 100);
    snprintf(path, sizeof(path), "%s/cap", dir);
    bkp_buf_init(&out);
    /* Exactly the cap is fine; one byte more is refused. */
    assert_int_equal(bkp_stream_open(&s, path), 0);
    bkp_stream_cap(&s, 100);
    assert_int_equal(bkp_stream_read_all(&s, &out), 0);
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_int_equal(out.len, 100);
    bkp_buf_reset(&out);
    assert_int_equal(bkp_stream_open(&s, path), 0);
    bkp_stream_cap(&s, 99);
    assert_int_equal(bkp_stream_read_all(&s, &out), -EFBIG);
    assert_int_equal(bkp_stream_close(&s), -EFBIG);
    /* The same when reading piece by piece, and in memory. */
    bkp_stream_mem(&s, b, sizeof(b));
    bkp_stream_cap(&s, 150);
    assert_int_equal(bkp_stream_read(&s, b, 100), 100);
    assert_int_equal(bkp_stream_read(&s, b, 50), 50);
    assert_int_equal(bkp_stream_read(&s, b, 1), 0);
    assert_int_equal(bkp_stream_error(&s), -EFBIG);
    /* A pipe says no size: the cap is found by reading. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], b, 120), 120);
    close(p[1]);
    bkp_stream_fd(&s, p[0], BKP_STREAM_OWN);
    uint64_t size;
    assert_int_equal(bkp_stream_size(&s, &size), -ESPIPE);
    bkp_stream_cap(&s, 119);
    bkp_buf_reset(&out);
    assert_int_equal(bkp_stream_read_all(&s, &out), -EFBIG);
    assert_true(out.len <= 119);
    assert_int_equal(bkp_stream_close(&s), -EFBIG);
    bkp_buf_free(&out);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A child writes in three pieces, slowly; a timer interrupts the reader's
 * read(2) all along (no SA_RESTART). The reader gets all of it, no EINTR. */
static void test_pipe_interrupted(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    struct itimerval it = {.it_interval = {0, 2000}, .it_value = {0, 2000}}, off = {0};
    char want[30], got[30];
    int p[2];
    memset(want, 'z', sizeof(want));
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        for (int i = 0; i < 3; i++) {
            usleep(30000);
            if (write(p[1], want + 10 * i, 10) != 10)
                _exit(1);
        }
        _exit(0);
    }
    close(p[1]);
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    bkp_stream s;
    bkp_stream_fd(&s, p[0], 0);
    assert_int_equal(bkp_stream_read_exact(&s, got, sizeof(got)), 0);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    assert_memory_equal(got, want, sizeof(got));
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_true(fcntl(p[0], F_GETFD) >= 0); /* borrowed: still open */
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Writes to a durable file go through its own write: committed, the file
 * holds them; the stream counts them. */
static void test_durable_sink(void **state)
{
    (void)state;
    bkp_dfile *f = NULL;
    bkp_stream s;
    bkp_buf back;
    char path[128];
    bkp_buf_init(&back);
    assert_int_equal(bkp_dfile_open(&f, dir, 0), 0);
    bkp_dfile_stream(f, &s);
    assert_int_equal(bkp_stream_write(&s, "durable ", 8), 0);
    assert_int_equal(bkp_stream_write(&s, "bytes", 5), 0);
    assert_int_equal(bkp_stream_tell(&s), 13);
    assert_int_equal(bkp_dfile_size(f), 13);
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_int_equal(bkp_dfile_commit(f, dir, "d", 0), 0);
    snprintf(path, sizeof(path), "%s/d", dir);
    assert_int_equal(bkp_read_file(path, &back, 100), 0);
    assert_int_equal(back.len, 13);
    assert_memory_equal(back.data, "durable bytes", 13);
    /* And a descriptor written to directly. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    bkp_stream_fd(&s, fd, BKP_STREAM_OWN);
    assert_int_equal(bkp_stream_write(&s, "!", 1), 0);
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_int_equal(bkp_read_file(path, &back, 13), -EFBIG);
    bkp_buf_free(&back);
}

static void quiet(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level, (void)msg, (void)ctx;
}

/* An archive medium's tar from memory: extracted as from a file; one that
 * leaves its folder, or is cut short, is refused. */
static void test_archive_from_memory(void **state)
{
    (void)state;
    bkp_buf tar, back;
    bkp_stream s;
    char to[128], path[192], *top = NULL;
    bkp_buf_init(&tar);
    bkp_buf_init(&back);
    bkp_log_set_sink(quiet, NULL);
    assert_int_equal(
        bkp_read_file(BKP_SOURCE_DIR "/tests/fuzz/corpus/fuzz_archive/one.tar", &tar, 1 << 20), 0);
    snprintf(to, sizeof(to), "%s/one", dir);
    bkp_stream_mem(&s, tar.data, tar.len);
    assert_int_equal(bkp_archive_extract_stream(&s, "one.tar", to, &top), 0);
    assert_int_equal(bkp_stream_close(&s), 0);
    assert_string_equal(top, "x@0000000001");
    free(top);
    snprintf(path, sizeof(path), "%s/config", to);
    assert_int_equal(bkp_read_file(path, &back, 1 << 20), 0);
    assert_int_equal(back.len, 297);
    /* Cut in the middle of its members. */
    snprintf(to, sizeof(to), "%s/cut", dir);
    bkp_stream_mem(&s, tar.data, 1500);
    assert_int_equal(bkp_archive_extract_stream(&s, "cut.tar", to, NULL), -EBADMSG);
    (void)bkp_stream_close(&s);
    /* A member that climbs out of its folder. */
    assert_int_equal(
        bkp_read_file(BKP_SOURCE_DIR "/tests/fuzz/corpus/fuzz_archive/evil2.tar", &tar, 1 << 20),
        0);
    snprintf(to, sizeof(to), "%s/evil", dir);
    bkp_stream_mem(&s, tar.data, tar.len);
    assert_int_equal(bkp_archive_extract_stream(&s, "evil2.tar", to, NULL), -EBADMSG);
    (void)bkp_stream_close(&s);
    bkp_log_set_sink(NULL, NULL);
    bkp_buf_free(&tar);
    bkp_buf_free(&back);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_memory),
        T(test_short_read_exact),
        T(test_buffer_and_latch),
        T(test_file),
        T(test_cap),
        T(test_pipe_interrupted),
        T(test_durable_sink),
        T(test_archive_from_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
