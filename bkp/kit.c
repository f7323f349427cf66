/*
 * kit.c — the recovery kit (kit.h): the running program, its libraries,
 * a launcher and documents, checked by SHA256SUMS, swapped in whole.
 */
#include <dirent.h>
#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <link.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/bytes.h"
#include "bkp/durable.h"
#include "bkp/kit.h"
#include "bkp/i18n.h"
#include "bkp/log.h"

bool bkp_kit_is_glibc(const char *name)
{
    static const char *const glibc[] = {
        "libc.so",      "ld-linux",           "ld64.so",           "libm.so",
        "libmvec.so",   "libpthread.so",      "libdl.so",          "librt.so",
        "libutil.so",   "libresolv.so",       "libanl.so",         "libnss_",
        "libthread_db", "libBrokenLocale.so", "libc_malloc_debug",
    };
    for (size_t i = 0; i < sizeof(glibc) / sizeof(*glibc); i++)
        if (!strncmp(name, glibc[i], strlen(glibc[i])))
            return true;
    return false;
}

void bkp_kit_paths_free(char **paths, size_t n)
{
    bkp_strv_free(paths, n);
}

typedef struct lib_list {
    char **v;
    size_t n;
    int rc;
} lib_list;

/* Each object the loader has mapped, by the name it opened it under: the
 * name a program asks for (libsodium.so.23), not the file behind it. */
static int take_lib(struct dl_phdr_info *info, size_t size, void *ctx)
{
    lib_list *l = ctx;
    (void)size;
    const char *path = info->dlpi_name, *base = path ? strrchr(path, '/') : NULL;
    struct stat st;
    if (!base || l->rc || !strstr(base + 1, ".so") || bkp_kit_is_glibc(base + 1) ||
        stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0; /* the program itself (""), the vDSO, glibc */
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(strrchr(l->v[i], '/') + 1, base + 1))
            return 0;
    void *a = realloc(l->v, (l->n + 1) * sizeof(*l->v));
    if (a)
        l->v = a;
    if (!a || !(l->v[l->n] = strdup(path)))
        l->rc = -ENOMEM;
    else
        l->n++;
    return 0;
}

int bkp_kit_libraries(char ***paths, size_t *n)
{
    lib_list l = {0};
    dl_iterate_phdr(take_lib, &l);
    if (l.rc) {
        bkp_kit_paths_free(l.v, l.n);
        return l.rc;
    }
    *paths = l.v;
    *n = l.n;
    return 0;
}

/* One file of the kit: from `src` (a path) or `text`. */
typedef struct item {
    char name[256]; /* in the kit: "bkp", "lib/NAME", "README.txt", ... */
    const char *src;
    const char *text;
    bool exec;
} item;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const item *)a)->name, ((const item *)b)->name);
}

static int load(const item *it, bkp_buf *b)
{
    if (it->text) {
        bkp_buf_reset(b);
        bkp_buf_put(b, it->text, strlen(it->text));
        return b->failed ? -ENOMEM : 0;
    }
    return bkp_read_file(it->src, b, BKP_KIT_FILE_MAX);
}

static void sha256_hex(char hex[65], const void *data, size_t len)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    bkp_hex(hex, h, sizeof(h));
}

/* Append "HEX  NAME\n" for `b` to `sums`. */
static int add_sum(bkp_buf *sums, const char *name, const bkp_buf *b)
{
    char hex[65], line[400];
    sha256_hex(hex, b->data, b->len);
    int n = snprintf(line, sizeof(line), "%s  %s\n", hex, name);
    bkp_buf_put(sums, line, (size_t)n);
    return sums->failed ? -ENOMEM : 0;
}

static const char launcher[] =
    "#!/bin/sh\n"
    "# bkp recovery kit: runs the bkp program of this folder with the libraries\n"
    "# beside it (lib/). Nothing is installed; nothing on this machine changes.\n"
    "# 復旧キット: このフォルダの bkp を、同梱のライブラリ (lib/) で実行します。\n"
    "case \"$0\" in */*) here=${0%/*} ;; *) here=. ;; esac\n"
    "LD_LIBRARY_PATH=\"$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\"\n"
    "export LD_LIBRARY_PATH\n"
    "exec \"$here/lib/bkp\" \"$@\"\n";

