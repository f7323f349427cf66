/*
 * pax.c — trees written as a pax archive on a source server, and the rule
 * each received entry is held to (pax.h).
 */
#include "bkp/capture/pax.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/capture/walk.h"
#include "bkp/io/archive_why.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/strmap.h"

/* The longest name the backup server takes (FORMAT.md §10: a path). */
#define PATH_LIMIT (1U << 20)
#define READ_BLOCK (1U << 20)

typedef struct sender {
    struct archive *disk, *w;
    struct archive_entry_linkresolver *links;
    bkp_pax_put put;
    void *ctx;
    int put_rc; /* why the last write failed */
    uint64_t *unreadable;
    bool proc_fd;
    uint8_t *buf;
} sender;

static la_ssize_t on_write(struct archive *a, void *arg, const void *buf, size_t len)
{
    sender *s = arg;
    int rc = s->put(s->ctx, buf, len);
    if (rc) {
        s->put_rc = rc;
        archive_set_error(a, -rc, "the backup server went away");
        return -1;
    }
    return (la_ssize_t)len;
}

static void unreadable(sender *s, const char *path, int err, const char *why)
{
    bkp_warn("%s: %s%s%s; it is left out", path, why ? why : bkp_strerror_en(err),
             why && err ? ": " : "", why && err ? bkp_strerror_en(err) : "");
    (*s->unreadable)++;
}

/* A regular file's `size` bytes from `fd` into the archive. A file that
 * shrank while it was read is padded with zeros to the size its header
 * gave (as tar does), and said. */
static int send_content(sender *s, const bkp_walk_entry *we, int fd, uint64_t size)
{
    uint64_t off = 0;
    int err = 0;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (off < size) {
        size_t want = size - off < READ_BLOCK ? (size_t)(size - off) : READ_BLOCK;
        ssize_t n = err ? 0 : pread(fd, s->buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!err) {
                err = n < 0 ? -errno : -ENODATA;
                bkp_warn("%s: %s at byte %llu; the rest is sent as zeros", we->path,
                         n < 0 ? bkp_strerror_en(err) : "it shrank while it was read",
                         (unsigned long long)off);
                if (n < 0)
                    (*s->unreadable)++;
            }
            memset(s->buf, 0, want);
            n = (ssize_t)want;
        }
        if (archive_write_data(s->w, s->buf, (size_t)n) != n)
            return s->put_rc ? s->put_rc : -EIO;
        off += (uint64_t)n;
    }
    return 0;
}

/* One walked path into the archive. Read through the walk's descriptors,
 * as a local capture reads (capture.c: describe), never by a name that a
 * folder swapped for a link could redirect. */
static int send_entry(sender *s, const bkp_walk_entry *we)
{
    bool reg = S_ISREG(we->st.st_mode), dir = S_ISDIR(we->st.st_mode), replaced = false;
    struct stat st = we->st;
    int fd = dir ? we->fd : -1, rc = 0;
    if (reg && (fd = bkp_walk_open_file(we, &st, &replaced)) < 0) {
        unreadable(s, we->path, fd, fd == -ESTALE ? "it was replaced while it was read" : NULL);
        return 0;
    }
    struct archive_entry *e = archive_entry_new(), *spare = NULL;
    char via[64 + NAME_MAX];
    const char *src = we->path;
    if (s->proc_fd && we->dirfd >= 0 && strlen(we->name) <= NAME_MAX) {
        if (we->fd >= 0)
            snprintf(via, sizeof(via), "/proc/self/fd/%d", we->fd);
        else
            snprintf(via, sizeof(via), "/proc/self/fd/%d/%s", we->dirfd, we->name);
        src = via;
    }
    if (!e) {
        rc = -ENOMEM;
        goto out;
    }
    archive_entry_copy_sourcepath(e, src);
    archive_entry_copy_pathname(e, we->path);
    int ar = archive_read_disk_entry_from_file(s->disk, e, fd, &st);
    char why[512];
    if (ar < ARCHIVE_WARN) {
        unreadable(s, we->path, bkp_archive_errno(s->disk), "cannot read its metadata");
        goto out;
    }
    if (ar == ARCHIVE_WARN)
        bkp_warn("%s: some of its metadata cannot be read%s; it is sent without it", we->path,
                 bkp_archive_why(s->disk, why, sizeof(why)));
    archive_entry_copy_sourcepath(e, NULL);
    archive_entry_copy_pathname(e, we->path[1] ? we->path + 1 : ".");
    if (reg && archive_entry_nlink(e) > 1)
        archive_entry_xattr_add_entry(e, BKP_PAX_LINKS, "1", 1);
    archive_entry_linkify(s->links, &e, &spare);
    if (!e)
        goto out; /* held back by the resolver: not with the tar strategy */
    ar = archive_write_header(s->w, e);
    if (ar == ARCHIVE_FATAL) {
        rc = s->put_rc ? s->put_rc : -EIO;
        goto out;
    }
    if (ar < ARCHIVE_WARN) {
        unreadable(s, we->path, 0, archive_error_string(s->w));
        goto out;
    }
    if (reg && !archive_entry_hardlink(e) && archive_entry_size(e) > 0)
        rc = send_content(s, we, fd, (uint64_t)archive_entry_size(e));
out:
    archive_entry_free(e);
    archive_entry_free(spare);
    if (reg && fd >= 0)
        close(fd);
    return rc;
}

