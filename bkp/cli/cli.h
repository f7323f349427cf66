/*
 * cli.h — what every subcommand shares: options, opening the repository,
 * exit codes (README): 0 success, 1 failed or not verified, 2 usage or
 * policy error, 3 a lock is held, 4 the key is refused, 5 no repository at
 * the path given. cli_exit_for maps -EINVAL, -EEXIST and -ENOENT to 2 and
 * anything else to 1; the opens (cli_open_repo, cli_open_source) map a
 * refused key to 4 and nothing at the path to 5 (cli_exit_open,
 * cli_repo_check); -EBUSY is 3 wherever a lock is taken.
 *
 * Every command goes the same way: main() (main.c) finds its row of
 * commands[] (what it needs, the policy, the lock, the key, the options it
 * takes, its usage), cli_options_parse (options.c: every option in one
 * table; one the row does not name is exit 2), then prepare(): the policy
 * when required or named (StrictModes, pol_load), the public key, the
 * sheets or the passphrase file checked, the writer lock (before the open,
 * since a writable open may write), and the repository: read-only for a
 * reader (c->ro), writable for a writer (c->r as well; a reading command's
 * forms that write are named by the row's `writes`). Then the handler,
 * cli_audit_context (locks taken over, the policy's digest), the release.
 *
 * A new command: cmd_NAME in cmd_NAME.c, declared here, one row of
 * commands[]; it records what it did with cli_audit (a new op goes into
 * FORMAT §9b) and returns an EXIT_*. A new option: one row of options[]
 * (options.c), a field of struct cli, an OPT_* bit here.
 */
#ifndef BKP_CLI_H
#define BKP_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/capture/capture.h"
#include "bkp/host/hook.h"
#include "bkp/keys/sheet.h"
#include "bkp/store/generation.h"
#include "bkp/ops/object_fetch.h"
#include "bkp/ops/status.h"
#include "bkp/store/repo.h"
#include "policies/compliance.h"
#include "policies/guard.h"
#include "policies/notify.h"
#include "policies/policy.h"
#include "restore/attest.h"

/* Exit codes (bkp(1), EXIT STATUS). 4 and 5 are cases of a usage error
 * told apart for scripts: the key does not open the repository (a wrong
 * passphrase, sheets that do not make the key), and no repository is there. */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_LOCKED = 3,
    EXIT_KEY = 4,
    EXIT_NOREPO = 5
};

/* What a command needs; the dispatcher provides it before the handler runs. */
enum {
    /* An open repository, read-only: no clean-up, no repair. The handler
     * gets c->ro alone (c->r is NULL), so it cannot write by mistake. */
    NEED_REPO = 1,
    /* An open repository that may be written, under the writer lock, after
     * the clean-up pass of a writable open: c->r, and c->ro the same. */
    NEED_REPO_WRITE = 2,
};

/* The lock a command declares (main.c's commands[]): the dispatcher takes
 * the writer's and the cycle's; a reader's and prune's are taken by the
 * handler (what it reads, or whether it prunes, is known only there), and
 * cli_read_lock and cli_prune refuse a command that does not declare them. */
typedef enum {
    CLI_LOCK_NONE,
    /* A reader's lock (cli_read_lock) on what it reads, so that no prune
     * deletes packs under it: the primary or a medium's copy, known once the
     * handler has resolved --from/--media. */
    CLI_LOCK_READER,
    CLI_LOCK_WRITER, /* the primary's writer lock, taken before the open */
    /* The named lock "run" (one cycle at a time), then the writer's: a run
     * that waits (--lock-wait) holds no writer lock meanwhile, so the
     * prune of the run it waits for is not held up by it. A run prunes. */
    CLI_LOCK_CYCLE,
    /* Prune's lock, taken after the writer's by cli_prune. */
    CLI_LOCK_PRUNE,
} cli_lock;

