/*
 * bkp mount [GEN|DATASET] MOUNTPOINT — generations as read-only folders,
 * through FUSE (libfuse3), until SIGINT, SIGTERM or umount. This file is
 * only the glue between the kernel's calls and restore/browse.h, which does
 * the work (and is unit-tested without FUSE).
 *
 * Mount options, and why:
 * - `ro`, and every call that would change anything answers EROFS: a
 *   generation is sealed, and the kernel refuses writes before asking us.
 * - `default_permissions`: files keep their stored owner, group and mode,
 *   and the kernel enforces them. Without `--allow-other` only the user who
 *   mounted (root, the operator) reaches the mount at all; with it, each
 *   user reads only what the original files let them read — without
 *   `default_permissions`, any user could read every patient's file.
 * - never `allow_other` unless asked (`--allow-other`).
 * - `kernel_cache`: a stored file never changes, so the kernel may keep
 *   what it read; a read that failed authentication is never cached.
 * The kernel is served from one thread: browse.h handles are not
 * thread-safe, and the bound on memory stays that of one reader.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/cli/cli.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "restore/browse.h"

static rst_browse *view(void)
{
    return fuse_get_context()->private_data;
}

static void *m_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->kernel_cache = 1;
    cfg->entry_timeout = cfg->attr_timeout = 60;
    return view();
}

static int m_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    rst_node *n = fi ? (rst_node *)(uintptr_t)fi->fh : NULL;
    int rc = n ? 0 : rst_browse_lookup(view(), path, &n);
    if (!rc)
        rst_browse_stat(n, st);
    return rc;
}

static int m_readlink(const char *path, char *buf, size_t size)
{
    rst_node *n;
    int rc = rst_browse_lookup(view(), path, &n);
    const char *t = rc ? NULL : rst_browse_link(n);
    if (rc || !t)
        return rc ? rc : -EINVAL;
    size_t k = strlen(t) < size - 1 ? strlen(t) : size - 1;
    memcpy(buf, t, k);
    buf[k] = '\0';
    return 0;
}

static int m_open(const char *path, struct fuse_file_info *fi)
{
    rst_node *n;
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        return -EROFS;
    int rc = rst_browse_lookup(view(), path, &n);
    if (!rc)
        rc = rst_browse_open(view(), n);
    if (rc)
        return rc;
    fi->fh = (uint64_t)(uintptr_t)n;
    fi->keep_cache = 1;
    return 0;
}

static int m_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    if (off < 0)
        return -EINVAL;
    /* The kernel asks for at most 128 KiB at a time: the count fits an int. */
    return (int)rst_browse_read(view(), (rst_node *)(uintptr_t)fi->fh, (uint64_t)off, buf, size);
}

static int m_opendir(const char *path, struct fuse_file_info *fi)
{
    rst_node *n;
    struct stat st;
    int rc = rst_browse_lookup(view(), path, &n);
    if (rc)
        return rc;
    rst_browse_stat(n, &st);
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    fi->fh = (uint64_t)(uintptr_t)n;
    return 0;
}

typedef struct filling {
    void *buf;
    fuse_fill_dir_t fill;
} filling;

static int fill_one(const char *name, const struct stat *st, void *ctx)
{
    filling *f = ctx;
    return f->fill(f->buf, name, st, 0, 0) ? 1 : 0;
}

static int m_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                     struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)path, (void)off, (void)flags;
    filling f = {.buf = buf, .fill = fill};
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    int rc = rst_browse_list(view(), (rst_node *)(uintptr_t)fi->fh, fill_one, &f);
    return rc < 0 ? rc : 0; /* 1: the kernel's buffer is full; it asks again */
}

/* Every call that would change something: the mount is read-only. */
static int ro_mkdir(const char *p, mode_t m)
{
    return -EROFS;
}
static int ro_unlink(const char *p)
{
    return -EROFS;
}
static int ro_link2(const char *a, const char *b)
{
    return -EROFS;
}
static int ro_rename(const char *a, const char *b, unsigned f)
{
    return -EROFS;
}
static int ro_chmod(const char *p, mode_t m, struct fuse_file_info *fi)
{
    return -EROFS;
}
static int ro_chown(const char *p, uid_t u, gid_t g, struct fuse_file_info *fi)
{
    return -EROFS;
}
static int ro_truncate(const char *p, off_t o, struct fuse_file_info *fi)
{
    return -EROFS;
}
static int ro_write(const char *p, const char *b, size_t s, off_t o, struct fuse_file_info *fi)
{
    return -EROFS;
}
static int ro_create(const char *p, mode_t m, struct fuse_file_info *fi)
{
    return -EROFS;
}
static int ro_utimens(const char *p, const struct timespec tv[2], struct fuse_file_info *fi)
{
    return -EROFS;
}
static int ro_mknod(const char *p, mode_t m, dev_t d)
{
    return -EROFS;
}
static int ro_setxattr(const char *p, const char *n, const char *v, size_t s, int f)
{
    return -EROFS;
}
static int ro_removexattr(const char *p, const char *n)
{
    return -EROFS;
}
static int ro_fallocate(const char *p, int m, off_t o, off_t l, struct fuse_file_info *fi)
{
    return -EROFS;
}

