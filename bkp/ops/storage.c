/* What a repository takes on its disk (storage.h). */
#include "bkp/ops/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

/* Deeper than any folder of the layout (FORMAT.md §1): a folder below it is
 * not the repository's. */
#define DEPTH_MAX 6

/* The regular files below folder `fd` (closed here), into `*bytes`; with
 * `s`, a repository's: its packs into `s->packs`, this host's cache and
 * locks left out; `skip`: a name at the top not counted. */
static int sum_folder(int fd, int depth, const char *top, const char *skip, rst_storage *s,
                      uint64_t *bytes)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        /* This host's own: a copy carries neither. */
        if (s && depth == 0 && (!strcmp(n, "cache") || !strcmp(n, "locks")))
            continue;
        if (skip && depth == 0 && !strcmp(n, skip))
            continue;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) /* gone meanwhile: a prune's */
                rc = -errno;
            continue;
        }
        uint64_t *into = s && depth == 0 && !strcmp(n, "packs") ? &s->packs : bytes;
        if (S_ISREG(st.st_mode)) {
            *into += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX) {
            int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                rc = sum_folder(sub, depth + 1, top, NULL, s, into);
            else if (errno != ENOENT)
                rc = -errno;
        }
    }
    closedir(d);
    if (rc && depth == 0)
        bkp_error(_("cannot read the folders of %s: %s"), top, bkp_strerror(rc));
    return rc;
}

static uint64_t bytes_of(const bkp_gen *g)
{
    json_t *b = json_object_get(json_object_get(g->json, "stats"), "bytes");
    return json_is_integer(b) && json_integer_value(b) > 0 ? (uint64_t)json_integer_value(b) : 0;
}

/* The files below folder `top` into `*bytes` (and `s`, sum_folder). */
static int sum_top(const char *top, const char *skip, rst_storage *s, uint64_t *bytes)
{
    int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        bkp_error(_("cannot read the folders of %s: %s"), top, bkp_strerror(rc));
        return rc;
    }
    return sum_folder(fd, 0, top, skip, s, bytes);
}

int ops_storage_files(const bkp_repo *r, rst_storage *out)
{
    uint64_t rest = 0;
    out->stored = out->packs = 0;
    int rc = sum_top(bkp_repo_path(r), NULL, out, &rest);
    if (rc)
        return rc;
    out->stored = rest + out->packs;
    return 0;
}

int ops_folder_bytes(const char *path, const char *skip, uint64_t *bytes)
{
    *bytes = 0;
    return sum_top(path, skip, NULL, bytes);
}

void ops_storage_count(rst_storage *out, bkp_gen *const *v, size_t n)
{
    out->newest = out->kept = 0;
    out->generations = out->datasets = 0;
    /* Sorted by data set, then sequence: each data set's last sound one is
     * its newest. */
    for (size_t i = 0; i < n; i++) {
        if (v[i]->status || v[i]->pruned)
            continue;
        out->kept += bytes_of(v[i]);
        out->generations++;
        bool last = true;
        for (size_t j = i + 1; j < n && !strcmp(v[j]->dataset, v[i]->dataset) && last; j++)
            last = v[j]->status || v[j]->pruned;
        if (last) {
            out->newest += bytes_of(v[i]);
            out->datasets++;
        }
    }
}