typedef struct cli {
    const char *command;
    cli_lock lock; /* what the command declares */
    /* The open repository, read-only (repo.h: a read handle is another
     * type): set by the dispatcher for NEED_REPO and NEED_REPO_WRITE, or by
     * a handler that opens what it reads itself (restore, mount, drill,
     * runbook). Reading goes through it. */
    const bkp_repo *ro;
    /* The same handle, writable: set only for a command (or an invocation)
     * the table declares a writer; NULL for every other. */
    bkp_repo *r;
    const char *repo;
    const char *policy_file; /* --policy, $BKP_POLICY, or the default */
    pol_policy *policy;      /* loaded on demand by cli_policy */
    const char *passphrase_file;
    const char *dataset;
    const char *path;
    const char *to_archive;
    bool json, force, read_data, no_cache, one_fs, dry_run, recompress;
    bool agent_check; /* agent --check: a person checking, even over SSH */
    int workers;
    int64_t lock_wait;                  /* --lock-wait, seconds */
    const char *metrics;                /* --metrics FILE: Prometheus textfile */
    const char *clear;                  /* --clear-suspicious GEN */
    const char *against;                /* audit verify --against FILE */
    const char *since;                  /* audit show --since DATE */
    const char *journal;                /* audit verify|show --journal FILE */
    const char *name, *type, *location; /* media label */
    const char *from;                   /* restore, generations, ls --from MEDIUM|PATH */
    char *staging;                      /* ... a bucket's or an archive's copy, removed at exit */
    const char *key_fingerprint;        /* --from: --key-fingerprint FP|FILE */
    bool key_pinned;                    /* ... parsed by cli_key_pin into key_pin */
    uint8_t key_pin[32];
    const char *media;                /* verify --media M */
    const char *repair_from;          /* verify --repair-from M2 */
    double sample;                    /* verify --sample PCT; 0: not given */
    const char *format, *lang;        /* --format md|html, --lang ja|en */
    const char *medium;               /* drill --medium M */
    rb_attest attest;                 /* drill, restore --runbook: --attest [ROLE=]WHO */
    const char *report_dir, *sandbox; /* drill --report DIR, --sandbox DIR */
    const char *journal_near;         /* what a reader's journal goes beside (cli_record) */
    time_t run_since;                 /* bkp run: when it began (cli_status_in) */
    bool journal_in;                  /* ... or in, when it is a folder of papers */
    bool keep;                        /* drill --keep: leave the sandbox */
    bool unmount;                     /* rotate --unmount: unmount the medium once done */
    bool prune_first;                 /* rotate --prune-first (ops_rotate_in) */
    bool verify;                      /* restore --verify: read the files back */
    const char *runbook;              /* restore --runbook NAME */
    const char *folder;               /* restore --folder PATH: that stored folder's contents */
    const char *period_to;            /* audit report --from DATE (in `from`) --to DATE */
    const char *output;               /* key export/split -o FILE|DIR */
    bool paper;                       /* key export --paper */
    bool regulation;                  /* policy print --regulation */
    const char *shares, *threshold;   /* key split --shares N --threshold K */
    const char *label;                /* key add --label L */
    const char *chunk_id;             /* init --chunk-id auto|hmac-sha256|blake2b */
    const char *compression;          /* backup --compression auto|lz4|zstd[:N]|none */
    const char *new_passphrase_file;  /* key add, key passwd --new-passphrase-file F */
    const char *machine_key;          /* key add --machine-key F: a machine secret, written */
    const char *key_from[16];         /* --key-from FILE, repeated: sheets, not the passphrase */
    int nkey_from;
    const char *public_key; /* --public-key HEX|FILE: no secret at all */
    uint8_t pinned_pk[32];  /* its key, parsed by the dispatcher */
    uint8_t
        *key_master; /* the master secret from the sheets, once read (open_key_from.c), guarded */
    bkp_sheets_used key_used;      /* which sheets those were, for the audit */
    const struct bkp_lock *writer; /* this process's writer lock, if it holds one */
    char **args;                   /* positional arguments */
    int nargs;
    bool tty;                 /* stdout is a terminal: summaries and progress */
    bool quiet; /* -q: warnings and errors only */
    bool passphrase_typed; /* the policy's passphrase file missing: typed instead */
    bool help;                /* -h, --help: the command's help instead of the command */
    bool allow_other;         /* mount --allow-other: other users too, by the stored modes */
    const char *agent_config; /* agent --config FILE */
    const char *port, *ssh_user, *identity; /* host add --port N --user U --identity FILE */
} cli;

