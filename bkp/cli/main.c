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

typedef struct command {
    const char *name;
    int (*run)(cli *c);
    unsigned needs;   /* NEED_*: provided by the dispatcher */
    unsigned options; /* which options it accepts */
    int min_args, max_args;
    const char *usage;
    const char *summary;
} command;

static const command commands[] = {
    {"init", cmd_init, 0, OPT_REPO, 0, 0, "init [--repo DIR | --policy FILE]",
     "create a repository (the policy's, without --repo), its keys and config"},
    {"backup", cmd_backup, NEED_REPO_WRITE, OPT_REPO | OPT_DATASET | OPT_NO_CACHE | OPT_ONE_FS | OPT_WORKERS | OPT_JSON,
     1, 1024, "backup NAME | backup --dataset NAME PATH...",
     "capture a data set of the policy (or the given paths) now and seal a generation"},
    {"generations", cmd_generations, NEED_REPO, OPT_REPO | OPT_JSON | OPT_CLEAR, 0, 1,
     "generations [NAME] [--json] | generations --clear-suspicious GEN",
     "list sealed generations, or clear a suspicious mark (recorded)"},
    {"ls", cmd_ls, NEED_REPO, OPT_REPO | OPT_JSON, 1, 2, "ls GEN [PATH] [--json]", "list the files of a generation"},
    {"diff", cmd_diff, NEED_REPO, OPT_REPO | OPT_JSON, 2, 2, "diff GEN GEN [--json]",
     "what changed between two generations"},
    {"restore", cmd_restore, 0, OPT_REPO | OPT_PATH | OPT_TO_ARCHIVE | OPT_FORCE | OPT_WORKERS | OPT_FROM | OPT_RUNBOOK | OPT_VERIFY, 0, 2,
     "restore GEN TARGET [--path P | --folder DIR] [--force] [--from MEDIUM|PATH] [--verify] | restore GEN --to-archive FILE | restore --runbook NAME [--attest WHO]",
     "restore a generation into a directory or a tar (pax) file, from the repository or any one medium"},
    {"run", cmd_run, NEED_REPO_WRITE, OPT_REPO | OPT_DATASET | OPT_FORCE | OPT_METRICS | OPT_WORKERS | OPT_JSON,
     0, 0, "run [--dataset NAME] [--force] [--metrics FILE] [--json]",
     "the cron entry: back up every data set of the policy that is due"},
    {"prune", cmd_prune, 0, OPT_REPO | OPT_DRY_RUN | OPT_JSON, 0, 0, "prune [--dry-run] [--json]",
     "apply each data set's retention: delete generations and the packs nothing needs"},
    {"audit", cmd_audit, NEED_REPO, OPT_REPO | OPT_JSON | OPT_AGAINST | OPT_SINCE | OPT_DATASET | OPT_FROM | OPT_PERIOD | OPT_PRINT, 1, 2,
     "audit verify [--against FILE|MEDIUM] | audit show [--since DATE] [--dataset NAME] [--json] | audit report [--from DATE] [--to DATE] [--format md|html] [--lang ja|en] [--json] | audit restart REASON",
     "check the signed audit log, show it, or write the evidence report for checklist item 3-②"},
    {"policy", cmd_policy, 0, OPT_JSON, 1, 1, "policy check [--policy FILE] [--json]",
     "validate the policy and print it as it will be applied"},
    {"media", cmd_media, NEED_REPO, OPT_REPO | OPT_JSON | OPT_LABEL | OPT_FORCE, 1, 2,
     "media label PATH --name NAME [--type T] [--location L] [--force] | media list | media show NAME",
     "label a disk (or archive folder) as a medium and register it; list media and what they hold"},
    {"rotate", cmd_rotate, NEED_REPO_WRITE, OPT_REPO | OPT_JSON, 1, 1, "rotate MEDIUM",
     "copy the generations due to a medium, read them back, prune it, and say when it is next due"},
    {"runbook", cmd_runbook, 0, OPT_REPO | OPT_JSON | OPT_PRINT, 1, 2,
     "runbook list | show NAME | print NAME [--format md|html] [--lang ja|en]",
     "the recovery procedures; print one for paper (手順書)"},
    {"drill", cmd_drill, 0, OPT_REPO | OPT_JSON | OPT_DRILL | OPT_WORKERS, 1, 1,
     "drill NAME [--medium M] [--attest WHO] [--report DIR] [--sandbox DIR] [--keep]",
     "rehearse a runbook into a sandbox, timed, with a report"},
    {"status", cmd_status, NEED_REPO, OPT_REPO | OPT_JSON, 0, 0, "status [--json]",
     "3-2-1 compliance of each data set: copies, media, off-line and off-site ages, what to do next"},
    {"verify", cmd_verify, NEED_REPO, OPT_REPO | OPT_READ_DATA | OPT_WORKERS | OPT_JSON | OPT_MEDIA, 0, 0,
     "verify [--read-data | --sample PCT] [--media M] [--repair-from M2]",
     "check signatures, chains and objects; read packs back (all, or a rolling sample); repair from another copy"},
};

static const struct option long_options[] = {
    {"repo", required_argument, NULL, 'r'},
    {"policy", required_argument, NULL, 'c'},
    {"passphrase-file", required_argument, NULL, 'p'},
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
    {"format", required_argument, NULL, 'o'},
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
               "  -v, --verbose / -q, --quiet\n"
               "\nGEN is DATASET:latest, DATASET:SEQ (e.g. emr-db:42) or a unique UUID prefix.\n"
               "Exit codes: 0 success, 1 failed or not verified, 2 usage error, 3 locked.\n");
}

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
    case 'o':
    case 'l':
        return OPT_PRINT;
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
    while ((ch = getopt_long(argc, argv, "vqh", long_options, NULL)) != -1) {
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
        case 'j': c.json = true; break;
        case 'd': c.dataset = optarg; break;
        case 'P': c.path = optarg; break;
        case 'a': c.to_archive = optarg; break;
        case 'f': c.force = true; break;
        case 'R': c.read_data = true; break;
        case 'N': c.no_cache = true; break;
        case 'x': c.one_fs = true; break;
        case 'w': c.workers = atoi(optarg); break;
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
        case 'o': c.format = optarg; break;
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
    /* Writers never run while prune does (lock.h): the lock comes before the
     * open, because a writable open may itself write (clean-up, re-indexing). */
    if (cmd->needs & NEED_REPO_WRITE) {
        const char *repo = cli_repo_path(&c);
        struct stat st;
        if (!repo) {
            pol_free(c.policy);
            return EXIT_USAGE;
        }
        int rc = stat(repo, &st) == 0 ? bkp_lock_writer(repo, cmd->name, &writer) : 0;
        if (rc) {
            pol_free(c.policy);
            return rc == -EBUSY ? EXIT_LOCKED : EXIT_FAILED;
        }
    }
    if (cmd->needs & (NEED_REPO | NEED_REPO_WRITE)) {
        int ex = cli_open_repo(&c, (cmd->needs & NEED_REPO_WRITE) ? 0 : BKP_REPO_READONLY, &c.r);
        if (ex) {
            bkp_lock_release(writer);
            pol_free(c.policy);
            return ex;
        }
    }
    c.writer = writer;
    int ex = cmd->run(&c);
    cli_audit_context(&c);
    bkp_lock_release(writer);
    bkp_repo_free(c.r);
    pol_free(c.policy);
    return ex;
}
