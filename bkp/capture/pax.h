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
 * order after the one before (no name twice), a hard link must name an
 * earlier file of several links, and its type must be one a file system
 * has. The archive's own framing (sizes, checksums, truncation) is
 * libarchive's tar reader's to check.
 */
#ifndef BKP_PAX_H
#define BKP_PAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive_entry;

/* The mark the agent puts on the first name of a file of several links, as
 * an xattr of this name (pax carries no link count): no file system has
 * an xattr without a namespace ("user.", "trusted.", ...), so no real one
 * is taken for it. The backup server takes it off before it stores the
 * entry, and takes a hard link only to a name so marked. */
#define BKP_PAX_LINKS "bkp.links"
typedef struct bkp_strmap bkp_strmap;

/* Where the archive's bytes go: 0, or a negative errno that ends the walk
 * (the backup server went away). */
typedef int (*bkp_pax_put)(void *ctx, const void *buf, size_t len);

typedef struct bkp_pax_send_opts {
    char *const *roots; /* absolute, sorted as a walk reaches them (wire.h) */
    size_t nroots;
    bool one_fs;
    char *const *exclude; /* shell patterns, as walk.h takes them */
    size_t nexclude;
} bkp_pax_send_opts;

/* Walk the roots and write every entry to `put` as one pax archive. A
 * path that cannot be read is said on standard error (for people: the
 * backup server quotes the last lines), counted in `*unreadable` and left
 * out; the walk goes on. 0 when the archive was written to its end. */
int bkp_pax_send(const bkp_pax_send_opts *o, bkp_pax_put put, void *ctx, uint64_t *unreadable);

/* What the backup server knows while it receives: the paths it asked for
 * (as the request sent them), the entry before, the files of several
 * links seen. */
typedef struct bkp_pax_check {
    char *const *roots;
    size_t nroots;
    size_t root; /* the root the last entry was below */
    char *prev;  /* the last entry's path, with its '/' (owned) */
    bkp_strmap *linked;
} bkp_pax_check;

int bkp_pax_check_init(bkp_pax_check *k, char *const *roots, size_t nroots);
/* Entry `e` as the agent sent it: 0, and `*path` its absolute path
 * (borrowed from `k`, until the next call), or -EBADMSG and `*why` (a
 * static English clause, N_) says what broke the rule; -ENOMEM. */
int bkp_pax_check_entry(bkp_pax_check *k, struct archive_entry *e, const char **path,
                        const char **why);
void bkp_pax_check_clear(bkp_pax_check *k);

#endif
