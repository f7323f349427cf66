/* Shared by the unit tests: removing a test's temporary directory. */
#ifndef BKP_TESTUTIL_H
#define BKP_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int testutil_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* rm -rf `dir` (read-only sealed files included: remove() ignores modes as owner). */
static inline void test_rm_rf(const char *dir)
{
    if (dir && *dir)
        nftw(dir, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
