/*
 * cmd_key.c — bkp key: the public key's fingerprint, and the master secret
 * on paper for a safe, whole (`export --paper`) or as K-of-N Shamir shares
 * (`split`).
 *
 * Putting the key on paper is the one time the master secret leaves the key
 * file, so each step is deliberate: the files are created first (O_EXCL and
 * O_NOFOLLOW, mode 0600: never over an existing file, never through a planted
 * link), then the audit record is appended — if it cannot be, nothing is
 * written, because an escrowed key must have a record of every use — and
 * only then the secret is written. The secret lives in guarded memory and
 * the documents are wiped before they are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/audit.h"
#include "bkp/bytes.h"
#include "bkp/cli/cli.h"
#include "bkp/clock.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/keys.h"
#include "bkp/log.h"
#include "bkp/shares.h"
#include "bkp/sheet.h"
#include "restore/report.h"

typedef struct sheet_file {
    char name[64]; /* relative to the directory's descriptor */
    int fd;
    char *text; /* the document, holding the secret */
    size_t len;
} sheet_file;

static void sheet_files_free(sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o[i].fd >= 0)
            close(o[i].fd);
        if (o[i].text) {
            sodium_memzero(o[i].text, o[i].len);
            free(o[i].text);
        }
    }
}

static void unlink_created(int dirfd, sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].fd >= 0)
            (void)unlinkat(dirfd, o[i].name, 0);
}

/* Create every file, O_EXCL and O_NOFOLLOW, mode 0600. EXIT_USAGE when a
 * name is taken (by a file or a link), EXIT_FAILED else; none is left. */
static int create_all(int dirfd, const char *where, sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        o[i].fd = openat(dirfd, o[i].name,
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (o[i].fd < 0 || fchmod(o[i].fd, 0600) != 0) {
            int e = errno;
            bkp_error(_("%s%s%s: %s; a key sheet is never written over an existing file or through "
                        "a link: move it away or name another place"),
                      where, *where ? "/" : "", o[i].name,
                      e == EEXIST ? _("exists (a file or a link)") : strerror(e));
            unlink_created(dirfd, o, i + (o[i].fd >= 0));
            return e == EEXIST ? EXIT_USAGE : EXIT_FAILED;
        }
    }
    return EXIT_OK;
}

/* Files created, record appended, then the secret written. */
static int write_sheets(cli *c, int dirfd, const char *where, sheet_file *o, size_t n,
                        bkp_audit_rec *rec)
{
    int ex = create_all(dirfd, where, o, n);
    if (ex)
        return ex;
    if (cli_audit(c, rec) != 0) {
        bkp_error(_("%s: the key was not written, because its export could not be recorded in the "
                    "audit log; repair the log (bkp audit verify) and try again"),
                  rec->op);
        unlink_created(dirfd, o, n);
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = bkp_write_full(o[i].fd, o[i].text, o[i].len);
        if (rc == 0)
            rc = bkp_fsync_fd(o[i].fd);
        if (rc) {
            /* Half a sheet is worse than none: it would fail only on the day
             * it is needed. */
            bkp_error(_("%s%s%s: %s; no sheet was kept, try again"), where, *where ? "/" : "",
                      o[i].name, strerror(-rc));
            unlink_created(dirfd, o, n);
            rec->failed = true;
            rec->error = strerror(-rc);
            (void)cli_audit(c, rec);
            return EXIT_FAILED;
        }
    }
    int rc = bkp_fsync_fd(dirfd);
    if (rc)
        bkp_warn(_("%s: the folder could not be synced: %s"), *where ? where : ".",
                 strerror(-rc));
    return EXIT_OK;
}

static int key_fingerprint(cli *c)
{
    const uint8_t *pk = bkp_keys_sign_pk(bkp_repo_keys(c->r));
    char fp[CLI_FINGERPRINT_LEN], hex[65];
    cli_key_fingerprint(pk, fp);
    bkp_hex(hex, pk, 32);
    if (c->json) {
        cli_print_json(json_pack("{s:s, s:s, s:s}", "repository", bkp_repo_uuid(c->r),
                                 "public_key", hex, "fingerprint", fp));
        return EXIT_OK;
    }
    printf(_("repository %s\npublic key (Ed25519) fingerprint:\n  %.39s\n  %s\n"),
           bkp_repo_uuid(c->r), fp, fp + 40);
    return EXIT_OK;
}

