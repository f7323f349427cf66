/* writers.c — regular files restored in parallel (writers.h). */
#include "restore/writers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "bkp/io/archive_why.h"
#include "bkp/store/chunker.h"
#include "bkp/io/direct.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "restore/fetch.h"
#include "restore/dump.h"
#include "restore/folder.h"
#include "restore/plain.h"

/* Dense files this large are written past the page cache (as bkp/io/direct.h
 * explains, filling it costs more than the copy), in ranges any idle writer
 * may claim; sparse ones from SHARE_MIN, through the page cache. */
#define DIRECT_MIN (1U << 20)
#define SHARE_MIN (16U << 20)
#define RANGE_BYTES (4U << 20) /* what a writer claims of a shared file at a time */
#define ALIGN BKP_DIRECT_ALIGN
/* A range gathered for O_DIRECT: up to RANGE_BYTES, one more chunk, the
 * block it starts in. */
#define GATHER_BYTES (RANGE_BYTES + BKP_CHUNK_MAX + ALIGN)

typedef struct job {
    bkp_item it;
    char *path; /* stored path, relative to the target; for messages and hard links */
} job;

/* A large file written by several writers: its owner created it through
 * archive_write_disk and sets its metadata once every range is written. */
typedef struct shared {
    const bkp_item *it;
    const char *path;
    int fd;          /* our own descriptor on the file the owner created */
    int dfd;         /* the same file opened with O_DIRECT, or -1 */
    uint64_t *at;    /* at[i]: position of chunk i in the file's data */
    uint32_t next;   /* first chunk not yet claimed */
    unsigned active; /* ranges being written */
    bool damaged;    /* said once, by whoever saw it first */
} shared;

typedef struct writer {
    struct rst_writers *w;
    int idx;
    struct archive *a; /* this thread's own: handles are not shared between threads */
    bkp_buf buf;
    uint8_t *gather; /* GATHER_BYTES, page-aligned, mapped on first use */
    int dirfd;       /* the folder this thread has entered */
    char *dir;
    bool in_dir; /* dirfd is also the working directory (for archive_write_disk) */
} writer;

struct rst_writers {
    const bkp_repo *repo;
    int root, flags;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a file queued, a range to claim, or stop */
    pthread_cond_t done; /* a file or range finished, a writer ready */
    pthread_cond_t room; /* the queue is half empty again */
    job *queue;
    unsigned cap, head, count;
    bool want_room; /* the reader waits for room */
    const char *busy[RST_WRITERS_MAX]; /* the file each writer is on, or NULL */
    shared *open[RST_WRITERS_MAX];     /* the shared file each writer owns, or NULL */
    bool stop;
    int started, failed; /* writers that finished setting up; the first error */
    unsigned listening;  /* threads waiting on `done` */
    uint64_t bytes, damaged;
    writer me[RST_WRITERS_MAX];
    pthread_t threads[RST_WRITERS_MAX];
    int nthreads;
};


int rst_place(const bkp_item *it, uint64_t pos, const uint8_t *p, size_t len, rst_put_fn put,
              void *ctx)
{
    uint64_t dense[2] = {0, (uint64_t)archive_entry_size(it->entry)};
    const uint64_t *rg = it->nsparse ? it->sparse : dense;
    uint32_t nr = it->nsparse ? it->nsparse : 1;
    uint64_t base = 0;
    for (uint32_t i = 0; i < nr && len; i++) {
        uint64_t off = rg[2 * i], rlen = rg[2 * i + 1];
        if (pos < base + rlen) {
            uint64_t skip = pos - base, n = rlen - skip < len ? rlen - skip : len;
            int rc = put(ctx, p, (size_t)n, off + skip);
            if (rc)
                return rc;
            p += n;
            len -= n;
            pos += n;
        }
        base += rlen;
    }
    return len ? -EBADMSG : 0;
}

static int put_archive(void *ctx, const uint8_t *p, size_t n, uint64_t off)
{
    return archive_write_data_block(ctx, p, n, (la_int64_t)off) == ARCHIVE_OK ? 0 : -EIO;
}

static int put_fd(void *ctx, const uint8_t *p, size_t n, uint64_t off)
{
    return bkp_pwrite_full(*(int *)ctx, p, n, off);
}

