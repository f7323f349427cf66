#include "bkp/io/durable.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <ftw.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/direct.h"
#include "bkp/io/fdio.h"
#include "bkp/io/log.h"
#include "bkp/io/stream.h"

char *bkp_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t n = la;
    if (n == 0 || p[n - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, b, lb + 1);
    return p;
}

int bkp_open_deep(int dirfd, const char *path, int flags)
{
    char *copy, *save = NULL;
    /* Below `dirfd` only: a ".." would climb out of it one name at a time,
     * O_NOFOLLOW or not. */
    if (path[0] == '/')
        return -EINVAL;
    for (const char *s = path; (s = strstr(s, "..")); s += 2)
        if ((s == path || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return -EINVAL;
    if (!(copy = strdup(path)))
        return -ENOMEM;
    int fd = dirfd == AT_FDCWD ? open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                               : fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    int rc = fd < 0 ? -errno : 0;
    char *part = rc ? NULL : strtok_r(copy, "/", &save);
    while (part) {
        char *next = strtok_r(NULL, "/", &save);
        int nfd = openat(fd, part,
                         next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                              : flags | O_NOFOLLOW | O_CLOEXEC);
        rc = nfd < 0 ? -errno : 0;
        close(fd);
        fd = nfd;
        part = rc ? NULL : next;
    }
    free(copy);
    return rc ? rc : fd;
}

int bkp_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = 0;
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0 && errno != EINVAL)
        r = -errno;
    close(fd);
    return r;
}

int bkp_mkdir_p(const char *path, mode_t mode)
{
    char *p = strdup(path);
    int r = 0;
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST) {
                r = -errno;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return r;
}

/* Read all of the open `s` (closed here), at most `max` bytes, into `out`. */
static int read_stream(bkp_stream *s, bkp_buf *out, size_t max)
{
    bkp_buf_reset(out);
    bkp_stream_cap(s, max);
    (void)bkp_stream_read_all(s, out);
    return bkp_stream_close(s);
}

int bkp_read_file(const char *path, bkp_buf *out, size_t max)
{
    bkp_stream s;
    int rc = bkp_stream_open(&s, path);
    return rc ? rc : read_stream(&s, out, max);
}

int bkp_read_file_at(int dirfd, const char *name, bkp_buf *out, size_t max)
{
    bkp_stream s;
    int rc = bkp_stream_open_at(&s, dirfd, name);
    return rc ? rc : read_stream(&s, out, max);
}

static char *temp_name(const char *dir)
{
    char host[64] = "host", rnd[17], name[128];
    uint8_t r[8];
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/' || *c == '-')
            *c = '_';
    randombytes_buf(r, sizeof(r));
    bkp_hex(rnd, r, sizeof(r));
    snprintf(name, sizeof(name), ".tmp-%s-%ld-%s", host, (long)getpid(), rnd);
    return bkp_path_join(dir, name);
}

struct bkp_dfile {
    int fd;
    char *dir;
    char *tmp; /* full path of the temporary file */
    uint64_t size;
    int err;                   /* latched write error */
    struct bkp_direct *direct; /* with BKP_DURABLE_DIRECT */
};

int bkp_dfile_open(bkp_dfile **out, const char *dir, unsigned flags)
{
    bkp_dfile *f = calloc(1, sizeof(*f));
    *out = NULL;
    if (!f)
        return -ENOMEM;
    f->fd = -1;
    f->dir = strdup(dir);
    f->tmp = temp_name(dir);
    if (!f->dir || !f->tmp) {
        bkp_dfile_abort(f);
        return -ENOMEM;
    }
    mode_t mode = (flags & BKP_DURABLE_PRIVATE) ? 0600 : 0644;
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (f->fd < 0) {
        int r = -errno;
        free(f->tmp);
        f->tmp = NULL;
        bkp_dfile_abort(f);
        return r;
    }
    /* Held until the file is closed: the clean-up pass of another process
     * (another PID namespace with the same host name) sees it is alive. The
     * flock of lock.h, but excluding nobody: a liveness mark (durable.c
     * needs nothing of lock.c, which writes through it). */
    (void)flock(f->fd, LOCK_EX | LOCK_NB);
    if (flags & BKP_DURABLE_DIRECT) {
        /* Without the memory or a thread for it, the file is written the
         * ordinary way: slower, not less safe. */
        if (!(f->direct = malloc(sizeof(*f->direct))) || bkp_direct_init(f->direct)) {
            free(f->direct);
            f->direct = NULL;
        } else {
            bkp_direct_start(f->direct, f->fd);
        }
    }
    *out = f;
    return 0;
}

