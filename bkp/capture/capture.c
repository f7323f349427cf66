#include "bkp/capture/capture.h"
#include "bkp/capture/capture_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/io/archive_why.h"
#include "bkp/io/durable.h"
#include "bkp/capture/filescache.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/strmap.h"
#include "bkp/capture/walk.h"

/* A file with several names, of which `left` are still to be walked. */
typedef struct link_seen {
    uint32_t left;
    int64_t ctime; /* a name found with another ctime is another file (or it changed) */
    char first[];  /* the stored path of its first name */
} link_seen;

/* A file left out: `err` (a negative errno) or, when 0, `why` (English,
 * marked N_) followed by `said` (libarchive's own words, may be NULL): a
 * failure without a system reason is told by libarchive's text, which is
 * then all there is to go on. The generation record and --json keep the
 * English; the warning is in the reader's language. */
void capture_error(capture_ctx *c, const char *path, int err, const char *why, const char *said)
{
    char kept[1024], shown[1024], detail[640] = "";
    if (!err && said)
        snprintf(detail, sizeof(detail), _(" (libarchive: %s)"), said);
    if (err) {
        snprintf(kept, sizeof(kept), "%s", bkp_strerror_en(err));
        snprintf(shown, sizeof(shown), "%s", bkp_strerror(err));
    } else {
        if (said)
            snprintf(kept, sizeof(kept), "%s (libarchive: %s)", why, said);
        else
            snprintf(kept, sizeof(kept), "%s", why);
        snprintf(shown, sizeof(shown), "%s%s", _(why), detail);
    }
    (void)bkp_capture_add_error(c->out, path, kept); /* without memory: said, not listed */
    bkp_warn(_("%s: %s; it is left out of this generation"), path, shown);
}

void capture_pending_free(pending *p)
{
    bkp_item_clear(&p->item);
    free(p->path);
    free(p);
}

