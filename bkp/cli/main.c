/* bkp — the program: parse options, look the command up, dispatch. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/cli/cli.h"
#include "bkp/audit.h"
#include "bkp/clock.h"
#include "bkp/lock.h"
#include "bkp/log.h"
#include "bkp/pubkey.h"
#include "bkp/trust.h"

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

typedef enum {
    LOCK_NONE,
    /* A reader's lock (cli_read_lock) on what it reads, so that no prune
     * deletes packs under it. What it reads — the primary or a medium's
     * copy — is known only once the handler has resolved --from/--media, so
     * the handler takes it. */
    LOCK_READER,
    LOCK_WRITER, /* the primary's writer lock, taken here before the open */
    /* Prune's lock, taken after the writer's by cli_prune (shared with run
     * and rotate, which prune too); declared for the record. */
    LOCK_PRUNE,
} lock_kind;

typedef struct command {
    const char *name;
    int (*run)(cli *c);
    unsigned needs; /* NEED_REPO / NEED_REPO_WRITE: opened by the dispatcher */
    policy_need policy;
    lock_kind lock;
    bool key;          /* reads the passphrase (the repository key) */
    /* With --public-key the key the auditor pinned stands for `key`: no
     * passphrase, key file or sheet is read, and the repository is opened
     * with bkp_repo_open_public (nothing decrypted, nothing written). */
    bool public_key;
    bool writes_media; /* may write to a medium other than the primary */
    unsigned options;  /* which options it accepts */
    int min_args, max_args;
    const char *usage;
    const char *summary;
} command;

