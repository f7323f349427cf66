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
#include <string.h>

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
    assert_int_equal(more, n - BKP_LOG_SCOPE_HELD / (sizeof(line) - 1));
    assert_int_equal(printed.n, n - more);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_then_printed_or_not),
        cmocka_unit_test_setup_teardown(test_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outlived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_scope, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
