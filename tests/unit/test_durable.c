/*
 * test_durable.c — the one durable-write path (bkp/io/durable.h).
 *
 * Proves that a durable write publishes exactly the bytes under the name with
 * the requested mode, that NOREPLACE never changes an existing object, that no
 * temporary file is left behind on success or failure, and that the start-up
 * clean-up removes only the temporaries of dead processes on this host —
 * never those of a live writer (this process or another) or of another host.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/durable.h"

#include "testutil.h"

typedef struct fixture {
    char dir[64];
    char path[256];
    char host[64];
} fixture;

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    umask(022);
    strcpy(f->dir, "/tmp/bkp-test-durable-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(f->dir))
        return teardown(state), -1;
    /* The host part of a temporary name, spelt as durable.h's writer does. */
    strcpy(f->host, "host");
    gethostname(f->host, sizeof(f->host) - 1);
    for (char *c = f->host; *c; c++)
        if (*c == '/' || *c == '-')
            *c = '_';
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_rm_rf(f->dir);
    free(f);
    return 0;
}

static const char *at(fixture *f, const char *name)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
    return f->path;
}

static void assert_content(fixture *f, const char *name, const char *want)
{
    bkp_buf b;
    bkp_buf_init(&b);
    assert_int_equal(bkp_read_file(at(f, name), &b, 1 << 20), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    bkp_buf_free(&b);
}

static unsigned mode_of(fixture *f, const char *name)
{
    struct stat st;
    assert_int_equal(stat(at(f, name), &st), 0);
    return st.st_mode & 07777;
}

static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        n += strncmp(e->d_name, ".tmp-", 5) == 0;
    closedir(d);
    return n;
}

static void touch(fixture *f, const char *name)
{
    int fd = open(at(f, name), O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static bool exists(fixture *f, const char *name)
{
    return access(at(f, name), F_OK) == 0;
}

/* The PID of a process that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return pid;
}

static void test_write_publishes_content(void **state)
{
    fixture *f = *state;
    assert_int_equal(bkp_durable_write(f->dir, "config", "hello\n", 6, 0), 0);
    assert_content(f, "config", "hello\n");
    assert_int_equal(mode_of(f, "config"), 0644);
    /* Without NOREPLACE, a write replaces. */
    assert_int_equal(bkp_durable_write(f->dir, "config", "second", 6, 0), 0);
    assert_content(f, "config", "second");
    /* Empty content is a valid object. */
    assert_int_equal(bkp_durable_write(f->dir, "empty", "", 0, BKP_DURABLE_NOREPLACE), 0);
    assert_content(f, "empty", "");
    assert_int_equal(count_tmp(f->dir), 0);
}

/* An append-only file: each append is whole, durable, and a torn end is cut
 * back to the last whole record. */
static void test_append_and_truncate(void **state)
{
    fixture *f = *state;
    char path[320];
    snprintf(path, sizeof(path), "%s/log", f->dir);
    int fd = bkp_durable_create(path, 0600, true);
    assert_true(fd >= 0);
    assert_int_equal(bkp_durable_create(path, 0600, true), -EEXIST);
    assert_int_equal(bkp_durable_append(fd, "one\n", 4, f->dir), 0);
    assert_int_equal(bkp_durable_append(fd, "two\ntor", 8, NULL), 0);
    assert_int_equal(bkp_durable_truncate(fd, 8), 0);
    close(fd);
    assert_content(f, "log", "one\ntwo\n");
    assert_int_equal(mode_of(f, "log"), 0600);
}

/* A file published by link appears whole, never replaces, and its
 * temporary name is gone; the descriptor stays the caller's. */
static void test_link_publishes_once(void **state)
{
    fixture *f = *state;
    char tmp[320], path[320], aside[320];
    snprintf(tmp, sizeof(tmp), "%s/.tmp-x", f->dir);
    snprintf(path, sizeof(path), "%s/lock", f->dir);
    snprintf(aside, sizeof(aside), "%s/lock.again", f->dir);
    int fd = bkp_durable_create(tmp, 0644, false);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "held", 4), 4);
    assert_int_equal(bkp_durable_link(fd, tmp, path), 0);
    assert_false(exists(f, ".tmp-x"));
    assert_content(f, "lock", "held");
    assert_int_equal(bkp_durable_link(fd, path, path), -EEXIST);
    assert_int_equal(bkp_durable_link_name(path, aside), 0);
    assert_int_equal(bkp_durable_link_name(path, aside), -EEXIST);
    assert_content(f, "lock.again", "held");
    close(fd);
}

