/* Fuzz target: the archive a source server's agent sends (pax.h), read as
 * the backup server reads it: every entry held to bkp_pax_check against
 * the paths asked for, the data of each read to its end. An entry taken is
 * below a path asked for, named without "." or "..", after the one before
 * in walk order; a hard link names a path taken before it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "bkp/capture/pax.h"
#include "bkp/capture/walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char r1[] = "/srv/emr", r2[] = "/srv/scans";
    char *roots[] = {r1, r2};
    struct archive *a = archive_read_new();
    bkp_pax_check k;
    if (!a || bkp_pax_check_init(&k, roots, 2)) {
        if (a)
            archive_read_free(a);
        return 0;
    }
    archive_read_support_format_tar(a);
    char *prev = NULL, *seen = NULL; /* the paths taken, one a line */
    if (archive_read_open_memory(a, data, size) == ARCHIVE_OK) {
        struct archive_entry *e;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            const char *path, *why;
            if (bkp_pax_check_entry(&k, e, &path, &why))
                break;
            if (!bkp_walk_below(r1, path) && !bkp_walk_below(r2, path))
                abort(); /* outside the paths asked for */
            if (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//"))
                abort(); /* a name no walk gives */
            if (prev && bkp_walk_cmp(prev, path) >= 0)
                abort(); /* out of order, or twice */
            const char *hl = archive_entry_hardlink(e);
            if (hl) {
                char target[4200];
                snprintf(target, sizeof(target), "\n/%s\n", hl);
                if (!seen || !strstr(seen, target))
                    abort(); /* a hard link to a name not taken before */
            }
            size_t used = seen ? strlen(seen) : 1, add = strlen(path);
            char *grown = realloc(seen, used + add + 2);
            if (grown) {
                if (!seen)
                    grown[0] = '\n';
                seen = grown;
                memcpy(seen + used, path, add);
                seen[used + add] = '\n';
                seen[used + add + 1] = '\0';
            }
            free(prev);
            prev = strdup(path);
            const void *buf;
            size_t n;
            la_int64_t off;
            while (archive_read_data_block(a, &buf, &n, &off) == ARCHIVE_OK)
                ;
        }
    }
    free(prev);
    free(seen);
    bkp_pax_check_clear(&k);
    archive_read_free(a);
    return 0;
}
