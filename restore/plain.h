/*
 * plain.h — a plain regular file, created and finished by its descriptor.
 *
 * Most files of a restore are regular files with no extended attributes, no
 * ACLs and no flag that must wait for the end (immutable, append-only, data
 * journalling). For them, what archive_write_disk does around each file (a
 * umask round trip, an lstat of the name, an open of the folder, the lookups
 * of a path from the target) is most of the time of a small-file restore. A
 * writer (writers.h) makes such a file itself, by its last name in the folder
 * it has entered: created new and never through a link (O_CREAT|O_EXCL|
 * O_NOFOLLOW), mode 0600 while its data is written, then owner, mode, file
 * flags and times set on the descriptor in archive_write_disk's order and by
 * its rules, so the file is the same as archive_write_disk makes it, to the
 * bit. Everything else still goes through archive_write_disk.
 */
#ifndef RST_PLAIN_H
#define RST_PLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "bkp/store/tree.h"

struct archive;

/* Can the regular file `it` be restored by descriptor under the
 * archive_write_disk options `flags` (those of the restore)? False for
 * xattrs, ACLs, the flags archive_write_disk sets only at the end, and
 * setuid/setgid bits when not running as root. */
bool rst_plain_fits(const bkp_item *it, int flags);

/* Can the folder `it` be made by descriptor (rst_plain_mkdir) and finished
 * later (rst_plain_apply)? As rst_plain_fits, and only with no file flags
 * but those a folder gets by itself (extents, hashed index): a flag such as
 * no-copy-on-write or compression is inherited by what is made in the
 * folder, so it must be set before, as archive_write_disk does. */
bool rst_plain_dir_fits(const bkp_item *it, int flags);

/* Make the folder `name` (one component) in `dirfd`, mode 0700 until it is
 * finished, and open it. An existing folder is taken as it is; anything
 * else in the way (only with --force, or planted meanwhile) is removed,
 * never followed, as archive_write_disk does. A descriptor, or a negative
 * errno. */
int rst_plain_mkdir(int dirfd, const char *name) __attribute__((warn_unused_result));

/* Create `name` (one component) in the folder `dirfd` for writing, new and
 * without following a link. What is there already — a file, a link, a FIFO,
 * an empty folder — is removed and the file made anew, as archive_write_disk
 * does. A descriptor owned by the caller, or a negative errno (-ENOTEMPTY:
 * a folder with something in it is in the way). */
int rst_plain_create(int dirfd, const char *name) __attribute__((warn_unused_result));

/* Finish the file `fd` whose data reaches offset `end`: its size (a hole at
 * the end), then its owner (only with ARCHIVE_EXTRACT_OWNER in `flags`,
 * names looked up through `a`, the writer's archive_write_disk), its mode
 * (setuid/setgid only where the owner is right), its file flags and its
 * times, last. What archive_write_disk only warns about (an owner, a mode,
 * flags or times that could not be set) is warned here, naming `path`;
 * `fd` stays open. 0, or the negative errno of a size that could not be
 * set (said here): the file is then not what it should be. */
int rst_plain_finish(struct archive *a, int flags, int fd, const bkp_item *it, uint64_t end,
                     const char *path) __attribute__((warn_unused_result));

/* What rst_plain_finish sets, taken from an item to be set later (a
 * folder's, once everything in it is written): owner and group looked up
 * through `a` now, mode, file flags, times. */
typedef struct rst_plain_meta {
    uid_t uid;
    gid_t gid;
    bool set_owner;
    mode_t mode;
    unsigned long fset, fclear;
    bool set_times, atime_now, mtime_now;
    struct timespec times[2];
} rst_plain_meta;

void rst_plain_meta_of(struct archive *a, int flags, const bkp_item *it, rst_plain_meta *m);

/* Set `m` on `fd` in archive_write_disk's order (owner, mode, flags, times
 * last), warning about what cannot be set, naming `path`. */
void rst_plain_apply(int flags, int fd, const rst_plain_meta *m, const char *path);

#endif