/* The command line (options.c): every option in one table. Parse `argv`
 * (argv[0] the command) into `c`, refusing an option not in the
 * space-separated list `accepts` (the options every command takes aside),
 * a missing or malformed value; `c->args` the rest. Returns an exit code,
 * the problem printed with `usage`. -v/-q set `*level`. */
int cli_options_parse(cli *c, const char *accepts, const char *usage, int argc, char **argv,
                      int *level);
/* Is `arg` an option every command takes (--policy FILE, -v...)? -1 when
 * not; else how many arguments after it are its value (0 or 1): such an
 * option may come before the command too (`bkp --policy F run`). */
int cli_option_common_arity(const char *arg);
/* One line per option of `accepts` with its help; `common`: those every
 * command takes instead. */
void cli_options_help(FILE *f, const char *accepts, bool common);
/* The options every command takes, named in one line ("--policy FILE,
 * --passphrase-file FILE, …, -q") into `buf`: what a command's help points
 * to, from the same table. */
const char *cli_options_common_names(char *buf, size_t n);
/* Print `left` (may be NULL) in a column `indent` wide, then `text` wrapped
 * to 79 columns. */
void cli_wrap(FILE *f, const char *left, int indent, const char *text);
/* The columns `s` (UTF-8) takes on a terminal: 2 for each wide character. */
int cli_columns(const char *s);
/* `s`, then spaces up to `width` columns (at least one): a table's cell. */
void cli_pad(FILE *f, const char *s, int width);
/* One row of a table for people: cell i in widths[i] terminal columns, a
 * negative width right-aligned (numbers), then a space; the last cell as it
 * is, then a newline. Headers go through the catalogue; --json does not. */
void cli_row(const char *const *cells, const int *widths, size_t n);
/* Was a policy named (--policy, $BKP_POLICY, resolved by main) or loaded, or
 * is the default one (/etc/bkp/policy.yaml) there? */
bool cli_policy_named(const cli *c);

/* Open the repository named by --repo or $BKP_REPO, asking for the passphrase.
 * Returns an exit code; EXIT_OK with `*out` set on success. */
int cli_open_repo(cli *c, unsigned flags, bkp_repo **out);
/* Keep `h` (owned, may be NULL) open until cli_close_kept, at the end of the
 * command: a handle the dispatcher or a handler opened, of which the
 * handler holds c->ro (and c->r when it writes). */
void cli_keep(bkp_repo *h);
void cli_close_kept(void);
#define CLI_KEY_FROM_MAX 16
/* Open `path` with the sheets of --key-from (one paper sheet, or K share
 * sheets) instead of the passphrase, and record the use (`key-from`) with
 * cli_record (`staged`: an extracted archive). -EINVAL (logged, with
 * the file and line) for a sheet that cannot be read or shares that do not
 * combine, -EBADMSG for sheets of another repository; else as bkp_repo_open. */
int cli_open_key_from(cli *c, const char *path, unsigned flags, bool staged, bkp_repo **out);
/* Its two halves, for an open made elsewhere (a copy fetched from a
 * bucket): the master secret in c->key_master (as cli_open_key_from's
 * errors), then the use recorded for the repository opened in `*out`
 * (freed, and -EIO, when it cannot be). */
