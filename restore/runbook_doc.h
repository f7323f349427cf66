/*
 * runbook_doc.h — what people read of a runbook: its printable procedure
 * (手順書), in Markdown or HTML (bkp/report/doc.h), in Japanese or English
 * (the report of a drill or a restore by runbook: drill_report.h). Everything
 * here is text built from values the caller gathered; nothing is looked up.
 */
#ifndef RST_RUNBOOK_DOC_H
#define RST_RUNBOOK_DOC_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "bkp/report/doc.h"
#include "restore/runbook.h"

/* Where a usable copy of a data set is: one row of the printed procedure
 * (bkp/ops/runbook_load.h gathers them). */
typedef struct rb_copy {
    char *medium;   /* its name; "repository" for the primary */
    char *type;     /* its type's word in the policy ("removable") */
    char *location; /* "onsite" or "offsite" */
    bool offline;
    char *generation; /* "emr-db:42" */
    char *captured;   /* when, in local time as printed ("-": not known) */
    char kit[65];     /* its recovery kit's SHA-256 ("": none) */
    char *path;       /* where it was mounted (a medium at a path), or NULL */
    bool archive;     /* a folder of archives, not a repository copy */
} rb_copy;

typedef struct rb_copies {
    rb_copy *v;
    size_t n, cap;
} rb_copies;

/* Append a copy of `row` (its strings copied; NULL ones as "-", but `path`):
 * 0 or -ENOMEM. */
int rb_copies_add(rb_copies *c, const rb_copy *row);
void rb_copies_free(rb_copies *c);

/* The data sets that are one folder each, restored as the folder's
 * contents (restore/procedure.h); the strings are borrowed. */
typedef struct rb_folder {
    const char *dataset, *folder;
} rb_folder;
typedef struct rb_folders {
    rb_folder *v;
    size_t n;
    /* What a machine that has never seen bkp needs of the policy to reach
     * its buckets, as a policy file (YAML), or NULL: no bucket. Owned. */
    char *recovery;
    /* The buckets it names (their names borrowed; the array owned): the
     * paper gives rows for those alone. */
    const char **buckets;
    size_t nbuckets;
} rb_folders;
void rb_folders_clear(rb_folders *f);

/* The printable procedure. `copies` (may be NULL) lists where usable copies
 * are today; `folders` (may be NULL) the data sets of one folder, so the
 * printed restore puts its contents where the engine would; `repo` is the
 * primary repository's path,
 * `fingerprint` its key's (pubkey.h; NULL when it is not open), `now` the
 * date printed on it (0: none, for a copy kept on a medium, which should
 * not change with the day). */
char *rb_print(const rb_runbook *rb, const rb_copies *copies, const rb_folders *folders,
               const char *repo, const char *fingerprint, rb_format f, bool ja, time_t now);

/* The procedure as a medium carries it beside its recovery kit, for a
 * machine that has never seen bkp: mounted read-only at `mount` (the
 * medium's path in the policy), every command runs the medium's kit there
 * with the key typed from paper (KEY). */
typedef struct rb_on_medium {
    const char *name;  /* the medium's name in the policy */
    const char *mount; /* where the procedure mounts it; NULL for a bucket */
    bool archive;      /* a folder of archives (DATASET@SEQ.tar), not a repository copy */
    bool bucket;       /* a bucket, reached by the policy rb_folders.recovery gives */
} rb_on_medium;

/* The procedure of `rb` for the medium `on`, in Markdown: `held` lists the
 * generations it holds, one row each, as rb_print's `copies`; `now` the
 * rotation that wrote it. */
char *rb_print_on_medium(const rb_runbook *rb, const rb_on_medium *on, const rb_copies *held,
                         const rb_folders *folders, const char *fingerprint, bool ja, time_t now);

#endif
