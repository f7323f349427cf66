/* medium_check.c — see medium_check.h. */
#include "bkp/ops/medium_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/keys/pubkey.h"

bool ops_medium_here(const bkp_repo *r, const pol_medium *pm)
{
    bkp_label label;
    if (!pm->path || bkp_label_read(pm->path, &label))
        return false;
    return !strcmp(label.name, pm->name) && (!r || !strcmp(label.repository, bkp_repo_uuid(r)));
}

bool ops_label_foreign(const bkp_repo *r, const char *path, char repository[37])
{
    bkp_label label;
    char fp[BKP_FINGERPRINT_LEN];
    if (!r || !path || bkp_label_read_quiet(path, &label) ||
        !strcmp(label.repository, bkp_repo_uuid(r)))
        return false;
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(r), fp);
    if (label.fingerprint[0] && !strcmp(label.fingerprint, fp))
        return false;
    memcpy(repository, label.repository, 37);
    return true;
}

/* Is `path` a file system other than `r`'s (a disk mounted there)? */
static bool other_fs(const bkp_repo *r, const char *path)
{
    struct stat here, repo;
    return !stat(path, &here) && S_ISDIR(here.st_mode) && !stat(bkp_repo_path(r), &repo) &&
           here.st_dev != repo.st_dev;
}

bool ops_medium_on_repo_disk(const pol_policy *p, const pol_medium *pm)
{
    struct stat here, repo;
    bkp_label label;
    return pm->offline && pm->path && pol_type_at_path(pm->type) && p->repository &&
           !stat(pm->path, &here) && S_ISDIR(here.st_mode) && !stat(p->repository, &repo) &&
           here.st_dev == repo.st_dev && !bkp_label_read_quiet(pm->path, &label) &&
           !strcmp(label.name, pm->name);
}

bool ops_medium_foreign(const bkp_repo *r, const pol_medium *pm, char repository[37])
{
    return r && pm->offline && pm->path && pol_type_at_path(pm->type) && other_fs(r, pm->path) &&
           ops_label_foreign(r, pm->path, repository);
}

/* Is the label at `pm`'s path its own, on a file system other than `r`'s? */
static bool plugged_in(const bkp_repo *r, const pol_medium *pm)
{
    return other_fs(r, pm->path) && ops_medium_here(r, pm);
}

/* What the registry of `r` says of each medium of `p`: the states without
 * looking at the media (what a due date needs). */
static pol_medium_state *registry_states(const bkp_repo *r, const pol_policy *p)
{
    pol_medium_state *st = calloc(p->nmedia + 1, sizeof(*st));
    for (size_t i = 0; st && i < p->nmedia; i++) {
        const pol_medium *pm = &p->media[i];
        bkp_media_entry *e = r ? bkp_media_get(r, pm->name) : NULL;
        const bkp_media_attempt *a = e ? &e->attempt : NULL;
        bool full = a && a->ended && a->failed && a->full;
        st[i] = (pol_medium_state){.medium = pm,
                                   .last_write = e ? e->last_write : 0,
                                   .room = !full             ? POL_ROOM_OK
                                           : a->pruned_first ? POL_ROOM_TOO_SMALL
                                                             : POL_ROOM_FULL};
        bkp_media_free(e);
    }
    return st;
}

pol_medium_state *ops_media_states(const bkp_repo *r, const pol_policy *p)
{
    pol_medium_state *st = registry_states(r, p);
    for (size_t i = 0; st && r && i < p->nmedia; i++) {
        const pol_medium *pm = &p->media[i];
        st[i].plugged_in = pm->offline && pol_type_at_path(pm->type) && plugged_in(r, pm);
    }
    return st;
}

/* When each medium of `p` is due, from their states `st`, in its order
 * (malloc'd; NULL without memory). */
static time_t *due_of(const pol_policy *p, const pol_medium_state *st)
{
    time_t *due = st ? calloc(p->nmedia + 1, sizeof(*due)) : NULL;
    if (due)
        pol_media_due(p, st, p->nmedia, due);
    return due;
}

