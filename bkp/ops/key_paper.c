/* key_paper.c — see key_paper.h (the order of the writes and what a crash
 * leaves are explained there, and again where each step is). */
#include "bkp/ops/key_paper.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/io/fdio.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/key_sheet_doc.h"
#include "bkp/keys/shares.h"
#include "bkp/keys/sheet.h"
#include "bkp/report/doc.h"

void ops_sheet_files_init(ops_sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (ops_sheet_file){.fd = -1};
}

void ops_sheet_files_free(ops_sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o[i].fd >= 0)
            close(o[i].fd);
        ops_key_sheet_doc_free(o[i].text); /* wipes */
        o[i].fd = -1;
        o[i].text = NULL;
    }
}

char *ops_key_paper_doc(const bkp_keys *k, const ops_sheet_look *look, size_t *len)
{
    /* The secret is copied only into guarded memory, wiped when freed. */
    bkp_sheet *s = sodium_malloc(sizeof(*s));
    if (!s) {
        bkp_error(_("key export: out of memory"));
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->kind = BKP_SHEET_PAPER;
    memcpy(s->repo_id, bkp_keys_repo_id(k), 16);
    bkp_keys_master_for_paper(k, s->secret);
    char *text = ops_key_sheet_doc(s, bkp_keys_sign_pk(k), look, len);
    sodium_free(s); /* wipes */
    return text;
}

int ops_key_share_docs(const bkp_keys *k, unsigned kk, unsigned n, const ops_sheet_look *look,
                       ops_sheet_file *o)
{
    uint8_t *master = sodium_malloc(BKP_SHEET_SECRET_LEN);
    bkp_sheet *sh = sodium_malloc(n * sizeof(*sh));
    int rc = master && sh ? 0 : -ENOMEM;
    if (!rc) {
        bkp_keys_master_for_paper(k, master);
        rc = bkp_shares_split(master, bkp_keys_repo_id(k), kk, n, sh);
    }
    for (unsigned i = 0; !rc && i < n; i++) {
        snprintf(o[i].name, sizeof(o[i].name), "share-%u-of-%u.%s", i + 1, n,
                 look->format == RB_HTML ? "html" : "md");
        o[i].text = ops_key_sheet_doc(&sh[i], bkp_keys_sign_pk(k), look, &o[i].len);
        bkp_sheet_sum_text(&sh[i], o[i].sum);
        if (!o[i].text)
            rc = -ENOMEM;
    }
    if (rc && !(master && sh))
        bkp_error(_("key split: out of memory"));
    sodium_free(sh); /* wipes */
    sodium_free(master);
    return rc;
}

int ops_key_shares_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        bkp_error(_("key split: %s: %s"), dir, strerror(errno));
        return -EINVAL;
    }
    /* O_NOFOLLOW: a link planted where the folder was named is refused,
     * and the checks below are of the folder the files go into. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || (st.st_mode & 022) || st.st_uid != geteuid()) {
        bkp_error(_("key split: %s: %s"), dir,
                  fd < 0 ? _("not a folder (or a link to one); name a new folder")
                         : _("others may write to this folder (or own it); name a new folder, "
                             "which bkp makes with mode 0700"));
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    return fd;
}

static void unlink_created(int dirfd, ops_sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].fd >= 0)
            (void)unlinkat(dirfd, o[i].name, 0);
}

/* Create every file, O_EXCL and O_NOFOLLOW, mode 0600 (fchmod: whatever
 * the umask). -EINVAL when a name is taken (by a file or a link), another
 * negative errno else; none is left then. */
static int create_all(int dirfd, const char *where, ops_sheet_file *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        o[i].fd =
            openat(dirfd, o[i].name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (o[i].fd < 0 || fchmod(o[i].fd, 0600) != 0) {
            int e = errno;
            bkp_error(_("%s%s%s: %s; a key sheet is never written over an existing file or through "
                        "a link: move it away or name another place"),
                      where, *where ? "/" : "", o[i].name,
                      e == EEXIST ? _("exists (a file or a link)") : strerror(e));
            unlink_created(dirfd, o, i + (o[i].fd >= 0));
            return e == EEXIST ? -EINVAL : -e;
        }
    }
    return 0;
}

int ops_key_sheets_write(bkp_repo *r, int dirfd, const char *where, ops_sheet_file *o, size_t n,
                         bkp_audit_rec *rec)
{
    int rc = create_all(dirfd, where, o, n);
    if (rc)
        return rc;
    /* The record before the secret: a key on paper with no record of its
     * export is what the log exists to prevent. */
    if (bkp_audit_append(r, rec) != 0) {
        bkp_error(_("%s: the key was not written, because its export could not be recorded in the "
                    "audit log; repair the log (bkp audit verify) and try again"),
                  rec->op);
        unlink_created(dirfd, o, n);
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        rc = bkp_write_full(o[i].fd, o[i].text, o[i].len);
        if (rc == 0)
            rc = bkp_fsync_fd(o[i].fd);
        if (rc) {
            /* Half a sheet is worse than none: it would fail only on the day
             * it is needed. */
            bkp_error(_("%s%s%s: %s; no sheet was kept, try again"), where, *where ? "/" : "",
                      o[i].name, strerror(-rc));
            unlink_created(dirfd, o, n);
            rec->failed = true;
            rec->error = bkp_strerror_en(rc); /* English in the record */
            (void)!bkp_audit_append(r, rec);
            return rc;
        }
    }
    /* The names are durable once the folder is synced; without it a crash
     * may lose a sheet the log says was written (warned, not undone). */
    rc = bkp_fsync_fd(dirfd);
    if (rc)
        bkp_warn(_("%s: the folder could not be synced: %s"), *where ? where : ".", strerror(-rc));
    return 0;
}

int ops_key_sheet_write_to(bkp_repo *r, const char *path, ops_sheet_file *o, bkp_audit_rec *rec)
{
    /* POSIX dirname and basename may write into their argument: a copy each. */
    char *copy = strdup(path), *copy2 = strdup(path);
    char *dir = copy ? dirname(copy) : NULL, *base = copy2 ? basename(copy2) : "";
    int dirfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, rc;
    snprintf(o->name, sizeof(o->name), "%s", base);
    if (dirfd < 0 || strlen(base) >= sizeof(o->name)) {
        bkp_error(_("key export: %s: %s"), path,
                  dirfd < 0 ? _("its folder cannot be opened") : _("the file name is too long"));
        rc = -EINVAL;
    } else {
        rc = ops_key_sheets_write(r, dirfd, dir, o, 1, rec);
    }
    if (dirfd >= 0)
        close(dirfd);
    free(copy);
    free(copy2);
    return rc;
}
