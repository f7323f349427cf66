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
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/capture/walk.h"
#include "bkp/host/wire.h"
#include "bkp/io/archive_why.h"
#include "bkp/io/bytes.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/strmap.h"

/* The longest name the backup server takes (FORMAT.md §10: a path). */
#define PATH_LIMIT (1U << 20)
#define READ_BLOCK (1U << 20)

/* What the backup server holds, read as the walk needs it: the records of
 * its stamps frames merged with the walk, both in walk order. */
typedef struct stamps {
    int fd; /* -1: none, used up, or given up */
    bkp_wire_frame f;
    bkp_rd rd;
    bkp_wire_stamp cur;
    bool have;
    bkp_buf prev; /* the path of the record before `cur` */
} stamps;

typedef struct sender {
    struct archive *disk, *w;
    struct archive_entry_linkresolver *links;
    bkp_pax_put put;
    void *ctx;
    int put_rc; /* why the last write failed */
    bkp_pax_sent *sent;
    const bkp_pax_send_opts *o;
    int left_rc; /* the first failure of o->left */
    bool proc_fd;
    bkp_acl_memo acl_memo; /* whether the file system lists ACLs (walk.h) */
    uint8_t *buf;
    stamps st;
    int64_t started; /* the walk's start by this server's clock, ns */
} sender;