const char *bkp_dfile_path(const bkp_dfile *f)
{
    return f->tmp;
}

uint64_t bkp_dfile_size(const bkp_dfile *f)
{
    return f->size;
}

int bkp_dfile_write(bkp_dfile *f, const void *buf, size_t len)
{
    if (f->err)
        return f->err;
    f->err = f->direct ? bkp_direct_write(f->direct, buf, len) : bkp_write_full(f->fd, buf, len);
    if (!f->err)
        f->size += len;
    return f->err;
}

static int dfile_sink(void *ctx, const void *buf, size_t len)
{
    return bkp_dfile_write(ctx, buf, len);
}

void bkp_dfile_stream(bkp_dfile *f, bkp_stream *s)
{
    bkp_stream_sink(s, dfile_sink, f);
}

void bkp_dfile_abort(bkp_dfile *f)
{
    if (!f)
        return;
    if (f->direct) {
        bkp_direct_free(f->direct);
        free(f->direct);
    }
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    free(f->dir);
    free(f);
}

/* rename without replacing: "already there" is -EEXIST for the caller to judge. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* NFS and some FUSE file systems refuse rename flags; link() fails
     * atomically with EEXIST there, which is all no-replace needs. */
    if (link(from, to) == 0) {
        unlink(from);
        return 0;
    }
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
        return -errno;
    /* vfat and exFAT (removable disks) have neither: check, then rename.
     * Two writers racing for one name there can lose a record; media of
     * that kind are written by one rotation at a time. */
    if (access(to, F_OK) == 0)
        return -EEXIST;
    return rename(from, to) < 0 ? -errno : 0;
}

/*
 * The recipe, and what a kill at each point leaves:
 *  - while writing, or before the rename: only the temporary file
 *    ".tmp-HOST-PID-RANDOM", which no reader takes for an object (readers
 *    skip dot names); bkp_durable_cleanup removes it at the next open once
 *    its writer is dead and its flock free;
 *  - after the file's fsync and the rename, before the folder's fsync: the
 *    file is whole under one of its two names; after a crash of the
 *    machine the rename may be undone, which leaves the first case;
 *  - after the folder's fsync: the object, whole, under its name.
 * The file's fsync comes before the rename, so no crash can leave the name
 * with fewer bytes than were written (the ordering ext4 does not promise
 * without it). No-replace makes "already there" -EEXIST for objects named
 * by their content, so a racing writer never replaces a sealed object.
 */
int bkp_dfile_commit(bkp_dfile *f, const char *dir, const char *name, unsigned flags)
{
    char *dst = NULL;
    int r = f->direct ? bkp_direct_end(f->direct) : f->err;
    if (r)
        goto fail;
    /* Sealed objects lose their write bits; private ones (keys) stay owner-only. */
    if (flags & BKP_DURABLE_READONLY)
        (void)fchmod(f->fd, (flags & BKP_DURABLE_PRIVATE) ? 0400
                            : (flags & BKP_DURABLE_EXEC)  ? 0555
                                                          : 0444);
    else if (flags & BKP_DURABLE_PUBLIC)
        (void)fchmod(f->fd, 0644);
    if (fsync(f->fd) < 0) {
        r = -errno;
        goto fail;
    }
    if (close(f->fd) < 0) {
        f->fd = -1;
        r = -errno;
        goto fail;
    }
    f->fd = -1;
    dst = bkp_path_join(dir, name);
    if (!dst) {
        r = -ENOMEM;
        goto fail;
    }
    if (flags & BKP_DURABLE_NOREPLACE)
        r = rename_noreplace(f->tmp, dst);
    else
        r = rename(f->tmp, dst) < 0 ? -errno : 0;
    if (r)
        goto fail;
    free(f->tmp);
    f->tmp = NULL;
    r = bkp_fsync_dir(dir);
    if (!r && strcmp(dir, f->dir) != 0)
        r = bkp_fsync_dir(f->dir);
    free(dst);
    bkp_dfile_abort(f);
    return r;
fail:
    free(dst);
    bkp_dfile_abort(f);
    return r;
}

int bkp_durable_write(const char *dir, const char *name, const void *buf, size_t len,
                      unsigned flags)
{
    bkp_dfile *f;
    int r = bkp_dfile_open(&f, dir, flags);
    if (r)
        return r;
    r = bkp_dfile_write(f, buf, len);
    if (r) {
        bkp_dfile_abort(f);
        return r;
    }
    return bkp_dfile_commit(f, dir, name, flags);
}

