#include "restore/restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "bkp/media/archive.h"
#include "bkp/io/archive_why.h"
#include "bkp/io/stream.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/strmap.h"
#include "bkp/store/tree.h"
#include "restore/dirs.h"
#include "restore/fetch.h"
#include "restore/dump.h"
#include "restore/folder.h"
#include "restore/writers.h"

#define LOOKAHEAD 512 /* items read ahead of the writer */
#define FETCH_DEPTH 8

typedef struct restore_ctx {
    const bkp_repo *repo;
    const rst_opts *o;
    rst_result *res;
    bkp_tree_reader *tr;
    rst_fetch *fetch;     /* a tar stream's chunks, fetched ahead of its one writer */
    rst_writers *writers; /* a directory's regular files, written in parallel */
    int rootfd;           /* the target directory, for the writers */
    struct archive *w;
    bool to_disk;
    /* lookahead ring of selected items; sched_* is the next chunk to request */
    bkp_item ring[LOOKAHEAD];
    unsigned head, count, sched_item, sched_chunk;
    bool tree_done;
    int tree_err;
    uint64_t read;   /* items read from the list, selected or not */
    bkp_dfile *af;   /* the --to-archive file being written, or NULL: under a */
    bkp_stream aout; /* temporary name in `adir`, to become `aname`; its stream */
    char *adir, *aname;
    uint64_t tar_at; /* bytes of the current file written to a tar stream */
    /* With --path, hard links whose first name is outside the selection:
     * content of unselected files, selected file names, and renamed targets. */
    bkp_strmap *unselected, *selected, *relinked;
    /* Folders made and finished by descriptor, and those too deep for
     * archive_write_disk's deferred fix-ups (dirs.h). */
    rst_dirs *dirs;
    size_t ndeep;
    uint64_t total_bytes; /* the generation's, when all of it is restored; else 0 */
    struct timespec t0;
} restore_ctx;

typedef struct saved_content {
    bkp_chunk_ref *chunks;
    uint32_t nchunks;
    uint64_t *sparse;
    uint32_t nsparse;
    uint8_t content[BKP_ID_LEN];
} saved_content;

static void saved_free(void *p)
{
    saved_content *s = p;
    if (s) {
        free(s->chunks);
        free(s->sparse);
        free(s);
    }
}