/* Write finished items, in order, to the tree; with `all`, wait for every one. */
int capture_drain(capture_ctx *c, bool all)
{
    int rc = 0;
    pthread_mutex_lock(&c->lock);
    while (c->head && !rc) {
        pending *p = c->head;
        if (p->outstanding) {
            if (!all || c->err)
                break;
            capture_kick_locked(c);
            pthread_cond_wait(&c->done, &c->lock);
            continue;
        }
        c->head = p->next;
        c->nitems--;
        if (!c->head)
            c->tail = NULL;
        pthread_mutex_unlock(&c->lock);
        if (p->err) {
            /* an unreadable file: reported when it happened, left out */
        } else {
            struct archive_entry *e = p->item.entry;
            if (bkp_item_has_content(&p->item)) {
                /* An unchanged file's hash came from the cache with its
                 * chunks: the same size (its stat matched) and the same
                 * chunks give the same hash. */
                if (!p->hit)
                    bkp_item_content_hash(bkp_repo_keys(c->repo), (uint64_t)archive_entry_size(e),
                                          p->item.chunks, p->item.nchunks, p->item.content);
                bkp_capture_stats *s = &c->out->stats;
                if (p->was < 0)
                    s->files_added++;
                else if (p->was == 0 && memcmp(p->old_content, p->item.content, BKP_ID_LEN))
                    s->files_changed++;
                else if (p->was == 0)
                    s->files_touched++;
            }
            rc = bkp_tree_writer_add(c->tw, &p->item);
            /* A racily-clean file is remembered with timestamps no file has:
             * it is read again next time, and counted as changed or touched
             * then, not as added. */
            bkp_fstat racy = p->st;
            racy.mtime = racy.ctime = INT64_MIN;
            bool data = bkp_item_has_content(&p->item);
            bool dir = archive_entry_filetype(e) == AE_IFDIR;
            /* The content hash is remembered with the stat: one that grew
             * while it was read is hashed over its new size, so it must not
             * match its old stat next time. */
            bool exact = !data || (uint64_t)archive_entry_size(e) == p->st.size;
            if (!rc && p->path && (data || (dir && p->cacheable))) {
                bkp_fextra x;
                bkp_fextra_of(e, &x);
                rc = bkp_fcache_add(c->new_cache, p->path, p->cacheable && exact ? &p->st : &racy,
                                    &p->item, &x);
            }
        }
        capture_pending_free(p);
        pthread_mutex_lock(&c->lock);
    }
    if (!rc)
        rc = c->err;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void capture_enqueue(capture_ctx *c, pending *p)
{
    pthread_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = p;
    else
        c->head = p;
    c->tail = p;
    if (++c->nitems >= WAKE_ITEMS)
        capture_kick_locked(c);
    pthread_mutex_unlock(&c->lock);
}

void capture_enqueue_held(capture_ctx *c, pending *p)
{
    bkp_capture_stats *s = &c->out->stats;
    p->chunks_cap = p->item.nchunks;
    pthread_mutex_lock(&c->lock); /* workers count chunks too */
    s->files_cached++;
    s->chunks += p->item.nchunks;
    pthread_mutex_unlock(&c->lock);
    capture_enqueue(c, p);
}

/* The key of a file's hard-link group. */
static void link_key(char key[48], struct archive_entry *e)
{
    snprintf(key, 48, "%llx:%llx", (unsigned long long)archive_entry_dev(e),
             (unsigned long long)archive_entry_ino64(e));
}

/* Read a regular file's data regions (its holes are not read), chunking as
 * they come. A read error leaves the file out of the generation. */
static int read_content(capture_ctx *c, int fd, pending *p, const char *path)
{
    struct archive_entry *e = p->item.entry;
    la_int64_t off, len;
    int rc = 0;
    /* Read ahead further (what one read of a small file does anyway). */
    if (archive_entry_size(e) > READ_BLOCK)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (archive_entry_sparse_reset(e) == 0)
        rc = capture_read_range(c, p, fd, 0, UINT64_MAX);
    while (!rc && archive_entry_sparse_next(e, &off, &len) == ARCHIVE_OK)
        if (off >= 0 && len > 0)
            rc = capture_read_range(c, p, fd, (uint64_t)off, (uint64_t)len);
    if (rc && rc != -ENOMEM) {
        char key[48];
        capture_error(c, path, rc, NULL, NULL);
        p->err = -EIO;
        if (c->cur)
            c->cur->len = c->cpos; /* its chunks in flight stay valid */
        c->cut = (bkp_cut_state){0, 0};
        /* Left out: its other names must not become links to it. */
        link_key(key, e);
        bkp_strmap_del(c->links, key);
        return 0;
    }
    return rc ? rc : capture_regions_done(c, p, path);
}

int capture_regions_done(capture_ctx *c, pending *p, const char *path)
{
    struct archive_entry *e = p->item.entry;
    int rc = capture_cut(c, p, true);
    if (rc)
        return rc;
    /* A dense file is one region from 0 to its size: no map needed. */
    uint64_t size_now = (uint64_t)archive_entry_size(e);
    uint64_t end = p->item.nsparse ? p->item.sparse[2 * (p->item.nsparse - 1)] +
                                         p->item.sparse[2 * (p->item.nsparse - 1) + 1]
                                   : 0;
    if (end > size_now) {
        bkp_warn(_("%s grew while it was read; the bytes read are kept"), path);
        archive_entry_set_size(e, (la_int64_t)end);
        size_now = end;
    }
    if (p->item.nsparse == 1 && p->item.sparse[0] == 0 && p->item.sparse[1] == size_now) {
        free(p->item.sparse);
        p->item.sparse = NULL;
        p->item.nsparse = 0;
    } else if (p->item.nsparse == 0 && size_now > 0) {
        /* All hole: keep one empty region so the size is not read as dense. */
        if ((rc = capture_add_region(p, size_now, 0)))
            return rc;
    }
    return 0;
}

/* The first stored name of a file with several links, or NULL if this is it.
 * A file is remembered only until its last name is walked, so what this
 * holds is the links still open, not every linked file of the tree. */
static const char *hardlink_target(capture_ctx *c, struct archive_entry *e, const char *stored)
{
    char key[48];
    if (archive_entry_filetype(e) == AE_IFDIR || archive_entry_nlink(e) < 2)
        return NULL;
    link_key(key, e);
    int64_t ctime = archive_entry_ctime(e) * 1000000000LL + archive_entry_ctime_nsec(e);
    link_seen *l = bkp_strmap_get(c->links, key);
    if (l && l->ctime == ctime) {
        free(c->link_name);
        c->link_name = strdup(l->first);
        if (--l->left == 0)
            bkp_strmap_del(c->links, key);
        return c->link_name; /* without memory: stored as a copy, still exact */
    }
    /* New, or its inode number was reused or the file changed since its
     * first name: this name is stored as a file of its own. */
    size_t n = strlen(stored) + 1;
    l = malloc(sizeof(*l) + n);
    if (!l)
        return NULL;
    l->left = archive_entry_nlink(e) - 1;
    l->ctime = ctime;
    memcpy(l->first, stored, n);
    if (bkp_strmap_put(c->links, key, l))
        free(l);
    return NULL;
}

void capture_drop_content(pending *p)
{
    free(p->item.chunks);
    free(p->item.sparse);
    p->item.chunks = NULL;
    p->item.sparse = NULL;
    p->item.nchunks = p->item.nsparse = 0;
}

/* Is this file or folder unchanged since the files cache was written (and,
 * for a file, is every chunk still in the repository)? Sets p's stat,
 * cacheable, was and hit, and on a hit a file's chunks and sparse map, and
 * the extras. */
int capture_lookup_cache(capture_ctx *c, pending *p, const struct stat *st)
{
    p->st = (bkp_fstat){(uint64_t)st->st_dev,
                        (uint64_t)st->st_ino,
                        (uint64_t)st->st_size,
                        st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec,
                        st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec,
                        st->st_mode};
    if (S_ISDIR(st->st_mode))
        p->st.size = 0; /* a folder's size says nothing of its contents */
    /* A file whose timestamps lie near the time it is read may change
     * again within the same tick (2 s on FAT, coarse on SMB and NFS)
     * and look unchanged: read it now and next time too. A time far
     * in the past or the future cannot be confused with a new change. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t lo = c->started_ns - 2000000000LL,
            hi = now.tv_sec * 1000000000LL + now.tv_nsec + 2000000000LL;
    p->cacheable =
        !(p->st.mtime >= lo && p->st.mtime <= hi) && !(p->st.ctime >= lo && p->st.ctime <= hi);
    int was = c->o->no_cache ? -ENOENT
                             : bkp_fcache_lookup(c->old_cache, p->path, &p->st, &p->item,
                                                 p->old_content, &p->extra);
    if (was == -ENOMEM)
        return was;
    /* With no cache to compare with (none, --no-cache, or one that could
     * not be read as far as this path) a path not found is not known to be
     * new: a full re-read must not look like a mass change to the guard. */
    bool history = c->have_history && !c->o->no_cache && !bkp_fcache_problem(c->old_cache);
    p->was = was == -ENOENT ? (history ? -1 : 1) : (int8_t)(was == 1 ? 1 : 0);
    p->hit = was == 1;
    /* A cache whose stamp holds vouches that every chunk it lists is still
     * in the index (filescache_stamp.c: why, and why a root with the
     * repository gains nothing by it that the index did not give); the
     * index says no more, never that the pack is there. Otherwise each
     * chunk is looked up. */
    bool vouched = !c->o->no_cache && bkp_fcache_vouches(c->old_cache);
    for (uint32_t i = 0; p->hit && !vouched && i < p->item.nchunks; i++, c->out->stats.lookups++)
        p->hit = bkp_repo_has(c->repo, p->item.chunks[i].id);
    if (!p->hit)
        capture_drop_content(p);
    return 0;
}

/* The entry libarchive makes of a walked path: its stat, owner names, and
 * unless `lean` its flags, xattrs, ACLs and (with `holes`) its data regions.
 * NULL and an error recorded when they cannot be read. */
static struct archive_entry *describe(capture_ctx *c, const bkp_walk_entry *we, int fd, bool lean,
                                      bool holes)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return NULL;
    /* Nothing listed, no ACL either (walk.h: bkp_walk_bare). */
    bool bare = !lean && bkp_walk_bare(fd, we->st.st_dev, &c->acl_memo);
    archive_read_disk_set_behavior(
        c->disk,
        (lean ? ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS
              : 0) |
            (bare ? ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL : 0) |
            (holes ? 0 : ARCHIVE_READDISK_NO_SPARSE));
    /* What libarchive reads by name (a link's target, a folder's default
     * ACL, the xattrs of what is not opened) it reads through the walk's
     * descriptors: never through a folder swapped for a link meanwhile,
     * and at any depth (a path past PATH_MAX cannot be opened at all). */
    /* A lean entry that is no link and whose holes are not wanted is read
     * from its stat alone (libarchive reads nothing by name then): no
     * source path is made for it, which is most of a no-change backup. */
    bool by_name = !lean || holes || S_ISLNK(we->st.st_mode);
    char via[64 + NAME_MAX];
    const char *src = we->path;
    if (by_name && c->proc_fd && we->dirfd >= 0 && strlen(we->name) <= NAME_MAX) {
        if (we->fd >= 0)
            snprintf(via, sizeof(via), "/proc/self/fd/%d", we->fd);
        else
            snprintf(via, sizeof(via), "/proc/self/fd/%d/%s", we->dirfd, we->name);
        src = via;
    }
    if (by_name) {
        archive_entry_copy_sourcepath(e, src);
        archive_entry_copy_pathname(e, we->path);
    } else {
        archive_entry_copy_pathname(e, we->path[1] ? we->path + 1 : ".");
    }
    int ar = archive_read_disk_entry_from_file(c->disk, e, fd, &we->st);
    char why[512];
    if (ar == ARCHIVE_WARN)
        bkp_warn(_("%s: some of its metadata cannot be read%s; it is backed up without it"),
                 we->path, bkp_archive_why(c->disk, why, sizeof(why)));
    if (ar < ARCHIVE_WARN) {
        capture_error(c, we->path, bkp_archive_errno(c->disk), N_("cannot read its metadata"),
                      archive_error_string(c->disk));
        archive_entry_free(e);
        return NULL;
    }
    /* Stored without the leading '/', like tar: a restore re-roots it. */
    if (by_name) {
        archive_entry_copy_pathname(e, we->path[1] ? we->path + 1 : ".");
        archive_entry_copy_sourcepath(e, NULL);
    }
    return e;
}

