/* bkp — the program: parse options, look the command up, dispatch. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <sodium.h>

#include "bkp/cli/cli.h"
#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"
#include "bkp/host/trust.h"

/*
 * What a command needs, declared once here and provided by the dispatcher
 * before the handler runs (git's commands[] idea): the policy, checked by
 * StrictModes (trust.h) and validated; the passphrase file, checked the same
 * way before it is read; the lock; the open repository. Handlers receive
 * them ready and do not repeat the checks.
 */
typedef enum {
    POLICY_OPTIONAL, /* loaded when named (--policy, $BKP_POLICY) or when it names the repository */
    POLICY_REQUIRED, /* loaded always (/etc/bkp/policy.yaml by default); none: exit 2 */
} policy_need;

/* What --from reads of a bucket: the signed records alone, the generation
 * the first argument names, those the first two name (diff), or those of
 * --dataset, every one without it (find). */
typedef enum {
    FROM_NONE,
    FROM_RECORDS,
    FROM_FIRST_ARG,
    FROM_TWO_ARGS,
    FROM_DATASET,
} from_need;

typedef struct command {
    const char *name;
    int (*run)(cli *c);
    unsigned needs; /* NEED_REPO / NEED_REPO_WRITE: opened by the dispatcher */
    /* For a command that reads (NEED_REPO) but has a form that writes the
     * primary: whether this invocation is that form. It is then opened as
     * NEED_REPO_WRITE with CLI_LOCK_WRITER, and its handler gets c->r. */
    bool (*writes)(const cli *c);
    /* The forms that open no repository and read no key (audit show
     * --journal FILE: a journal is shown as it is), and of those the ones
     * that check what they read against the --public-key given, which is
     * no secret (audit verify --journal FILE --public-key KEY: the
     * inspector's, where no repository is at hand). */
    bool (*alone)(const cli *c);
    bool (*alone_checks)(const cli *c);
    policy_need policy;
    cli_lock lock;
    bool key; /* reads the passphrase (the repository key) */
    /* Judges the server's repository (3-2-1, what to do next): a backup
     * disk's copy named with --repo is refused, before any key is asked
     * for, with what to do with a copy instead. */
    bool primary_only;
    /* The same for some forms of a command only: true when the form given
     * refuses a disk's copy `repo`, having said what to do instead. */
    bool (*refuses_copy)(const cli *c, const char *repo);
    /* With --public-key the key the auditor pinned stands for `key`: no
     * passphrase, key file or sheet is read, and the repository is opened
     * with bkp_repo_open_public (nothing decrypted, nothing written). */
    bool public_key;
    /* Reads --from MEDIUM|PATH instead of the repository (cli_open_source):
     * of a bucket, the generation its first argument names, or the records
     * alone. */
    from_need from;
    const char *options; /* the options it accepts, by name (options.c) */
    int min_args, max_args;
    const char *usage;
    const char *summary;
    /* One or two real uses: "COMMAND\tWHAT IT DOES" lines (bkp help CMD). */
    const char *example;
} command;

/* The forms of read commands that write the primary: a clearance
 * (generations --clear-suspicious), a restarted audit log (audit restart),
 * a label and its registry entry (media label, and media probe, which
 * notes what a bucket's lock answered), the key file and the records of
 * the key on paper (key add, passwd, remove, export, split). */
static bool arg_is(const cli *c, const char *const *verbs)
{
    for (; c->nargs && *verbs; verbs++)
        if (!strcmp(c->args[0], *verbs))
            return true;
    return false;
}

static bool generations_writes(const cli *c)
{
    return c->clear != NULL;
}

static bool audit_writes(const cli *c)
{
    return !c->public_key && arg_is(c, (const char *const[]){"restart", NULL});
}

/* An evidence report judges the server's nights, which a copy's logs are not. */
static bool audit_refuses_copy(const cli *c, const char *repo)
{
    if (!arg_is(c, (const char *const[]){"report", NULL}))
        return false;
    cli_report_of_copy(repo);
    return true;
}

/* The inspector's forms, with a journal (or a copy of the log) and the
 * key written down, where no repository is at hand: verify it, check a
 * report against it. */
static bool audit_alone(const cli *c)
{
    bool fetch = arg_is(c, (const char *const[]){"fetch", NULL});
    return (c->journal &&
            (arg_is(c, (const char *const[]){"show", NULL}) ||
             (c->public_key && arg_is(c, (const char *const[]){"verify", "check", NULL})))) ||
           (fetch && c->public_key);
}

