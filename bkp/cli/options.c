/*
 * options.c — every option of the command line, once: its name, its value,
 * where it lands in `struct cli`, how its value is checked, and its help.
 * A command lists the names it accepts (main.c); parsing, the refusal of an
 * option a command does not take, and `bkp CMD --help` all read this table,
 * so adding an option is one entry here, its name in the commands that take
 * it, and the code that uses it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"
#include "policies/duration.h"
#include "restore/attest.h"

/* More threads than this only add memory: chunks are queued per thread. */
#define CLI_WORKERS_MAX 64

typedef enum {
    ARG_STRING,   /* const char *: the value as given */
    ARG_NAME,     /* const char *: a name typed, as ASCII (bkp_name_typed, in place) */
    ARG_FLAG,     /* bool: set */
    ARG_WORKERS,  /* int: threads, 1 to CLI_WORKERS_MAX */
    ARG_PERCENT,  /* double: > 0, else -1 (refused by the command, with the reason) */
    ARG_KEY_FROM, /* appended to key_from[] */
    ARG_ATTEST,   /* added to attest (restore/attest.h) */
    ARG_LEVEL,    /* -v / -q: the log level */
    ARG_HELP,     /* -h: this command's help */
    ARG_DURATION, /* int64_t seconds: 30s, 10m, 2h, 1d (pol_duration_parse) */
} arg_kind;

typedef struct cli_option {
    const char *name;  /* --name */
    char letter;       /* -x, or 0 */
    const char *value; /* the value's name in help; NULL for a flag */
    arg_kind kind;
    size_t field; /* offsetof(cli, …) */
    bool common;  /* accepted by every command */
    const char *help;
} cli_option;

#define F(member) offsetof(cli, member)