/* A regular file's content: from the cache when unchanged, else read now. */
static int capture_file(capture_ctx *c, pending *p, int fd)
{
    bkp_capture_stats *s = &c->out->stats;
    s->files++;
    s->bytes += (uint64_t)archive_entry_size(p->item.entry);
    if (p->lean)
        archive_entry_set_fflags(p->item.entry, (unsigned long)p->extra.fflags_set,
                                 (unsigned long)p->extra.fflags_clear);
    if (p->hit) {
        capture_enqueue_held(c, p);
        return 0;
    }
    capture_drop_content(p);
    capture_enqueue(c, p);
    return read_content(c, fd, p, p->path);
}

/* With read_special (capture.h): a block device, or a link to one, read as
 * a regular file of its size, its zero blocks as holes. 1 when `we` is no
 * such thing (it is stored as it is), else 0 or a negative errno. It is
 * read in full every time (a device's times do not follow its content);
 * the files cache keeps its content's hash for the guard. */
static int capture_device(capture_ctx *c, const bkp_walk_entry *we)
{
    struct stat st;
    uint64_t size = 0;
    if (fstatat(we->dirfd, we->name, &st, 0) < 0 || !S_ISBLK(st.st_mode))
        return 1;
    int fd = openat(we->dirfd, we->name, O_RDONLY | O_CLOEXEC | O_NOCTTY), err = 0;
    if (fd < 0 || fstat(fd, &st) < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0)
        err = -errno;
    else if (!S_ISBLK(st.st_mode))
        err = -ESTALE; /* replaced since its stat */
    if (err) {
        capture_error(c, we->path, err, N_("cannot read the device"), NULL);
        if (fd >= 0)
            close(fd);
        return 0;
    }
    pending *p = calloc(1, sizeof(*p));
    struct archive_entry *e = p ? archive_entry_new() : NULL;
    int rc = -ENOMEM;
    if (!e || !(p->path = strdup(we->path)))
        goto fail;
    p->item.entry = e;
    archive_entry_copy_pathname(e, we->path[1] ? we->path + 1 : ".");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, st.st_mode & 07777);
    archive_entry_set_uid(e, st.st_uid);
    archive_entry_set_gid(e, st.st_gid);
    archive_entry_copy_uname(e, archive_read_disk_uname(c->disk, st.st_uid));
    archive_entry_copy_gname(e, archive_read_disk_gname(c->disk, st.st_gid));
    archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size(e, (la_int64_t)size);
    struct stat as_file = st;
    as_file.st_mode = S_IFREG | (st.st_mode & 07777);
    as_file.st_size = (off_t)size;
    if ((rc = capture_lookup_cache(c, p, &as_file)))
        goto fail;
    p->hit = p->cacheable = false; /* its times say nothing of its bytes */
    p->zero_holes = true;
    rc = capture_file(c, p, fd);
    close(fd);
    return rc;