/* What a form that checks alone checks: the journal, or the medium fetched. */
static const char *checked_name(const cli *c)
{
    return c->journal ? c->journal : c->nargs > 1 ? c->args[1] : "";
}

static bool audit_alone_checks(const cli *c)
{
    return (c->journal && arg_is(c, (const char *const[]){"verify", "check", NULL})) ||
           arg_is(c, (const char *const[]){"fetch", NULL});
}

/* The agent opens no repository, reads no key and no policy: it is a
 * source server's, which has none. */
static bool always_alone(const cli *c)
{
    (void)c;
    return true;
}

static bool media_writes(const cli *c)
{
    return arg_is(c, (const char *const[]){"label", "probe", NULL});
}

static bool key_writes(const cli *c)
{
    return arg_is(c, (const char *const[]){"add", "passwd", "remove", "export", "split", NULL});
}

/* A verify is a writer only when it repairs. A check's notes — its audit
 * record, a medium's registry entry, a sample's state — are written through
 * the read-only handle (bkp_audit_append_ro, bkp_media_update_ro,
 * bkp_reread_save_ro): a writer's open would run the clean-up pass on a
 * folder that may be a medium's copy (`--repo MEDIUM/repo --sample`), and
 * hold the primary's writer's lock for the hours a medium takes to read. */
static bool verify_writes(const cli *c)
{
    return !c->public_key && c->repair_from;
}

/* A rotation writes the primary (its audit log, pins, registry) and the
 * medium; a dry run reads them. */
static bool rotate_writes(const cli *c)
{
    return !c->dry_run;
}

