/* label_util.h — labels and registry entries for the unit tests. */
#ifndef BKP_TEST_LABEL_UTIL_H
#define BKP_TEST_LABEL_UTIL_H

#include "bkp/media/registry.h"

/* A new label for medium `name` of repository `r`: 0 with `*l`. */
static inline int ops_label_new(const bkp_repo *r, const char *name, const char *type,
                                const char *location, bkp_label *l)
{
    return bkp_label_make(l, bkp_repo_uuid(r), bkp_repo_sign_pk(r), name, type, location);
}

/* bkp_media_update's callback that files the label `ctx`. */
static inline int ops_put_label(bkp_media_entry *e, void *ctx)
{
    e->label = *(const bkp_label *)ctx;
    return 0;
}

#endif
