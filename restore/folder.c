/* folder.c — a restored file's folder, entered without following any link (folder.h). */
#include "restore/folder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* One component at a time: each opened with O_NOFOLLOW in the folder the
 * ones before it led to, made there with mkdirat when missing (mkdirat never
 * follows a link in its last component). */
static int walk(int root, const char *dir, bool make)
{
    char name[NAME_MAX + 1];
    int cur = openat(root, ".", DIR_FLAGS);
    if (cur < 0)
        return -errno;
    for (const char *c = dir; *c;) {
        size_t n = strcspn(c, "/");
        int next;
        if (n > NAME_MAX || (n == 2 && c[0] == '.' && c[1] == '.')) {
            close(cur);
            return n > NAME_MAX ? -ENAMETOOLONG : -EINVAL;
        }
        if (n && !(n == 1 && c[0] == '.')) {
            memcpy(name, c, n);
            name[n] = '\0';
            next = openat(cur, name, DIR_FLAGS | O_NOFOLLOW);
            if (next < 0 && errno == ENOENT && make &&
                (mkdirat(cur, name, 0777) == 0 || errno == EEXIST))
                next = openat(cur, name, DIR_FLAGS | O_NOFOLLOW);
            if (next < 0) {
                /* A link here is ELOOP, or ENOTDIR with O_DIRECTORY. */
                struct stat st;
                int rc = fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)
                             ? -ELOOP
                             : -errno;
                close(cur);
                return rc;
            }
            close(cur);
            cur = next;
        }
        c += n;
        c += strspn(c, "/");
    }
    return cur;
}

static int open_folder(int root, const char *dir, int *out, bool make)
{
    if (dir[0] == '/')
        return -EINVAL;
#ifdef SYS_openat2
    /* The common case in one call; a missing folder, a long path or an old
     * kernel take the walk. A symbolic link anywhere on the way is ELOOP. */
    if (strlen(dir) < PATH_MAX) {
        struct open_how how = {.flags = DIR_FLAGS,
                               .resolve =
                                   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
        for (int tries = 0; tries < 16; tries++) {
            int fd = (int)syscall(SYS_openat2, root, dir, &how, sizeof(how));
            if (fd >= 0) {
                *out = fd;
                return 0;
            }
            if (errno != EAGAIN) /* EAGAIN: a rename raced the lookup */
                break;
        }
        if (errno != ENOENT && errno != ENOSYS && errno != EAGAIN)
            return errno == EXDEV ? -EINVAL : -errno;
    }
#endif
    int fd = walk(root, dir, make);
    if (fd < 0)
        return fd;
    *out = fd;
    return 0;
}

int rst_folder_open(int root, const char *dir, int *out)
{
    return open_folder(root, dir, out, true);
}

int rst_folder_enter(int root, const char *dir, int *out)
{
    return open_folder(root, dir, out, false);
}

bool rst_folder_plain_path(const char *p)
{
    if (!*p || *p == '/')
        return false;
    for (const char *s = p; *s;) {
        size_t n = strcspn(s, "/");
        if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n;
        s += *s == '/';
    }
    return true;
}
