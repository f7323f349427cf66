/* StrictModes: the files that carry root's commands or the passphrase, and
 * the folders above them, must be beyond the reach of other users. */
#include "bkp/host/trust.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

static const char *user_name(uid_t uid, char *buf, size_t n)
{
    struct passwd *pw = getpwuid(uid);
    if (pw && pw->pw_name)
        snprintf(buf, n, "%s", pw->pw_name);
    else
        snprintf(buf, n, "%u", (unsigned)uid);
    return buf;
}

int bkp_trust_stat(const char *path, const struct stat *st, unsigned flags, uid_t euid,
                   bkp_trust_fix *fix)
{
    bool dir = S_ISDIR(st->st_mode);
    bool secret = !dir && (flags & BKP_TRUST_SECRET);
    mode_t mode = st->st_mode & 07777;
    fix->mode = (unsigned)mode;
    if (!dir && !S_ISREG(st->st_mode)) {
        fix->why = BKP_TRUST_NOT_REGULAR;
        snprintf(fix->command, sizeof(fix->command), "ls -l %s", path);
        return -EPERM;
    }
    /* Root may do anything anyway; the invoking user is who the file is
     * for. Anyone else who owns it may rewrite it, whatever its mode. A
     * secret must be the invoking user's own: a file another user made
     * readable to us is one that user can also read. */
    bool owner_ok = secret ? st->st_uid == euid : st->st_uid == 0 || st->st_uid == euid;
    /* A sticky folder lets only an entry's owner rename or remove it, so
     * others who may write there cannot replace what a trusted user put
     * there; that is why /tmp (root's, mode 1777) is acceptable. */
    bool writable = (mode & 022) && !(dir && (mode & S_ISVTX));
    bool readable = secret && (mode & 077);
    if (owner_ok && !writable && !readable)
        return 0;
    const char *me = user_name(euid, fix->me, sizeof(fix->me));
    user_name(st->st_uid, fix->owner, sizeof(fix->owner));
    fix->root_or = !secret && euid;
    /* A secret writable by others is readable by them too (022 within 077):
     * it is said as readable, and mended by chmod 600. */
    if (owner_ok)
        fix->why = readable ? BKP_TRUST_READABLE : BKP_TRUST_WRITABLE;
    else if (readable)
        fix->why = BKP_TRUST_OWNER_READABLE;
    else
        fix->why = writable ? BKP_TRUST_OWNER_WRITABLE : BKP_TRUST_OWNER;
    const char *chmod_to = readable ? "600" : "go-w";
    if (!owner_ok && (writable || readable))
        snprintf(fix->command, sizeof(fix->command), "chown %s %s && chmod %s %s", me, path,
                 chmod_to, path);
    else if (!owner_ok)
        snprintf(fix->command, sizeof(fix->command), "chown %s %s", me, path);
    else
        snprintf(fix->command, sizeof(fix->command), "chmod %s %s", chmod_to, path);
    return -EPERM;
}

/* The refusals, one whole sentence per case so that each translates as a
 * whole (never a problem, a stake and a remedy glued together): the file
 * itself or a folder above it, a file of commands or a secret (what is at
 * stake differs), and who owns it. `what` is the kind of file, translated;
 * `f` the facts (bkp_trust_stat). */
static void say_file(const char *what, const char *path, bool secret, const bkp_trust_fix *f)
{
    const char *c = f->command;
    switch (f->why) {
    case BKP_TRUST_READABLE:
        bkp_error(_("%s %s is readable by group or others (mode %04o), so others could read or "
                    "replace the secret it holds — run `%s` and try again"),
                  what, path, f->mode, c);
        break;
    case BKP_TRUST_WRITABLE:
        bkp_error(_("%s %s is writable by group or others (mode %04o), so others could change "
                    "the commands bkp runs — run `%s` and try again"),
                  what, path, f->mode, c);
        break;
    case BKP_TRUST_OWNER_READABLE:
        bkp_error(_("%s %s is owned by %s, not by %s, and readable by group or others (mode "
                    "%04o), so others could read or replace the secret it holds — run `%s` and try "
                    "again"),
                  what, path, f->owner, f->me, f->mode, c);
        break;
    case BKP_TRUST_OWNER:
        if (f->root_or)
            bkp_error(_("%s %s is owned by %s, not by root or %s, so others could change the "
                        "commands bkp runs — run `%s` and try again"),
                      what, path, f->owner, f->me, c);
        else
            bkp_error(
                secret
                    ? _("%s %s is owned by %s, not by %s, so others could read or replace the "
                        "secret it holds — run `%s` and try again")
                    : _("%s %s is owned by %s, not by %s, so others could change the commands bkp "
                        "runs — run `%s` and try again"),
                what, path, f->owner, f->me, c);
        break;
    default: /* BKP_TRUST_OWNER_WRITABLE; a secret's is said as readable */
        if (f->root_or)
            bkp_error(_("%s %s is owned by %s, not by root or %s, and writable by group or others "
                        "(mode %04o), so others could change the commands bkp runs — run "
                        "`%s` and try again"),
                      what, path, f->owner, f->me, f->mode, c);
        else
            bkp_error(
                _("%s %s is owned by %s, not by %s, and writable by group or others (mode "
                  "%04o), so others could change the commands bkp runs — run `%s` and "
                  "try again"),
                what, path, f->owner, f->me, f->mode, c);
    }
}

/* A folder is never a secret itself; what is at stake is the file's: the
 * secret when `secret`, else the commands bkp runs. */
