/* What every subcommand shares: the policy, the repository, output. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bkp/cli/cli.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/keys.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/media/label.h"
#include "bkp/keys/pubkey.h"
#include "bkp/io/text.h"
#include "bkp/ops/medium_check.h"
#include "bkp/host/trust.h"
#include "bkp/ops/runbook_load.h"
#include "bkp/report/doc.h"
#include "restore/runbook.h"

int cli_exit_for(int rc)
{
    switch (rc) {
    case 0:
        return EXIT_OK;
    case -EINVAL:
    case -EEXIST:
    case -ENOENT:
        return EXIT_USAGE;
    default:
        return EXIT_FAILED;
    }
}

pol_policy *cli_policy(cli *c)
{
    if (c->policy)
        return c->policy;
    if (!c->policy_file || !*c->policy_file)
        c->policy_file = POL_DEFAULT_FILE; /* main put $BKP_POLICY here when set */
    /* Its hooks run as root: believed only when no one else may change it
     * (trust.h), and read through the path that was checked. A missing file
     * is left to pol_load, which says where a policy is looked for. */
    char *real = NULL;
    int rc = bkp_trust_file(c->policy_file, 0, N_("policy"), &real);
    if (rc == -EPERM || pol_load(real ? real : c->policy_file, &c->policy))
        c->policy = NULL;
    free(real);
    /* Without a terminal (cron's mail, systemd's journal) what the command
     * says is read by the clinic's staff: in the policy's language, as its
     * status page and mails are, unless LANGUAGE asks for one. At a
     * terminal, the person's locale, when it names a language: a fresh
     * machine's console (C.UTF-8) names none, and gets the policy's too —
     * the same words on the screen as in the session's log. */
    const char *asked = getenv("LANGUAGE"), *term = getenv("TERM");
    bool console = term && !strcmp(term, "linux"); /* the kernel's console draws no kanji */
    if (c->policy && c->policy->language && !(asked && *asked) &&
        (!isatty(STDERR_FILENO) || (!bkp_i18n_asked() && !console)))
        bkp_i18n_use(c->policy->language);
    return c->policy;
}

bool cli_policy_named(const cli *c)
{
    /* Named on the command line or in the environment, or the default one
     * is there: every command uses it then (runbook print, --from MEDIUM). */
    return c->policy || (c->policy_file && *c->policy_file) || access(POL_DEFAULT_FILE, F_OK) == 0;
}

const char *cli_passphrase_file(cli *c)
{
    const char *env = getenv("BKP_PASSPHRASE_FILE");
    if (c->passphrase_file)
        return c->passphrase_file;
    if (env && *env)
        return env;
    /* What cli_passphrase_source would pick, without its side effects. */
    if (c->policy && !getenv("BKP_PASSPHRASE_COMMAND"))
        return c->policy->passphrase_file;
    return NULL;
}

const char *cli_repo_path(cli *c)
{
    if (!c->repo)
        c->repo = getenv("BKP_REPO");
    if (c->repo && *c->repo)
        return c->repo;
    /* No --repo: the policy names it (and where the passphrase comes from). */
    pol_policy *p = cli_policy(c);
    if (!p) {
        bkp_error(
            _("no repository: give --repo DIR, set BKP_REPO, or give a policy with --policy FILE"));
        return NULL;
    }
    c->repo = p->repository;
    cli_passphrase_source(c);
    return c->repo;
}

void cli_passphrase_source(cli *c)
{
    pol_policy *p = cli_policy_named(c) ? cli_policy(c) : NULL;
    if (!p || c->passphrase_typed || c->passphrase_file || getenv("BKP_PASSPHRASE_FILE") ||
        getenv("BKP_PASSPHRASE_COMMAND"))
        return;
    if (p->passphrase_file)
        c->passphrase_file = p->passphrase_file;
    else if (p->passphrase_command)
        setenv("BKP_PASSPHRASE_COMMAND", p->passphrase_command, 1);
}

int cli_passphrase(cli *c, char **pass, size_t *len, bool *typed)
{
    /* A machine set up anew on the bad day: the policy came with the
     * package, its passphrase file did not. A person at the terminal, in
     * the foreground, who only reads (no writer's lock held while asking),
     * types the passphrase; cron, a script in the background and a writer
     * are still told that the file is missing. Said once: the file is then
     * dropped for this command. */
    const char *file = c->passphrase_file;
    bool person = isatty(STDIN_FILENO) && isatty(STDERR_FILENO) &&
                  tcgetpgrp(STDIN_FILENO) == getpgrp() && !c->writer;
    if (person && file && c->policy && file == c->policy->passphrase_file &&
        access(file, F_OK) < 0 && errno == ENOENT && bkp_passphrase_can_ask()) {
        bkp_warn(_("the passphrase file %s named by the policy %s is not here: type the "
                   "passphrase (or open with the key sheets from the safe: --key-from SHEET)"),
                 file, c->policy->file);
        c->passphrase_file = file = NULL;
        c->passphrase_typed = true; /* cli_passphrase_source leaves it so */
    }
    const char *env_file = getenv("BKP_PASSPHRASE_FILE"),
               *env_cmd = getenv("BKP_PASSPHRASE_COMMAND");
    if (typed)
        *typed = !file && !(env_file && *env_file) && !(env_cmd && *env_cmd);
    return bkp_passphrase_get(file, 0, pass, len);
}

