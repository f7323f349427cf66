/*
 * key_sheet_doc.c — see key_sheet_doc.h.
 *
 * The document holds the secret, so it is written into one buffer of fixed
 * size that is never reallocated (a growing buffer would leave copies behind
 * in freed memory) and that the caller wipes. libqrencode keeps its own
 * copies while it encodes; they are freed, not wiped, and live no longer
 * than this short process.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/ops/key_sheet_doc.h"

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"
#include "bkp/keys/qr.h"
#include "bkp/report/doc.h"

#define DOC_MAX OPS_SHEET_DOC_MAX

typedef struct doc {
    char *p;
    size_t len;
    bool html, ja, full;
} doc;

static void put(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(doc *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = d->full ? -1 : vsnprintf(d->p + d->len, DOC_MAX - d->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= DOC_MAX - d->len)
        d->full = true;
    else
        d->len += (size_t)n;
}

/* Text from outside (the policy's facility) into a table cell: HTML's
 * specials escaped; Markdown's bar escaped; a line break a space. */
static void put_text(doc *d, const char *t)
{
    for (; t && *t; t++) {
        char c = *t == '\n' || *t == '\r' ? ' ' : *t;
        if (d->html && c == '&')
            put(d, "&amp;");
        else if (d->html && c == '<')
            put(d, "&lt;");
        else if (d->html && c == '>')
            put(d, "&gt;");
        else if (d->html && c == '"')
            put(d, "&quot;");
        else if (!d->html && c == '|')
            put(d, "\\|");
        else
            put(d, "%c", c);
    }
}

/* A piece of the QR code's drawing (qr.h), into the document. */
static void put_piece(void *ctx, const char *piece)
{
    put(ctx, "%s", piece);
}

static void put_h2(doc *d, const char *text)
{
    put(d, d->html ? "<h2>%s</h2>\n" : "## %s\n\n", text);
}

static void put_row(doc *d, const char *k, const char *v)
{
    put(d, d->html ? "<tr><th>%s</th><td>%s</td></tr>\n" : "| %s | %s |\n", k, v);
}

/* Everything here comes from fixed alphabets (base32, hex, digits, the
 * texts below) but the facility, written by put_text. */
static void put_header(doc *d, const bkp_sheet *s, const uint8_t pk[32], const ops_sheet_look *look)
{
    char uuid[37], fp[BKP_FINGERPRINT_LEN], date[48], kind[256];
    uuid_unparse_lower(s->repo_id, uuid);
    bkp_pubkey_fingerprint(pk, fp); /* the same text on labels, procedures and reports */
    bkp_local_time(date, sizeof(date), look->now, "-"); /* as every time for people */
    const char *title = s->kind == BKP_SHEET_PAPER ? _("bkp key sheet") : _("bkp key share");
    if (s->kind == BKP_SHEET_PAPER)
        snprintf(kind, sizeof(kind), "%s", _("the master secret, whole"));
    else
        snprintf(kind, sizeof(kind), _("share %u of %u; any %u open the repository"), s->index,
                 s->n, s->k);
    if (d->html)
        put(d, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s</title>"
               "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
               "table{border-collapse:collapse}td,th{border:1px solid #888;padding:.3em .5em;"
               "text-align:left}pre{font-size:1.3em}@media print{body{margin:0}}</style>"
               "</head><body>\n<h1>%s</h1>\n<table>\n",
            d->ja ? "ja" : "en", title, title);
    else
        put(d, "# %s\n\n| %s | %s |\n|---|---|\n", title, _("Item"), _("Value"));
    if (look->facility && *look->facility) {
        put(d, d->html ? "<tr><th>%s</th><td>" : "| %s | ", _("Facility"));
        put_text(d, look->facility);
        put(d, d->html ? "</td></tr>\n" : " |\n");
    }
    put_row(d, _("Repository"), uuid);
    put_row(d, _("Public key fingerprint"), fp);
    put_row(d, _("What this sheet holds"), kind);
    put_row(d, _("Printed"), date);
    put(d, d->html ? "</table>\n" : "\n");
}

