/*
 * capture_pax.c — a data set's paths on another server: the pax archive its
 * agent sends (pax.h), entry by entry into the item stream, each held to
 * the backup server's rule first (bkp_pax_check). The bytes are copied
 * once, from libarchive's buffer into the read slabs, and chunked as a
 * local file's are; memory is bounded as for a local capture.
 *
 * Every file's content crosses (the agent does not know our files cache);
 * the cache is kept all the same, so that the change-rate guard compares
 * each file's content with the last backup's as for a local tree.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/capture/capture_internal.h"
#include "bkp/capture/pax.h"
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

/* The stat a local walk would have given, from what the entry carries:
 * for the files cache's comparison. */
static void stat_of(struct archive_entry *e, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | (archive_entry_perm(e) & 07777);
    st->st_size = (off_t)archive_entry_size(e);
    st->st_dev = (dev_t)archive_entry_dev(e);
    st->st_ino = (ino_t)archive_entry_ino64(e);
    st->st_mtim.tv_sec = archive_entry_mtime(e);
    st->st_mtim.tv_nsec = archive_entry_mtime_nsec(e);
    st->st_ctim.tv_sec = archive_entry_ctime_is_set(e) ? archive_entry_ctime(e) : st->st_mtim.tv_sec;
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

/* Entry `e`, checked and named `path`, into the item stream. */
static int take_entry(capture_ctx *c, struct archive *a, struct archive_entry *e,
                      const char *path, const char **why)
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
    } else if (archive_entry_filetype(it) == AE_IFREG) {
        struct stat st;
        stat_of(it, &st);
        int rc = capture_lookup_cache(c, p, &st);
        if (rc) {
            capture_pending_free(p);
            return rc;
        }
        /* Its bytes are on their way whatever the cache says. */
        p->hit = false;
        capture_drop_content(p);
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
        if (ar < ARCHIVE_WARN)
            break;
        if ((rc = bkp_pax_check_entry(&k, e, &path, &why))) {
            const char *name = archive_entry_pathname(e);
            bad = bkp_text_safe(name ? name : "", BKP_TEXT_FIELD);
            break;
        }
        if ((rc = take_entry(c, a, e, path, &why)) || (rc = capture_drain(c, false)))
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
    if (in && (rc == -EBADMSG || !rc) && !bad && (in->err || (in->eof && rc) || !in->bytes))
        rc = in->err ? in->err : -EPIPE;
    if (rc == -EBADMSG) {
        const char *es = a ? archive_error_string(a) : NULL;
        char *said = bad ? bad : bkp_text_safe(es ? es : "", BKP_TEXT_FIELD);
        bkp_error(_("%s: what the source server %s sent is not taken: %s%s%s%s. Nothing is "
                    "sealed; check that server's agent (`bkp host check %s`)"),
                  c->o->dataset, rm->host, _(why), said && *said ? " (" : "",
                  said && *said ? said : "", said && *said ? ")" : "", rm->host);
        if (said != bad)
            free(said);
    }
    free(bad);
    bkp_pax_check_clear(&k);
    if (a)
        archive_read_free(a);
    free(in);
    return rc;
}