static const struct fuse_operations ops = {
    .init = m_init,
    .getattr = m_getattr,
    .readlink = m_readlink,
    .open = m_open,
    .read = m_read,
    .opendir = m_opendir,
    .readdir = m_readdir,
    .mkdir = ro_mkdir,
    .unlink = ro_unlink,
    .rmdir = ro_unlink,
    .symlink = ro_link2,
    .link = ro_link2,
    .rename = ro_rename,
    .chmod = ro_chmod,
    .chown = ro_chown,
    .truncate = ro_truncate,
    .write = ro_write,
    .create = ro_create,
    .utimens = ro_utimens,
    .mknod = ro_mknod,
    .setxattr = ro_setxattr,
    .removexattr = ro_removexattr,
    .fallocate = ro_fallocate,
};

/* The options of the mount (the header says why each). */
static int mount_args(cli *c, struct fuse_args *args)
{
    char opts[160];
    snprintf(opts, sizeof(opts), "ro,default_permissions,fsname=bkp,subtype=bkp%s",
             c->allow_other ? ",allow_other" : "");
    return fuse_opt_add_arg(args, "bkp") || fuse_opt_add_arg(args, "-o") ||
                   fuse_opt_add_arg(args, opts)
               ? -ENOMEM
               : 0;
}

/* Serve the kernel until SIGINT, SIGTERM, SIGHUP or umount: an exit code. */
static int serve(cli *c, rst_browse *b, const char *at)
{
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse *f = NULL;
    int ex = EXIT_FAILED;
    if (mount_args(c, &args) || !(f = fuse_new(&args, &ops, sizeof(ops), b))) {
        bkp_error(_("cannot prepare the mount (FUSE): out of memory or a libfuse3 that does not "
                    "take these options"));
        goto out;
    }
    if (fuse_mount(f, at)) {
        bkp_error(
            _("cannot mount at %s: it must be an empty folder not in use, /dev/fuse must "
              "exist (modprobe fuse) and you must be allowed to mount (root, or fusermount3)"),
            at);
        goto out;
    }
    /* libfuse leaves a signal that was ignored alone, and a program started
     * in the background by a shell ignores SIGINT: the mount must end on
     * Ctrl-C and SIGTERM however it was started, unmounted cleanly. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    struct fuse_session *se = fuse_get_session(f);
    if (fuse_set_signal_handlers(se)) {
        fuse_unmount(f);
        goto out;
    }
    bkp_info(_("mounted read-only at %s; `umount %s` (or Ctrl-C here) ends it"), at, at);
    /* 0 after umount; the number of the signal after SIGINT, SIGTERM or
     * SIGHUP (libfuse's handlers); negative on a failure of /dev/fuse. */
    int rc = fuse_loop(f);
    fuse_remove_signal_handlers(se);
    fuse_unmount(f);
    if (rc < 0)
        bkp_error(_("the mount at %s stopped on an error: %s"), at, bkp_strerror(rc));
    ex = rc < 0 ? EXIT_FAILED : EXIT_OK;
out:
    if (f)
        fuse_destroy(f);
    fuse_opt_free_args(&args);
    return ex;
}

int cmd_mount(cli *c)
{
    const char *spec = c->nargs == 2 ? c->args[0] : NULL, *at = c->args[c->nargs - 1];
    const char *repo = cli_repo_path(c);
    struct stat st;
    if (!repo)
        return EXIT_USAGE;
    if (stat(at, &st) || !S_ISDIR(st.st_mode)) {
        bkp_error(_("%s is not a folder: make an empty one (mkdir %s) and mount there"), at, at);
        return EXIT_USAGE;
    }
    /* The lock a restore takes, before the open: a backup or a restore
     * elsewhere goes on, a prune waits until the mount ends. */
    bkp_lock *reading = NULL;
    rst_browse *b = NULL;
    int ex = cli_read_lock(c, repo, &reading);
    bkp_repo *h = NULL;
    if (!ex && !(ex = cli_open_repo(c, BKP_REPO_READONLY, &h))) {
        cli_keep(h);
        c->ro = h;
    }
    if (!ex) {
        int rc = rst_browse_new(c->ro, spec, &b);
        ex = rc ? cli_exit_for(rc) : serve(c, b, at);
    }
    rst_browse_free(b);
    bkp_lock_release(reading);
    return ex;
}
