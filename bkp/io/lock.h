/*
 * lock.h — one holder at a time (a run, a prune).
 *
 * A lock is a file in the repository's locks/ directory naming the host, pid,
 * user, command and time of its holder, created O_EXCL and held with flock for
 * as long as the holder lives. A lock whose holder is dead — its pid gone on
 * this host, and its flock free — is stale: it is taken over, with a warning.
 * A lock held by another host is never guessed stale.
 *
 * Every lock of the program is the same mechanism: an exclusive flock(2) on
 * an open descriptor, held until the descriptor is closed, so the kernel
 * drops it when its holder dies and no lock outlives a crash. bkp_lock_fd
 * takes it; the named locks below add a file saying who holds it (for the
 * message and for another host); bkp_lock_file is the same on one file for
 * a short update (the audit log's append, the media registry). The only
 * other flock is durable.c's on its own temporary files, which marks them
 * alive for the clean-up pass and excludes nobody.
 *
 * Kinds: writer locks write-HOST-PID (bkp_lock_writer; many at once) and the
 * prune lock (bkp_lock_prune_after; a writer that prunes its own repository
 * gives its writer lock) each create before they check the other, so they
 * exclude each other. Named locks (bkp_lock_take): `run`, `rotate` on a
 * copy, `keys`. Readers take bkp_lock_reader so that no prune deletes packs
 * under them: the repository folder's flock, shared, which writes nothing
 * and which a prune takes exclusively after its lock file; a reader of the
 * primary also publishes a writer lock when it can, a reader of a copy on a
 * medium never writes there. The program's dispatcher takes the writer lock
 * and the cycle's `run` lock from its table of commands; a handler takes the
 * reader or prune lock itself, because only it knows what it reads, and is
 * refused one its row does not declare. -EBUSY from any of them is exit 3.
 */
#ifndef BKP_LOCK_H
#define BKP_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct bkp_lock bkp_lock;

/* What a lock file says: one line "host=H pid=P user=U time=T command=C\n"
 * of printable ASCII, at most BKP_LOCK_MAX bytes. A lock file that is not
 * a regular file of that form is never trusted for its host or pid: only
 * its flock can show it stale, and its contents are not echoed. */
#define BKP_LOCK_MAX 1024
typedef struct bkp_lock_info {
    char host[256], user[64], time[32], command[256];
    long pid;
} bkp_lock_info;
/* Parse the bytes of a lock file: 0, or -EBADMSG with `out` zeroed. */
int bkp_lock_parse(const char *buf, size_t len, bkp_lock_info *out);
/* Parse a temporary lock file's name ".tmp-lock-HOST-PID-TIME" (HOST
 * empty in the form without it): 0, or -EBADMSG. */
int bkp_lock_tmp_parse(const char *name, char *host, size_t n, long *pid, long long *when);

/* Hold an exclusive flock on `fd` until it is closed. With `wait`, block
 * until it is free; without, -EBUSY when someone holds it. 0 or -errno. */
int bkp_lock_fd(int fd, bool wait) __attribute__((warn_unused_result));
/* Open `path` (created 0600 if missing, no link followed) and hold it with
 * bkp_lock_fd, waiting: the descriptor, to close when done, or -errno. */
int bkp_lock_file(const char *path);

/* Locks name the repository by its path, so a writer can hold one before it
 * opens the repository (whose open may write: clean-up, re-indexing).
 * Take lock `name` (e.g. "run"). -EBUSY when another holder is alive (its
 * description is logged); 0 with `*out` on success. */
int bkp_lock_take(const char *repo, const char *name, const char *command, bkp_lock **out)
    __attribute__((warn_unused_result));
/*
 * Writers (backups) and prune exclude each other without blocking writers
 * from one another: a writer holds its own lock "write-HOST-PID" and then
 * checks that no live prune lock exists; prune takes "prune" and then checks
 * that no live writer lock exists. Each creates before it checks, so the two
 * can never both go ahead. -EBUSY (logged, naming the holder) otherwise.
 */
int bkp_lock_writer(const char *repo, const char *command, bkp_lock **out)
    __attribute__((warn_unused_result));
/* A reader's lock: keeps a prune of `repo` from deleting what it reads, and
 * writes nothing there (a flock on the folder, shared; prune takes it
 * exclusively). With `named` (a primary), also a writer's lock file naming
 * `command`, when one can be written: the prune's message names it, and a
 * prune on another host sees it. A copy on a medium is never `named`: a
 * read never writes the copy it reads. -EBUSY (logged) while a prune runs. */
int bkp_lock_reader(const char *repo, const char *command, bool named, bkp_lock **out)
    __attribute__((warn_unused_result));
/* The prune lock; for a writer that prunes after its own writes (bkp run),
 * its own writer lock `self` (may be NULL: none) does not count as a writer. */
int bkp_lock_prune_after(const char *repo, const char *command, const bkp_lock *self,
                         bkp_lock **out) __attribute__((warn_unused_result));

/* How long bkp_lock_take, bkp_lock_writer and bkp_lock_prune_after wait
 * for a lock held by a live process before they give up with -EBUSY (0,
 * the default: not at all). The attempts in between say nothing; the last
 * one names the holder. For the whole process (`--lock-wait`). */
void bkp_lock_wait_set(int64_t seconds);
/* A lock found held by a live process of this host that took it less
 * than `seconds` ago is said at info level, not as an error (0, the
 * default: always an error; another host's, or one dated to come, too): a cycle under cron that
 * finds the one before it still going (a long first backup) is not news every quarter hour; one
 * held longer is, and so is one waited for (bkp_lock_wait_set) in vain. For the whole process. */
void bkp_lock_young_set(int64_t seconds);

/* Is lock `name` held by a live process? (A stale one is removed.) */
bool bkp_lock_is_held(const char *repo, const char *name);
/* The same, asked by a reader: nothing is removed or written. */
bool bkp_lock_alive(const char *repo, const char *name);
/* Is the writer lock of process `pid` on `host` held (bkp_lock_writer)?
 * On this host its flock decides, so a pid reused by another process holds
 * none; another host's counts while its file is there. Nothing is written:
 * a stale lock is left for the next writer to take over. */
bool bkp_lock_writer_alive(const char *repo, const char *host, long pid);

/* The locks of dead holders this process took over or removed ("NAME:
 * holder"), for the audit log. */
size_t bkp_lock_takeovers(const char *const **out);
/* Release and remove; NULL is a no-op. */
void bkp_lock_release(bkp_lock *l);

#endif
