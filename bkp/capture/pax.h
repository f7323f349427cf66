/*
 * pax.h — a data set's trees on another server, carried as a pax archive:
 * what `bkp agent` writes of the paths it was asked for (bkp_pax_send), and
 * the rule the backup server holds every entry it receives to
 * (bkp_pax_check) before a byte of it is stored.
 *
 * pax (POSIX.1-2001, libarchive's pax writer) carries what a local
 * capture keeps of a file: owners by number and name, mode, times to the
 * nanosecond, xattrs, ACLs, file flags, symbolic links, hard links (a later
 * name as a link to the first, no content twice) and devices. The agent
 * walks as a local capture does (walk.h: no link followed, names sorted,
 * the same order), so that the backup server stores the entries as they
 * come. The archive is never written to a disk; it is the content of the
 * agent's data frames (wire.h).
 *
 * The agent is the source server's: it may be the attacker's. So the
 * backup server trusts an entry only as "a file of these bytes and this
 * metadata under one of the paths asked for": its name must be one a walk
 * of those paths gives (relative, no "." or ".." or empty part), in walk
 * order after the one before (no name twice), in the folder sent last on
 * its way down (never below a file or a link, never without its folder),
 * a hard link must name an earlier file marked as one of several names
 * (and no more names than it said), and its type must be one a file
 * system has. The archive's own framing (sizes, checksums, truncation) is
 * libarchive's tar reader's to check.
 */
#ifndef BKP_PAX_H
#define BKP_PAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive_entry;

/* The mark the agent puts on the first name of a file of several names
 * (any but a folder), as an xattr of this name whose value is its link
 * count in decimal (pax carries none): no file system has an xattr without
 * a namespace ("user.", "trusted.", ...), so no real one is taken for it.
 * The backup server takes it off before it stores the entry, and takes a
 * hard link only to a name so marked, as many times as it said. */
#define BKP_PAX_LINKS "bkp.links"
/* The mark of a regular file the agent found as the backup server holds it
 * (wire.h, bkp_wire_stamp): its size in decimal, the entry's own size 0 and
 * no bytes. The backup server takes the content from its files cache, and
 * refuses the entry when that does not hold it with this stat. */
#define BKP_PAX_UNCHANGED "bkp.unchanged"
/* The mark of a regular file whose mtime or ctime lies within 2 s of the
 * walk, by the source's own clock (the backup server's may differ): it
 * may change again within the same tick and look the same, so the backup
 * server remembers it as racily clean (filescache.h) and asks for it whole
 * next time. Value "1". */
#define BKP_PAX_RACY "bkp.racy"

typedef struct bkp_strmap bkp_strmap;

/* Where the archive's bytes go: 0, or a negative errno that ends the walk
 * (the backup server went away). */
typedef int (*bkp_pax_put)(void *ctx, const void *buf, size_t len);

typedef struct bkp_pax_send_opts {
    char *const *roots; /* absolute, sorted as a walk reaches them (wire.h) */
    size_t nroots;
    /* Or each root opened as names[i] in the folder open as dirfds[i]
     * (walk.h: bkp_walk_open_at), when `dirfds` is not NULL. */
    const int *dirfds;
    char *const *names;
    bool one_fs;
    char *const *exclude; /* shell patterns, as walk.h takes them */
    size_t nexclude;
    int stamps; /* what the backup server holds (wire.h, bkp_wire_stamp), or -1 */
    /* Told each path left out or not read whole (counted in `unreadable`)
     * with why, in English, as it is said on standard error; may be NULL.
     * A negative return ends the walk with it. */
    int (*left)(void *ctx, const char *path, const char *why);
    void *left_ctx;
} bkp_pax_send_opts;

/* What a walk sent. */
typedef struct bkp_pax_sent {
    uint64_t unreadable; /* paths it could not read, left out */
    uint64_t unchanged;  /* files sent without their bytes */
} bkp_pax_sent;

/* Walk the roots and write every entry to `put` as one pax archive. A
 * path that cannot be read is said on standard error (for people: the
 * backup server quotes the last lines), counted and left out; the walk
 * goes on. A regular file whose stat `o->stamps` gives is sent marked
 * unchanged, without its bytes (and is not opened). Stamps out of shape or
 * order are given up (said), the walk goes on without them. 0 when the
 * archive was written to its end. */
int bkp_pax_send(const bkp_pax_send_opts *o, bkp_pax_put put, void *ctx, bkp_pax_sent *sent);

/* Files of several names whose other names are still to come, at most: a
 * walk holds them in memory as a local capture does (capture.c). */
#define BKP_PAX_LINKED_MAX 1000000

/* What the backup server knows while it receives: the paths it asked for
 * (as the request sent them), the entry before, the files of several
 * links seen. */
typedef struct bkp_pax_check {
    char *const *roots;
    size_t nroots;
    size_t root;        /* the root the last entry was below */
    char *prev;         /* the last entry's path, with its '/' (owned) */
    bkp_strmap *linked; /* files of several names: how many names are still to come */
    char **dirs;        /* the folders from the root down to the entry before */
    size_t ndirs;
    /* The last entry taken was marked unchanged (BKP_PAX_UNCHANGED), a
     * regular file of `size` bytes: its content is the files cache's. */
    bool unchanged;
    uint64_t size;
    bool racy; /* the last entry was marked BKP_PAX_RACY */
} bkp_pax_check;

int bkp_pax_check_init(bkp_pax_check *k, char *const *roots, size_t nroots);
/* Entry `e` as the agent sent it: 0, and `*path` its absolute path
 * (borrowed from `k`, until the next call), or -EBADMSG and `*why` (a
 * static English clause, N_) says what broke the rule; -ENOMEM. */
int bkp_pax_check_entry(bkp_pax_check *k, struct archive_entry *e, const char **path,
                        const char **why);
void bkp_pax_check_clear(bkp_pax_check *k);

#endif
