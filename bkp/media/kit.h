/*
 * kit.h — the recovery kit: what a clean machine needs to read a medium.
 *
 * On the day of an attack or a fire the server is gone, and with it the
 * program and the twenty-odd shared libraries it needs. Each rotation to a
 * disk puts beside the repository copy a folder BKP_KIT_DIR (and each
 * archive begins with the same files under BKP_KIT_DIR/, bkp_kit_emit) with:
 *
 *   bkp             a launcher (/bin/sh): checks every file of the folder
 *                   against SHA256SUMS (the host's sha256sum) and refuses to
 *                   start when one differs or one is not listed, then runs
 *                   lib/bkp with the kit's own loader, libraries and C
 *                   library only, in a cleared environment
 *   lib/bkp         the running program, byte for byte
 *   lib/LIB.so.N    the shared libraries it loaded at start, its C library
 *                   and loader among them (any x86_64 Linux runs it)
 *   README.txt      how to use it, in Japanese and English
 *   (docs)          what the caller adds: FORMAT.md, and on a tape the printed
 *                   procedures (a disk has them beside the kit, current with
 *                   each rotation: bkp_kit_procedures_write)
 *   SHA256SUMS      the SHA-256 of every file above, in `sha256sum -c` form
 *
 * bkp never runs anything from a kit: it is for a person on another machine.
 * A kit is as trustworthy as the medium that carries it: root on the server
 * can rewrite it while the disk is plugged in, like anything else there.
 * SHA256SUMS lets a person check it; the SHA-256 of SHA256SUMS itself goes
 * into the signed audit log with each rotation that wrote it, to compare
 * against from a trusted copy of the log or a printed procedure.
 *
 * The kit is replaced whole: built in a hidden folder beside it, every file
 * durable, then swapped in with one rename (RENAME_EXCHANGE) and the old
 * one removed. A crash leaves the old kit or the new one, and a hidden
 * folder the next write removes. Nothing is written when SHA256SUMS would
 * not change.
 */
#ifndef BKP_KIT_H
#define BKP_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BKP_KIT_DIR "bkp-recovery"
#define BKP_KIT_FILE_MAX (256U << 20) /* one library or document */

/* A document the caller adds to the kit: `name` a plain file name
 * (letters, digits, '-', '_', '.'; no leading '.'), `text` its content. */
typedef struct bkp_kit_doc {
    const char *name;
    const char *text;
} bkp_kit_doc;

/* What a write did. */
typedef struct bkp_kit_result {
    bool written; /* false: the kit there already had these bytes */
    size_t files; /* in the kit */
    unsigned long long bytes;
    char sums[65];  /* SHA-256 of SHA256SUMS, hex */
    char glibc[32]; /* the glibc version the program runs with */
} bkp_kit_result;

/* Make `dir`/BKP_KIT_DIR the kit of the running program with `docs`. */
int bkp_kit_write(const char *dir, const bkp_kit_doc *docs, size_t ndocs, bkp_kit_result *res)
    __attribute__((warn_unused_result));

/* One file of a kit for `put`: `name` within the kit ("bkp", "lib/NAME",
 * "SHA256SUMS"), its bytes, and whether it is a program (mode 0555). */
typedef int (*bkp_kit_put_fn)(const char *name, const void *data, size_t len, bool exec, void *ctx);

/* The same kit as bkp_kit_write, handed file by file to `put` (SHA256SUMS
 * last), for a stream that carries it: an archive (archive.h). Stops at
 * `put`'s first error and returns it. `res->written` is true when all went. */
int bkp_kit_emit(const bkp_kit_doc *docs, size_t ndocs, bkp_kit_put_fn put, void *ctx,
                 bkp_kit_result *res) __attribute__((warn_unused_result));

/* The printed procedures a disk or a folder of archives carries beside its
 * kit, in `dir` (the medium's root): each of `docs` (named
 * procedure-STEM.ja.md or .en.md) written durably, mode 0444 — one that
 * cannot be written is removed rather than left stale — and, with `prune`
 * (every runbook was there to print), every other regular file of that form
 * there removed. Rewritten at each rotation with what the medium holds,
 * they are outside the kit's list so that the kit stays the same. 0 or the
 * first negative errno (-EINVAL: a name not of that form, nothing written). */
int bkp_kit_procedures_write(const char *dir, const bkp_kit_doc *docs, size_t ndocs, bool prune)
    __attribute__((warn_unused_result));

/* Could `rel` be the name of a file within a kit written by bkp (a name
 * checked on reading a medium, whose kit bkp skips, never runs)? */
bool bkp_kit_member_ok(const char *rel);

/* What a check found wrong with one file of a kit, `name` within it (valid
 * during the call only; a planted name's bytes outside printable ASCII are
 * shown as '?'): `why` -ENOENT it is missing (or not a regular file),
 * -EBADMSG its bytes are not those SHA256SUMS lists or cannot be read (for
 * "SHA256SUMS": the list is missing its form, too large, or no kit's),
 * -EEXIST it is in the kit but not in the list (planted, a link, or a
 * folder that cannot be read). */
typedef void (*bkp_kit_found_fn)(const char *name, int why, void *ctx);

/* One line of a kit's SHA256SUMS: a file and the SHA-256 it must have. */
typedef struct bkp_kit_sum {
    char *name; /* within the kit, bkp_kit_member_ok, never "SHA256SUMS" */
    uint8_t sha256[32];
} bkp_kit_sum;

/* Parse the `len` bytes of a SHA256SUMS read from a medium: lines
 * "HEX  NAME\n" (64 hex digits, two spaces, a kit member's name; the last
 * newline may be missing), each name once, at most BKP_KIT_FILES_MAX. On
 * success `*out` holds `*n` entries in the list's order (free with
 * bkp_kit_sums_free); anything else is -EBADMSG (or -ENOMEM) and nothing
 * is returned: a list that is not wholly a kit's names no file. */
int bkp_kit_sums_parse(const void *data, size_t len, bkp_kit_sum **out, size_t *n)
    __attribute__((warn_unused_result));
void bkp_kit_sums_free(bkp_kit_sum *s, size_t n);

/* Check the kit `dir`/BKP_KIT_DIR against its SHA256SUMS, as `sha256sum -c`
 * would, and that nothing else is in it; bkp runs nothing of it, and reads
 * only regular files below it, following no link. Each finding goes to
 * `found`. Returns their number (0: the kit checks), -ENOENT when `dir` has
 * no kit, -ENOTDIR when BKP_KIT_DIR is no folder (or `dir` is a device),
 * -E2BIG when it holds more than twice BKP_KIT_FILES_MAX entries, another
 * negative errno when it cannot be read. */
int bkp_kit_check(const char *dir, bkp_kit_found_fn found, void *ctx)
    __attribute__((warn_unused_result));

/* The most files a kit has (a medium claiming more is refused). */
#define BKP_KIT_FILES_MAX 512

/* The shared libraries the running program had loaded when it started
 * (dl_iterate_phdr: the names the loader opened, which the program asks for
 * again), its C library and loader among them; not what it loads later for
 * a moment's need (libcurl): paths, each once (malloc'd, free with
 * bkp_kit_paths_free). */
int bkp_kit_libraries(char ***paths, size_t *n) __attribute__((warn_unused_result));
void bkp_kit_paths_free(char **paths, size_t n);

/* Was this program started by its loader named as a program (`ld-linux...
 * PROGRAM`), as a recovery kit starts it? Then it runs with the kit's
 * libraries only: it writes no kit, and reaches no bucket (s3_lib.c). */
bool bkp_kit_started_by_loader(void);

#endif