/* The paper sheet's document, or NULL (logged). */
static char *paper_doc(cli *c, int format, size_t *len)
{
    const bkp_keys *k = bkp_repo_keys(c->r);
    bkp_sheet *s = sodium_malloc(sizeof(*s));
    if (!s) {
        bkp_error(_("key export: out of memory"));
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->kind = BKP_SHEET_PAPER;
    memcpy(s->repo_id, bkp_keys_repo_id(k), 16);
    bkp_keys_master_for_paper(k, s->secret);
    char *text = cli_key_sheet_doc(s, bkp_keys_sign_pk(k), format, cli_lang_ja(c), bkp_now(), len);
    sodium_free(s); /* wipes */
    return text;
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
    sheet_file o = {.fd = -1};
    if (!(o.text = paper_doc(c, format, &o.len)))
        return EXIT_FAILED;
    json_t *fig = json_pack("{s:s, s:s, s:s}", "format", format == RB_HTML ? "html" : "md",
                            "lang", cli_lang_ja(c) ? "ja" : "en", "output",
                            c->output ? c->output : "-");
    bkp_audit_rec rec = {.op = "key-export", .figures = fig};
    if (!c->output) {
        if (cli_audit(c, &rec) != 0) {
            bkp_error(_("key export: the key was not printed, because its export could not be "
                        "recorded in the audit log"));
            ex = EXIT_FAILED;
        } else {
            ex = fwrite(o.text, 1, o.len, stdout) == o.len && fflush(stdout) == 0 ? EXIT_OK
                                                                                  : EXIT_FAILED;
        }
    } else {
        /* POSIX dirname and basename may write into their argument: a copy each. */
        char *copy = strdup(c->output), *copy2 = strdup(c->output);
        char *dir = copy ? dirname(copy) : NULL, *base = copy2 ? basename(copy2) : "";
        int dirfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        snprintf(o.name, sizeof(o.name), "%s", base);
        if (dirfd < 0 || strlen(base) >= sizeof(o.name)) {
            bkp_error(_("key export: %s: %s"), c->output,
                      dirfd < 0 ? _("its folder cannot be opened")
                                : _("the file name is too long"));
            ex = EXIT_USAGE;
        } else {
            ex = write_sheets(c, dirfd, dir, &o, 1, &rec);
        }
        if (dirfd >= 0)
            close(dirfd);
        free(copy);
        free(copy2);
        if (!ex && !c->json)
            printf(
                _("wrote the key sheet to %s (mode 0600): print it, check the fingerprint, put it "
                  "in a safe and delete the file\n"),
                c->output);
    }
    json_decref(fig);
    sheet_files_free(&o, 1);
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

/* The folder of the shares: made 0700, or an existing folder that no one
 * else may write (who could, could swap a sheet before it is printed). */
static int shares_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        bkp_error(_("key split: %s: %s"), dir, strerror(errno));
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || (st.st_mode & 022) || st.st_uid != geteuid()) {
        bkp_error(_("key split: %s: %s"), dir,
                  fd < 0 ? _("not a folder (or a link to one); name a new folder")
                         : _("others may write to this folder (or own it); name a new folder, "
                             "which bkp makes with mode 0700"));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* The N share documents into `o`: EXIT_OK or EXIT_FAILED (logged). */
static int share_docs(cli *c, unsigned k, unsigned n, int format, sheet_file *o)
{
    const bkp_keys *keys = bkp_repo_keys(c->r);
    uint8_t *master = sodium_malloc(BKP_SHEET_SECRET_LEN);
    bkp_sheet *sh = sodium_malloc(n * sizeof(*sh));
    int ex = master && sh ? EXIT_OK : EXIT_FAILED;
    if (!ex) {
        bkp_keys_master_for_paper(keys, master);
        if (bkp_shares_split(master, bkp_keys_repo_id(keys), k, n, sh) != 0)
            ex = EXIT_FAILED;
    }
    for (unsigned i = 0; !ex && i < n; i++) {
        snprintf(o[i].name, sizeof(o[i].name), "share-%u-of-%u.%s", i + 1, n,
                 format == RB_HTML ? "html" : "md");
        o[i].text = cli_key_sheet_doc(&sh[i], bkp_keys_sign_pk(keys), format, cli_lang_ja(c),
                                      bkp_now(), &o[i].len);
        if (!o[i].text)
            ex = EXIT_FAILED;
    }
    if (ex && !(master && sh))
        bkp_error(_("key split: out of memory"));
    sodium_free(sh); /* wipes */
    sodium_free(master);
    return ex;
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
    int dirfd = shares_dir(c->output);
    if (dirfd < 0)
        return EXIT_USAGE;
    sheet_file *o = calloc(n, sizeof(*o));
    for (unsigned i = 0; o && i < n; i++)
        o[i].fd = -1;
    ex = o ? share_docs(c, k, n, format, o) : EXIT_FAILED;
    if (!ex) {
        json_t *fig = json_pack("{s:i, s:i, s:s, s:s}", "shares", (int)n, "threshold", (int)k,
                                "format", format == RB_HTML ? "html" : "md", "output", c->output);
        bkp_audit_rec rec = {.op = "key-split", .figures = fig};
        ex = write_sheets(c, dirfd, c->output, o, n, &rec);
        json_decref(fig);
    }
    if (!ex && !c->json)
        printf(_("wrote %u share sheets to %s (mode 0600); any %u of them open the repository.\n"
                 "Print them, give each to a different holder, note who holds which number, "
                 "and delete the files.\n"),
               n, c->output, k);
    if (o)
        sheet_files_free(o, n);
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
