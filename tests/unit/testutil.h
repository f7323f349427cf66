/* Shared by the unit tests: removing a test's temporary directory. */
#ifndef BKP_TESTUTIL_H
#define BKP_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int testutil_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag, (void)ftw;
    /* A file a rotation sealed on a medium is immutable: cleared first. */
    if (S_ISREG(st->st_mode)) {
        int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), flags = 0;
        if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
            flags &= ~FS_IMMUTABLE_FL;
            (void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
        }
        if (fd >= 0)
            close(fd);
    }
    return remove(p);
}

/* rm -rf `dir` (read-only and immutable sealed files included: remove()
 * ignores modes as owner). */
static inline void test_rm_rf(const char *dir)
{
    if (dir && *dir)
        nftw(dir, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh folder `top` (/tmp/bkp-test-NAME-XXXXXX) holding two empty
 * folders, `box` (what a test confines to) and `outside` (what it must not
 * reach): 0, or -1 when they cannot be made. */
static inline int test_box(const char *name, char top[64], char box[128], char outside[128])
{
    snprintf(top, 64, "/tmp/bkp-test-%s-XXXXXX", name);
    if (!mkdtemp(top))
        return -1;
    snprintf(box, 128, "%s/box", top);
    snprintf(outside, 128, "%s/outside", top);
    return mkdir(box, 0700) || mkdir(outside, 0700) ? -1 : 0;
}

/* XOR the byte at `at` of `path` with `mask`, in place: 0, or -1. */
static inline int test_flip_byte(const char *path, long at, unsigned char mask)
{
    FILE *f = fopen(path, "r+b");
    int c = f && fseek(f, at, SEEK_SET) == 0 ? fgetc(f) : EOF;
    int rc = c != EOF && fseek(f, at, SEEK_SET) == 0 && fputc(c ^ mask, f) != EOF ? 0 : -1;
    if (f && fclose(f))
        rc = -1;
    return rc;
}

#endif
