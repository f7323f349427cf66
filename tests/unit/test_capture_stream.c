/*
 * test_capture_stream.c — a data set that is a command's output: the bytes
 * of a pipe, read to its end and chunked as they arrive, stored as one
 * regular file of the stream's name (mode 0600, root, the given date),
 * dumped back byte for byte; the next day's stream, mostly the same bytes,
 * stores little; and the command's side (bkp_hook_start/finish): its output
 * read while its time limit is kept, its exit status, its standard error's
 * last lines, and a reader that gives up ending it.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive_entry.h>
#include <cmocka.h>

#include "bkp/host/hook.h"
#include "bkp/store/seal.h"
#include "bkp/store/tree.h"
#include "ops_repo.h"
#include "restore/dump.h"

static const char policy_text[] = "repository: %1$s/repo\n"
                                  "passphrase_file: /etc/bkp/passphrase\n"
                                  "datasets:\n"
                                  "  - { name: emr, paths: [/srv/emr] }\n";

/* `n` bytes of a fixed pseudo-random sequence from `seed`, with `patch`
 * bytes changed at `at` (none when `patch` is 0). */
static void fill(uint8_t *b, size_t n, uint64_t seed, size_t at, size_t patch)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (uint8_t)x;
    }
    for (size_t i = at; i < at + patch && i < n; i++)
        b[i] ^= 0x5a;
}

/* Capture `n` bytes of `b`, written into a pipe by a child, as stream
 * "emr.dump" dated `when`; sealed into `*g`. */
static void capture(ops_repo *f, const uint8_t *b, size_t n, time_t when, bkp_capture *cap,
                    bkp_gen **g)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        size_t off = 0;
        while (off < n) { /* odd-sized writes: chunk cuts must not depend on them */
            size_t k = n - off < 70001 ? n - off : 70001;
            ssize_t w = write(p[1], b + off, k);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    bkp_capture_stream st = {
        .fd = p[0], .cancel_fd = -1, .name = "emr.dump", .mtime = when, .uname = "root"};
    bkp_capture_opts o = {.dataset = "emr", .stream = &st, .workers = 2};
    assert_int_equal(bkp_capture_run(f->r, &o, cap), 0);
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(bkp_gen_seal(f->r, "emr", cap, when, when + 60, NULL, g), 0);
}

static void test_stream_round_trip(void **state)
{
    (void)state;
    ops_repo f;
    assert_int_equal(ops_repo_new(&f, "capture-stream", policy_text), 0);
    size_t n = 24u << 20; /* past the read slabs: memory bounded by them, not by n */
    uint8_t *b = malloc(n);
    assert_non_null(b);
    fill(b, n, 42, 0, 0);
    bkp_capture cap;
    bkp_gen *g = NULL;
    time_t when = 1767225600;
    capture(&f, b, n, when, &cap, &g);
    assert_int_equal(cap.stats.files, 1);
    assert_int_equal(cap.stats.bytes, n);
    assert_int_equal(cap.stats.bytes_read, n);
    assert_int_equal(cap.tree_items, 1);
    assert_true(cap.stats.chunks > 4);
    bkp_capture_clear(&cap);

    /* One regular file of that name, 0600, root's, dated as given. */
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    bkp_item_init(&it);
    assert_int_equal(bkp_tree_reader_new(f.r, g->tree, g->ntree, &tr), 0);
    assert_int_equal(bkp_tree_reader_next(tr, &it), 1);
    assert_string_equal(archive_entry_pathname(it.entry), "emr.dump");
    assert_int_equal(archive_entry_filetype(it.entry), AE_IFREG);
    assert_int_equal(archive_entry_perm(it.entry), 0600);
    assert_int_equal(archive_entry_uid(it.entry), 0);
    assert_int_equal(archive_entry_mtime(it.entry), when);
    assert_int_equal(archive_entry_size(it.entry), (la_int64_t)n);
    bkp_item_clear(&it);
    assert_int_equal(bkp_tree_reader_next(tr, &it), 0);
    bkp_tree_reader_free(tr);

    /* Dumped back, byte for byte. */
    int fd = memfd_create("dump", 0);
    uint64_t got = 0;
    assert_int_equal(rst_dump(f.r, g, "emr.dump", fd, &got), 0);
    assert_int_equal(got, n);
    uint8_t *back = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(back != MAP_FAILED);
    assert_memory_equal(back, b, n);
    munmap(back, n);
    close(fd);
    bkp_gen_free(g);

    /* The next day: 100 bytes changed in the middle; most chunks are known. */
    fill(b, n, 42, n / 2, 100);
    capture(&f, b, n, when + OPS_DAY, &cap, &g);
    assert_true(cap.stats.bytes_new < n / 4);
    assert_true(cap.stats.chunks_new <= 3);
    bkp_capture_clear(&cap);
    bkp_gen_free(g);
    free(b);
    ops_repo_free(&f);
}