static int send_root(sender *s, const char *root, const bkp_pax_send_opts *o)
{
    bkp_walk *w = NULL;
    bkp_walk_entry we;
    bool is_root = true;
    int rc = bkp_walk_open(root, o->one_fs, &w);
    while (!rc && (rc = bkp_walk_next(w, &we)) > 0) {
        rc = 0;
        if (we.err) {
            /* Gone since its folder was read: nothing to send. A root
             * that is not there is said. */
            if (we.err != -ENOENT || is_root)
                unreadable(s, we.path, we.err, NULL);
            is_root = false;
            continue;
        }
        is_root = false;
        if (bkp_walk_excluded(we.path, (const char *const *)o->exclude, o->nexclude))
            continue;
        if (S_ISDIR(we.st.st_mode))
            bkp_walk_descend(w);
        rc = send_entry(s, &we);
    }
    bkp_walk_free(w);
    return rc;
}

int bkp_pax_send(const bkp_pax_send_opts *o, bkp_pax_put put, void *ctx, uint64_t *count)
{
    sender s = {.put = put, .ctx = ctx, .unreadable = count};
    int rc = -ENOMEM;
    *count = 0;
    s.disk = archive_read_disk_new();
    s.w = archive_write_new();
    s.links = archive_entry_linkresolver_new();
    s.buf = malloc(READ_BLOCK);
    s.proc_fd = access("/proc/self/fd", X_OK) == 0;
    if (!s.disk || !s.w || !s.links || !s.buf)
        goto out;
    archive_read_disk_set_symlink_physical(s.disk);
    archive_read_disk_set_standard_lookup(s.disk);
    /* Dense: a hole crosses as zeros (the link compresses them). */
    archive_read_disk_set_behavior(s.disk, ARCHIVE_READDISK_NO_SPARSE);
    if (archive_write_set_format_pax(s.w) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(s.w, 0) != ARCHIVE_OK ||
        archive_write_open2(s.w, &s, NULL, on_write, NULL, NULL) != ARCHIVE_OK) {
        rc = s.put_rc ? s.put_rc : -EIO;
        goto out;
    }
    archive_entry_linkresolver_set_strategy(s.links, archive_format(s.w));
    rc = 0;
    for (size_t i = 0; !rc && i < o->nroots; i++)
        rc = send_root(&s, o->roots[i], o);
    if (!rc && archive_write_close(s.w) != ARCHIVE_OK)
        rc = s.put_rc ? s.put_rc : -EIO;
out:
    if (s.w)
        archive_write_free(s.w);
    if (s.disk)
        archive_read_free(s.disk);
    if (s.links)
        archive_entry_linkresolver_free(s.links);
    free(s.buf);
    return rc;
}

/* ---- the backup server's rule ---- */

int bkp_pax_check_init(bkp_pax_check *k, char *const *roots, size_t nroots)
{
    memset(k, 0, sizeof(*k));
    k->roots = roots;
    k->nroots = nroots;
    return bkp_strmap_new(NULL, &k->linked);
}

void bkp_pax_check_clear(bkp_pax_check *k)
{
    free(k->prev);
    bkp_strmap_free(k->linked);
    memset(k, 0, sizeof(*k));
}

