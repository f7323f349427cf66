/*
 * cmdenv.h — the environment and the user of a command bkp runs for an
 * operator: a policy's before/after hook, a runbook's run or check step.
 *
 * Such a command never sees what bkp inherited: only an allowlist of
 * harmless names (LANG, LC_*, TZ, HOME, USER, LOGNAME, TMPDIR) is passed
 * on, PATH is set to a fixed value, and the command's own settings and
 * bkp's BKP_* variables are added. No passphrase source (any name starting
 * with BKP_PASSPHRASE) ever reaches it, not even when a hook's own `env`
 * names one: a command that could read the passphrase could read every
 * generation.
 *
 * A command may also run as another (unprivileged) user: looked up here,
 * before the fork, because the lookup is not safe between fork and exec;
 * the child then only calls setgroups, setgid and setuid.
 */
#ifndef BKP_CMDENV_H
#define BKP_CMDENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The PATH every command gets. */
#define BKP_CMD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The program `prog` on BKP_CMD_PATH, its path into `out`: true, or false
 * when none is there (or the path is longer than `size`). */
bool bkp_cmd_find(const char *prog, char *out, size_t size);

/* Is `command` a pipeline whose failure sh would not report (a '|' without
 * pipefail)? Its status is its last command's: a failed dump piped into a
 * compressor would look like a good one. */
bool bkp_cmd_pipeline_unchecked(const char *command);

/* A user a command runs as, resolved. */
typedef struct bkp_cmd_user {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* owned: supplementary groups */
    size_t ngroups;
    char *name, *home; /* owned */
    char *group;       /* owned: the primary group's name; NULL when it has none */
} bkp_cmd_user;

/* Look `name` up in the user database. 0; -ENOENT when there is no such
 * user; -EINVAL for a name that is not a plain user name; -ENOMEM. */
int bkp_cmd_user_lookup(const char *name, bkp_cmd_user *out) __attribute__((warn_unused_result));
void bkp_cmd_user_clear(bkp_cmd_user *u);

/* Is `name` written like a user name (letters, digits, '.', '_', '-', not
 * starting with '-', at most 32 bytes)? Says nothing of whether it exists. */
bool bkp_cmd_user_name_ok(const char *name);

/* Is "NAME=value" (or "NAME") a passphrase source? */
bool bkp_cmdenv_secret(const char *entry);

/*
 * Build the environment of a command into `*out` (a NULL-terminated array,
 * owned by the caller, freed with bkp_cmdenv_free): from `inherited` (our
 * environ, borrowed) the allowlisted names, then PATH, then — replacing any
 * of those with the same name — the `nextra` entries of `extra`
 * ("NAME=value", borrowed; a later one wins over an earlier one). With
 * `user`, HOME, USER and LOGNAME are that user's and TMPDIR is not passed
 * on (ours may not be theirs). Entries that are not NAME=value, and
 * passphrase sources, are left out; `*dropped` (may be NULL) counts the
 * passphrase sources found in `extra`. 0 or -ENOMEM.
 */
int bkp_cmdenv_build(char *const *inherited, char *const *extra, size_t nextra,
                     const bkp_cmd_user *user, char ***out, size_t *dropped)
    __attribute__((warn_unused_result));
void bkp_cmdenv_free(char **env);

/* A copy of the environment `env` (borrowed) without its passphrase
 * sources, into `*out` (NULL-terminated, freed with bkp_cmdenv_free): what
 * the commands of a run that holds a passphrase inherit from
 * (bkp_hook_spec.inherited), while the process's own environment stays as
 * it is — a library does not change it. 0 or -ENOMEM. */
int bkp_cmdenv_without_secrets(char *const *env, char ***out) __attribute__((warn_unused_result));

#endif