int cli_key_from_master(cli *c);
int cli_key_from_record(cli *c, bkp_repo **out, bool staged);
/* Read and combine the sheets of --key-from before a command does anything
 * else, so that a mistyped sheet or too few shares stop it at once: an exit
 * code (EXIT_USAGE, logged with the file and line). */
int cli_key_from_check(cli *c);
/* Open the repository with the key of --public-key alone (repo.h,
 * bkp_repo_open_public): EXIT_FAILED when it is not the repository whose key
 * was pinned (not verified), EXIT_USAGE when there is none. */
int cli_open_public(cli *c, bkp_repo **out);
/* The key --key-fingerprint names, parsed into `key_pin` (`key_pinned`
 * set), before anything is read: an exit code (logged). */
int cli_key_pin(cli *c);
/* Is `r`, opened from `from` (--from, or NULL: the repository), under the
 * key --key-fingerprint named (when it named one)? An exit code: EXIT_KEY
 * (said, `r` freed) when not. */
int cli_key_pin_check(const cli *c, const char *from, bkp_repo **r);
/* The lines that say what a check with the public key alone did not cover. */
void cli_public_print_limits(bool verify);
/* Wipe and free the master secret read from the sheets (every exit of main). */
void cli_key_from_clear(cli *c);
/* `--key-from -`: sheets typed at the terminal (key_prompt.c), after the `*n`
 * already read from files into `s`, until one paper sheet or K shares are in
 * (`max` at most). -EINVAL (logged) when standard input is not a terminal or
 * ends first; -ENOMEM. The sheets hold the secret: `s` is guarded memory. */
struct bkp_sheet;
int cli_key_prompt(struct bkp_sheet *s, int *n, int max);
/* The repository path from --repo, $BKP_REPO, or the policy; NULL (logged). */
const char *cli_repo_path(cli *c);
/* Where the passphrase comes from when neither an option nor the environment
 * says: the policy's passphrase_file or passphrase_command. */
void cli_passphrase_source(cli *c);
/* The passphrase for this command (bkp_passphrase_get's sources; the
 * caller frees it with bkp_passphrase_free): when the policy's passphrase
 * file is not there and a person is at a terminal, asked for, said why.
 * `*typed` (may be NULL): it was typed at the terminal. */
int cli_passphrase(cli *c, char **pass, size_t *len, bool *typed);
/* Ask for the passphrase and give it to `try` until `try` stops refusing
 * it (-EKEYREJECTED): one typed at the terminal is asked for again, at most
 * three times in all, and Enter alone ends it; one from a file or a command
 * is tried once. try's last return, or -ENOKEY when no passphrase was given
 * (said). With `kept`, the passphrase last tried stays there (its length in
 * `*kept_len`) for the caller to free (bkp_passphrase_free); else it is
 * freed here. The one rule of a typed passphrase, for whatever it opens. */
int cli_passphrase_tries(cli *c, int (*try)(void *ctx, const char *pass, size_t plen), void *ctx,
                         char **kept, size_t *kept_len);
/* The repository at `path` opened with the passphrase (bkp_repo_open's
 * flags and errors) by cli_passphrase_tries. */
int cli_open_passphrase(cli *c, const char *path, unsigned flags, bkp_repo **out);
/* The policy from --policy, $BKP_POLICY or /etc/bkp/policy.yaml, loaded once;
 * NULL when it cannot be loaded or others may change it (trust.h; the
 * problems are logged). */
pol_policy *cli_policy(cli *c);
/* The passphrase file that will be read, if one is named (option,
 * environment, or the policy already loaded); NULL else. */
const char *cli_passphrase_file(cli *c);
/* A reader's lock on `repo` (lock.h, bkp_lock_reader) so that no prune
 * deletes packs under it: EXIT_LOCKED while one runs. Nothing is written to
 * a copy on a medium; on a primary it names itself where it can. Release
 * with bkp_lock_release. */