int cli_passphrase_tries(cli *c, int (*try)(void *ctx, const char *pass, size_t plen), void *ctx,
                         char **kept, size_t *kept_len)
{
    int rc = -EKEYREJECTED;
    /* Typed at the terminal: a slip of the finger is typed again, at most
     * three times, rather than the whole command. */
    for (int left = 3; rc == -EKEYREJECTED && left > 0; left--) {
        char *pass = NULL;
        size_t plen = 0;
        bool typed = false;
        if (cli_passphrase(c, &pass, &plen, &typed))
            return -ENOKEY;
        if (typed && !plen) { /* Enter alone, or Ctrl-D: not a try, a stop */
            bkp_passphrase_free(pass, plen);
            bkp_error(_("no passphrase typed; nothing was opened. Without it, open with the key "
                        "sheet from the safe: --key-from SHEET"));
            return -ENOKEY;
        }
        rc = try(ctx, pass, plen);
        if (kept && (rc != -EKEYREJECTED || !typed || left == 1)) {
            *kept = pass; /* the last one, for the caller */
            *kept_len = plen;
        } else {
            bkp_passphrase_free(pass, plen);
        }
        if (rc != -EKEYREJECTED || !typed)
            break;
        if (left > 1)
            bkp_warn(_("type it again (tries left: %d; watch Caps Lock and the input method), or "
                       "press Ctrl-C and open with the key sheet: --key-from SHEET"),
                     left - 1);
    }
    return rc;
}

typedef struct open_try {
    const char *path;
    unsigned flags;
    bkp_repo **out;
} open_try;

static int try_open(void *ctx, const char *pass, size_t plen)
{
    open_try *o = ctx;
    return bkp_repo_open(o->path, pass, plen, o->flags, o->out);
}

int cli_open_passphrase(cli *c, const char *path, unsigned flags, bkp_repo **out)
{
    open_try o = {path, flags, out};
    return cli_passphrase_tries(c, try_open, &o, NULL, NULL);
}

/* The handles opened for this command, by the dispatcher or by a handler
 * that opens what it reads itself. Kept here rather than in `cli`, so that
 * a handler holds only what the table gives it: c->ro, and c->r when the
 * command writes. */
static bkp_repo *kept[8];
static size_t nkept;

void cli_keep(bkp_repo *h)
{
    if (!h)
        return;
    if (nkept == sizeof(kept) / sizeof(*kept))
        abort(); /* a command opens one or two: more is a programming error */
    kept[nkept++] = h;
}

void cli_close_kept(void)
{
    while (nkept)
        bkp_repo_free(kept[--nkept]);
}

int cli_open_repo(cli *c, unsigned flags, bkp_repo **out)
{
    int rc;
    if (!cli_repo_path(c))
        return EXIT_USAGE;
    if ((rc = cli_repo_check(c->repo))) {
        struct stat st;
        if (c->media && stat(c->repo, &st) < 0)
            /* verify --media compares a medium with the server's repository:
             * on a machine without it, the restore checks every file. */
            bkp_note(_("verify --media needs this server's repository beside the medium; "
                       "without it, a restore authenticates every file it reads: bkp restore "
                       "DATASET:latest DIR --from %s --verify"),
                     c->media);
        return rc; /* said before a passphrase is asked for */
    }
    if (c->nkey_from) {
        rc = cli_open_key_from(c, c->repo, flags, false, out);
    } else {
        rc = cli_open_passphrase(c, c->repo, flags, out);
        if (rc == -ENOKEY)
            return EXIT_USAGE;
    }
    return cli_exit_open(rc, c->repo);
}

/* Is `dir` a folder seen to be empty (one that cannot be read is not)? */
static bool folder_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool empty = d != NULL;
    while (d && empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return empty;
}

