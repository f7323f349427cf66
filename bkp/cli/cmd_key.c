/*
 * cmd_key.c — bkp key: the public key's fingerprint, and the master secret
 * on paper for a safe, whole (`export --paper`) or as K-of-N Shamir shares
 * (`split`). The program checks the arguments and says what was done; the
 * documents, the files (created O_EXCL|O_NOFOLLOW, mode 0600), the audit
 * record before the secret and the clean-up on failure are
 * bkp/ops/key_paper.c's, whose header gives the reasons and what a crash
 * leaves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/audit/audit.h"
#include "bkp/io/bytes.h"
#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/keys.h"
#include "bkp/io/log.h"
#include "bkp/ops/key_paper.h"
#include "bkp/keys/pubkey.h"
#include "bkp/keys/sheet.h"
#include "bkp/report/doc.h"

/* The exit code of a library answer (bkp/ops/key_paper.h: logged there). */
static int exit_of(int rc)
{
    return rc >= 0 ? EXIT_OK : rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

static int key_fingerprint(cli *c)
{
    const uint8_t *pk = bkp_keys_sign_pk(bkp_repo_keys(c->ro));
    char fp[BKP_FINGERPRINT_LEN], brief[BKP_FINGERPRINT_SHORT_LEN], hex[65];
    bkp_pubkey_fingerprint(pk, fp);
    bkp_pubkey_fingerprint_short(fp, brief);
    bkp_hex(hex, pk, 32);
    if (c->json) {
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "repository", bkp_repo_uuid(c->ro),
                                 "public_key", hex, "fingerprint", fp, "short", brief));
        return EXIT_OK;
    }
    printf(_("repository %s\npublic key (Ed25519) fingerprint:\n  %.39s\n  %s\n"),
           bkp_repo_uuid(c->ro), fp, fp + 40);
    printf(_("short, as on the media's paper labels: %s\n"), brief);
    return EXIT_OK;
}

/* The facility of the policy read, when its repository is the one open
 * (`--repo` may name another: then no facility, rather than another
 * server's); NULL otherwise. */
static const char *facility_of(const cli *c)
{
    const pol_policy *p = c->policy;
    if (!p || !p->facility || !p->repository || !c->repo)
        return NULL;
    char *a = realpath(p->repository, NULL), *b = realpath(c->repo, NULL);
    bool same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    return same ? p->facility : NULL;
}

/* How the sheets are printed: the format and language asked for, now, and
 * the facility of the repository's policy. */
static ops_sheet_look sheet_look(cli *c, int format)
{
    return (ops_sheet_look){
        .format = format, .ja = cli_lang_ja(c), .now = bkp_now(), .facility = facility_of(c)};
}

static int key_export(cli *c)
{
    int format, ex;
    if (!c->paper || c->shares || c->threshold) {
        bkp_error(_("key export: write `bkp key export --paper [-o FILE]`: the key leaves the key "
                    "file only on paper (or as shares: bkp key split)"));
        return EXIT_USAGE;
    }
    if ((ex = cli_format(c, &format)))
        return ex;
    ops_sheet_file o;
    ops_sheet_files_init(&o, 1);
    ops_sheet_look look = sheet_look(c, format);
    if (!(o.text = ops_key_paper_doc(bkp_repo_keys(c->ro), &look, &o.len)))
        return EXIT_FAILED;
    json_t *fig = json_pack("{s:s, s:s, s:s}", "format", format == RB_HTML ? "html" : "md", "lang",
                            cli_lang_ja(c) ? "ja" : "en", "output", c->output ? c->output : "-");
    bkp_audit_rec rec = {.op = "key-export", .figures = fig};
    if (!c->output) {
        /* On the terminal: recorded first, as a file would be. */
        if (cli_audit(c, &rec) != 0) {
            bkp_error(_("key export: the key was not printed, because its export could not be "
                        "recorded in the audit log"));
            ex = EXIT_FAILED;
        } else {
            ex = fwrite(o.text, 1, o.len, stdout) == o.len && fflush(stdout) == 0 ? EXIT_OK
                                                                                  : EXIT_FAILED;
        }
    } else {
        ex = exit_of(ops_key_sheet_write_to(c->r, c->output, &o, &rec));
        if (!ex && !c->json)
            printf(
                _("wrote the key sheet to %s (mode 0600): print it, check the fingerprint, put it "
                  "in a safe and delete the file\n"),
                c->output);
    }
    json_decref(fig);
    ops_sheet_files_free(&o, 1);
    return ex;
}