struct bkp_lock;
int cli_read_lock(cli *c, const char *repo, struct bkp_lock **out);
/* Print a JSON value on stdout, followed by a newline; steals `j`. */
void cli_print_json(json_t *j);
/* Local time "2026-11-22 02:00:00" into buf: for listings, as ls and tar
 * show; a time for people to act on is bkp_local_time (clock.h). */
const char *cli_time(char *buf, size_t n, int64_t t);
/* A table's heading for cli_time's column: `word` and this machine's zone,
 * "FINISHED (JST)", for a machine set up anew may not be in the zone the
 * papers were printed in. Returns buf. */
const char *cli_time_head(char *buf, size_t n, const char *word);
/* A day or a time as people give it, in local time (the clinic's, not UTC):
 * "YYYY-MM-DD" is its first second, or with `end_of_day` its last;
 * "YYYY-MM-DD HH:MM" (or with a T) that minute; a full UTC time
 * (2026-11-24T05:00:00Z) as it is. -1 for anything else. */
time_t cli_parse_day(const char *s, bool end_of_day);
/* Whether `repo` holds a repository's config: EXIT_OK; when it does not,
 * says so (nothing there, a backup disk's mount point, a folder that is not
 * a repository: EXIT_NOREPO; one bkp may not read: EXIT_FAILED), and the
 * caller exits with that without asking for a passphrase. */
int cli_repo_check(const char *repo);
/* Whether `repo` is the copy a rotation keeps on a backup disk (a "repo"
 * folder beside the disk's BKP-LABEL); its mount point into `*mount`
 * (malloc'd) when it is. */
bool cli_repo_on_medium(const char *repo, char **mount);
/* The primary repository (--repo, the policy's) opened read-only with the
 * key of `source`, a copy read without it (a key-recovery drill, a restore
 * from a disk): NULL when there is none here, it is `source` itself, a
 * backup disk's copy, or it does not open (its layout refused). */
bkp_repo *cli_primary_of(cli *c, const bkp_repo *source);
/* Map an error code from the core to an exit code. */
int cli_exit_for(int rc);
/* The exit code of opening the repository at `repo` with the key: EXIT_KEY
 * for -EKEYREJECTED, EXIT_NOREPO for -ENOENT where `repo` holds no config,
 * EXIT_USAGE for the other refusals, EXIT_FAILED else. */
int cli_exit_open(int rc, const char *repo);

/* Capture and seal one data set: what `backup` and `run` share. */
typedef struct cli_backup {
    bkp_gen *gen;    /* the sealed generation, or NULL */
    bool suspicious; /* the change-rate guard marked it */
    pol_guard_verdict verdict; /* why, said where it is shown */
    char reason[512];          /* the same in English: the record's and the audit's */
    bkp_capture_stats stats;
    size_t nerrors; /* unreadable paths: the generation's record lists them */
    double seconds;
    int err; /* why nothing was sealed: a negative errno, 0 */
    /* A stream's command (pol_stream): how it ended, 0 or as bkp_hook_exec
     * returns; nothing is sealed unless it is 0. */
    int stream_rc;
    bkp_hook_result stream;
    bool stream_ran; /* the command ran to its end (or was ended) */
    char stream_why_ja[1536]; /* why it failed, in Japanese (the record's error_ja); "" */
} cli_backup;

/* Returns an exit code; `b` is filled in every case (clear it after). With a
 * data set of the policy (`d`, may be NULL), its change-rate guard judges the
 * capture against the data set's history before the generation is sealed. */
int cli_backup_run(cli *c, const bkp_capture_opts *o, const pol_dataset *d, cli_backup *b);
void cli_backup_clear(cli_backup *b);
/* What `backup --json` and `run --json` say of sealed generation `g`. */
json_t *cli_backup_json(const bkp_gen *g, const bkp_capture_stats *s, double seconds);
/* Capture options for data set `d` of the policy (borrowed from it). */
void cli_dataset_opts(cli *c, const pol_dataset *d, bkp_capture_opts *o);