fail:
    close(fd);
    if (p && !p->item.entry)
        archive_entry_free(e);
    if (p)
        capture_pending_free(p);
    return rc;
}

/* One walked path into the item stream (and the next files cache). */
static int capture_entry(capture_ctx *c, const bkp_walk_entry *we)
{
    bool reg = S_ISREG(we->st.st_mode), dir = S_ISDIR(we->st.st_mode);
    int dev = c->o->read_special && !reg && !dir ? capture_device(c, we) : 1;
    if (dev <= 0)
        return dev;
    pending *p = calloc(1, sizeof(*p));
    int rc = 0, fd = dir ? we->fd : -1;
    if (!p || !(p->path = strdup(we->path))) {
        free(p);
        return -ENOMEM;
    }
    if ((reg || dir) && (rc = capture_lookup_cache(c, p, &we->st)))
        goto fail;
    /* Unchanged, and without xattrs or ACLs: the stat is all it takes. */
    p->lean = p->hit && !p->extra.ext;
    bkp_walk_entry cur = *we;
    bool replaced = false;
    if (reg && !p->lean && (fd = bkp_walk_open_file(we, &cur.st, &replaced)) < 0) {
        capture_error(c, we->path, fd == -ESTALE ? 0 : fd,
                      N_("it was replaced while the backup ran"), NULL);
        goto fail;
    }
    if (replaced) {
        /* Renamed over since the walk's stat: the file there now is read
         * in full, described by its own stat, and not remembered. */
        p->hit = p->cacheable = false;
        capture_drop_content(p);
        we = &cur;
    }
    /* A folder that could not be opened (swapped for a link or a device
     * since its stat, say) is not opened by name either: its stat only,
     * not remembered, and the walk reports it. */
    bool unopened = dir && fd < 0;
    if (unopened)
        p->cacheable = false;
    /* A small file whose blocks cover its size has no hole to look for:
     * six lseeks a file saved (a third of a small file's system calls). A
     * large one is looked at all the same: its blocks may count space
     * allocated ahead or parity, and a hole lost there costs a restore. */
    bool holes = reg && !p->hit &&
                 ((uint64_t)we->st.st_size > READ_BLOCK ||
                  (uint64_t)we->st.st_blocks * 512 < (uint64_t)we->st.st_size);
    if (!(p->item.entry = describe(c, we, fd, p->lean || unopened, holes)))
        goto fail;
    bkp_capture_stats *s = &c->out->stats;
    const char *stored = archive_entry_pathname(p->item.entry);
    const char *hl = reg ? hardlink_target(c, p->item.entry, stored) : NULL;
    if (hl) {
        archive_entry_copy_hardlink(p->item.entry, hl);
        capture_drop_content(p);
        p->cacheable = false; /* only a file's first name is in the cache */
        s->links++;
    } else if (reg) {
        rc = capture_file(c, p, fd);
        p = NULL; /* queued */
    } else {
        if (dir && p->lean)
            archive_entry_set_fflags(p->item.entry, (unsigned long)p->extra.fflags_set,
                                     (unsigned long)p->extra.fflags_clear);
        dir ? s->dirs++ : s->other++;
    }
    if (p)
        capture_enqueue(c, p);
    if (reg && fd >= 0)
        close(fd);
    return rc;
fail:
    if (reg && fd >= 0)
        close(fd);
    capture_pending_free(p);
    return rc;
}

