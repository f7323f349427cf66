/*
 * `bkp media label`: what may take a label, its copy, the registry
 * (media_label.h).
 */
#include "bkp/ops/media_label.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/ops/archive_check.h"
#include "policies/policy.h"

int ops_label_may(const char *path, const char *name, const char *type,
                  const bkp_media_entry *entry, bool force, bool *device, bkp_label *old)
{
    struct stat st;
    memset(old, 0, sizeof(*old));
    *device = stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
    pol_medium_type t;
    bool once = !pol_medium_type_named(type, &t) && pol_type_write_once(t);
    if (*device && !once) {
        bkp_error(_("%s is a device: only an archive medium (--type archive) is written to a "
                    "device; mount a disk's file system and label its mount point"),
                  path);
        return -EPERM;
    }
    /* A device takes archives only as a tape or an unused disk device. */
    if (*device && ops_archive_device(path, name, NULL))
        return -EPERM;
    int rc = *device ? -ENOENT : bkp_label_read(path, old);
    if (rc && rc != -ENOENT && !force)
        return rc;
    if (old->version && !force) {
        bkp_error(_("%s is already labelled %s (%s); to label it anew, which forgets what the "
                    "registry knew of that disk, add --force"),
                  path, old->name, old->uuid);
        return -EPERM;
    }
    const char *ruuid = entry ? entry->label.uuid : NULL;
    if (ruuid && !force && !(old->version && !strcmp(ruuid, old->uuid))) {
        bkp_error(_("a medium named %s is registered already (label %s); if that disk is lost or "
                    "replaced, add --force to give its name to this one"),
                  name, ruuid);
        return -EPERM;
    }
    return 0;
}

int ops_label_copy(bkp_repo *r, const char *path)
{
    struct stat st;
    char *repo = bkp_path_join(path, "repo"), *cfg = repo ? bkp_path_join(repo, "config") : NULL;
    bkp_repo *copy = NULL;
    int rc = !cfg                  ? -ENOMEM
             : stat(cfg, &st) == 0 ? bkp_repo_open_copy(repo, r, BKP_REPO_READONLY, &copy)
                                   : bkp_repo_init_copy(r, repo);
    bkp_repo_free(copy);
    free(cfg);
    free(repo);
    return rc;
}

void ops_label_forget_old(bkp_repo *r, const char *name, const char *path, const bkp_label *old)
{
    if (!old->version || !strcmp(old->name, name) || strcmp(old->repository, bkp_repo_uuid(r)))
        return;
    bkp_media_entry *oe = bkp_media_get(r, old->name);
    if (oe && !strcmp(oe->label.uuid, old->uuid) && !bkp_media_forget(r, old->name))
        bkp_warn(_("%s was labelled %s before: that medium is removed from the registry"), path,
                 old->name);
    bkp_media_free(oe);
}

typedef struct label_ctx {
    const bkp_label *label;
    const char *path;
} label_ctx;

static int set_label(bkp_media_entry *e, void *ctx)
{
    label_ctx *l = ctx;
    char *path = strdup(l->path);
    if (!path)
        return -ENOMEM;
    /* A new disk under an old name starts a new history. */
    if (e->label.version && strcmp(e->label.uuid, l->label->uuid))
        bkp_media_entry_clear(e);
    e->label = *l->label;
    free(e->path);
    e->path = path;
    e->labelled = e->last_seen = bkp_now();
    return 0;
}

int ops_label_register(bkp_repo *r, const char *name, const char *path, const bkp_label *lab)
{
    label_ctx lc = {lab, path};
    return bkp_media_update(r, name, set_label, &lc);
}