/* A medium, as the policy and the registry know it. */
typedef struct cli_medium {
    const char *name;
    const char *type, *location; /* the policy's, else the label's */
    pol_medium_type kind;        /* `type`, parsed */
    bool offline;
    const char *path;       /* where it is mounted or written */
    const pol_medium *pm;   /* its entry in the policy, or NULL */
    bkp_media_entry *entry; /* its registry entry (owned), or NULL: never labelled */
} cli_medium;
/* Look medium `name` up in the policy (when one is given or found) and the
 * registry of the open repository. EXIT_USAGE (logged) when neither knows it. */
int cli_medium_find(cli *c, const char *name, cli_medium *m);
void cli_medium_clear(cli_medium *m);
/* The label at the medium's path must be the registered one of this name
 * and repository; a wrong disk is refused, naming the medium that is due.
 * Returns an exit code. */
int cli_medium_check_label(cli *c, const cli_medium *m);
/* The repository copy on a disk-type medium: PATH/repo (malloc'd). */
char *cli_medium_repo(const cli_medium *m);
/* Last writes from the registry, one state per medium of policy `p`, in its
 * order (malloc'd; NULL when out of memory). */
pol_medium_state *cli_media_states(cli *c, pol_policy *p);
/* When medium `name` is next due for rotation (0: never rotated). */
time_t cli_medium_due(cli *c, const char *name);
/* The name of the policy's medium that is most overdue, or NULL. */
const char *cli_medium_most_due(cli *c, time_t *due);
/* Rotate to medium `m` (ops_rotate, bkp/ops/rotate.h: the newest clean
 * generation of each data set copied, read back, the copy pruned and
 * checked, recorded) and say what happened; with --dry-run, the plan alone;
 * `quiet`: no operator advice (bkp run). Returns an exit code. */
int cli_rotate(cli *c, cli_medium *m, bool quiet);
/* Say that the kit `res` was written to `m` (when it was): its SHA256SUMS's
 * SHA-256 for the audit record. */
struct bkp_kit_result;
json_t *cli_kit_said(const cli_medium *m, const struct bkp_kit_result *res);
/* The documents of medium `m`'s kit (FORMAT.md and the procedures,
 * rotate_kit.c), as a rotation asks for them (ops_kit_docs,
 * bkp/ops/rotate.h): `ctx` is a cli_kit_ctx; `*docs` owned by `*held`
 * until cli_kit_docs_free. */
typedef struct cli_kit_ctx {
    cli *c;
    const cli_medium *m;
} cli_kit_ctx;
struct bkp_kit_doc;
int cli_kit_make(void *ctx, const struct bkp_kit_doc **docs, size_t *n, void **held);
void cli_kit_docs_free(void *held);
/* After a rotation of `m` that succeeded: its procedures, with the
 * generations it holds now, beside its kit (a disk's or a folder's; a
 * tape's are in its kit). A failure is a warning: the copy is good. */
void cli_medium_procedures(cli *c, const cli_medium *m);

/* Object media (medium_object.c): the S3 connection of medium `m` from the
 * policy; label the bucket; prove its lock; fetch its copy
 * into a staging folder and open it (restore --from). Exit codes. */
struct bkp_s3;
int cli_object_open(cli *c, const cli_medium *m, struct bkp_s3 **out);
int cli_object_label(cli *c, cli_medium *m);
int cli_object_probe(cli *c, cli_medium *m);
struct bkp_bucket_fetch;
/* `as_copy`: opened as a copy of the open primary (verify --media), else
 * with the passphrase or the sheets (restore --from, the primary gone).
 * `f` receives the packs whose current version did not check. */
/* `what` (NULL: every pack, as verify wants) names the generations whose
 * packs alone are fetched (bkp/ops/object_fetch.h). */