static int64_t ns_of(const struct timespec *t)
{
    return t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Changed within 2 s of the walk, by this server's clock (BKP_PAX_RACY)? */
static bool racy(const sender *s, const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t lo = s->started - 2000000000LL, hi = ns_of(&now) + 2000000000LL;
    int64_t m = ns_of(&st->st_mtim), c = ns_of(&st->st_ctim);
    return (m >= lo && m <= hi) || (c >= lo && c <= hi);
}

static void stamps_give_up(stamps *s, const char *why)
{
    bkp_warn("what the backup server holds is not used: %s; the files from here on are sent "
             "whole",
             why);
    s->fd = -1;
    s->have = false;
}

/* The next record into s->cur, or none at the input's end. */
static void stamps_next(stamps *s)
{
    if (s->have) {
        bkp_buf_reset(&s->prev);
        bkp_buf_put(&s->prev, s->cur.path, s->cur.plen);
    }
    s->have = false;
    while (s->fd >= 0) {
        int rc = bkp_wire_stamp_get(&s->rd, &s->cur);
        if (rc < 0) {
            stamps_give_up(s, "a record out of shape");
            return;
        }
        if (rc > 0) {
            if (s->prev.len && bkp_walk_cmpn((const char *)s->prev.data, s->prev.len, s->cur.path,
                                             s->cur.plen) >= 0) {
                stamps_give_up(s, "records out of order");
                return;
            }
            s->have = true;
            return;
        }
        rc = bkp_wire_recv(s->fd, &s->f);
        if (rc == 1) {
            s->fd = -1; /* all of them */
            return;
        }
        if (rc || s->f.type != BKP_WIRE_STAMPS) {
            stamps_give_up(s, rc ? bkp_strerror_en(rc) : "a frame of another type");
            return;
        }
        bkp_rd_init(&s->rd, s->f.data, s->f.len);
    }
}

/* The record of `path`, or NULL. */
static const bkp_wire_stamp *stamp_of(stamps *s, const char *path)
{
    size_t n = strlen(path);
    int cmp = -1;
    while (s->have && (cmp = bkp_walk_cmpn(s->cur.path, s->cur.plen, path, n)) < 0)
        stamps_next(s);
    return s->have && cmp == 0 ? &s->cur : NULL;
}

/* Is the regular file of stat `st` as the backup server holds it? */
static bool unchanged(sender *s, const bkp_walk_entry *we)
{
    const bkp_wire_stamp *h = s->st.fd >= 0 || s->st.have ? stamp_of(&s->st, we->path) : NULL;
    const struct stat *st = &we->st;
    return h && h->size == (uint64_t)st->st_size && h->mtime == ns_of(&st->st_mtim) &&
           h->ctime == ns_of(&st->st_ctim) && h->mode == (uint32_t)st->st_mode;
}

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

/* Path `path` counted as not read whole, for `why`: said, and told. */
static void left_out(sender *s, const char *path, const char *why)
{
    s->sent->unreadable++;
    int rc = s->o->left ? s->o->left(s->o->left_ctx, path, why) : 0;
    if (rc < 0 && !s->left_rc)
        s->left_rc = rc;
}

static void unreadable(sender *s, const char *path, int err, const char *why)
{
    char text[400];
    snprintf(text, sizeof(text), "%s%s%s", why ? why : bkp_strerror_en(err), why && err ? ": " : "",
             why && err ? bkp_strerror_en(err) : "");
    bkp_warn("%s: %s; it is left out", path, text);
    left_out(s, path, text);
}

/* A regular file's `size` bytes from `fd` into the archive. A file that
 * shrank while it was read is padded with zeros to the size its header
 * gave (as tar does), and said. */
static int send_content(sender *s, const bkp_walk_entry *we, int fd, uint64_t size)
{
    uint64_t off = 0;
    int err = 0;
    if (size > READ_BLOCK) /* one read of a small file needs no hint */
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (off < size) {
        size_t want = size - off < READ_BLOCK ? (size_t)(size - off) : READ_BLOCK;
        ssize_t n = err ? 0 : pread(fd, s->buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!err) {
                char text[400];
                err = n < 0 ? -errno : -ENODATA;
                snprintf(text, sizeof(text), "%s at byte %llu; the rest is stored as zeros",
                         n < 0 ? bkp_strerror_en(err) : "it shrank while it was read",
                         (unsigned long long)off);
                bkp_warn("%s: %s", we->path, text);
                left_out(s, we->path, text); /* not read whole: the backup server says so */
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

/* The entry libarchive makes of walked path `we` (open as `fd`, or -1).
 * Read through the walk's descriptors, as a local capture reads (capture.c:
 * describe), never by a name that a folder swapped for a link could
 * redirect; a folder that could not be opened gets its stat only. NULL
 * when its metadata cannot be read (said, counted). */
static struct archive_entry *describe(sender *s, const bkp_walk_entry *we, int fd,
                                      const struct stat *st)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return NULL;
    if (S_ISDIR(st->st_mode) && fd < 0) {
        archive_entry_copy_stat(e, st);
        archive_entry_copy_pathname(e, we->path);
        return e;
    }
    char via[64 + NAME_MAX], why[512];
    const char *src = we->path;
    if (s->proc_fd && we->dirfd >= 0 && strlen(we->name) <= NAME_MAX) {
        if (we->fd >= 0)
            snprintf(via, sizeof(via), "/proc/self/fd/%d", we->fd);
        else
            snprintf(via, sizeof(via), "/proc/self/fd/%d/%s", we->dirfd, we->name);
        src = via;
    }
    archive_entry_copy_sourcepath(e, src);
    archive_entry_copy_pathname(e, we->path);
    /* Nothing listed, no ACL either (walk.h: bkp_walk_bare). */
    bool bare = bkp_walk_bare(fd, st->st_dev, &s->acl_memo);
    archive_read_disk_set_behavior(
        s->disk, ARCHIVE_READDISK_NO_SPARSE |
                     (bare ? ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL : 0));
    int ar = archive_read_disk_entry_from_file(s->disk, e, fd, st);
    if (ar < ARCHIVE_WARN) {
        unreadable(s, we->path, bkp_archive_errno(s->disk), "cannot read its metadata");
        archive_entry_free(e);
        return NULL;
    }
    if (ar == ARCHIVE_WARN)
        bkp_warn("%s: some of its metadata cannot be read%s; it is sent without it", we->path,
                 bkp_archive_why(s->disk, why, sizeof(why)));
    archive_entry_copy_sourcepath(e, NULL);
    return e;
}

/* One walked path into the archive: 1 when it was sent, 0 when it was left
 * out (said, counted), or a negative errno that ends the walk. */
static int send_entry(sender *s, const bkp_walk_entry *we)
{
    bool reg = S_ISREG(we->st.st_mode), dir = S_ISDIR(we->st.st_mode), replaced = false;
    if (S_ISSOCK(we->st.st_mode))
        return 0; /* pax has no socket, and nothing reads one back */
    /* As the backup server holds it: its metadata only, its bytes not
     * read. Opened all the same (no link followed, never blocking), so
     * that its metadata is read from it and not by a name a link could
     * have taken meanwhile. */
    bool same = reg && unchanged(s, we);
    struct stat st = we->st;
    int fd = dir ? we->fd : -1, rc = 1;
    if (reg && (fd = bkp_walk_open_file(we, &st, &replaced)) < 0) {
        unreadable(s, we->path, fd, fd == -ESTALE ? "it was replaced while it was read" : NULL);
        return 0;
    }
    if (same &&
        (replaced || st.st_size != we->st.st_size || ns_of(&st.st_mtim) != ns_of(&we->st.st_mtim) ||
         ns_of(&st.st_ctim) != ns_of(&we->st.st_ctim)))
        same = false; /* changed since the walk's stat: sent whole */
    struct archive_entry *e = describe(s, we, fd, &st), *spare = NULL;
    if (!e) {
        rc = 0;
        goto out;
    }
    archive_entry_copy_pathname(e, we->path[1] ? we->path + 1 : ".");
    if (!dir && archive_entry_nlink(e) > 1) {
        char links[24];
        int n = snprintf(links, sizeof(links), "%u", archive_entry_nlink(e));
        archive_entry_xattr_add_entry(e, BKP_PAX_LINKS, links, (size_t)n);
    }
    if (reg && !same && racy(s, &st))
        archive_entry_xattr_add_entry(e, BKP_PAX_RACY, "1", 1);
    if (same) {
        char size[24];
        int n = snprintf(size, sizeof(size), "%llu", (unsigned long long)st.st_size);
        archive_entry_xattr_add_entry(e, BKP_PAX_UNCHANGED, size, (size_t)n);
        archive_entry_set_size(e, 0);
        s->sent->unchanged++;
    }
    archive_entry_linkify(s->links, &e, &spare);
    if (!e) {
        rc = 0;
        goto out; /* held back by the resolver: not with the tar strategy */
    }
    int ar = archive_write_header(s->w, e);
    if (ar == ARCHIVE_FATAL) {
        rc = s->put_rc ? s->put_rc : -EIO;
        goto out;
    }
    if (ar < ARCHIVE_WARN) {
        unreadable(s, we->path, 0, archive_error_string(s->w));
        rc = 0;
        goto out;
    }
    if (reg && !same && !archive_entry_hardlink(e) && archive_entry_size(e) > 0) {
        int err = send_content(s, we, fd, (uint64_t)archive_entry_size(e));
        rc = err ? err : 1;
    }
out:
    archive_entry_free(e);
    archive_entry_free(spare);
    if (reg && fd >= 0)
        close(fd);
    return rc;
}

static int send_root(sender *s, size_t i, const bkp_pax_send_opts *o)
{
    bkp_walk *w = NULL;
    bkp_walk_entry we;
    bool is_root = true;
    int rc = o->dirfds ? bkp_walk_open_at(o->dirfds[i], o->names[i], o->roots[i], o->one_fs, &w)
                       : bkp_walk_open(o->roots[i], o->one_fs, &w);
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
        /* A folder is entered only once it is sent: the backup server
         * takes nothing whose folder it has not (pax.h). */
        rc = send_entry(s, &we);
        if (rc > 0 && S_ISDIR(we.st.st_mode))
            bkp_walk_descend(w);
        rc = rc < 0 ? rc : 0;
    }
    bkp_walk_free(w);
    return rc;
}

int bkp_pax_send(const bkp_pax_send_opts *o, bkp_pax_put put, void *ctx, bkp_pax_sent *sent)
{
    sender s = {.put = put, .ctx = ctx, .sent = sent, .o = o, .st = {.fd = o->stamps}};
    int rc = -ENOMEM;
    memset(sent, 0, sizeof(*sent));
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    s.started = ns_of(&t0);
    stamps_next(&s.st);
    s.disk = archive_read_disk_new();
    s.w = archive_write_new();
    s.links = archive_entry_linkresolver_new();
    s.buf = malloc(READ_BLOCK);
    s.proc_fd = access("/proc/self/fd", X_OK) == 0;
    if (!s.disk || !s.w || !s.links || !s.buf)
        goto out;
    archive_read_disk_set_symlink_physical(s.disk);
    archive_read_disk_set_standard_lookup(s.disk);
    /* Dense: a hole crosses as zeros (the link compresses them); describe
     * sets it for each entry. */
    /* Names as their bytes are (hdrcharset=BINARY): not converted from a
     * locale, here or on the backup server, whose cron has none. */
    if (archive_write_set_format_pax(s.w) != ARCHIVE_OK ||
        archive_write_set_options(s.w, "hdrcharset=BINARY") != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(s.w, 0) != ARCHIVE_OK ||
        archive_write_open2(s.w, &s, NULL, on_write, NULL, NULL) != ARCHIVE_OK) {
        rc = s.put_rc ? s.put_rc : -EIO;
        goto out;
    }
    archive_entry_linkresolver_set_strategy(s.links, archive_format(s.w));
    rc = 0;
    for (size_t i = 0; !rc && i < o->nroots; i++)
        rc = send_root(&s, i, o);
    if (!rc && archive_write_close(s.w) != ARCHIVE_OK)
        rc = s.put_rc ? s.put_rc : -EIO;
    rc = rc ? rc : s.left_rc;
out:
    if (s.w)
        archive_write_free(s.w);
    if (s.disk)
        archive_read_free(s.disk);
    if (s.links)
        archive_entry_linkresolver_free(s.links);
    free(s.buf);
    bkp_wire_frame_clear(&s.st.f);
    bkp_buf_free(&s.st.prev);
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

static void dirs_pop(bkp_pax_check *k)
{
    free(k->dirs[--k->ndirs]);
}

void bkp_pax_check_clear(bkp_pax_check *k)
{
    free(k->prev);
    bkp_strmap_free(k->linked);
    while (k->ndirs)
        dirs_pop(k);
    free(k->dirs);
    memset(k, 0, sizeof(*k));
}

/* Is `full` a root asked for, or in the folder sent last on its way down
 * (`k->dirs`, the folders from its root to the entry before)? */
static bool in_place(bkp_pax_check *k, const char *full)
{
    if (!strcmp(k->roots[k->root], full)) {
        while (k->ndirs)
            dirs_pop(k);
        return true;
    }
    while (k->ndirs && !bkp_walk_below(k->dirs[k->ndirs - 1], full))
        dirs_pop(k);
    if (!k->ndirs)
        return false;
    const char *top = k->dirs[k->ndirs - 1], *slash = strrchr(full, '/');
    size_t parent = slash == full ? 1 : (size_t)(slash - full);
    return strlen(top) == parent && !strncmp(top, full, parent);
}

static int dirs_push(bkp_pax_check *k, const char *full)
{
    char **v = realloc(k->dirs, (k->ndirs + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    k->dirs = v;
    if (!(v[k->ndirs] = strdup(full)))
        return -ENOMEM;
    k->ndirs++;
    return 0;
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

/* The agent's marks on `e` (BKP_PAX_LINKS, BKP_PAX_UNCHANGED), taken off:
 * the other xattrs stay, in their order. 0, -EBADMSG for a mark whose
 * value is not a decimal number in its range, -ENOMEM. */
typedef struct marks {
    bool unchanged, racy;
    uint32_t links; /* a file of several names: how many (0: not marked) */
    uint64_t size;
} marks;

/* The decimal number `value` (`size` bytes) into `*n`: at most `max`. */
static bool decimal(const void *value, size_t size, uint64_t max, uint64_t *n)
{
    char digits[24], *end;
    if (!size || size >= sizeof(digits) || memchr(value, 0, size))
        return false;
    memcpy(digits, value, size);
    digits[size] = '\0';
    *n = strtoull(digits, &end, 10);
    return !*end && digits[0] >= '0' && digits[0] <= '9' && *n <= max;
}

static int unmark(struct archive_entry *e, marks *m)
{
    memset(m, 0, sizeof(*m));
    if (archive_entry_xattr_reset(e) == 0)
        return 0;
    struct kept {
        char *name;
        void *value;
        size_t size;
    } *keep = NULL;
    size_t n = 0;
    const char *name;
    const void *value;
    size_t size;
    int rc = 0;
    bool marked = false;
    while (!rc && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        uint64_t count = 0;
        if (!strcmp(name, BKP_PAX_LINKS)) {
            marked = true;
            if (!decimal(value, size, UINT32_MAX, &count) || count < 2)
                rc = -EBADMSG;
            m->links = (uint32_t)count;
            continue;
        }
        if (!strcmp(name, BKP_PAX_RACY)) {
            marked = m->racy = true;
            continue;
        }
        if (!strcmp(name, BKP_PAX_UNCHANGED)) {
            marked = m->unchanged = true;
            if (!decimal(value, size, 1ULL << 62, &m->size))
                rc = -EBADMSG;
            continue;
        }
        struct kept *grown = realloc(keep, (n + 1) * sizeof(*keep));
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
    if (!rc && marked) {
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

/* Times a stat in nanoseconds holds (filescache.h): within ±292 years. */
static bool times_ok(struct archive_entry *e)
{
    const int64_t max = INT64_MAX / 1000000000LL - 1;
    time_t m = archive_entry_mtime(e), c = archive_entry_ctime(e);
    return m > -max && m < max && c > -max && c < max;
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
    uintptr_t left = 0; /* names still to come of a hard link's file */
    const char *hl = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    marks m;
    int rc = unmark(e, &m);
    k->unchanged = false;
    *why =
        N_("an agent's mark (bkp.links, bkp.unchanged) whose value is not a number in its range");
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
    } else if (!in_place(k, full)) {
        *why = N_("a path whose folder was not sent before it (below a file, a link, or "
                  "nothing)");
        rc = -EBADMSG;
    } else if (!hl && !type_ok(type)) {
        *why = N_("an entry of no type a file system has");
        rc = -EBADMSG;
    } else if (!times_ok(e)) {
        *why = N_("a time out of range");
        rc = -EBADMSG;
    } else if (!hl && type == AE_IFLNK && !archive_entry_symlink(e)) {
        *why = N_("a symbolic link without a target");
        rc = -EBADMSG;
    } else if (hl && ((rc = full_name(hl, false, &target)) ||
                      !(left = (uintptr_t)bkp_strmap_get(k->linked, target)))) {
        *why = N_("a hard link to no file of several links sent before it");
        rc = rc == -ENOMEM ? rc : -EBADMSG;
    } else if (hl && left == 1) {
        bkp_strmap_del(k->linked, target); /* its last name */
    } else if (hl) {
        rc = bkp_strmap_put(k->linked, target, (void *)(left - 1));
    } else if (!hl && type == AE_IFREG &&
               (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)) {
        *why = N_("a file without a size");
        rc = -EBADMSG;
    } else if (m.unchanged && !hl && (type != AE_IFREG || archive_entry_size(e) != 0)) {
        *why = N_("an unchanged file's mark on an entry with bytes, or on no file");
        rc = -EBADMSG;
    } else if (!hl && m.links && bkp_strmap_count(k->linked) >= BKP_PAX_LINKED_MAX) {
        *why = N_("more files of several names at once than a walk holds");
        rc = -EBADMSG;
    } else if (!hl && m.links && type != AE_IFDIR) {
        rc = bkp_strmap_put(k->linked, full, (void *)(uintptr_t)(m.links - 1));
    }
    if (!rc && !hl && type == AE_IFDIR)
        rc = dirs_push(k, full);
    free(target);
    if (rc) {
        free(full);
        return rc;
    }
    free(k->prev);
    k->prev = full;
    *path = full;
    *why = NULL;
    k->unchanged = m.unchanged && !hl;
    k->size = m.size;
    k->racy = m.racy;
    return 0;
}