/* `rel` checked as full_name says, made absolute. */
static int full_path(const char *rel, char **full)
{
    if (strcmp(rel, ".")) {
        for (const char *p = rel; *p;) {
            size_t n = strcspn(p, "/");
            if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                return -EBADMSG;
            p += n;
            if (*p && !*++p)
                return -EBADMSG; /* a trailing '/' */
        }
    }
    if (asprintf(full, "/%s", strcmp(rel, ".") ? rel : "") < 0) {
        *full = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* A name as the agent stores a walked path: "." for the root "/", else
 * relative, its parts neither empty nor "." nor ".." (a folder's with the
 * '/' tar ends it with when `dir`). Into `*full` (with its leading '/' and
 * without a trailing one, malloc'd): 0, -EBADMSG or -ENOMEM. */
static int full_name(const char *name, bool dir, char **full)
{
    *full = NULL;
    size_t len = name ? strlen(name) : 0;
    if (dir && len > 1 && name[len - 1] == '/')
        len--;
    if (!len || name[0] == '/' || len > PATH_LIMIT)
        return -EBADMSG;
    char *rel = strndup(name, len);
    if (!rel)
        return -ENOMEM;
    int rc = full_path(rel, full);
    free(rel);
    return rc;
}

/* Take the link mark off `e` (BKP_PAX_LINKS): whether it was there. The
 * other xattrs stay, in their order. */
static int unmark(struct archive_entry *e, bool *marked)
{
    *marked = false;
    if (archive_entry_xattr_reset(e) == 0)
        return 0;
    struct { char *name; void *value; size_t size; } *keep = NULL;
    size_t n = 0;
    const char *name;
    const void *value;
    size_t size;
    int rc = 0;
    while (!rc && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (!strcmp(name, BKP_PAX_LINKS)) {
            *marked = true;
            continue;
        }
        void *grown = realloc(keep, (n + 1) * sizeof(*keep));
        if (!grown) {
            rc = -ENOMEM;
            break;
        }
        keep = grown;
        keep[n].name = strdup(name);
        keep[n].value = malloc(size ? size : 1);
        keep[n].size = size;
        if (!keep[n].name || !keep[n].value)
            rc = -ENOMEM;
        else
            memcpy(keep[n].value, value, size);
        n++;
    }
    if (!rc && *marked) {
        archive_entry_xattr_clear(e);
        for (size_t i = 0; i < n; i++)
            archive_entry_xattr_add_entry(e, keep[i].name, keep[i].value, keep[i].size);
    }
    for (size_t i = 0; i < n; i++) {
        free(keep[i].name);
        free(keep[i].value);
    }
    free(keep);
    return rc;
}

static bool type_ok(mode_t t)
{
    return t == AE_IFREG || t == AE_IFDIR || t == AE_IFLNK || t == AE_IFCHR || t == AE_IFBLK ||
           t == AE_IFIFO || t == AE_IFSOCK;
}

int bkp_pax_check_entry(bkp_pax_check *k, struct archive_entry *e, const char **path,
                        const char **why)
{
    char *full, *target = NULL;
    const char *hl = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    bool marked;
    int rc = unmark(e, &marked);
    if (rc)
        return rc;
    rc = full_name(archive_entry_pathname(e), !hl && type == AE_IFDIR, &full);
    *why = N_("a name that is not a walked path's (empty, absolute, or with '.' or '..')");
    if (rc)
        return rc;
    /* Below the root the last entry was, or a later one: the roots are in
     * walk order, and so are the entries. */
    while (k->root < k->nroots && !bkp_walk_below(k->roots[k->root], full) &&
           bkp_walk_cmp(k->roots[k->root], full) < 0)
        k->root++;
    if (k->root == k->nroots || !bkp_walk_below(k->roots[k->root], full)) {
        *why = N_("a path outside the paths asked for");
        rc = -EBADMSG;
    } else if (k->prev && bkp_walk_cmp(k->prev, full) >= 0) {
        *why = N_("a path out of the walk's order, or sent twice");
        rc = -EBADMSG;
    } else if (!hl && !type_ok(type)) {
        *why = N_("an entry of no type a file system has");
        rc = -EBADMSG;
    } else if (!hl && type == AE_IFLNK && !archive_entry_symlink(e)) {
        *why = N_("a symbolic link without a target");
        rc = -EBADMSG;
    } else if (hl && ((rc = full_name(hl, false, &target)) || !bkp_strmap_get(k->linked, target))) {
        *why = N_("a hard link to no file of several links sent before it");
        rc = rc == -ENOMEM ? rc : -EBADMSG;
    } else if (!hl && type == AE_IFREG &&
               (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)) {
        *why = N_("a file without a size");
        rc = -EBADMSG;
    } else if (!hl && type == AE_IFREG && marked) {
        rc = bkp_strmap_put(k->linked, full, (void *)1);
    }
    free(target);
    if (rc) {
        free(full);
        return rc;
    }
    free(k->prev);
    k->prev = full;
    *path = full;
    *why = NULL;
    return 0;
}
