/* StrictModes: the files that carry root's commands or the passphrase, and
 * the folders above them, must be beyond the reach of other users. */
#include "bkp/trust.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/log.h"

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
                   char *fix, size_t n)
{
    bool dir = S_ISDIR(st->st_mode);
    bool secret = !dir && (flags & BKP_TRUST_SECRET);
    mode_t mode = st->st_mode & 07777;
    char me[64], owner[64];
    if (!dir && !S_ISREG(st->st_mode)) {
        snprintf(fix, n, "is not a regular file — give the path of the file itself");
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
    const char *chmod_to = readable ? "600" : "go-w";
    user_name(euid, me, sizeof(me));
    user_name(st->st_uid, owner, sizeof(owner));
    if (!owner_ok && (writable || readable))
        snprintf(fix, n,
                 "is owned by %s and has mode %04o — run `chown %s %s && chmod %s %s` and try "
                 "again",
                 owner, (unsigned)mode, me, path, chmod_to, path);
    else if (!owner_ok)
        snprintf(fix, n, "is owned by %s, not by %s%s — run `chown %s %s` and try again", owner,
                 secret || !euid ? "" : "root or ", me, me, path);
    else
        snprintf(fix, n, "is %s by group or others (mode %04o) — run `chmod %s %s` and try again",
                 readable ? "readable" : "writable", (unsigned)mode, chmod_to, path);
    return -EPERM;
}

int bkp_trust_file(const char *path, unsigned flags, const char *what, char **resolved)
{
    char *real = realpath(path, NULL), fix[PATH_MAX + 256];
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
    if (!S_ISREG(st.st_mode))
        snprintf(fix, sizeof(fix), "is not a regular file — give the path of the file itself");
    if (!S_ISREG(st.st_mode) || bkp_trust_stat(real, &st, flags, euid, fix, sizeof(fix))) {
        bkp_error("%s %s: %s; bkp will not run commands or read secrets from a file that "
                  "others may change",
                  what, path, fix);
        rc = -EPERM;
        goto out;
    }
    /* Every folder above it, up to and including `/`. */
    char *dir = strdup(real);
    if (!dir) {
        rc = -ENOMEM;
        goto out;
    }
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        if (slash == dir)
            slash[1] = '\0'; /* "/" itself, checked last */
        else
            *slash = '\0';
        if (lstat(dir, &st) < 0) {
            rc = -errno;
            break;
        }
        if (!S_ISDIR(st.st_mode) ||
            bkp_trust_stat(dir, &st, flags, euid, fix, sizeof(fix))) {
            if (!S_ISDIR(st.st_mode))
                snprintf(fix, sizeof(fix), "changed while it was checked — try again");
            bkp_error("%s %s: the folder %s %s; bkp will not run commands or read secrets from "
                      "a folder that others may change",
                      what, path, dir, fix);
            rc = -EPERM;
            break;
        }
        if (!strcmp(dir, "/"))
            break;
    }
    free(dir);
out:
    if (!rc && resolved)
        *resolved = real;
    else
        free(real);
    return rc;
}