static char *readme(const char *glibc)
{
    char *s = NULL;
    if (asprintf(&s,
                 "bkp 復旧キット / bkp recovery kit\n"
                 "==================================\n\n"
                 "このディスクだけで、bkp が入っていない Linux 機 (x86_64、glibc %s 以上) から\n"
                 "復元できます。何もインストールしません。\n\n"
                 "1. ディスクを接続してマウントする (例: mount /dev/sdb1 /mnt/usb)。\n"
                 "   noexec でマウントされていたら、このフォルダを /tmp などにコピーして使う。\n"
                 "2. 改ざんの確認: cd /mnt/usb/bkp-recovery && sha256sum -c SHA256SUMS\n"
                 "   さらに `sha256sum SHA256SUMS` の値を、監査ログ (rotate の記録の kit_sha256)\n"
                 "   または印刷した手順書の値と比べる。違えば使わない。\n"
                 "3. 世代の一覧: ./bkp generations --repo /mnt/usb/repo\n"
                 "4. 復元:       ./bkp restore emr:latest /srv/restore --from /mnt/usb\n"
                 "   パスフレーズを聞かれる。パスフレーズがなければ鍵シートで:\n"
                 "   ./bkp restore emr:latest /srv/restore --from /mnt/usb --key-from シート.md\n"
                 "5. 手順書 (procedure-*.md) に沿って業務システムを戻す。形式は FORMAT.md。\n\n"
                 "With this disk alone, a Linux machine without bkp (x86_64, glibc %s or\n"
                 "newer) restores. Nothing is installed.\n\n"
                 "1. Connect and mount the disk (e.g. mount /dev/sdb1 /mnt/usb). If it is\n"
                 "   mounted noexec, copy this folder to /tmp or similar and use it there.\n"
                 "2. Check it: cd /mnt/usb/bkp-recovery && sha256sum -c SHA256SUMS, then\n"
                 "   compare `sha256sum SHA256SUMS` with the audit log (kit_sha256 in the\n"
                 "   rotate record) or the printed procedure. Do not use it if they differ.\n"
                 "3. The generations: ./bkp generations --repo /mnt/usb/repo\n"
                 "4. Restore:        ./bkp restore emr:latest /srv/restore --from /mnt/usb\n"
                 "   It asks for the passphrase; without one, the key sheets:\n"
                 "   ./bkp restore emr:latest /srv/restore --from /mnt/usb --key-from sheet.md\n"
                 "5. Follow the procedures (procedure-*.md). The formats: FORMAT.md.\n",
                 glibc, glibc) < 0)
        return NULL;
    return s;
}

#define KIT_CATALOGUE "lib/locale/ja/LC_MESSAGES/bkp.mo"

static bool doc_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 128 && name[0] != '.' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n &&
           strcmp(name, "bkp") && strcmp(name, "SHA256SUMS") && strcmp(name, "README.txt");
}

/* SHA256SUMS of `v` as it would be written now. */
static int sums_of(const item *v, size_t n, bkp_buf *sums, unsigned long long *bytes)
{
    bkp_buf b;
    int rc = 0;
    bkp_buf_init(&b);
    bkp_buf_reset(sums);
    *bytes = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!(rc = load(&v[i], &b)) && !(rc = add_sum(sums, v[i].name, &b)))
            *bytes += b.len;
        if (rc)
            bkp_error(_("recovery kit: %s: %s"), v[i].src ? v[i].src : v[i].name, bkp_strerror(rc));
    }
    bkp_buf_free(&b);
    return rc;
}

static void no_finding(const char *name, int why, void *ctx)
{
    (void)name;
    (void)why;
    (void)ctx;
}

/* Write every item into the folder `tmp` (made here), then SHA256SUMS of
 * the bytes written. */