int cli_repo_check(const char *repo)
{
    struct stat st;
    char *cfg = bkp_path_join(repo, "config");
    char *label = bkp_path_join(repo, BKP_LABEL_FILE);
    char *copy = bkp_path_join(repo, "repo/config");
    int rc = !cfg ? -ENOMEM : stat(cfg, &st) < 0 ? -errno : 0;
    bool medium = label && stat(label, &st) == 0;
    bool has_copy = copy && stat(copy, &st) == 0; /* a disk's; an archive folder has none */
    free(cfg);
    free(label);
    free(copy);
    if (rc == -EACCES) { /* backups are written by root, for root */
        bkp_error(_("cannot read the repository %s: permission denied; run bkp as root (sudo), "
                    "or as the user who owns it"),
                  repo);
        return EXIT_FAILED;
    }
    if (rc != -ENOENT && rc != -ENOTDIR)
        return EXIT_OK; /* there, or not known: opening it says what is wrong */
    if (stat(repo, &st) < 0)
        bkp_error(_("there is no repository at %s; check --repo (or the policy's repository), "
                    "or mount the disk that holds it"),
                  repo);
    else if (medium && has_copy) /* a backup disk's mount point: its copy is below */
        bkp_error(_("%s is a backup disk (it holds BKP-LABEL): its repository is %s/repo; give "
                    "--repo %s/repo (restore takes the disk itself: --from %s)"),
                  repo, repo, repo, repo);
    else if (medium) /* a folder of archives */
        bkp_error(_("%s is a backup medium of archives (it holds BKP-LABEL), not a repository: "
                    "restore from it with --from %s"),
                  repo, repo);
    else if (folder_empty(repo))
        bkp_error(_("%s is not a bkp repository (no config file); check --repo or run "
                    "`bkp init --repo %s`"),
                  repo, repo);
    else /* never a new repository over someone's files, nor a backup's */
        bkp_error(_("%s is not a bkp repository (no config file); check --repo"), repo);
    return EXIT_NOREPO;
}

bool cli_repo_on_medium(const char *repo, char **mount)
{
    struct stat st;
    char *real = realpath(repo, NULL);
    char *slash = real ? strrchr(real, '/') : NULL;
    bool copy = slash && slash != real && !strcmp(slash + 1, "repo");
    char *label = NULL;
    if (copy) {
        *slash = '\0';
        label = bkp_path_join(real, BKP_LABEL_FILE);
        copy = label && stat(label, &st) == 0 && S_ISREG(st.st_mode);
    }
    free(label);
    if (copy)
        *mount = real;
    else
        free(real);
    return copy;
}

int cli_exit_open(int rc, const char *repo)
{
    struct stat st;
    char *cfg = repo ? bkp_path_join(repo, "config") : NULL;
    bool none = rc == -ENOENT && cfg && stat(cfg, &st) < 0;
    free(cfg);
    if (!rc)
        return EXIT_OK;
    if (rc == -EKEYREJECTED)
        return EXIT_KEY;
    if (rc == -EACCES && repo) /* backups are written by root, for root */
        bkp_error(_("run bkp as root (sudo), or as the user who owns the repository %s"), repo);
    if (none)
        return EXIT_NOREPO;
    return rc == -ENOENT || rc == -EPROTO || rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

int cli_key_pin(cli *c)
{
    if (!c->key_fingerprint || c->key_pinned)
        return EXIT_OK;
    int rc = bkp_pubkey_from_arg("--key-fingerprint", c->key_fingerprint, c->key_pin);
    if (rc)
        return rc == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
    c->key_pinned = true;
    return EXIT_OK;
}

int cli_key_pin_check(const cli *c, const char *from, bkp_repo **r)
{
    if (!c->key_pinned || !memcmp(c->key_pin, bkp_repo_sign_pk(*r), 32))
        return EXIT_OK;
    char want[BKP_FINGERPRINT_LEN], got[BKP_FINGERPRINT_LEN];
    bkp_pubkey_fingerprint(c->key_pin, want);
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(*r), got);
    if (c->nkey_from) /* the sheets opened it: they and the copy agree, the fingerprint does not */
        bkp_error(_("%s opened with the key sheets you typed, whose key is %s; the fingerprint "
                    "given with --key-fingerprint (%s) is another: compare what you typed with "
                    "the fingerprint printed on the sheet; nothing is read until they agree"),
                  from ? from : _("the repository"), got, want);
    else
        bkp_error(_("%s is under the key %s, not %s (--key-fingerprint): it is another "
                    "repository's copy, or one put there by someone; it is not read"),
                  from ? from : _("the repository"), got, want);
    bkp_repo_free(*r);
    *r = NULL;
    return EXIT_KEY;
}

int cli_open_public(cli *c, bkp_repo **out)
{
    if (!cli_repo_path(c))
        return EXIT_USAGE;
    int rc = bkp_repo_open_public(c->repo, c->pinned_pk, out);
    if (rc == -EKEYREJECTED)
        return EXIT_FAILED; /* not the repository pinned: that is a failed check */
    return rc == -ENOENT ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
}

void cli_public_print_limits(bool verify)
{
    printf(_("  not checked: the contents of the packs, and whether every object the records name "
             "is there and sound%s: that needs the key (`bkp verify --read-data`)\n"
             "  nothing was decrypted, and this check is not recorded in the audit log (a record "
             "is signed with the key)\n"),
           verify ? "" : _(" (`bkp verify --public-key` checks the records themselves)"));
}