static const command commands[] = {
    {.name = "init",
     .run = cmd_init,
     .key = true,
     .options = "repo chunk-id",
     .usage = "init [--repo DIR | --policy FILE] [--chunk-id ID]",
     .summary = N_("create a repository (the policy's, without --repo), its keys and config"),
     .example = N_("bkp init --policy /etc/bkp/policy.yaml\tcreate the repository the policy "
                   "names; the passphrase is asked for twice")},
    {.name = "backup",
     .run = cmd_backup,
     .needs = NEED_REPO_WRITE,
     .lock = CLI_LOCK_WRITER,
     .key = true,
     .options = "repo dataset no-cache one-file-system workers json compression",
     .min_args = 1,
     .max_args = 1024,
     .usage = "backup NAME | backup --dataset NAME PATH...",
     .summary =
         N_("capture a data set of the policy (or the given paths) now and seal a generation"),
     .example = N_("bkp backup emr-db\tback up the data set emr-db of the policy now")},
    {.name = "generations",
     .run = cmd_generations,
     .needs = NEED_REPO,
     .writes = generations_writes,
     .key = true,
     .from = FROM_RECORDS,
     .options = "repo json clear-suspicious from key-fingerprint",
     .max_args = 1,
     .usage = "generations [NAME] [--from M] [--json] | generations --clear-suspicious GEN",
     .summary = N_("list sealed generations, or clear a suspicious mark (recorded)"),
     .example = N_("bkp generations emr-db\tlist the generations of emr-db, newest last")},
    {.name = "ls",
     .run = cmd_ls,
     .needs = NEED_REPO,
     .key = true,
     .from = FROM_FIRST_ARG,
     .options = "repo json from key-fingerprint",
     .min_args = 1,
     .max_args = 2,
     .usage = "ls GEN [PATH] [--from M] [--json]",
     .summary = N_("list the files of a generation"),
     .example =
         N_("bkp ls emr-db:latest /srv/emr\tlist what the newest generation holds under /srv/emr")},
    {.name = "find",
     .run = cmd_find,
     .needs = NEED_REPO,
     .key = true,
     .from = FROM_DATASET,
     .options = "repo dataset json from key-fingerprint",
     .min_args = 1,
     .max_args = 1,
     .usage = "find PATTERN [--dataset NAME] [--from M] [--json]",
     .summary = N_("which generations hold a path matching a pattern (name or /whole/path*)"),
     .example =
         N_("bkp find letter-0412.pdf --dataset scans\twhich generations of scans hold that file")},
    {.name = "dump",
     .run = cmd_dump,
     .needs = NEED_REPO,
     .key = true,
     .from = FROM_FIRST_ARG,
     .options = "repo from key-fingerprint",
     .min_args = 2,
     .max_args = 2,
     .usage = "dump GEN PATH [--from M] > FILE",
     .summary = N_("one stored file's content to standard output, every chunk authenticated"),
     .example = N_("bkp dump scans:latest /srv/scans/letter.pdf > letter.pdf\ttake one file back "
                   "without a full restore")},
    {.name = "mount",
     .run = cmd_mount,
     .lock = CLI_LOCK_READER,
     .key = true,
     .options = "repo allow-other",
     .min_args = 1,
     .max_args = 2,
     .usage = "mount [GEN|DATASET] MOUNTPOINT [--allow-other]",
     .summary = N_("browse generations as read-only folders (FUSE) until Ctrl-C or umount; files "
                   "read on demand, every chunk authenticated"),
     .example = N_("bkp mount emr-db /mnt/emr-db\tbrowse the generations of emr-db as folders; "
                   "umount /mnt/emr-db ends it")},
    {.name = "diff",
     .run = cmd_diff,
     .needs = NEED_REPO,
     .key = true,
     .from = FROM_TWO_ARGS,
     .options = "repo json from key-fingerprint",
     .min_args = 2,
     .max_args = 2,
     .usage = "diff GEN GEN [--from M] [--json]",
     .summary = N_("what changed between two generations"),
     .example = N_("bkp diff emr-db:41 emr-db:42\twhat changed between two generations")},
    {.name = "restore",
     .run = cmd_restore,
     .lock = CLI_LOCK_READER,
     .key = true,
     .options = "repo path folder to-archive force workers from key-fingerprint runbook attest "
                "verify json",
     .max_args = 2,
     .usage = "restore GEN TARGET [--path P | --folder D] [--from M] [--force] | restore GEN "
              "--to-archive FILE | restore --runbook NAME [--attest WHO] [--from M]",
     .summary = N_("restore a generation into a directory or a tar (pax) file, from the repository "
                   "or any one medium"),
     .example = N_("bkp restore emr-db:latest /srv/restore --from usb-a\trestore the newest "
                   "generation from the disk usb-a into an empty folder")},
    {.name = "run",
     .run = cmd_run,
     .needs = NEED_REPO_WRITE,
     .policy = POLICY_REQUIRED,
     .lock = CLI_LOCK_CYCLE,
     .key = true,
     .options = "repo dataset force metrics workers json",
     .usage = "run [--dataset NAME] [--force] [--metrics FILE] [--json]",
     .summary = N_("the cron entry: back up every data set of the policy that is due"),
     .example = N_("bkp run\twhat cron runs: back up every data set that is due")},
    {.name = "prune",
     .run = cmd_prune,
     .lock = CLI_LOCK_PRUNE,
     .key = true,
     .options = "repo dry-run recompress json",
     .usage = "prune [--dry-run] [--recompress] [--json]",
     .summary =
         N_("apply each data set's retention: delete generations and the packs nothing needs"),
     .example =
         N_("bkp prune --dry-run\tshow what the retention rules would delete, deleting nothing")},
    {.name = "audit",
     .run = cmd_audit,
     .needs = NEED_REPO,
     .writes = audit_writes,
     .refuses_copy = audit_refuses_copy,
     .alone = audit_alone,
     .alone_checks = audit_alone_checks,
     .key = true,
     .public_key = true,
     .options = "repo json against journal since dataset from to format lang output",
     .min_args = 1,
     .max_args = 2,
     .usage =
         "audit verify [--against FILE|MEDIUM] [--public-key HEX|FILE] | audit verify "
         "--journal FILE | audit show [SEQ] [--journal FILE] [--since DATE] [--dataset NAME] | "
         "audit report [--from DATE] [--to DATE] [--format F] [--lang ja|en] | "
         "audit check REPORT [--journal FILE --public-key KEY] [--json] | audit fetch MEDIUM "
         "-o FILE [--public-key KEY] | audit restart REASON",
     .summary = N_("check the signed audit log, show it, fetch a medium's copy of it, or write the "
                   "evidence report for checklist item 3-②"),
     .example = N_("bkp audit verify\tcheck the signed audit log from its first record")},
    {.name = "policy",
     .run = cmd_policy,
     .policy = POLICY_REQUIRED,
     .options = "json regulation format lang",
     .min_args = 1,
     .max_args = 1,
     .usage = "policy check [--policy FILE] [--json] | policy print --regulation [--format "
              "md|html] [--lang ja|en]",
     .summary = N_("validate the policy and print it as it will be applied"),
     .example =
         N_("bkp policy check --policy /etc/bkp/policy.yaml\tcheck a policy before it is used")},
    {.name = "media",
     .run = cmd_media,
     .needs = NEED_REPO,
     .writes = media_writes,
     .key = true,
     .options = "repo json name type location force format lang output",
     .min_args = 1,
     .max_args = 2,
     .usage = "media label PATH --name NAME [--type T] [--location L] [--force] | media label "
              "--name NAME (object) | media probe NAME | media list | media show NAME | media "
              "sheet NAME [--format md|html] [--lang ja|en] [-o FILE]",
     .summary = N_("label a disk (or archive folder) as a medium and register it; list media and "
                   "what they hold"),
     .example = N_("bkp media label /mnt/usb-a --name usb-a --type disk --location offsite\tlabel "
                   "a mounted disk as the medium usb-a, kept off-site\nbkp media sheet usb-a "
                   "--format html -o usb-a-label.html\tits paper label to print: the short "
                   "fingerprint and a QR code")},
    {.name = "rotate",
     .run = cmd_rotate,
     .needs = NEED_REPO,
     .lock = CLI_LOCK_READER,
     .writes = rotate_writes,
     .key = true,
     .options = "repo json unmount dry-run prune-first",
     .min_args = 1,
     .max_args = 1,
     .usage = "rotate MEDIUM [--unmount] [--dry-run] [--prune-first]",
     .summary =
         N_("copy the generations due to a medium, read them back, prune it, and say when it "
            "is next due"),
     .example =
         N_("bkp rotate usb-a\tcopy to the disk usb-a what is due to it, then take it away\nbkp "
            "rotate usb-a --dry-run\tshow what would be copied and pruned, writing nothing")},
    {.name = "runbook",
     .run = cmd_runbook,
     .options = "repo json format lang output",
     .min_args = 1,
     .max_args = 2,
     .usage = "runbook list | runbook show NAME | runbook print NAME [--format md|html] "
              "[--lang ja|en] [-o FILE]",
     .summary = N_("the recovery procedures; print one for paper (手順書)"),
     .example = N_("bkp runbook print emr --format html --lang ja > emr.html\tthe recovery "
                   "procedure on paper, in Japanese")},
    {.name = "drill",
     .run = cmd_drill,
     .key = true,
     .options = "repo json medium attest report sandbox keep workers",
     .min_args = 1,
     .max_args = 1,
     .usage = "drill NAME [--medium M] [--attest WHO] [--sandbox D] [--report D]",
     .summary = N_("rehearse a runbook into a sandbox, timed, with a report"),
     .example = N_("bkp drill emr --medium usb-a\trehearse the runbook emr from usb-a into a "
                   "sandbox, timed\nbkp drill emr --attest システム担当=山田 --attest 院長=佐藤\t"
                   "name who attested each role's steps")},
    {.name = "host",
     .run = cmd_host,
     .options = "json port user identity",
     .min_args = 2,
     .max_args = 3,
     .usage = "host add NAME ADDRESS [--port N] [--user U] [--identity F] | host check NAME "
              "[--json]",
     .summary = N_("add a source server (its host key shown to compare, the lines for it and the "
                   "policy), or check that its agent answers"),
     .example =
         N_("bkp host add emr-db 10.0.0.12	show the server's host key and the lines to "
            "add\nbkp host check emr-db	connect and say what its agent may read and "
            "run")},
    {.name = "agent",
     .run = cmd_agent,
     .alone = always_alone,
     .options = "config check",
     .usage = "agent [--check] [--config FILE]",
     .summary = N_("on a source server: answer the backup server over SSH (the forced command "
                   "of its key); on a terminal, check the configuration"),
     .example =
         N_("bkp agent --config /etc/bkp/agent.yaml	check the agent's configuration and "
            "say what it serves")},
    {.name = "status",
     .run = cmd_status,
     .needs = NEED_REPO,
     .policy = POLICY_REQUIRED,
     .key = true,
     .primary_only = true,
     .options = "repo json metrics format output lang",
     .usage = "status [--json] [--metrics FILE] | status --format html [-o FILE] [--lang ja|en]",
     .summary = N_("3-2-1 compliance of each data set: copies, media, off-line and off-site ages, "
                   "what to do next"),
     .example = N_("bkp status\teach data set's 3-2-1 state and what to do next")},
    {.name = "key",
     .run = cmd_key,
     .needs = NEED_REPO,
     .writes = key_writes,
     .key = true,
     .options = "repo json format lang output paper shares threshold label new-passphrase-file "
                "machine-key",
     .min_args = 1,
     .max_args = 2,
     .usage = "key list | key add [--label L] [--machine-key FILE] | key passwd [ID] | key remove "
              "ID | key "
              "fingerprint [--json] | key export --paper [-o FILE] [--format md|html] [--lang "
              "ja|en] | key split --shares N --threshold K -o DIR",
     .summary = N_("the passphrases that open the repository (slots); the public key's "
                   "fingerprint; the key on paper for a safe, whole or as K-of-N shares (all "
                   "changes recorded)"),
     .example =
         N_("bkp key export --paper --lang ja -o key.html\tthe key on paper, to keep in a safe")},
    {.name = "verify",
     .run = cmd_verify,
     .needs = NEED_REPO,
     .writes = verify_writes,
     .lock = CLI_LOCK_READER,
     .key = true,
     .public_key = true,
     .options = "repo read-data workers json media sample repair-from",
     .usage = "verify [--read-data | --sample PCT] [--media M] [--repair-from M2] | verify "
              "--public-key HEX|FILE",
     .summary = N_("check signatures, chains and objects; read packs back (all, or a rolling "
                   "sample); repair from another copy"),
     .example = N_("bkp verify --read-data\tread every pack back and check it")},
};