static int capture_path(capture_ctx *c, const char *root)
{
    bkp_walk *w = NULL;
    bkp_walk_entry we;
    bool got_any = false, is_root = true;
    int rc = bkp_walk_open(root, c->o->one_fs, &w);
    while (!rc && (rc = bkp_walk_next(w, &we)) > 0) {
        rc = 0;
        if (we.err) {
            /* Gone since its folder was read: nothing to capture. But a
             * root that is not there is a path of the policy not backed
             * up, which the operator must hear of. */
            if (we.err != -ENOENT || is_root)
                capture_error(c, we.path, we.err, NULL, NULL);
            is_root = false;
            continue;
        }
        is_root = false;
        got_any = true;
        if (bkp_walk_excluded(we.path, c->o->exclude, c->o->nexclude))
            continue; /* and, for a directory, not descended into */
        if (S_ISDIR(we.st.st_mode))
            bkp_walk_descend(w);
        if ((rc = capture_entry(c, &we)) || (rc = capture_drain(c, false)))
            break;
        const bkp_capture_stats *s = &c->out->stats;
        bkp_progress_meter(c->o->dataset, s->files + s->links, c->o->expect_files, "files",
                           s->bytes_read, &c->t0);
    }
    if (got_any)
        c->roots_read++; /* at least the root itself was captured */
    bkp_walk_free(w);
    return rc;
}

