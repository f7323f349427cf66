/*
 * archive_why.h — why a libarchive call failed, for a message a person reads.
 *
 * libarchive's own text (archive_error_string) is English and not ours to
 * translate, and it is often no more than "Write error": the reason is the
 * errno it kept. A message says what failed, on which file and what to do
 * next in the reader's language, and ends its first part with what
 * bkp_archive_why() writes: the system's reason in the reader's language
 * when libarchive kept one (a full disk, a tape's I/O error, a permission),
 * then libarchive's words in parentheses as a detail —
 *   ": No space left on device (libarchive: Write error)"
 *   ": デバイスに空き領域がありません（libarchive: Write error）"
 *   " (libarchive: Truncated tar archive)"
 * — so a format is written "cannot write %s into the archive%s — check ...".
 */
#ifndef BKP_ARCHIVE_WHY_H
#define BKP_ARCHIVE_WHY_H

#include <stddef.h>

struct archive;

/* The text above for the last failure of `a` (NULL: it could not be made,
 * memory ran out), into `buf` of `n` bytes; returns buf. */
const char *bkp_archive_why(struct archive *a, char *buf, size_t n);

/* The system's reason libarchive kept for the last failure of `a`, as a
 * negative errno, or 0 when it kept none (a format error, its own). */
int bkp_archive_errno(struct archive *a);

#endif
