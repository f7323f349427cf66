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
#include "bkp/media/medium.h"
#include "policies/policy.h"

static const char *uuid_of(const json_t *label)
{
    return json_string_value(json_object_get(label, "uuid"));
}

int ops_label_may(const char *path, const char *name, const char *type, const json_t *entry,
                  bool force, bool *device, json_t **old)
{
    struct stat st;
    *old = NULL;
    *device = stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
    pol_medium_type t;
    bool once = !pol_medium_type_named(type, &t) && pol_type_write_once(t);
    if (*device && !once) {
        bkp_error(_("%s is a device: only an archive medium (--type archive) is written to a "
                    "device; mount a disk's file system and label its mount point"),
                  path);
        return -EPERM;
    }
    int rc = *device ? -ENOENT : bkp_label_read(path, old);
    if (rc && rc != -ENOENT && !force)
        return rc;
    if (*old && !force) {
        bkp_error(_("%s is already labelled %s (%s); to label it anew, which forgets what the "
                    "registry knew of that disk, add --force"),
                  path, json_string_value(json_object_get(*old, "name")), uuid_of(*old));
        return -EPERM;
    }
    const char *ruuid = uuid_of(json_object_get(entry, "label"));
    if (ruuid && !force && !(*old && !strcmp(ruuid, uuid_of(*old)))) {
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

void ops_label_forget_old(bkp_repo *r, const char *name, const char *path, const json_t *old)
{
    const char *oname = json_string_value(json_object_get(old, "name"));
    const char *orepo = json_string_value(json_object_get(old, "repository"));
    if (!oname || !strcmp(oname, name) || !orepo || strcmp(orepo, bkp_repo_uuid(r)))
        return;
    json_t *oe = bkp_media_get(r, oname);
    const char *ou = uuid_of(json_object_get(oe, "label"));
    if (ou && !strcmp(ou, uuid_of(old)) && !bkp_media_forget(r, oname))
        bkp_warn(_("%s was labelled %s before: that medium is removed from the registry"), path,
                 oname);
    json_decref(oe);
}

typedef struct label_ctx {
    json_t *label;
    const char *path;
} label_ctx;

static int set_label(json_t *e, void *ctx)
{
    label_ctx *l = ctx;
    char now[32];
    const char *old = uuid_of(json_object_get(e, "label"));
    bkp_iso_time(now, sizeof(now), bkp_now());
    /* A new disk under an old name starts a new history. */
    if (old && strcmp(old, uuid_of(l->label)))
        json_object_clear(e);
    json_object_set(e, "label", l->label);
    json_object_set_new(e, "path", json_string(l->path));
    json_object_set_new(e, "labelled", json_string(now));
    json_object_set_new(e, "last_seen", json_string(now));
    return 0;
}

int ops_label_register(bkp_repo *r, const char *name, const char *path, json_t *lab)
{
    label_ctx lc = {lab, path};
    return bkp_media_update(r, name, set_label, &lc);
}