static const cli_option options[] = {
    {"policy", 0, "FILE", ARG_STRING, F(policy_file), true,
     N_("the policy (or $BKP_POLICY; default /etc/bkp/policy.yaml)")},
    {"repo", 0, "DIR", ARG_STRING, F(repo), false,
     N_("the repository (or $BKP_REPO; else the policy's)")},
    {"passphrase-file", 0, "FILE", ARG_STRING, F(passphrase_file), true,
     N_("passphrase from a file of mode 0600 (or $BKP_PASSPHRASE_FILE, $BKP_PASSPHRASE_COMMAND; "
        "else a prompt on the terminal)")},
    {"key-from", 0, "FILE", ARG_KEY_FROM, 0, true,
     N_("instead of the passphrase: a paper sheet, or K share sheets (the option once per file); "
        "--key-from - asks for the sheets on the terminal, line by line, each line checked as "
        "typed")},
    {"public-key", 0, "HEX|FILE", ARG_STRING, F(public_key), true,
     N_("audit verify, show, check and fetch, verify: check signatures and chains with the "
        "public key you pinned (`bkp key fingerprint`); no secret")},
    {"json", 0, NULL, ARG_FLAG, F(json), false, N_("print JSON for programs instead of text")},
    {"dataset", 0, "NAME", ARG_NAME, F(dataset), false, N_("only this data set")},
    {"path", 0, "P", ARG_STRING, F(path), false, N_("restore only this stored path")},
    {"folder", 0, "DIR", ARG_STRING, F(folder), false,
     N_("restore the contents of this stored folder")},
    {"to-archive", 0, "FILE", ARG_STRING, F(to_archive), false,
     N_("write a tar (pax) file instead of a directory")},
    {"force", 0, NULL, ARG_FLAG, F(force), false,
     N_("go ahead where bkp would stop (a non-empty target, a data set not due, a medium in use)")},
    {"read-data", 0, NULL, ARG_FLAG, F(read_data), false, N_("read and authenticate every pack")},
    {"no-cache", 0, NULL, ARG_FLAG, F(no_cache), false,
     N_("read every file, trusting no files cache")},
    {"one-file-system", 0, NULL, ARG_FLAG, F(one_fs), false, N_("do not cross mount points")},
    {"compression", 0, "C", ARG_STRING, F(compression), false,
     N_("auto, lz4, zstd, zstd:LEVEL (1 to 19) or none (default: the policy's, else auto)")},
    {"workers", 0, "N", ARG_WORKERS, F(workers), false, N_("threads (1 to 64)")},
    {"chunk-id", 0, "ID", ARG_STRING, F(chunk_id), false,
     N_("init: how chunks are named: auto (the faster on this machine), hmac-sha256 or "
        "blake2b")},
    {"metrics", 0, "FILE", ARG_STRING, F(metrics), false,
     N_("write the figures for Prometheus (textfile collector): status, and the run's")},
    {"clear-suspicious", 0, "GEN", ARG_STRING, F(clear), false,
     N_("clear the suspicious mark of a generation (recorded)")},
    {"dry-run", 0, NULL, ARG_FLAG, F(dry_run), false, N_("say what would be done; change nothing")},
    {"recompress", 0, NULL, ARG_FLAG, F(recompress), false,
     N_("prune: also rewrite the packs that hold LZ4 data, in the default compression")},
    {"against", 0, "FILE|MEDIUM", ARG_STRING, F(against), false,
     N_("compare the log with an earlier copy of it")},
    {"since", 0, "DATE", ARG_STRING, F(since), false, N_("records from this date on")},
    {"journal", 0, "FILE", ARG_STRING, F(journal), false,
     N_("a journal of reads made where no primary was open, instead of the log")},
    {"name", 0, "NAME", ARG_STRING, F(name), false, N_("the medium's name in the policy")},
    {"type", 0, "T", ARG_STRING, F(type), false,
     N_("the medium's type (disk, removable, archive, object)")},
    {"location", 0, "L", ARG_STRING, F(location), false,
     N_("where the medium is kept (onsite, offsite)")},
    {"key-fingerprint", 0, "FP|FILE", ARG_STRING, F(key_fingerprint), false,
     N_("--from: the repository key you expect, as the key sheet or the printed "
        "procedure shows it (`bkp key fingerprint`); a copy under any other key is refused")},
    {"from", 0, "MEDIUM|PATH", ARG_STRING, F(from), false,
     N_("restore, generations, ls, find, diff, dump: read from this medium or copy; audit "
        "report: from this date")},
    {"to", 0, "DATE", ARG_STRING, F(period_to), false, N_("audit report: up to this date")},
    {"media", 0, "M", ARG_NAME, F(media), false, N_("check the copy on this medium")},
    {"sample", 0, "PCT", ARG_PERCENT, F(sample), false,
     N_("read back this share of the packs, those read longest ago first")},
    {"repair-from", 0, "M2", ARG_STRING, F(repair_from), false,
     N_("rewrite damaged packs from this other copy")},
    {"format", 0, "md|html", ARG_STRING, F(format), false, N_("the document's format")},
    {"lang", 0, "ja|en", ARG_STRING, F(lang), false,
     N_("the document's language (default: the locale)")},
    {"output", 'o', "FILE|DIR", ARG_STRING, F(output), false, N_("where to write")},
    {"paper", 0, NULL, ARG_FLAG, F(paper), false, N_("the whole key on one sheet for a safe")},
    {"regulation", 0, NULL, ARG_FLAG, F(regulation), false,
     N_("the backup section to attach to the operations management rules (運用管理規程)")},
    {"shares", 0, "N", ARG_STRING, F(shares), false, N_("how many share sheets")},
    {"threshold", 0, "K", ARG_STRING, F(threshold), false,
     N_("how many share sheets open the key")},
    {"label", 0, "L", ARG_STRING, F(label), false, N_("a name for the new passphrase's slot")},
    {"new-passphrase-file", 0, "FILE", ARG_STRING, F(new_passphrase_file), false,
     N_("the new passphrase (mode 0600; else asked twice on the terminal)")},
    {"machine-key", 0, "FILE", ARG_STRING, F(machine_key), false,
     N_("a new slot for unattended runs: bkp draws its secret and writes it to FILE (0600)")},
    {"medium", 0, "M", ARG_NAME, F(medium), false, N_("rehearse from this medium's copy")},
    {"attest", 0, "[ROLE=]WHO", ARG_ATTEST, 0, false,
     N_("who attests the confirm steps (recorded in the audit log); ROLE=WHO for one role's, the "
        "option once per role")},
    {"report", 0, "DIR", ARG_STRING, F(report_dir), false, N_("write the drill report here")},
    {"sandbox", 0, "DIR", ARG_STRING, F(sandbox), false, N_("restore into this folder")},
    {"keep", 0, NULL, ARG_FLAG, F(keep), false, N_("leave the sandbox for inspection")},
    {"prune-first", 0, NULL, ARG_FLAG, F(prune_first), false,
     N_("a disk too full for the copy: delete what retention lets go before copying")},
    {"unmount", 0, NULL, ARG_FLAG, F(unmount), false,
     N_("once the rotation succeeded, unmount the medium, ready to be taken away")},
    {"verify", 0, NULL, ARG_FLAG, F(verify), false, N_("read back every file written")},
    {"runbook", 0, "NAME", ARG_STRING, F(runbook), false, N_("follow this recovery procedure")},
    {"lock-wait", 0, "DURATION", ARG_DURATION, F(lock_wait), true,
     N_("wait this long (30s, 10m, 1h) for a lock another bkp holds, instead of exit 3")},
    {"allow-other", 0, NULL, ARG_FLAG, F(allow_other), false,
     N_("let other users into the mount too; each file keeps its stored owner and mode, which the "
        "kernel enforces")},
    {"config", 0, "FILE", ARG_STRING, F(agent_config), false,
     N_("agent: its configuration (default /etc/bkp/agent.yaml)")},
    {"check", 0, NULL, ARG_FLAG, F(agent_check), false,
     N_("agent: check the configuration and say what it serves, also in an SSH session")},
    {"port", 0, "N", ARG_STRING, F(port), false,
     N_("host add: the source's SSH port (default 22)")},
    {"user", 0, "USER", ARG_STRING, F(ssh_user), false,
     N_("host add: the user the agent runs as on the source (default bkp)")},
    {"identity", 0, "FILE", ARG_STRING, F(identity), false,
     N_("host add: our SSH key for the source (default /etc/bkp/ssh/id_ed25519; made when "
        "missing)")},
    {"verbose", 'v', NULL, ARG_LEVEL, 0, true, N_("say more")},
    {"quiet", 'q', NULL, ARG_LEVEL, 0, true, N_("warnings and errors only, no progress")},
    {"help", 'h', NULL, ARG_HELP, 0, true, N_("this help")},
};

