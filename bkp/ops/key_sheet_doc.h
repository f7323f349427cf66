/*
 * key_sheet_doc.h — the printable document of a key sheet (sheet.h): the
 * sheet's text, a QR code of the same text (libqrencode), the repository,
 * the public key's fingerprint, the date and what to do with the sheet, in
 * Markdown or HTML, in Japanese or English. A renderer, as
 * bkp/report/doc.h's documents are; `bkp key export --paper` and `bkp key
 * split` write it (key_paper.h).
 *
 * The document holds the secret: it is one buffer of OPS_SHEET_DOC_MAX
 * bytes, never reallocated, which ops_key_sheet_doc_free wipes whole.
 */
#ifndef BKP_OPS_KEY_SHEET_DOC_H
#define BKP_OPS_KEY_SHEET_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bkp/keys/sheet.h"

/* An SVG of the largest QR code needed here is under 100 KiB. */
#define OPS_SHEET_DOC_MAX (512 * 1024)

/* How a sheet is printed: `format` an rb_format (bkp/report/doc.h:
 * RB_MARKDOWN or RB_HTML); in Japanese when `ja`, whatever the locale; at
 * `now`; naming the policy's `facility` (NULL: none), so that a safe that
 * holds the sheets of several servers tells them apart. */
typedef struct ops_sheet_look {
    int format;
    bool ja;
    time_t now;
    const char *facility;
} ops_sheet_look;

/* The document of sheet `s` of the repository whose public key is `pk`,
 * printed as `look` says. Its length into `*len`; NULL (logged) for a share
 * whose numbers are out of range, without memory, or a document that does
 * not fit. Free it with ops_key_sheet_doc_free. */
char *ops_key_sheet_doc(const bkp_sheet *s, const uint8_t pk[32], const ops_sheet_look *look,
                        size_t *len);
/* Wipe and free a document (NULL: nothing). */
void ops_key_sheet_doc_free(char *text);

#endif
