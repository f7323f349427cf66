/* archive.c — a generation as one self-contained tar (pax) stream. */
#include "bkp/media/archive.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mtio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "bkp/io/archive_why.h"
#include "bkp/io/clock.h"
#include "bkp/media/copy.h"
#include "bkp/io/durable.h"
#include "bkp/store/index.h"
#include "bkp/io/i18n.h"
#include "bkp/keys/key_slots.h"
#include "bkp/media/kit.h"
#include "bkp/io/log.h"
#include "bkp/media/label.h"
#include "bkp/store/repack.h"
#include "bkp/io/stream.h"
#include "bkp/store/tree.h"

/* The largest member: the audit log's copy (FORMAT §9b). */
#define MEMBER_MAX (256ULL << 20)

char *bkp_archive_name(const bkp_gen *g)
{
    char *s = NULL;
    if (asprintf(&s, "%s@%010u.tar", g->dataset, g->seq) < 0)
        return NULL;
    return s;
}

typedef struct writer {
    struct archive *a;
    const char *top;
    time_t now;
    bkp_repo *r;
    const char *medium; /* the label UUID its "not copied" tombstones are bound to */
    bkp_index *fresh;   /* the new packs and their blobs */
    bkp_index *seen;    /* blobs already in a new pack */
    int err;
} writer;

/* One regular file of the stream at `path`, owned by root. */
static int member_at(writer *w, const char *path, const void *data, size_t len, mode_t perm)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return -ENOMEM;
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, perm);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, w->now, 0);
    archive_entry_set_uname(e, "root");
    archive_entry_set_gname(e, "root");
    int rc = archive_write_header(w->a, e) == ARCHIVE_OK &&
                     (len == 0 || archive_write_data(w->a, data, len) == (la_ssize_t)len)
                 ? 0
                 : -EIO;
    char why[512];
    if (rc)
        bkp_error(_("cannot write %s into the archive%s — check that the medium has room and "
                    "can be written, then run the rotation again"),
                  path, bkp_archive_why(w->a, why, sizeof(why)));
    archive_entry_free(e);
    return rc;
}

/* A file of the repository the stream holds, under DATASET@SEQ/. */
static int member(writer *w, const char *rel, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", w->top, rel);
    return member_at(w, path, data, len, 0444);
}

/* A file of the recovery kit, under BKP_KIT_DIR/. */
static int kit_put(const char *name, const void *data, size_t len, bool exec, void *ctx)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", BKP_KIT_DIR, name);
    return member_at(ctx, path, data, len, exec ? 0555 : 0444);
}

/* A repository file, byte for byte. */
static int member_file(writer *w, const char *rel, const char *from)
{
    bkp_buf data;
    bkp_buf_init(&data);
    int rc = bkp_read_file(from, &data, MEMBER_MAX);
    if (rc)
        bkp_error(_("cannot read %s: %s"), from, bkp_strerror(rc));
    else
        rc = member(w, rel, data.data, data.len);
    bkp_buf_free(&data);
    return rc;
}

typedef struct pack_sink {
    writer *w;
    char *dir;
} pack_sink;

/* A new pack is durable in the temporary folder: indexed, into the stream,
 * then gone. */
static int sink_pack(const uint8_t id[BKP_ID_LEN], const bkp_pack_entry *pe, uint32_t n, void *ctx)
{
    pack_sink *s = ctx;
    char hex[2 * BKP_ID_LEN + 1], rel[2 * BKP_ID_LEN + 16];
    int rc = bkp_index_add_pack_entries(s->w->fresh, id, pe, n);
    char *path = bkp_pack_path(s->dir, id);
    if (!rc && !path)
        rc = -ENOMEM;
    bkp_hex(hex, id, BKP_ID_LEN);
    snprintf(rel, sizeof(rel), "packs/%.2s/%s", hex, hex);
    if (!rc)
        rc = member_file(s->w, rel, path);
    if (path)
        unlink(path);
    free(path);
    return rc;
}

static int need(pack_sink *s, bkp_repacker *rp, uint8_t type, const uint8_t id[BKP_ID_LEN])
{
    bkp_index_entry e = {0};
    memcpy(e.id, id, BKP_ID_LEN);
    int seen = bkp_index_insert(s->w->seen, &e);
    if (seen < 0)
        return -ENOMEM;
    return seen ? 0 : bkp_repacker_add(rp, type, id);
}

