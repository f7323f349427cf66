#include "restore/restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive_entry.h>

#include "bkp/store/blob.h"
#include "bkp/store/chunker.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/io/strmap.h"
#include "bkp/store/tree.h"

/* Is [from, to) of `fd` a hole, or data that reads as zeros? */
static bool hole_is_zero(int fd, uint64_t from, uint64_t to, uint8_t *buf, size_t cap)
{
    while (from < to) {
        off_t d = lseek(fd, (off_t)from, SEEK_DATA);
        if (d < 0)
            return errno == ENXIO; /* no data up to the end */
        if ((uint64_t)d >= to)
            return true;
        size_t want = to - (uint64_t)d < cap ? (size_t)(to - (uint64_t)d) : cap;
        ssize_t got = pread(fd, buf, want, d);
        if (got <= 0)
            return false;
        for (ssize_t i = 0; i < got; i++)
            if (buf[i])
                return false;
        from = (uint64_t)d + (uint64_t)got;
    }
    return true;
}

/* Does the open file hold exactly `it`'s content: its size, its data
 * regions re-chunked and hashed as at capture, and zeros between them? */
static bool same_content(const bkp_keys *k, const bkp_chunker *ch, int fd, const bkp_item *it,
                         uint8_t *buf, size_t cap)
{
    struct stat st;
    uint64_t size = (uint64_t)archive_entry_size(it->entry), one[2] = {0, size};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
        return false;
    const uint64_t *reg = it->nsparse ? it->sparse : one;
    uint32_t nreg = it->nsparse ? it->nsparse : 1, ri = 0, n = 0, cn = 0;
    uint64_t roff = reg[0], rleft = reg[1], prev_end = 0;
    bkp_chunk_ref *refs = NULL;
    size_t have = 0;
    bool eof = false, bad = !hole_is_zero(fd, 0, roff, buf, cap);
    while (!bad) {
        while (!eof && have < cap) { /* fill from the data regions in order */
            if (!rleft) {
                prev_end = roff;
                if (++ri >= nreg) {
                    eof = true;
                    bad = !hole_is_zero(fd, prev_end, size, buf + have, cap - have);
                    break;
                }
                roff = reg[2 * ri];
                rleft = reg[2 * ri + 1];
                if ((bad = !hole_is_zero(fd, prev_end, roff, buf + have, cap - have)))
                    break;
                continue;
            }
            size_t want = cap - have < rleft ? cap - have : (size_t)rleft;
            ssize_t got = pread(fd, buf + have, want, (off_t)roff);
            if (got <= 0) {
                bad = true;
                break;
            }
            have += (size_t)got;
            roff += (uint64_t)got;
            rleft -= (uint64_t)got;
        }
        if (bad || !have)
            break;
        size_t cut = bkp_chunker_cut(ch, buf, have, eof);
        if (!cut)
            cut = have;
        if (cn == n) {
            bkp_chunk_ref *nr = realloc(refs, (n = n ? 2 * n : 16) * sizeof(*nr));
            if (!nr) {
                bad = true;
                break;
            }
            refs = nr;
        }
        bkp_blob_id(k, buf, cut, refs[cn].id);
        refs[cn++].len = (uint32_t)cut;
        memmove(buf, buf + cut, have - cut);
        have -= cut;
    }
    uint8_t h[BKP_ID_LEN];
    if (!bad) {
        bkp_item_content_hash(k, size, refs, cn, h);
        bad = memcmp(h, it->content, BKP_ID_LEN) != 0;
    }
    free(refs);
    return !bad;
}

int rst_compare(const bkp_repo *repo, const bkp_gen *g, const char *target, const char *path,
                const char *strip, rst_compared *out)
{
    const bkp_keys *k = bkp_repo_keys(repo);
    const bkp_chunker *ch = bkp_repo_chunker(repo);
    size_t cap = 2 * bkp_chunker_max(ch), sl = strip ? strlen(strip) : 0;
    uint8_t *buf = malloc(cap);
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    bkp_item_init(&it);
    int dir = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!buf || dir < 0 || (rc = bkp_tree_reader_new(repo, g->tree, g->ntree, &tr))) {
        rc = rc ? rc : !buf ? -ENOMEM : -errno;
        if (dir >= 0)
            close(dir);
        free(buf);
        return rc;
    }
    while ((rc = bkp_tree_reader_next(tr, &it)) > 0) {
        struct archive_entry *e = it.entry;
        const char *name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
            !rst_path_selected(name, path) ||
            (strip && (strncmp(name, strip, sl) || name[sl] != '/')))
            continue;
        /* Component by component, following no link and of any length. */
        const char *rel = name + (sl ? sl + 1 : 0);
        int fd = bkp_open_deep(dir, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        out->files++;
        if (fd < 0) {
            out->missing++;
            continue;
        }
        if (!same_content(k, ch, fd, &it, buf, cap)) {
            bkp_warn(_("%s/%s differs from the generation after the restore"), target, rel);
            out->differ++;
        }
        close(fd);
    }
    if (rc < 0)
        bkp_error(
            _("the file list of %s:%u cannot be read (%s); the files after it were not compared"),
            g->dataset, g->seq, bkp_strerror(rc));
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    free(buf);
    close(dir);
    return rc < 0 ? rc : 0;
}

