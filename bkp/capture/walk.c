#include "bkp/capture/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <sys/xattr.h>

#include "bkp/io/bytes.h"

/* Directories of the current path held open. A deeper tree would run out of
 * descriptors (the soft limit is often 1024, and anyone who can write below
 * a root can make a tree that deep): the folders above these are closed and
 * opened again when the walk comes back up (through ".." of their child, or
 * name by name from above), each checked to be the same folder. */
#define OPEN_LEVELS 64

/* One directory on the current path: its sorted names, and where we are. */
typedef struct level {
    int fd;    /* -1: closed to save descriptors, see OPEN_LEVELS */
    int err;   /* it could not be opened again: its rest is not walked */
    dev_t dev; /* what it was, to open it again */
    ino_t ino;
    char *names;    /* NUL-separated */
    size_t *offs;   /* into names, sorted */
    size_t n, next; /* count, index of the next name */
    size_t pathlen; /* length of the directory's path in w->path */
} level;

struct bkp_walk {
    level *stack;
    size_t depth, cap;
    bkp_buf path;
    char *root;
    int root_dirfd;        /* where the root is opened from (AT_FDCWD: by its path) */
    const char *root_name; /* its name there */
    bool root_done, one_fs;
    dev_t root_dev;
    bool pending;         /* the entry last returned is a directory ... */
    int pending_fd;       /* ... open as this (-1: it could not be opened, */
    int pending_err;      /* ... for this reason) */
    bool descend;         /* ... and whether it is to be entered */
    bool pending_foreign; /* ... on another file system, with one_fs */
    size_t pending_len;
};

int bkp_walk_cmpn(const char *a, size_t an, const char *b, size_t bn)
{
    /* A walk finishes a directory's name before any longer name with the
     * same start: '/' (the end of a component) sorts before every byte. */
    size_t n = an < bn ? an : bn, i = 0;
    /* Paths of one walk share long starts: skip the equal bytes eight at a
     * time (the files cache and the sort of every folder compare here). */
    while (i + 8 <= n) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            break;
        i += 8;
    }
    for (; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == y)
            continue;
        if (x == '/' || y == '/')
            return x == '/' ? -1 : 1;
        return x < y ? -1 : 1;
    }
    return an == bn ? 0 : an < bn ? -1 : 1;
}

int bkp_walk_cmp(const char *a, const char *b)
{
    return bkp_walk_cmpn(a, strlen(a), b, strlen(b));
}

bool bkp_walk_below(const char *a, const char *b)
{
    size_t n = strlen(a);
    return !strncmp(a, b, n) && (b[n] == '/' || !b[n] || (n == 1 && a[0] == '/'));
}

int bkp_walk_open(const char *root, bool one_fs, bkp_walk **out)
{
    return bkp_walk_open_at(AT_FDCWD, NULL, root, one_fs, out);
}

int bkp_walk_open_at(int dirfd, const char *name, const char *root, bool one_fs, bkp_walk **out)
{
    bkp_walk *w = calloc(1, sizeof(*w));
    if (!w || !(w->root = strdup(root))) {
        free(w);
        return -ENOMEM;
    }
    w->root_dirfd = dirfd;
    w->root_name = name ? name : w->root;
    bkp_buf_init(&w->path);
    w->one_fs = one_fs;
    w->pending_fd = -1;
    *out = w;
    return 0;
}

static bool same_dir(int fd, const level *l)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino;
}

/* The name of level `i` in its parent (the root's path for level 0). */
static const char *level_name(const bkp_walk *w, size_t i)
{
    const level *p = &w->stack[i - (i > 0)];
    return i ? p->names + p->offs[p->next - 1] : w->root_name;
}

/* Open closed level `k` from its nearest open ancestor (or the root's
 * path), name by name, no link followed, each step the folder it was. */
