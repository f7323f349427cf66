/*
 * restore.h — getting a generation back, to a directory or a tar stream.
 *
 * Every chunk is authenticated by worker threads that fetch ahead of the
 * writer: its tag binds it to its type and ID under the repository key
 * (bkp_repo_get_sealed); every file's chunks must fill its recorded size.
 * rst_compare then reads a restored tree back and
 * hashes it as at capture (`restore --verify`, runbooks and drills).
 * Metadata is written by libarchive's archive_write_disk with its secure
 * flags: no "..", no absolute paths, no writing through symlinks. Into a
 * directory, regular files are created and written by parallel writers
 * (writers.h), large ones in ranges; a tar stream has one writer. A damaged
 * file is reported, removed, and the restore carries on with the rest.
 */
#ifndef RST_RESTORE_H
#define RST_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

typedef struct rst_opts {
    const char *target;     /* directory to restore into (created if absent) */
    bool target_is_fd;      /* restore into the open directory `target_fd` instead, which
                             * the caller resolved (a drill's folder, beneath its sandbox);
                             * `target` then only names it in messages */
    int target_fd;          /* borrowed */
    const char *path;       /* only this stored path and what is below it; NULL: all */
    const char *to_archive; /* write a pax stream here instead ("-": stdout): a new file,
                             * created O_EXCL|O_NOFOLLOW, mode 0600 — it is plaintext */
    bool force;             /* allow a non-empty target; with to_archive, replace an existing
                             * regular file (never a link, which is refused) */
    const char *strip;      /* a stored folder whose contents become the target's
                             * (a runbook restores a data set's folder into `to`); NULL: none */
    int workers;            /* fetch threads of a tar stream, writers of a directory;
                             * 0: one per online CPU (writers: and two more) */
} rst_opts;

typedef struct rst_result {
    uint64_t items, files, bytes;
    uint64_t damaged;  /* files that could not be restored exactly */
    bool list_damaged; /* the item list could not be read to its end ... */
    uint64_t unread;   /* ... and this many of the items the generation records were
                        * not read (0 when the record does not say) */
    bool nothing;      /* --path, or the folder of `strip`, matched nothing (said; a failure) */
} rst_result;

/* Whether a restore may go into the folder `target`: 0 when it is not there
 * or is empty, or with `force`; -EEXIST (said) when it holds anything; the
 * error (said) of a target that is no folder or cannot be read. Asked
 * before the repository is opened, so that a person is not asked for a
 * passphrase to be refused; rst_restore asks again. */
int rst_target_check(const char *target, bool force);

/* 0 when the restore ran to its end, whatever it found: damage is counted
 * in `res`, never returned — a file whose chunk is missing from the
 * repository (-ENODATA) or damaged (-EBADMSG) is one of `damaged` (listed on
 * stderr, left out), an item list that cannot be read to its end sets
 * `list_damaged`, a path that matched nothing sets `nothing`; the restore is
 * exact when all three are clear. A negative code when it could not be done
 * (-EEXIST: the archive file is there and no --force; -ELOOP: it is a
 * symbolic link; the target cannot be opened; -ENOMEM). */
int rst_restore(const bkp_repo *r, const bkp_gen *g, const rst_opts *o, rst_result *res)
    __attribute__((warn_unused_result));

typedef struct rst_compared {
    uint64_t files;   /* regular files read back */
    uint64_t differ;  /* present, but not what the generation holds (named by a warning) */
    uint64_t missing; /* absent: the ones a restore left out as damaged, or lost since */
} rst_compared;

/* Read the restored regular files of `g` under `target` back (those under
 * `path`, with `strip` as in rst_opts), re-chunk and hash them as at
 * capture, and compare them with their recorded content, size and holes.
 * 0, or a negative code when the generation's tree cannot be read (then
 * the counts cover only what was compared before). */
int rst_compare(const bkp_repo *repo, const bkp_gen *g, const char *target, const char *path,
                const char *strip, rst_compared *out) __attribute__((warn_unused_result));

/* What a restore with --force left in its target that the generation does
 * not hold: files or folders that were there before (after an attack, maybe
 * the attacker's), never removed by bkp. */
#define RST_EXTRA_NAMED 20 /* as many as a person reads in one warning */
typedef struct rst_extra {
    uint64_t n;                          /* names in the target not in the generation */
    char named[RST_EXTRA_NAMED][256];    /* the first of them, relative to the target; bytes
                                          * of the target's, for the caller to make safe */
} rst_extra;

/* Walk `target` (not following links) for what a restore of the whole of
 * `g` (or of `strip`'s contents, as in rst_opts) did not put there, inside
 * the folders the generation holds (not beside the folders a restore only
 * makes as parents): a folder not in the generation counts once; a name
 * kept is its path's end when the path is long. 0, or a negative code when
 * the generation's tree or the target cannot be read. */
int rst_extra_find(const bkp_repo *repo, const bkp_gen *g, const char *target, const char *strip,
                   rst_extra *out) __attribute__((warn_unused_result));

/* Does stored path `p` fall under the --path filter `filter`? */
bool rst_path_selected(const char *p, const char *filter);

#endif