static int count_arg(const char *what, const char *v, unsigned lo, unsigned *out)
{
    char *end;
    unsigned long n = v ? strtoul(v, &end, 10) : 0;
    if (!v || *v < '0' || *v > '9' || *end || n < lo || n > BKP_SHEET_SHARES_MAX) {
        bkp_error(_("key split: %s %s: give a number from %u to %d"), what, v ? v : "(missing)", lo,
                  BKP_SHEET_SHARES_MAX);
        return EXIT_USAGE;
    }
    *out = (unsigned)n;
    return EXIT_OK;
}

static int key_split(cli *c)
{
    unsigned k, n;
    int format, ex;
    if (c->paper || !c->output) {
        bkp_error(_("key split: write `bkp key split --shares N --threshold K -o DIR`"));
        return EXIT_USAGE;
    }
    if ((ex = count_arg("--shares", c->shares, 2, &n)) ||
        (ex = count_arg("--threshold", c->threshold, 2, &k)) || (ex = cli_format(c, &format)))
        return ex;
    if (k > n) {
        bkp_error(_("key split: --threshold %u is more than the %u shares"), k, n);
        return EXIT_USAGE;
    }
    int dirfd = ops_key_shares_dir(c->output);
    if (dirfd < 0)
        return EXIT_USAGE;
    ops_sheet_file *o = calloc(n, sizeof(*o));
    if (o)
        ops_sheet_files_init(o, n);
    ops_sheet_look look = sheet_look(c, format);
    ex = o ? exit_of(ops_key_share_docs(bkp_repo_keys(c->ro), k, n, &look, o)) : EXIT_FAILED;
    if (ex == EXIT_USAGE)
        ex = EXIT_FAILED; /* the arguments were checked above */
    if (!ex) {
        json_t *sums = json_array();
        for (unsigned i = 0; sums && i < n; i++)
            json_array_append_new(sums, json_string(o[i].sum));
        /* The sheets' checksums tell this split from any other (sheet.h). */
        json_t *fig =
            json_pack("{s:i, s:i, s:s, s:s, s:o*}", "shares", (int)n, "threshold", (int)k, "format",
                      format == RB_HTML ? "html" : "md", "output", c->output, "sums", sums);
        bkp_audit_rec rec = {.op = "key-split", .figures = fig};
        ex = exit_of(ops_key_sheets_write(c->r, dirfd, c->output, o, n, &rec));
        json_decref(fig);
    }
    if (!ex && !c->json)
        printf(_("wrote %u share sheets to %s (mode 0600); any %u of them open the repository.\n"
                 "Print them, give each to a different holder, note who holds which number, "
                 "and delete the files.\n"),
               n, c->output, k);
    if (o)
        ops_sheet_files_free(o, n);
    free(o);
    close(dirfd);
    return ex;
}

int cmd_key(cli *c)
{
    const char *verb = c->args[0];
    if (c->nargs > 1 && strcmp(verb, "passwd") && strcmp(verb, "remove")) {
        bkp_error(_("key %s: takes no argument after it"), verb);
        return EXIT_USAGE;
    }
    if (strcmp(verb, "export") && strcmp(verb, "split") &&
        (c->paper || c->output || c->shares || c->threshold)) {
        bkp_error(_("key %s: --paper, -o, --shares and --threshold belong to key export and key "
                    "split"),
                  verb);
        return EXIT_USAGE;
    }
    if (c->machine_key && strcmp(verb, "add")) {
        bkp_error(_("key %s: --machine-key belongs to key add"), verb);
        return EXIT_USAGE;
    }
    if ((c->label || c->new_passphrase_file) && strcmp(verb, "add") && strcmp(verb, "passwd")) {
        bkp_error(_("key %s: --label and --new-passphrase-file belong to key add and key passwd"),
                  verb);
        return EXIT_USAGE;
    }
    if (!strcmp(verb, "fingerprint"))
        return key_fingerprint(c);
    if (!strcmp(verb, "export"))
        return key_export(c);
    if (!strcmp(verb, "split"))
        return key_split(c);
    if (!strcmp(verb, "list") || !strcmp(verb, "add") || !strcmp(verb, "passwd") ||
        !strcmp(verb, "remove"))
        return cli_key_slots(c);
    bkp_error(_("key %s: not a key command; write key list, add, passwd, remove, fingerprint, "
                "export --paper or split"),
              verb);
    return EXIT_USAGE;
}