static const command commands[] = {
    {.name = "init", .run = cmd_init, .key = true, .options = OPT_REPO,
     .usage = "init [--repo DIR | --policy FILE]",
     .summary = "create a repository (the policy's, without --repo), its keys and config"},
    {.name = "backup", .run = cmd_backup, .needs = NEED_REPO_WRITE, .lock = LOCK_WRITER,
     .key = true,
     .options = OPT_REPO | OPT_DATASET | OPT_NO_CACHE | OPT_ONE_FS | OPT_WORKERS | OPT_JSON,
     .min_args = 1, .max_args = 1024, .usage = "backup NAME | backup --dataset NAME PATH...",
     .summary = "capture a data set of the policy (or the given paths) now and seal a generation"},
    {.name = "generations", .run = cmd_generations, .needs = NEED_REPO, .key = true,
     .options = OPT_REPO | OPT_JSON | OPT_CLEAR, .max_args = 1,
     .usage = "generations [NAME] [--json] | generations --clear-suspicious GEN",
     .summary = "list sealed generations, or clear a suspicious mark (recorded)"},
    {.name = "ls", .run = cmd_ls, .needs = NEED_REPO, .key = true, .options = OPT_REPO | OPT_JSON,
     .min_args = 1, .max_args = 2, .usage = "ls GEN [PATH] [--json]",
     .summary = "list the files of a generation"},
    {.name = "diff", .run = cmd_diff, .needs = NEED_REPO, .key = true,
     .options = OPT_REPO | OPT_JSON, .min_args = 2, .max_args = 2, .usage = "diff GEN GEN [--json]",
     .summary = "what changed between two generations"},
    {.name = "restore", .run = cmd_restore, .lock = LOCK_READER, .key = true,
     .options = OPT_REPO | OPT_PATH | OPT_TO_ARCHIVE | OPT_FORCE | OPT_WORKERS | OPT_FROM |
                OPT_RUNBOOK | OPT_VERIFY,
     .max_args = 2,
     .usage = "restore GEN TARGET [--path P | --folder DIR] [--force] [--from MEDIUM|PATH] "
              "[--verify] | restore GEN --to-archive FILE | restore --runbook NAME [--attest WHO]",
     .summary = "restore a generation into a directory or a tar (pax) file, from the repository "
                "or any one medium"},
    {.name = "run", .run = cmd_run, .needs = NEED_REPO_WRITE, .policy = POLICY_REQUIRED,
     .lock = LOCK_WRITER, .key = true, .writes_media = true,
     .options = OPT_REPO | OPT_DATASET | OPT_FORCE | OPT_METRICS | OPT_WORKERS | OPT_JSON,
     .usage = "run [--dataset NAME] [--force] [--metrics FILE] [--json]",
     .summary = "the cron entry: back up every data set of the policy that is due"},
    {.name = "prune", .run = cmd_prune, .lock = LOCK_PRUNE, .key = true,
     .options = OPT_REPO | OPT_DRY_RUN | OPT_JSON, .usage = "prune [--dry-run] [--json]",
     .summary = "apply each data set's retention: delete generations and the packs nothing needs"},
    {.name = "audit", .run = cmd_audit, .needs = NEED_REPO, .key = true, .public_key = true,
     .options = OPT_REPO | OPT_JSON | OPT_AGAINST | OPT_SINCE | OPT_DATASET | OPT_FROM |
                OPT_PERIOD | OPT_PRINT,
     .min_args = 1, .max_args = 2,
     .usage = "audit verify [--against FILE|MEDIUM] [--public-key HEX|FILE] | audit show [--since "
              "DATE] [--dataset NAME] [--json] | audit report [--from DATE] [--to DATE] [--format "
              "md|html] [--lang ja|en] [--json] | audit restart REASON",
     .summary = "check the signed audit log, show it, or write the evidence report for checklist "
                "item 3-②"},
    {.name = "policy", .run = cmd_policy, .policy = POLICY_REQUIRED, .options = OPT_JSON,
     .min_args = 1, .max_args = 1, .usage = "policy check [--policy FILE] [--json]",
     .summary = "validate the policy and print it as it will be applied"},
    {.name = "media", .run = cmd_media, .needs = NEED_REPO, .key = true, .writes_media = true,
     .options = OPT_REPO | OPT_JSON | OPT_LABEL | OPT_FORCE, .min_args = 1, .max_args = 2,
     .usage = "media label PATH --name NAME [--type T] [--location L] [--force] | media label "
              "--name NAME (object) | media probe NAME | media list | media show NAME",
     .summary = "label a disk (or archive folder) as a medium and register it; list media and "
                "what they hold"},
    {.name = "rotate", .run = cmd_rotate, .needs = NEED_REPO_WRITE, .lock = LOCK_WRITER,
     .key = true, .writes_media = true, .options = OPT_REPO | OPT_JSON, .min_args = 1,
     .max_args = 1, .usage = "rotate MEDIUM",
     .summary = "copy the generations due to a medium, read them back, prune it, and say when it "
                "is next due"},
    {.name = "runbook", .run = cmd_runbook, .options = OPT_REPO | OPT_JSON | OPT_PRINT,
     .min_args = 1, .max_args = 2,
     .usage = "runbook list | show NAME | print NAME [--format md|html] [--lang ja|en]",
     .summary = "the recovery procedures; print one for paper (手順書)"},
    {.name = "drill", .run = cmd_drill, .key = true,
     .options = OPT_REPO | OPT_JSON | OPT_DRILL | OPT_WORKERS, .min_args = 1, .max_args = 1,
     .usage = "drill NAME [--medium M] [--attest WHO] [--report DIR] [--sandbox DIR] [--keep]",
     .summary = "rehearse a runbook into a sandbox, timed, with a report"},
    {.name = "status", .run = cmd_status, .needs = NEED_REPO, .policy = POLICY_REQUIRED,
     .key = true, .options = OPT_REPO | OPT_JSON, .usage = "status [--json]",
     .summary = "3-2-1 compliance of each data set: copies, media, off-line and off-site ages, "
                "what to do next"},
    {.name = "key", .run = cmd_key, .needs = NEED_REPO, .key = true,
     .options = OPT_REPO | OPT_JSON | OPT_PRINT | OPT_KEY, .min_args = 1, .max_args = 2,
     .usage = "key list | key add [--label L] | key passwd [ID] | key remove ID | key "
              "fingerprint [--json] | key export --paper [-o FILE] [--format md|html] [--lang "
              "ja|en] | key split --shares N --threshold K -o DIR",
     .summary = "the passphrases that open the repository (slots); the public key's "
                "fingerprint; the key on paper for a safe, whole or as K-of-N shares (all "
                "changes recorded)"},
    {.name = "verify", .run = cmd_verify, .needs = NEED_REPO, .lock = LOCK_READER, .key = true,
     .public_key = true,
     .writes_media = true, /* --repair-from rewrites damaged packs of the copy checked */
     .options = OPT_REPO | OPT_READ_DATA | OPT_WORKERS | OPT_JSON | OPT_MEDIA,
     .usage = "verify [--read-data | --sample PCT] [--media M] [--repair-from M2] | verify "
              "--public-key HEX|FILE",
     .summary = "check signatures, chains and objects; read packs back (all, or a rolling "
                "sample); repair from another copy"},
};

