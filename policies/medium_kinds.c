/*
 * medium_kinds.c — what each kind of medium is (policy.h): its word in the
 * policy, its words for people, and its traits, which every layer asks
 * instead of the kind. Adding a kind starts here (docs/ARCHITECTURE.md).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "bkp/io/i18n.h"
#include "policies/policy.h"

/* The one place that knows. */
static const struct kind {
    const char *name, *words, *paper;
    bool at_path, write_once, connected;
} kinds[] = {
    [POL_DISK] = {"disk", N_("disk (connected)"), N_("Write on the disk's paper label"), true,
                  false, true},
    [POL_REMOVABLE] = {"removable", N_("removable disk"),
                       N_("Write on the paper label of the removable disk (or of its case)"), true,
                       false, false},
    [POL_ARCHIVE] = {"archive", N_("archive (tape, optical or write-once)"),
                     N_("Write on the paper label of the tape or of the archive folder's case"),
                     true, true, false},
    [POL_OBJECT] = {"object", N_("object storage (S3)"),
                    N_("Write in the register of off-site copies, beside the bucket's name"),
                    false, false, false},
};
#define NKINDS (sizeof(kinds) / sizeof(*kinds))

/* A value no parser makes: no trait at all, rather than another type's. */
static const struct kind *kind(pol_medium_type t)
{
    static const struct kind none = {"?", "?", "?", false, false, false};
    return (unsigned)t < NKINDS ? &kinds[t] : &none;
}

const char *pol_medium_type_name(pol_medium_type t)
{
    return kind(t)->name;
}

int pol_medium_type_named(const char *name, pol_medium_type *out)
{
    for (size_t i = 0; name && i < NKINDS; i++)
        if (!strcmp(name, kinds[i].name)) {
            *out = (pol_medium_type)i;
            return 0;
        }
    return -EINVAL;
}

const char *pol_medium_type_words(pol_medium_type t)
{
    return _(kind(t)->words);
}

const char *pol_medium_type_paper(pol_medium_type t)
{
    return _(kind(t)->paper);
}

bool pol_type_at_path(pol_medium_type t)
{
    return kind(t)->at_path;
}

bool pol_type_write_once(pol_medium_type t)
{
    return kind(t)->write_once;
}

bool pol_type_rekeyed(pol_medium_type t)
{
    return kind(t)->at_path && !kind(t)->write_once;
}

bool pol_type_offline(pol_medium_type t)
{
    return kind(t)->at_path && !kind(t)->connected;
}

const pol_object *pol_medium_bucket(const pol_medium *m)
{
    return m && !kind(m->type)->at_path ? &m->object : NULL;
}

bool pol_medium_online(const pol_medium *m)
{
    return kind(m->type)->connected && !m->offline;
}

const char *pol_medium_place_words(bool offsite, bool offline)
{
    if (offsite)
        return offline ? _("off-site, off-line") : _("off-site, on-line");
    return offline ? _("on-site, off-line") : _("on-site, on-line");
}