/* Every blob of `g`, tree blobs first, into new packs. */
static int gather(pack_sink *s, const bkp_gen *g)
{
    bkp_repacker rp = {.repo = s->w->r, .dir = s->dir, .done = sink_pack, .ctx = s};
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    int rc = 0, x = 0;
    bkp_item_init(&it);
    for (size_t t = 0; !rc && t < g->ntree; t++)
        rc = need(s, &rp, BKP_BLOB_TREE, g->tree + t * BKP_ID_LEN);
    if (!rc)
        rc = bkp_tree_reader_new(s->w->r, g->tree, g->ntree, &tr);
    while (!rc && (x = bkp_tree_reader_next(tr, &it)) > 0)
        for (uint32_t k = 0; !rc && k < it.nchunks; k++)
            rc = need(s, &rp, BKP_BLOB_DATA, it.chunks[k].id);
    if (!rc && x < 0)
        rc = x;
    if (!rc)
        rc = bkp_repacker_flush(&rp);
    bkp_repacker_free(&rp);
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    return rc;
}

static int emit_segment(const bkp_buf *seg, void *ctx)
{
    writer *w = ctx;
    uint8_t h[BKP_ID_LEN];
    char rel[2 * BKP_ID_LEN + 8] = "index/";
    crypto_generichash(h, BKP_ID_LEN, seg->data, seg->len, NULL, 0);
    bkp_hex(rel + 6, h, BKP_ID_LEN);
    return member(w, rel, seg->data, seg->len);
}

/* The records before `g` as tombstones, then `g` itself. */
static int records(writer *w, const bkp_gen *g, const char *tmp)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    char rel[512], *tdir = bkp_path_join(tmp, "tombstones");
    int rc = tdir ? bkp_gen_list(w->r, g->dataset, &v, &n) : -ENOMEM;
    for (size_t i = 0; !rc && i < n && v[i]->seq < g->seq; i++) {
        const char *from = v[i]->file;
        char *made = NULL;
        if (v[i]->status) {
            bkp_warn(_("%s:%u is damaged on the primary; the archive's chain has a gap there"),
                     v[i]->dataset, v[i]->seq);
            continue;
        }
        if (!v[i]->pruned) {
            char name[32];
            snprintf(name, sizeof(name), "%010u.pruned", v[i]->seq);
            rc = bkp_gen_tombstone(w->r, tdir, v[i], w->medium);
            from = made = rc ? NULL : bkp_path_join(tdir, name);
        }
        snprintf(rel, sizeof(rel), "generations/%s/%010u.pruned", g->dataset, v[i]->seq);
        if (!rc)
            rc = from ? member_file(w, rel, from) : -ENOMEM;
        if (made)
            unlink(made);
        free(made);
    }
    snprintf(rel, sizeof(rel), "generations/%s/%010u.gen", g->dataset, g->seq);
    if (!rc)
        rc = member_file(w, rel, g->file);
    if (!rc && g->cleared) {
        char *cl = strdup(g->file), *dot = cl ? strrchr(cl, '.') : NULL;
        snprintf(rel, sizeof(rel), "generations/%s/%010u.cleared", g->dataset, g->seq);
        rc = dot ? (strcpy(dot, ".cleared"), member_file(w, rel, cl)) : -ENOMEM;
        free(cl);
    }
    if (tdir)
        rmdir(tdir);
    free(tdir);
    bkp_gen_list_free(v, n);
    return rc;
}

/* Every member of the archive, in the order a reader needs them. */
static int members(pack_sink *s, const bkp_gen *g, bkp_archive_kit *kit, const char *label_text,
                   const char *cfg, const char *key, const char *log)
{
    writer *w = s->w;
    /* The kit first: a plain `tar -x` of a tape gives the program before the data. */
    int rc = kit ? bkp_kit_emit(kit->docs, kit->ndocs, kit_put, w, &kit->res) : 0;
    if (!rc && label_text)
        rc = member(w, BKP_LABEL_FILE, label_text, strlen(label_text));
    if (!rc)
        rc = member_file(w, "config", cfg);
    if (!rc)
        rc = member_file(w, "keys/key", key);
    if (!rc)
        rc = gather(s, g);
    if (!rc)
        rc = bkp_index_segments_encode(w->fresh, 0, bkp_index_pack_count(w->fresh),
                                       bkp_repo_keys(w->r), 1U << 20, emit_segment, w);
    if (!rc)
        rc = records(w, g, s->dir);
    if (!rc && access(log, F_OK) == 0)
        rc = member_file(w, BKP_AUDIT_COPY, log);
    return rc;
}

