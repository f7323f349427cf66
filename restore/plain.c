/* plain.c — a plain regular file, created and finished by its descriptor (plain.h). */
#include "restore/plain.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* The flags archive_write_disk does not set on the file at once but records
 * to set at the very end (an immutable file could not be given its times):
 * such a file takes archive_write_disk's path. */
#define LATE_FLAGS (FS_IMMUTABLE_FL | FS_APPEND_FL | FS_JOURNAL_DATA_FL)
/* What only root may set: dropped on a second try when refused (EPERM). */
#define ROOT_FLAGS (FS_IMMUTABLE_FL | FS_APPEND_FL | FS_JOURNAL_DATA_FL)

/* What both kinds have to be for the descriptor path: restored with modes
 * and times, of file type `type`, with no file flag outside `flags_ok` (and
 * none cleared where `clear_ok` is false), no xattrs, ACLs or Mac metadata,
 * and setuid/setgid only where the owner is set (else archive_write_disk
 * keeps them only after checks of its own: those rare ones go to it). */
static bool plain_fits(const bkp_item *it, int flags, unsigned type, unsigned long flags_ok,
                       bool clear_ok)
{
    struct archive_entry *e = it->entry;
    unsigned long set, clear;
    size_t mac = 0;
    const int need = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
    if ((flags & need) != need || archive_entry_filetype(e) != type || archive_entry_hardlink(e))
        return false;
    archive_entry_fflags(e, &set, &clear);
    return !(set & ~flags_ok) && (clear_ok || !clear) && !archive_entry_xattr_count(e) &&
           !archive_entry_acl_types(e) && !(archive_entry_mac_metadata(e, &mac) && mac) &&
           (!(archive_entry_mode(e) & (S_ISUID | S_ISGID)) || (flags & ARCHIVE_EXTRACT_OWNER));
}

bool rst_plain_fits(const bkp_item *it, int flags)
{
    return plain_fits(it, flags, AE_IFREG, ~(unsigned long)LATE_FLAGS, true);
}

/* The flags a folder on ext4 has by itself: nothing made in it inherits
 * them, so they may be set once it is full. */
#define OWN_DIR_FLAGS (FS_INDEX_FL | FS_EXTENT_FL)

bool rst_plain_dir_fits(const bkp_item *it, int flags)
{
    return plain_fits(it, flags, AE_IFDIR, OWN_DIR_FLAGS, false);
}

int rst_plain_mkdir(int dirfd, const char *name)
{
    const int how = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    struct stat st;
    if (mkdirat(dirfd, name, 0700) < 0) {
        if (errno != EEXIST)
            return -errno;
        /* mkdirat never follows a link in its last name; neither does the
         * check of what is there, nor its removal. */
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return -errno;
        if (!S_ISDIR(st.st_mode) &&
            (unlinkat(dirfd, name, 0) < 0 || mkdirat(dirfd, name, 0700) < 0))
            return -errno;
    }
    int fd = openat(dirfd, name, how);
    if (fd < 0)
        return -errno;
    /* A folder that was there (--force) is taken over at once, as
     * archive_write_disk did: whoever owned it can no longer move it (a
     * folder changes parent only with write permission on it) while things
     * are made in it through this descriptor. */
    if (fstat(fd, &st) < 0 ||
        ((st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) &&
         (fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0700) < 0))) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
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