bool rst_path_selected(const char *p, const char *filter)
{
    if (!filter)
        return true;
    while (*filter == '/')
        filter++;
    if (!*filter)
        return true; /* "/" selects everything */
    size_t n = strlen(filter);
    while (n > 1 && filter[n - 1] == '/')
        n--;
    return strncmp(p, filter, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* Keep an unselected file's content: a selected hard link may need it. */
static void remember_unselected(restore_ctx *c, bkp_item *it)
{
    saved_content *s = calloc(1, sizeof(*s));
    if (!s)
        return;
    s->chunks = it->chunks;
    s->nchunks = it->nchunks;
    s->sparse = it->sparse;
    s->nsparse = it->nsparse;
    memcpy(s->content, it->content, BKP_ID_LEN);
    it->chunks = NULL;
    it->sparse = NULL;
    if (bkp_strmap_put(c->unselected, archive_entry_pathname(it->entry), s))
        saved_free(s);
}

/* A selected hard link to a file outside the selection becomes the file
 * itself; later links to the same file point at it instead. */
static void fix_hardlink(restore_ctx *c, bkp_item *it)
{
    const char *target = archive_entry_hardlink(it->entry);
    const char *renamed = bkp_strmap_get(c->relinked, target);
    saved_content *s;
    if (bkp_strmap_get(c->selected, target))
        return;
    if (renamed) {
        archive_entry_copy_hardlink(it->entry, renamed);
        return;
    }
    if (!(s = bkp_strmap_get(c->unselected, target)))
        return; /* reported when archive_write_header fails */
    char *self = strdup(archive_entry_pathname(it->entry));
    bkp_chunk_ref *ch = s->nchunks ? malloc(s->nchunks * sizeof(*ch)) : NULL;
    uint64_t *sp = s->nsparse ? malloc(2 * s->nsparse * sizeof(*sp)) : NULL;
    if (!self || (s->nchunks && !ch) || (s->nsparse && !sp) ||
        bkp_strmap_put(c->relinked, target, self)) {
        free(self);
        free(ch);
        free(sp);
        return;
    }
    if (ch)
        memcpy(ch, s->chunks, s->nchunks * sizeof(*ch));
    if (sp)
        memcpy(sp, s->sparse, 2 * s->nsparse * sizeof(*sp));
    it->chunks = ch;
    it->nchunks = s->nchunks;
    it->sparse = sp;
    it->nsparse = s->nsparse;
    memcpy(it->content, s->content, BKP_ID_LEN);
    archive_entry_set_hardlink(it->entry, NULL);
}

/* "var/backups/emr/emr.dump" with prefix "var/backups/emr" -> "emr.dump", and
 * the folder itself -> "." (the target); hard link targets likewise.
 * -ENOENT for a path outside the prefix. */
static int strip_one(const char *p, const char *prefix, const char **rest)
{
    size_t l = strlen(prefix);
    if (strncmp(p, prefix, l) || (p[l] && p[l] != '/'))
        return -ENOENT;
    *rest = p[l] ? p + l + 1 : ".";
    return 0;
}

static int strip_prefix(bkp_item *it, const char *prefix)
{
    const char *rest, *link = archive_entry_hardlink(it->entry);
    if (strip_one(archive_entry_pathname(it->entry), prefix, &rest))
        return -ENOENT;
    char *name = strdup(rest);
    if (!name)
        return -ENOMEM;
    archive_entry_copy_pathname(it->entry, name);
    free(name);
    if (link && !strip_one(link, prefix, &rest)) {
        char *l = strdup(rest);
        if (l)
            archive_entry_copy_hardlink(it->entry, l);
        free(l);
    }
    return 0;
}

/* Read more selected items into the lookahead ring. */
static void read_ahead(restore_ctx *c)
{
    while (!c->tree_done && c->count < LOOKAHEAD) {
        bkp_item *it = &c->ring[(c->head + c->count) % LOOKAHEAD];
        int rc = bkp_tree_reader_next(c->tr, it);
        if (rc <= 0) {
            c->tree_done = true;
            c->tree_err = rc;
            break;
        }
        c->read++;
        bool sel = rst_path_selected(archive_entry_pathname(it->entry), c->o->path);
        if (c->unselected) {
            if (!sel && bkp_item_has_content(it))
                remember_unselected(c, it);
            if (sel && archive_entry_hardlink(it->entry))
                fix_hardlink(c, it);
            if (sel && bkp_item_has_content(it))
                (void)bkp_strmap_put(c->selected, archive_entry_pathname(it->entry), c);
        }
        if (sel && c->o->strip && strip_prefix(it, c->o->strip) < 0)
            sel = false; /* outside the folder whose contents are restored */
        if (sel)
            c->count++;
        else
            bkp_item_clear(it);
    }
}

/* Request chunks, in writing order, while the fetcher has room. */
static void schedule(restore_ctx *c)
{
    for (;;) {
        read_ahead(c);
        if (!c->fetch)
            return; /* a directory: the writers fetch their own chunks */
        if (c->sched_item >= c->count || !rst_fetch_room(c->fetch))
            return;
        bkp_item *it = &c->ring[(c->head + c->sched_item) % LOOKAHEAD];
        if (!bkp_item_has_content(it) || c->sched_chunk >= it->nchunks) {
            c->sched_item++;
            c->sched_chunk = 0;
            continue;
        }
        if (rst_fetch_push(c->fetch, it->chunks[c->sched_chunk].id))
            return;
        c->sched_chunk++;
    }
}

/* For a tar stream, holes are written as zeros up to file offset `upto`. */
static int zero_fill(restore_ctx *c, uint64_t upto)
{
    static const uint8_t zeros[65536];
    while (c->tar_at < upto) {
        size_t n = upto - c->tar_at < sizeof(zeros) ? (size_t)(upto - c->tar_at) : sizeof(zeros);
        if (archive_write_data(c->w, zeros, n) != (la_ssize_t)n)
            return -EIO;
        c->tar_at += n;
    }
    return 0;
}

/* Map position `pos` of the concatenated data onto the file's regions, in
 * a tar stream (writers.c places a directory's files). */
/* A tar stream is sequential: holes before this piece are zeros. */
static int put_tar(void *ctx, const uint8_t *p, size_t n, uint64_t off)
{
    restore_ctx *c = ctx;
    if (zero_fill(c, off) || archive_write_data(c->w, p, n) != (la_ssize_t)n)
        return -EIO;
    c->tar_at += n;
    return 0;
}

static int write_data(restore_ctx *c, const bkp_item *it, uint64_t pos, const uint8_t *p,
                      size_t len)
{
    return rst_place(it, pos, p, len, put_tar, c);
}

static int restore_file_data(restore_ctx *c, bkp_item *it, const char *path, bool *damaged)
{
    uint64_t pos = 0;
    int rc = 0;
    c->tar_at = 0;
    /* A stored list that is not whole: its chunks are popped, none written. */
    if (rst_item_check(it, (uint64_t)archive_entry_size(it->entry), path))
        *damaged = true;
    for (uint32_t i = 0; i < it->nchunks; i++) {
        const uint8_t *data;
        size_t len;
        schedule(c);
        int fr = rst_fetch_pop(c->fetch, &data, &len);
        if (*damaged || rc)
            continue; /* keep popping: the requests of this file are queued */
        if (fr || len != it->chunks[i].len) {
            rst_fetch_report(c->repo, path, it->chunks[i].id, fr ? fr : -EBADMSG);
            *damaged = true;
            continue;
        }
        rc = write_data(c, it, pos, data, len);
        if (rc == -EBADMSG) {
            bkp_error(_("%s: its chunks do not fit its recorded size; the file is not restored"),
                      path);
            *damaged = true;
            rc = 0;
        } else if (rc) {
            /* A full disk, an I/O error: a tar stream cannot go on after a
             * short write. */
            char why[512];
            bkp_error(_("%s: cannot write its data%s; the file is not restored"), path,
                      bkp_archive_why(c->w, why, sizeof(why)));
            *damaged = true;
        }
        pos += len;
        c->res->bytes += len;
    }
    if (!rc && !*damaged)
        rc = zero_fill(c, (uint64_t)archive_entry_size(it->entry));
    return rc;
}

static void progress(restore_ctx *c)
{
    uint64_t bytes = c->res->bytes + (c->writers ? rst_writers_bytes(c->writers) : 0);
    bkp_progress_meter(_("restoring"), bytes, c->total_bytes, NULL, bytes, &c->t0);
}

/* A regular file or a symbolic link of a directory restore: to the writers, who fetch, create
 * and write it in parallel with the ones before and after it. */
static int hand_over(restore_ctx *c, bkp_item *it)
{
    const char *p = archive_entry_pathname(it->entry);
    int rc = 0;
    if (!rst_folder_plain_path(p)) {
        bkp_error(_("%s: not a plain relative path; refused"), p);
        c->res->damaged++;
    } else {
        c->res->files += bkp_item_has_content(it);
        rc = rst_writers_put(c->writers, it);
    }
    c->res->items++;
    progress(c);
    return rc;
}

/* A plain folder, made by this thread by descriptor (dirs.h). */
static int make_dir(restore_ctx *c, bkp_item *it)
{
    const char *path = archive_entry_pathname(it->entry);
    int rc = rst_dirs_make(c->dirs, it, path);
    if (rc) {
        bkp_error(_("%s: cannot make the folder: %s"), path, bkp_strerror(rc));
        c->res->damaged++;
    }
    c->res->items++;
    progress(c);
    return rc == -ENOMEM ? rc : 0;
}

static int restore_item(restore_ctx *c, bkp_item *it)
{
    struct archive_entry *e = it->entry;
    /* Symbolic links too: they are many in system trees, and a link is made
     * by name (symlink never follows its last component). */
    if (c->writers && (bkp_item_has_content(it) ||
                       (archive_entry_filetype(e) == AE_IFLNK && !archive_entry_hardlink(e))))
        return hand_over(c, it);
    /* A hard link is made once the file it names is complete: a damaged
     * one is removed, and the link then fails and is reported. */
    if (c->writers && archive_entry_hardlink(e))
        rst_writers_wait_for(c->writers, archive_entry_hardlink(e));
    if (c->dirs && rst_dirs_takes(c->dirs, it, archive_entry_pathname(e)))
        return make_dir(c, it);
    /* A copy: writing the header may convert and reallocate the entry's name. */
    char *path = strdup(archive_entry_pathname(e));
    bool damaged = false;
    int rc = 0;
    if (!path)
        return -ENOMEM;
    /* archive_write_disk sets folder owners, modes and times at close, by
     * path; past PATH_MAX that fails, so those are redone by descriptor.
     * Only plain paths: one with ".." is refused by archive_write_disk and
     * must not be finished either, wherever it would lead. */
    if (c->dirs && archive_entry_filetype(e) == AE_IFDIR && strlen(path) >= PATH_MAX - 256 &&
        rst_folder_plain_path(path)) {
        rst_dirs_add_deep(c->dirs, it, path);
        c->ndeep++;
    }

    if (archive_entry_hardlink(e))
        archive_entry_set_size(e, 0);
    char why[512];
    int ar = archive_write_header(c->w, e);
    if (ar < ARCHIVE_WARN) {
        bkp_error(_("%s: cannot restore it%s"), path, bkp_archive_why(c->w, why, sizeof(why)));
        c->res->damaged++;
        if (ar == ARCHIVE_FATAL) {
            free(path);
            return -EIO;
        }
        /* Skip its data: pop what was requested for it. */
        for (uint32_t i = 0; bkp_item_has_content(it) && i < it->nchunks; i++) {
            const uint8_t *d;
            size_t l;
            schedule(c);
            (void)rst_fetch_pop(c->fetch, &d, &l);
        }
        free(path);
        return 0;
    }
    if (ar == ARCHIVE_WARN)
        bkp_warn(_("%s: restored, but some of its metadata could not be set%s"), path,
                 bkp_archive_why(c->w, why, sizeof(why)));
    if (bkp_item_has_content(it)) {
        rc = restore_file_data(c, it, path, &damaged);
        c->res->files++;
    }
    ar = archive_write_finish_entry(c->w);
    if (ar < ARCHIVE_WARN) {
        bkp_error(_("%s: cannot set its owner, mode, times or attributes%s"), path,
                  bkp_archive_why(c->w, why, sizeof(why)));
        damaged = true;
    } else if (ar == ARCHIVE_WARN) {
        bkp_warn(_("%s: restored, but some of its metadata could not be set%s"), path,
                 bkp_archive_why(c->w, why, sizeof(why)));
    }
    if (damaged) {
        c->res->damaged++;
        if (c->to_disk)
            unlink(path); /* never leave a wrong file looking like a restored one */
    }
    c->res->items++;
    progress(c);
    free(path);
    return rc;
}

/* A target that holds anything, without --force: refused (said), -EEXIST.
 * Closes `d`. */
static int refuse_full(DIR *d, const char *target, bool force)
{
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    closedir(d);
    if (!empty && !force) {
        bkp_error(_("the target %s is not empty; restore into a new directory (after an attack, "
                    "never over the encrypted folder: what the attacker left would stay beside the "
                    "restored files), or add --force to write over what is there"),
                  target);
        return -EEXIST;
    }
    return 0;
}

/* Is the target empty (or --force given)? `fd` >= 0: the open directory
 * itself; else `target` is made when it is not there. */
static int check_target(const char *target, int fd, bool force)
{
    DIR *d = NULL;
    if (fd >= 0) {
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
            int rc = -errno;
            if (dup_fd >= 0)
                close(dup_fd);
            bkp_error(_("cannot read the target %s: %s"), target, bkp_strerror(rc));
            return rc;
        }
    } else if (!(d = opendir(target))) {
        if (errno != ENOENT) {
            int rc = -errno;
            bkp_error(_("cannot open the target %s: %s"), target, bkp_strerror(rc));
            return rc;
        }
        int rc = bkp_mkdir_p(target, 0700);
        if (rc)
            bkp_error(_("cannot create the target %s: %s"), target, bkp_strerror(rc));
        return rc;
    }
    return refuse_full(d, target, force);
}

int rst_target_check(const char *target, bool force)
{
    DIR *d = opendir(target);
    if (!d && errno != ENOENT) { /* a file, a folder that cannot be read */
        int rc = -errno;
        bkp_error(_("cannot open the target %s: %s"), target, bkp_strerror(rc));
        return rc;
    }
    return d ? refuse_full(d, target, force) : 0;
}

/*
 * The --to-archive file. It holds plaintext, so it is written mode 0600
 * under a temporary name in FILE's folder (bkp_dfile) and renamed to FILE
 * only when the restore got to its end (finish_archive): a restore that
 * fails or is killed part way never leaves a partial FILE that looks like a
 * whole one (a kill leaves the `.tmp-*` file, owner-only). FILE is looked at
 * first: an existing regular file needs --force and is then replaced by the
 * rename, which swaps the name and never opens the old file, so a hard link
 * to another file cannot make us write into that file; a link, a folder or
 * a device is refused (a link planted there again before the rename is
 * replaced, not followed). Logged. 0, or -EEXIST, -ELOOP, ...
 */
static int check_archive_file(const char *file, bool force)
{
    struct stat st;
    if (lstat(file, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        int rc = -errno;
        bkp_error(_("cannot create %s: %s"), file, bkp_strerror(rc));
        return rc;
    }
    if (S_ISLNK(st.st_mode)) {
        bkp_error(_("%s is a symbolic link: refused, and not followed (the tar stream is "
                    "plaintext); remove the link or give another file name"),
                  file);
        return -ELOOP;
    }
    if (!force) {
        bkp_error(_("%s already exists; give a new file name, or add --force to replace it"), file);
        return -EEXIST;
    }
    if (!S_ISREG(st.st_mode)) {
        bkp_error(_("%s is not a regular file: refused; give another file name"), file);
        return -EEXIST;
    }
    return 0;
}

static int open_archive_file(restore_ctx *c, const char *file, bool force)
{
    const char *slash = strrchr(file, '/');
    int rc = check_archive_file(file, force);
    if (rc)
        return rc;
    if (!slash || slash[1]) {
        c->adir = slash ? strndup(file, (size_t)(slash - file) + (slash == file)) : strdup(".");
        c->aname = strdup(slash ? slash + 1 : file);
    }
    if (!c->adir || !c->aname) {
        rc = slash && !slash[1] ? -EISDIR : -ENOMEM;
        bkp_error(_("cannot create %s: %s"), file, bkp_strerror(rc));
        return -EINVAL;
    }
    if ((rc = bkp_dfile_open(&c->af, c->adir, BKP_DURABLE_PRIVATE))) {
        bkp_error(_("cannot create %s: %s"), file, bkp_strerror(rc));
        return rc;
    }
    bkp_dfile_stream(c->af, &c->aout);
    return 0;
}

/* Publish the --to-archive file when the restore got to its end (`rc` >= 0:
 * damage found on the way is reported, and the archive holds the rest), or
 * remove it. */
static int finish_archive(restore_ctx *c, int rc)
{
    bkp_dfile *af = c->af;
    if (!af)
        return 0;
    c->af = NULL;
    if (rc < 0) {
        bkp_dfile_abort(af);
        return 0;
    }
    int err = bkp_dfile_commit(af, c->adir, c->aname,
                               BKP_DURABLE_PRIVATE | (c->o->force ? 0 : BKP_DURABLE_NOREPLACE));
    if (err)
        bkp_error(_("finishing %s: %s"), c->o->to_archive, bkp_strerror(err));
    return err;
}

static int open_writer(restore_ctx *c, int *cwd)
{
    const rst_opts *o = c->o;
    if (o->to_archive) {
        int rc = strcmp(o->to_archive, "-") ? open_archive_file(c, o->to_archive, o->force) : 0;
        if (rc)
            return rc;
        c->w = archive_write_new();
        /* Full pax keeps nanosecond times; binary header names keep bytes
         * that are not UTF-8 exactly as they were on disk. */
        if (!c->w || archive_write_set_format_pax(c->w) != ARCHIVE_OK ||
            archive_write_set_options(c->w, "hdrcharset=BINARY") < ARCHIVE_WARN ||
            (strcmp(o->to_archive, "-") ? bkp_archive_open_stream(c->w, &c->aout)
                                        : archive_write_open_filename(c->w, NULL)) != ARCHIVE_OK) {
            char why[512];
            bkp_error(_("cannot write the tar archive %s%s — check the folder and the room left "
                        "there"),
                      o->to_archive, bkp_archive_why(c->w, why, sizeof(why)));
            return -EIO;
        }
        return 0;
    }
    int rc = check_target(o->target, o->target_is_fd ? o->target_fd : -1, o->force);
    if (rc)
        return rc;
    *cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* Relative stored paths land below the target; the secure flags refuse
     * anything that would leave it. A target given as a descriptor is
     * entered by it: the path may no longer lead there. */
    if (*cwd < 0 || (o->target_is_fd ? fchdir(o->target_fd) : chdir(o->target)) < 0 ||
        (c->rootfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = -errno;
        bkp_error(_("cannot enter the target %s: %s"), o->target, bkp_strerror(rc));
        return rc;
    }
    int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_ACL |
                ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
    if (geteuid() == 0)
        flags |= ARCHIVE_EXTRACT_OWNER;
    if (o->force)
        flags |= ARCHIVE_EXTRACT_UNLINK;
    c->w = archive_write_disk_new();
    if (!c->w)
        return -ENOMEM;
    archive_write_disk_set_options(c->w, flags);
    archive_write_disk_set_standard_lookup(c->w);
    c->to_disk = true;
    if (!(c->dirs = rst_dirs_new(c->rootfd, c->w, flags)))
        return -ENOMEM;
    /*
     * One thread (this one) makes the directories, links, devices and FIFOs
     * in item order, so a folder exists before anything is put in it: plain
     * folders by descriptor (dirs.h), the rest through archive_write_disk;
     * folder owners, modes and times are set at the end, after every file.
     * Regular files, where the time goes, are created and
     * written by the writers, each through an archive_write_disk of its own
     * (the same flags, so the same metadata, exactly) on the file's last name
     * in a folder entered without following links (writers.h).
     */
    return rst_writers_new(c->repo, c->rootfd, flags, o->workers, &c->writers);
}

/*
 * The item list ends early (a tree blob damaged or missing): every item
 * after it is lost to this restore. Say how many — the generation's record,
 * which is authenticated, counts its items — rather than one file: "1
 * file(s) left out" when 300 were is the kind of answer that makes people
 * stop looking.
 */
static void list_damage(restore_ctx *c, const bkp_gen *g)
{
    uint64_t recorded = g->items;
    const char *how = c->tree_err == -ENODATA ? _("missing") : _("damaged");
    c->res->list_damaged = true;
    if (recorded > c->read) {
        c->res->unread = recorded - c->read;
        bkp_error(_("the item list of %s:%u is %s from tree blob %zu on: %llu of the %llu items it "
                    "records (files, folders, links) could not be read%s and are not restored; run "
                    "`bkp verify --read-data`, and restore them from another medium or an older "
                    "generation"),
                  g->dataset, g->seq, how, bkp_tree_reader_blob(c->tr),
                  (unsigned long long)c->res->unread, (unsigned long long)recorded,
                  c->o->path ? _(" (those under --path among them)") : "");
    } else {
        bkp_error(_("the item list of %s:%u is %s from tree blob %zu on: the rest of it could not "
                    "be read, and how many items it held is not known; those after the %llu read "
                    "are not restored: run `bkp verify --read-data`"),
                  g->dataset, g->seq, how, bkp_tree_reader_blob(c->tr),
                  (unsigned long long)c->read);
    }
}

/* The last files, then the folders' owners, modes and times (by
 * descriptor for the folders this thread made, by archive_write_disk at
 * close for the others, and by descriptor past PATH_MAX): after every file
 * in them is written. */
static void finish_writing(restore_ctx *c)
{
    rst_result *res = c->res;
    if (c->writers)
        rst_writers_finish(c->writers, &res->bytes, &res->damaged);
    if (c->dirs)
        res->damaged += rst_dirs_finish(c->dirs);
    if (c->w && archive_write_close(c->w) != ARCHIVE_OK) {
        /* Deep directories fail here and are set by fd just below; any
         * other failure (a short tar file, a directory left unset) counts. */
        if (c->to_disk && c->ndeep) {
            bkp_debug("finishing the restore: %s", archive_error_string(c->w));
        } else {
            char why[512];
            bkp_archive_why(c->w, why, sizeof(why));
            if (c->to_disk)
                bkp_error(_("cannot finish the restore%s; folders may lack their recorded times "
                            "or permissions"),
                          why);
            else
                bkp_error(_("cannot finish the tar archive%s; it may be incomplete — check the "
                            "room left there and restore again"),
                          why);
            res->damaged++;
        }
    }
    if (c->dirs)
        res->damaged += rst_dirs_finish_deep(c->dirs);
    /* Restored is on the disk before it is said to be: a power cut after
     * "restored" must not leave empty files for a hospital system started
     * on them. The writers started each file's writeback as they closed it,
     * so little is left to wait for here. */
    int rc = c->rootfd >= 0 ? bkp_sync_fs(c->rootfd) : 0;
    if (rc) {
        bkp_error(_("finishing the restore: the files could not be flushed to the disk: %s"),
                  bkp_strerror(rc));
        res->damaged++;
    }
}

int rst_restore(const bkp_repo *r, const bkp_gen *g, const rst_opts *o, rst_result *res)
{
    restore_ctx *c = calloc(1, sizeof(*c));
    int rc, cwd = -1;
    if (!c)
        return -ENOMEM;
    memset(res, 0, sizeof(*res));
    c->repo = r;
    c->o = o;
    c->res = res;
    c->rootfd = -1;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    if (!o->path || !*o->path) /* the whole generation: its recorded count is the total */
        c->total_bytes = g->stats.bytes;
    if (o->path && *o->path &&
        ((rc = bkp_strmap_new(saved_free, &c->unselected)) ||
         (rc = bkp_strmap_new(NULL, &c->selected)) || (rc = bkp_strmap_new(free, &c->relinked))))
        goto out;
    if ((rc = bkp_tree_reader_new(r, g->tree, g->ntree, &c->tr)) || (rc = open_writer(c, &cwd)) ||
        (!c->to_disk && (rc = rst_fetch_new(r, o->workers, FETCH_DEPTH, &c->fetch))))
        goto out;
    schedule(c);
    while (c->count && !rc) {
        bkp_item *it = &c->ring[c->head];
        rc = restore_item(c, it);
        bkp_item_clear(it);
        c->head = (c->head + 1) % LOOKAHEAD;
        c->count--;
        /* The cursor may still rest on the item just written, all of whose
         * chunks were requested: the next item starts from its first chunk. */
        if (c->sched_item)
            c->sched_item--;
        else
            c->sched_chunk = 0;
        schedule(c);
    }
    /* A filter that matched nothing is a mistake (a typo), never a restore. */
    if (!rc && !c->tree_err && o->path && res->items == 0) {
        bkp_error(_("nothing in %s:%u is at or below '%s'; `bkp ls %s:%u %s` lists what it holds"),
                  g->dataset, g->seq, o->path, g->dataset, g->seq, bkp_repo_shown(r));
        res->nothing = true;
    } else if (!rc && !c->tree_err && o->strip && res->items == 0) {
        bkp_error(_("%s:%u holds no folder '/%s'; `bkp ls %s:%u %s` lists what it holds"),
                  g->dataset, g->seq, o->strip, g->dataset, g->seq, bkp_repo_shown(r));
        res->nothing = true;
    }
    if (!rc && c->tree_err)
        list_damage(c, g);
    finish_writing(c);
    bkp_progress_done();
out:
    rst_writers_free(c->writers); /* before the folders' fix-ups, were it not done above */
    if (c->w)
        archive_write_free(c->w);
    if (c->rootfd >= 0)
        close(c->rootfd);
    /* A tar file people will restore from: on disk before we say so. */
    if (finish_archive(c, rc) && rc >= 0)
        res->damaged++;
    free(c->adir);
    free(c->aname);
    if (cwd >= 0) {
        if (fchdir(cwd) < 0)
            bkp_warn(_("cannot return to the working directory"));
        close(cwd);
    }
    while (c->count) {
        bkp_item_clear(&c->ring[c->head]);
        c->head = (c->head + 1) % LOOKAHEAD;
        c->count--;
    }
    rst_fetch_free(c->fetch);
    bkp_tree_reader_free(c->tr);
    bkp_strmap_free(c->unselected);
    bkp_strmap_free(c->selected);
    bkp_strmap_free(c->relinked);
    rst_dirs_free(c->dirs);
    free(c);
    return rc;
}