/* libarchive's blocks into the stream (stream.h keeps the first error). */
static la_ssize_t to_stream(struct archive *a, void *ctx, const void *buf, size_t len)
{
    bkp_stream *out = ctx;
    int rc = bkp_stream_write(out, buf, len);
    if (rc) {
        archive_set_error(a, -rc, "%s", bkp_strerror(rc));
        return -1;
    }
    return (la_ssize_t)len;
}

int bkp_archive_open_stream(struct archive *a, struct bkp_stream *out)
{
    return archive_write_open2(a, out, NULL, to_stream, NULL, NULL);
}

int bkp_archive_write(bkp_repo *r, const bkp_gen *g, const bkp_label *label, bkp_archive_kit *kit,
                      struct bkp_stream *out, const char *tmpdir, uint64_t *bytes)
{
    char top[512], tmpl[4096], why[512];
    writer w = {.top = top, .now = bkp_now(), .r = r, .medium = label ? label->uuid : NULL};
    pack_sink s = {.w = &w};
    char *cfg = bkp_repo_subpath(r, "config"), *key = bkp_repo_subpath(r, "keys/key");
    char *log = bkp_repo_subpath(r, "audit/log.jsonl");
    size_t label_len = 0;
    char *label_text = label ? bkp_label_text(label, &label_len) : NULL;
    int rc;
    snprintf(top, sizeof(top), "%s@%010u", g->dataset, g->seq);
    snprintf(tmpl, sizeof(tmpl), "%s/bkp-archive-XXXXXX", tmpdir);
    if (!cfg || !key || !log || (label && !label_text) || bkp_index_new(&w.fresh) ||
        bkp_index_new(&w.seen)) {
        rc = -ENOMEM;
        goto out;
    }
    if (!mkdtemp(tmpl)) {
        rc = -errno;
        bkp_error(_("cannot make a temporary folder in %s: %s; set TMPDIR to a folder with room "
                    "for one pack"),
                  tmpdir, bkp_strerror(rc));
        goto out;
    }
    s.dir = tmpl;
    w.a = archive_write_new();
    if (!w.a || archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
        bkp_archive_open_stream(w.a, out) != ARCHIVE_OK) {
        bkp_error(_("cannot start the archive%s — check the medium (a tape loaded and "
                    "writable, a folder with room), then run the rotation again"),
                  bkp_archive_why(w.a, why, sizeof(why)));
        rc = -EIO;
        goto out;
    }
    rc = members(&s, g, kit, label_text, cfg, key, log);
    if (!rc && archive_write_close(w.a) != ARCHIVE_OK) {
        bkp_error(_("cannot finish the archive%s — check that the medium has room and can be "
                    "written, then run the rotation again"),
                  bkp_archive_why(w.a, why, sizeof(why)));
        rc = -EIO;
    }
    if (!rc && bytes)
        *bytes = (uint64_t)archive_filter_bytes(w.a, -1);
out:
    if (w.a)
        archive_write_free(w.a);
    if (s.dir) {
        char sub[4200];
        for (int b = 0; b < 256; b++) {
            snprintf(sub, sizeof(sub), "%s/%02x", tmpl, b);
            rmdir(sub);
        }
        bkp_durable_cleanup(tmpl);
        rmdir(tmpl);
    }
    bkp_index_free(w.fresh);
    bkp_index_free(w.seen);
    free(label_text);
    free(cfg);
    free(key);
    free(log);
    return rc;
}

/* Is `top` the folder of one generation, DATASET@SEQ? */
static bool top_ok(const char *top)
{
    const char *at = strrchr(top, '@');
    if (!at || strlen(at + 1) != 10 || strspn(at + 1, "0123456789") != 10)
        return false;
    char ds[65];
    size_t l = (size_t)(at - top);
    if (l == 0 || l >= sizeof(ds))
        return false;
    memcpy(ds, top, l);
    ds[l] = '\0';
    return bkp_dataset_name_ok(ds);
}

