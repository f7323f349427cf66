/*
 * writers.h — regular files restored in parallel, by a pool of writer threads.
 *
 * The restore reads the item list in order on one thread, which makes every
 * directory, hard link, device and FIFO itself (archive_write_disk, with its
 * secure flags) and hands each regular file and symbolic link to this pool. A writer fetches
 * and authenticates the file's chunks itself (bkp_repo_get_sealed), creates the file,
 * writes the data at its offsets, so holes stay holes, and sets its
 * metadata: a plain file (no xattrs, ACLs or late flags, plain.h) by its
 * descriptor, anything else through an archive_write_disk handle of its own. A large file is
 * shared: its writer creates it, and every idle writer claims ranges of its
 * chunks and writes them with pwrite; the metadata (times last) is set once
 * all ranges are written. A damaged file is reported, removed, and counted;
 * the other files carry on.
 *
 * Where the files go: each writer thread has a working directory of its own
 * (unshare(CLONE_FS)) and enters the file's folder by a descriptor resolved
 * beneath the target without following any symbolic link (openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or one O_NOFOLLOW component at a
 * time), so the file is made by its last name only (openat on that
 * descriptor, or archive_write_disk in that working directory): a link
 * planted in the target, or one the restore made itself, is never written
 * through, whatever the order in which the threads run.
 *
 * The reader waits for room only when the queue is full, and is woken once
 * it is half empty: the hand-over costs a wake-up per several files.
 *
 * Memory is bounded: at most RST_WRITERS_QUEUE files per writer wait, and one
 * shared file per writer is open.
 */
#ifndef RST_WRITERS_H
#define RST_WRITERS_H

#include <stdint.h>

#include "bkp/store/repo.h"
#include "bkp/store/tree.h"

#define RST_WRITERS_MAX 64
#define RST_WRITERS_QUEUE 8 /* files waiting, per writer */
/* Writers beyond one per processor, by default. A writer of a large file
 * waits for the disk in every O_DIRECT write, and writers sharing one file
 * wait for each other (ext4 holds the file's lock for the whole of a write
 * that fills a hole): with one writer per processor, every processor sat
 * idle while they waited. Two more keep the processors decoding and making
 * small files meanwhile (hospital set, 2 processors, one interleaved series
 * of four: 1.47-1.80 s against 1.83-3.39 s with 2 writers; 6 writers gained
 * little more and cost 14 MiB of buffers each; bench/README.md). */
#define RST_WRITERS_WAITING 2

/* Write piece [pos, pos + len) of a file's concatenated data where its
 * regions put it (the holes between them are never written): `put` gets
 * each part with its file offset. -EBADMSG when the data runs past the
 * regions; else 0 or the first error `put` returns. */
typedef int (*rst_put_fn)(void *ctx, const uint8_t *p, size_t n, uint64_t off);
int rst_place(const bkp_item *it, uint64_t pos, const uint8_t *p, size_t len, rst_put_fn put,
              void *ctx);

typedef struct rst_writers rst_writers;

/* Start `n` writers (0: one per online CPU, and RST_WRITERS_WAITING more)
 * restoring beneath the directory `target_fd` (borrowed; open until
 * rst_writers_free) with the archive_write_disk `flags`. `repo` is borrowed. 0, -ENOMEM, -EAGAIN. */
int rst_writers_new(const bkp_repo *repo, int target_fd, int flags, int n, rst_writers **out)
    __attribute__((warn_unused_result));

/* Queue the regular file or symbolic link `it` (its path relative to the
 * target, no "." or ".." component); the pool takes its contents and leaves
 * `it` empty. Waits while the queue is full. 0 or -ENOMEM. */
int rst_writers_put(rst_writers *w, bkp_item *it) __attribute__((warn_unused_result));

/* Wait until no file named `path` is queued or being written: a hard link
 * to it is then made to the complete file (or fails, as it should, when the
 * file was damaged and removed). */
void rst_writers_wait_for(rst_writers *w, const char *path);

/* Wait for every queued file and stop the writers. `*bytes` and `*damaged`
 * are increased by the bytes written and the files not restored exactly. */
void rst_writers_finish(rst_writers *w, uint64_t *bytes, uint64_t *damaged);

/* Bytes written so far (for progress). */
uint64_t rst_writers_bytes(rst_writers *w);

/* Stops the writers if still running; NULL is a no-op. */
void rst_writers_free(rst_writers *w);

#endif