/* Fetch and authenticate chunk `i` of `it` into the writer's buffer; a
 * damaged or missing chunk is reported here. */
static int fetch_chunk(writer *me, const bkp_item *it, uint32_t i, const char *path)
{
    int rc = bkp_repo_get_sealed(me->w->repo, BKP_BLOB_DATA, it->chunks[i].id, &me->buf);
    if (!rc && me->buf.len != it->chunks[i].len)
        rc = -EBADMSG;
    if (rc)
        rst_fetch_report(me->w->repo, path, it->chunks[i].id, rc);
    return rc;
}

static void count_bytes(rst_writers *w, uint64_t n)
{
    __atomic_fetch_add(&w->bytes, n, __ATOMIC_RELAXED);
}

/* Under the lock: wait for `done`, counted so that those who signal it know
 * whether anyone listens (most of the time no one does). */
static void wait_done(rst_writers *w)
{
    w->listening++;
    pthread_cond_wait(&w->done, &w->lock);
    w->listening--;
}

static void signal_done(rst_writers *w)
{
    if (w->listening)
        pthread_cond_broadcast(&w->done);
}

/* A file written by this writer alone, through archive_write_disk. */
static bool write_whole(writer *me, const bkp_item *it, const char *path)
{
    uint64_t pos = 0;
    for (uint32_t i = 0; i < it->nchunks; i++) {
        if (fetch_chunk(me, it, i, path))
            return false;
        int rc = rst_place(it, pos, me->buf.data, me->buf.len, put_archive, me->a);
        if (rc == -EBADMSG) {
            bkp_error(_("%s: its chunks do not fit its recorded size; the file is not restored"),
                      path);
            return false;
        }
        if (rc) {
            /* A full disk, an I/O error: this file is not what it should be. */
            char why[512];
            bkp_error(_("%s: cannot write its data%s; the file is not restored"), path,
                      bkp_archive_why(me->a, why, sizeof(why)));
            return false;
        }
        pos += me->buf.len;
        count_bytes(me->w, me->buf.len);
    }
    return true;
}

/* The first writer to see a shared file fail says why; the others stop. */
static void spoil(rst_writers *w, shared *s, int rc)
{
    pthread_mutex_lock(&w->lock);
    bool first = !s->damaged;
    s->damaged = true;
    pthread_mutex_unlock(&w->lock);
    if (first && rc == -EBADMSG)
        bkp_error(_("%s: its chunks do not fit its recorded size; the file is not restored"),
                  s->path);
    else if (first && rc)
        bkp_error(_("%s: %s; the file is not restored"), s->path, bkp_strerror(rc));
}

/* Chunks [a, b) of a dense shared file, gathered in an aligned buffer: the
 * whole blocks inside the range go out with O_DIRECT, the partial blocks at
 * its ends (which the neighbouring ranges share) through the page cache.
 * False, with nothing written, when the range does not fit the buffer. */