static int reopen_by_names(bkp_walk *w, size_t k)
{
    size_t j = k;
    while (j > 0 && w->stack[j - 1].fd < 0)
        j--;
    int dfd = j ? w->stack[j - 1].fd : w->root_dirfd, own = -1;
    for (size_t i = j; i <= k; i++) {
        int fd = openat(dfd, level_name(w, i), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = fd < 0 ? -errno : same_dir(fd, &w->stack[i]) ? 0 : -ESTALE;
        if (own >= 0)
            close(own);
        if (err) {
            if (fd >= 0)
                close(fd);
            return err;
        }
        own = dfd = fd;
    }
    return own;
}

/* Open again the closed folder now on top of the stack: ".." of the child
 * just left (`child`, still open) when that is still the folder, else by
 * its names. A folder moved meanwhile is not the same any more: the rest
 * of it is reported, not walked elsewhere. */
static void reopen_top(bkp_walk *w, int child)
{
    level *l = &w->stack[w->depth - 1];
    int fd = child >= 0 ? openat(child, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0 && !same_dir(fd, l)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        fd = reopen_by_names(w, w->depth - 1);
    l->fd = fd;
    if (fd < 0) {
        l->fd = -1;
        l->err = fd;
        l->next = l->n;
    }
}

/* Leave the folder on top; with `up`, the walk goes on in its parent. */
static void pop(bkp_walk *w, bool up)
{
    level *l = &w->stack[--w->depth];
    if (up && w->depth && w->stack[w->depth - 1].fd < 0 && !w->stack[w->depth - 1].err)
        reopen_top(w, l->fd);
    if (l->fd >= 0)
        close(l->fd);
    free(l->names);
    free(l->offs);
}

void bkp_walk_free(bkp_walk *w)
{
    if (!w)
        return;
    if (w->pending_fd >= 0)
        close(w->pending_fd);
    while (w->depth)
        pop(w, false);
    free(w->stack);
    free(w->root);
    bkp_buf_free(&w->path);
    free(w);
}

void bkp_walk_descend(bkp_walk *w)
{
    w->descend = w->pending;
}

/* Offsets into the folder's names (`base`), by name. */
static int by_name(const void *a, const void *b, void *base)
{
    return strcmp((const char *)base + *(const size_t *)a, (const char *)base + *(const size_t *)b);
}

/* Read the names of the directory open as `fd` (taken) onto the stack. */
static int push(bkp_walk *w, int fd, size_t pathlen)
{
    level l = {.fd = fd, .pathlen = pathlen};
    bkp_buf names;
    bkp_buf_init(&names);
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        int rc = -errno;
        if (dfd >= 0)
            close(dfd);
        close(fd);
        return rc;
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        bkp_buf_put(&names, de->d_name, strlen(de->d_name) + 1);
        l.n++;
    }
    int rc = errno ? -errno : names.failed ? -ENOMEM : 0;
    closedir(d);
    if (!rc && l.n && !(l.offs = malloc(l.n * sizeof(*l.offs))))
        rc = -ENOMEM;
    if (!rc && w->depth == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        level *s = realloc(w->stack, cap * sizeof(*s));
        if (!s)
            rc = -ENOMEM;
        else {
            w->stack = s;
            w->cap = cap;
        }
    }
    if (rc) {
        free(l.offs);
        bkp_buf_free(&names);
        close(fd);
        return rc;
    }
    for (size_t i = 0, off = 0; i < l.n; i++) {
        l.offs[i] = off;
        off += strlen((char *)names.data + off) + 1;
    }
    l.names = (char *)names.data;
    if (l.n > 1) /* several walks at once (`bkp run`): the names go with the call */
        qsort_r(l.offs, l.n, sizeof(*l.offs), by_name, l.names);
    w->stack[w->depth++] = l;
    /* Keep the descriptors of the last OPEN_LEVELS folders only. */
    if (w->depth > OPEN_LEVELS) {
        level *old = &w->stack[w->depth - 1 - OPEN_LEVELS];
        struct stat st;
        if (old->fd >= 0 && fstat(old->fd, &st) == 0) {
            old->dev = st.st_dev;
            old->ino = st.st_ino;
            close(old->fd);
            old->fd = -1;
        }
    }
    return 0;
}

/* Fill `e` for `name` in `dirfd`, whose path is w->path. */
static void stat_entry(bkp_walk *w, int dirfd, const char *name, bkp_walk_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->path = (const char *)w->path.data;
    e->name = name;
    e->dirfd = dirfd;
    e->fd = -1;
    if (fstatat(dirfd, name, &e->st, AT_SYMLINK_NOFOLLOW) != 0) {
        e->err = -errno;
        return;
    }
    if (!S_ISDIR(e->st.st_mode))
        return;
    /* O_NOFOLLOW: a folder swapped for a link after the stat is not entered.
     * The descriptor serves both the folder's own metadata and its walk. */
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat now;
    if (fd >= 0 &&
        (fstat(fd, &now) != 0 || now.st_ino != e->st.st_ino || now.st_dev != e->st.st_dev)) {
        close(fd);
        fd = -1;
        errno = ESTALE;
    }
    /* A folder that cannot be opened is still returned (its stat is all
     * the metadata it gets); entering it reports why it cannot be read. */
    w->pending_err = fd < 0 ? -errno : 0;
    w->pending = true;
    e->fd = w->pending_fd = fd;
    w->pending_len = w->path.len - 1;
}

/* The error entry for the folder last returned, which cannot be read. */
static int folder_error(bkp_walk *w, bkp_walk_entry *e, int err)
{
    w->path.len = w->pending_len + 1;
    memset(e, 0, sizeof(*e));
    e->path = (const char *)w->path.data;
    e->fd = -1;
    e->err = err;
    return 1;
}

int bkp_walk_next(bkp_walk *w, bkp_walk_entry *e)
{
    if (w->pending) {
        int fd = w->pending_fd, err = w->pending_err;
        bool in = w->descend && !w->pending_foreign;
        w->pending = w->descend = false;
        w->pending_fd = -1;
        if (in && fd < 0)
            return folder_error(w, e, err);
        if (in && (err = push(w, fd, w->pending_len)))
            return folder_error(w, e, err);
        if (!in && fd >= 0)
            close(fd);
    }
    if (!w->root_done) {
        w->root_done = true;
        bkp_buf_put(&w->path, w->root, strlen(w->root) + 1);
        if (w->path.failed)
            return -ENOMEM;
        stat_entry(w, w->root_dirfd, w->root_name, e);
        w->root_dev = e->st.st_dev;
        return 1;
    }
    while (w->depth) {
        level *l = &w->stack[w->depth - 1];
        if (l->err) {
            /* Its folder was moved while we were below it. */
            int err = l->err;
            l->err = 0;
            w->path.len = l->pathlen;
            bkp_buf_u8(&w->path, 0);
            if (w->path.failed)
                return -ENOMEM;
            memset(e, 0, sizeof(*e));
            e->path = (const char *)w->path.data;
            e->fd = -1;
            e->err = err;
            return 1;
        }
        if (l->next == l->n) {
            pop(w, true);
            continue;
        }
        const char *name = l->names + l->offs[l->next++];
        w->path.len = l->pathlen;
        if (l->pathlen != 1) /* the root "/" ends in its separator already */
            bkp_buf_u8(&w->path, '/');
        bkp_buf_put(&w->path, name, strlen(name) + 1);
        if (w->path.failed)
            return -ENOMEM;
        stat_entry(w, l->fd, name, e);
        /* Another file system: returned, not entered. */
        w->pending_foreign = e->fd >= 0 && w->one_fs && e->st.st_dev != w->root_dev;
        return 1;
    }
    return 0;
}

char *bkp_walk_root(const char *p)
{
    char cwd[PATH_MAX];
    bkp_buf b;
    bkp_buf_init(&b);
    if (p[0] != '/') {
        if (!getcwd(cwd, sizeof(cwd)))
            return NULL;
        bkp_buf_put(&b, cwd, strlen(cwd));
    }
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = strchrnul(s, '/');
        size_t n = (size_t)(e - s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (b.len && b.data[b.len - 1] != '/')
                b.len--;
            if (b.len)
                b.len--;
        } else {
            bkp_buf_u8(&b, '/');
            bkp_buf_put(&b, s, n);
        }
        s = e;
    }
    if (!b.len)
        bkp_buf_u8(&b, '/');
    bkp_buf_u8(&b, 0);
    if (b.failed) {
        bkp_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

bool bkp_walk_excluded(const char *path, const char *const *patterns, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base && base[1] ? base + 1 : path;
    for (size_t i = 0; i < n; i++) {
        const char *pat = patterns[i];
        if (strchr(pat, '/') ? fnmatch(pat, path, FNM_PATHNAME) == 0 : fnmatch(pat, base, 0) == 0)
            return true;
    }
    return false;
}

/* O_NOATIME where we may (the owner, root): a backup leaves atimes alone. */
int bkp_walk_open_file(const bkp_walk_entry *we, struct stat *now, bool *replaced)
{
    int fl = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = openat(we->dirfd, we->name, fl | O_NOATIME);
    if (fd < 0 && errno == EPERM) /* O_NOATIME is for the owner (and root) only */
        fd = openat(we->dirfd, we->name, fl);
    if (fd < 0)
        return -errno;
    if (fstat(fd, now) != 0 || !S_ISREG(now->st_mode)) {
        close(fd);
        return -ESTALE;
    }
    *replaced = now->st_ino != we->st.st_ino || now->st_dev != we->st.st_dev;
    return fd;
}

#define ZFS_MAGIC 0x2FC12FC1 /* not in linux/magic.h */

bool bkp_walk_bare(int fd, dev_t dev, bkp_acl_memo *memo)
{
    if (fd < 0)
        return false;
    if (!memo->known || memo->dev != dev) {
        struct statfs fs;
        long t = fstatfs(fd, &fs) == 0 ? (long)fs.f_type : 0;
        memo->dev = dev;
        memo->known = true;
        memo->lists = t == EXT4_SUPER_MAGIC || t == XFS_SUPER_MAGIC || t == BTRFS_SUPER_MAGIC ||
                      t == TMPFS_MAGIC || t == F2FS_SUPER_MAGIC || t == ZFS_MAGIC ||
                      t == OVERLAYFS_SUPER_MAGIC;
    }
    return memo->lists && flistxattr(fd, NULL, 0) == 0;
}
