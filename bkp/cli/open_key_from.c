/*
 * open_key_from.c — `--key-from FILE...`: open a repository, a medium's copy or an
 * archive with the key sheets from the safe instead of the passphrase — one
 * paper sheet, or K share sheets, as files or typed at the terminal
 * (`--key-from -`, key_prompt.c) — for the day the server and every
 * passphrase are gone. Every use is in the audit log.
 *
 * The sheets are read and combined once, before the command does anything
 * (cli_key_from_check): a mistake stops it at once, and a person types the
 * sheets only once however many copies the command opens. The master secret
 * is then kept in guarded memory (sodium_malloc) until the command ends
 * (cli_key_from_clear wipes it) — no longer than the keys derived from it,
 * which every open repository holds anyway. Reading a sheet file and
 * combining the sheets are bkp/ops/key_from.c's; the prompt is key_prompt.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bkp/audit/audit.h"
#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/key_from.h"
#include "bkp/keys/sheet.h"

/* The master secret from the sheets of --key-from into `master`, and which
 * were used (for the audit record) into `*used`: files read and the typed
 * ones asked for here, combined by ops_key_sheets_master. -EINVAL (logged). */
static int sheets_master(cli *c, uint8_t master[32], bkp_sheets_used *used)
{
    bkp_sheet *s = sodium_malloc(sizeof(*s) * CLI_KEY_FROM_MAX);
    int rc = 0, n = 0, typed = 0;
    if (!s)
        return -ENOMEM;
    memset(s, 0, sizeof(*s) * CLI_KEY_FROM_MAX);
    for (int i = 0; i < c->nkey_from && !rc; i++) {
        if (!strcmp(c->key_from[i], "-")) {
            typed++;
            continue;
        }
        rc = ops_key_sheet_read(c->key_from[i], &s[n++]);
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
    if (!rc)
        rc = ops_key_sheets_master(s, n, typed, master, used);
    sodium_free(s); /* wipes */
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
    bkp_sheets_used used;
    int ex = drill_without_passphrase(c);
    if (ex)
        return ex;
    if (c->key_master)
        return EXIT_OK;
    uint8_t *master = sodium_malloc(32);
    if (!master)
        return EXIT_FAILED;
    int rc = sheets_master(c, master, &used);
    if (rc) {
        sodium_free(master); /* wipes */
        return rc == -EINVAL ? EXIT_USAGE : rc == -EKEYREJECTED ? EXIT_KEY : EXIT_FAILED;
    }
    c->key_master = master;
    c->key_used = used;
    return EXIT_OK;
}

void cli_key_from_clear(cli *c)
{
    if (c->key_master)
        sodium_free(c->key_master); /* wipes */
    c->key_master = NULL;
    c->key_used = (bkp_sheets_used){0};
}

int cli_key_from_master(cli *c)
{
    if (c->key_master)
        return 0;
    int ex = cli_key_from_check(c);
    return ex == EXIT_OK      ? 0
           : ex == EXIT_USAGE ? -EINVAL
           : ex == EXIT_KEY   ? -EKEYREJECTED
                              : -ENOMEM;
}

int cli_key_from_record(cli *c, bkp_repo **out, bool staged)
{
    /* A use of the escrowed key is recorded like any other (the guideline
     * asks for it): in the primary's log, else the journal beside the
     * target (cli_record). A log found wanting stops the open; a record
     * that a full or read-only disk keeps out is said, and the restore of
     * the bad day goes on — the person is told to write it down. */
    bkp_audit_rec rec = {.op = "key-from", .figures = bkp_audit_sheets(&c->key_used)};
    int failed = cli_record(c, *out, staged, &rec);
    json_decref(rec.figures);
    if (failed) {
        bkp_repo_free(*out);
        *out = NULL;
        return -EIO;
    }
    return 0;
}

int cli_open_key_from(cli *c, const char *path, unsigned flags, bool staged, bkp_repo **out)
{
    int rc = cli_key_from_master(c);
    if (!rc)
        rc = bkp_repo_open_master(path, c->key_master, flags, out);
    if (!rc)
        rc = cli_key_from_record(c, out, staged);
    return rc;
}
