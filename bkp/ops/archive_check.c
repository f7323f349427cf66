/* archive_check.c — see archive_check.h. */
#include "bkp/ops/archive_check.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/media/archive.h"
#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

const char *ops_staging_parent(const char *tmpdir)
{
    if (tmpdir && *tmpdir)
        return tmpdir;
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/var/tmp";
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether `name` is an archive's: NAME@SEQ.tar. A rotation's temporary
 * file (".tmp-HOST-PID-RANDOM") starts with a dot and is never one. */
static bool archive_name(const char *name)
{
    size_t l = strlen(name);
    return name[0] != '.' && strchr(name, '@') && l >= 5 && !strcmp(name + l - 4, ".tar");
}

int ops_archive_list(const char *dir, char ***names, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!d)
        return -errno;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!archive_name(e->d_name))
            continue;
        /* Every archive, or an error: a check never reads fewer, unsaid. */
        if (!(rc = bkp_grow(names, &cap, *n, sizeof(**names), 16)) &&
            !((*names)[*n] = strdup(e->d_name)))
            rc = -ENOMEM;
        *n += !rc;
    }
    closedir(d);
    if (rc) {
        bkp_strv_free(*names, *n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_name);
    return 0;
}

int ops_archive_check(const bkp_repo *primary, const char *path, const char *tmpdir, int workers,
                      bkp_verify_result *sum)
{
    const char *parent = ops_staging_parent(tmpdir);
    char *staging = NULL;
    bkp_repo *copy = NULL;
    bkp_verify_result res = {0};
    if (asprintf(&staging, "%s/bkp-check-XXXXXX", parent) < 0 || !mkdtemp(staging)) {
        bkp_error(_("cannot make a staging folder in %s to read the archive back; set TMPDIR"),
                  parent);
        free(staging);
        return -EIO;
    }
    /* Extracted, the archive is a repository of its own (bkp/media/archive.h)
     * sealed with the primary's keys: opened as a copy of it, every blob
     * is read and authenticated. */
    int rc = bkp_archive_extract_repo(path, staging);
    if (!rc)
        rc = bkp_repo_open_copy(staging, primary, BKP_REPO_READONLY, &copy);
    if (!rc)
        rc = bkp_verify(copy, true, workers, &res);
    if (rc >= 0 && sum) {
        sum->packs_read += res.packs_read;
        sum->blobs_read += res.blobs_read;
        sum->bytes_read += res.bytes_read;
    }
    if (rc == 0 && res.problems) {
        bkp_error(_("the archive %s does not verify when read back (above)"), path);
        rc = -EBADMSG;
    }
    bkp_verify_result_clear(&res);
    bkp_repo_free(copy);
    (void)bkp_remove_tree(staging);
    free(staging);
    return rc;
}

int ops_archive_verify(const bkp_repo *primary, const char *medium, const char *dir,
                       const char *tmpdir, int workers, bkp_verify_result *res)
{
    char **names = NULL;
    size_t n = 0;
    int rc = ops_archive_list(dir, &names, &n), bad = 0;
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; !rc && i < n; i++) {
        char *p = bkp_path_join(dir, names[i]);
        int r = p ? ops_archive_check(primary, p, tmpdir, workers, res) : -ENOMEM;
        if (r) {
            bad++;
            bkp_error(_("%s: the archive %s does not verify"), medium, names[i]);
        }
        free(p);
    }
    res->generations = n;
    res->problems = (uint64_t)bad;
    bkp_strv_free(names, n);
    return rc;
}

int ops_archive_device(const char *path, const char *medium, int *fd)
{
    int rc = bkp_archive_device_open(path, fd);
    if (rc == -EBUSY)
        bkp_error(_("%s: the device %s is in use (a mounted file system?): archives go to a tape "
                    "drive or to a disk device nothing else uses; nothing was written"),
                  medium, path);
    else if (rc == -ENOTTY || rc == -ENODEV)
        bkp_error(_("%s: %s is not a tape drive (a character device that answers as a tape, "
                    "such as /dev/nst0) nor a disk device: what is written there would not be "
                    "kept; nothing was written"),
                  medium, path);
    else if (rc)
        bkp_error(_("%s: cannot open the device %s: %s"), medium, path, bkp_strerror(rc));
    return rc;
}
