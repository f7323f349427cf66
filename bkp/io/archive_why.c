/* archive_why.c — libarchive's failures told in the reader's language, its
 * own English words kept as the detail (archive_why.h). */
#include "bkp/io/archive_why.h"

#include <errno.h>
#include <stdio.h>

#include <archive.h>

#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

int bkp_archive_errno(struct archive *a)
{
    if (!a)
        return -ENOMEM;
    int e = archive_errno(a);
    /* libarchive's own codes (private to it): its "file format" error is
     * EILSEQ on Linux, its "programmer" error EINVAL, its "misc" -1; libc's
     * words for them would mislead ("Invalid or incomplete multibyte
     * character"), and libarchive's text says it better. */
    if (e <= 0 || e == EILSEQ || e == EINVAL)
        return 0;
    return -e;
}

const char *bkp_archive_why(struct archive *a, char *buf, size_t n)
{
    int err = bkp_archive_errno(a);
    const char *said = a ? archive_error_string(a) : NULL;
    if (err && said)
        snprintf(buf, n, _(": %s (libarchive: %s)"), bkp_strerror(err), said);
    else if (err)
        snprintf(buf, n, ": %s", bkp_strerror(err));
    else if (said)
        snprintf(buf, n, _(" (libarchive: %s)"), said);
    else
        snprintf(buf, n, "%s", "");
    return buf;
}
