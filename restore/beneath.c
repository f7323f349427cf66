/* beneath.c — folders inside a drill's sandbox, never outside it (beneath.h). */
#include "restore/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* Without openat2: one component at a time, following no link at all. */
static int walk(int boxfd, const char *path)
{
    char *copy = strdup(path), *save = NULL;
    int cur = openat(boxfd, ".", DIR_FLAGS), rc = 0;
    if (!copy || cur < 0) {
        rc = !copy ? -ENOMEM : -errno;
        goto out;
    }
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        int next = openat(cur, c, DIR_FLAGS | O_NOFOLLOW);
        if (next < 0) {
            /* A link here is ELOOP (or ENOTDIR with O_DIRECTORY): refused. */
            struct stat st;
            rc = fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ? -ELOOP
                                                                                       : -errno;
            goto out;
        }
        close(cur);
        cur = next;
    }
out:
    free(copy);
    if (rc && cur >= 0)
        close(cur);
    return rc ? rc : cur;
}

/* `path` beneath `boxfd`: a descriptor or a negative errno. */
static int open_beneath(int boxfd, const char *path)
{
#ifdef SYS_openat2
    struct open_how how = {.flags = DIR_FLAGS, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    for (int tries = 0; tries < 16; tries++) {
        int fd = (int)syscall(SYS_openat2, boxfd, path, &how, sizeof(how));
        if (fd >= 0)
            return fd;
        if (errno == EAGAIN) /* a rename raced the lookup: look again */
            continue;
        if (errno != ENOSYS)
            return -errno;
        break;
    }
#endif
    return walk(boxfd, path);
}

static bool plain(const char *rel)
{
    if (!*rel || rel[0] == '/')
        return false;
    for (const char *c = rel; *c;) {
        size_t n = strcspn(c, "/");
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n;
        c += strspn(c, "/");
    }
    return true;
}

int rst_beneath_mkdir(int boxfd, const char *rel, mode_t mode, int *out)
{
    if (!plain(rel))
        return -EINVAL;
    size_t len = strlen(rel);
    char *prefix = malloc(len + 1);
    int cur = openat(boxfd, ".", DIR_FLAGS), rc = 0;
    if (!prefix || cur < 0) {
        rc = !prefix ? -ENOMEM : -errno;
        goto out;
    }
    /* cur is always the folder of the components before c, as resolved
     * beneath the sandbox: a folder made there is inside it. */
    for (size_t at = 0; at < len;) {
        at += strspn(rel + at, "/");
        size_t n = strcspn(rel + at, "/");
        if (!n)
            break;
        memcpy(prefix, rel, at + n);
        prefix[at + n] = '\0';
        int fd = open_beneath(boxfd, prefix);
        if (fd == -ENOENT) {
            char name[NAME_MAX + 1];
            if (n > NAME_MAX) {
                rc = -ENAMETOOLONG;
                goto out;
            }
            memcpy(name, rel + at, n);
            name[n] = '\0';
            /* mkdirat never follows a link in its last component: a
             * dangling link there is EEXIST, and the lookup below decides. */
            bool made = mkdirat(cur, name, 0700) == 0;
            if (!made && errno != EEXIST) {
                rc = -errno;
                goto out;
            }
            fd = open_beneath(boxfd, prefix);
            if (fd >= 0 && made && fchmod(fd, mode) < 0) {
                rc = -errno;
                close(fd);
                goto out;
            }
        }
        if (fd < 0) {
            rc = fd;
            goto out;
        }
        close(cur);
        cur = fd;
        at += n;
    }
out:
    free(prefix);
    if (rc) {
        if (cur >= 0)
            close(cur);
        return rc;
    }
    *out = cur;
    return 0;
}
