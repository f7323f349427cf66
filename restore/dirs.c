/* dirs.c — folders made and finished by descriptor (dirs.h). */
#include "restore/dirs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "restore/folder.h"
#include "restore/plain.h"

typedef struct late_dir {
    char *path;
    rst_plain_meta meta;
    dev_t dev; /* the folder made (0 for a deep one: archive_write_disk's) */
    ino_t ino;
} late_dir;

typedef struct open_dir {
    char *path; /* owned */
    size_t len;
    int fd;
} open_dir;

struct rst_dirs {
    int root;
    struct archive *a;
    int flags;
    open_dir open[RST_DIRS_OPEN]; /* the last folders made, each in the one before */
    unsigned depth;
    late_dir *made, *deep;
    size_t nmade, ndeep, capmade, capdeep;
};

rst_dirs *rst_dirs_new(int root, struct archive *a, int flags)
{
    rst_dirs *d = calloc(1, sizeof(*d));
    if (d) {
        d->root = root;
        d->a = a;
        d->flags = flags;
    }
    return d;
}

bool rst_dirs_takes(const rst_dirs *d, const bkp_item *it, const char *path)
{
    return rst_plain_dir_fits(it, d->flags) && strlen(path) < PATH_MAX - 256 &&
           (rst_folder_plain_path(path) || !strcmp(path, "."));
}

static void close_top(rst_dirs *d)
{
    open_dir *o = &d->open[--d->depth];
    close(o->fd);
    free(o->path);
}

/* Is `path` below the open folder `o`? */
static bool below(const char *path, const open_dir *o)
{
    return strncmp(path, o->path, o->len) == 0 && path[o->len] == '/';
}

static int remember(late_dir **v, size_t *n, size_t *cap, struct archive *a, int flags,
                    const bkp_item *it, const char *path)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        late_dir *nv = realloc(*v, c * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = c;
    }
    late_dir *l = &(*v)[*n];
    if (!(l->path = strdup(path)))
        return -ENOMEM;
    rst_plain_meta_of(a, flags, it, &l->meta);
    l->dev = 0;
    l->ino = 0;
    (*n)++;
    return 0;
}

int rst_dirs_make(rst_dirs *d, const bkp_item *it, const char *path)
{
    /* The target itself (a stored folder restored into it): nothing to
     * make; finished last, after everything written in it. */
    if (!strcmp(path, ".")) {
        struct stat st;
        int rc = fstat(d->root, &st) < 0
                     ? -errno
                     : remember(&d->made, &d->nmade, &d->capmade, d->a, d->flags, it, path);
        if (!rc) {
            d->made[d->nmade - 1].dev = st.st_dev;
            d->made[d->nmade - 1].ino = st.st_ino;
        }
        return rc;
    }
    const char *slash = strrchr(path, '/');
    size_t plen = slash ? (size_t)(slash - path) : 0;
    int parent = d->root, fd, rc = 0;
    bool own = false;
    /* The item list is in walk order: folders no longer above this one
     * are done with. */
    while (d->depth && !below(path, &d->open[d->depth - 1]))
        close_top(d);
    if (plen && d->depth && d->open[d->depth - 1].len == plen) {
        parent = d->open[d->depth - 1].fd;
    } else if (plen) {
        char *p = strndup(path, plen);
        rc = p ? rst_folder_open(d->root, p, &parent) : -ENOMEM;
        own = !rc;
        free(p);
    }
    fd = rc ? rc : rst_plain_mkdir(parent, slash ? slash + 1 : path);
    if (own)
        close(parent);
    if (fd < 0)
        return fd;
    /* Remembered before anything is put in it: if that fails, the folder
     * stays 0700 and is reported, never left looking finished. Which folder
     * it is (device and inode) is remembered too: one moved away during
     * the restore and replaced by another is reported, not finished. */
    struct stat st;
    rc = fstat(fd, &st) < 0 ? -errno
                            : remember(&d->made, &d->nmade, &d->capmade, d->a, d->flags, it, path);
    if (!rc) {
        d->made[d->nmade - 1].dev = st.st_dev;
        d->made[d->nmade - 1].ino = st.st_ino;
    }
    if (!rc && d->depth < RST_DIRS_OPEN && (d->open[d->depth].path = strdup(path))) {
        d->open[d->depth].len = strlen(path);
        d->open[d->depth].fd = fd;
        d->depth++;
    } else {
        close(fd);
    }
    return rc;
}

void rst_dirs_add_deep(rst_dirs *d, const bkp_item *it, const char *path)
{
    if (remember(&d->deep, &d->ndeep, &d->capdeep, d->a, d->flags, it, path))
        bkp_warn(_("%s: out of memory; its owner, mode and times may not be restored"), path);
}

/* Last made, first finished: a folder's children come after it in the
 * list, so they are finished before it, while it can still be entered.
 * Each is entered again beneath the target without following a link and
 * without making anything: a folder that is gone, or that is not the one
 * made (moved away during the restore, another put in its place), is
 * reported and left as it is. */
static size_t finish(rst_dirs *d, late_dir *v, size_t n, bool deep)
{
    size_t failed = 0;
    for (size_t i = n; i-- > 0;) {
        int fd = -1;
        struct stat st;
        int rc = deep ? bkp_open_deep(d->root, v[i].path, O_RDONLY | O_DIRECTORY)
                      : rst_folder_enter(d->root, v[i].path, &fd);
        if (deep)
            fd = rc, rc = rc < 0 ? rc : 0;
        if (!rc && v[i].ino && (fstat(fd, &st) < 0 || st.st_dev != v[i].dev ||
                                st.st_ino != v[i].ino)) {
            bkp_error(_("%s: the folder was moved or replaced during the restore; its owner, "
                        "mode and times are not set: check the target"),
                      v[i].path);
            close(fd);
            failed++;
            continue;
        }
        if (rc) {
            bkp_error(_("%s: cannot enter it to set its owner, mode and times: %s"), v[i].path,
                      bkp_strerror(rc));
            failed++;
            continue;
        }
        rst_plain_apply(d->flags, fd, &v[i].meta, v[i].path);
        close(fd);
    }
    return failed;
}

size_t rst_dirs_finish(rst_dirs *d)
{
    while (d->depth)
        close_top(d);
    return finish(d, d->made, d->nmade, false);
}

size_t rst_dirs_finish_deep(rst_dirs *d)
{
    return finish(d, d->deep, d->ndeep, true);
}

void rst_dirs_free(rst_dirs *d)
{
    if (!d)
        return;
    while (d->depth)
        close_top(d);
    for (size_t i = 0; i < d->nmade; i++)
        free(d->made[i].path);
    for (size_t i = 0; i < d->ndeep; i++)
        free(d->deep[i].path);
    free(d->made);
    free(d->deep);
    free(d);
}