int bkp_durable_write_path(const char *path, const void *buf, size_t len, unsigned flags)
{
    size_t n = strlen(path);
    if (!n || path[n - 1] == '/')
        return -EISDIR; /* basename would name the folder itself */
    /* POSIX dirname and basename may write into their argument: a copy each. */
    char *d = strdup(path), *b = strdup(path);
    char *base = b ? basename(b) : NULL;
    int rc = !d || !base                                          ? -ENOMEM
             : !strcmp(base, ".") || !strcmp(base, "..") ? -EISDIR
                                                                  : 0;
    if (!rc)
        rc = bkp_durable_write(dirname(d), base, buf, len, flags);
    free(d);
    free(b);
    return rc;
}

void bkp_durable_cleanup(const char *dir)
{
    char host[64] = "host";
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/' || *c == '-')
            *c = '_';
    size_t hl = strlen(host);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        const char *p = e->d_name + 5;
        /* Another host's temporary file is not ours to judge. */
        if (strncmp(p, host, hl) != 0 || p[hl] != '-')
            continue;
        long pid = strtol(p + hl + 1, NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue; /* its writer is still alive */
        /* Only a regular file is ours: a FIFO or a device under such a
         * name (planted on a medium) is neither opened (a FIFO would block
         * the open, a device may act on it) nor removed. */
        int fd = bkp_open_regular_at(dirfd(d), e->d_name);
        /* A writer in another PID namespace still holds its lock. */
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dirfd(d), e->d_name, 0) == 0)
            bkp_debug("removed stale temporary file %s/%s", dir, e->d_name);
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
}

/* On an open regular file: a FIFO or device planted under an object's name
 * is not ours to change. */
static int immutable_fd(int fd, bool on)
{
    struct stat st;
    int flags = 0;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EBADF;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
        return -errno;
    if (!!(flags & FS_IMMUTABLE_FL) == on)
        return 0;
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    return ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 ? -errno : 0;
}

int bkp_immutable_at(int dirfd, const char *name, bool on)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int rc = immutable_fd(fd, on);
    close(fd);
    return rc;
}

int bkp_immutable(const char *path, bool on)
{
    return bkp_immutable_at(AT_FDCWD, path, on);
}

int bkp_unlink_sealed(const char *path)
{
    (void)bkp_immutable(path, false);
    return unlink(path) < 0 ? -errno : 0;
}

int bkp_unlink_sealed_at(int dirfd, const char *name)
{
    if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return -EINVAL;
    (void)bkp_immutable_at(dirfd, name, false);
    return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

static int seal_walk(const char *dir, int depth, uint64_t *sealed)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d)) && rc != -EPERM && rc != -ENOTTY && rc != -EOPNOTSUPP) {
        if (e->d_name[0] == '.')
            continue; /* temporary files, set-aside objects */
        char *p = bkp_path_join(dir, e->d_name);
        struct stat st;
        if (!p) {
            rc = -ENOMEM;
            break;
        }
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0)
            rc = seal_walk(p, depth - 1, sealed);
        else if (S_ISREG(st.st_mode) && !(rc = bkp_immutable(p, true)))
            (*sealed)++;
        free(p);
    }
    closedir(d);
    return rc;
}

