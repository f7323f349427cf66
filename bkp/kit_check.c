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

void bkp_kit_sums_free(bkp_kit_sum *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i].name);
    free(s);
}

/* One line "HEX  NAME" (without its newline) into `e`: -EBADMSG unless the
 * name is a kit member's other than the list itself. */
static int parse_line(const char *line, size_t len, bkp_kit_sum *e)
{
    char hex[65];
    if (len < 67 || line[64] != ' ' || line[65] != ' ' || memchr(line, '\0', len))
        return -EBADMSG;
    memcpy(hex, line, 64);
    hex[64] = '\0';
    if (bkp_unhex(e->sha256, 32, hex))
        return -EBADMSG;
    if (!(e->name = strndup(line + 66, len - 66)))
        return -ENOMEM;
    return bkp_kit_member_ok(e->name) && strcmp(e->name, "SHA256SUMS") ? 0 : -EBADMSG;
}

int bkp_kit_sums_parse(const void *data, size_t len, bkp_kit_sum **out, size_t *n)
{
    const char *p = data, *end = p + len;
    bkp_kit_sum *v = NULL;
    size_t k = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    while (p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bkp_kit_sum *nv = k < BKP_KIT_FILES_MAX ? realloc(v, (k + 1) * sizeof(*v)) : NULL;
        if (!nv) {
            rc = k < BKP_KIT_FILES_MAX ? -ENOMEM : -EBADMSG;
            break;
        }
        v = nv;
        v[k].name = NULL;
        rc = parse_line(p, l, &v[k]);
        k++;
        for (size_t i = 0; !rc && i + 1 < k; i++)
            if (!strcmp(v[i].name, v[k - 1].name))
                rc = -EBADMSG; /* named twice */
        p += l + (nl ? 1 : 0);
    }
    if (!rc && !k)
        rc = -EBADMSG; /* an empty list checks nothing */
    if (rc) {
        bkp_kit_sums_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

/* Each file SHA256SUMS names: there, regular, with its bytes. `seen[i]`
 * marks the walked entries it names. Returns the findings. */
static int check_listed(const char *kit, const bkp_kit_sum *sums, size_t nsums, const walked *w,
                        bool *seen, bkp_kit_found_fn found, void *ctx)
{
    int findings = 0;
    bkp_buf b;
    bkp_buf_init(&b);
    for (size_t i = 0; i < nsums; i++) {
        const char *name = sums[i].name;
        uint8_t got[32];
        ssize_t at = find(w, name);
        if (at >= 0)
            seen[at] = true;
        char *path = bkp_path_join(kit, name);
        int r = !path ? -ENOMEM : at < 0 ? -ENOENT : bkp_read_file(path, &b, BKP_KIT_FILE_MAX);
        free(path);
        if (r == -ENOMEM) {
            bkp_buf_free(&b);
            return r;
        }
        if (!r)
            crypto_hash_sha256(got, b.data, b.len);
        if (r == -ENOENT || (at >= 0 && !w->regular[at])) {
            findings++;
            found(name, -ENOENT, ctx);
        } else if (r || sodium_memcmp(sums[i].sha256, got, sizeof(got))) {
            findings++;
            found(name, -EBADMSG, ctx);
        }
    }
    bkp_buf_free(&b);
    return findings;
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
    bkp_kit_sum *list = NULL;
    size_t nlist = 0;
    int r = rc ? 0 : bkp_read_file(sumsfile, &sums, 1U << 20);
    if (!rc && !r)
        r = bkp_kit_sums_parse(sums.data, sums.len, &list, &nlist);
    if (!rc && !r)
        r = check_listed(kit, list, nlist, &w, seen, found, ctx);
    bkp_kit_sums_free(list, nlist);
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
