/*
 * report.h — what people read on paper: the printable procedure (手順書)
 * of a runbook, and the report of a drill or a restore by runbook, in
 * Markdown or HTML, in Japanese or English. Everything here is text built
 * from values the caller gathered; nothing is looked up.
 */
#ifndef RST_REPORT_H
#define RST_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "restore/runbook.h"

typedef enum { RB_MARKDOWN, RB_HTML } rb_format;

/* A writer of headings, paragraphs and tables in either format. */
typedef struct rb_doc rb_doc;
rb_doc *rb_doc_new(rb_format f, const char *title);
void rb_doc_h2(rb_doc *d, const char *text);
/* A paragraph; `text` in backquotes is code (HTML: <code>). */
void rb_doc_para(rb_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `s` into `f` as HTML text or an attribute's value: the five specials
 * escaped. */
void rb_html_escape(FILE *f, const char *s);
/* The same for prose: `text` in backquotes is code (<code>text</code>), as
 * Markdown shows it; a backquote left open is closed at the end. */
void rb_html_prose(FILE *f, const char *s);
/* A table: the header cells, then rows of as many cells (NULL-terminated lists). */
void rb_doc_table(rb_doc *d, const char *const *header);
void rb_doc_row(rb_doc *d, const char *const *cells);
void rb_doc_table_end(rb_doc *d);
/* Finish and return the text (malloc'd); frees `d`. */
char *rb_doc_finish(rb_doc *d);

/* The printable procedure. `copies` (may be NULL) lists where usable copies
 * are today: [{"medium", "type", "location", "offline", "generation",
 * "captured"}]; `folders` (may be NULL) maps a data set of one folder to it
 * ({"emr-db": "/var/backups/emr"}), so the printed restore puts its contents
 * where the engine would; `repo` is the primary repository's path,
 * `fingerprint` its key's (pubkey.h; NULL when it is not open), `now` the
 * date printed on it (0: none, for a copy kept on a medium, which should
 * not change with the day). */
char *rb_print(const rb_runbook *rb, json_t *copies, json_t *folders, const char *repo,
               const char *fingerprint, rb_format f, bool ja, time_t now);

/* The procedure as a medium carries it beside its recovery kit, for a
 * machine that has never seen bkp: mounted read-only at `mount` (the
 * medium's path in the policy), every command runs the medium's kit there
 * with the key typed from paper (KEY). */
typedef struct rb_on_medium {
    const char *name;  /* the medium's name in the policy */
    const char *mount; /* where the procedure mounts it */
    bool archive;      /* a folder of archives (DATASET@SEQ.tar), not a repository copy */
} rb_on_medium;

/* The procedure of `rb` for the medium `on`, in Markdown: `held` lists the
 * generations it holds, one row each, as rb_print's `copies`; `now` the
 * rotation that wrote it. */
char *rb_print_on_medium(const rb_runbook *rb, const rb_on_medium *on, json_t *held,
                         json_t *folders, const char *fingerprint, bool ja, time_t now);

/* The report of a drill or run, from rb_report_json. */
char *rb_report_render(json_t *report, rb_format f, bool ja);

/* Which sources a drill read, and why, for people: a report's "read_from"
 * ("offline", "no_offline", "primary", "named", "key_recovery", "all";
 * bkp/ops/drill.h). */
const char *rb_read_from_text(const char *from);

/* A time of the log (YYYY-MM-DDTHH:MM:SSZ) for people: local, to the
 * minute, with the zone ("2026-11-26 06:51 JST"); the text as it is when
 * it is not such a time. */
const char *rb_local(char *buf, size_t n, const char *iso);

/* "4h", "30m", "12.3 s" */
const char *rb_duration_text(char *buf, size_t n, double seconds);
/* The string `o`[`k`] of a report's JSON, or "" when it is absent or not a
 * string: what the renderers print. */
const char *rb_js(json_t *o, const char *k);
const char *rb_status_word(const char *status);

#endif
