/*
 * capture_pax.c — a data set's paths on another server: the pax archive its
 * agent sends (pax.h), entry by entry into the item stream, each held to
 * the backup server's rule first (bkp_pax_check). The bytes are copied
 * once, from libarchive's buffer into the read slabs, and chunked as a
 * local file's are; memory is bounded as for a local capture.
 *
 * While the archive comes, a thread tells the agent what the files cache
 * holds (wire.h, bkp_wire_stamp): a regular file whose stat is the same
 * crosses without its bytes, and its content is taken from the cache as a
 * local unchanged file's is. Only files whose every chunk the repository
 * still has are told, so a file said unchanged that the cache cannot give
 * is the source's lie, and refused. The cache is kept as for a local tree,
 * and the change-rate guard compares each file's content with the last
 * backup's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/capture/capture_internal.h"
#include "bkp/capture/pax.h"
#include "bkp/capture/walk.h"
#include "bkp/host/wire.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/text.h"

#define INPUT_BLOCK (256U << 10)

typedef struct input {
    int fd, cancel;
    int err;        /* why the last read failed */
    uint64_t bytes; /* read so far */
    bool eof;       /* the connection's end was read */
    uint8_t buf[INPUT_BLOCK];
} input;

static la_ssize_t on_read(struct archive *a, void *arg, const void **out)
{
    input *in = arg;
    for (;;) {
        struct pollfd w[2] = {{.fd = in->fd, .events = POLLIN},
                              {.fd = in->cancel, .events = POLLIN}};
        if (poll(w, in->cancel >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            in->err = -errno;
        } else if (in->cancel >= 0 && (w[1].revents & POLLIN) && !(w[0].revents & POLLIN)) {
            in->err = -ECANCELED;
        } else {
            ssize_t n = read(in->fd, in->buf, sizeof(in->buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n >= 0) {
                *out = in->buf;
                in->bytes += (uint64_t)n;
                in->eof = n == 0;
                return n;
            }
            in->err = -errno;
        }
        archive_set_error(a, -in->err, "%s", bkp_strerror_en(in->err));
        return -1;
    }
}

/* What the files cache holds, told to the agent (the thread's). */
typedef struct stamper {
    capture_ctx *c;
    int fd;      /* the agent's standard input, non-blocking */
    int stop[2]; /* written: give up */
    atomic_bool stopping;
    pthread_t thread;
    bool started;
} stamper;

/* Is `path` one the agent will walk: below a path asked for, neither it
 * nor a folder above it (below that path) excluded? Paths come in walk
 * order, and so do the roots: `*root` moves on with them. */
static bool asked(const capture_ctx *c, const char *path, size_t *root)
{
    const bkp_capture *out = c->out;
    while (*root < out->npaths && !bkp_walk_below(out->paths[*root], path) &&
           bkp_walk_cmp(out->paths[*root], path) < 0)
        (*root)++;
    if (*root == out->npaths || !bkp_walk_below(out->paths[*root], path))
        return false;
    if (!c->o->nexclude)
        return true;
    size_t base = strlen(out->paths[*root]);
    char *p = strdup(path);
    bool ok = p != NULL;
    for (size_t n = strlen(path); ok && n >= base; n--) {
        if (p[n] != '/' && p[n])
            continue;
        p[n] = '\0';
        ok = !bkp_walk_excluded(p, c->o->exclude, c->o->nexclude);
        if (n == base)
            break;
    }
    free(p);
    return ok;
}

#define STAMPS_FRAME (256U << 10)

/* Write all of `len` bytes, unless told to stop: 0 or a negative errno. */
static int put_all(stamper *t, const uint8_t *p, size_t len)
{
    while (len) {
        struct pollfd w[2] = {{.fd = t->fd, .events = POLLOUT},
                              {.fd = t->stop[0], .events = POLLIN}};
        if (poll(w, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w[1].revents)
            return -ECANCELED;
        ssize_t n = write(t->fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno; /* EPIPE: the agent is done */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int put_frame(stamper *t, bkp_buf *b)
{
    uint8_t h[BKP_WIRE_HEADER];
    int rc = bkp_wire_head(h, BKP_WIRE_STAMPS, b->len);
    if (!rc && !(rc = put_all(t, h, sizeof(h))))
        rc = put_all(t, b->data, b->len);
    bkp_buf_reset(b);
    return rc;
}

static void *stamp_thread(void *arg)
{
    stamper *t = arg;
    capture_ctx *c = t->c;
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL); /* an agent done is EPIPE, not a signal */
    bkp_fcache *fc = NULL;
    bkp_item it = {0};
    bkp_buf b;
    bool found;
    int rc = 0;
    bkp_buf_init(&b);
    if (!c->o->no_cache && !bkp_fcache_open(c->repo, c->o->dataset, &fc, &found)) {
        bool vouched = bkp_fcache_vouches(fc);
        const char *path;
        bkp_fstat st;
        size_t root = 0, first = 16U << 10; /* a small first frame: the agent waits for it */
        while (!rc && !atomic_load(&t->stopping) && bkp_fcache_next(fc, &path, &st, &it) > 0) {
            size_t plen = strlen(path);
            /* Racily clean when written (timestamps no file has): read
             * again. One of a local capture's (a device and inode of its
             * own): not what an agent compares. Not asked for: the source
             * learns nothing of it. */
            bool held = S_ISREG(st.mode) && st.mtime != INT64_MIN && plen <= 4095 && !st.dev &&
                        !st.ino && asked(c, path, &root);
            for (uint32_t i = 0; held && !vouched && i < it.nchunks; i++)
                held = bkp_repo_has(c->repo, it.chunks[i].id);
            if (!held)
                continue;
            bkp_wire_stamp w = {.path = path,
                                .plen = (uint32_t)plen,
                                .size = st.size,
                                .mtime = st.mtime,
                                .ctime = st.ctime,
                                .mode = st.mode};
            bkp_wire_stamp_put(&b, &w);
            if (b.failed)
                rc = -ENOMEM;
            else if (b.len >= (first ? first : STAMPS_FRAME)) {
                rc = put_frame(t, &b);
                first = 0;
            }
        }
        if (!rc && b.len && !b.failed)
            rc = put_frame(t, &b);
    }
    free(it.chunks);
    free(it.sparse);
    bkp_buf_free(&b);
    bkp_fcache_free(fc);
    close(t->fd); /* the end of what we hold */
    t->fd = -1;
    return NULL;
}

static void stamper_start(stamper *t, capture_ctx *c, int fd)
{
    *t = (stamper){.c = c, .fd = fd, .stop = {-1, -1}};
    atomic_init(&t->stopping, false);
    if (fd < 0)
        return;
    if (pipe2(t->stop, O_CLOEXEC) == 0 && bkp_thread_create(&t->thread, stamp_thread, t) == 0) {
        t->started = true;
        return;
    }
    close(fd); /* nothing told: every file crosses whole */
    t->fd = -1;
}

static void stamper_end(stamper *t)
{
    atomic_store(&t->stopping, true);
    if (t->started) {
        (void)!write(t->stop[1], "x", 1);
        pthread_join(t->thread, NULL);
    }
    for (int i = 0; i < 2; i++)
        if (t->stop[i] >= 0)
            close(t->stop[i]);
}

/* The stat the files cache keeps of a source's file: what the entry
 * carries, which is what the agent compares (pax.c): size, times, mode.
 * No device or inode: pax carries none (what libarchive's reader makes up
 * for them is its own), so they are 0 here and there. */
/* The permissions the source's stat gave. libarchive reads an access ACL
 * into the mode, its group entry into the group bits, where a stat holds
 * the ACL's mask: put the mask back, or a file with an ACL never compares
 * unchanged and crosses whole every night. */
static mode_t perm_of(struct archive_entry *e)
{
    mode_t m = archive_entry_perm(e) & 07777;
    int type, perm, tag, qual;
    const char *name;
    if (archive_entry_acl_reset(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS) > 0)
        while (archive_entry_acl_next(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, &type, &perm, &tag, &qual,
                                      &name) == ARCHIVE_OK)
            if (tag == ARCHIVE_ENTRY_ACL_MASK)
                m = (m & ~(mode_t)070) | (mode_t)((perm & 7) << 3);
    return m;
}

static void stat_of(struct archive_entry *e, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | perm_of(e);
    st->st_size = (off_t)archive_entry_size(e);
    st->st_mtim.tv_sec = archive_entry_mtime(e);
    st->st_mtim.tv_nsec = archive_entry_mtime_nsec(e);
    st->st_ctim.tv_sec =
        archive_entry_ctime_is_set(e) ? archive_entry_ctime(e) : st->st_mtim.tv_sec;
    st->st_ctim.tv_nsec =
        archive_entry_ctime_is_set(e) ? archive_entry_ctime_nsec(e) : st->st_mtim.tv_nsec;
}

/* A regular file's bytes as the archive gives them: in order, within its
 * size. -EBADMSG (`*why` says) for bytes outside it; a broken archive is
 * libarchive's to find. */
static int take_content(capture_ctx *c, struct archive *a, pending *p, const char **why)
{
    uint64_t size = (uint64_t)archive_entry_size(p->item.entry), end = 0;
    const void *buf;
    size_t n;
    la_int64_t off;
    int ar, rc = 0;
    while (!rc && (ar = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
        if (off < 0 || (uint64_t)off < end || (uint64_t)off > size || n > size - (uint64_t)off) {
            *why = N_("a file's data outside its size");
            return -EBADMSG;
        }
        if (n)
            rc = capture_take(c, p, buf, n, (uint64_t)off);
        end = (uint64_t)off + n;
    }
    if (rc)
        return rc;
    if (ar != ARCHIVE_EOF) {
        *why = N_("an archive cut short or broken");
        return -EBADMSG;
    }
    return capture_regions_done(c, p, p->path);
}

/* A regular file the agent sent without its bytes (`k` says so): its
 * content from the files cache, which must hold it with this stat. */
static int take_unchanged(capture_ctx *c, const bkp_pax_check *k, pending *p, const char **why)
{
    struct archive_entry *it = p->item.entry;
    struct stat st;
    archive_entry_set_size(it, (la_int64_t)k->size);
    stat_of(it, &st);
    int rc = capture_lookup_cache(c, p, &st);
    if (!rc && !p->hit) {
        *why = N_("a file said unchanged whose content the files cache does not hold");
        rc = -EBADMSG;
    }
    if (rc) {
        capture_pending_free(p);
        return rc;
    }
    bkp_capture_stats *s = &c->out->stats;
    p->cacheable = true; /* held with this stat since the last backup: not racy */
    s->files++;
    s->bytes += k->size;
    capture_enqueue_held(c, p);
    return 0;
}

/* Entry `e`, checked and named `path`, into the item stream. */
static int take_entry(capture_ctx *c, const bkp_pax_check *k, struct archive *a,
                      struct archive_entry *e, const char *path, const char **why)
{
    pending *p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(path)) || !(p->item.entry = archive_entry_clone(e))) {
        if (p)
            capture_pending_free(p);
        return -ENOMEM;
    }
    struct archive_entry *it = p->item.entry;
    archive_entry_copy_sourcepath(it, NULL);
    archive_entry_copy_pathname(it, path[1] ? path + 1 : "."); /* as a local walk stores it */
    bkp_capture_stats *s = &c->out->stats;
    if (archive_entry_hardlink(it)) {
        s->links++;
    } else if (k->unchanged) {
        return take_unchanged(c, k, p, why);
    } else if (archive_entry_filetype(it) == AE_IFREG) {
        struct stat st;
        stat_of(it, &st);
        int rc = capture_lookup_cache(c, p, &st);
        if (rc) {
            capture_pending_free(p);
            return rc;
        }
        /* Its bytes are on their way whatever the cache says, and they are
         * what the guard compares: a source that kept a file's stat and
         * changed its bytes is counted as changed, not as unchanged. */
        if (p->was == 1) {
            memcpy(p->old_content, p->item.content, BKP_ID_LEN);
            p->was = 0;
        }
        p->hit = false;
        capture_drop_content(p);
        /* Racily clean by the source's clock, which is the one its times
         * are in: not by ours. */
        p->cacheable = !k->racy;
        s->files++;
        s->bytes += (uint64_t)archive_entry_size(it);
        capture_enqueue(c, p);
        return take_content(c, a, p, why);
    } else if (archive_entry_filetype(it) == AE_IFDIR) {
        s->dirs++;
    } else {
        s->other++;
    }
    capture_enqueue(c, p);
    return 0;
}

int capture_remote(capture_ctx *c)
{
    const bkp_capture_remote *rm = c->o->remote;
    input *in = malloc(sizeof(*in));
    struct archive *a = archive_read_new();
    bkp_pax_check k = {0};
    const char *why = NULL;
    int rc = -ENOMEM;
    size_t counted = (size_t)-1;
    char *bad = NULL; /* the name of the entry that broke the rule */
    stamper t;
    stamper_start(&t, c, rm->stamps_fd);
    if (!in || !a || bkp_pax_check_init(&k, c->out->paths, c->out->npaths))
        goto out;
    *in = (input){.fd = rm->fd, .cancel = rm->cancel_fd};
    rc = -EBADMSG;
    why = N_("no archive");
    if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open(a, in, NULL, on_read, NULL) != ARCHIVE_OK)
        goto out;
    for (;;) {
        struct archive_entry *e;
        const char *path;
        int ar = archive_read_next_header(a, &e);
        if (ar == ARCHIVE_EOF) {
            rc = 0;
            break;
        }
        why = N_("an archive cut short or broken");
        if (ar != ARCHIVE_OK) { /* a warning too: an agent's archive gives none */
            rc = -EBADMSG;
            break;
        }
        if ((rc = bkp_pax_check_entry(&k, e, &path, &why))) {
            const char *name = archive_entry_pathname(e);
            bad = bkp_text_safe(name ? name : "", BKP_TEXT_FIELD);
            break;
        }
        why = NULL; /* set by take_entry when it is the archive's fault */
        if ((rc = take_entry(c, &k, a, e, path, &why)) || (rc = capture_drain(c, false)))
            break;
        if (k.root != counted) {
            counted = k.root;
            c->roots_read++; /* something of this root came */
        }
        const bkp_capture_stats *s = &c->out->stats;
        bkp_progress_meter(c->o->dataset, s->files + s->links, c->o->expect_files, "files",
                           s->bytes_read, &c->t0);
    }
out:
    /* The connection's end, not the archive's: how it ended is the
     * caller's to say (bkp_remote_finish: refused, cut, timed out). */
    if (in && rc == -EBADMSG && !bad && (in->err || in->eof))
        rc = in->err ? in->err : -EPIPE;
    else if (in && !rc && !in->bytes)
        rc = -EPIPE; /* nothing came at all */
    if (in)
        c->out->stats.bytes_from_source = in->bytes;
    if (rc == -EBADMSG && why) {
        const char *es = a ? archive_error_string(a) : NULL;
        char *said = bad ? bad : bkp_text_safe(es ? es : "", BKP_TEXT_FIELD);
        bkp_error(_("%s: what the source server %s sent is not taken: %s%s%s%s. Nothing is "
                    "sealed; check that server's agent (`bkp host check %s`)"),
                  c->o->dataset, rm->host, _(why), said && *said ? " (" : "",
                  said && *said ? said : "", said && *said ? ")" : "", rm->host);
        if (said != bad)
            free(said);
        rc = -EPROTO; /* said */
    }
    free(bad);
    stamper_end(&t);
    bkp_pax_check_clear(&k);
    if (a)
        archive_read_free(a);
    free(in);
    return rc;
}
