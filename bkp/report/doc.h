/*
 * doc.h — a document people read, in Markdown or HTML: the status page,
 * the evidence report, the policy's annex, the printed procedures and the
 * key and label sheets are all written through it. Text built from values
 * the caller gathered; nothing is looked up.
 */
#ifndef BKP_REPORT_DOC_H
#define BKP_REPORT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

typedef enum { RB_MARKDOWN, RB_HTML } rb_format;

/* A writer of headings, paragraphs and tables in either format. */
typedef struct rb_doc rb_doc;
rb_doc *rb_doc_new(rb_format f, const char *title);
void rb_doc_h2(rb_doc *d, const char *text);
/* A paragraph; `text` in backquotes is code (HTML: <code>). */
void rb_doc_para(rb_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A block of text to type or copy as it is (a file's content, commands):
 * Markdown fenced, HTML <pre>. */
void rb_doc_code(rb_doc *d, const char *text);
/* `s` into `f` as HTML text or an attribute's value: the five specials
 * escaped. */
void rb_html_escape(FILE *f, const char *s);
/* The same for prose: `text` in backquotes is code (<code>text</code>), as
 * Markdown shows it; a backquote left open is closed at the end. */
void rb_html_prose(FILE *f, const char *s);
/* A table: the header cells, then rows of as many cells (NULL-terminated lists). */
void rb_doc_table(rb_doc *d, const char *const *header);
void rb_doc_row(rb_doc *d, const char *const *cells);
/* Column `col` of the open table holds commands to type: in Markdown a
 * cell there with a bar, which a table escapes (and on paper the escape is
 * what is read and typed), says where it is, and follows the table as a
 * block to copy. Until the table ends. */
void rb_doc_commands(rb_doc *d, size_t col);
void rb_doc_table_end(rb_doc *d);
/* Finish and return the text (malloc'd); frees `d`. */
char *rb_doc_finish(rb_doc *d);

/* The day of `t` in the server's local time, as the report's period and
 * every time for people are written, "2026-11-24", into `buf` (at least 11
 * bytes); "" for 0. */
const char *rb_day(char *buf, size_t n, time_t t);

/* "4h", "30m", "12.3 s" */
const char *rb_duration_text(char *buf, size_t n, double seconds);

#endif
