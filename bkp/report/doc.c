/* doc.c — the writer of documents people read (doc.h). */
#include "bkp/report/doc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"

struct rb_doc {
    FILE *f;
    char *text;
    size_t len;
    rb_format fmt;
    size_t cols; /* of the open table */
    size_t cmd;  /* its column of commands (rb_doc_commands), or SIZE_MAX */
    /* Markdown: the cells of the open table moved below it (rb_doc_row). */
    char **moved;
    size_t nmoved;
};

/* One character as HTML text: the five specials escaped. */
static void html_char(FILE *f, char c)
{
    switch (c) {
    case '<':
        fputs("&lt;", f);
        break;
    case '>':
        fputs("&gt;", f);
        break;
    case '&':
        fputs("&amp;", f);
        break;
    case '"':
        fputs("&quot;", f);
        break;
    case '\'':
        fputs("&#39;", f);
        break;
    default:
        fputc(c, f);
    }
}

void rb_html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++)
        html_char(f, *s);
}

void rb_html_prose(FILE *f, const char *s)
{
    bool code = false;
    for (; s && *s; s++)
        if (*s == '`')
            fputs((code = !code) ? "<code>" : "</code>", f);
        else
            html_char(f, *s);
    if (code)
        fputs("</code>", f);
}

/* Text into the document, escaped for its format (Markdown: table bars and
 * line breaks; HTML: the five specials, and line breaks in a table). */
static void put(rb_doc *d, const char *s)
{
    for (; s && *s; s++) {
        if (d->fmt == RB_HTML && *s == '\n' && d->cols) {
            fputs("<br>", d->f);
            continue;
        }
        if (d->fmt == RB_HTML) {
            html_char(d->f, *s);
            continue;
        }
        if (*s == '|' && d->cols) { /* in a table (rb_doc_row moves commands out of it) */
            fputs("\\|", d->f);
            continue;
        } else if (*s == '\n') {
            fputs(d->cols ? "<br>" : "\n", d->f);
            continue;
        }
        fputc(*s, d->f);
    }
}

rb_doc *rb_doc_new(rb_format f, const char *title)
{
    rb_doc *d = calloc(1, sizeof(*d));
    if (!d || !(d->f = open_memstream(&d->text, &d->len))) {
        free(d);
        return NULL;
    }
    d->fmt = f;
    if (f == RB_HTML) {
        /* Its language, as its words are (bkp_i18n_begin chose them): a
         * browser then takes Japanese glyphs, not Chinese, to print it. */
        fprintf(d->f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
                bkp_i18n_reader_japanese() ? "ja" : "en");
        put(d, title);
        /* A cell at least a short word wide: "はい" beside a long cell is
         * not stacked a character a line. */
        fputs("</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
              "table{border-collapse:collapse}td,th{border:1px solid #888;padding:.3em .5em;"
              "vertical-align:top;text-align:left;min-width:3.5em}.box{font-size:1.3em}"
              "@media print{body{margin:0}}</style></head><body>\n<h1>",
              d->f);
        put(d, title);
        fputs("</h1>\n", d->f);
    } else {
        fputs("# ", d->f);
        put(d, title);
        fputs("\n\n", d->f);
    }
    return d;
}

void rb_doc_h2(rb_doc *d, const char *text)
{
    fputs(d->fmt == RB_HTML ? "<h2>" : "## ", d->f);
    put(d, text);
    fputs(d->fmt == RB_HTML ? "</h2>\n" : "\n\n", d->f);
}

void rb_doc_para(rb_doc *d, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (d->fmt == RB_HTML) {
        fputs("<p>", d->f);
        rb_html_prose(d->f, s);
        fputs("</p>\n", d->f);
    } else {
        put(d, s);
        fputs("\n\n", d->f);
    }
    free(s);
}

void rb_doc_code(rb_doc *d, const char *text)
{
    if (d->fmt == RB_HTML) {
        fputs("<pre>", d->f);
        rb_html_escape(d->f, text);
        fputs("</pre>\n", d->f);
    } else {
        fprintf(d->f, "```\n%s%s```\n\n", text, *text && text[strlen(text) - 1] == '\n' ? "" : "\n");
    }
}