typedef ops_fetch_what cli_fetch_what;
int cli_object_fetch(cli *c, const cli_medium *m, bool as_copy, const cli_fetch_what *what,
                     bkp_repo **out, char **staging, struct bkp_bucket_fetch *f);
/* Upload each pack of `f` from `src` as the current version (repair); its
 * hex ID joins `fixed`. Returns how many could not be. */
int cli_object_repair(cli *c, const cli_medium *m, bkp_repo *src, const struct bkp_bucket_fetch *f,
                      bkp_strlist *fixed);
/* Did the last probe of the medium of registry entry `entry` (by its label)
 * prove a COMPLIANCE lock, by the signed audit log (and when)? */
bool cli_object_proven(cli *c, const bkp_media_entry *entry, time_t *when);
/* The primary against what each medium pinned (rotate_pin.c, bkp/ops/pins.h):
 * the findings into `*out` (ops_pin_findings_clear); returns their number,
 * or a negative errno (logged). `only`: that medium alone, else every
 * registered one. */
int cli_pins_check(cli *c, const char *only, ops_pin_findings *out);

/* The 3-2-1 status of every data set of the policy, in priority order,
 * into `out` (rst_status_clear), with the worst verdict and the key-recovery
 * drill reminder: 0, -ENOENT when there is no policy, or another negative
 * errno (said); `log` (may be NULL) what the one reading of the audit log
 * found, for cli_status_doc. */
int cli_status(cli *c, rst_status *out, ops_status_log *log);
/* What cli_status gives ops_status for `c` and its policy `p`: the media's
 * states, the pins, the proof of a bucket's lock; for a caller that reads
 * the audit log along with the status (the evidence report). Cleared by
 * cli_status_in_clear. */
void cli_status_in(cli *c, pol_policy *p, ops_status_in *in);
void cli_status_in_clear(ops_status_in *in);
/* `bkp status` for people (cmd_status.c), in `lang` ("ja", "en"; NULL: the
 * reader's), and the one-line reminder of the key-recovery drill when one is
 * due (nothing else). */
void cli_status_print(const rst_status *s, const char *lang);
void cli_key_drill_remind(const rst_key_drill *kd);
/* The rest of what `bkp status --json` prints and the status page shows
 * (status_in.c, ops_status_doc): the time made, the coming rotations, the
 * audit log as checked, the media plugged in, what a copy needs. 0 or a
 * negative errno. */
int cli_status_doc(cli *c, rst_status *s, const ops_status_log *log);
/* Render `s` as the status page (bkp/report/status_page.h) in Japanese when
 * `ja`, and write it durably as `file` (mode 0644): 0 or a negative errno
 * (-EISDIR when `file` names no file), for the caller to say. */
int cli_status_page_write(const rst_status *s, const char *file, bool ja);

/* Open what a restore reads from: the repository, or --from (a medium's
 * name, a repository copy, a mount point, an archive folder, file or tape).
 * `what` says what is fetched from a bucket (NULL: every pack, for a
 * command that reads every generation), and its `spec` picks the archive
 * in a folder. An archive or a bucket's copy is put into `*staging`, which
 * the dispatcher removes. Returns an exit code. */
int cli_open_source(cli *c, const cli_fetch_what *what, bkp_repo **out, char **staging);
/* Say that the copy `r` is named `--from FROM` (with --policy and the
 * --key-from sheets, when given) in the hints of messages (bkp_repo_shown):
 * its staging folder is gone when the command ends. An exit code. */
int cli_source_shown(const cli *c, const char *from, bkp_repo *r);
void cli_source_remove(char *staging);

/* The Prometheus text file (metrics.c): the status of every data set and
 * medium, and with `run` (may be NULL), which took `seconds`, what the run
 * did (ops/run_metrics.h). Written durably; 0 or the error (logged). */
struct ops_run_result;
int cli_metrics_write(cli *c, const char *file, const struct ops_run_result *run, double seconds);