void rst_plain_meta_of(struct archive *a, int flags, const bkp_item *it, rst_plain_meta *m)
{
    struct archive_entry *e = it->entry;
    memset(m, 0, sizeof(*m));
    if (!(flags & ARCHIVE_EXTRACT_OWNER)) {
        m->uid = geteuid();
        m->gid = getegid();
    } else {
        /* As archive_write_disk: the names recorded, looked up on this
         * host, else the numbers. */
        m->set_owner = true;
        m->uid = (uid_t)archive_write_disk_uid(a, archive_entry_uname(e), archive_entry_uid(e));
        m->gid = (gid_t)archive_write_disk_gid(a, archive_entry_gname(e), archive_entry_gid(e));
    }
    m->mode = archive_entry_mode(e) & 07777;
    if (flags & ARCHIVE_EXTRACT_FFLAGS)
        archive_entry_fflags(e, &m->fset, &m->fclear);
    /* A time not recorded is the time it is set, as archive_write_disk has
     * it; none recorded, none set. */
    m->set_times = archive_entry_atime_is_set(e) || archive_entry_mtime_is_set(e) ||
                   archive_entry_birthtime_is_set(e);
    m->atime_now = !archive_entry_atime_is_set(e);
    m->mtime_now = !archive_entry_mtime_is_set(e);
    m->times[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
    m->times[1] = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
}

/* The owner; false (warned) when refused. */
static bool set_owner(int fd, const rst_plain_meta *m, const char *path)
{
    if (fchown(fd, m->uid, m->gid) == 0)
        return true;
    bkp_warn(_("%s: cannot set user %jd, group %jd: %s"), path, (intmax_t)m->uid, (intmax_t)m->gid,
             bkp_strerror(-errno));
    return false;
}

/* The mode, after the owner (chown clears setuid and setgid). Where the
 * owner could not be set, setuid and setgid are kept only if the file
 * happens to have the recorded owner and group, as archive_write_disk does. */
static void set_mode(int fd, const rst_plain_meta *m, bool owned, const char *path)
{
    mode_t mode = m->mode;
    struct stat st;
    if (!owned && (mode & (S_ISUID | S_ISGID))) {
        if (fstat(fd, &st) < 0)
            st.st_uid = (uid_t)-1, st.st_gid = (gid_t)-1;
        if ((mode & S_ISGID) && st.st_gid != m->gid) {
            mode &= ~(mode_t)S_ISGID;
            bkp_warn(_("%s: cannot restore its setgid bit (its group is not set)"), path);
        }
        if ((mode & S_ISUID) && st.st_uid != m->uid) {
            mode &= ~(mode_t)S_ISUID;
            bkp_warn(_("%s: cannot restore its setuid bit (its owner is not set)"), path);
        }
    }
    if (fchmod(fd, mode) < 0)
        bkp_warn(_("%s: cannot set its permissions to 0%o: %s"), path, (unsigned)mode,
                 bkp_strerror(-errno));
}

/* File flags as archive_write_disk sets them on Linux: the recorded ones
 * over the file's own, without the root-only ones when refused. Nothing is
 * written when the file has them already (a freshly made file on ext4 is
 * "extents", which is most of what a backup records). */
static void set_flags(int fd, const rst_plain_meta *m, const char *path)
{
    unsigned long set = m->fset, clear = m->fclear;
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
    bkp_warn(_("%s: cannot set its file flags: %s"), path, bkp_strerror(-errno));
}

/* Times last: anything after would change them. */
static void set_times(int fd, const rst_plain_meta *m, const char *path)
{
    if (!m->set_times)
        return;
    struct timespec ts[2] = {m->times[0], m->times[1]};
    time_t now = time(NULL);
    if (m->atime_now)
        ts[0] = (struct timespec){now, 0};
    if (m->mtime_now)
        ts[1] = (struct timespec){now, 0};
    if (futimens(fd, ts) < 0)
        bkp_warn(_("%s: cannot restore its times: %s"), path, bkp_strerror(-errno));
}

void rst_plain_apply(int flags, int fd, const rst_plain_meta *m, const char *path)
{
    bool owned = m->set_owner && set_owner(fd, m, path);
    set_mode(fd, m, owned || !(flags & ARCHIVE_EXTRACT_OWNER), path);
    set_flags(fd, m, path);
    set_times(fd, m, path);
}

int rst_plain_finish(struct archive *a, int flags, int fd, const bkp_item *it, uint64_t end,
                     const char *path)
{
    uint64_t size = (uint64_t)archive_entry_size(it->entry);
    rst_plain_meta m;
    if (end < size && ftruncate(fd, (off_t)size) < 0) {
        int rc = -errno;
        bkp_error(_("%s: cannot set its size: %s; the file is not restored"), path,
                  bkp_strerror(rc));
        return rc;
    }
    rst_plain_meta_of(a, flags, it, &m);
    rst_plain_apply(flags, fd, &m, path);
    return 0;
}