static int build(const char *tmp, const item *v, size_t n, bkp_buf *sums)
{
    char *lib = bkp_path_join(tmp, "lib");
    bkp_buf b;
    int rc = !lib ? -ENOMEM : mkdir(tmp, 0755) < 0 || mkdir(lib, 0755) < 0 ? -errno : 0;
    bkp_buf_init(&b);
    bkp_buf_reset(sums);
    for (size_t i = 0; !rc && i < n; i++) {
        unsigned flags = BKP_DURABLE_READONLY | (v[i].exec ? BKP_DURABLE_EXEC : 0);
        char *path = bkp_path_join(tmp, v[i].name), *slash = path ? strrchr(path, '/') : NULL;
        rc = !slash ? -ENOMEM : (*slash = '\0', bkp_mkdir_p(path, 0755));
        if (!rc && !(rc = load(&v[i], &b)) && !(rc = add_sum(sums, v[i].name, &b)))
            rc = bkp_durable_write(path, slash + 1, b.data, b.len, flags);
        free(path);
    }
    if (!rc)
        rc = bkp_durable_write(tmp, "SHA256SUMS", sums->data, sums->len, BKP_DURABLE_READONLY);
    if (!rc)
        rc = bkp_fsync_dir(tmp);
    bkp_buf_free(&b);
    free(lib);
    return rc;
}

/* Put the folder `tmp` in the place of `final`: one exchange when there is
 * a kit already (the old one then removed from `tmp`), else a rename. */
static int swap_in(const char *dir, const char *tmp, const char *final)
{
    struct stat st;
    if (lstat(final, &st) < 0)
        return bkp_durable_rename(tmp, final, BKP_DURABLE_NOREPLACE);
    int rc = bkp_durable_rename(tmp, final, BKP_DURABLE_EXCHANGE);
    if (!rc) {
        (void)bkp_remove_tree(tmp); /* the old kit */
        return 0;
    }
    /* A file system that cannot exchange: aside, then in. A crash between
     * leaves no kit until the next write. */
    char *old = bkp_path_join(dir, ".bkp-recovery.old");
    rc = !old ? -ENOMEM : (bkp_remove_tree(old), bkp_durable_rename(final, old, 0));
    if (!rc)
        rc = bkp_durable_rename(tmp, final, BKP_DURABLE_NOREPLACE);
    if (!rc)
        (void)bkp_remove_tree(old);
    free(old);
    return rc;
}

/* The files of a kit (sorted by name, SHA256SUMS not among them) and what
 * they are read from. */
typedef struct kit_set {
    item *v;
    size_t n;
    char **libs;
    size_t nlibs;
    char *readme;
    char catalogue[PATH_MAX + 32];
} kit_set;

static void kit_set_free(kit_set *k)
{
    free(k->readme);
    free(k->v);
    bkp_kit_paths_free(k->libs, k->nlibs);
}

/* The message catalogue the program uses, where lib/bkp finds it. */
static void add_catalogue(kit_set *k)
{
    const char *bound = bindtextdomain("bkp", NULL);
    struct stat st;
    if (bound &&
        snprintf(k->catalogue, sizeof(k->catalogue), "%s/ja/LC_MESSAGES/bkp.mo", bound) <
            (int)sizeof(k->catalogue) &&
        stat(k->catalogue, &st) == 0 && S_ISREG(st.st_mode)) {
        k->v[k->n] = (item){.src = k->catalogue};
        snprintf(k->v[k->n++].name, sizeof(k->v->name), "%s", KIT_CATALOGUE);
    }
}

static int collect(const bkp_kit_doc *docs, size_t ndocs, kit_set *k, bkp_kit_result *res)
{
    memset(k, 0, sizeof(*k));
    memset(res, 0, sizeof(*res));
    snprintf(res->glibc, sizeof(res->glibc), "%s", gnu_get_libc_version());
    int rc = bkp_kit_libraries(&k->libs, &k->nlibs);
    if (!rc && !(k->v = calloc(k->nlibs + ndocs + 4, sizeof(*k->v))))
        rc = -ENOMEM;
    if (!rc && !(k->readme = readme(res->glibc)))
        rc = -ENOMEM;
    for (size_t i = 0; !rc && i < ndocs; i++) {
        if (!doc_name_ok(docs[i].name)) {
            bkp_error(_("recovery kit: %s is no name for a document of it"), docs[i].name);
            rc = -EINVAL;
            break;
        }
        k->v[k->n] = (item){.text = docs[i].text};
        snprintf(k->v[k->n++].name, sizeof(k->v->name), "%s", docs[i].name);
    }
    if (rc)
        return rc;
    k->v[k->n++] = (item){.name = "bkp", .text = launcher, .exec = true};
    k->v[k->n++] = (item){.name = "lib/bkp", .src = "/proc/self/exe", .exec = true};
    k->v[k->n++] = (item){.name = "README.txt", .text = k->readme};
    for (size_t i = 0; i < k->nlibs; i++) {
        k->v[k->n] = (item){.src = k->libs[i]};
        snprintf(k->v[k->n++].name, sizeof(k->v->name), "lib/%s", strrchr(k->libs[i], '/') + 1);
    }
    add_catalogue(k);
    qsort(k->v, k->n, sizeof(*k->v), by_name);
    res->files = k->n;
    return 0;
}