static const struct option long_options[] = {
    {"repo", required_argument, NULL, 'r'},
    {"policy", required_argument, NULL, 'c'},
    {"passphrase-file", required_argument, NULL, 'p'},
    {"key-from", required_argument, NULL, 'y'},
    {"public-key", required_argument, NULL, 'U'},
    {"json", no_argument, NULL, 'j'},
    {"dataset", required_argument, NULL, 'd'},
    {"path", required_argument, NULL, 'P'},
    {"to-archive", required_argument, NULL, 'a'},
    {"force", no_argument, NULL, 'f'},
    {"read-data", no_argument, NULL, 'R'},
    {"no-cache", no_argument, NULL, 'N'},
    {"one-file-system", no_argument, NULL, 'x'},
    {"workers", required_argument, NULL, 'w'},
    {"metrics", required_argument, NULL, 'm'},
    {"clear-suspicious", required_argument, NULL, 'S'},
    {"dry-run", no_argument, NULL, 'n'},
    {"against", required_argument, NULL, 'A'},
    {"since", required_argument, NULL, 's'},
    {"name", required_argument, NULL, 'L'},
    {"type", required_argument, NULL, 'T'},
    {"location", required_argument, NULL, 'O'},
    {"from", required_argument, NULL, 'F'},
    {"media", required_argument, NULL, 'M'},
    {"sample", required_argument, NULL, 'E'},
    {"repair-from", required_argument, NULL, 'H'},
    {"format", required_argument, NULL, 'g'},
    {"output", required_argument, NULL, 'o'},
    {"paper", no_argument, NULL, 'K'},
    {"shares", required_argument, NULL, 'W'},
    {"threshold", required_argument, NULL, 'Y'},
    {"label", required_argument, NULL, 'I'},
    {"new-passphrase-file", required_argument, NULL, 'X'},
    {"lang", required_argument, NULL, 'l'},
    {"medium", required_argument, NULL, 'u'},
    {"attest", required_argument, NULL, 't'},
    {"report", required_argument, NULL, 'e'},
    {"sandbox", required_argument, NULL, 'b'},
    {"keep", no_argument, NULL, 'k'},
    {"verify", no_argument, NULL, 'V'},
    {"runbook", required_argument, NULL, 'B'},
    {"folder", required_argument, NULL, 'G'},
    {"to", required_argument, NULL, 'Z'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bkp COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        fprintf(f, "  %-64s %s\n", commands[i].usage, commands[i].summary);
    fprintf(f, "\ncommon options:\n"
               "  --policy FILE           the policy (or $BKP_POLICY; default " POL_DEFAULT_FILE ")\n"
               "  --repo DIR              the repository (or $BKP_REPO; else the policy's)\n"
               "  --passphrase-file FILE  passphrase from a file of mode 0600 (or $BKP_PASSPHRASE_FILE,\n"
               "                          $BKP_PASSPHRASE_COMMAND; else a prompt on the terminal)\n"
               "  --key-from FILE         instead of the passphrase: a paper sheet, or K share sheets\n"
               "                          (the option once per file); --key-from - asks for the sheets\n"
               "                          on the terminal, line by line, each line checked as typed\n"
               "  --new-passphrase-file FILE  key add, key passwd: the new passphrase (mode 0600;\n"
               "                          else asked twice on the terminal)\n"
               "  --public-key HEX|FILE   audit verify, verify: check signatures and chains with\n"
               "                          the public key you pinned (`bkp key fingerprint`); no\n"
               "                          secret\n"
               "  -v, --verbose / -q, --quiet\n"
               "\nGEN is DATASET:latest, DATASET:SEQ (e.g. emr-db:42) or a unique UUID prefix.\n"
               "Exit codes: 0 success, 1 failed or not verified, 2 usage error, 3 locked.\n");
}

/* More threads than this only add memory: chunks are queued per thread. */
#define CLI_WORKERS_MAX 64

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static unsigned option_bit(int ch)
{
    switch (ch) {
    case 'r':
        return OPT_REPO;
    case 'j':
        return OPT_JSON;
    case 'd':
        return OPT_DATASET;
    case 'P':
        return OPT_PATH;
    case 'a':
        return OPT_TO_ARCHIVE;
    case 'f':
        return OPT_FORCE;
    case 'R':
        return OPT_READ_DATA;
    case 'N':
        return OPT_NO_CACHE;
    case 'x':
        return OPT_ONE_FS;
    case 'w':
        return OPT_WORKERS;
    case 'm':
        return OPT_METRICS;
    case 'S':
        return OPT_CLEAR;
    case 'n':
        return OPT_DRY_RUN;
    case 'A':
        return OPT_AGAINST;
    case 's':
        return OPT_SINCE;
    case 'L':
    case 'T':
    case 'O':
        return OPT_LABEL;
    case 'F':
        return OPT_FROM;
    case 'M':
    case 'E':
    case 'H':
        return OPT_MEDIA;
    case 'g':
    case 'l':
        return OPT_PRINT;
    case 'o':
    case 'K':
    case 'W':
    case 'Y':
    case 'I':
    case 'X':
        return OPT_KEY;
    case 'u':
    case 'e':
    case 'b':
    case 'k':
        return OPT_DRILL;
    case 'V':
        return OPT_VERIFY;
    case 't':
        return OPT_DRILL | OPT_RUNBOOK;
    case 'B':
        return OPT_RUNBOOK;
    case 'G':
        return OPT_PATH;
    case 'Z':
        return OPT_PERIOD;
    default:
        return 0; /* accepted everywhere */
    }
}

/*
 * Provide what `cmd` declares, in this order: the policy (its hooks are
 * root's commands, so StrictModes and validation come before anything else
 * reads it), the passphrase file (checked before any handler could read
 * it), the writer's lock, the open repository. Returns an exit code.
 */
static int prepare(const command *cmd, cli *c, bkp_lock **writer)
{
    const char *named = getenv("BKP_POLICY");
    if (cmd->policy == POLICY_REQUIRED || c->policy_file || (named && *named)) {
        if (!cli_policy(c))
            return EXIT_USAGE; /* logged with file:line, or the chmod to run */
    }
    if (c->public_key) {
        /* The auditor holds no secret: none is asked for, on a terminal
         * either, and a source of one given beside the key is a mistake. */
        if (c->nkey_from || c->passphrase_file) {
            bkp_error("--public-key checks without any secret: leave out %s",
                      c->nkey_from ? "--key-from" : "--passphrase-file");
            return EXIT_USAGE;
        }
        int rc = bkp_pubkey_from_arg(c->public_key, c->pinned_pk);
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
        if (pass && bkp_trust_file(pass, BKP_TRUST_SECRET, "passphrase file", NULL) == -EPERM)
            return EXIT_USAGE;
    }
    /* Writers never run while prune does (lock.h): the lock comes before the
     * open, because a writable open may itself write (clean-up, re-indexing). */
    if (cmd->lock == LOCK_WRITER) {
        const char *repo = cli_repo_path(c);
        struct stat st;
        if (!repo)
            return EXIT_USAGE;
        int rc = stat(repo, &st) == 0 ? bkp_lock_writer(repo, cmd->name, writer) : 0;
        if (rc)
            return rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
    }
    if (cmd->needs & (NEED_REPO | NEED_REPO_WRITE)) {
        unsigned flags = (cmd->needs & NEED_REPO_WRITE) ? 0 : BKP_REPO_READONLY;
        int ex = c->public_key ? cli_open_public(c, &c->r) : cli_open_repo(c, flags, &c->r);
        if (ex) {
            bkp_lock_release(*writer);
            *writer = NULL;
            return ex;
        }
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
    if (sodium_init() < 0) {
        fprintf(stderr, "bkp: error: libsodium failed to initialise\n");
        return EXIT_FAILED;
    }
    /* -v and -q may come before the command too. */
    for (int moved = 0; moved < argc - 2; moved++) {
        if (strcmp(argv[1], "-v") && strcmp(argv[1], "-q") && strcmp(argv[1], "--verbose") &&
            strcmp(argv[1], "--quiet"))
            break;
        char *opt = argv[1];
        memmove(argv + 1, argv + 2, (size_t)(argc - 2) * sizeof(*argv));
        argv[argc - 1] = opt; /* moved after the command, where getopt reads it */
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("bkp %s%s\n", BKP_VERSION, bkp_clock_is_test() ? " (test clock: $BKP_NOW)" : "");
        return EXIT_OK;
    }
    const command *cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "bkp: error: '%s' is not a bkp command; see `bkp --help`\n", argv[1]);
        return EXIT_USAGE;
    }
    c.command = cmd->name;
    bkp_audit_set_command(argc, argv);
    c.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    if (c.tty)
        level = BKP_LOG_INFO;
    argv++;
    argc--;
    int ch;
    opterr = 0;
    /* The leading ':' makes a missing value ':', told apart from an
     * option the command does not take ('?'). */
    while ((ch = getopt_long(argc, argv, ":vqho:", long_options, NULL)) != -1) {
        if (ch == ':') {
            fprintf(stderr, "bkp: error: %s needs a value\nusage: bkp %s\n", argv[optind - 1],
                    cmd->usage);
            return EXIT_USAGE;
        }
        unsigned bit = option_bit(ch);
        if (ch == '?' || (bit && !(cmd->options & bit))) {
            fprintf(stderr, "bkp: error: %s does not take the option '%s'\nusage: bkp %s\n",
                    cmd->name, argv[optind - 1], cmd->usage);
            return EXIT_USAGE;
        }
        switch (ch) {
        case 'r': c.repo = optarg; break;
        case 'c': c.policy_file = optarg; break;
        case 'p': c.passphrase_file = optarg; break;
        case 'y':
            if (c.nkey_from == CLI_KEY_FROM_MAX || !cmd->key || cmd->run == cmd_init) {
                fprintf(stderr, "bkp: error: %s\n",
                        c.nkey_from == CLI_KEY_FROM_MAX ? "--key-from: at most 16 sheets"
                        : cmd->key ? "init makes a new key; --key-from opens an existing one"
                                   : "this command does not open the repository's key; leave "
                                     "out --key-from");
                return EXIT_USAGE;
            }
            c.key_from[c.nkey_from++] = optarg;
            break;
        case 'U':
            if (!cmd->public_key) {
                fprintf(stderr, "bkp: error: %s does not take --public-key; `bkp audit verify` "
                                "and `bkp verify` do\n",
                        cmd->name);
                return EXIT_USAGE;
            }
            c.public_key = optarg;
            break;
        case 'j': c.json = true; break;
        case 'd': c.dataset = optarg; break;
        case 'P': c.path = optarg; break;
        case 'a': c.to_archive = optarg; break;
        case 'f': c.force = true; break;
        case 'R': c.read_data = true; break;
        case 'N': c.no_cache = true; break;
        case 'x': c.one_fs = true; break;
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 1 || n > CLI_WORKERS_MAX) {
                fprintf(stderr, "bkp: error: --workers %s: give a number of threads from 1 to %d\n",
                        optarg, CLI_WORKERS_MAX);
                return EXIT_USAGE;
            }
            c.workers = (int)n;
            break;
        }
        case 'm': c.metrics = optarg; break;
        case 'S': c.clear = optarg; break;
        case 'n': c.dry_run = true; break;
        case 'A': c.against = optarg; break;
        case 's': c.since = optarg; break;
        case 'L': c.name = optarg; break;
        case 'T': c.type = optarg; break;
        case 'O': c.location = optarg; break;
        case 'F': c.from = optarg; break;
        case 'M': c.media = optarg; break;
        case 'E': {
            char *end;
            c.sample = strtod(optarg, &end);
            if (end == optarg || *end || !(c.sample > 0))
                c.sample = -1; /* refused by verify, with the reason */
            break;
        }
        case 'H': c.repair_from = optarg; break;
        case 'g': c.format = optarg; break;
        case 'o': c.output = optarg; break;
        case 'K': c.paper = true; break;
        case 'W': c.shares = optarg; break;
        case 'Y': c.threshold = optarg; break;
        case 'I': c.label = optarg; break;
        case 'X': c.new_passphrase_file = optarg; break;
        case 'l': c.lang = optarg; break;
        case 'u': c.medium = optarg; break;
        case 't': c.attest = optarg; break;
        case 'e': c.report_dir = optarg; break;
        case 'b': c.sandbox = optarg; break;
        case 'k': c.keep = true; break;
        case 'V': c.verify = true; break;
        case 'B': c.runbook = optarg; break;
        case 'G': c.folder = optarg; break;
        case 'Z': c.period_to = optarg; break;
        case 'v': level = BKP_LOG_DEBUG; break;
        case 'q': level = BKP_LOG_WARN; c.tty = false; break;
        case 'h': printf("usage: bkp %s\n%s\n", cmd->usage, cmd->summary); return EXIT_OK;
        }
    }
    /* getopt has moved the arguments after the options. */
    c.args = argv + optind;
    c.nargs = argc - optind;
    if (c.nargs < cmd->min_args || c.nargs > cmd->max_args) {
        fprintf(stderr, "bkp: error: wrong number of arguments\nusage: bkp %s\n", cmd->usage);
        return EXIT_USAGE;
    }
    bkp_log_set_level((enum bkp_log_level)level);
    bkp_progress_enable(c.tty && !c.json);
    bkp_lock *writer = NULL;
    int ex = prepare(cmd, &c, &writer);
    if (ex) {
        cli_key_from_clear(&c);
        pol_free(c.policy);
        return ex;
    }
    c.writer = writer;
    ex = cmd->run(&c);
    cli_audit_context(&c);
    bkp_lock_release(writer);
    bkp_repo_free(c.r);
    cli_key_from_clear(&c);
    pol_free(c.policy);
    return ex;
}
