/*
 * The document writer (bkp/report/doc.h) in Markdown, as it is printed and
 * read on paper: a bar in a table's prose is escaped, but a command holding
 * one (in the column the caller names) is never printed escaped — its cell
 * says where it is, and it follows the table as a block to copy; outside a
 * table nothing is escaped; in HTML a cell is always whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/report/doc.h"

static const char check[] = "test \"$(find \"$BKP_TARGET\" -type f | wc -l)\" -gt 0";

static void test_markdown(void **unused)
{
    (void)unused;
    rb_doc *d = rb_doc_new(RB_MARKDOWN, "t");
    assert_non_null(d);
    rb_doc_para(d, "a pipe outside a table: `ls | wc -l`");
    rb_doc_table(d, (const char *[]){"#", "What", "How", NULL});
    rb_doc_commands(d, 2);
    rb_doc_row(d, (const char *[]){"1", "scans | letters", "bkp restore", NULL});
    rb_doc_row(d, (const char *[]){"2", "check", check, NULL});
    rb_doc_table_end(d);
    /* The next table has no column of commands. */
    rb_doc_table(d, (const char *[]){"What", NULL});
    rb_doc_row(d, (const char *[]){"a | b", NULL});
    rb_doc_table_end(d);
    char *t = rb_doc_finish(d);
    assert_non_null(strstr(t, "a pipe outside a table: `ls | wc -l`"));
    assert_non_null(strstr(t, "| 1 | scans \\| letters | bkp restore |"));
    assert_non_null(strstr(t, "| 2 | check | (below the table: [1]) |"));
    assert_non_null(
        strstr(t, "\n[1]\n\n```\ntest \"$(find \"$BKP_TARGET\" -type f | wc -l)\" -gt 0\n```\n"));
    assert_null(strstr(t, "\\| wc"));
    assert_non_null(strstr(t, "| a \\| b |"));
    free(t);
}

static void test_html(void **unused)
{
    (void)unused;
    rb_doc *d = rb_doc_new(RB_HTML, "t");
    rb_doc_table(d, (const char *[]){"#", "How", NULL});
    rb_doc_commands(d, 1);
    rb_doc_row(d, (const char *[]){"2", check, NULL});
    rb_doc_table_end(d);
    char *t = rb_doc_finish(d);
    assert_non_null(strstr(t, "-type f | wc -l"));
    assert_null(strstr(t, "below the table"));
    free(t);
}

/* A table left open is closed at the end, its moved cells after it. */
static void test_left_open(void **unused)
{
    (void)unused;
    rb_doc *d = rb_doc_new(RB_MARKDOWN, "t");
    rb_doc_table(d, (const char *[]){"How", NULL});
    rb_doc_commands(d, 0);
    rb_doc_row(d, (const char *[]){"a | b", NULL});
    char *t = rb_doc_finish(d);
    assert_non_null(strstr(t, "[1]\n\n```\na | b\n```"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_left_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
