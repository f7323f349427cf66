/* What a repository takes on its disk (storage.h). */
#include "bkp/ops/storage.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/kit.h"

/* Deeper than any folder of the layout (FORMAT.md §1): a folder below it is
 * not the repository's. */
#define DEPTH_MAX 6

/* What a walk counts at the top of the folder it starts in. */
typedef enum {
    TOP_REPO,   /* a repository: all but this host's cache and locks, its packs apart */
    TOP_MEDIUM, /* a medium: its label and pins, its kit, its archives (never "repo") */
} top_rule;

typedef struct walk {
    top_rule rule;
    dev_t dev;      /* the top's file system: another one mounted below is not counted */
    rst_storage *s; /* TOP_REPO: `packs` here */
} walk;

/* Is top-level entry `n` of a medium bkp's own: BKP-LABEL, BKP-PIN…, the
 * recovery kit, an archive DATASET@SEQ.tar? A disk's copy is counted as a
 * repository, apart; anything else on the disk is not the medium's. */
static bool medium_own(const char *n)
{
    size_t l = strlen(n);
    return !strncmp(n, "BKP-", 4) || !strcmp(n, BKP_KIT_DIR) ||
           (strchr(n, '@') && l > 4 && !strcmp(n + l - 4, ".tar"));
}

static bool counted(const walk *w, int depth, const char *n)
{
    if (depth)
        return true;
    if (w->rule == TOP_MEDIUM)
        return medium_own(n);
    /* This host's own: a copy carries neither. */
    return strcmp(n, "cache") && strcmp(n, "locks");
}

/* The regular files below folder `fd` (closed here), into `*bytes`, as
 * `w` says: 0 or a negative errno. Never follows a link. */
static int sum_folder(const walk *w, int fd, int depth, uint64_t *bytes)
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
        if (!strcmp(n, ".") || !strcmp(n, "..") || !counted(w, depth, n))
            continue;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) /* gone meanwhile: a prune's */
                rc = -errno;
            continue;
        }
        uint64_t *into = w->s && depth == 0 && !strcmp(n, "packs") ? &w->s->packs : bytes;
        if (S_ISREG(st.st_mode)) {
            *into += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX && st.st_dev == w->dev) {
            int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                rc = sum_folder(w, sub, depth + 1, into);
            else if (errno != ENOENT)
                rc = -errno;
        }
    }
    closedir(d);
    return rc;
}

/* The files below folder `top` into `*bytes` (and `s`): 0 or a negative
 * errno, not said. */
static int sum_top(const char *top, top_rule rule, rst_storage *s, uint64_t *bytes)
{
    struct stat st;
    int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    walk w = {.rule = rule, .dev = st.st_dev, .s = s};
    return sum_folder(&w, fd, 0, bytes);
}


int ops_storage_files(const bkp_repo *r, rst_storage *out)
{
    uint64_t rest = 0;
    const char *top = bkp_repo_path(r);
    out->stored = out->packs = 0;
    int rc = sum_top(top, TOP_REPO, out, &rest);
    if (rc) {
        bkp_error(_("cannot read the folders of %s: %s"), top, bkp_strerror(rc));
        return rc;
    }
    out->stored = rest + out->packs;
    return 0;
}

int ops_medium_bytes(const char *path, const bkp_repo *copy, uint64_t *bytes)
{
    rst_storage s = {0};
    int rc = sum_top(path, TOP_MEDIUM, NULL, bytes);
    uint64_t rest = 0;
    if (!rc && copy)
        rc = sum_top(bkp_repo_path(copy), TOP_REPO, &s, &rest);
    *bytes += rest + s.packs;
    if (rc)
        *bytes = 0;
    return rc;
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
        out->kept += v[i]->stats.bytes;
        out->generations++;
        bool last = true;
        for (size_t j = i + 1; j < n && !strcmp(v[j]->dataset, v[i]->dataset) && last; j++)
            last = v[j]->status || v[j]->pruned;
        if (last) {
            out->newest += v[i]->stats.bytes;
            out->datasets++;
        }
    }
}