/* In the set of stored paths: an item of the generation, or only a folder
 * above one (made by the restore as a parent, not captured). */
#define STORED ((void *)1)
#define ABOVE ((void *)2)

/* The stored paths of `g` a restore of the whole generation (or of `strip`'s
 * contents) puts in its target, relative to it, and their folders: keys of
 * `set`. */
static int stored_paths(const bkp_repo *repo, const bkp_gen *g, const char *strip,
                        bkp_strmap *set)
{
    size_t sl = strip ? strlen(strip) : 0;
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    int rc = bkp_tree_reader_new(repo, g->tree, g->ntree, &tr);
    bkp_item_init(&it);
    while (!rc && (rc = bkp_tree_reader_next(tr, &it)) > 0) {
        const char *name = archive_entry_pathname(it.entry);
        rc = 0;
        if (strip && (strncmp(name, strip, sl) || name[sl] != '/'))
            continue;
        char *rel = strdup(name + (sl ? sl + 1 : 0)), *slash = rel;
        if (!rel)
            rc = -ENOMEM;
        /* The path, and each folder above it up to one already there. */
        for (void *v = STORED; !rc && slash && *rel; v = ABOVE) {
            void *had = bkp_strmap_get(set, rel);
            if (had == STORED || (had && v == ABOVE))
                break;
            rc = bkp_strmap_put(set, rel, v);
            if ((slash = strrchr(rel, '/')))
                *slash = '\0';
        }
        free(rel);
    }
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    return rc < 0 ? rc : 0;
}

#define EXTRA_DEPTH 256 /* deeper than any restore writes; below, not looked into */

/* Name `rel` among the first of `out`: its end, where a deep path is cut
 * (the file's own name is what a person looks for), on a character. */
static void extra_name(rst_extra *out, const char *rel)
{
    char *to = out->named[out->n - 1];
    size_t len = strlen(rel), room = sizeof(out->named[0]) - 1;
    if (len <= room) {
        memcpy(to, rel, len + 1);
        return;
    }
    const char *from = rel + len - (room - 3);
    while (((unsigned char)*from & 0xc0) == 0x80)
        from++;
    snprintf(to, sizeof(out->named[0]), "\xe2\x80\xa6%s", from); /* "…" */
}

/* Walk the folder `dir` (at `rel` in the target; "" at its root) for names
 * not in `set`, counted only in a folder the generation holds (`counts`):
 * one a restore only made as a parent is not its to judge (the target's
 * root, /srv above /srv/emr). A folder not in the set is counted once, its
 * contents not. */
static void extra_walk(int dir, char *rel, size_t cap, const bkp_strmap *set, bool counts,
                       int depth, rst_extra *out)
{
    DIR *d = fdopendir(dir);
    if (!d) {
        close(dir);
        return;
    }
    size_t len = strlen(rel);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (len + strlen(e->d_name) + 2 > cap)
            continue; /* a name longer than any stored path: not ours, and not said */
        snprintf(rel + len, cap - len, "%s%s", len ? "/" : "", e->d_name);
        void *held = bkp_strmap_get(set, rel);
        if (!held && counts) {
            if (out->n++ < RST_EXTRA_NAMED)
                extra_name(out, rel);
        } else if (held && depth < EXTRA_DEPTH) {
            int sub = openat(dirfd(d), e->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
            if (sub >= 0)
                extra_walk(sub, rel, cap, set, held == STORED, depth + 1, out);
        }
        rel[len] = '\0';
    }
    closedir(d);
}

int rst_extra_find(const bkp_repo *repo, const bkp_gen *g, const char *target, const char *strip,
                   rst_extra *out)
{
    bkp_strmap *set = NULL;
    memset(out, 0, sizeof(*out));
    int rc = bkp_strmap_new(NULL, &set);
    if (!rc)
        rc = stored_paths(repo, g, strip, set);
    char *rel = rc ? NULL : calloc(1, PATH_MAX);
    int dir = rel ? open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (!rc && !rel)
        rc = -ENOMEM;
    else if (!rc && dir < 0)
        rc = -errno;
    if (!rc)
        extra_walk(dir, rel, PATH_MAX, set, strip != NULL, 0, out); /* strip: a folder it holds */
    free(rel);
    bkp_strmap_free(set);
    return rc;
}