/* Read all of `fd` into `out` (at most `cap`): the count. */
static size_t read_all(int fd, char *out, size_t cap)
{
    size_t n = 0;
    ssize_t k;
    while (n < cap && (k = read(fd, out + n, cap - n)) > 0)
        n += (size_t)k;
    return n;
}

static void test_stream_command(void **state)
{
    (void)state;
    bkp_hook_proc *h = NULL;
    bkp_hook_result r;
    char buf[256];
    int fd = -1;

    /* Its output is data, its standard error the tail; exit 0. */
    bkp_hook_spec spec = {.command = "printf 'dump bytes'; echo progress >&2", .timeout = 30,
                          .quiet = true};
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    size_t n = read_all(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(bkp_hook_finish(h, false, &r), 0);
    assert_int_equal(n, 10);
    assert_memory_equal(buf, "dump bytes", 10);
    assert_string_equal(r.tail, "progress");
    assert_int_equal(r.exit_code, 0);

    /* A failure after its output: the caller must not seal what it read. */
    spec.command = "printf 'half'; echo 'pg_dump: error: lost' >&2; exit 2";
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    n = read_all(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(bkp_hook_finish(h, false, &r), -ECHILD);
    assert_int_equal(n, 4);
    assert_int_equal(r.exit_code, 2);
    assert_string_equal(r.tail, "pg_dump: error: lost");

    /* Past its limit while the reader waits: killed, and the read ends. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    spec = (bkp_hook_spec){.command = "printf x; sleep 60", .timeout = 1, .quiet = true};
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    n = read_all(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(bkp_hook_finish(h, false, &r), -ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(n, 1);
    assert_true(r.timed_out);
    assert_true(t1.tv_sec - t0.tv_sec < 20);

    /* A reader that gives up: the command is ended, its group too, even one
     * that ignores TERM (KILL 5 s later). */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    spec = (bkp_hook_spec){.command = "trap '' TERM PIPE; printf x; sleep 60", .timeout = 0,
                           .quiet = true};
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    assert_int_equal(read(fd, buf, 1), 1);
    close(fd);
    assert_int_equal(bkp_hook_finish(h, true, &r), -ECHILD);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(r.signal, 9);
    assert_true(t1.tv_sec - t0.tv_sec < 20);

    /* Exit 0 with a writer of its group still running: not all of it. */
    spec = (bkp_hook_spec){.command = "(sleep 3; echo late) & echo early", .timeout = 30,
                           .quiet = true};
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    n = read_all(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(bkp_hook_finish(h, false, &r), -ECHILD);
    assert_true(r.left_running);
    assert_int_equal(r.exit_code, 0);

    /* Exit 0 with a writer that left its group holding the output open:
     * the reader is told to give up (the cancel descriptor), 5 s on. */
    spec = (bkp_hook_spec){.command = "setsid sh -c 'sleep 30' & sleep 1; echo early", .timeout = 30,
                           .quiet = true};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    struct pollfd w[2] = {{.fd = fd, .events = POLLIN}, {.fd = bkp_hook_cancel_fd(h), .events = POLLIN}};
    bool cancelled = false;
    while (!cancelled && poll(w, 2, 20000) > 0) {
        if (w[1].revents & POLLIN)
            cancelled = true;
        else if (read(fd, buf, sizeof(buf)) <= 0)
            break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    assert_true(cancelled);
    assert_int_equal(bkp_hook_finish(h, false, &r), -ECHILD);
    assert_true(r.held_open);
    assert_true(t1.tv_sec - t0.tv_sec < 15);

    /* A stream needs somewhere for its data. */
    assert_int_equal(bkp_hook_start(&spec, NULL, &h), -EINVAL);

    /* A command that cannot start: said at the finish. */
    spec = (bkp_hook_spec){.command = "true", .timeout = 5, .dir = "/nonexistent/bkp-test"};
    assert_int_equal(bkp_hook_start(&spec, &fd, &h), 0);
    assert_int_equal(read_all(fd, buf, sizeof(buf)), 0);
    close(fd);
    assert_int_equal(bkp_hook_finish(h, false, &r), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_round_trip),
        cmocka_unit_test(test_stream_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