/* The data set's stream, as one regular file of its name, counted as a
 * changed file. */
static int capture_stream(capture_ctx *c)
{
    const bkp_capture_stream *st = c->o->stream;
    pending *p = calloc(1, sizeof(*p));
    struct archive_entry *e = p ? archive_entry_new() : NULL;
    if (!e) {
        free(p);
        return -ENOMEM;
    }
    p->item.entry = e;
    archive_entry_copy_pathname(e, st->name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_uid(e, st->uid);
    archive_entry_set_gid(e, st->gid);
    archive_entry_copy_uname(e, st->uname);
    archive_entry_copy_gname(e, st->gname);
    archive_entry_set_mtime(e, st->mtime, 0);
    archive_entry_set_size(e, 0);
    capture_enqueue(c, p);
    int rc = capture_read_stream(c, p, st->fd, st->cancel_fd);
    c->out->stats.files = 1;
    c->out->stats.bytes = (uint64_t)archive_entry_size(e);
    c->roots_read = !rc;
    return rc;
}

static int by_walk_order(const void *a, const void *b)
{
    return bkp_walk_cmp(*(char *const *)a, *(char *const *)b);
}

static void stop_workers(capture_ctx *c)
{
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->not_empty);
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < c->nthreads; i++)
        pthread_join(c->threads[i], NULL);
    c->nthreads = 0;
}

char **bkp_capture_roots(const char *const *paths, size_t npaths, size_t *n)
{
    char **v = calloc(npaths + 1, sizeof(*v));
    *n = 0;
    for (size_t i = 0; v && i < npaths; i++)
        if (!(v[(*n)++] = bkp_walk_root(paths[i]))) {
            bkp_capture_roots_free(v, *n);
            return NULL;
        }
    if (!v)
        return NULL;
    qsort(v, *n, sizeof(*v), by_walk_order);
    /* One below another comes right after it, or after what else lies below it. */
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (k && bkp_walk_below(v[k - 1], v[i]))
            free(v[i]);
        else
            v[k++] = v[i];
    }
    v[k] = NULL;
    *n = k;
    return v;
}

void bkp_capture_roots_free(char **roots, size_t n)
{
    for (size_t i = 0; roots && i < n; i++)
        free(roots[i]);
    free(roots);
}