/* Renames and deletions are durable steps that report what they could not
 * do; a deletion of what is already gone is done. */
static void test_rename_and_unlink(void **state)
{
    fixture *f = *state;
    char a[320], b[320];
    snprintf(a, sizeof(a), "%s/a", f->dir);
    snprintf(b, sizeof(b), "%s/b", f->dir);
    assert_int_equal(bkp_durable_write(f->dir, "a", "A", 1, 0), 0);
    assert_int_equal(bkp_durable_write(f->dir, "b", "B", 1, 0), 0);
    assert_int_equal(bkp_durable_rename(a, b, BKP_DURABLE_NOREPLACE), -EEXIST);
    assert_content(f, "b", "B");
    int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    assert_int_equal(bkp_durable_rename_at(dfd, "a", dfd, "c", BKP_DURABLE_NOREPLACE), 0);
    assert_false(exists(f, "a"));
    assert_content(f, "c", "A");
    assert_int_equal(bkp_durable_rename(b, a, 0), 0);
    assert_content(f, "a", "B");
    assert_int_equal(bkp_durable_unlink_at(dfd, "c"), 0);
    assert_false(exists(f, "c"));
    assert_int_equal(bkp_durable_unlink_at(dfd, "c"), 0);
    assert_int_equal(bkp_durable_rename(b, a, 0), -ENOENT);
    close(dfd);
    /* By path: gone, a second time 0, a folder that is not there 0. */
    assert_int_equal(bkp_durable_unlink(a), 0);
    assert_false(exists(f, "a"));
    assert_int_equal(bkp_durable_unlink(a), 0);
    snprintf(a, sizeof(a), "%s/none/a", f->dir);
    assert_int_equal(bkp_durable_unlink(a), 0);
}

/* A read-back after bkp_dfile_sync reads the bytes written, and the file
 * still commits. */
static void test_dfile_sync(void **state)
{
    fixture *f = *state;
    bkp_dfile *df = NULL;
    bkp_buf back;
    bkp_buf_init(&back);
    assert_int_equal(bkp_dfile_open(&df, f->dir, BKP_DURABLE_DIRECT), 0);
    assert_int_equal(bkp_dfile_write(df, "synced", 6), 0);
    assert_int_equal(bkp_dfile_sync(df), 0);
    assert_int_equal(bkp_read_file(bkp_dfile_path(df), &back, 64), 0);
    assert_int_equal(back.len, 6);
    assert_memory_equal(back.data, "synced", 6);
    assert_int_equal(bkp_dfile_commit(df, f->dir, "s", BKP_DURABLE_NOREPLACE), 0);
    assert_content(f, "s", "synced");
    assert_int_equal(count_tmp(f->dir), 0);
    bkp_buf_free(&back);
}

static void test_noreplace(void **state)
{
    fixture *f = *state;
    assert_int_equal(bkp_durable_write(f->dir, "obj", "original", 8, BKP_DURABLE_NOREPLACE), 0);
    assert_int_equal(bkp_durable_write(f->dir, "obj", "forgery!", 8, BKP_DURABLE_NOREPLACE),
                     -EEXIST);
    assert_content(f, "obj", "original");
    assert_int_equal(count_tmp(f->dir), 0);
}

static void test_modes(void **state)
{
    fixture *f = *state;
    assert_int_equal(bkp_durable_write(f->dir, "sealed", "s", 1, BKP_DURABLE_READONLY), 0);
    assert_int_equal(mode_of(f, "sealed"), 0444);
    assert_int_equal(bkp_durable_write(f->dir, "cache", "c", 1, BKP_DURABLE_PRIVATE), 0);
    assert_int_equal(mode_of(f, "cache"), 0600);
    assert_content(f, "sealed", "s");
    assert_content(f, "cache", "c");
    assert_int_equal(count_tmp(f->dir), 0);
}

static void test_private_readonly_stays_private(void **state)
{
    fixture *f = *state;
    /* A file written PRIVATE|READONLY (the key file) stays owner-only: 0400. */
    assert_int_equal(
        bkp_durable_write(f->dir, "key", "k", 1, BKP_DURABLE_PRIVATE | BKP_DURABLE_READONLY), 0);
    assert_int_equal(mode_of(f, "key") & 077, 0);
}