/* The same from the registry of `r` (NULL without a policy or memory). */
static time_t *media_due(const bkp_repo *r, const pol_policy *p)
{
    pol_medium_state *st = p ? registry_states(r, p) : NULL;
    time_t *due = st ? due_of(p, st) : NULL;
    free(st);
    return due;
}

/* Do `a` and `b` fall on one day of the local calendar? */
static bool same_day(time_t a, time_t b)
{
    struct tm x, y;
    return localtime_r(&a, &x) && localtime_r(&b, &y) && x.tm_year == y.tm_year &&
           x.tm_yday == y.tm_yday;
}

int ops_media_connected(const bkp_repo *r, const pol_policy *p, time_t now, ops_connected **out,
                        size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!p || !r || !p->nmedia)
        return 0;
    pol_medium_state *st = ops_media_states(r, p);
    time_t *due = due_of(p, st); /* the registry read once for both */
    ops_connected *v = due ? calloc(p->nmedia, sizeof(*v)) : NULL;
    if (!v) {
        free(st);
        free(due);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->nmedia; i++) {
        const pol_medium *pm = &p->media[i];
        if (!st[i].plugged_in)
            continue;
        /* Just rotated: the person has the hour to unmount it and carry it
         * away. One plugged in when its rotation is due is left connected
         * all the same (it is within reach until it goes; nobody knows
         * since when), but its rotation is the step before taking it away;
         * not one never written: it waits for its first copy. */
        v[(*n)++] = (ops_connected){.medium = pm,
                                    .last_write = st[i].last_write,
                                    .due = due[i] && (due[i] <= now || same_day(due[i], now)),
                                    .left = pol_medium_left(&st[i], now)};
    }
    free(st);
    free(due);
    if (*n)
        *out = v;
    else
        free(v);
    return 0;
}

const ops_connected *ops_connected_find(const ops_connected *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].medium->name, name))
            return &v[i];
    return NULL;
}

time_t ops_medium_due(const bkp_repo *r, const pol_policy *p, const char *name)
{
    time_t result = 0, *due = media_due(r, p);
    for (size_t i = 0; due && i < p->nmedia; i++)
        if (!strcmp(p->media[i].name, name))
            result = due[i];
    free(due);
    return result;
}

const char *ops_medium_most_due(const bkp_repo *r, const pol_policy *p, time_t *when)
{
    const char *best = NULL;
    time_t *due = media_due(r, p);
    for (size_t i = 0; due && i < p->nmedia; i++)
        if (p->media[i].offline && due[i] && (!best || due[i] < *when)) {
            best = p->media[i].name;
            *when = due[i];
        }
    free(due);
    return best;
}

/* Is a file system mounted at `path` (not the folder of the one above)? */
static bool mounted_here(const char *path)
{
    struct stat here, up;
    char *parent = bkp_path_join(path, "..");
    bool m = parent && !stat(path, &here) && S_ISDIR(here.st_mode) && !stat(parent, &up) &&
             (here.st_dev != up.st_dev || here.st_ino == up.st_ino);
    free(parent);
    return m;
}

/* The other disk is plugged in: refused, naming the medium due next. */
static int other_disk(const bkp_repo *r, const pol_policy *p, const char *name, const char *path,
                      const char *lname)
{
    time_t due = 0, now = bkp_now();
    const char *most = ops_medium_most_due(r, p, &due);
    if (most && !strcmp(most, lname)) { /* the person plugged in the right disk */
        bkp_error(_("the disk at %s is %s, not %s: refused. The disk plugged in is the one due "
                    "next: run `bkp rotate %s` to write it (to write %s instead, connect it and "
                    "run `bkp rotate %s` again)"),
                  path, lname, name, lname, name, name);
        return -EMEDIUMTYPE;
    }
    char duetxt[192] = "", when[64];
    /* In the words of `bkp status` (compliance.c): never written, or whole
     * days overdue. */
    long long days =
        most && due != POL_DUE_NEVER && due < now ? (long long)((now - due) / 86400) : 0;
    if (most && due == POL_DUE_NEVER)
        snprintf(duetxt, sizeof(duetxt), _(" The medium due next is %s (never written yet)."),
                 most);
    else if (days > 0)
        snprintf(duetxt, sizeof(duetxt),
                 ngettext(" The medium due next is %s (%lld day overdue).",
                          " The medium due next is %s (%lld days overdue).",
                          (unsigned long)(days > 1000 ? 1000 : days)),
                 most, days);
    else if (most && due <= now)
        snprintf(duetxt, sizeof(duetxt), _(" The medium due next is %s (due now)."), most);
    else if (most)
        snprintf(duetxt, sizeof(duetxt), _(" The medium due next is %s (due on %s)."), most,
                 bkp_local_time(when, sizeof(when), due, "-"));
    bkp_error(_("the disk at %s is %s, not %s: refused.%s Connect %s and run `bkp rotate %s` "
                "again, or run `bkp rotate %s` to write the disk that is plugged in"),
              path, lname, name, duetxt, name, name, lname);
    return -EMEDIUMTYPE;
}

