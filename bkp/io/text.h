/*
 * text.h — text from outside made safe for a terminal and a log.
 *
 * File names, symbolic link targets, bucket keys, an S3 server's messages,
 * the fields of a label found on a medium: bytes someone else chose. Printed
 * raw, an escape sequence among them steers the terminal (colours, a line
 * rewritten, "ALL BACKUPS VERIFIED OK" in red) and a newline forges a line
 * of a log. Every such byte is shown escaped instead: C0 controls and DEL as
 * \n, \t, \r or \xNN, C1 controls (U+0080..U+009F) and the characters that
 * reorder text (U+202A..U+202E, U+2066..U+2069) as \u{XXXX}, a byte that is
 * not valid UTF-8 as \xNN. Everything else, Japanese included, is kept.
 *
 * One function makes the text safe (bkp_text_safe); the log passes every
 * message through it, keeping the newlines of the message itself
 * (BKP_TEXT_LINES); what the program prints to standard output passes each
 * outside field (a name in `ls`, a cell of a table).
 */
#ifndef BKP_TEXT_H
#define BKP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "bkp/io/bytes.h"

enum {
    BKP_TEXT_FIELD = 0, /* one field: every control escaped, a backslash doubled */
    BKP_TEXT_LINES = 1, /* a message of several lines: newlines and tabs kept */
};

/* `s` made safe as above (malloc'd; NULL without memory). */
char *bkp_text_safe(const char *s, int how);
/* The same, written to `f`. */
void bkp_text_put(FILE *f, const char *s, int how);
/* Does `s` need escaping at all (a quick test for the common case)? */
bool bkp_text_is_safe(const char *s, int how);

/* Bytes that may not be UTF-8 as UTF-8 text (malloc'd, NULL without
 * memory): each byte that is not part of valid UTF-8 becomes \xNN, a
 * backslash \\. */
char *bkp_bytes_text(const char *s);
/* The inverse: the bytes `s` (as bkp_bytes_text wrote them) stood for
 * (malloc'd); NULL without memory, or -EINVAL (errno) when `s` is not such
 * text (a backslash not before "\\" or "xNN", or one that is NUL). */
char *bkp_text_bytes(const char *s);
/* `s` as one word of a shell command a person types, into `buf` (cut to
 * fit): as it is when it is plain, else in single quotes ('\'' for a quote
 * inside), so that a path with a space, a '$' or a backquote stays one path
 * and runs nothing. Returns `buf`. */
const char *bkp_shell_word(char *buf, size_t n, const char *s);

/* The full-width forms of ASCII an input method types (U+FF01..U+FF5E:
 * "ｋａｒｔｅ：２", "０２") and the ideographic space U+3000 in `s`, turned
 * into ASCII in place (each is shorter). For what is ASCII by rule, such as
 * a generation's name, never for a path. Returns how many were turned. */
size_t bkp_halfwidth(char *s);
/* A name typed by a person (a data set's, a medium's, a generation's), as
 * the rules read it: bkp_halfwidth, then the spaces around it dropped (the
 * ideographic space an input method leaves at the end). In place. */
void bkp_name_typed(char *s);

/* Names for a message, "emr, scans" into `buf`: as many of the `k` as fit,
 * then ", ..." (also when `more`: there were others). "" for none.
 * Returns buf. */
const char *bkp_names_join(char *buf, size_t n, const char *const *names, size_t k, bool more);

/* A size for people, "1.5 GiB"-style (binary units), into `buf`. */
const char *bkp_size_text(char *buf, size_t n, uint64_t bytes);

/* The name of the user we run as (the real uid) into `buf` (`n` bytes,
 * at least 2), "?" when it has none: for records and lock files. Safe in
 * any thread (getpwuid_r). */
const char *bkp_user_name(char *buf, size_t n);

#endif