/* A member under BKP_KIT_DIR/ before the generation's folder: a file of the
 * recovery kit, checked as any member from a medium (a regular file, a name
 * a kit has, a size a kit's file may have, not too many) and skipped: bkp
 * writes none of it and never runs anything from a medium. 1 when `name`
 * is one (skipped), 0 when it is not, else -EBADMSG (said). */
static int skip_kit(struct archive *a, struct archive_entry *e, const char *path, const char *name,
                    size_t *nkit)
{
    size_t l = strlen(BKP_KIT_DIR);
    if (strncmp(name, BKP_KIT_DIR, l) || name[l] != '/')
        return 0;
    la_int64_t size = archive_entry_size(e);
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) || size < 0 ||
        (uint64_t)size > BKP_KIT_FILE_MAX || strlen(name) > 255 ||
        !bkp_kit_member_ok(name + l + 1) || ++*nkit > BKP_KIT_FILES_MAX) {
        bkp_error(_("%s: the member %s is not part of a recovery kit; the file is damaged or not "
                    "a bkp archive"),
                  path, name);
        return -EBADMSG;
    }
    if (archive_read_data_skip(a) != ARCHIVE_OK) {
        char why[512];
        bkp_error(_("%s: the recovery kit at its start is damaged or truncated%s — read this "
                    "generation from another medium"),
                  path, bkp_archive_why(a, why, sizeof(why)));
        return -EBADMSG;
    }
    return 1;
}

/* The member `name` (DATASET@SEQ/REL, `size` bytes by its header) into
 * `dir`/REL: read whole first, then written durably, never over a file. */
static int extract_member(struct archive *a, const char *path, const char *dir, const char *name,
                          size_t size, bkp_buf *data)
{
    const char *rel = strchr(name, '/') + 1;
    int rc = 0;
    /* Grown as the data comes, not reserved from the header's claim. */
    bkp_buf_reset(data);
    while (data->len < size) {
        size_t want = size - data->len < (1 << 20) ? size - data->len : (1 << 20);
        uint8_t *at = bkp_buf_reserve(data, want);
        if (!at)
            return -ENOMEM;
        la_ssize_t got = archive_read_data(a, at, want);
        if (got <= 0)
            break;
        data->len += (size_t)got;
    }
    if (data->len != size) {
        char why[512];
        bkp_error(_("%s: %s is truncated%s — the archive is damaged; read this generation from "
                    "another medium"),
                  path, name, bkp_archive_why(a, why, sizeof(why)));
        return -EBADMSG;
    }
    char *to = bkp_path_join(dir, rel), *base = to ? strrchr(to, '/') : NULL;
    if (!base) {
        free(to);
        return -ENOMEM;
    }
    *base = '\0';
    rc = bkp_mkdir_p(to, 0700);
    if (!rc)
        rc = bkp_durable_write(to, base + 1, data->data, data->len,
                               BKP_DURABLE_NOREPLACE |
                                   (!strcmp(rel, "keys/key") ? BKP_DURABLE_PRIVATE : 0));
    if (rc)
        bkp_error(_("cannot extract %s into %s: %s"), name, to, bkp_strerror(rc));
    free(to);
    return rc;
}

/* libarchive reads the stream through these: one transfer a call, so that
 * a tape's records are read whole. */
typedef struct source {
    bkp_stream *in;
    uint8_t *buf;
} source;

enum { SOURCE_BLOCK = 1 << 20 };

static la_ssize_t source_read(struct archive *a, void *ctx, const void **out)
{
    source *src = ctx;
    size_t n = bkp_stream_read_some(src->in, src->buf, SOURCE_BLOCK);
    int rc = bkp_stream_error(src->in);
    if (rc) {
        archive_set_error(a, -rc, "%s", bkp_strerror_en(rc));
        return -1;
    }
    *out = src->buf;
    return (la_ssize_t)n;
}

/* Every member after the recovery kit: regular files under one DATASET@SEQ/
 * folder, each extracted into `dir`. `*first` receives the folder's name. */