static bool write_direct(writer *me, shared *s, uint32_t a, uint32_t b)
{
    uint64_t start = s->at[a], end = s->at[b - 1] + s->it->chunks[b - 1].len;
    uint64_t base = start & ~(uint64_t)(ALIGN - 1), n = 0;
    if (end - base > GATHER_BYTES)
        return false;
    if (!me->gather) {
        void *p =
            mmap(NULL, GATHER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return false;
        me->gather = p;
    }
    if (end > (uint64_t)archive_entry_size(s->it->entry)) {
        spoil(me->w, s, -EBADMSG);
        return true;
    }
    for (uint32_t i = a; i < b; i++) {
        if (__atomic_load_n(&s->damaged, __ATOMIC_RELAXED) || fetch_chunk(me, s->it, i, s->path)) {
            spoil(me->w, s, 0);
            return true;
        }
        memcpy(me->gather + (s->at[i] - base), me->buf.data, me->buf.len);
        n += me->buf.len;
    }
    uint64_t lo = (start + ALIGN - 1) & ~(uint64_t)(ALIGN - 1), hi = end & ~(uint64_t)(ALIGN - 1);
    int rc;
    if (lo >= hi) {
        rc = bkp_pwrite_full(s->fd, me->gather + (start - base), end - start, start);
    } else {
        rc = bkp_pwrite_full(s->fd, me->gather + (start - base), lo - start, start);
        int d = rc ? rc : bkp_pwrite_full(s->dfd, me->gather + (lo - base), hi - lo, lo);
        /* Refused on write (some FUSE file systems): the page cache takes it. */
        rc = d == -EINVAL ? bkp_pwrite_full(s->fd, me->gather + (lo - base), hi - lo, lo) : d;
        if (!rc)
            rc = bkp_pwrite_full(s->fd, me->gather + (hi - base), end - hi, hi);
    }
    if (rc)
        spoil(me->w, s, rc);
    count_bytes(me->w, n);
    return true;
}

/* Chunks [a, b) of a shared file, each at its own offset: the ranges of
 * different writers never overlap, so no ordering between them is needed. */
static void write_range(writer *me, shared *s, uint32_t a, uint32_t b)
{
    if (s->dfd >= 0 && write_direct(me, s, a, b))
        return;
    uint64_t n = 0;
    for (uint32_t i = a; i < b && !__atomic_load_n(&s->damaged, __ATOMIC_RELAXED); i++) {
        if (fetch_chunk(me, s->it, i, s->path)) {
            spoil(me->w, s, 0);
            break;
        }
        int rc = rst_place(s->it, s->at[i], me->buf.data, me->buf.len, put_fd, &s->fd);
        if (rc) {
            spoil(me->w, s, rc);
            break;
        }
        n += me->buf.len;
    }
    /* Start writeback now: a final fsync, or the next file, finds little left. */
    (void)sync_file_range(s->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    count_bytes(me->w, n);
}

/* Under the lock: claim the next range of `s`, if any is left. */
static bool claim_in(shared *s, uint32_t *a, uint32_t *b)
{
    if (s->damaged || s->next >= s->it->nchunks)
        return false;
    uint64_t bytes = 0;
    *a = *b = s->next;
    while (*b < s->it->nchunks && bytes < RANGE_BYTES)
        bytes += s->it->chunks[(*b)++].len;
    s->next = *b;
    s->active++;
    return true;
}

/* Under the lock: a shared file with a range left, and the claim. */
static shared *claim(rst_writers *w, uint32_t *a, uint32_t *b)
{
    for (int i = 0; i < w->nthreads; i++)
        if (w->open[i] && claim_in(w->open[i], a, b))
            return w->open[i];
    return NULL;
}

static void claimed_done(rst_writers *w, shared *s)
{
    pthread_mutex_lock(&w->lock);
    s->active--;
    signal_done(w);
    pthread_mutex_unlock(&w->lock);
}

/* Our own descriptor on the file archive_write_disk has just made, by its
 * last name in the folder this thread is in (no link is followed): only the
 * empty file just created, and only ours — not a FIFO, a link or a file
 * someone with write access to the target put in its place. -1 otherwise,
 * and the file is written through archive_write_disk alone. */
static int open_own(writer *me, const char *name, bool direct)
{
    int fd =
        openat(me->dirfd, name,
               O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | (direct ? O_DIRECT : 0));
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
                    st.st_size != 0 || st.st_uid != geteuid())) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The same file again, with O_DIRECT (a flag of the open file, so a second
 * one), and only if it is the same inode; -1 where the file system refuses. */
static int open_direct(writer *me, const char *name, int fd)
{
    struct stat a, b;
    int dfd = open_own(me, name, true);
    if (dfd >= 0 && (fstat(fd, &a) != 0 || fstat(dfd, &b) != 0 || a.st_dev != b.st_dev ||
                     a.st_ino != b.st_ino)) {
        close(dfd);
        dfd = -1;
    }
    return dfd;
}

/* A large file: offered to every idle writer in ranges; this one writes
 * ranges too, and returns once all are written. */
static bool write_shared(writer *me, const bkp_item *it, const char *path, const char *name)
{
    rst_writers *w = me->w;
    shared s = {.it = it, .path = path, .fd = open_own(me, name, false), .dfd = -1};
    if (s.fd < 0 || !(s.at = malloc(it->nchunks * sizeof(*s.at)))) {
        if (s.fd >= 0)
            close(s.fd);
        return write_whole(me, it, path);
    }
    if (!it->nsparse)
        s.dfd = open_direct(me, name, s.fd);
    for (uint32_t i = 0; i < it->nchunks; i++)
        s.at[i] = i ? s.at[i - 1] + it->chunks[i - 1].len : 0;
    uint32_t a, b;
    pthread_mutex_lock(&w->lock);
    w->open[me->idx] = &s;
    pthread_cond_broadcast(&w->work);
    while (claim_in(&s, &a, &b)) {
        pthread_mutex_unlock(&w->lock);
        write_range(me, &s, a, b);
        claimed_done(w, &s);
        pthread_mutex_lock(&w->lock);
    }
    /* Nothing left to claim: wait for the ranges other writers still write. */
    while (s.active)
        wait_done(w);
    w->open[me->idx] = NULL;
    pthread_mutex_unlock(&w->lock);
    if (s.dfd >= 0)
        close(s.dfd);
    if (close(s.fd) < 0 && !s.damaged)
        spoil(w, &s, -errno);
    free(s.at);
    return !s.damaged;
}

/* Open the folder `dir` for this thread (kept while files of the same
 * folder follow one another); it becomes the working directory only for a
 * file archive_write_disk makes (cwd_in). */
static int enter(writer *me, const char *dir, size_t len)
{
    if (me->dir && strlen(me->dir) == len && !memcmp(me->dir, dir, len))
        return 0;
    char *d = len ? strndup(dir, len) : strdup(".");
    int fd = -1, rc = d ? rst_folder_open(me->w->root, d, &fd) : -ENOMEM;
    if (rc) {
        free(d);
        return rc;
    }
    if (me->dirfd >= 0)
        close(me->dirfd);
    free(me->dir);
    me->dirfd = fd;
    me->dir = d;
    me->in_dir = false;
    return 0;
}

static int cwd_in(writer *me)
{
    if (!me->in_dir && fchdir(me->dirfd) < 0)
        return -errno;
    me->in_dir = true;
    return 0;
}

typedef struct put_end {
    int fd;
    uint64_t end; /* where the data written so far ends */
} put_end;

static int put_plain(void *ctx, const uint8_t *p, size_t n, uint64_t off)
{
    put_end *o = ctx;
    if (off + n > o->end)
        o->end = off + n;
    return bkp_pwrite_full(o->fd, p, n, off);
}

/* A plain file (plain.h), made by its descriptor: no archive_write_disk. */
static bool write_plain(writer *me, const bkp_item *it, const char *path, const char *name)
{
    put_end o = {.fd = rst_plain_create(me->dirfd, name)};
    if (o.fd < 0) {
        bkp_error(_("%s: cannot create it: %s; the file is not restored"), path,
                  o.fd == -ENOTEMPTY ? _("a folder that is not empty is in the way")
                                     : bkp_strerror(o.fd));
        return false;
    }
    bool good = true;
    uint64_t pos = 0;
    for (uint32_t i = 0; good && i < it->nchunks; i++) {
        if (fetch_chunk(me, it, i, path)) {
            good = false;
            break;
        }
        int rc = rst_place(it, pos, me->buf.data, me->buf.len, put_plain, &o);
        if (rc == -EBADMSG)
            bkp_error(_("%s: its chunks do not fit its recorded size; the file is not restored"),
                      path);
        else if (rc)
            bkp_error(_("%s: %s; the file is not restored"), path, bkp_strerror(rc));
        good = !rc;
        pos += me->buf.len;
        count_bytes(me->w, me->buf.len);
    }
    if (good && rst_plain_finish(me->a, me->w->flags, o.fd, it, o.end, path))
        good = false;
    if (close(o.fd) < 0 && good) {
        bkp_error(_("%s: %s; the file is not restored"), path, bkp_strerror(-errno));
        good = false;
    }
    if (!good)
        (void)unlinkat(me->dirfd, name, 0); /* never leave a wrong file looking restored */
    return good;
}

/* Create, write and finish one file; false when it is not restored exactly
 * (said here). A plain file is made by its descriptor (plain.h), anything
 * else by archive_write_disk; either sees only its last name, in the folder
 * this thread has entered: nothing on the way can be a link it follows. */
static bool restore_file(writer *me, job *j)
{
    bkp_item *it = &j->it;
    const char *path = j->path, *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    bool data = archive_entry_filetype(it->entry) == AE_IFREG;
    if (data && rst_item_check(it, (uint64_t)archive_entry_size(it->entry), path))
        return false; /* its stored list is not whole: said, not restored */
    int rc = enter(me, path, slash ? (size_t)(slash - path) : 0);
    if (rc) {
        bkp_error(_("%s: cannot enter its folder: %s; the file is not restored"), path,
                  rc == -ELOOP ? _("a symbolic link is on the way (refused, not followed)")
                               : bkp_strerror(rc));
        return false;
    }
    uint64_t size = data ? (uint64_t)archive_entry_size(it->entry) : 0;
    bool large = size >= (it->nsparse ? SHARE_MIN : DIRECT_MIN);
    if (data && !large && rst_plain_fits(it, me->w->flags))
        return write_plain(me, it, path, name);
    if ((rc = cwd_in(me))) {
        bkp_error(_("%s: cannot enter its folder: %s; the file is not restored"), path,
                  bkp_strerror(rc));
        return false;
    }
    archive_entry_copy_pathname(it->entry, name);
    char why[512];
    int ar = archive_write_header(me->a, it->entry);
    if (ar < ARCHIVE_WARN) {
        bkp_error(_("%s: cannot restore it%s"), path, bkp_archive_why(me->a, why, sizeof(why)));
        return false;
    }
    if (ar == ARCHIVE_WARN)
        bkp_warn(_("%s: restored, but some of its metadata could not be set%s"), path,
                 bkp_archive_why(me->a, why, sizeof(why)));
    bool good =
        !data || (large ? write_shared(me, it, path, name) : write_whole(me, it, path));
    /* Times, owner, mode, xattrs, ACLs and flags, after the last byte. */
    ar = archive_write_finish_entry(me->a);
    if (ar < ARCHIVE_WARN) {
        bkp_error(_("%s: cannot set its owner, mode, times or attributes%s"), path,
                  bkp_archive_why(me->a, why, sizeof(why)));
        good = false;
    } else if (ar == ARCHIVE_WARN) {
        bkp_warn(_("%s: restored, but some of its metadata could not be set%s"), path,
                 bkp_archive_why(me->a, why, sizeof(why)));
    }
    if (!good)
        (void)unlinkat(me->dirfd, name, 0); /* never leave a wrong file looking restored */
    return good;
}

/* Set up this thread's own working directory and archive_write_disk. */
static int writer_setup(writer *me)
{
    if (unshare(CLONE_FS) < 0)
        return -errno;
    if (!(me->a = archive_write_disk_new()))
        return -ENOMEM;
    archive_write_disk_set_options(me->a, me->w->flags);
    archive_write_disk_set_standard_lookup(me->a);
    return 0;
}

static void writer_loop(writer *me)
{
    rst_writers *w = me->w;
    uint32_t a, b;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        shared *s = claim(w, &a, &b); /* help with a large file first */
        if (s) {
            pthread_mutex_unlock(&w->lock);
            write_range(me, s, a, b);
            claimed_done(w, s);
            pthread_mutex_lock(&w->lock);
            continue;
        }
        if (w->count) {
            job j = w->queue[w->head];
            w->head = (w->head + 1) % w->cap;
            w->count--;
            w->busy[me->idx] = j.path;
            /* The reader refills the queue half at a time: one wake-up per
             * several files, not two per file. */
            if (w->want_room && w->count <= w->cap / 2) {
                w->want_room = false;
                pthread_cond_signal(&w->room);
            }
            pthread_mutex_unlock(&w->lock);
            bool good = restore_file(me, &j);
            pthread_mutex_lock(&w->lock);
            w->busy[me->idx] = NULL;
            w->damaged += !good;
            signal_done(w);
            pthread_mutex_unlock(&w->lock);
            bkp_item_clear(&j.it);
            free(j.path);
            pthread_mutex_lock(&w->lock);
            continue;
        }
        if (w->stop)
            break;
        pthread_cond_wait(&w->work, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
}

static void *writer_main(void *arg)
{
    writer *me = arg;
    rst_writers *w = me->w;
    int rc = writer_setup(me);
    pthread_mutex_lock(&w->lock);
    w->started++;
    if (rc && !w->failed)
        w->failed = rc;
    signal_done(w);
    pthread_mutex_unlock(&w->lock);
    if (!rc)
        writer_loop(me);
    if (me->a && archive_write_close(me->a) != ARCHIVE_OK) {
        char why[512];
        bkp_error(_("cannot finish the restore%s; folders may lack their recorded times or "
                    "permissions"),
                  bkp_archive_why(me->a, why, sizeof(why)));
        pthread_mutex_lock(&w->lock);
        w->damaged++;
        pthread_mutex_unlock(&w->lock);
    }
    if (me->a)
        archive_write_free(me->a);
    me->a = NULL;
    if (me->gather)
        munmap(me->gather, GATHER_BYTES);
    me->gather = NULL;
    return NULL;
}

int rst_writers_new(const bkp_repo *repo, int target_fd, int flags, int n, rst_writers **out)
{
    rst_writers *w = calloc(1, sizeof(*w));
    if (n <= 0)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN) + RST_WRITERS_WAITING;
    n = n < 1 ? 1 : n > RST_WRITERS_MAX ? RST_WRITERS_MAX : n;
    if (!w || !(w->queue = calloc((size_t)n * RST_WRITERS_QUEUE, sizeof(*w->queue)))) {
        free(w);
        return -ENOMEM;
    }
    w->repo = repo;
    w->root = target_fd;
    w->flags = flags;
    w->cap = (unsigned)n * RST_WRITERS_QUEUE;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    pthread_cond_init(&w->room, NULL);
    for (int i = 0; i < n; i++) {
        w->me[i] = (writer){.w = w, .idx = i, .dirfd = -1};
        if (bkp_thread_create(&w->threads[i], writer_main, &w->me[i]) != 0)
            break;
        pthread_mutex_lock(&w->lock); /* the writers read it (claim) */
        w->nthreads++;
        pthread_mutex_unlock(&w->lock);
    }
    pthread_mutex_lock(&w->lock);
    while (w->started < w->nthreads)
        wait_done(w);
    int rc = !w->nthreads ? -EAGAIN : w->failed;
    pthread_mutex_unlock(&w->lock);
    if (rc) {
        bkp_error(_("cannot start the restore's writers: %s"), bkp_strerror(rc));
        rst_writers_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int rst_writers_put(rst_writers *w, bkp_item *it)
{
    job j = {.it = *it, .path = strdup(archive_entry_pathname(it->entry))};
    if (!j.path)
        return -ENOMEM;
    bkp_item_init(it);
    pthread_mutex_lock(&w->lock);
    while (w->count == w->cap) {
        w->want_room = true;
        pthread_cond_wait(&w->room, &w->lock);
    }
    w->queue[(w->head + w->count) % w->cap] = j;
    w->count++;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* Under the lock: is a file named `path` queued or being written? */
static bool in_flight(const rst_writers *w, const char *path)
{
    for (unsigned i = 0; i < w->count; i++)
        if (!strcmp(w->queue[(w->head + i) % w->cap].path, path))
            return true;
    for (int i = 0; i < w->nthreads; i++)
        if (w->busy[i] && !strcmp(w->busy[i], path))
            return true;
    return false;
}

void rst_writers_wait_for(rst_writers *w, const char *path)
{
    pthread_mutex_lock(&w->lock);
    while (in_flight(w, path))
        wait_done(w);
    pthread_mutex_unlock(&w->lock);
}

uint64_t rst_writers_bytes(rst_writers *w)
{
    return __atomic_load_n(&w->bytes, __ATOMIC_RELAXED);
}

static void stop_all(rst_writers *w)
{
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    w->nthreads = 0;
}

void rst_writers_finish(rst_writers *w, uint64_t *bytes, uint64_t *damaged)
{
    stop_all(w);
    *bytes += w->bytes;
    *damaged += w->damaged;
}

void rst_writers_free(rst_writers *w)
{
    if (!w)
        return;
    stop_all(w);
    /* Jobs left queued (a restore stopped early): nothing else owns them. */
    for (; w->count; w->count--, w->head = (w->head + 1) % w->cap) {
        bkp_item_clear(&w->queue[w->head].it);
        free(w->queue[w->head].path);
    }
    for (int i = 0; i < RST_WRITERS_MAX; i++) {
        if (w->me[i].dirfd >= 0 && w->me[i].w)
            close(w->me[i].dirfd);
        free(w->me[i].dir);
        bkp_buf_free(&w->me[i].buf);
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->room);
    free(w->queue);
    free(w);
}
