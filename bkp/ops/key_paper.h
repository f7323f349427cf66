/*
 * key_paper.h — the master secret put on paper: `bkp key export --paper`
 * (the whole secret on one sheet) and `bkp key split` (K-of-N share
 * sheets, shares.h), as files of the documents of key_sheet_doc.h.
 *
 * Putting the key on paper is the one time the master secret leaves the key
 * file, so each step is deliberate: the files are created first (O_EXCL and
 * O_NOFOLLOW, mode 0600: never over an existing file, never through a
 * planted link), then the audit record is appended — if it cannot be,
 * nothing is written and the files are removed, because an escrowed key
 * must have a record of every use — and only then the secret is written.
 * What a crash leaves: before the record, empty files and no record (the
 * key never left); after it, a record and files that may be empty or short
 * (a sheet that fails its checks when typed back, never a wrong key: every
 * line and the whole carry their checks, sheet.h). A write that fails
 * removes every file and records the failure: half a sheet is worse than
 * none. The secret lives in guarded memory, the documents are wiped.
 *
 * Errors: logged here, with what to do; -EINVAL a refusal (a name taken by
 * a file or a link, a folder that cannot be used or others may write);
 * another negative errno a failure.
 */
#ifndef BKP_OPS_KEY_PAPER_H
#define BKP_OPS_KEY_PAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bkp/audit/audit.h"
#include "bkp/keys/keys.h"
#include "bkp/ops/key_sheet_doc.h"
#include "bkp/store/repo.h"

typedef struct ops_sheet_file {
    char name[64]; /* relative to the folder's descriptor */
    int fd;        /* -1 until created */
    char *text;    /* the document, holding the secret (ops_key_sheet_doc) */
    size_t len;
    char sum[BKP_SHEET_SUM_LEN]; /* a share's checksum (bkp_sheet_sum_text), for the record */
} ops_sheet_file;

/* `n` files with no name, descriptor or document yet. */
void ops_sheet_files_init(ops_sheet_file *o, size_t n);
/* Close and wipe them (not unlinked). */
void ops_sheet_files_free(ops_sheet_file *o, size_t n);

/* The paper sheet's document of the keys `k` (the master secret, whole),
 * as ops_key_sheet_doc makes it, or NULL (logged). */
char *ops_key_paper_doc(const bkp_keys *k, const ops_sheet_look *look, size_t *len);
/* `n` share sheets of the keys `k`, any `kk` of which open it, as named
 * documents share-I-of-N.md|html into `o[0..n-1]`: 0, or a negative errno
 * (logged); the caller frees `o` either way. */
int ops_key_share_docs(const bkp_keys *k, unsigned kk, unsigned n, const ops_sheet_look *look,
                       ops_sheet_file *o) __attribute__((warn_unused_result));

/* The folder `dir` of the shares, opened: made 0700, or an existing folder
 * of ours that no one else may write (who could, could swap a sheet before
 * it is printed). Its descriptor, or -EINVAL (logged). */
int ops_key_shares_dir(const char *dir);

/* Create the files `o[0..n-1]` in the folder `dirfd` (named `where` in
 * messages), record `rec` in the audit log of `r`, write each document and
 * sync it (see above for the order and why). 0, or a negative errno with no
 * file left. */
int ops_key_sheets_write(bkp_repo *r, int dirfd, const char *where, ops_sheet_file *o, size_t n,
                         bkp_audit_rec *rec) __attribute__((warn_unused_result));
/* The same for the one file `path` (`bkp key export --paper -o FILE`). */
int ops_key_sheet_write_to(bkp_repo *r, const char *path, ops_sheet_file *o, bkp_audit_rec *rec)
    __attribute__((warn_unused_result));

#endif