static void test_failure_leaves_nothing(void **state)
{
    fixture *f = *state;
    /* Into a directory that does not exist. */
    assert_int_equal(bkp_durable_write(at(f, "missing"), "x", "x", 1, 0), -ENOENT);
    assert_false(exists(f, "missing"));
    /* A step-by-step file that is aborted. */
    bkp_dfile *df = NULL;
    assert_int_equal(bkp_dfile_open(&df, f->dir, 0), 0);
    assert_int_equal(bkp_dfile_write(df, "partial", 7), 0);
    assert_int_equal(count_tmp(f->dir), 1);
    bkp_dfile_abort(df);
    assert_int_equal(count_tmp(f->dir), 0);
    /* A commit that fails with -EEXIST removes its temporary file too. */
    touch(f, "taken");
    assert_int_equal(bkp_dfile_open(&df, f->dir, 0), 0);
    assert_int_equal(bkp_dfile_write(df, "new", 3), 0);
    assert_int_equal(bkp_dfile_commit(df, f->dir, "taken", BKP_DURABLE_NOREPLACE), -EEXIST);
    assert_content(f, "taken", "");
    assert_int_equal(count_tmp(f->dir), 0);
}

static void test_dfile_commit_elsewhere(void **state)
{
    fixture *f = *state;
    bkp_dfile *df = NULL;
    assert_int_equal(bkp_mkdir_p(at(f, "a/b/c"), 0755), 0);
    assert_int_equal(bkp_mkdir_p(at(f, "a/b/c"), 0755), 0); /* existing is fine */
    assert_int_equal(bkp_dfile_open(&df, f->dir, 0), 0);
    assert_int_equal(bkp_dfile_write(df, "one ", 4), 0);
    assert_int_equal(bkp_dfile_write(df, "two", 3), 0);
    assert_int_equal(bkp_dfile_size(df), 7);
    assert_int_equal(bkp_dfile_commit(df, at(f, "a/b/c"), "obj", BKP_DURABLE_READONLY), 0);
    assert_content(f, "a/b/c/obj", "one two");
    assert_int_equal(mode_of(f, "a/b/c/obj"), 0444);
    assert_int_equal(count_tmp(f->dir), 0);
}

static void test_cleanup(void **state)
{
    fixture *f = *state;
    char name[160];
    pid_t dead = dead_pid();
    long me = (long)getpid();

    /* Stale: a dead process on this host. */
    snprintf(name, sizeof(name), ".tmp-%s-%ld-0123456789abcdef", f->host, (long)dead);
    touch(f, name);
    char stale[160];
    strcpy(stale, name);
    /* Kept: this live process, another host, a host whose name merely starts
     * with ours, and ordinary files. */
    char mine[160], other[160], longer[160];
    snprintf(mine, sizeof(mine), ".tmp-%s-%ld-aaaa", f->host, me);
    snprintf(other, sizeof(other), ".tmp-otherhost-%ld-bbbb", (long)dead);
    snprintf(longer, sizeof(longer), ".tmp-%sx-%ld-cccc", f->host, (long)dead);
    touch(f, mine);
    touch(f, other);
    touch(f, longer);
    touch(f, "pack-in-progress");
    touch(f, ".tmp-notes");
    /* A FIFO under a stale name (planted on a medium): not opened (that
     * would block), not removed. */
    char fifo[160], fifo_path[320];
    snprintf(fifo, sizeof(fifo), ".tmp-%s-%ld-f1f0f1f0", f->host, (long)dead);
    snprintf(fifo_path, sizeof(fifo_path), "%s/%s", f->dir, fifo);
    assert_int_equal(mkfifo(fifo_path, 0600), 0);

    /* A real temporary file of this process, being written right now. */
    bkp_dfile *live = NULL;
    assert_int_equal(bkp_dfile_open(&live, f->dir, 0), 0);
    assert_int_equal(bkp_dfile_write(live, "still writing", 13), 0);

    alarm(60); /* a hang fails the test instead of the suite's clock */
    bkp_durable_cleanup(f->dir);
    alarm(0);
    assert_false(exists(f, stale));
    assert_true(exists(f, fifo));
    assert_true(exists(f, mine));
    assert_true(exists(f, other));
    assert_true(exists(f, longer));
    assert_true(exists(f, "pack-in-progress"));
    assert_true(exists(f, ".tmp-notes"));
    assert_int_equal(access(bkp_dfile_path(live), F_OK), 0);
    /* The live writer is undisturbed and can still publish. */
    assert_int_equal(bkp_dfile_commit(live, f->dir, "done", 0), 0);
    assert_content(f, "done", "still writing");

    /* A real temporary file left by a writer that died. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        bkp_dfile *df = NULL;
        if (bkp_dfile_open(&df, f->dir, 0) || bkp_dfile_write(df, "half", 4))
            _exit(1);
        _exit(0); /* dies without commit or abort */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* mine, other, longer, .tmp-notes, the FIFO, and the child's */
    assert_int_equal(count_tmp(f->dir), 5 + 1);
    bkp_durable_cleanup(f->dir);
    assert_int_equal(count_tmp(f->dir), 5);
}

