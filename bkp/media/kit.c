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

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/media/kit.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

void bkp_kit_paths_free(char **paths, size_t n)
{
    bkp_strv_free(paths, n);
}

static bool lib_name_ok(const char *name);

typedef struct lib_list {
    char **v;
    size_t n;
    int rc;
    char interp[PATH_MAX]; /* the program's loader (PT_INTERP) */
} lib_list;

/* Each object the loader mapped, by the name it opened it under: the name
 * a program asks for (libsodium.so.23), not the file behind it. The program
 * itself ("") gives its loader's path. */
static int take_lib(struct dl_phdr_info *info, size_t size, void *ctx)
{
    lib_list *l = ctx;
    (void)size;
    const char *path = info->dlpi_name, *base = path ? strrchr(path, '/') : NULL;
    struct stat st;
    if (path && !*path && !*l->interp) {
        for (int i = 0; i < info->dlpi_phnum; i++)
            if (info->dlpi_phdr[i].p_type == PT_INTERP)
                snprintf(l->interp, sizeof(l->interp), "%s",
                         (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr));
        return 0;
    }
    if (!base || l->rc || !strstr(base + 1, ".so") || !lib_name_ok(base + 1) ||
        stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0; /* the vDSO, or a name no kit could list */
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

/* The objects mapped at start, before main: the program's own libraries,
 * its C library and loader. What the program loads later for a moment's
 * need (libcurl for a bucket, s3_lib.c; glibc's NSS modules) is not the
 * program's and never goes into a kit. */
static lib_list at_start;
/* Something was loaded into the program that it did not ask for (LD_PRELOAD,
 * LD_AUDIT, /etc/ld.so.preload): what it has loaded is not its own, and no
 * kit is written from it. */
static bool preloaded;

__attribute__((constructor)) static void libraries_at_start(void)
{
    struct stat st;
    const char *pre = getenv("LD_PRELOAD"), *audit = getenv("LD_AUDIT");
    preloaded = (pre && *pre) || (audit && *audit) ||
                (stat("/etc/ld.so.preload", &st) == 0 && st.st_size > 0);
    dl_iterate_phdr(take_lib, &at_start);
}

bool bkp_kit_started_by_loader(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *loader = strrchr(at_start.interp, '/'), *base;
    if (n <= 0 || !loader)
        return false;
    exe[n] = '\0';
    base = strrchr(exe, '/');
    /* The program file is the loader itself: started as `LOADER PROGRAM`,
     * the way a recovery kit starts it. */
    return base && !strcmp(base + 1, loader + 1);
}

int bkp_kit_libraries(char ***paths, size_t *n)
{
    char **v = at_start.n ? calloc(at_start.n, sizeof(*v)) : NULL;
    if (at_start.rc || (at_start.n && !v)) {
        free(v);
        return at_start.rc ? at_start.rc : -ENOMEM;
    }
    for (size_t i = 0; i < at_start.n; i++)
        if (!(v[i] = strdup(at_start.v[i]))) {
            bkp_kit_paths_free(v, i);
            return -ENOMEM;
        }
    *paths = v;
    *n = at_start.n;
    return 0;
}

/* The file name of the program's loader ("ld-linux-x86-64.so.2"), which a
 * kit carries and starts the program with; NULL when it has none. */
static const char *loader_name(void)
{
    const char *slash = strrchr(at_start.interp, '/');
    return slash && slash[1] ? slash + 1 : NULL;
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

/*
 * The launcher, run by the recovery machine's own /bin/sh. It starts
 * nothing the kit did not bring: first every file of the folder is checked
 * against SHA256SUMS with the machine's own sha256sum, and a file the list
 * does not name (a library or catalogue put beside the kit, a link) or one
 * that differs stops it before anything of the kit runs; then the program
 * is started by the kit's own loader, with the kit's own libraries and C
 * library only (--library-path, --inhibit-cache: no LD_LIBRARY_PATH, no
 * ld.so.cache), in an environment cleared of everything but the language,
 * the terminal, the home and bkp's own variables (no LD_PRELOAD,
 * GCONV_PATH, LOCPATH, NLSPATH). The person checks the list itself against
 * paper (README.txt).
 */
static char *launcher_text(const char *loader)
{
    char *s = NULL;
    /* The script is parsed whole before anything of it runs (main() at its
     * end): a disk that changes under it cannot change what runs. */
    if (asprintf(
            &s,
            "#!/bin/sh\n"
            "# bkp recovery kit: checks every file of this folder against SHA256SUMS\n"
            "# (with this machine's sha256sum) and that nothing else is here, then starts\n"
            "# lib/bkp with the loader and libraries of lib/ only, in a clean\n"
            "# environment. A file SHA256SUMS does not list, a link, or one that differs\n"
            "# stops it. Nothing is installed. On a network share, or a disk that may not\n"
            "# give the same bytes twice, copy this folder to this machine and run the copy.\n"
            "# 復旧キット: このフォルダの全ファイルを SHA256SUMS と照合し (この機械の\n"
            "# sha256sum)、ほかに何もないときだけ lib/ のローダーとライブラリで lib/bkp を\n"
            "# 起動します。一覧にないファイル、リンク、一致しないファイルがあれば起動しません。\n"
            "refuse() {\n"
            "    printf 'bkp-recovery: %%s\\n  %%s\\n' \"$1\" \"$2\" >&2\n"
            "    exit 2\n"
            "}\n"
            "# Names from the disk, shown without what would steer the terminal.\n"
            "shown() {\n"
            "    LC_ALL=C sed 's/[^ -~]/?/g' | tr '\\n' ' '\n"
            "}\n"
            "main() {\n"
            "    unset CDPATH\n"
            "    case \"$0\" in */*) here=${0%%/*} ;; *) here=. ;; esac\n"
            "    here=$(cd -P -- \"$here\" >/dev/null && pwd -P) || exit 2\n"
            "    case \"$here\" in *=*)\n"
            "        refuse \"the kit's folder $here has '=' in its path; nothing was started\" "
            "\\\n"
            "            \"copy the folder to one without it (cp -r $here /root/bkp-kit)\" ;;\n"
            "    esac\n"
            "    command -v sha256sum >/dev/null 2>&1 ||\n"
            "        refuse \"no sha256sum here: the kit cannot be checked, so nothing was started "
            "(sha256sum がないため照合できず、起動しません)\" \\\n"
            "            \"use a machine with coreutils\"\n"
            "    if ! (cd \"$here\" && sha256sum -c SHA256SUMS) >/dev/null 2>&1; then\n"
            "        bad=$(cd \"$here\" && sha256sum -c SHA256SUMS 2>/dev/null | sed -n 's/: "
            "FAILED.*$//p' | shown)\n"
            "        refuse \"$here: ${bad:-a file} is not what SHA256SUMS lists (changed or "
            "missing): nothing was started (一覧と一致しないファイルがあり、起動しません)\" \\\n"
            "            \"see: cd $here && sha256sum -c SHA256SUMS; use another copy of the "
            "kit\"\n"
            "    fi\n"
            "    odd=$(cd \"$here\" && find . ! -type f ! -type d | shown)\n"
            "    [ -z \"$odd\" ] ||\n"
            "        refuse \"$here holds links or other things that are not files: $odd; nothing "
            "was started (リンクなどがあり、起動しません)\" \\\n"
            "            \"use another copy of the kit\"\n"
            "    listed=$(sed -n 's/^[0-9a-f]\\{64\\}  //p' \"$here/SHA256SUMS\" | LC_ALL=C sort)\n"
            "    found=$(cd \"$here\" && find . ! -type d ! -path ./SHA256SUMS | sed 's|^\\./||' | "
            "LC_ALL=C sort)\n"
            "    dirs=$(printf '%%s\\n' \"$listed\" | while IFS= read -r f; do\n"
            "        while case \"$f\" in */*) true ;; *) false ;; esac; do\n"
            "            f=${f%%/*}\n"
            "            printf '%%s\\n' \"$f\"\n"
            "        done\n"
            "    done | LC_ALL=C sort -u)\n"
            "    fdirs=$(cd \"$here\" && find . -type d ! -path . | sed 's|^\\./||' | LC_ALL=C "
            "sort)\n"
            "    if [ \"$listed\" != \"$found\" ] || [ \"$dirs\" != \"$fdirs\" ]; then\n"
            "        extra=$(printf '%%s\\n%%s\\n' \"$found\" \"$fdirs\" | while IFS= read -r f; "
            "do\n"
            "            case \"\n"
            "$listed\n"
            "$dirs\n"
            "\" in *\"\n"
            "$f\n"
            "\"*) ;; *) printf '%%s\\n' \"$f\" ;; esac\n"
            "        done | shown)\n"
            "        refuse \"$here holds what SHA256SUMS does not list: $extra; nothing was "
            "started (一覧にないファイルがあり、起動しません)\" \\\n"
            "            \"use another copy of the kit, or remove them only if you know where they "
            "came from\"\n"
            "    fi\n"
            "    # A language given as a path would lead the C library or gettext out of the kit.\n"
            "    for v in LANG LANGUAGE LC_ALL LC_MESSAGES LC_CTYPE; do\n"
            "        eval \"case \\\"\\${$v-}\\\" in */*) unset $v ;; esac\"\n"
            "    done\n"
            "    set -- \"$here/lib/%s\" --library-path \"$here/lib\" --inhibit-cache \\\n"
            "        --argv0 \"$here/bkp\" \"$here/lib/bkp\" \"$@\"\n"
            "    for v in LANG LANGUAGE LC_ALL LC_MESSAGES LC_CTYPE TERM COLUMNS HOME USER LOGNAME "
            "TZ \\\n"
            "        TMPDIR BKP_PASSPHRASE_FILE BKP_PASSPHRASE_COMMAND BKP_POLICY BKP_REPO; do\n"
            "        eval \"[ -n \\\"\\${$v+x}\\\" ] && set -- \\\"$v=\\${$v}\\\" \\\"\\$@\\\"\"\n"
            "    done\n"
            "    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LOCPATH=\"$here/lib/locale-data\" "
            "\"$@\"\n"
            "}\n"
            "main \"$@\"\n"
            "exit 2\n",
            loader) < 0)
        return NULL;
    return s;
}

static char *readme(void)
{
    char *s = NULL;
    if (asprintf(
            &s,
            "bkp 復旧キット / bkp recovery kit\n"
            "==================================\n\n"
            "このディスクだけで、bkp が入っていない Linux 機 (x86_64) から復元できます。\n"
            "キットは自前のローダーと C ライブラリで動き、何もインストールしません。\n\n"
            "1. ディスクを読み取り専用で接続する (例: mount -o ro /dev/sdb1 /mnt/usb)。\n"
            "   noexec でマウントされていたら、このフォルダを /tmp などにコピーして使う。\n"
            "2. 改ざんの確認 (この機械の sha256sum で):\n"
            "     cd /mnt/usb/bkp-recovery\n"
            "     sha256sum SHA256SUMS\n"
            "   表示された値を、紙の手順書 (bkp runbook print) の「復旧キットの指紋」と比べる。\n"
            "   違えば使わない。次に sha256sum -c SHA256SUMS がすべて OK であること。\n"
            "   ./bkp は起動のたびに同じ照合をし、一覧にないファイルや一致しないファイルが\n"
            "   あれば何も実行せずに止まる。\n"
            "3. 世代の一覧: LANG=ja_JP.UTF-8 ./bkp generations --repo /mnt/usb/repo\n"
            "4. 復元:       LANG=ja_JP.UTF-8 ./bkp restore データセット:latest /srv/restore --from "
            "/mnt/usb\n"
            "   パスフレーズ (封筒) を聞かれる。金庫の鍵の紙で開くときは --key-from 鍵の紙.md\n"
            "   を付ける。LANG=ja_JP.UTF-8 で日本語の表示になる "
            "(日本語のロケールがない機械でも)。\n"
            "   記録はディスクではなく復元先の隣の bkp-journal-*.jsonl に残る。その日の書類と\n"
            "   一緒に保管する。\n"
            "   時刻はこの機械の時間帯で、その名前 (JST、UTC など) を付けて表示される。\n"
            "   紙の手順書の時刻はサーバーの時間帯。合わせるには、紙が JST なら\n"
            "   TZ=JST-9、UTC なら TZ=UTC を付ける (例: TZ=JST-9 ./bkp generations ...)。\n"
            "5. 手順書に沿って業務システムを戻す。ディスクではこのフォルダの隣の\n"
            "   procedure-*.md（そのディスクにある世代の一覧つき）、テープではこの中。\n"
            "   形式は FORMAT.md。\n\n"
            "With this disk alone, a Linux machine without bkp (x86_64) restores. The kit\n"
            "runs with its own loader and C library; nothing is installed.\n\n"
            "1. Connect the disk read-only (e.g. mount -o ro /dev/sdb1 /mnt/usb). If it\n"
            "   is mounted noexec, copy this folder to /tmp or similar and use it there.\n"
            "2. Check it, with this machine's sha256sum:\n"
            "     cd /mnt/usb/bkp-recovery\n"
            "     sha256sum SHA256SUMS\n"
            "   Compare the value with \"the recovery kit's fingerprint\" on the printed\n"
            "   procedure (bkp runbook print). Do not use it if they differ. Then\n"
            "   sha256sum -c SHA256SUMS must say OK for every file. ./bkp makes\n"
            "   the same check each time it starts, and stops without running anything\n"
            "   when a file is not listed or differs.\n"
            "3. The generations: ./bkp generations --repo /mnt/usb/repo\n"
            "4. Restore:        ./bkp restore DATASET:latest /srv/restore --from /mnt/usb\n"
            "   The passphrase (the envelope) is asked for; with the key sheet from the\n"
            "   safe instead, add --key-from sheet.md. The record goes to\n"
            "   bkp-journal-*.jsonl beside the target, never onto the disk: keep it with\n"
            "   the papers of the day.\n"
            "   Times are shown in this machine's time zone, with its name (JST, UTC);\n"
            "   the printed procedure's are the server's. To read them alike, give the\n"
            "   paper's: TZ=JST-9 for JST, TZ=UTC for UTC (e.g. TZ=JST-9 ./bkp ...).\n"
            "5. Follow the procedures: procedure-*.md beside this folder on a disk (with\n"
            "   the generations that disk holds), inside it on a tape. The formats:\n"
            "   FORMAT.md.\n") < 0)
        return NULL;
    return s;
}

#define KIT_CATALOGUE "lib/locale/ja/LC_MESSAGES/bkp.mo"
/* The C library's C.UTF-8 locale, which the kit's C library reads instead of
 * the machine's (LOCPATH): messages in Japanese on a machine whose locales
 * are not installed, or of another C library's version (i18n.c). */
#define KIT_LOCALE_DIR "lib/locale-data/C.utf8/"
#define HOST_C_UTF8 "/usr/lib/locale/C.utf8"
static const char *const c_utf8_parts[] = {
    "LC_ADDRESS",     "LC_COLLATE",   "LC_CTYPE", "LC_IDENTIFICATION",
    "LC_MEASUREMENT", "LC_MONETARY",  "LC_NAME",  "LC_NUMERIC",
    "LC_PAPER",       "LC_TELEPHONE", "LC_TIME",  "LC_MESSAGES/SYS_LC_MESSAGES"};
#define C_UTF8_PARTS (sizeof(c_utf8_parts) / sizeof(*c_utf8_parts))

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
    char *readme, *launcher;
    char catalogue[PATH_MAX + 32];
    char locale_src[C_UTF8_PARTS][128];
} kit_set;

static void kit_set_free(kit_set *k)
{
    free(k->readme);
    free(k->launcher);
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

/* The C.UTF-8 locale of this machine's C library, when it has it whole. */
static void add_locale(kit_set *k)
{
    struct stat st;
    for (size_t i = 0; i < C_UTF8_PARTS; i++) {
        snprintf(k->locale_src[i], sizeof(k->locale_src[i]), HOST_C_UTF8 "/%s", c_utf8_parts[i]);
        if (stat(k->locale_src[i], &st) < 0 || !S_ISREG(st.st_mode))
            return;
    }
    for (size_t i = 0; i < C_UTF8_PARTS; i++) {
        k->v[k->n] = (item){.src = k->locale_src[i]};
        snprintf(k->v[k->n++].name, sizeof(k->v->name), KIT_LOCALE_DIR "%s", c_utf8_parts[i]);
    }
}

static int collect(const bkp_kit_doc *docs, size_t ndocs, kit_set *k, bkp_kit_result *res)
{
    memset(k, 0, sizeof(*k));
    memset(res, 0, sizeof(*res));
    snprintf(res->glibc, sizeof(res->glibc), "%s", gnu_get_libc_version());
    const char *loader = loader_name();
    if (bkp_kit_started_by_loader() || preloaded) {
        /* Run from a kit, /proc/self/exe is the loader; under LD_PRELOAD,
         * the libraries loaded are not the program's own. Either kit would
         * be wrong, and its fingerprint would be recorded all the same. */
        bkp_error(_("recovery kit: not written by a bkp %s; rotate with the installed bkp, started "
                    "plainly"),
                  preloaded ? _("started with LD_PRELOAD, LD_AUDIT or /etc/ld.so.preload")
                            : _("run from a recovery kit"));
        return -ENOEXEC;
    }
    int rc = loader ? bkp_kit_libraries(&k->libs, &k->nlibs) : -ENOEXEC;
    if (!rc && !(k->v = calloc(k->nlibs + ndocs + 4 + C_UTF8_PARTS, sizeof(*k->v))))
        rc = -ENOMEM;
    if (!rc && (!(k->readme = readme()) || !(k->launcher = launcher_text(loader))))
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
    k->v[k->n++] = (item){.name = "bkp", .text = k->launcher, .exec = true};
    k->v[k->n++] = (item){.name = "lib/bkp", .src = "/proc/self/exe", .exec = true};
    k->v[k->n++] = (item){.name = "README.txt", .text = k->readme};
    for (size_t i = 0; i < k->nlibs; i++) {
        /* The loader is what the launcher executes: a program (0555). */
        k->v[k->n] =
            (item){.src = k->libs[i], .exec = !strcmp(strrchr(k->libs[i], '/') + 1, loader)};
        snprintf(k->v[k->n++].name, sizeof(k->v->name), "lib/%s", strrchr(k->libs[i], '/') + 1);
    }
    add_catalogue(k);
    add_locale(k);
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

/* A procedure's file name beside a kit: procedure-STEM.ja.md or .en.md. */
static bool procedure_name(const char *name)
{
    size_t n = strlen(name);
    return !strncmp(name, "procedure-", 10) && n > 16 &&
           (!strcmp(name + n - 6, ".ja.md") || !strcmp(name + n - 6, ".en.md")) &&
           doc_name_ok(name);
}

int bkp_kit_procedures_write(const char *dir, const bkp_kit_doc *docs, size_t ndocs, bool prune)
{
    int rc = 0;
    for (size_t i = 0; i < ndocs; i++)
        if (!procedure_name(docs[i].name))
            return -EINVAL;
    /* Each on its own: one that cannot be written (a full disk, a folder
     * planted at its name) leaves no stale one behind, if it can help it,
     * and does not keep the others from being written. */
    for (size_t i = 0; i < ndocs; i++) {
        int w = bkp_durable_write(dir, docs[i].name, docs[i].text, strlen(docs[i].text),
                                  BKP_DURABLE_READONLY);
        if (w) {
            char *old = bkp_path_join(dir, docs[i].name);
            struct stat st;
            if (old && !lstat(old, &st) && S_ISREG(st.st_mode))
                (void)unlink(old);
            free(old);
            rc = rc ? rc : w;
        }
    }
    if (rc || !prune)
        return rc;
    /* Those of runbooks no longer copied here go: a procedure on the medium
     * lists only what is there. Only regular files of that form are touched. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    struct dirent *e;
    bool gone = false;
    if (!d) {
        rc = -errno;
        if (dfd >= 0)
            close(dfd);
        return rc;
    }
    while ((e = readdir(d))) {
        struct stat st;
        bool listed = false;
        for (size_t i = 0; i < ndocs && !listed; i++)
            listed = !strcmp(docs[i].name, e->d_name);
        if (listed || !procedure_name(e->d_name) ||
            fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dfd, e->d_name, 0) && errno != ENOENT)
            rc = rc ? rc : -errno;
        else
            gone = true;
    }
    if (gone && fsync(dfd) && !rc)
        rc = -errno;
    closedir(d);
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
    for (size_t i = 0; i < C_UTF8_PARTS; i++)
        if (!strncmp(rel, KIT_LOCALE_DIR, strlen(KIT_LOCALE_DIR)) &&
            !strcmp(rel + strlen(KIT_LOCALE_DIR), c_utf8_parts[i]))
            return true;
    if (!strncmp(rel, "lib/", 4))
        return lib_name_ok(rel + 4);
    return doc_name_ok(rel);
}