void rb_doc_table(rb_doc *d, const char *const *header)
{
    d->cols = 0;
    d->cmd = SIZE_MAX;
    while (header[d->cols])
        d->cols++;
    if (d->fmt == RB_HTML) {
        fputs("<table>\n<tr>", d->f);
        for (size_t i = 0; i < d->cols; i++) {
            fputs("<th>", d->f);
            put(d, header[i]);
            fputs("</th>", d->f);
        }
        fputs("</tr>\n", d->f);
        return;
    }
    fputs("|", d->f);
    for (size_t i = 0; i < d->cols; i++) {
        fputc(' ', d->f);
        put(d, header[i]);
        fputs(" |", d->f);
    }
    fputs("\n|", d->f);
    for (size_t i = 0; i < d->cols; i++)
        fputs("---|", d->f);
    fputc('\n', d->f);
}

void rb_doc_commands(rb_doc *d, size_t col)
{
    d->cmd = col;
}

/* Keep cell `c` to follow the table (Markdown): false without memory (the
 * cell is then written in it, escaped). */
static bool move(rb_doc *d, const char *c)
{
    char **v = realloc(d->moved, (d->nmoved + 1) * sizeof(*v)), *copy = strdup(c);
    if (v)
        d->moved = v;
    if (!v || !copy) {
        free(copy);
        return false;
    }
    d->moved[d->nmoved++] = copy;
    return true;
}

void rb_doc_row(rb_doc *d, const char *const *cells)
{
    fputs(d->fmt == RB_HTML ? "<tr>" : "|", d->f);
    for (size_t i = 0; i < d->cols; i++) {
        const char *c = cells[i] ? cells[i] : "";
        if (d->fmt == RB_HTML) {
            fputs(!strcmp(c, "☐") ? "<td class=\"box\">" : "<td>", d->f);
            put(d, c);
            fputs("</td>", d->f);
        } else if (i == d->cmd && strchr(c, '|') && move(d, c)) {
            /* A bar in a cell is escaped, and on paper the escape is what
             * is read — and in a command, typed: such a cell says where its
             * text is, and the text follows the table, as it is. */
            fputc(' ', d->f);
            fprintf(d->f, _("(below the table: [%zu])"), d->nmoved);
            fputs(" |", d->f);
        } else {
            fputc(' ', d->f);
            put(d, c);
            fputs(" |", d->f);
        }
        if (!cells[i])
            break;
    }
    fputs(d->fmt == RB_HTML ? "</tr>\n" : "\n", d->f);
}

void rb_doc_table_end(rb_doc *d)
{
    d->cols = 0;
    d->cmd = SIZE_MAX;
    fputs(d->fmt == RB_HTML ? "</table>\n" : "\n", d->f);
    for (size_t i = 0; i < d->nmoved; i++) {
        fprintf(d->f, "[%zu]\n\n", i + 1);
        rb_doc_code(d, d->moved[i]);
        free(d->moved[i]);
    }
    free(d->moved);
    d->moved = NULL;
    d->nmoved = 0;
}

char *rb_doc_finish(rb_doc *d)
{
    char *t;
    if (d->cols)
        rb_doc_table_end(d); /* a table left open: closed, its moved cells after it */
    if (d->fmt == RB_HTML)
        fputs("</body></html>\n", d->f);
    fclose(d->f);
    t = d->text;
    free(d);
    return t;
}

const char *rb_day(char *buf, size_t n, time_t t)
{
    struct tm tm;
    if (!t || !localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d", &tm))
        snprintf(buf, n, "%s", "");
    return buf;
}

const char *rb_duration_text(char *buf, size_t n, double s)
{
    if (s < 60)
        snprintf(buf, n, _("%.1f s"), s);
    else if (s < 3600)
        snprintf(buf, n, _("%.0f min %02.0f s"), (double)((long)s / 60), (double)((long)s % 60));
    else
        snprintf(buf, n, _("%ld h %02ld min"), (long)s / 3600, ((long)s % 3600) / 60);
    return buf;
}
