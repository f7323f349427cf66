/*
 * capture_internal.h — what capture.c (the walk, the files cache, the tree)
 * and capture_read.c (a file's bytes into chunks, and the workers that
 * store them) share. Not for other modules.
 */
#ifndef BKP_CAPTURE_INTERNAL_H
#define BKP_CAPTURE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <archive.h>

#include "bkp/capture/capture.h"
#include "bkp/store/chunker.h"
#include "bkp/capture/filescache.h"
#include "bkp/capture/walk.h"
#include "bkp/io/slab.h"
#include "bkp/io/strmap.h"

#define QUEUE_LEN 32 /* chunks waiting for a worker: views, their bytes are in the slabs */
/* A sleeping worker is woken for a batch, not for each chunk: when this many
 * chunks or bytes wait, when this many items wait to be written, and whenever
 * the reading thread is about to wait for the workers (capture_kick). A
 * wake per chunk of a small file cost more than storing it (a third of a
 * first backup's CPU went to waking threads). */
#define WAKE_JOBS 8
#define WAKE_BYTES (2U << 20)
#define WAKE_ITEMS 64
/* The chunks in flight are views into a few slabs (slab.h) instead of copies
 * of their bytes: SLABS slabs of the larger of SLAB_MIN and two maximal
 * chunks, 24 MiB with the default sizes, is all the file bytes a capture
 * holds however large its files (the workers' sealed copies aside). */
#define SLABS 3
#define SLAB_MIN (8U << 20)
#define MAX_WORKERS 16

/* An item whose chunks are still with the workers. Items leave in walk order. */
typedef struct pending {
    bkp_item item;
    uint32_t chunks_cap;
    uint32_t outstanding;
    int err;
    bool cacheable;
    bool hit;        /* unchanged, and every chunk still in the repository */
    bool lean;       /* walked with its stat only: its flags come from the cache */
    bool zero_holes; /* a device read as a file: its zero blocks stored as holes */
    bkp_fextra extra;
    int8_t was; /* -1 new path, 0 cached with other timestamps, 1 unchanged */
    uint8_t old_content[BKP_ID_LEN];
    bkp_fstat st;
    char *path; /* the path as walked, the files cache key */
    struct pending *next;
} pending;

typedef struct job {
    pending *p;
    uint32_t idx;
    bkp_slab *slab; /* holds one reference for this chunk */
    const uint8_t *data;
    uint32_t len;
} job;

typedef struct capture_ctx {
    bkp_repo *repo;
    const bkp_capture_opts *o;
    bkp_capture *out;
    bkp_fcache *old_cache;
    bkp_fcache_writer *new_cache;
    bkp_tree_writer *tw;
    struct archive *disk; /* libarchive's metadata reader: xattrs, ACLs, flags, holes */

    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full, done;
    job queue[QUEUE_LEN];
    unsigned qhead, qlen;
    size_t qbytes; /* of the queued chunks */
    size_t nitems; /* in the list from head */
    bool stop;
    int err; /* a repository write failed: the capture cannot be sealed */
    pending *head, *tail;

    pthread_t threads[MAX_WORKERS];
    int nthreads;

    bkp_strmap *links;     /* "dev:ino" -> link_seen, for files with names still to come */
    char *link_name;       /* the first name of the last link found */
    int64_t started_ns;    /* files changed since (or just before) are not cached */
    bool have_history;     /* a files cache of an earlier capture exists */
    size_t roots_read;     /* paths that could be opened at all */
    bool proc_fd;          /* /proc/self/fd names an open folder's entries */
    bkp_acl_memo acl_memo; /* whether the file system lists ACLs (walk.h) */

    bkp_comp_learn learn;  /* auto's, for this data set's large chunks (blob.h) */
    bkp_slab_pool *slabs;
    bkp_slab *cur; /* the slab being filled; its bytes from cpos are not cut yet */
    size_t cpos;
    bkp_cut_state cut;  /* how far the chunk at cpos has been looked at */
    struct timespec t0; /* for the progress meter */
} capture_ctx;

#define READ_BLOCK (1U << 20) /* one pread */

/* capture.c: the item stream every input feeds. */

/* A path left out: `err` (a negative errno) or, when 0, `why` (English,
 * N_) followed by `said` (libarchive's words, or NULL); warned, listed. */
void capture_error(capture_ctx *c, const char *path, int err, const char *why, const char *said);
/* Queue `p` (owned from here) behind the items before it. */
void capture_enqueue(capture_ctx *c, pending *p);
/* The same for a file whose chunks the files cache gave: counted as such. */
void capture_enqueue_held(capture_ctx *c, pending *p);
/* Write finished items, in order, to the tree; with `all`, wait for each. */
int capture_drain(capture_ctx *c, bool all);
void capture_pending_free(pending *p);
void capture_drop_content(pending *p);
/* What the files cache knew of `p->path` with stat `st` (capture.c). */
int capture_lookup_cache(capture_ctx *c, pending *p, const struct stat *st);
/* A regular file's bytes all given: its last chunks cut, its map of
 * regions made (none when dense), its size the bytes' end if it grew. */
int capture_regions_done(capture_ctx *c, pending *p, const char *path);

/* capture_pax.c: the trees a source server's agent sends (pax.h). */
int capture_remote(capture_ctx *c);

/* Wake the workers for what is queued (with `c->lock` held: _locked). */
void capture_kick(capture_ctx *c);
void capture_kick_locked(capture_ctx *c);
/* A worker thread: stores queued chunks until told to stop. */
void *capture_worker(void *arg);
/* Read [off, off + len) of the file, or to its end, cutting chunks as the
 * bytes come and queueing them for the workers. */
int capture_read_range(capture_ctx *c, pending *p, int fd, uint64_t off, uint64_t len);
/* `len` bytes of the file at `off`, given (not read): copied into the
 * slabs, chunked as they come. */
int capture_take(capture_ctx *c, pending *p, const void *buf, size_t len, uint64_t off);
/* Read a stream (a pipe) to its end, cutting chunks as the bytes come;
 * -ECANCELED as soon as `cancel` (-1: none) is readable. */
int capture_read_stream(capture_ctx *c, pending *p, int fd, int cancel);
/* Queue the chunks the bytes read so far end; with `eof` (the file's end)
 * the rest too. */
int capture_cut(capture_ctx *c, pending *p, bool eof);
/* Append a data region to p's sparse map (merged with the last if adjacent). */
int capture_add_region(pending *p, uint64_t off, uint64_t len);

#endif