void cli_print_json(json_t *j)
{
    if (!j)
        return;
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    fputc('\n', stdout);
    json_decref(j);
}

const char *cli_time(char *buf, size_t n, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

const char *cli_time_head(char *buf, size_t n, const char *word)
{
    char zone[64];
    time_t now = bkp_now();
    struct tm tm;
    localtime_r(&now, &tm);
    if (!strftime(zone, sizeof(zone), "%Z", &tm)) /* too long to say: say its offset */
        strftime(zone, sizeof(zone), "UTC%z", &tm);
    snprintf(buf, n, "%s (%s)", word, zone);
    return buf;
}

time_t cli_parse_day(const char *s, bool end_of_day)
{
    if (!s)
        return -1;
    time_t t = bkp_iso_parse(s);
    if (t > 0)
        return t;
    struct tm tm = {0};
    const char *end = NULL;
    bool minute = false;
    if (strlen(s) == 10)
        end = strptime(s, "%Y-%m-%d", &tm);
    else if (strlen(s) == 16 && (s[10] == ' ' || s[10] == 'T') &&
             (end = strptime(s, "%Y-%m-%d", &tm)) && (end = strptime(end + 1, "%H:%M", &tm)))
        minute = true;
    if (!end || *end)
        return -1;
    if (end_of_day && !minute)
        tm.tm_mday++; /* mktime normalises the month's end */
    tm.tm_isdst = -1;
    t = mktime(&tm);
    return t > 0 && end_of_day && !minute ? t - 1 : t;
}

int cli_read_lock(cli *c, const char *repo, struct bkp_lock **out)
{
    char what[64];
    *out = NULL;
    if (c->lock != CLI_LOCK_READER) { /* the table says what each command locks */
        bkp_error("bkp %s takes a reader's lock its entry in commands[] does not declare",
                  c->command ? c->command : "?");
        return EXIT_FAILED;
    }
    snprintf(what, sizeof(what), "bkp %s (reading)", c->command ? c->command : "?");
    /* A copy on a medium gets nothing written to it: the flock alone. */
    int rc = bkp_lock_reader(repo, what, !bkp_medium_folder(repo), out);
    if (rc == -EBUSY)
        return EXIT_LOCKED; /* a prune is deleting packs: the holder is named above */
    if (rc)
        bkp_debug("no reader's lock in %s: %s", repo, bkp_strerror(rc));
    return EXIT_OK;
}

void cli_row(const char *const *cells, const int *widths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* A cell may hold a name from a medium or a record: shown safe (text.h). */
        char *safe = bkp_text_safe(cells[i] ? cells[i] : "-", BKP_TEXT_FIELD);
        const char *s = safe ? safe : "?";
        int w = widths[i] < 0 ? -widths[i] : widths[i], used = cli_columns(s);
        if (i + 1 == n)
            fputs(s, stdout);
        else if (widths[i] < 0)
            printf("%*s%s ", used < w ? w - used : 0, "", s);
        else
            cli_pad(stdout, s, w + 1);
        free(safe);
    }
    fputc('\n', stdout);
}

bool cli_lang_ja(cli *c)
{
    if (c->lang)
        return !strcmp(c->lang, "ja");
    if (c->policy && c->policy->language) /* what is written for people, whatever the locale */
        return !strcmp(c->policy->language, "ja");
    return bkp_i18n_reader_japanese();
}

int cli_format(cli *c, int *f)
{
    if (!c->format || !strcmp(c->format, "md") || !strcmp(c->format, "markdown")) {
        *f = RB_MARKDOWN;
        return EXIT_OK;
    }
    if (!strcmp(c->format, "html")) {
        *f = RB_HTML;
        return EXIT_OK;
    }
    bkp_error(_("--format %s: write md or html%s"), c->format, c->json ? "" : _(" (or --json)"));
    return EXIT_USAGE;
}

int cli_put_page(cli *c, const char *text, const char *what)
{
    if (!c->output || !strcmp(c->output, "-"))
        return fputs(text, stdout) < 0 ? EXIT_FAILED : EXIT_OK;
    int rc = bkp_durable_write_path(c->output, text, strlen(text), BKP_DURABLE_PUBLIC);
    if (rc) {
        bkp_error(_("the %s %s could not be written: %s"), what, c->output, bkp_strerror(rc));
        return EXIT_FAILED;
    }
    printf(_("%s: %s\n"), what, c->output);
    return EXIT_OK;
}

int cli_runbook_load(cli *c, const char *name, rb_runbook **out)
{
    int rc = ops_runbook_load(c->policy, name, out); /* loaded by the dispatcher when named */
    return !rc ? EXIT_OK : rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
}
