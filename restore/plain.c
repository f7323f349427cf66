/* plain.c — a plain regular file, created and finished by its descriptor (plain.h). */
#include "restore/plain.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/log.h"

/* The flags archive_write_disk does not set on the file at once but records
 * to set at the very end (an immutable file could not be given its times):
 * such a file takes archive_write_disk's path. */
#define LATE_FLAGS (FS_IMMUTABLE_FL | FS_APPEND_FL | FS_JOURNAL_DATA_FL)
/* What only root may set: dropped on a second try when refused (EPERM). */
#define ROOT_FLAGS (FS_IMMUTABLE_FL | FS_APPEND_FL | FS_JOURNAL_DATA_FL)

bool rst_plain_fits(const bkp_item *it, int flags)
{
    struct archive_entry *e = it->entry;
    unsigned long set, clear;
    const int need = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
    if ((flags & need) != need || archive_entry_filetype(e) != AE_IFREG ||
        archive_entry_hardlink(e))
        return false;
    archive_entry_fflags(e, &set, &clear);
    if (set & LATE_FLAGS)
        return false;
    if (archive_entry_xattr_count(e) || archive_entry_acl_types(e))
        return false;
    size_t mac = 0;
    if (archive_entry_mac_metadata(e, &mac) && mac)
        return false;
    /* Without the owner set, archive_write_disk keeps setuid and setgid
     * only after checks of its own: leave those rare files to it. */
    if ((archive_entry_mode(e) & (S_ISUID | S_ISGID)) && !(flags & ARCHIVE_EXTRACT_OWNER))
        return false;
    return true;
}

int rst_plain_create(int dirfd, const char *name)
{
    const int how = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    /* 0600: nobody else reads the file before its data and mode are final. */
    int fd = openat(dirfd, name, how, 0600);
    if (fd >= 0 || errno != EEXIST)
        return fd >= 0 ? fd : -errno;
    /* Something is in the way (only with --force, or planted meanwhile):
     * the name is removed, never opened — a link is not followed and a hard
     * link to another file does not make us write into that file. */
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT &&
        (errno != EISDIR || unlinkat(dirfd, name, AT_REMOVEDIR) < 0))
        return -errno;
    fd = openat(dirfd, name, how, 0600);
    return fd >= 0 ? fd : -errno;
}

/* Owner and group as archive_write_disk sets them: the names recorded,
 * looked up on this host, else the numbers. False (warned) when refused. */
static bool set_owner(struct archive *a, int fd, const bkp_item *it, const char *path,
                      uid_t *uid, gid_t *gid)
{
    struct archive_entry *e = it->entry;
    *uid = (uid_t)archive_write_disk_uid(a, archive_entry_uname(e), archive_entry_uid(e));
    *gid = (gid_t)archive_write_disk_gid(a, archive_entry_gname(e), archive_entry_gid(e));
    if (fchown(fd, *uid, *gid) == 0)
        return true;
    bkp_warn("%s: cannot set user %jd, group %jd: %s", path, (intmax_t)*uid, (intmax_t)*gid,
             bkp_strerror(-errno));
    return false;
}

/* The mode, after the owner (chown clears setuid and setgid). Where the
 * owner could not be set, setuid and setgid are kept only if the file
 * happens to have the recorded owner and group, as archive_write_disk does. */
static void set_mode(int fd, const bkp_item *it, bool owned, uid_t uid, gid_t gid,
                     const char *path)
{
    mode_t mode = archive_entry_mode(it->entry) & 07777;
    struct stat st;
    if (!owned && (mode & (S_ISUID | S_ISGID))) {
        if (fstat(fd, &st) < 0)
            st.st_uid = (uid_t)-1, st.st_gid = (gid_t)-1;
        if ((mode & S_ISGID) && st.st_gid != gid) {
            mode &= ~(mode_t)S_ISGID;
            bkp_warn("%s: cannot restore its setgid bit (its group is not set)", path);
        }
        if ((mode & S_ISUID) && st.st_uid != uid) {
            mode &= ~(mode_t)S_ISUID;
            bkp_warn("%s: cannot restore its setuid bit (its owner is not set)", path);
        }
    }
    if (fchmod(fd, mode) < 0)
        bkp_warn("%s: cannot set its permissions to 0%o: %s", path, (unsigned)mode,
                 bkp_strerror(-errno));
}

/* File flags as archive_write_disk sets them on Linux: the recorded ones
 * over the file's own, without the root-only ones when refused. Nothing is
 * written when the file has them already (a freshly made file on ext4 is
 * "extents", which is most of what a backup records). */
static void set_flags(int fd, const bkp_item *it, const char *path)
{
    unsigned long set, clear;
    archive_entry_fflags(it->entry, &set, &clear);
    if (!set && !clear)
        return;
    int old, now;
    if (ioctl(fd, FS_IOC_GETFLAGS, &old) < 0)
        goto fail;
    now = (int)(((unsigned long)old & ~clear) | set);
    if (now == old || ioctl(fd, FS_IOC_SETFLAGS, &now) == 0)
        return;
    if (errno != EPERM)
        goto fail;
    now = (now & ~ROOT_FLAGS) | (old & ROOT_FLAGS);
    if (ioctl(fd, FS_IOC_SETFLAGS, &now) == 0)
        return;
fail:
    bkp_warn("%s: cannot set its file flags: %s", path, bkp_strerror(-errno));
}

/* Times last: anything after would change them. A time not recorded is the
 * time of the restore, as archive_write_disk has it; none recorded, none set. */
static void set_times(int fd, const bkp_item *it, const char *path)
{
    struct archive_entry *e = it->entry;
    if (!archive_entry_atime_is_set(e) && !archive_entry_mtime_is_set(e) &&
        !archive_entry_birthtime_is_set(e))
        return;
    time_t now = time(NULL);
    struct timespec ts[2] = {{now, 0}, {now, 0}};
    if (archive_entry_atime_is_set(e))
        ts[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
    if (archive_entry_mtime_is_set(e))
        ts[1] = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    if (futimens(fd, ts) < 0)
        bkp_warn("%s: cannot restore its times: %s", path, bkp_strerror(-errno));
}

int rst_plain_finish(struct archive *a, int flags, int fd, const bkp_item *it, uint64_t end,
                     const char *path)
{
    uint64_t size = (uint64_t)archive_entry_size(it->entry);
    if (end < size && ftruncate(fd, (off_t)size) < 0) {
        int rc = -errno;
        bkp_error("%s: cannot set its size: %s; the file is not restored", path, bkp_strerror(rc));
        return rc;
    }
    uid_t uid = geteuid();
    gid_t gid = getegid();
    bool owned = (flags & ARCHIVE_EXTRACT_OWNER) && set_owner(a, fd, it, path, &uid, &gid);
    set_mode(fd, it, owned || !(flags & ARCHIVE_EXTRACT_OWNER), uid, gid, path);
    if (flags & ARCHIVE_EXTRACT_FFLAGS)
        set_flags(fd, it, path);
    set_times(fd, it, path);
    return 0;
}
