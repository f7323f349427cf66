/*
 * cli.h — what every subcommand shares: options, opening the repository,
 * exit codes (DESIGN §7): 0 success, 1 failed or not verified, 2 usage or
 * policy error, 3 another run holds the lock.
 */
#ifndef BKP_CLI_H
#define BKP_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "bkp/repo.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_LOCKED = 3 };

/* Options a command accepts (bit mask). */
enum {
    OPT_REPO = 1 << 0,
    OPT_JSON = 1 << 1,
    OPT_DATASET = 1 << 2,
    OPT_PATH = 1 << 3,
    OPT_TO_ARCHIVE = 1 << 4,
    OPT_FORCE = 1 << 5,
    OPT_READ_DATA = 1 << 6,
    OPT_NO_CACHE = 1 << 7,
    OPT_ONE_FS = 1 << 8,
    OPT_WORKERS = 1 << 9,
};

/* What a command needs; the dispatcher provides it before the handler runs. */
enum {
    NEED_REPO = 1,       /* an open repository, read-only: no clean-up, no repair */
    NEED_REPO_WRITE = 2, /* an open repository that may be written */
};

typedef struct cli {
    const char *command;
    bkp_repo *r; /* opened by the dispatcher for NEED_REPO / NEED_REPO_WRITE */
    const char *repo;
    const char *passphrase_file;
    const char *dataset;
    const char *path;
    const char *to_archive;
    bool json, force, read_data, no_cache, one_fs;
    int workers;
    char **args; /* positional arguments */
    int nargs;
    bool tty; /* stdout is a terminal: summaries and progress */
} cli;

/* Open the repository named by --repo or $BKP_REPO, asking for the passphrase.
 * Returns an exit code; EXIT_OK with `*out` set on success. */
int cli_open_repo(cli *c, unsigned flags, bkp_repo **out);
/* The repository path from --repo or $BKP_REPO, or NULL (logged). */
const char *cli_repo_path(cli *c);
/* Print a JSON value on stdout, followed by a newline; steals `j`. */
void cli_print_json(json_t *j);
/* "1.5 GB"-style size into buf. */
const char *cli_size(char *buf, size_t n, uint64_t bytes);
/* Local time "2026-11-22 02:00" into buf. */
const char *cli_time(char *buf, size_t n, int64_t t);
/* Map an error code from the core to an exit code. */
int cli_exit_for(int rc);

int cmd_init(cli *c);
int cmd_backup(cli *c);
int cmd_generations(cli *c);
int cmd_ls(cli *c);
int cmd_diff(cli *c);
int cmd_restore(cli *c);
int cmd_verify(cli *c);

#endif