#define NOPTIONS (sizeof(options) / sizeof(*options))

/* Is `name` a word of the space-separated list `list`? */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return true;
    return false;
}

static bool accepted(const cli_option *o, const char *accepts)
{
    return o->common || listed(accepts, o->name);
}

/* Store `arg` for option `o`. Returns an exit code (the problem printed). */
static int store(cli *c, const cli_option *o, const char *arg, int *level)
{
    char *at = (char *)c + o->field;
    char *end;
    switch (o->kind) {
    case ARG_NAME: /* argv's strings are the program's to change */
        bkp_name_typed((char *)(uintptr_t)arg);
        *(const char **)at = arg;
        return EXIT_OK;
    case ARG_STRING:
        *(const char **)at = arg;
        return EXIT_OK;
    case ARG_FLAG:
        *(bool *)at = true;
        return EXIT_OK;
    case ARG_WORKERS: {
        long n = strtol(arg, &end, 10);
        if (end == arg || *end || n < 1 || n > CLI_WORKERS_MAX) {
            fprintf(stderr, _("bkp: error: --workers %s: give a number of threads from 1 to %d\n"),
                    arg, CLI_WORKERS_MAX);
            return EXIT_USAGE;
        }
        *(int *)at = (int)n;
        return EXIT_OK;
    }
    case ARG_PERCENT: {
        double v = strtod(arg, &end);
        *(double *)at = end == arg || *end || !(v > 0) ? -1 : v;
        return EXIT_OK;
    }
    case ARG_KEY_FROM:
        if (c->nkey_from == CLI_KEY_FROM_MAX) {
            fprintf(stderr, _("bkp: error: --key-from: at most %d sheets\n"), CLI_KEY_FROM_MAX);
            return EXIT_USAGE;
        }
        c->key_from[c->nkey_from++] = arg;
        return EXIT_OK;
    case ARG_ATTEST:
        return rb_attest_add(&c->attest, arg) ? EXIT_USAGE : EXIT_OK;
    case ARG_LEVEL:
        if (o->letter == 'v') {
            *level = BKP_LOG_DEBUG;
        } else {
            *level = BKP_LOG_WARN;
            c->tty = false;
            c->quiet = true;
        }
        return EXIT_OK;
    case ARG_HELP:
        c->help = true;
        return EXIT_OK;
    case ARG_DURATION:
        if (pol_duration_parse(arg, (int64_t *)at) || *(int64_t *)at > 7 * 86400) {
            fprintf(stderr,
                    _("bkp: error: --%s %s: give a duration of at most 7d, e.g. 30s, 10m, 2h\n"),
                    o->name, arg);
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }
    return EXIT_USAGE;
}

int cli_options_parse(cli *c, const char *accepts, const char *usage, int argc, char **argv,
                      int *level)
{
    struct option longs[NOPTIONS + 1];
    char shorts[2 * NOPTIONS + 2] = ":";
    size_t ns = 1;
    for (size_t i = 0; i < NOPTIONS; i++) {
        longs[i] =
            (struct option){options[i].name, options[i].value ? required_argument : no_argument,
                            NULL, 256 + (int)i};
        if (options[i].letter) {
            shorts[ns++] = options[i].letter;
            if (options[i].value)
                shorts[ns++] = ':';
        }
    }
    longs[NOPTIONS] = (struct option){0};
    shorts[ns] = '\0';

    int ch;
    opterr = 0;
    /* The leading ':' makes a missing value ':', told apart from an
     * option the command does not take ('?'). */
    while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (ch == ':') {
            fprintf(stderr, _("bkp: error: %s needs a value\nusage: bkp %s\n"), argv[optind - 1],
                    usage);
            return EXIT_USAGE;
        }
        const cli_option *o = NULL;
        if (ch >= 256)
            o = &options[ch - 256];
        for (size_t i = 0; !o && ch != '?' && i < NOPTIONS; i++)
            if (options[i].letter == ch)
                o = &options[i];
        if (!o || !accepted(o, accepts)) {
            /* The option as named, not its value (argv's last word). */
            char named[64];
            if (o && ch >= 256)
                snprintf(named, sizeof(named), "--%s", o->name);
            else if (o)
                snprintf(named, sizeof(named), "-%c", o->letter);
            fprintf(stderr, _("bkp: error: %s does not take the option '%s'\nusage: bkp %s\n"),
                    c->command, o ? named : argv[optind - 1], usage);
            return EXIT_USAGE;
        }
        /* A long option written whole: getopt takes any unique prefix, and
         * `--form` (meant `--from`) would silently be `--format`. */
        if (ch >= 256) {
            const char *typed = optarg && optind >= 2 && optarg == argv[optind - 1]
                                    ? argv[optind - 2]
                                    : argv[optind - 1];
            size_t tl = strcspn(typed + 2, "=");
            if (strncmp(typed, "--", 2) || tl != strlen(o->name) ||
                strncmp(typed + 2, o->name, tl)) {
                fprintf(stderr,
                        _("bkp: error: '%.*s' is not an option's whole name: write --%s if that is "
                          "the one meant\nusage: bkp %s\n"),
                        (int)(2 + tl), typed, o->name, usage);
                return EXIT_USAGE;
            }
        }
        int ex = store(c, o, optarg, level);
        if (ex)
            return ex;
    }
    /* A language we do not have is a mistake, not English unsaid: the one
     * check, for every command that takes --lang. */
    if (c->lang && strcmp(c->lang, "ja") && strcmp(c->lang, "en")) {
        bkp_error(_("--lang %s: write ja or en"), c->lang);
        return EXIT_USAGE;
    }
    /* getopt has moved the arguments after the options. */
    c->args = argv + optind;
    c->nargs = argc - optind;
    return EXIT_OK;
}