static void put_steps(doc *d, const bkp_sheet *s)
{
    put_h2(d, _("What to do with this sheet"));
    const char *steps[7] = {0};
    char share[512];
    if (s->kind == BKP_SHEET_PAPER) {
        steps[0] =
            _("This sheet is the repository's key. With it every copy of the repository (the "
              "server's, each disk, each archive) can be opened without the passphrase, and "
              "every record in it read. Keep it like the passphrase: in a locked safe, in "
              "another building than the server.");
    } else {
        snprintf(share, sizeof(share),
                 _("This sheet is share %u of %u. Any %u shares together open every copy of the "
                   "repository; fewer reveal nothing of the key. Give each share to a different "
                   "holder (another institution, the contractor), list who holds which number, "
                   "and never keep %u shares in one place."),
                 s->index, s->n, s->k, s->k);
        steps[0] = share;
    }
    steps[1] = _("Do not photograph, scan or copy it, and type it into a computer only to recover. "
                 "Delete the file it was printed from once it is on paper.");
    steps[2] = _("Check the fingerprint above against what `bkp key fingerprint` prints: it is the "
                 "public key that signs the audit log.");
    steps[3] = _("Each line ends in two check characters: when the sheet is typed back, a mistake "
                 "is reported with the number of its line. The QR code holds the same text.");
    steps[4] =
        s->kind == BKP_SHEET_PAPER
            ? _("To use it, give it to bkp where it asks for the passphrase: typed into a "
                "file as printed, `--key-from FILE` (`bkp restore DATASET:latest /srv/restore "
                "--from /mnt/usb --key-from sheet.md`), or typed at the terminal line by "
                "line, `--key-from -`.")
            : _("To use the shares, give them to bkp where it asks for the passphrase: "
                "each typed into a file as printed, one `--key-from FILE` for each (`bkp "
                "restore DATASET:latest /srv/restore --from /mnt/usb --key-from share-1.md "
                "--key-from share-3.md …`), or typed at the terminal, `--key-from -`, "
                "which asks for each.");
    steps[5] =
        _("Write on its envelope where it is kept and who may open it. Printing it is in the "
          "audit log.");
    put(d, d->html ? "<ol>\n" : "");
    for (int i = 0; steps[i]; i++) {
        if (!d->html) {
            put(d, "%d. %s\n", i + 1, steps[i]);
            continue;
        }
        /* `code` in backquotes, as Markdown shows it */
        bool code = false;
        put(d, "<li>");
        for (const char *p = steps[i]; *p; p++)
            if (*p == '`')
                put(d, (code = !code) ? "<code>" : "</code>");
            else
                put(d, "%c", *p);
        put(d, "</li>\n");
    }
    put(d, d->html ? "</ol>\n</body></html>\n" : "\n");
}

static char *sheet_doc(const bkp_sheet *s, const uint8_t pk[32], const ops_sheet_look *look,
                       size_t *len)
{
    doc dd = {.html = look->format == RB_HTML, .ja = look->ja}, *d = &dd;
    char text[BKP_SHEET_TEXT_MAX];
    if (bkp_sheet_format(s, text) != 0) {
        bkp_error(_("key sheet: the share's numbers are out of range"));
        return NULL;
    }
    if (!(d->p = calloc(1, DOC_MAX))) {
        bkp_error(_("key sheet: out of memory making the QR code"));
        sodium_memzero(text, sizeof(text));
        return NULL;
    }
    put_header(d, s, pk, look);
    put_h2(d, s->kind == BKP_SHEET_PAPER ? _("The key") : _("The share"));
    put(d, d->html ? "<pre>%s</pre>\n" : "```text\n%s```\n\n", text);
    put_h2(d, _("The same, as a QR code"));
    if (!d->html)
        put(d, "```text\n");
    if (bkp_qr_draw(text, d->html, put_piece, d))
        d->full = true; /* not encoded: no sheet without its QR code */
    if (!d->html)
        put(d, "```\n\n");
    put_steps(d, s);
    sodium_memzero(text, sizeof(text));
    if (d->full) {
        bkp_error(_("key sheet: the document does not fit in %d bytes"), DOC_MAX);
        sodium_memzero(d->p, DOC_MAX);
        free(d->p);
        return NULL;
    }
    *len = d->len;
    return d->p;
}

char *ops_key_sheet_doc(const bkp_sheet *s, const uint8_t pk[32], const ops_sheet_look *look,
                        size_t *len)
{
    /* In the language asked for (--lang), whatever the locale it is run in. */
    bkp_i18n_saved saved;
    bkp_i18n_begin(&saved, look->ja ? "ja" : "en");
    char *p = sheet_doc(s, pk, look, len);
    bkp_i18n_end(&saved);
    return p;
}

void ops_key_sheet_doc_free(char *text)
{
    if (!text)
        return;
    /* The whole buffer, not only the document's length: nothing of the
     * secret may outlive it in freed memory. */
    sodium_memzero(text, DOC_MAX);
    free(text);
}