static void usage(FILE *f)
{
    fprintf(f, _("usage: bkp COMMAND [OPTIONS]\n\ncommands:\n"));
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        cli_wrap(f, commands[i].name, 16, _(commands[i].summary));
    fprintf(f, _("\noptions every command takes:\n"));
    cli_options_help(f, "", true);
    fprintf(f, _("\nThese may come before the command too. `bkp COMMAND --help` shows the options\n"
                 "of a command.\n"
                 "GEN is DATASET:latest, DATASET:SEQ (e.g. emr-db:42) or a unique UUID prefix.\n"
                 "Exit codes: 0 success, 1 failed or not verified, 2 usage error, 3 locked,\n"
                 "4 wrong passphrase or key sheets, 5 no repository there.\n"));
}

/* The examples of a command: each command line, then what it does below it. */
static void print_examples(const char *text)
{
    printf("%s", _("\nexamples:\n"));
    while (*text) {
        const char *tab = strchr(text, '\t'), *nl = strchr(text, '\n');
        const char *end = nl ? nl : text + strlen(text);
        if (!tab || tab > end)
            tab = end;
        printf("  %.*s\n", (int)(tab - text), text);
        char *what = tab < end ? strndup(tab + 1, (size_t)(end - tab - 1)) : NULL;
        if (what)
            cli_wrap(stdout, NULL, 6, what);
        free(what);
        text = nl ? nl + 1 : end;
    }
}