/* The code point of the UTF-8 character at `p` and its length in `*len`
 * (a stray byte counts as one character of its own). */
static uint32_t code_point(const char *p, int *len)
{
    const unsigned char *u = (const unsigned char *)p;
    int n = u[0] < 0x80 ? 1 : u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 1;
    uint32_t cp = n == 1 ? u[0] : u[0] & (0x7fu >> n);
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *len = 1;
            return u[0];
        }
        cp = cp << 6 | (u[i] & 0x3f);
    }
    *len = n;
    return cp;
}

/* Columns on a terminal: 2 for the wide scripts (CJK, kana, Hangul,
 * full-width forms), else 1. */
static int columns(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
                   (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                   (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                   (cp >= 0xffe0 && cp <= 0xffe6)
               ? 2
               : 1;
}

int cli_columns(const char *s)
{
    int w = 0, n;
    for (; *s; s += n)
        w += columns(code_point(s, &n));
    return w;
}

void cli_pad(FILE *f, const char *s, int width)
{
    int w = cli_columns(s);
    fputs(s, f);
    fprintf(f, "%*s", w < width ? width - w : 1, "");
}

/* Japanese line breaking (kinsoku), the common cases: a line does not
 * begin with closing punctuation or a small kana, nor end with an opening
 * bracket. */
static bool no_line_start(uint32_t cp)
{
    static const char set[] =
        "、。，．）」』】〉》〕］｝ー！？：；っッゃゅょャュョぁぃぅぇぉァィゥェォ";
    for (const char *p = set; *p;) {
        int n;
        if (code_point(p, &n) == cp)
            return true;
        p += n;
    }
    return false;
}

static bool no_line_end(uint32_t cp)
{
    return cp == 0xff08 || cp == 0x300c || cp == 0x300e || cp == 0x3010 || cp == 0x3008 ||
           cp == 0x300a || cp == 0x3014 || cp == 0xff3b || cp == 0xff5b;
}

/* The next unit no line is broken inside, from `p`: a word of narrow
 * characters, or one wide character, with the opening brackets before it
 * and the closing punctuation after it. Its bytes; its columns in `*cols`. */
static size_t unit(const char *p, int *cols)
{
    const char *q = p;
    int w = 0, n;
    uint32_t cp;
    while (*q && no_line_end(cp = code_point(q, &n))) {
        w += columns(cp);
        q += n;
    }
    if (*q && *q != ' ' && columns(cp = code_point(q, &n)) == 2) {
        w += 2;
        q += n;
    } else {
        while (*q && *q != ' ' && columns(cp = code_point(q, &n)) == 1) {
            w += 1;
            q += n;
        }
    }
    while (*q && no_line_start(cp = code_point(q, &n))) {
        w += columns(cp);
        q += n;
    }
    *cols = w;
    return (size_t)(q - p);
}

/* `text` after `left`, wrapped to 79 columns with `indent` before each
 * line: at spaces, and between wide characters (Japanese has no spaces). */
void cli_wrap(FILE *f, const char *left, int indent, const char *text)
{
    const int width = 79;
    int col = left ? fprintf(f, "  %s", left) : 0;
    if (col >= indent) {
        fputc('\n', f);
        col = 0;
    }
    col += fprintf(f, "%*s", indent - col, "");
    while (*text) {
        bool space = *text == ' ';
        text += strspn(text, " ");
        if (!*text)
            break;
        int w;
        size_t len = unit(text, &w);
        if (col > indent && col + (space ? 1 : 0) + w > width)
            col = fprintf(f, "\n%*s", indent, "") - 1;
        else if (col > indent && space)
            col += fprintf(f, " ");
        fwrite(text, 1, len, f);
        col += w;
        text += len;
    }
    fputc('\n', f);
}

const char *cli_options_common_names(char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NOPTIONS && at < n; i++) {
        const cli_option *o = &options[i];
        if (!o->common)
            continue;
        int k = o->letter ? snprintf(buf + at, n - at, "%s-%c", at ? ", " : "", o->letter)
                          : snprintf(buf + at, n - at, "%s--%s%s%s", at ? ", " : "", o->name,
                                     o->value ? " " : "", o->value ? o->value : "");
        at += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

void cli_options_help(FILE *f, const char *accepts, bool common)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const cli_option *o = &options[i];
        if (common ? !o->common : (o->common || !listed(accepts, o->name)))
            continue;
        char left[64];
        if (o->letter)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->letter, o->name, o->value ? " " : "",
                     o->value ? o->value : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->value ? " " : "",
                     o->value ? o->value : "");
        cli_wrap(f, left, 30, _(o->help));
    }
}

int cli_option_common_arity(const char *arg)
{
    if (arg[0] != '-' || !arg[1])
        return -1;
    for (size_t i = 0; i < NOPTIONS; i++) {
        const cli_option *o = &options[i];
        if (!o->common || o->kind == ARG_HELP)
            continue;
        size_t n = strlen(o->name);
        if (arg[1] == '-' && !strncmp(arg + 2, o->name, n) && (!arg[2 + n] || arg[2 + n] == '='))
            return o->value && !arg[2 + n] ? 1 : 0;
        if (o->letter && arg[1] == o->letter && !arg[2])
            return o->value ? 1 : 0;
    }
    return -1;
}