int ops_label_check(const bkp_repo *r, const pol_policy *p, const char *name, const char *path,
                    const bkp_media_entry *entry)
{
    bkp_label label;
    int rc = bkp_label_read(path, &label);
    const char *lname = label.name, *luuid = label.uuid, *lrepo = label.repository;
    const char *lfp = label.fingerprint, *ruuid = entry ? entry->label.uuid : NULL;
    char fp[BKP_FINGERPRINT_LEN];
    if (rc == -ENOENT && entry && mounted_here(path))
        /* A disk is there, never labelled: a new one, in place of this one? */
        bkp_error(_("the disk mounted at %s has no label (no %s): it is not %s. To use it in "
                    "place of %s, label it: `bkp media label %s --name %s --force` (the old %s "
                    "is refused from then on); else connect %s there"),
                  path, BKP_LABEL_FILE, name, name, path, name, name, name);
    else if (rc == -ENOENT)
        bkp_error(_("no medium is at %s (no %s there): connect %s and mount it at %s%s"), path,
                  BKP_LABEL_FILE, name, path,
                  entry ? "" : _(", or label a new disk with `bkp media label PATH --name NAME`"));
    if (rc)
        goto out;
    /* Judged in one place (bkp_label_judge); what to do is said here. */
    switch (bkp_label_judge(r, &label, name, entry)) {
    case BKP_LABEL_OURS:
        break;
    case BKP_LABEL_OTHER_REPO:
        /* The status's words for it (an old disk, or another server's),
         * and the repository by the 8 characters the status shows. */
        bkp_error(_("the disk at %s is %s of another repository (%.8s): an old disk, or another "
                    "server's; this server does not write it. Unmount it (`umount %s`), put it "
                    "back where it is kept, and connect this repository's %s"),
                  path, lname, lrepo, path, name);
        rc = -EXDEV;
        break;
    case BKP_LABEL_OTHER_KEY:
        bkp_pubkey_fingerprint(bkp_repo_sign_pk(r), fp);
        bkp_error(
            _("the medium at %s (%s) was labelled for repository key %s, but the repository's "
              "key is %s: the medium or the repository's config and key file were replaced. "
              "Nothing is written to it; compare both with the fingerprint kept on paper"),
            path, lname, lfp, fp);
        rc = -EKEYREJECTED;
        break;
    case BKP_LABEL_OTHER_NAME:
        rc = other_disk(r, p, name, path, lname);
        break;
    case BKP_LABEL_OTHER_DISK:
        bkp_error(_("the disk at %s is labelled %s, but not the %s that was registered (label %s, "
                    "registered %s): a second disk with the same name? An old one replaced since? "
                    "Connect the registered %s; to use this disk as %s again in its place, "
                    "`bkp media label %s --name %s --force` (which forgets what the registry knew "
                    "of the other, refused from then on)"),
                  path, lname, name, luuid, ruuid, name, name, path, name);
        rc = -EMEDIUMTYPE;
        break;
    case BKP_LABEL_UNREGISTERED:
        bkp_error(_("%s is not registered in this repository; label it with `bkp media label %s "
                    "--name %s`"),
                  name, path, name);
        rc = -ENXIO;
        break;
    }
out:
    return rc;
}