int bkp_immutable_tree(const char *dir, uint64_t *sealed)
{
    *sealed = 0;
    return seal_walk(dir, 2, sealed);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int bkp_remove_tree(const char *path)
{
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

int bkp_fsync_fd(int fd)
{
    return fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
}

int bkp_sync_fs(int fd)
{
    return syncfs(fd) < 0 ? -errno : 0;
}

int bkp_durable_create(const char *path, mode_t mode, bool append)
{
    int fd = open(
        path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | (append ? O_APPEND : 0), mode);
    return fd < 0 ? -errno : fd;
}

/*
 * An append-only file (the audit log) is the one durable file changed in
 * place. Its safety rests on three facts: a record goes out in one write()
 * of O_APPEND, so concurrent appenders (serialised by the caller's lock
 * anyway) never interleave inside a record; the fsync comes before anyone is
 * told the record exists, so a record reported is a record kept; and a kill
 * during the write leaves at most a prefix of this one record after the last
 * newline, which the next appender cuts (bkp_durable_truncate) and records
 * that it did. Nothing before the end is ever touched.
 */
int bkp_durable_append(int fd, const void *buf, size_t len, const char *dir)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    int rc = bkp_write_full(fd, buf, len);
    /* A write cut short by a full disk (or a quota) leaves a prefix of the
     * record: taken back at once, so the file is as it was and the next
     * appender finds no torn end to explain. */
    if (rc && ftruncate(fd, st.st_size) == 0)
        (void)fsync(fd);
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    /* A new file's name lives in its folder: without this fsync a crash
     * could keep the folder without the file, and the record with it. */
    if (!rc && dir)
        rc = bkp_fsync_dir(dir);
    return rc;
}

int bkp_durable_truncate(int fd, uint64_t len)
{
    /* Cut, then fsync: a crash between them leaves the torn end, which the
     * next appender finds and cuts again; never a cut into a whole record. */
    if (ftruncate(fd, (off_t)len) < 0 || fsync(fd) < 0)
        return -errno;
    return 0;
}

/* The folder part of `path` (a copy), for its fsync. */
static char *parent_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s == path ? strdup("/") : s ? strndup(path, (size_t)(s - path)) : strdup(".");
}

int bkp_durable_link(int fd, const char *tmp, const char *path)
{
    /*
     * The bytes are durable before the name appears (fsync, then link), and
     * link() fails when the name exists, so a reader of `path` sees a whole
     * file or none, and two publishers never replace each other. A kill
     * after the link and before the unlink leaves `tmp` beside the real
     * name: harmless, the caller's sweep removes it.
     */
    if (fsync(fd) < 0)
        return -errno;
    if (link(tmp, path) < 0)
        return -errno;
    (void)unlink(tmp);
    char *dir = parent_of(path);
    int rc = dir ? bkp_fsync_dir(dir) : -ENOMEM;
    free(dir);
    return rc;
}

int bkp_durable_link_name(const char *from, const char *to)
{
    if (link(from, to) < 0)
        return -errno;
    char *dir = parent_of(to);
    int rc = dir ? bkp_fsync_dir(dir) : -ENOMEM;
    free(dir);
    return rc;
}

int bkp_durable_rename(const char *from, const char *to, unsigned flags)
{
    /* The rename is atomic; only the folder's fsync makes it survive a crash
     * (before it, a crash may find the old name again, which every caller's
     * recovery treats as "the rename did not happen" and repeats). An
     * exchange is one atomic step too: a crash sees both old or both new. */
    int rc = (flags & BKP_DURABLE_EXCHANGE)
                 ? (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) < 0 ? -errno : 0)
             : (flags & BKP_DURABLE_NOREPLACE) ? rename_noreplace(from, to)
             : rename(from, to) < 0            ? -errno
                                               : 0;
    if (rc)
        return rc;
    char *td = parent_of(to), *fd = parent_of(from);
    rc = !td || !fd ? -ENOMEM : bkp_fsync_dir(td);
    if (!rc && strcmp(td, fd) != 0)
        rc = bkp_fsync_dir(fd);
    free(td);
    free(fd);
    return rc;
}

int bkp_durable_rename_at(int fromdir, const char *from, int todir, const char *to, unsigned flags)
{
    int rc = renameat2(fromdir, from, todir, to,
                       (flags & BKP_DURABLE_NOREPLACE) ? RENAME_NOREPLACE : 0) < 0
                 ? -errno
                 : 0;
    if (rc)
        return rc;
    rc = bkp_fsync_fd(todir);
    if (!rc && fromdir != todir)
        rc = bkp_fsync_fd(fromdir);
    return rc;
}

int bkp_durable_unlink_at(int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        return -errno;
    return bkp_fsync_fd(dirfd);
}

int bkp_durable_unlink(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, rc;
    free(dir);
    if (dfd < 0)
        return errno == ENOENT ? 0 : -(errno ? errno : ENOMEM);
    rc = bkp_durable_unlink_at(dfd, slash ? slash + 1 : path);
    close(dfd);
    return rc;
}

int bkp_dfile_sync(bkp_dfile *f)
{
    int rc = f->err;
    if (!rc && f->direct) {
        /* What the direct writer holds goes out; the rest of the file, if
         * any, is written the ordinary way. */
        rc = f->err = bkp_direct_end(f->direct);
        bkp_direct_free(f->direct);
        free(f->direct);
        f->direct = NULL;
    }
    if (!rc && fdatasync(f->fd) < 0)
        rc = -errno;
    if (!rc)
        (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED);
    return rc;
}
