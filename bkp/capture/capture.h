/*
 * capture.h — read a data set's paths once and store them in a repository.
 *
 * One pass: libarchive's read_disk walks and reads (metadata, xattrs, ACLs,
 * sparse maps), this thread reads file bytes into a few read slabs and cuts
 * content-defined chunks as they arrive, worker threads hash, compress,
 * encrypt and pack them, each chunk a view into its slab (no copy). Memory
 * is bounded by the slabs (capture_read.c), never by file sizes. Unchanged
 * files (files cache) are not read at all.
 *
 * Unreadable files are reported, listed in `errors`, and left out; the rest
 * is captured. The result names the tree blobs; sealing is the caller's.
 */
#ifndef BKP_CAPTURE_H
#define BKP_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bkp/store/repo.h"

/* A data set that is one command's output (a database dump) instead of
 * paths: the bytes read from `fd` to its end, chunked as they arrive
 * (memory bounded as for a file), stored as one regular file named `name`
 * (a plain name: no '/', not "." or ".."), mode 0600, owned as given, dated
 * `mtime`. Whether the command succeeded is the caller's to judge before it
 * seals: a capture cannot tell a complete dump from a cut one. */
typedef struct bkp_capture_stream {
    int fd;
    int cancel_fd; /* readable: give up (-ECANCELED); -1: none */
    const char *name;
    time_t mtime;
    uint32_t uid, gid; /* its owner (the user that ran the command) */
    const char *uname, *gname;
} bkp_capture_stream;

/* A data set's paths on another server: the pax archive its agent sends of
 * them (pax.h), read from `fd` to its end, each entry held to the rule of
 * bkp_pax_check against the paths asked for (the options' `paths`, as
 * bkp_capture_roots gives them, in that order). An entry that breaks it
 * fails the capture (-EPROTO, said): a source may be the attacker's. An
 * archive that ends with its connection (or never began) is -EPIPE, for
 * the caller to say how the connection ended. Whether the agent's walk
 * ended well is the caller's to judge. */
typedef struct bkp_capture_remote {
    int fd;
    int cancel_fd;    /* readable: give up (-ECANCELED); -1: none */
    const char *host; /* its name, for messages */
    /* The agent's standard input (non-blocking), or -1: what the files
     * cache holds is written there (wire.h, bkp_wire_stamp) while the
     * archive comes, so that unchanged files cross without their bytes;
     * the capture closes it. */
    int stamps_fd;
} bkp_capture_remote;

typedef struct bkp_capture_opts {
    const char *dataset;
    const bkp_capture_stream *stream; /* or NULL: the paths below */
    const bkp_capture_remote *remote; /* or NULL: the paths are this host's */
    const char *const *paths;         /* absolute or relative to the working directory */
    size_t npaths;
    int workers; /* 0: one per online CPU */
    bool one_fs; /* do not cross mount points */
    /* A block device (or a link to one) among the paths is read as a file:
     * its bytes stored as a regular file's content, its zero blocks as
     * holes, restored as an image file. Without it, a device is stored as
     * a device node, as tar does. */
    bool read_special;
    bool no_cache; /* read every file */
    bkp_comp compression; /* of the data and tree blobs (blob.h); BKP_COMP_DEFAULT: auto */
    /* Shell patterns (fnmatch): one without '/' matches any file or directory
     * name; one with '/' matches the whole absolute path. An excluded
     * directory is not entered. */
    const char *const *exclude;
    size_t nexclude;
    /* Files and links the previous generation held: the terminal's progress
     * shows a share of it and the time left (0: not known). */
    uint64_t expect_files;
} bkp_capture_opts;

typedef struct bkp_capture_stats {
    uint64_t files, dirs, links, other;
    uint64_t bytes;        /* logical size of regular files */
    uint64_t bytes_read;   /* read from disk this time */
    uint64_t files_cached; /* not read: unchanged */
    /* Against the files cache of the previous capture (the change-rate guard
     * reads these): new paths, files whose content differs, files re-read
     * with the same content, and paths gone. All zero without a cache. */
    uint64_t files_added, files_changed, files_touched, files_deleted;
    uint64_t chunks, chunks_new;
    uint64_t bytes_new;  /* plaintext bytes of new chunks */
    uint64_t stored_new; /* bytes added to packs */
    uint64_t lookups;    /* index lookups of an unchanged file's chunks */
    /* A host's paths: the archive's bytes the agent sent (metadata, and the
     * bytes of changed files), before the link's compression. */
    uint64_t bytes_from_source;
    /* NULL, or why the files cache could not be used (or not to its end), or
     * the new one not saved: files were read again (a static string). */
    const char *cache_problem;
} bkp_capture_stats;

typedef struct bkp_capture_error {
    char *path;
    char *message;
} bkp_capture_error;

typedef struct bkp_capture {
    bkp_capture_stats stats;
    bkp_buf tree; /* concatenated tree blob IDs */
    uint64_t tree_items;
    uint64_t tree_bytes;
    bkp_capture_error *errors;
    size_t nerrors;
    char **paths; /* the absolute paths captured */
    size_t npaths;
    /* A host's paths: the new files cache, written and not yet published
     * (bkp_capture_publish_cache), or NULL. Published only once the agent
     * said it read every file whole: a file read as zeros past an error
     * must not be remembered as held, or it would never cross again. */
    struct bkp_fcache_writer *cache;
} bkp_capture;

/* `paths` as a capture walks them: absolute (against the working
 * directory), normalised, sorted in walk order, and none below another
 * (it is walked with it). NULL-terminated, `*n` of them; NULL without
 * memory. Free with bkp_capture_roots_free. */
char **bkp_capture_roots(const char *const *paths, size_t npaths, size_t *n);
void bkp_capture_roots_free(char **roots, size_t n);

/* Add to `c` a path left out for `message` (English): what a caller
 * learns after the capture (the agent's count of what it could not read). */
int bkp_capture_add_error(bkp_capture *c, const char *path, const char *message);

/* 0 when everything was captured (possibly with `errors` for single files);
 * a negative code when the capture as a whole failed (nothing to seal):
 * -EDOM when none of the paths could be read at all. */
int bkp_capture_run(bkp_repo *r, const bkp_capture_opts *o, bkp_capture *out)
    __attribute__((warn_unused_result));
/* Publish c->cache (durably; a failure is noted in c->stats.cache_problem
 * and costs the next backup a full read). */
void bkp_capture_publish_cache(bkp_capture *c);
/* Free `c`; a cache not published is dropped, and the previous one stays. */
void bkp_capture_clear(bkp_capture *c);

#endif