static int extract_members(struct archive *a, const char *path, const char *dir, char **first)
{
    size_t nkit = 0;
    struct archive_entry *e;
    char why[512];
    bkp_buf data;
    int rc = 0, r;
    bkp_buf_init(&data);
    while (!rc && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e), *slash = name ? strchr(name, '/') : NULL;
        la_int64_t size = archive_entry_size(e);
        int kit = !*first && name ? skip_kit(a, e, path, name, &nkit) : 0;
        if (kit) {
            rc = kit < 0 ? kit : 0;
            continue;
        }
        if (!slash || archive_entry_hardlink(e) ||
            (*first && (strncmp(name, *first, (size_t)(slash - name)) || (*first)[slash - name])) ||
            archive_entry_filetype(e) != AE_IFREG || size < 0 ||
            (uint64_t)size > bkp_copy_member_max(slash + 1)) {
            bkp_error(_("%s: the member %s is not part of a bkp archive; the file is damaged or "
                        "not a bkp archive"),
                      path, name ? name : "?");
            rc = -EBADMSG;
            break;
        }
        if (!*first && !(*first = strndup(name, (size_t)(slash - name)))) {
            rc = -ENOMEM;
            break;
        }
        if (!top_ok(*first)) {
            bkp_error(_("%s: the folder %s is not named DATASET@SEQ; the file is damaged or not a "
                        "bkp archive"),
                      path, *first);
            rc = -EBADMSG;
            break;
        }
        if ((rc = extract_member(a, path, dir, name, (size_t)size, &data)))
            break;
    }
    if (!rc && r != ARCHIVE_EOF) {
        bkp_error(_("%s: the archive is damaged or truncated%s — read this generation from "
                    "another medium"),
                  path, bkp_archive_why(a, why, sizeof(why)));
        rc = -EBADMSG;
    }
    bkp_buf_free(&data);
    return rc;
}

int bkp_archive_extract_stream(bkp_stream *in, const char *path, const char *dir, char **top)
{
    source src = {.in = in, .buf = malloc(SOURCE_BLOCK)};
    struct archive *a = src.buf ? archive_read_new() : NULL;
    char *first = NULL;
    int rc = 0;
    if (!a) {
        free(src.buf);
        return -ENOMEM;
    }
    archive_read_support_format_tar(a);
    if (archive_read_open(a, &src, NULL, source_read, NULL) != ARCHIVE_OK) {
        char why[512];
        bkp_error(_("cannot read the archive %s%s — check that the tape or file is there and "
                    "can be read"),
                  path, bkp_archive_why(a, why, sizeof(why)));
        rc = -EIO;
        goto out;
    }
    rc = extract_members(a, path, dir, &first);
    if (!rc && !first) {
        bkp_error(_("%s holds no archive"), path);
        rc = -EBADMSG;
    }
    if (!rc && top) {
        *top = first;
        first = NULL;
    }
out:
    archive_read_free(a); /* the stream stays the caller's */
    free(src.buf);
    free(first);
    return rc;
}

int bkp_archive_extract(const char *path, const char *dir, char **top)
{
    bkp_stream in;
    int rc = 0;
    /* A file, or a tape (a character or block device); never a FIFO planted
     * in an archive's place, which would be waited on for ever. */
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0 ||
        !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) ||
        fcntl(fd, F_SETFL, 0) < 0) {
        rc = fd < 0 ? -errno : -EBADMSG;
        bkp_error(_("cannot read the archive %s: %s"), path,
                  rc == -EBADMSG ? _("it is not a file or a tape device") : bkp_strerror(rc));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    bkp_stream_fd(&in, fd, BKP_STREAM_OWN);
    rc = bkp_archive_extract_stream(&in, path, dir, top);
    (void)bkp_stream_close(&in); /* read only: a failure to close changes nothing */
    return rc;
}

int bkp_archive_extract_repo(const char *path, const char *dir)
{
    int rc = bkp_archive_extract(path, dir, NULL);
    return rc ? rc : bkp_repo_make_folders(dir);
}

int bkp_archive_device_open(const char *path, int *fd)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    bool tape = S_ISCHR(st.st_mode);
    if (!tape && !S_ISBLK(st.st_mode))
        return -ENODEV;
    /* O_EXCL on a block device: refused (EBUSY) while it is mounted or
     * held; a tape drive opens only one at a time anyway. */
    int d = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | (tape ? 0 : O_EXCL));
    if (d < 0)
        return -errno;
    struct mtget mt;
    struct stat got;
    int rc = fstat(d, &got) < 0                                       ? -errno
             : got.st_rdev != st.st_rdev || got.st_mode != st.st_mode ? -ENODEV
             : tape && (isatty(d) || ioctl(d, MTIOCGET, &mt) < 0)     ? -ENOTTY
                                                                      : 0;
    if (rc || !fd)
        close(d);
    else
        *fd = d;
    return rc;
}
