#include "bkp/io/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* EINTR is retried; a short read is the end of the file, which a caller that
 * asked for exactly `len` bytes did not expect (-EIO). */
int bkp_write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int bkp_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int bkp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Open `name` (relative to `dirfd`, or AT_FDCWD) for reading when it is a
 * regular file. A FIFO or a device planted on a medium in place of a label,
 * record, config or kit file is refused from its stat, before any open: an
 * open alone has effects on some devices (a tape rewinds when closed, a
 * watchdog arms), and a FIFO would block. What is opened is checked again
 * (non-blocking, no controlling terminal): a regular file swapped for
 * something else in between is refused too, unread. */
static int open_regular_at(int dirfd, const char *name, bool nofollow)
{
    struct stat pre, st;
    if (fstatat(dirfd, name, &pre, nofollow ? AT_SYMLINK_NOFOLLOW : 0) < 0)
        return -errno;
    if (!S_ISREG(pre.st_mode))
        return nofollow && S_ISLNK(pre.st_mode) ? -ELOOP : -EBADMSG;
    int fd = openat(dirfd, name,
                    O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0)
        return -errno;
    int rc = fstat(fd, &st) < 0                                                           ? -errno
             : !S_ISREG(st.st_mode) || st.st_ino != pre.st_ino || st.st_dev != pre.st_dev ? -EBADMSG
                                                                                          : 0;
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}

int bkp_open_regular(const char *path)
{
    return open_regular_at(AT_FDCWD, path, false);
}

int bkp_open_regular_at(int dirfd, const char *name)
{
    return open_regular_at(dirfd, name, true);
}
