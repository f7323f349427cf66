/*
 * trust.h — may a file that carries root's commands or the passphrase be
 * believed? (StrictModes, as sshd checks its keys and configuration.)
 *
 * The policy's hooks and the runbooks' `run`/`check` steps are executed as
 * the user running bkp — root, from cron — and the passphrase file opens the
 * repository key. Anyone who may change such a file, or rename the folders
 * above it, may run commands as root or read the key. So a file is trusted
 * only when it and every folder from it up to `/` are owned by root or by the
 * invoking user (the effective uid) and are not writable by group or others.
 * A root-owned folder with the sticky bit (/tmp) is the one exception: there
 * only the owner of an entry may rename or remove it, so other users cannot
 * swap a trusted file or folder in it for their own (and one of theirs
 * placed there in advance fails the owner check).
 *
 * Symlinks are followed to the final file (realpath); each folder of that
 * resolved path is then checked with lstat, so that a link cannot point the
 * check at one place and the reader at another. Read the file through the
 * resolved path returned: once every folder of it is trusted, no untrusted
 * user can change what that path names.
 */
#ifndef BKP_TRUST_H
#define BKP_TRUST_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum {
    /* A secret (the passphrase file): in addition owned by the invoking user
     * and not readable by group or others. */
    BKP_TRUST_SECRET = 1,
};

/*
 * Check `path` as above. `what` names the file in messages: one of the
 * nouns marked N_() ("policy", "runbook", "passphrase file", "S3
 * credentials file", "machine key"), translated where it is said.
 * Returns 0 and `*resolved` (malloc'd, the absolute path without links;
 * NULL to not ask), or:
 *   -EPERM   not trusted: logged once, with the `chmod`/`chown` to run;
 *   -ENOENT  (or another negative errno) it cannot be resolved or examined:
 *            NOT logged — the caller's loader reports a missing file with
 *            what to do for its kind of file.
 */
int bkp_trust_file(const char *path, unsigned flags, const char *what, char **resolved)
    __attribute__((warn_unused_result));

/* For a file about to be made at `path` (a secret written there): the
 * folder that will hold it, and every folder up to `/`, pass the rules
 * above. 0 and `*resolved` (malloc'd: the real folder and the name), or
 * -EPERM (logged), -EINVAL (no file name), another negative errno (the
 * folder cannot be resolved: not logged). */
int bkp_trust_new_file(const char *path, const char *what, char **resolved)
    __attribute__((warn_unused_result));

/* What is wrong with a file or folder. */
enum bkp_trust_why {
    BKP_TRUST_NOT_REGULAR = 1, /* neither a regular file nor a folder */
    BKP_TRUST_WRITABLE,        /* writable by group or others */
    BKP_TRUST_READABLE,        /* a secret readable by group or others */
    BKP_TRUST_OWNER,           /* owned by someone else */
    BKP_TRUST_OWNER_WRITABLE,  /* both */
    BKP_TRUST_OWNER_READABLE,  /* a secret's both */
};

/* The facts a refusal names, and the command that mends it. The refusal
 * itself is one whole sentence per case (trust.c), never put together from
 * pieces, so that it can be translated. */
typedef struct bkp_trust_fix {
    enum bkp_trust_why why;
    bool root_or;                    /* root would be accepted too ("not by root or alice") */
    unsigned mode;                   /* permission bits */
    char owner[64], me[64];          /* user names, or uids */
    char command[2 * PATH_MAX + 64]; /* "chmod go-w /etc/bkp/policy.yaml" */
} bkp_trust_fix;

/* The rule for one file or folder at `path` (for tests, and for callers
 * that already hold a stat): 0 when (`st`, `euid`) passes, else -EPERM with
 * `fix` filled in. */
struct stat;
int bkp_trust_stat(const char *path, const struct stat *st, unsigned flags, uid_t euid,
                   bkp_trust_fix *fix);

#endif