/* bkp CMD --help: its usage, what it does, its options, examples. */
static void command_help(const command *cmd)
{
    const char *head = _("usage: bkp ");
    int indent = cli_columns(head) - (int)strlen("bkp ");
    fputs(head, stdout);
    /* The forms of the command, one per line. */
    for (const char *u = cmd->usage; *u;) {
        /* A " | " outside brackets separates forms; inside, alternatives. */
        const char *bar = NULL;
        int depth = 0;
        for (const char *q = u; *q && !bar; q++) {
            depth += (*q == '[') - (*q == ']');
            if (!depth && !strncmp(q, " | ", 3))
                bar = q;
        }
        int n = bar ? (int)(bar - u) : (int)strlen(u);
        if (u != cmd->usage)
            printf("%*sbkp ", indent, "");
        printf("%.*s\n", n, u);
        u += n + (bar ? 3 : 0);
    }
    printf("\n");
    cli_wrap(stdout, NULL, 2, _(cmd->summary));
    if (*cmd->options) {
        printf(_("\noptions:\n"));
        cli_options_help(stdout, cmd->options, false);
    }
    if (cmd->example)
        print_examples(_(cmd->example));
    /* The options every command takes are said once, by `bkp help`. */
    char names[512], line[768];
    snprintf(line, sizeof(line), _("Every command also takes %s: `bkp help` says what each does."),
             cli_options_common_names(names, sizeof(names)));
    printf("\n");
    cli_wrap(stdout, NULL, 0, line);
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* What a command's --from reads of a bucket, into `w`: NULL for all. */
static const cli_fetch_what *from_what(from_need need, cli *c, cli_fetch_what *w)
{
    *w = (cli_fetch_what){.records = need == FROM_RECORDS};
    if (need == FROM_FIRST_ARG || need == FROM_TWO_ARGS)
        w->spec = c->args[0];
    if (need == FROM_TWO_ARGS)
        w->spec2 = c->args[1];
    if (need == FROM_DATASET && c->dataset) {
        w->datasets = (char *const *)&c->dataset;
        w->ndatasets = 1;
    }
    return need == FROM_DATASET && !c->dataset ? NULL : w;
}

/*
 * Provide what `cmd` declares, in this order: the policy (its hooks are
 * root's commands, so StrictModes and validation come before anything else
 * reads it), the passphrase file (checked before any handler could read
 * it), the writer's lock, the open repository. Returns an exit code.
 */
static int prepare(const command *cmd, cli *c, bkp_lock **cycle, bkp_lock **writer)
{
    unsigned needs = cmd->needs;
    cli_lock lock = cmd->lock;
    if (cmd->writes && cmd->writes(c)) {
        needs = NEED_REPO_WRITE;
        lock = CLI_LOCK_WRITER;
    }
    if (cmd->alone && cmd->alone(c)) {
        bool checks = cmd->alone_checks && cmd->alone_checks(c);
        if (c->nkey_from || (c->public_key && !checks) || c->passphrase_file) {
            bkp_error(_("this form opens no repository and needs no key: leave out %s"),
                      c->nkey_from    ? "--key-from"
                      : c->public_key ? "--public-key"
                                      : "--passphrase-file");
            return EXIT_USAGE;
        }
        int rc = c->public_key ? bkp_pubkey_from_arg("--public-key", c->public_key, c->pinned_pk)
                               : 0;
        return rc == -ENOMEM ? EXIT_FAILED : rc ? EXIT_USAGE : EXIT_OK;
    }
    /* A journal checked where no repository is named (the inspector's
     * machine, the bad day's): the key written down is what checks it. */
    const char *env_repo = getenv("BKP_REPO");
    if (cmd->alone_checks && cmd->alone_checks(c) && !c->repo && (!env_repo || !*env_repo) &&
        !c->policy_file && access(POL_DEFAULT_FILE, F_OK) != 0) {
        bkp_error(_("no repository is here to check %s with: give the repository's public key, "
                    "--public-key \"FINGERPRINT\" (the fingerprint on the key sheet or the "
                    "printed procedure), or run it where the repository is (--repo DIR)"),
                  checked_name(c));
        return EXIT_USAGE;
    }
    if ((c->from || c->key_fingerprint) && cmd->from && (needs & NEED_REPO_WRITE)) {
        bkp_error(_("--from reads a copy, and this form of `bkp %s` writes the server's "
                    "repository: leave out %s"),
                  cmd->name, c->from ? "--from" : "--key-fingerprint");
        return EXIT_USAGE;
    }
    if (cmd->policy == POLICY_REQUIRED || c->policy_file) {
        if (!cli_policy(c))
            return EXIT_USAGE; /* logged with file:line, or the chmod to run */
    }
    /* The same where a policy names a repository that is gone (the bad
     * day's machine, with the policy kept with the papers). */
    if (cmd->alone_checks && cmd->alone_checks(c) && !c->public_key) {
        const char *repo = cli_repo_path(c);
        if (!repo)
            return EXIT_USAGE; /* said */
        if (access(repo, F_OK) != 0 && errno == ENOENT) {
            bkp_error(
                _("there is no repository at %s to check %s with: give the repository's "
                  "public key, --public-key \"FINGERPRINT\" (the fingerprint on the key sheet "
                  "or the printed procedure)"),
                repo, checked_name(c));
            return EXIT_USAGE;
        }
    }
    /* A backup disk's copy named with --repo: only read. What writes, or
     * judges the server's repository, is refused before any key is asked
     * for, with what to do with the disk instead. */
    bool writes = lock == CLI_LOCK_WRITER || lock == CLI_LOCK_CYCLE || lock == CLI_LOCK_PRUNE;
    if ((cmd->primary_only || writes || cmd->refuses_copy) && (c->repo || getenv("BKP_REPO"))) {
        char *mount = NULL;
        const char *repo = cli_repo_path(c);
        if (repo && cli_repo_on_medium(repo, &mount)) {
            bool refused = true;
            if (cmd->refuses_copy && cmd->refuses_copy(c, repo))
                ; /* said */
            else if (writes)
                bkp_error(_("%s is the copy on a backup disk (at %s), not the server's "
                            "repository: bkp writes to a disk's copy only when it rotates to it. "
                            "Give the server's repository (--repo, or the policy's); restore from "
                            "the disk with `bkp restore DATASET:latest TARGET --from %s`"),
                          repo, mount, mount);
            else if (cmd->primary_only)
                bkp_error(_("%s is the copy on a backup disk (at %s), not the server's "
                            "repository: `bkp %s` judges the server's. See what the copy holds "
                            "with `bkp generations --repo %s`; restore from it with `bkp restore "
                            "DATASET:latest TARGET --from %s`"),
                          repo, mount, cmd->name, repo, mount);
            else
                refused = false; /* this form reads a copy */
            free(mount);
            if (refused)
                return EXIT_USAGE;
        }
    }
    if (c->public_key) {
        /* The auditor holds no secret: none is asked for, on a terminal
         * either, and a source of one given beside the key is a mistake. */
        if (c->nkey_from || c->passphrase_file) {
            bkp_error(_("--public-key checks without any secret: leave out %s"),
                      c->nkey_from ? "--key-from" : "--passphrase-file");
            return EXIT_USAGE;
        }
        int rc = bkp_pubkey_from_arg("--public-key", c->public_key, c->pinned_pk);
        if (rc)
            return rc == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
    } else if (c->nkey_from) {
        int ex = cli_key_from_check(c); /* no passphrase is read then */
        if (ex)
            return ex;
    } else if (cmd->key) {
        /* A command may find the passphrase file only later (the policy
         * that names the repository names it too); bkp_passphrase_get checks
         * it again there, so the check holds on every path. */
        const char *pass = cli_passphrase_file(c);
        if (pass && bkp_trust_file(pass, BKP_TRUST_SECRET, N_("passphrase file"), NULL) == -EPERM)
            return EXIT_USAGE;
    }
    /* Writers never run while prune does (lock.h): the lock comes before the
     * open, because a writable open may itself write (clean-up, re-indexing). */
    if (lock == CLI_LOCK_WRITER || lock == CLI_LOCK_CYCLE) {
        const char *repo = cli_repo_path(c);
        struct stat st;
        char who[64];
        if (!repo)
            return EXIT_USAGE;
        snprintf(who, sizeof(who), "bkp %s", cmd->name);
        bool there = stat(repo, &st) == 0;
        /* A cycle nobody watches that finds the one before it still going,
         * for less than a day, is no news (exit 3 all the same). */
        if (lock == CLI_LOCK_CYCLE && !isatty(STDERR_FILENO))
            bkp_lock_young_set(86400);
        int rc = there && lock == CLI_LOCK_CYCLE ? bkp_lock_take(repo, "run", who, cycle) : 0;
        bkp_lock_young_set(0);
        if (!rc && there)
            rc = bkp_lock_writer(repo, cmd->name, writer);
        if (rc) {
            bkp_lock_release(*cycle);
            *cycle = NULL;
            return rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
        }
        c->writer = *writer; /* held from here on: no passphrase is waited for under it */
    }
    if (needs & (NEED_REPO | NEED_REPO_WRITE)) {
        /* A reader is opened read-only (no clean-up pass, no re-indexing):
         * nothing of the repository changes under a command that only reads
         * it, be it the primary or a copy named with --repo. */
        unsigned flags = (needs & NEED_REPO_WRITE) ? 0 : BKP_REPO_READONLY;
        bkp_repo *h = NULL;
        cli_fetch_what what;
        /* What reads a copy too opens as restore does, --key-fingerprint
         * checked whatever it opens (source.c). */
        int ex = c->public_key ? cli_open_public(c, &h)
                 : cmd->from && !(needs & NEED_REPO_WRITE)
                     ? cli_open_source(c, from_what(cmd->from, c, &what), &h, &c->staging)
                     : cli_open_repo(c, flags, &h);
        cli_keep(h); /* closed at the end, or by the caller when this fails */
        if (!ex) {
            c->ro = h;
            /* A handle opened with the public key alone signs nothing. */
            c->r = (needs & NEED_REPO_WRITE) && !c->public_key ? h : NULL;
        }
        if (ex) {
            bkp_lock_release(*writer);
            bkp_lock_release(*cycle);
            *writer = *cycle = NULL;
            return ex;
        }
    }
    return EXIT_OK;
}

/* What is done before a command is named: -v and -q moved after it, help,
 * the version. An exit code, or -1 when a command is to run. */
static int before_command(int argc, char **argv)
{
    /* The options every command takes may come before the command too
     * (`bkp --policy F run`, `bkp -v backup emr`): moved after it, with
     * their value, where getopt reads them. */
    for (int moved = 0; argc > 2 && moved < argc - 2;) {
        int k = cli_option_common_arity(argv[1]) + 1;
        if (k <= 0 || moved + k > argc - 2)
            break;
        char *opt[2] = {argv[1], k > 1 ? argv[2] : NULL};
        memmove(argv + 1, argv + 1 + k, (size_t)(argc - 1 - k) * sizeof(*argv));
        for (int i = 0; i < k; i++)
            argv[argc - k + i] = opt[i];
        moved += k;
    }
    /* `bkp help CMD` is `bkp CMD --help`. */
    if (argc == 3 && !strcmp(argv[1], "help") && find_command(argv[2])) {
        command_help(find_command(argv[2]));
        return EXIT_OK;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        /* libarchive is built in (CMakeLists.txt): its version, for whoever
         * follows its security fixes. */
        printf("bkp %s%s\n%s\n", BKP_VERSION, bkp_clock_is_test() ? " (test clock: $BKP_NOW)" : "",
               archive_version_details());
        return EXIT_OK;
    }
    return -1;
}

/* What the options parsed say against what `cmd` takes; the policy the
 * environment names, named once, here. An exit code. */
static int command_args(const command *cmd, cli *c)
{
    if (c->nkey_from && (!cmd->key || cmd->run == cmd_init)) {
        fprintf(stderr, _("bkp: error: %s\n"),
                cmd->key ? _("init makes a new key; --key-from opens an existing one")
                         : _("this command does not open the repository's key; leave out "
                             "--key-from"));
        return EXIT_USAGE;
    }
    if (c->public_key && !cmd->public_key) {
        fprintf(stderr,
                _("bkp: error: %s does not take --public-key; `bkp audit verify` and `bkp "
                  "verify` do\n"),
                cmd->name);
        return EXIT_USAGE;
    }
    const char *named = getenv("BKP_POLICY");
    if (!c->policy_file && named && *named)
        c->policy_file = named;
    if (c->nargs < cmd->min_args || c->nargs > cmd->max_args) {
        fprintf(stderr, _("bkp: error: wrong number of arguments\nusage: bkp %s\n"), cmd->usage);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    cli c = {0};
    int level = BKP_LOG_WARN;

    /* Chunks are 256 KiB to 4 MiB: glibc would mmap and unmap each one, and
     * on these machines fresh pages cost more than the hashing. Keep freed
     * buffers in the heap instead; memory stays bounded by the queues. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    bkp_i18n_init();
    if (sodium_init() < 0) {
        fprintf(stderr, _("bkp: error: libsodium failed to initialise\n"));
        return EXIT_FAILED;
    }
    int ex = before_command(argc, argv);
    if (ex >= 0)
        return ex;
    const command *cmd = find_command(argv[1]);
    if (!cmd && cli_option_common_arity(argv[1]) >= 0) {
        fprintf(stderr, _("bkp: error: no command after %s; see `bkp --help`\n"), argv[1]);
        return EXIT_USAGE;
    }
    if (!cmd) {
        fprintf(stderr, _("bkp: error: '%s' is not a bkp command; see `bkp --help`\n"), argv[1]);
        return EXIT_USAGE;
    }
    c.command = cmd->name;
    c.lock = cmd->lock;
    bkp_audit_set_command(argc, argv);
    c.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    if (c.tty)
        level = BKP_LOG_INFO;
    argv++;
    argc--;
    ex = cli_options_parse(&c, cmd->options, cmd->usage, argc, argv, &level);
    if (ex)
        return ex;
    bkp_lock_wait_set(c.lock_wait);
    if (c.help) {
        command_help(cmd);
        return EXIT_OK;
    }
    if ((ex = command_args(cmd, &c)))
        return ex;
    bkp_log_set_level((enum bkp_log_level)level);
    bkp_progress_enable(c.tty && !c.json);
    bkp_lock *writer = NULL, *cycle = NULL;
    ex = prepare(cmd, &c, &cycle, &writer);
    if (ex) {
        cli_close_kept();
        cli_source_remove(c.staging); /* a copy staged before the open failed */
        cli_key_from_clear(&c);
        pol_free(c.policy);
        return ex;
    }
    c.writer = writer;
    ex = cmd->run(&c);
    if (c.staging) /* a staged copy is gone with its folder: nothing to report in */
        c.ro = NULL;
    cli_audit_context(&c);
    cli_record_end();
    bkp_lock_release(writer);
    bkp_lock_release(cycle);
    cli_close_kept();
    cli_source_remove(c.staging);
    cli_key_from_clear(&c);
    pol_free(c.policy);
    return ex;
}
