/*
 * kit_check.c — a recovery kit checked against its SHA256SUMS (kit.h), as
 * `sha256sum -c` would, and for what that does not see: a file planted
 * beside the listed ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/media/kit.h"

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
    /* Readable folders are only the way to their files; one that cannot
     * be read hides what is in it, and is itself a finding. */
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

/* The bytes of the kit member `name` (bkp_kit_member_ok: "NAME" or
 * "lib/NAME"), read below the kit's descriptor without following a link
 * at any step: a link planted on a medium never makes bkp read (or, for a
 * device, open) something outside the kit. */
static int read_member(int kitfd, const char *name, bkp_buf *b)
{
    const char *slash = strchr(name, '/');
    if (!slash)
        return bkp_read_file_at(kitfd, name, b, BKP_KIT_FILE_MAX);
    char sub[16];
    size_t l = (size_t)(slash - name);
    if (l >= sizeof(sub))
        return -ENOENT;
    memcpy(sub, name, l);
    sub[l] = '\0';
    int fd = openat(kitfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = bkp_read_file_at(fd, slash + 1, b, BKP_KIT_FILE_MAX);
    close(fd);
    return rc;
}

/* Each file SHA256SUMS names: there, regular, with its bytes. `seen[i]`
 * marks the walked entries it names. Only what the walk saw as a regular
 * file is read. Returns the findings. */
static int check_listed(int kitfd, const bkp_kit_sum *sums, size_t nsums, const walked *w,
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
        int r = at < 0 || !w->regular[at] ? -ENOENT : read_member(kitfd, name, &b);
        if (r == -ENOMEM) {
            bkp_buf_free(&b);
            return r;
        }
        if (!r)
            crypto_hash_sha256(got, b.data, b.len);
        if (r == -ENOENT) {
            findings++;
            found(name, -ENOENT, ctx);
        } else if (r || sodium_memcmp(sums[i].sha256, got, sizeof(got))) {
            findings++; /* changed, swapped since the walk, or unreadable */
            found(name, -EBADMSG, ctx);
        }
    }
    bkp_buf_free(&b);
    return findings;
}

/* A name found on a medium, fit for a person's terminal and a JSON field:
 * bytes outside printable ASCII become '?' (a kit member's name is plain
 * ASCII; anything else is planted, and its exact bytes matter less than
 * that it is reported without escape sequences). */
static char *printable(const char *name)
{
    char *p = strdup(name);
    for (char *q = p; q && *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
            *q = '?';
    return p;
}

/* SHA256SUMS, read below the kit: parsed, or -ENOENT / -EBADMSG (a list
 * that is too large, not a regular file or not a kit's) / -ENOMEM. */
static int load_sums(int kitfd, const walked *w, bkp_kit_sum **list, size_t *n)
{
    bkp_buf sums;
    bkp_buf_init(&sums);
    ssize_t at = find(w, "SHA256SUMS");
    int r = at < 0            ? -ENOENT
            : !w->regular[at] ? -EBADMSG
                              : bkp_read_file_at(kitfd, "SHA256SUMS", &sums, 1U << 20);
    if (r == -EFBIG || r == -ELOOP)
        r = -EBADMSG;
    if (!r)
        r = bkp_kit_sums_parse(sums.data, sums.len, list, n);
    bkp_buf_free(&sums);
    return r == -ENOMEM || r == -ENOENT ? r : r ? -EBADMSG : 0;
}

int bkp_kit_check(const char *dir, bkp_kit_found_fn found, void *ctx)
{
    char *kit = bkp_path_join(dir, BKP_KIT_DIR);
    walked w = {0};
    bool *seen = NULL;
    bkp_kit_sum *list = NULL;
    size_t nlist = 0;
    struct stat st;
    int kitfd = -1;
    int rc = !kit ? -ENOMEM : lstat(kit, &st) < 0 ? -errno : 0;
    if (!rc && !S_ISDIR(st.st_mode))
        rc = -ENOTDIR;
    if (!rc && (kitfd = open(kit, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        rc = -errno;
    if (!rc)
        rc = walk(kit, &w);
    if (!rc && !(seen = calloc(w.n + 1, sizeof(*seen))))
        rc = -ENOMEM;
    int r = rc ? 0 : load_sums(kitfd, &w, &list, &nlist);
    if (!rc && !r)
        r = check_listed(kitfd, list, nlist, &w, seen, found, ctx);
    bkp_kit_sums_free(list, nlist);
    /* A list that is missing or not a kit's checks nothing: one finding. */
    bool listed = !rc && r >= 0;
    if (!rc && (r == -ENOENT || r == -EBADMSG)) {
        found("SHA256SUMS", r, ctx);
        r = 1;
    }
    if (!rc)
        rc = r;
    /* What SHA256SUMS does not name, but for itself (readable folders are
     * not walked entries). */
    for (size_t i = 0; listed && rc >= 0 && i < w.n; i++) {
        if (seen[i] || (w.regular[i] && !strcmp(w.names[i], "SHA256SUMS")))
            continue;
        char *shown = printable(w.names[i]);
        if (!shown) {
            rc = -ENOMEM;
            break;
        }
        rc++;
        found(shown, -EEXIST, ctx);
        free(shown);
    }
    if (kitfd >= 0)
        close(kitfd);
    bkp_strv_free(w.names, w.n);
    free(w.regular);
    free(seen);
    free(kit);
    return rc;
}