int bkp_capture_add_error(bkp_capture *c, const char *path, const char *message)
{
    bkp_capture_error *e = realloc(c->errors, (c->nerrors + 1) * sizeof(*e));
    if (!e)
        return -ENOMEM;
    c->errors = e;
    e[c->nerrors].path = strdup(path);
    e[c->nerrors].message = strdup(message);
    if (!e[c->nerrors].path || !e[c->nerrors].message) {
        free(e[c->nerrors].path);
        free(e[c->nerrors].message);
        return -ENOMEM;
    }
    c->nerrors++;
    return 0;
}

/* The roots as the walk names them. The walk order runs across the roots
 * too, so that the files cache merges with them whatever order the policy
 * lists them in. */
static int collect_roots(capture_ctx *c)
{
    const bkp_capture_opts *o = c->o;
    c->out->paths = bkp_capture_roots(o->paths, o->npaths, &c->out->npaths);
    return c->out->paths ? 0 : -ENOMEM;
}

/* What the walk works with: read slabs, the hard links seen, the previous
 * files cache and the next one, the tree writer, libarchive's disk reader. */
static int open_inputs(capture_ctx *c)
{
    const bkp_capture_opts *o = c->o;
    bkp_repo *r = c->repo;
    const bkp_chunker *ch = bkp_repo_chunker(r);
    size_t slab =
        2 * (size_t)bkp_chunker_max(ch) > SLAB_MIN ? 2 * (size_t)bkp_chunker_max(ch) : SLAB_MIN;
    int rc;

    /* A stream has no files cache: a dump is new each time, and the cache
     * of a data set that was paths before is left as it was. */
    if ((rc = bkp_slab_pool_new(slab, SLABS, &c->slabs)) ||
        (rc = bkp_strmap_new(free, &c->links)) ||
        (!o->stream && (rc = bkp_fcache_open(r, o->dataset, &c->old_cache, &c->have_history))) ||
        (!o->stream && (rc = bkp_fcache_writer_new(r, o->dataset, &c->new_cache))) ||
        (rc = bkp_tree_writer_new(r, o->compression, &c->tw)))
        return rc;
    if (!(c->disk = archive_read_disk_new()))
        return -ENOMEM;
    archive_read_disk_set_symlink_physical(c->disk);
    c->proc_fd = access("/proc/self/fd", X_OK) == 0;
    archive_read_disk_set_standard_lookup(c->disk);
    if (!o->no_cache && c->old_cache && bkp_fcache_problem(c->old_cache)) {
        c->out->stats.cache_problem = bkp_fcache_problem(c->old_cache);
        bkp_warn(_("the files cache of %s cannot be used: %s. Files it would have spared are "
                   "read again this time; this backup writes a new cache"),
                 o->dataset, _(c->out->stats.cache_problem));
    }
    return 0;
}

static int start_workers(capture_ctx *c)
{
    int nw = c->o->workers > 0 ? c->o->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    nw = nw < 1 ? 1 : nw > MAX_WORKERS ? MAX_WORKERS : nw;
    for (int i = 0; i < nw; i++) {
        if (bkp_thread_create(&c->threads[i], capture_worker, c) != 0)
            return -EAGAIN;
        c->nthreads++;
    }
    return 0;
}

/*
 * After the walk (`rc` its result): the last items, then what makes the
 * capture durable, in this order. The tree's blobs are stored, then
 * bkp_repo_flush makes every blob put so far durable (packs, then the index
 * segment naming them), and only then is the new files cache published: a
 * cache must never vouch for chunks that a kill could still lose. A kill
 * before the commit leaves the previous cache in place (the new one is not
 * published), so the next backup reads these files again at worst; nothing
 * here names the tree yet, the generation is sealed by the caller.
 */
