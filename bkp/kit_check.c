/*
 * kit_check.c — a recovery kit checked against its SHA256SUMS (kit.h), as
 * `sha256sum -c` would, and for what that does not see: a file planted
 * beside the listed ones.
 */
#include <errno.h>
#include <ftw.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/bytes.h"
#include "bkp/durable.h"
#include "bkp/kit.h"

/* Everything below the kit, by its name within it; nftw has no context
 * argument, so one kit is walked at a time. */
typedef struct walked {
    char **names;
    bool *regular;
    size_t n;
    size_t root; /* length of the kit's path and its '/' */
    int rc;
} walked;
static walked *walking;

static int walk_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    walked *w = walking;
    if (flag == FTW_D || strlen(path) <= w->root)
        return 0;
    if (w->n >= 2 * BKP_KIT_FILES_MAX) {
        w->rc = -E2BIG;
        return 1;
    }
    char **nv = realloc(w->names, (w->n + 1) * sizeof(*nv));
    bool *rv = nv ? realloc(w->regular, (w->n + 1) * sizeof(*rv)) : NULL;
    if (nv)
        w->names = nv;
    if (rv)
        w->regular = rv;
    if (!nv || !rv || !(w->names[w->n] = strdup(path + w->root))) {
        w->rc = -ENOMEM;
        return 1;
    }
    w->regular[w->n++] = flag == FTW_F && S_ISREG(st->st_mode);
    return 0;
}

static int walk(const char *kit, walked *w)
{
    memset(w, 0, sizeof(*w));
    w->root = strlen(kit) + 1;
    walking = w;
    int rc = nftw(kit, walk_entry, 8, FTW_PHYS);
    walking = NULL;
    return w->rc ? w->rc : rc ? -errno : 0;
}

static ssize_t find(const walked *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->names[i], name))
            return (ssize_t)i;
    return -1;
}

/* One line "HEX  NAME" of SHA256SUMS: its hash and name, or -EBADMSG. */
static int parse_line(char *line, uint8_t hash[32], const char **name)
{
    if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ')
        return -EBADMSG;
    line[64] = '\0';
    *name = line + 66;
    if (bkp_unhex(hash, 32, line) || !bkp_kit_member_ok(*name) || !strcmp(*name, "SHA256SUMS"))
        return -EBADMSG;
    return 0;
}

/* Each file SHA256SUMS names: there, regular, with its bytes. `seen[i]`
 * marks the walked entries it names. */
static int check_listed(const char *kit, char *sums, const walked *w, bool *seen,
                        bkp_kit_found_fn found, void *ctx)
{
    int findings = 0, rc = 0;
    size_t lines = 0;
    bkp_buf b;
    bkp_buf_init(&b);
    for (char *save = NULL, *line = strtok_r(sums, "\n", &save); line && !rc;
         line = strtok_r(NULL, "\n", &save)) {
        uint8_t want[32], got[32];
        const char *name;
        rc = ++lines > BKP_KIT_FILES_MAX ? -EBADMSG : parse_line(line, want, &name);
        if (rc)
            break;
        ssize_t at = find(w, name);
        if (at >= 0 && seen[at]) {
            rc = -EBADMSG; /* named twice */
            break;
        }
        if (at >= 0)
            seen[at] = true;
        char *path = bkp_path_join(kit, name);
        int r = !path ? -ENOMEM : at < 0 ? -ENOENT : bkp_read_file(path, &b, BKP_KIT_FILE_MAX);
        free(path);
        if (r == -ENOMEM) {
            rc = r;
            break;
        }
        if (!r)
            crypto_hash_sha256(got, b.data, b.len);
        if (r == -ENOENT || (at >= 0 && !w->regular[at])) {
            findings++;
            found(name, -ENOENT, ctx);
        } else if (r || sodium_memcmp(want, got, sizeof(want))) {
            findings++;
            found(name, -EBADMSG, ctx);
        }
    }
    bkp_buf_free(&b);
    return rc ? rc : findings;
}

int bkp_kit_check(const char *dir, bkp_kit_found_fn found, void *ctx)
{
    char *kit = bkp_path_join(dir, BKP_KIT_DIR);
    char *sumsfile = kit ? bkp_path_join(kit, "SHA256SUMS") : NULL;
    walked w = {0};
    bool *seen = NULL;
    bkp_buf sums;
    bkp_buf_init(&sums);
    struct stat st;
    int rc = !sumsfile ? -ENOMEM : lstat(kit, &st) < 0 ? -errno : 0;
    if (!rc && !S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
    if (!rc)
        rc = walk(kit, &w);
    if (!rc && !(seen = calloc(w.n + 1, sizeof(*seen))))
        rc = -ENOMEM;
    int r = rc ? 0 : bkp_read_file(sumsfile, &sums, 1U << 20);
    if (!rc && !r) {
        bkp_buf_put(&sums, "", 1); /* a C string for strtok_r */
        r = sums.failed ? -ENOMEM : 0;
    }
    if (!rc && !r)
        r = check_listed(kit, (char *)sums.data, &w, seen, found, ctx);
    /* A list that is missing or not a kit's checks nothing: one finding. */
    bool listed = !rc && r >= 0;
    if (!rc && (r == -ENOENT || r == -EBADMSG)) {
        ssize_t at = find(&w, "SHA256SUMS");
        if (at >= 0)
            seen[at] = true;
        found("SHA256SUMS", r, ctx);
        r = 1;
    }
    if (!rc)
        rc = r;
    /* What SHA256SUMS does not name, but for itself and the folders. */
    for (size_t i = 0; listed && i < w.n; i++) {
        if (seen[i] || (w.regular[i] && !strcmp(w.names[i], "SHA256SUMS")))
            continue;
        struct stat e;
        char *path = bkp_path_join(kit, w.names[i]);
        bool folder = path && lstat(path, &e) == 0 && S_ISDIR(e.st_mode);
        free(path);
        if (!folder) {
            rc++;
            found(w.names[i], -EEXIST, ctx);
        }
    }
    bkp_strv_free(w.names, w.n);
    free(w.regular);
    free(seen);
    bkp_buf_free(&sums);
    free(sumsfile);
    free(kit);
    return rc;
}