static void say_folder(const char *what, const char *path, const char *dir, bool secret,
                       const bkp_trust_fix *f)
{
    const char *c = f->command;
    if (f->why == BKP_TRUST_WRITABLE)
        bkp_error(
            secret ? _("%s %s: the folder %s is writable by group or others (mode %04o), so others "
                       "could read or replace the secret it holds — run `%s` and try again")
                   : _("%s %s: the folder %s is writable by group or others (mode %04o), so others "
                       "could change the commands bkp runs — run `%s` and try again"),
            what, path, dir, f->mode, c);
    else if (f->why == BKP_TRUST_OWNER && f->root_or)
        bkp_error(secret
                      ? _("%s %s: the folder %s is owned by %s, not by root or %s, so others could "
                          "read or replace the secret it holds — run `%s` and try again")
                      : _("%s %s: the folder %s is owned by %s, not by root or %s, so others could "
                          "change the commands bkp runs — run `%s` and try again"),
                  what, path, dir, f->owner, f->me, c);
    else if (f->why == BKP_TRUST_OWNER)
        bkp_error(
            secret ? _("%s %s: the folder %s is owned by %s, not by %s, so others could read or "
                       "replace the secret it holds — run `%s` and try again")
                   : _("%s %s: the folder %s is owned by %s, not by %s, so others could change the "
                       "commands bkp runs — run `%s` and try again"),
            what, path, dir, f->owner, f->me, c);
    else if (f->root_or)
        bkp_error(
            secret ? _("%s %s: the folder %s is owned by %s, not by root or %s, and writable by "
                       "group or others (mode %04o), so others could read or replace the "
                       "secret it holds — run `%s` and try again")
                   : _("%s %s: the folder %s is owned by %s, not by root or %s, and writable by "
                       "group or others (mode %04o), so others could change the commands bkp runs "
                       "— run `%s` and try again"),
            what, path, dir, f->owner, f->me, f->mode, c);
    else
        bkp_error(
            secret ? _("%s %s: the folder %s is owned by %s, not by %s, and writable by group or "
                       "others (mode %04o), so others could read or replace the secret it holds — run "
                       "`%s` and try again")
                   : _("%s %s: the folder %s is owned by %s, not by %s, and writable by group or "
                       "others (mode %04o), so others could change the commands bkp runs — "
                       "run `%s` and try again"),
            what, path, dir, f->owner, f->me, f->mode, c);
}

/* Every folder above `file`, up to and including `/`: whoever may write to
 * one of them may put another file (or link) in its place. */
static int check_folders(const char *file, const char *path, unsigned flags, const char *what)
{
    char *dir = strdup(file);
    bkp_trust_fix fix;
    struct stat st;
    uid_t euid = geteuid();
    int rc = dir ? 0 : -ENOMEM;
    for (char *slash = dir ? strrchr(dir, '/') : NULL; slash; slash = strrchr(dir, '/')) {
        if (slash == dir)
            slash[1] = '\0'; /* "/" itself, checked last */
        else
            *slash = '\0';
        if (lstat(dir, &st) < 0) {
            rc = -errno;
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            bkp_error(_("%s %s: %s changed while it was checked — try again"), _(what), path, dir);
            rc = -EPERM;
            break;
        }
        if (bkp_trust_stat(dir, &st, flags, euid, &fix)) {
            say_folder(_(what), path, dir, flags & BKP_TRUST_SECRET, &fix);
            rc = -EPERM;
            break;
        }
        if (!strcmp(dir, "/"))
            break;
    }
    free(dir);
    return rc;
}

/* The real path of the folder that holds `path` (malloc'd), or NULL. */
static char *folder_of(const char *path)
{
    char *copy = strdup(path), *slash = copy ? strrchr(copy, '/') : NULL, *at;
    if (!copy)
        return NULL;
    if (!slash)
        at = realpath(".", NULL);
    else if (slash == copy)
        at = strdup("/");
    else {
        *slash = '\0';
        at = realpath(copy, NULL);
    }
    free(copy);
    return at;
}

int bkp_trust_file(const char *path, unsigned flags, const char *what, char **resolved)
{
    char *real = realpath(path, NULL);
    bkp_trust_fix fix;
    struct stat st;
    uid_t euid = geteuid();
    int rc = 0;
    if (!real)
        return -errno;
    /* lstat, not stat: realpath left no link in `real`; one found now was put
     * there since, and is refused rather than followed. */
    if (lstat(real, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        bkp_error(_("%s %s is not a regular file — give the path of the file itself"), _(what),
                  path);
        rc = -EPERM;
        goto out;
    }
    if (bkp_trust_stat(real, &st, flags, euid, &fix)) {
        say_file(_(what), path, flags & BKP_TRUST_SECRET, &fix);
        rc = -EPERM;
        goto out;
    }
    rc = check_folders(real, path, flags, what);
    /* Given as a link: the folder that holds the link counts too, since
     * whoever may write there may point the link elsewhere. */
    if (!rc && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char *at = folder_of(path);
        /* check_folders checks the folders above a file: name one inside. */
        char *inside = at ? bkp_path_join(at, ".") : NULL;
        rc = inside ? check_folders(inside, path, flags, what) : -errno;
        free(inside);
        free(at);
    }
out:
    if (!rc && resolved)
        *resolved = real;
    else
        free(real);
    return rc;
}

int bkp_trust_new_file(const char *path, const char *what, char **resolved)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return -EINVAL;
    char *at = folder_of(path);
    if (!at)
        return errno ? -errno : -ENOMEM;
    /* check_folders checks the folders above a file: name one inside. */
    char *inside = bkp_path_join(at, ".");
    int rc = inside ? check_folders(inside, path, BKP_TRUST_SECRET, what) : -ENOMEM;
    free(inside);
    if (!rc && !(*resolved = bkp_path_join(at, base)))
        rc = -ENOMEM;
    free(at);
    return rc;
}