static void test_cleanup_keeps_live_child(void **state)
{
    fixture *f = *state;
    char name[160];
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        close(fds[1]);
        (void)!read(fds[0], &c, 1); /* wait until the parent closes the pipe */
        _exit(0);
    }
    close(fds[0]);
    snprintf(name, sizeof(name), ".tmp-%s-%ld-feedface", f->host, (long)pid);
    touch(f, name);
    /* A concurrent writer's temporary file survives another run's clean-up. */
    bkp_durable_cleanup(f->dir);
    assert_true(exists(f, name));
    close(fds[1]);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    /* Once it is gone, its temporary is stale. */
    bkp_durable_cleanup(f->dir);
    assert_false(exists(f, name));
}

/* bkp_open_deep stays below its folder: no ".." on the way, nothing
 * absolute, no link followed; plain names are opened. */
static void test_open_deep_stays_below(void **state)
{
    fixture *f = *state;
    char p[512];
    int d = open(f->dir, O_RDONLY | O_DIRECTORY);
    assert_true(d >= 0);
    snprintf(p, sizeof(p), "%s/a", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/a/b", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/a/up", f->dir);
    assert_int_equal(symlink("..", p), 0);
    int fd = bkp_open_deep(d, "a/b", O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(bkp_open_deep(d, "a/b/..", O_RDONLY | O_DIRECTORY), -EINVAL);
    assert_int_equal(bkp_open_deep(d, "a/../a/b", O_RDONLY | O_DIRECTORY), -EINVAL);
    assert_int_equal(bkp_open_deep(d, "../x", O_RDONLY | O_DIRECTORY), -EINVAL);
    assert_int_equal(bkp_open_deep(d, "..", O_RDONLY | O_DIRECTORY), -EINVAL);
    assert_int_equal(bkp_open_deep(d, "/tmp", O_RDONLY | O_DIRECTORY), -EINVAL);
    fd = bkp_open_deep(d, "a/up/a", O_RDONLY | O_DIRECTORY); /* a link on the way */
    assert_true(fd == -ELOOP || fd == -ENOTDIR);
    /* A name that merely contains two dots is a name. */
    snprintf(p, sizeof(p), "%s/a/b/..x", f->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    fd = bkp_open_deep(d, "a/b/..x", O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    close(fd);
    close(d);
}

/* A path a person named (-o FILE): written in its folder under its name;
 * a path that names no file is refused before anything is made. */
static void test_write_path(void **state)
{
    fixture *f = *state;
    char path[300], back[8] = {0};
    snprintf(path, sizeof(path), "%s/report.md", f->dir);
    assert_int_equal(bkp_durable_write_path(path, "# ok", 4, 0), 0);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, back, sizeof(back)), 4);
    close(fd);
    assert_string_equal(back, "# ok");
    const char *folders[] = {"", "/", ".", "..", "a/.", "a/..", NULL};
    for (size_t i = 0; folders[i]; i++)
        assert_int_equal(bkp_durable_write_path(folders[i], "x", 1, 0), -EISDIR);
    snprintf(path, sizeof(path), "%s/", f->dir);
    assert_int_equal(bkp_durable_write_path(path, "x", 1, 0), -EISDIR);
    snprintf(path, sizeof(path), "%s/absent/report.md", f->dir);
    assert_int_equal(bkp_durable_write_path(path, "x", 1, 0), -ENOENT);
    /* Only report.md is in the folder: no temporary left by the refusals. */
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    assert_int_equal(n, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_write_publishes_content),
        T(test_append_and_truncate),
        T(test_link_publishes_once),
        T(test_rename_and_unlink),
        T(test_dfile_sync),
        T(test_noreplace),
        T(test_modes),
        T(test_private_readonly_stays_private),
        T(test_failure_leaves_nothing),
        T(test_dfile_commit_elsewhere),
        T(test_cleanup),
        T(test_cleanup_keeps_live_child),
        T(test_open_deep_stays_below),
        T(test_write_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
