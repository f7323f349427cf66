/* key_from.c — see key_from.h. */
#include "bkp/ops/key_from.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/shares.h"

/* Where the sheet's text ends in a file: the Markdown fence or the HTML
 * <pre> that holds it in a printed document, else the end of the file. */
static const char *sheet_end(const char *start, const char *file_end)
{
    const char *end = strstr(start, "```");
    if (!end)
        end = strstr(start, "</pre>");
    return end ? end : file_end;
}

/* What is wrong with the sheet in file `path`, for the person who typed it
 * (lines counted from the first line of characters after BKP-SHEET). */
static void say_fault(const char *path, const bkp_sheet_why *w)
{
    switch (w->fault) {
    case BKP_SHEET_FAULT_MISSING:
        bkp_error(_("--key-from %s: line %d of the sheet is missing; type it from the paper"), path,
                  w->line);
        break;
    case BKP_SHEET_FAULT_SHORT:
        bkp_error(_("--key-from %s: line %d of the sheet has %d characters, the paper's has %d: "
                    "type the whole line, with the two check characters at its end"),
                  path, w->line, w->got, w->want);
        break;
    case BKP_SHEET_FAULT_LONG:
        bkp_error(_("--key-from %s: line %d of the sheet has %d characters, the paper's has %d: "
                    "compare it with the paper"),
                  path, w->line, w->got, w->want);
        break;
    case BKP_SHEET_FAULT_CHAR:
        bkp_error(_("--key-from %s: line %d of the sheet holds '%c', which a sheet never uses "
                    "(only digits and the letters A to Z but U); compare it with the paper"),
                  path, w->line, (w->ch > ' ' && w->ch < 0x7f) ? w->ch : '?');
        break;
    case BKP_SHEET_FAULT_LABEL:
        bkp_error(_("--key-from %s: line %d of the sheet is labelled as another line; type the "
                    "lines in the paper's order (the \"N:\" labels may be left out)"),
                  path, w->line);
        break;
    case BKP_SHEET_FAULT_EXTRA:
        bkp_error(_("--key-from %s: there is more after the sheet's last line (%d); remove what "
                    "is not the sheet"),
                  path, w->line - 1);
        break;
    case BKP_SHEET_FAULT_CHECK:
        bkp_error(_("--key-from %s: a typing mistake on line %d of the sheet (counted from the "
                    "first line of characters after the BKP-SHEET header); compare that line with "
                    "the paper and type it again"),
                  path, w->line);
        break;
    default:
        bkp_error(_("--key-from %s: the sheet's header or its overall checksum is wrong; compare "
                    "the BKP-SHEET line and every line with the paper"),
                  path);
    }
}

int ops_key_sheet_read(const char *path, bkp_sheet *s)
{
    bkp_buf b;
    int rc;
    bkp_buf_init(&b);
    rc = bkp_read_file(path, &b, OPS_SHEET_FILE_MAX);
    if (rc) {
        bkp_error(_("--key-from %s: %s; give the file of a paper or share sheet (a regular file "
                    "of at most %d KiB)"),
                  path, rc == -EBADMSG ? _("not a regular file") : bkp_strerror(rc),
                  OPS_SHEET_FILE_MAX / 1024);
        bkp_buf_free(&b);
        return -EINVAL;
    }
    size_t raw = b.len; /* typed with the input method on: made plain, the rest wiped */
    b.len = bkp_sheet_halfwidth((char *)b.data, b.len);
    sodium_memzero(b.data + b.len, raw - b.len);
    bkp_buf_u8(&b, 0);
    bkp_sheet_why why;
    char *text = (char *)b.data, *start = strcasestr(text, "BKP-SHEET");
    if (!start) {
        bkp_error(_("--key-from %s: no key sheet in it (a sheet begins with BKP-SHEET)"), path);
        rc = -EINVAL;
        goto out;
    }
    rc = bkp_sheet_parse_why(start, (size_t)(sheet_end(start, text + b.len - 1) - start), s, &why);
    struct stat st;
    if (rc == 0 && stat(path, &st) == 0 && (st.st_mode & 077))
        bkp_warn(_("--key-from %s: others may read this file (mode %04o), and it holds the "
                   "repository's key: if it is a copy typed for today, delete it when you are "
                   "done, or keep it where only root can read it"),
                 path, (unsigned)(st.st_mode & 07777));
    if (rc == 0)
        goto out;
    say_fault(path, &why);
    rc = -EINVAL;
out:
    /* The file held the secret: no copy of it outlives this read. */
    sodium_memzero(b.data, b.len);
    bkp_buf_free(&b);
    return rc;
}

/* Shares: combined (only the first K are used), and their numbers. */
static int combine(const bkp_sheet *s, int n, uint8_t master[32], bkp_sheets_used *used)
{
    const bkp_sheet *p[BKP_SHEET_SHARES_MAX] = {0};
    const char *why = NULL;
    int np = 0;
    for (int i = 0; i < n && np < BKP_SHEET_SHARES_MAX; i++) {
        /* The same sheet twice (two files of one sheet): used once, said. */
        bool twice = false;
        for (int j = 0; j < np && !twice; j++)
            twice = p[j]->kind == BKP_SHEET_SHARE && s[i].kind == BKP_SHEET_SHARE &&
                    p[j]->index == s[i].index &&
                    !sodium_memcmp(p[j]->secret, s[i].secret, BKP_SHEET_SECRET_LEN);
        if (twice)
            bkp_note(_("--key-from: share %d was given twice; it is used once"), s[i].index);
        else
            p[np++] = &s[i];
    }
    n = np;
    int rc = bkp_shares_combine(p, (size_t)np, master, &why);
    if (rc && why == bkp_shares_too_few)
        bkp_error(_("--key-from: fewer shares than the split needs: %d given, %d of its %d "
                    "needed; give --key-from once for each sheet; nothing was read"),
                  n, (int)s[0].k, (int)s[0].n);
    else if (rc)
        bkp_error(_("--key-from: the share sheets do not open the key: %s; nothing was read"),
                  why ? _(why) : bkp_strerror(rc));
    if (rc)
        return -EKEYREJECTED; /* like a wrong passphrase: exit 4 */
    used->kind = BKP_SHEET_SHARE;
    used->threshold = s[0].k;
    used->of = s[0].n;
    for (int i = 0; i < n && i < s[0].k; i++) {
        bkp_sheet_sum_text(p[i], used->sums[used->nshares]);
        used->shares[used->nshares++] = p[i]->index;
    }
    return 0;
}

int ops_key_sheets_master(const bkp_sheet *s, int n, int typed, uint8_t master[32],
                          bkp_sheets_used *used)
{
    *used = (bkp_sheets_used){.typed = typed};
    if (n > 0 && s[0].kind == BKP_SHEET_PAPER) {
        if (n != 1) {
            bkp_error(_("--key-from: give one paper sheet alone, or share sheets only"));
            return -EINVAL;
        }
        memcpy(master, s[0].secret, 32);
        used->kind = BKP_SHEET_PAPER;
        return 0;
    }
    return combine(s, n < 0 ? 0 : n, master, used); /* none: "no share sheet" */
}
