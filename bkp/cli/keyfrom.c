/*
 * keyfrom.c — `--key-from FILE...`: open a repository, a medium's copy or an
 * archive with the key sheets from the safe instead of the passphrase — one
 * paper sheet, or K share sheets, as files or typed at the terminal
 * (`--key-from -`, keyprompt.c) — for the day the server and every
 * passphrase are gone. Every use is in the audit log.
 *
 * The sheets are read and combined once, before the command does anything
 * (cli_key_from_check): a mistake stops it at once, and a person types the
 * sheets only once however many copies the command opens. The master secret
 * is then kept in guarded memory (sodium_malloc) until the command ends
 * (cli_key_from_clear wipes it) — no longer than the keys derived from it,
 * which every open repository holds anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
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
        bkp_error(_("--key-from %s: %s; give the file of a paper or share sheet (a regular file "
                    "of at most %d KiB)"),
                  path, rc == -EBADMSG ? _("not a regular file") : bkp_strerror(rc),
                  SHEET_FILE_MAX / 1024);
        bkp_buf_free(&b);
        return -EINVAL;
    }
    bkp_buf_u8(&b, 0);
    char *text = (char *)b.data, *start = strcasestr(text, "BKP-SHEET");
    if (!start) {
        bkp_error(_("--key-from %s: no key sheet in it (a sheet begins with BKP-SHEET)"), path);
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
        bkp_error(_("--key-from %s: a typing mistake on line %d of the sheet (counted from the "
                    "first line of characters after the BKP-SHEET header); compare that line with "
                    "the paper and type it again"),
                  path, line);
    else
        bkp_error(_("--key-from %s: the sheet's header or its overall checksum is wrong; compare "
                    "the BKP-SHEET line and every line with the paper"),
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
    int rc = 0, n = 0, typed = 0;
    if (!s)
        return -ENOMEM;
    memset(s, 0, sizeof(*s) * CLI_KEY_FROM_MAX);
    for (int i = 0; i < c->nkey_from && !rc; i++) {
        if (!strcmp(c->key_from[i], "-")) {
            typed++;
            continue;
        }
        rc = read_sheet(c->key_from[i], &s[n++]);
    }
    if (!rc && typed > 1) {
        bkp_error(_("--key-from -: give it once; it asks for every sheet still needed"));
        rc = -EINVAL;
    }
    if (!rc && typed) {
        int before = n;
        rc = cli_key_prompt(s, &n, CLI_KEY_FROM_MAX);
        typed = n - before;
    }
    for (int i = 0; i < n; i++)
        p[i] = &s[i];
    if (rc)
        goto out;
    if (s[0].kind == BKP_SHEET_PAPER) {
        if (n != 1) {
            bkp_error(_("--key-from: give one paper sheet alone, or share sheets only"));
            rc = -EINVAL;
            goto out;
        }
        memcpy(master, s[0].secret, 32);
        *what = json_pack("{s:s, s:i}", "kind", "paper", "typed", typed);
        goto out;
    }
    rc = bkp_shares_combine(p, (size_t)n, master, &why);
    if (rc) {
        bkp_error(_("--key-from: the share sheets do not open the key: %s; nothing was read"),
                  why ? why : bkp_strerror(rc));
        rc = -EINVAL;
        goto out;
    }
    json_t *used = json_array();
    for (int i = 0; i < n && i < s[0].k; i++)
        json_array_append_new(used, json_integer(s[i].index));
    *what = json_pack("{s:s,s:o,s:i,s:i,s:i}", "kind", "shares", "shares", used, "threshold",
                      (int)s[0].k, "of", (int)s[0].n, "typed", typed);
out:
    sodium_free(s); /* wipes */
    if (!rc && !*what)
        rc = -ENOMEM;
    return rc;
}

/* A key-recovery drill rehearses the day no passphrase is left: one given
 * as well would make the rehearsal prove nothing, so it is refused rather
 * than ignored. (The policy's passphrase_file may stay: it is not read.) */
static int drill_without_passphrase(cli *c)
{
    const char *file = getenv("BKP_PASSPHRASE_FILE"), *cmd = getenv("BKP_PASSPHRASE_COMMAND");
    if (!c->command || strcmp(c->command, "drill"))
        return EXIT_OK;
    if (c->passphrase_file || (file && *file) || (cmd && *cmd)) {
        bkp_error(_("a key-recovery drill (drill --key-from) reads no passphrase: leave out "
                    "--passphrase-file and unset BKP_PASSPHRASE_FILE and BKP_PASSPHRASE_COMMAND"));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_key_from_check(cli *c)
{
    json_t *what = NULL;
    int ex = drill_without_passphrase(c);
    if (ex)
        return ex;
    if (c->key_master)
        return EXIT_OK;
    uint8_t *master = sodium_malloc(32);
    if (!master)
        return EXIT_FAILED;
    int rc = sheets_master(c, master, &what);
    if (rc) {
        sodium_free(master); /* wipes */
        return rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
    }
    c->key_master = master;
    c->key_used = what;
    return EXIT_OK;
}

void cli_key_from_clear(cli *c)
{
    if (c->key_master)
        sodium_free(c->key_master); /* wipes */
    json_decref(c->key_used);
    c->key_master = NULL;
    c->key_used = NULL;
}

int cli_open_key_from(cli *c, const char *path, unsigned flags, bool staged, bkp_repo **out)
{
    int rc = 0;
    if (!c->key_master) {
        int ex = cli_key_from_check(c);
        rc = ex == EXIT_OK ? 0 : ex == EXIT_USAGE ? -EINVAL : -ENOMEM;
    }
    if (!rc)
        rc = bkp_repo_open_master(path, c->key_master, flags, out);
    if (!rc) {
        /* A use of the escrowed key is recorded like any other (the
         * guideline asks for it); not recorded, the open does not stand. */
        bkp_audit_rec rec = {.op = "key-from", .figures = c->key_used};
        if (cli_audit_primary(c, *out, staged, &rec)) {
            bkp_repo_free(*out);
            *out = NULL;
            rc = -EIO;
        }
    }
    return rc;
}
