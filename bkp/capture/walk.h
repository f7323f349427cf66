/*
 * walk.h — the paths below a root, one at a time, in one fixed order.
 *
 * Depth first, a directory before what it holds, and the names of each
 * directory sorted bytewise. The order is therefore a property of the tree,
 * not of the file system's readdir order: two walks of the same tree visit
 * the same paths in the same sequence, and bkp_walk_cmp says which of two
 * paths a walk reaches first. The files cache is stored in this order and
 * merged with the next walk (filescache.h), so neither needs memory that
 * grows with the number of files.
 *
 * Every entry is stat'ed without following symbolic links (the root too), and
 * every directory is opened O_NOFOLLOW relative to its parent's descriptor, so
 * a path swapped for a symbolic link during the walk is never followed out of
 * the tree. Memory: the sorted names of the directories on the current path;
 * descriptors: at most 64 of its directories (walk.c, OPEN_LEVELS), so a tree
 * of any depth is walked under the usual limit of 1024.
 */
#ifndef BKP_WALK_H
#define BKP_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

typedef struct bkp_walk bkp_walk;

typedef struct bkp_walk_entry {
    const char *path; /* absolute; valid until the next bkp_walk_next */
    const char *name; /* its last component (the root: its path, or its name in
                       * the folder it was opened from: bkp_walk_open_at) */
    int dirfd;        /* the directory holding it (AT_FDCWD for the root) */
    int fd;           /* a directory's own descriptor (owned by the walk), else -1
                       * (also for a directory that cannot be opened) */
    struct stat st;
    int err; /* nonzero: `path` could not be stat'ed or its folder not read
              * (a negative errno); nothing else of the entry is set */
} bkp_walk_entry;

/* `p` made absolute (against the working directory), without trailing
 * slashes, "." and ".." resolved lexically: a root to walk from. NULL
 * without memory. */
char *bkp_walk_root(const char *p);

/* Does `path` match one of the shell patterns (fnmatch)? One without '/'
 * matches the last component, one with '/' the whole absolute path. */
bool bkp_walk_excluded(const char *path, const char *const *patterns, size_t n);

/* Walk from `root` (absolute, normalised: bkp_walk_root). With `one_fs`, directories on
 * another file system than the root are returned but not entered. */
int bkp_walk_open(const char *root, bool one_fs, bkp_walk **out);
/* 1 and the next entry, 0 at the end, negative errno (-ENOMEM). An entry
 * with `err` set reports a path that vanished or could not be read; the
 * walk goes on after it. */
int bkp_walk_next(bkp_walk *w, bkp_walk_entry *e);
/* The same with the root opened as `name` in the folder open as `dirfd`
 * (borrowed until bkp_walk_free; its own path, not `root`, decides where
 * the walk is: no link of the folders above it is followed now). `root` is
 * the path it is named by. */
int bkp_walk_open_at(int dirfd, const char *name, const char *root, bool one_fs, bkp_walk **out);
/* Enter the directory just returned: its contents come next. */
void bkp_walk_descend(bkp_walk *w);
/* Open walked regular file `we` to read it: no link followed, never blocking
 * on a FIFO put in its place (-ESTALE when it is no regular file now). `now`
 * is its stat as opened; `replaced` says whether another file was renamed
 * over the one the walk saw. The descriptor, or a negative errno. */
int bkp_walk_open_file(const bkp_walk_entry *we, struct stat *now, bool *replaced);

/* Whether open file `fd` (on device `dev`) lists no extended attribute,
 * on a file system whose list names a file's ACLs too (system.posix_acl_*:
 * ext2-4, XFS, Btrfs, tmpfs, F2FS, ZFS, overlay): then it has neither, and
 * one call spares libarchive's three that look for both. False wherever an
 * ACL may be read but not listed (CIFS, NFS, FUSE) or the list fails.
 * `memo` keeps the file system's answer for the last device asked about
 * (zeroed at first). */
typedef struct bkp_acl_memo {
    dev_t dev;
    bool known, lists;
} bkp_acl_memo;
bool bkp_walk_bare(int fd, dev_t dev, bkp_acl_memo *memo);
void bkp_walk_free(bkp_walk *w);

/* <0, 0, >0 as a walk reaches `a` before, at or after `b` (paths of one
 * walk, or of walks whose roots are sorted with this order). */
int bkp_walk_cmp(const char *a, const char *b);
/* Is `b` below `a` (absolute, normalised), or `a` itself? What lies
 * between them in a walk's order is below `a` too. */
bool bkp_walk_below(const char *a, const char *b);
/* The same for paths given by length (no NUL inside). */
int bkp_walk_cmpn(const char *a, size_t an, const char *b, size_t bn);

#endif