static int finish_capture(capture_ctx *c, int rc)
{
    const bkp_capture_opts *o = c->o;
    bkp_capture *out = c->out;

    if (!rc)
        rc = capture_drain(c, true);
    stop_workers(c);
    if (c->have_history && !o->no_cache)
        out->stats.files_deleted = bkp_fcache_unseen(c->old_cache);
    if (!o->no_cache && !out->stats.cache_problem && c->old_cache &&
        bkp_fcache_problem(c->old_cache)) {
        /* Found part-way through: what came after it was read again. */
        out->stats.cache_problem = bkp_fcache_problem(c->old_cache);
        bkp_warn(_("the files cache of %s could be used only in part: %s. The files after that "
                   "point were read again; this backup writes a new cache"),
                 o->dataset, _(out->stats.cache_problem));
    }
    if (!rc) {
        rc = bkp_tree_writer_finish(c->tw, &out->tree, &out->tree_items, &out->tree_bytes);
        c->tw = NULL;
    }
    if (!rc)
        rc = bkp_repo_flush(c->repo);
    if (!rc && c->new_cache && o->remote) {
        out->cache = c->new_cache; /* the caller's to publish, once the agent's end is known */
        c->new_cache = NULL;
    } else if (!rc && c->new_cache) {
        if (bkp_fcache_commit(c->new_cache))
            out->stats.cache_problem = "the new files cache could not be saved";
        c->new_cache = NULL;
    }
    return rc;
}

/* Free what the capture holds; an unfinished new cache is dropped and the
 * previous one stays. */
static void capture_free(capture_ctx *c)
{
    stop_workers(c);
    bkp_progress_done();
    while (c->head) {
        pending *p = c->head;
        c->head = p->next;
        capture_pending_free(p);
    }
    bkp_tree_writer_free(c->tw);
    bkp_fcache_free(c->old_cache);
    bkp_fcache_writer_free(c->new_cache);
    if (c->disk)
        archive_read_free(c->disk);
    bkp_strmap_free(c->links);
    free(c->link_name);
    bkp_slab_drop(c->slabs, c->cur);
    bkp_slab_pool_free(c->slabs); /* the workers have dropped theirs */
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->not_empty);
    pthread_cond_destroy(&c->not_full);
    pthread_cond_destroy(&c->done);
}

int bkp_capture_run(bkp_repo *r, const bkp_capture_opts *o, bkp_capture *out)
{
    capture_ctx c = {.repo = r, .o = o, .out = out};
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    int rc;

    memset(out, 0, sizeof(*out));
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.not_empty, NULL);
    pthread_cond_init(&c.not_full, NULL);
    pthread_cond_init(&c.done, NULL);
    if ((rc = collect_roots(&c)) || (rc = open_inputs(&c)) || (rc = start_workers(&c))) {
        if (o->remote && o->remote->stamps_fd >= 0)
            close(o->remote->stamps_fd); /* capture_remote's, which never ran */
        goto out;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    c.started_ns = now.tv_sec * 1000000000LL + now.tv_nsec;
    if (o->stream)
        rc = capture_stream(&c);
    else if (o->remote)
        rc = capture_remote(&c);
    for (size_t i = 0; i < out->npaths && !rc && !o->remote; i++)
        rc = capture_path(&c, out->paths[i]);
    if (!rc && c.roots_read == 0) {
        /* Nothing at all could be read (an unmounted volume): an empty
         * generation would become "latest" and hide the good ones. */
        if (o->remote)
            bkp_error(_("none of the paths of %s could be read on %s; nothing is sealed. Check "
                        "there that they exist and that the agent's user may read them"),
                      o->dataset, o->remote->host);
        else
            bkp_error(_("none of the paths of %s could be read; nothing is sealed. Check that the "
                        "volume is mounted and the paths are right"),
                      o->dataset);
        rc = -EDOM; /* log.h: each path's reason was said; ENOENT would be a wrong one */
    }
    rc = finish_capture(&c, rc);
out:
    capture_free(&c);
    return rc;
}

void bkp_capture_publish_cache(bkp_capture *c)
{
    if (c->cache && bkp_fcache_commit(c->cache))
        c->stats.cache_problem = "the new files cache could not be saved";
    c->cache = NULL;
}

void bkp_capture_clear(bkp_capture *c)
{
    bkp_fcache_writer_free(c->cache); /* not published: the previous one stays */
    bkp_buf_free(&c->tree);
    for (size_t i = 0; i < c->nerrors; i++) {
        free(c->errors[i].path);
        free(c->errors[i].message);
    }
    free(c->errors);
    for (size_t i = 0; i < c->npaths; i++)
        free(c->paths[i]);
    free(c->paths);
    memset(c, 0, sizeof(*c));
}
