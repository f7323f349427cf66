/* layout.c — refuse a repository copy whose folders are links (layout.h). */
#include "bkp/store/layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* The folders of a repository (docs/FORMAT.md §1) whose entries are
 * folders too: packs/XX and generations/DATASET. */
static const char *const top[] = {"keys", "packs", "index", "generations", "cache",
                                  "locks", "audit", "media", "reports"};

/* `name` in `dirfd`: absent, or a real folder. */
static int real_folder(int dirfd, const char *name, const char *shown)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode))
        return 1;
    bkp_error(_("%s is %s, not a folder: a repository copy holds only its own folders, so "
                "nothing is written or deleted through it. This medium was tampered with; "
                "remove the link (or relabel the disk and rotate to it afresh), and look for "
                "what else was changed"),
              shown, S_ISLNK(st.st_mode) ? _("a symbolic link") : _("something else"));
    return -ELOOP;
}

/* Every entry of folder `sub` (packs or generations) that is not a file
 * must be a real folder; files there are left to their readers. */
static int check_entries(int dirfd, const char *path, const char *sub)
{
    int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(st.st_mode))
            continue;
        char shown[4096];
        snprintf(shown, sizeof(shown), "%s/%s/%s", path, sub, e->d_name);
        rc = real_folder(fd, e->d_name, shown) < 0 ? -ELOOP : 0;
    }
    closedir(d);
    return rc;
}

int bkp_layout_check(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return real_folder(AT_FDCWD, path, path) < 0 ? -ELOOP : -ENOTDIR;
    int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(top) / sizeof(*top); i++) {
        char shown[4096];
        snprintf(shown, sizeof(shown), "%s/%s", path, top[i]);
        int x = real_folder(dirfd, top[i], shown);
        rc = x < 0 ? x : 0;
    }
    if (!rc)
        rc = check_entries(dirfd, path, "packs");
    if (!rc)
        rc = check_entries(dirfd, path, "generations");
    close(dirfd);
    return rc;
}

bool bkp_dataset_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}
