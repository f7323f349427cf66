/*
 * keyfrom.c — `--key-from FILE...`: open a repository, a medium's copy or an
 * archive with the key sheets from the safe instead of the passphrase — one
 * paper sheet, or K share sheets — for the day the server and every
 * passphrase are gone. The master secret lives in guarded memory only as
 * long as the open takes, and every use is in the audit log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/durable.h"
#include "bkp/log.h"
#include "bkp/shares.h"
#include "bkp/sheet.h"

/* A sheet file is a printed document (`bkp key export --paper`, `bkp key
 * split`) or the sheet typed into a text file: far below this. */
#define SHEET_FILE_MAX (64 * 1024)

/* The sheet in `path`: its text from the "BKP-SHEET" header to the end of
 * the block that holds it (a Markdown fence, an HTML <pre>) or of the file.
 * -EINVAL (logged, naming the file and the line) when it cannot be read. */
static int read_sheet(const char *path, bkp_sheet *s)
{
    bkp_buf b;
    int line = 0, rc;
    bkp_buf_init(&b);
    rc = bkp_read_file(path, &b, SHEET_FILE_MAX);
    if (rc) {
        bkp_error("--key-from %s: %s; give the file of a paper or share sheet (a regular file "
                  "of at most %d KiB)",
                  path, rc == -EBADMSG ? "not a regular file" : bkp_strerror(rc),
                  SHEET_FILE_MAX / 1024);
        bkp_buf_free(&b);
        return -EINVAL;
    }
    bkp_buf_u8(&b, 0);
    char *text = (char *)b.data, *start = strcasestr(text, "BKP-SHEET");
    if (!start) {
        bkp_error("--key-from %s: no key sheet in it (a sheet begins with BKP-SHEET)", path);
        rc = -EINVAL;
        goto out;
    }
    char *end = strstr(start, "```");
    if (!end)
        end = strstr(start, "</pre>");
    if (!end)
        end = text + b.len - 1;
    rc = bkp_sheet_parse(start, (size_t)(end - start), s, &line);
    if (rc == 0)
        goto out;
    if (line > 0)
        bkp_error("--key-from %s: a typing mistake on line %d of the sheet (counted from the "
                  "first line of characters after the BKP-SHEET header); compare that line with "
                  "the paper and type it again",
                  path, line);
    else
        bkp_error("--key-from %s: the sheet's header or its overall checksum is wrong; compare "
                  "the BKP-SHEET line and every line with the paper",
                  path);
    rc = -EINVAL;
out:
    sodium_memzero(b.data, b.len);
    bkp_buf_free(&b);
    return rc;
}

/* The master secret from the sheets of --key-from into `master`, and what
 * was used (for the audit record) into `*what`. -EINVAL (logged). */
static int sheets_master(cli *c, uint8_t master[32], json_t **what)
{
    bkp_sheet *s = sodium_malloc(sizeof(*s) * CLI_KEY_FROM_MAX);
    const bkp_sheet *p[CLI_KEY_FROM_MAX];
    const char *why = NULL;
    int rc = 0;
    if (!s)
        return -ENOMEM;
    memset(s, 0, sizeof(*s) * CLI_KEY_FROM_MAX);
    for (int i = 0; i < c->nkey_from && !rc; i++) {
        rc = read_sheet(c->key_from[i], &s[i]);
        p[i] = &s[i];
    }
    if (rc)
        goto out;
    if (s[0].kind == BKP_SHEET_PAPER) {
        if (c->nkey_from != 1) {
            bkp_error("--key-from: give one paper sheet alone, or share sheets only");
            rc = -EINVAL;
            goto out;
        }
        memcpy(master, s[0].secret, 32);
        *what = json_pack("{s:s}", "kind", "paper");
        goto out;
    }
    rc = bkp_shares_combine(p, (size_t)c->nkey_from, master, &why);
    if (rc) {
        bkp_error("--key-from: the share sheets do not open the key: %s; nothing was read",
                  why ? why : bkp_strerror(rc));
        rc = -EINVAL;
        goto out;
    }
    json_t *used = json_array();
    for (int i = 0; i < c->nkey_from && i < s[0].k; i++)
        json_array_append_new(used, json_integer(s[i].index));
    *what = json_pack("{s:s,s:o,s:i,s:i}", "kind", "shares", "shares", used, "threshold",
                      (int)s[0].k, "of", (int)s[0].n);
out:
    sodium_free(s); /* wipes */
    if (!rc && !*what)
        rc = -ENOMEM;
    return rc;
}

int cli_key_from_check(cli *c)
{
    json_t *what = NULL;
    uint8_t *master = sodium_malloc(32);
    if (!master)
        return EXIT_FAILED;
    int rc = sheets_master(c, master, &what);
    sodium_free(master); /* wipes */
    json_decref(what);
    return rc == -EINVAL ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
}

int cli_open_key_from(cli *c, const char *path, unsigned flags, bool staged, bkp_repo **out)
{
    json_t *what = NULL;
    uint8_t *master = sodium_malloc(32);
    if (!master)
        return -ENOMEM;
    int rc = sheets_master(c, master, &what);
    if (!rc)
        rc = bkp_repo_open_master(path, master, flags, out);
    sodium_free(master); /* wipes */
    if (!rc) {
        /* A use of the escrowed key is recorded like any other (the
         * guideline asks for it); not recorded, the open does not stand. */
        bkp_audit_rec rec = {.op = "key-from", .figures = what};
        if (cli_audit_primary(c, *out, staged, &rec)) {
            bkp_repo_free(*out);
            *out = NULL;
            rc = -EIO;
        }
    }
    json_decref(what);
    return rc;
}
