/*
 * A log scope (bkp/io/log.h): the words of one piece of work nobody
 * watches — said by its thread and by the threads it starts — go to the
 * journal as they are said and are held, then printed or let go as the
 * closer decides; past its room they are counted; a thread that outlives
 * it speaks as if there were none; without a scope nothing changes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/log.h"

/* What reached the journal, and what was printed (the sink). */
typedef struct said {
    char text[8192];
    size_t n;
} said;

static said journal, printed;

static void add(said *s, const char *msg)
{
    size_t len = strlen(msg);
    if (strlen(s->text) + len + 2 < sizeof(s->text)) {
        strcat(s->text, msg);
        strcat(s->text, "\n");
    }
    s->n++;
}

static void to_journal(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    assert_ptr_equal(ctx, &journal);
    add(&journal, msg);
}

static void to_sink(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)ctx;
    add(&printed, msg);
}

static int setup(void **unused)
{
    (void)unused;
    memset(&journal, 0, sizeof(journal));
    memset(&printed, 0, sizeof(printed));
    bkp_log_set_sink(to_sink, NULL);
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    bkp_log_set_sink(NULL, NULL);
    return 0;
}

static void *worker(void *arg)
{
    bkp_warn("worker %s: cannot read a file", (const char *)arg);
    bkp_info("worker %s: read 3 files", (const char *)arg); /* below the level: nowhere */
    return NULL;
}

/* The work's words and its worker's: to the journal at once, printed at
 * the end only when the closer says so. */
static void test_held_then_printed_or_not(void **unused)
{
    (void)unused;
    for (int print = 0; print <= 1; print++) {
        setup(NULL);
        bkp_log_scope *s = bkp_log_scope_new(to_journal, &journal);
        assert_non_null(s);
        assert_null(bkp_log_scope_enter(s));
        bkp_error("emr: the before hook failed");
        pthread_t t;
        assert_int_equal(bkp_thread_create(&t, worker, "w1"), 0);
        pthread_join(t, NULL);
        assert_ptr_equal(bkp_log_scope_enter(NULL), s);
        bkp_warn("outside the scope");
        assert_int_equal(printed.n, 1); /* only the word outside */
        assert_int_equal(journal.n, 2);
        assert_non_null(strstr(journal.text, "worker w1: cannot read a file"));
        assert_null(strstr(journal.text, "read 3 files"));
        assert_int_equal(bkp_log_scope_close(s, print), 0);
        assert_int_equal(printed.n, print ? 3 : 1);
        if (print) {
            assert_non_null(strstr(printed.text, "emr: the before hook failed\n"));
            assert_non_null(strstr(printed.text, "worker w1: cannot read a file\n"));
        }
        teardown(NULL);
    }
}

/* Past its room, words are counted, not held; the journal has them all. */
static void test_room(void **unused)
{
    (void)unused;
    char line[1000];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    bkp_log_scope *s = bkp_log_scope_new(to_journal, &journal);
    bkp_log_scope_enter(s);
    size_t n = BKP_LOG_SCOPE_HELD / (sizeof(line) - 1) + 10;
    for (size_t i = 0; i < n; i++)
        bkp_warn("%s", line);
    bkp_log_scope_enter(NULL);
    assert_int_equal(journal.n, n);
    size_t more = bkp_log_scope_close(s, true);
    assert_true(more >= 10);
    assert_int_equal(printed.n, n - more);
    assert_true(printed.n * (sizeof(line) - 1) <= BKP_LOG_SCOPE_HELD);
    assert_true(printed.n >= BKP_LOG_SCOPE_HELD / (sizeof(line) - 1) - 3);
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *late_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate); /* until the scope is closed */
    pthread_mutex_unlock(&gate);
    bkp_warn("a late word");
    return NULL;
}

/* A thread that outlives the scope speaks as if there were none, and the
 * scope lives until it ends. */
static void test_outlived(void **unused)
{
    (void)unused;
    pthread_t t;
    bkp_log_scope *s = bkp_log_scope_new(to_journal, &journal);
    bkp_log_scope_enter(s);
    pthread_mutex_lock(&gate);
    assert_int_equal(bkp_thread_create(&t, late_worker, NULL), 0);
    bkp_log_scope_enter(NULL);
    bkp_log_scope_close(s, false);
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
    assert_int_equal(journal.n, 0);
    assert_int_equal(printed.n, 1);
    assert_string_equal(printed.text, "a late word\n");
}

/* Without a scope, words are printed as they come; closing none is nothing. */
static void test_no_scope(void **unused)
{
    (void)unused;
    pthread_t t;
    assert_int_equal(bkp_thread_create(&t, worker, "w2"), 0);
    pthread_join(t, NULL);
    assert_int_equal(printed.n, 1);
    assert_int_equal(bkp_log_scope_close(NULL, true), 0);
}

/* A command's output in a scope: held, never journalled, joined in one
 * piece; when long, its end is kept and its start said to be left out. It
 * is printed on stderr, read back here through a file. */
static void test_output(void **unused)
{
    (void)unused;
    char path[] = "/tmp/test_log_scope.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    bkp_log_scope *s = bkp_log_scope_new(to_journal, &journal);
    bkp_log_scope_enter(s);
    char chunk[1000];
    memset(chunk, 'o', sizeof(chunk));
    chunk[sizeof(chunk) - 1] = '\n';
    size_t n = 3 * BKP_LOG_SCOPE_HELD / sizeof(chunk);
    for (size_t i = 0; i < n; i++)
        bkp_log_output(chunk, sizeof(chunk));
    bkp_log_output("FATAL: the end\n", 15);
    bkp_log_scope_enter(NULL);
    assert_int_equal(journal.n, 0);
    assert_int_equal(bkp_log_scope_close(s, true), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char back[4 * BKP_LOG_SCOPE_HELD];
    ssize_t got = pread(fd, back, sizeof(back) - 1, 0);
    close(fd);
    unlink(path);
    assert_true(got > 0);
    back[got] = '\0';
    assert_true((size_t)got <= BKP_LOG_SCOPE_HELD);
    assert_non_null(strstr(back, "FATAL: the end\n"));
    assert_int_equal(printed.n, 1); /* the start left out, said through the sink */
    assert_non_null(strstr(printed.text, "left out"));
}

/* Words past the room are counted, and none is held after one that was
 * not: no gaps in what is printed. */
static void test_no_gaps(void **unused)
{
    (void)unused;
    char big[BKP_LOG_SCOPE_HELD];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bkp_log_scope *s = bkp_log_scope_new(to_journal, &journal);
    bkp_log_scope_enter(s);
    bkp_warn("first");
    bkp_warn("%s", big);
    bkp_warn("small after");
    bkp_log_scope_enter(NULL);
    assert_int_equal(journal.n, 3);
    assert_int_equal(bkp_log_scope_close(s, true), 2);
    assert_int_equal(printed.n, 1);
    assert_string_equal(printed.text, "first\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_then_printed_or_not),
        cmocka_unit_test_setup_teardown(test_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outlived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_gaps, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