/* Runbooks (cmd_runbook.c, cmd_drill.c). */
struct rb_runbook;
bool cli_lang_ja(cli *c);            /* --lang, else the policy's language, else the locale */
int cli_format(cli *c, int *format); /* --format md|html into an rb_format */
/* A page for paper, `text`: to standard output, or with -o FILE written
 * whole, readable by whoever prints it whatever the umask, and said (`what`
 * names it: "label sheet"). EXIT_OK, or EXIT_FAILED said. */
int cli_put_page(cli *c, const char *text, const char *what);
/* ops_runbook_load (bkp/ops/runbook_load.h) with the policy named, as an exit code. */
int cli_runbook_load(cli *c, const char *name, struct rb_runbook **out);
/* Run runbook `name` for real (restore --runbook) or as a drill; an
 * `unattended` drill (bkp run) asks nothing and prints only on a terminal. */
int cli_runbook_execute(cli *c, const char *name, bool drill, bool unattended);

/* bkp audit report (cmd_report.c). */
int cli_audit_report(cli *c);
/* Say that `repo`, a disk's copy, gets no evidence report, and what lists
 * and checks the log it carries. */
void cli_report_of_copy(const char *repo);

int cmd_init(cli *c);
int cmd_backup(cli *c);
int cmd_generations(cli *c);
int cmd_ls(cli *c);
int cmd_find(cli *c);
int cmd_dump(cli *c);
int cmd_mount(cli *c);
int cmd_diff(cli *c);
int cmd_restore(cli *c);
int cmd_verify(cli *c);
int cmd_policy(cli *c);
int cmd_run(cli *c);
int cmd_prune(cli *c);
int cmd_key(cli *c);
/* key list | add | passwd | remove (key_slots.c). */
int cli_key_slots(cli *c);
int cmd_audit(cli *c);
int cmd_media(cli *c);
int cmd_rotate(cli *c);
int cmd_status(cli *c);
int cmd_runbook(cli *c);
int cmd_drill(cli *c);
int cmd_agent(cli *c);
int cmd_host(cli *c);
struct bkp_audit_rec;
/* Append a record to the audit log of the open repository: a writer's
 * through its writable handle (EXIT_FAILED when it cannot be made durable:
 * what was done must not go unrecorded); a reader's as cli_record does. */
int cli_audit(cli *c, const struct bkp_audit_rec *rec);
/* Record `rec` of a command that read `source`: in its own log when it is
 * a primary; when it is a copy on a medium or `staged` (an archive
 * extracted, a bucket's copy fetched), never there, but in the log of the
 * primary named here (--repo, the policy) when it is there and opens with
 * the same keys, else in the journal bkp-journal-ID.jsonl beside
 * c->journal_near (in it with c->journal_in), or in the current folder —
 * said once. A record that a full or read-only disk keeps out is said
 * (audit.h) and does not fail a read: 0; EXIT_FAILED for a log found
 * wanting. */
int cli_record(cli *c, const bkp_repo *source, bool staged, const struct bkp_audit_rec *rec);
/* Say where the command's records went when that was a journal, once, at
 * its end (main.c): after its own result or error, which come first. */
void cli_record_end(void);
/* Records of what surrounds a command: locks of dead holders taken over,
 * and the policy in force when its digest differs from the last recorded. */
void cli_audit_context(cli *c);
struct bkp_lock;
/* Apply retention (what `bkp prune` does); `self`: the caller's own writer
 * lock, which then does not count as a concurrent writer. */
int cli_prune(cli *c, const struct bkp_lock *self);
/* Print what a prune did (bkp/ops/prune_medium.h; `rc` its outcome): the
 * plan on a terminal or with --dry-run, under the name of the repository
 * pruned (`medium`'s copy, NULL: the server's), as JSON with --json of `bkp
 * prune` itself; nothing inside another command's --json. */
struct ops_prune_out;
void cli_prune_print(cli *c, const struct ops_prune_out *o, int rc, const char *medium);

#endif
