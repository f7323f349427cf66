/*
 * archive.h — a generation as one self-contained tar (pax) stream, for
 * archive media: tape, optical, write-once folders.
 *
 * The stream may begin with a recovery kit (kit.h) under BKP_KIT_DIR/, the
 * program and what it needs to read the rest on a clean machine; a reader
 * checks its names, types and sizes and skips it (nothing from a medium is
 * ever run). It then holds, under the folder DATASET@SEQ/, a repository (FORMAT §1)
 * with exactly one generation:
 *   BKP-LABEL                 the label of the medium it was written for
 *   config, keys/key          the repository's, byte for byte
 *   packs/XX/ID               new packs holding exactly the blobs it needs
 *   index/ID                  an index segment for them
 *   generations/DS/N.pruned   tombstones standing for the records before it
 *   generations/DS/SEQ.gen    the record, byte for byte (and SEQ.cleared)
 *   audit/primary.jsonl       the primary's audit log as it was then
 * `tar -tvf` lists it; extracted, it opens with the passphrase alone.
 * An archive is written once and never rewritten.
 */
#ifndef BKP_ARCHIVE_H
#define BKP_ARCHIVE_H

#include <stdint.h>

#include "bkp/media/kit.h"
#include "bkp/media/label.h"
#include "bkp/store/generation.h"
#include "bkp/store/repo.h"

struct archive;
struct bkp_stream;

/* Open the libarchive writer `a` into `out`: its blocks go through the
 * stream (a durable file's bytes never go round bkp_dfile_write). What
 * archive_write_open returns. */
int bkp_archive_open_stream(struct archive *a, struct bkp_stream *out);

/* "emr-db@0000000042.tar" (malloc'd). */
char *bkp_archive_name(const bkp_gen *g);

/* The recovery kit an archive carries: its documents, and what was put in. */
typedef struct bkp_archive_kit {
    const bkp_kit_doc *docs;
    size_t ndocs;
    bkp_kit_result res; /* out */
} bkp_archive_kit;

/* Write generation `g` of `r` as a tar stream into `out` (stream.h: a
 * durable file through bkp_dfile_stream, or a tape's descriptor), the
 * recovery kit first when `kit` is not NULL. New packs are built in a
 * temporary folder under `tmpdir`. `*bytes` receives the stream's size. */
int bkp_archive_write(bkp_repo *r, const bkp_gen *g, const bkp_label *label, bkp_archive_kit *kit,
                      struct bkp_stream *out, const char *tmpdir, uint64_t *bytes)
    __attribute__((warn_unused_result));

/* Open the device `path` to write archives to it, into `*fd` (NULL: only
 * check, the device closed again): a tape drive — a character device that
 * answers the tape's status request (MTIOCGET) — or a block device no one
 * uses, opened exclusively (a mounted disk is busy). 0; -ENOTTY for a
 * character device that is no tape (/dev/null, a terminal: what is written
 * there is not kept); -EBUSY for a block device in use; -ENODEV for what is
 * neither; or the open's errno. Says nothing. */
int bkp_archive_device_open(const char *path, int *fd) __attribute__((warn_unused_result));

/* Extract the first archive of the file or device `path` into `dir` (absent
 * or empty), refusing any member that is not part of the layout above; the
 * kit's members are checked and skipped, never written.
 * `*top` (may be NULL) receives the folder name, e.g. "emr-db@0000000042". */
int bkp_archive_extract(const char *path, const char *dir, char **top)
    __attribute__((warn_unused_result));

/* The same from the stream `in` (borrowed, read from its position; see
 * stream.h), which `path` names in messages: an archive in memory, or one
 * opened by the caller. */
struct bkp_stream;
int bkp_archive_extract_stream(struct bkp_stream *in, const char *path, const char *dir, char **top)
    __attribute__((warn_unused_result));

/* The same as bkp_archive_extract, with the folders a repository has that an archive leaves out
 * (empty ones), so that `dir` opens as a repository. */
int bkp_archive_extract_repo(const char *path, const char *dir) __attribute__((warn_unused_result));

#endif
