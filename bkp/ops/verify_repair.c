/*
 * `bkp verify --repair-from`: bad packs put back from another copy
 * (verify_repair.h).
 */
#include "bkp/ops/verify_repair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkp/io/bytes.h"
#include "bkp/media/copy.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/pack.h"

int ops_repair_source_path(const char *from, char **out)
{
    struct stat st;
    *out = NULL;
    if (!strchr(from, '/') && stat(from, &st) < 0)
        return 0; /* a medium's name */
    char *cfg = bkp_path_join(from, "config");
    *out = cfg && access(cfg, F_OK) == 0 ? strdup(from) : bkp_path_join(from, "repo");
    free(cfg);
    return *out ? 0 : -ENOMEM;
}

int ops_repair_lock(const bkp_repo *target, const bkp_repo *src, bkp_lock **lock)
{
    if (lock)
        *lock = NULL;
    if (!strcmp(bkp_repo_path(src), bkp_repo_path(target)))
        return -EINVAL;
    return !lock ? 0 : bkp_lock_writer(bkp_repo_path(target), "bkp verify --repair-from", lock);
}

/* Pack `id` of `src` into `dst` in place of the bad one: 0 done (its ID
 * appended to `fixed`), else logged and the damaged pack left where it was. */
static int repair_pack(bkp_repo *dst, bkp_repo *src, const char *pdir, const char *spdir,
                       const uint8_t *id, bool sealed, bkp_strlist *fixed)
{
    char hex[2 * BKP_ID_LEN + 1];
    char *sfile = bkp_pack_path(spdir, id);
    int rc = -ENOENT;
    bkp_hex(hex, id, BKP_ID_LEN);
    if (!sfile || access(sfile, F_OK) < 0)
        bkp_error(_("pack %s: %s does not have it; repair from another copy, or restore the "
                    "affected files from it with `bkp restore --from`"),
                  hex, bkp_repo_path(src));
    else if (!(rc = bkp_copy_pack(src, dst, id, true, NULL))) {
        char *path = bkp_pack_path(pdir, id);
        if (sealed && path)
            (void)bkp_immutable(path, true); /* as the rest of the medium */
        free(path);
        /* Replaced all the same: only its name is missing from the record. */
        if (bkp_strlist_add(fixed, hex))
            bkp_warn(_("pack %s was replaced, but is left out of the record of the repair "
                       "(out of memory)"),
                     hex);
    }
    free(sfile);
    return rc;
}

int ops_verify_repair(bkp_repo *target, bkp_repo *src, bool sealed, int workers,
                      bkp_verify_result *res, ops_repair_out *out)
{
    char *pdir = bkp_repo_subpath(target, "packs"), *spdir = bkp_repo_subpath(src, "packs");
    out->fixed = (bkp_strlist){0};
    out->left = 0;
    for (size_t i = 0; pdir && spdir && i < res->nbad_packs; i++)
        if (repair_pack(target, src, pdir, spdir, res->bad_packs[i], sealed, &out->fixed))
            out->left++;
    free(pdir);
    free(spdir);
    bkp_verify_result_clear(res);
    return bkp_verify(target, true, workers, res);
}

void ops_repair_out_clear(ops_repair_out *out)
{
    bkp_strlist_clear(&out->fixed);
}
