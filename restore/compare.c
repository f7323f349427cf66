#include "restore/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive_entry.h>

#include "bkp/blob.h"
#include "bkp/chunker.h"
#include "bkp/durable.h"
#include "bkp/log.h"
#include "bkp/tree.h"

/* Read the restored regular files of `g` back and compare them with their
 * recorded content (re-chunked and hashed as at capture). */
uint64_t rst_compare(bkp_repo *repo, const bkp_gen *g, const char *target, const char *path,
                     const char *strip)
{
    const bkp_keys *k = bkp_repo_keys(repo);
    const bkp_chunker *ch = bkp_repo_chunker(repo);
    size_t max = bkp_chunker_max(ch), cap = 2 * max;
    uint8_t *buf = malloc(cap);
    bkp_tree_reader *tr = NULL;
    bkp_item it;
    uint64_t differ = 0;
    bkp_item_init(&it);
    int dir = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!buf || dir < 0 || bkp_tree_reader_new(repo, g->tree, g->ntree, &tr)) {
        if (dir >= 0)
            close(dir);
        free(buf);
        return 1;
    }
    while (bkp_tree_reader_next(tr, &it) > 0) {
        struct archive_entry *e = it.entry;
        const char *name = archive_entry_pathname(e);
        size_t sl = strip ? strlen(strip) : 0;
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
            !rst_path_selected(name, path) ||
            (strip && (strncmp(name, strip, sl) || name[sl] != '/')))
            continue;
        /* Paths past PATH_MAX are opened a component at a time. */
        const char *rel = name + (sl ? sl + 1 : 0);
        int fd = openat(dir, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENAMETOOLONG)
            fd = bkp_open_deep(dir, rel, O_RDONLY);
        if (fd < 0) {
            differ++; /* missing: restore listed it as damaged */
            continue;
        }
        uint64_t size = (uint64_t)archive_entry_size(e), one[2] = {0, size};
        const uint64_t *reg = it.nsparse ? it.sparse : one;
        uint32_t nreg = it.nsparse ? it.nsparse : 1, ri = 0, n = 0, cn = 0;
        uint64_t roff = reg[0], rleft = reg[1];
        bkp_chunk_ref *refs = NULL;
        size_t have = 0;
        bool eof = false, bad = false;
        while (!bad) {
            while (!eof && have < cap) { /* fill from the data regions in order */
                if (!rleft) {
                    if (++ri >= nreg) {
                        eof = true;
                        break;
                    }
                    roff = reg[2 * ri];
                    rleft = reg[2 * ri + 1];
                    continue;
                }
                size_t want = cap - have < rleft ? cap - have : (size_t)rleft;
                ssize_t got = pread(fd, buf + have, want, (off_t)roff);
                if (got <= 0) {
                    bad = true;
                    break;
                }
                have += (size_t)got;
                roff += (uint64_t)got;
                rleft -= (uint64_t)got;
            }
            if (bad || !have)
                break;
            size_t cut = bkp_chunker_cut(ch, buf, have, eof);
            if (!cut)
                cut = have;
            if (cn == n) {
                bkp_chunk_ref *nr = realloc(refs, (n = n ? 2 * n : 16) * sizeof(*nr));
                if (!nr) {
                    bad = true;
                    break;
                }
                refs = nr;
            }
            bkp_blob_id(k, buf, cut, refs[cn].id);
            refs[cn++].len = (uint32_t)cut;
            memmove(buf, buf + cut, have - cut);
            have -= cut;
        }
        uint8_t h[BKP_ID_LEN];
        if (!bad) {
            bkp_item_content_hash(k, size, refs, cn, h);
            bad = memcmp(h, it.content, BKP_ID_LEN) != 0;
        }
        if (bad)
            bkp_warn("%s/%s differs from the generation after the restore", target,
                     archive_entry_pathname(e));
        differ += bad;
        free(refs);
        close(fd);
    }
    bkp_item_clear(&it);
    bkp_tree_reader_free(tr);
    free(buf);
    close(dir);
    return differ;
}