int bkp_kit_write(const char *dir, const bkp_kit_doc *docs, size_t ndocs, bkp_kit_result *res)
{
    char *final = bkp_path_join(dir, BKP_KIT_DIR), *tmp = bkp_path_join(dir, ".bkp-recovery.new");
    char *sumsfile = NULL;
    kit_set k;
    bkp_buf sums, there;
    bkp_buf_init(&sums);
    bkp_buf_init(&there);
    int rc = collect(docs, ndocs, &k, res);
    if (!rc && (!final || !tmp))
        rc = -ENOMEM;
    if (!rc)
        rc = sums_of(k.v, k.n, &sums, &res->bytes);
    /* The same bytes there already — the list, every file it names read
     * back, and nothing else beside them (a file altered or planted under an
     * unchanged list is no kit): nothing to write. */
    if (!rc && (sumsfile = bkp_path_join(final, "SHA256SUMS")) &&
        bkp_read_file(sumsfile, &there, 1U << 20) == 0 && there.len == sums.len &&
        !memcmp(there.data, sums.data, sums.len) && bkp_kit_check(dir, no_finding, NULL) == 0) {
        sha256_hex(res->sums, sums.data, sums.len);
        goto out;
    }
    if (!rc) {
        (void)bkp_remove_tree(tmp); /* a crashed write's */
        rc = build(tmp, k.v, k.n, &sums);
    }
    if (!rc && !(rc = swap_in(dir, tmp, final))) {
        res->written = true;
        sha256_hex(res->sums, sums.data, sums.len);
    }
    if (rc && tmp)
        (void)bkp_remove_tree(tmp);
out:
    bkp_buf_free(&sums);
    bkp_buf_free(&there);
    free(sumsfile);
    kit_set_free(&k);
    free(tmp);
    free(final);
    return rc;
}

int bkp_kit_emit(const bkp_kit_doc *docs, size_t ndocs, bkp_kit_put_fn put, void *ctx,
                 bkp_kit_result *res)
{
    kit_set k;
    bkp_buf b, sums;
    bkp_buf_init(&b);
    bkp_buf_init(&sums);
    int rc = collect(docs, ndocs, &k, res);
    for (size_t i = 0; !rc && i < k.n; i++) {
        if ((rc = load(&k.v[i], &b)) || (rc = add_sum(&sums, k.v[i].name, &b))) {
            bkp_error(_("recovery kit: %s: %s"), k.v[i].src ? k.v[i].src : k.v[i].name,
                      bkp_strerror(rc));
            break;
        }
        res->bytes += b.len;
        rc = put(k.v[i].name, b.data, b.len, k.v[i].exec, ctx);
    }
    if (!rc && !(rc = put("SHA256SUMS", sums.data, sums.len, false, ctx))) {
        res->written = true;
        sha256_hex(res->sums, sums.data, sums.len);
    }
    bkp_buf_free(&b);
    bkp_buf_free(&sums);
    kit_set_free(&k);
    return rc;
}

/* A library's file name as the loader opened it: libsodium.so.23,
 * libstdc++.so.6. */
static bool lib_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 128 && name[0] != '.' && strstr(name, ".so") &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+") == n;
}

bool bkp_kit_member_ok(const char *rel)
{
    static const char *const fixed[] = {"bkp", "lib/bkp", "README.txt", "SHA256SUMS",
                                        KIT_CATALOGUE};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
        if (!strcmp(rel, fixed[i]))
            return true;
    if (!strncmp(rel, "lib/", 4))
        return lib_name_ok(rel + 4);
    return doc_name_ok(rel);
}
