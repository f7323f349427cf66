/* drill.c — see drill.h. The run itself (sandbox, engine, records) is in
 * drill_run.c. */
#include "bkp/ops/drill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/media/archive.h"
#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/ops/medium_check.h"

void ops_drill_sources_free(ops_drill_sources *s)
{
    for (size_t i = 0; i < s->nowned; i++)
        bkp_repo_free(s->owned[i]);
    for (size_t i = 0; i < s->nstaging; i++) {
        (void)bkp_remove_tree(s->staging[i]);
        free(s->staging[i]);
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Add source `r` as `name`; one past OPS_DRILL_SOURCES_MAX (or without
 * memory for its name) is dropped, and closed when `owned`. */
/* Source `r` (read only), which `owned` is when the list frees it (else NULL). */
static void add(ops_drill_sources *s, const char *name, const bkp_repo *r, bkp_repo *owned)
{
    char *copy = s->n < OPS_DRILL_SOURCES_MAX ? strdup(name) : NULL;
    if (!copy) {
        bkp_repo_free(owned);
        return;
    }
    s->names[s->n] = copy;
    s->v[s->n] = (rb_source){s->names[s->n], r};
    s->n++;
    if (owned)
        s->owned[s->nowned++] = owned;
}

/* The run's key, once: the first source opened with it, the others as
 * copies of that one. */
static int open_any(const ops_drill_in *in, const char *path, const bkp_repo *like, bkp_repo **out)
{
    if (like)
        return bkp_repo_open_copy(path, like, BKP_REPO_READONLY, out);
    return in->io->open(in->io->ctx, path, out);
}

#define ARCHIVES_PER_DATASET 3

/* Archive `name` of folder medium `m` extracted into a new staging folder
 * of `s` and opened into `*r`. */
static int open_archive(const ops_drill_in *in, const pol_medium *m, const char *name,
                        const bkp_repo *like, ops_drill_sources *s, bkp_repo **r)
{
    const char *tmp = getenv("TMPDIR");
    char *staging = NULL;
    if (asprintf(&staging, "%s/bkp-drill-src-XXXXXX", tmp && *tmp ? tmp : "/var/tmp") < 0)
        return -ENOMEM;
    if (!mkdtemp(staging)) {
        free(staging);
        return -errno;
    }
    s->staging[s->nstaging++] = staging;
    char *file = bkp_path_join(m->path, name);
    int x = file ? bkp_archive_extract_repo(file, staging) : -ENOMEM;
    if (!x)
        x = open_any(in, staging, like, r);
    free(file);
    if (x == -EKEYREJECTED && !s->refused)
        s->refused = m->name;
    if (x)
        bkp_warn(_("%s: the archive %s cannot be read (%s): not used"), m->name, name,
                 bkp_strerror(x));
    return x;
}

/* The newest archives of each data set of the runbook in an archive folder
 * (a few, so that select can fall back), each extracted and opened as a
 * source of its own. -ENOENT when the folder holds none of them. */
static int open_archives(const ops_drill_in *in, const pol_medium *m, const bkp_repo **like,
                         ops_drill_sources *s)
{
    const rb_runbook *rb = in->rb;
    char **names = NULL;
    size_t n = 0, opened = 0;
    int rc = in->io->archives(m->path, &names, &n);
    for (size_t d = 0; !rc && d < rb->ndatasets; d++) {
        size_t dl = strlen(rb->datasets[d]), taken = 0;
        for (size_t i = n; i-- > 0 && taken < ARCHIVES_PER_DATASET &&
                           s->n < OPS_DRILL_SOURCES_MAX && s->nstaging < OPS_DRILL_SOURCES_MAX;) {
            bkp_repo *r = NULL;
            if (strncmp(names[i], rb->datasets[d], dl) || names[i][dl] != '@')
                continue; /* sorted: from the end, the newest first */
            taken++;
            if (open_archive(in, m, names[i], *like, s, &r))
                continue;
            add(s, m->name, r, r);
            if (!*like)
                *like = r;
            opened++;
        }
    }
    bkp_strv_free(names, n);
    return rc ? rc : opened ? 0 : -ENOENT;
}

/* Whether medium `m` is read in pass `o`: on-line disks, then removable and
 * off-line disks, then archives. */
static bool in_pass(const pol_medium *m, size_t o)
{
    bool once = pol_type_write_once(m->type);
    return o == 0   ? pol_medium_online(m)
           : o == 1 ? pol_type_at_path(m->type) && !once && !pol_medium_online(m)
                    : once;
}

/* Is the label of medium `m` at its path? Said when not. */
static bool connected(const pol_medium *m)
{
    bool there = ops_medium_here(NULL, m);
    if (!there)
        bkp_info(_("%s is not connected at %s: not used"), m->name, m->path);
    return there;
}

/* One disk or archive medium, added to `s` when it can be read: 0, or why
 * it is not used (said). */
static int open_medium(const ops_drill_in *in, const pol_medium *m, const bkp_repo **like,
                       ops_drill_sources *s)
{
    bkp_repo *r = NULL;
    int rc;
    if (pol_type_write_once(m->type)) {
        rc = open_archives(in, m, like, s);
        if (rc == -ENOENT)
            bkp_info(_("%s holds no archive of the runbook's data sets: not used"), m->name);
        else if (rc)
            bkp_warn(_("%s cannot be read (%s): not used"), m->name, bkp_strerror(rc));
        return rc;
    }
    char *repo = bkp_path_join(m->path, "repo");
    rc = repo ? open_any(in, repo, *like, &r) : -ENOMEM;
    free(repo);
    if (rc == -EKEYREJECTED && !s->refused)
        s->refused = m->name;
    if (rc) {
        bkp_warn(_("%s cannot be read (%s): not used"), m->name, bkp_strerror(rc));
        return rc;
    }
    add(s, m->name, r, r);
    if (!*like)
        *like = r;
    return 0;
}

/* A bucket only when named: what it holds is fetched (the packs of the
 * newest generations of the runbook's data sets), which costs time and
 * traffic a drill of the other media should not pay. With the primary's
 * keys when it is open; else (a key-recovery drill, the primary gone) with
 * the passphrase or the sheets. */
static void open_bucket(const ops_drill_in *in, const bkp_repo *primary, ops_drill_sources *s)
{
    const pol_medium *pm = in->only && in->policy ? pol_medium_find(in->policy, in->only) : NULL;
    if (!pol_medium_bucket(pm) || s->nstaging >= OPS_DRILL_SOURCES_MAX || !in->io->fetch)
        return;
    bkp_repo *r = NULL;
    char *staging = NULL;
    int rc = in->io->fetch(in->io->ctx, in->only, in->rb, !in->keyrec && primary, &r, &staging);
    if (staging)
        s->staging[s->nstaging++] = staging;
    if (!rc)
        add(s, in->only, r, r);
    else
        bkp_warn(_("%s cannot be read: not used"), in->only);
}

/* The policy's first bucket, when none was named (NULL: none, or named). */
static const char *bucket_not_named(const ops_drill_in *in)
{
    for (size_t k = 0; in->policy && !in->only && k < in->policy->nmedia; k++)
        if (pol_medium_bucket(&in->policy->media[k]))
            return in->policy->media[k].name;
    return NULL;
}

/* Nothing to read from: said, -ENOENT (-EKEYREJECTED when a medium was
 * there and the key did not open it). */
static int none_there(const ops_drill_in *in, const ops_drill_sources *s)
{
    const char *bucket = bucket_not_named(in);
    if (s->refused && in->keyrec) {
        bkp_error(_("no source to restore from: %s is connected, and the sheets given do not open "
                    "it (above): sheets of another repository, of two splits, or mistyped; check "
                    "each against the paper"),
                  s->refused);
        return -EKEYREJECTED;
    }
    if (s->refused) {
        bkp_error(_("no source to restore from: %s is connected, and the key given does not open "
                    "it (above); give its passphrase (a disk holds those of its last rotation), "
                    "or the key sheet with --key-from"),
                  s->refused);
        return -EKEYREJECTED;
    }
    if (in->keyrec && in->only)
        bkp_error(_("a key-recovery drill reads an off-line medium (removable, off-line disk "
                    "or archive) with the sheets alone, and the medium %s is not one or is not "
                    "connected; connect one"),
                  in->only);
    else if (in->keyrec)
        bkp_error(_("a key-recovery drill reads an off-line medium (removable, off-line disk "
                    "or archive) with the sheets alone, and none is connected; connect one"));
    else if (in->only)
        bkp_error(_("no source to restore from: neither the repository nor any medium named "
                    "%s is there; connect a medium"),
                  in->only);
    else if (bucket)
        bkp_error(_("no source to restore from: neither the repository nor any medium is "
                    "there; connect a medium, or name the bucket %s, which is read only when "
                    "named (bkp restore --runbook NAME --from %s; a drill: --medium %s)"),
                  bucket, bucket, bucket);
    else
        bkp_error(_("no source to restore from: neither the repository nor any medium is "
                    "there; connect a medium"));
    return -ENOENT;
}

const char *ops_drill_from_name(ops_drill_from f)
{
    static const char *const names[] = {"all",   "offline", "no_offline",
                                        "named", "primary", "key_recovery"};
    return (size_t)f < sizeof(names) / sizeof(*names) ? names[f] : "all";
}

/* The media of passes [from, to) that are connected, opened into `s`. */
/* The media of passes [from, to) that are connected, opened into `s`
 * (with `offline`, those the policy calls off-line only); the name of the
 * first connected one that could not be used into `unread` (may be NULL). */
static void open_media(const ops_drill_in *in, size_t from, size_t to, bool offline,
                       const bkp_repo **like, ops_drill_sources *s, const char **unread)
{
    const pol_policy *p = in->policy;
    for (size_t o = from; p && o < to; o++)
        for (size_t i = 0; i < p->nmedia; i++) {
            const pol_medium *m = &p->media[i];
            if (!in_pass(m, o) || (offline && !m->offline) ||
                (in->only && strcmp(in->only, m->name)) || !connected(m))
                continue;
            if (open_medium(in, m, like, s) && unread && !*unread)
                *unread = m->name;
        }
}

/* Does any source of `s` hold a generation of data set `ds`? */
static bool held_by_any(const ops_drill_sources *s, const char *ds)
{
    bool held = false;
    for (size_t i = 0; !held && i < s->n; i++) {
        bkp_gen **g = NULL;
        size_t n = 0;
        held = !bkp_gen_list(s->v[i].repo, ds, &g, &n) && n > 0;
        bkp_gen_list_free(g, n);
    }
    return held;
}

/* The off-line media connected (`s`) hold every data set of the runbook,
 * or it is said which does not and what holds it: 0, or -ENODATA. A drill
 * that read on and failed at its select step would blame every source. */
static int offline_cover(const ops_drill_in *in, const ops_drill_sources *s)
{
    for (size_t d = 0; in->rb && d < in->rb->ndatasets; d++) {
        const char *ds = in->rb->datasets[d];
        const pol_dataset *pd = pol_dataset_find(in->policy, ds);
        char read[256] = "", holds[256] = "";
        if (held_by_any(s, ds))
            continue;
        for (size_t i = 0; i < s->n; i++)
            bkp_strappend(read, sizeof(read), "%s%s", i ? ", " : "", s->v[i].name);
        for (size_t k = 0; pd && k < in->policy->nmedia; k++) {
            const pol_medium *m = &in->policy->media[k];
            bool opened = false;
            for (size_t i = 0; i < s->n; i++)
                opened |= !strcmp(s->v[i].name, m->name);
            if (m->offline && !opened && pol_dataset_copies_to(pd, m->name))
                bkp_strappend(holds, sizeof(holds), "%s%s", *holds ? ", " : "", m->name);
        }
        if (*holds)
            bkp_error(_("%s is on none of the off-line media connected (%s): connect one the "
                        "policy copies it to (%s), or name a source with --medium M"),
                      ds, read, holds);
        else
            bkp_error(_("%s is on none of the off-line media connected (%s), and the policy "
                        "copies it to no other: rotate it to one (`bkp rotate M`), or name a "
                        "source with --medium M"),
                      ds, read);
        return -ENODATA;
    }
    return 0;
}

/* Every source that is there, in the order the engine tries them; for a
 * key-recovery drill the off-line media alone, the first opened with the
 * sheets and the others as its copies: nothing is opened with the
 * primary's key file, which a fire would have taken. */
int ops_drill_sources_find(const ops_drill_in *in, ops_drill_sources *s)
{
    const bkp_repo *primary = NULL, *like;
    bool asked = in->only && !strcmp(in->only, OPS_DRILL_PRIMARY);
    if (!(s->v = calloc(OPS_DRILL_SOURCES_MAX + 1, sizeof(*s->v))))
        return -ENOMEM;
    /* The primary opens the media as its copies (its keys): opened even
     * when it is not read, but never for a key-recovery drill. */
    if ((!in->only || asked) && !in->keyrec && in->io->open_primary) {
        int rc = in->io->open_primary(in->io->ctx, &primary);
        if (rc)
            return rc;
    }
    like = in->keyrec ? NULL : primary;
    if (asked) {
        s->from = OPS_FROM_PRIMARY;
        if (primary)
            add(s, OPS_DRILL_PRIMARY, primary, NULL);
        return s->n ? 0 : none_there(in, s);
    }
    if (in->offline_first && !in->only && !in->keyrec) {
        const char *unread = NULL;
        open_media(in, 1, 3, true, &like, s, &unread);
        if (s->n) {
            s->from = OPS_FROM_OFFLINE;
            return offline_cover(in, s);
        }
        if (unread && s->refused && !strcmp(unread, s->refused))
            return none_there(in, s); /* the key, not the copy */
        if (unread) {
            /* The copy the day of an attack would rely on is there and
             * cannot be used: that is what the drill is for, never a
             * reason to rehearse from the server instead. */
            bkp_error(_("the off-line medium %s is connected but holds nothing this drill can "
                        "restore (above): the drill fails, as the day of an attack would; check "
                        "it with `bkp verify --media %s` and rotate it again"),
                      unread, unread);
            return -EIO;
        }
        s->from = OPS_FROM_NO_OFFLINE;
        bkp_warn(_("no off-line medium is connected: this drill reads the server's own "
                   "repository, which the day of an attack may not leave; connect the off-line "
                   "disk to rehearse that day"));
        if (primary)
            add(s, OPS_DRILL_PRIMARY, primary, NULL);
        open_media(in, 0, 1, false, &like, s, NULL);
        return s->n ? 0 : none_there(in, s);
    }
    s->from = in->keyrec ? OPS_FROM_KEYREC : in->only ? OPS_FROM_NAMED : OPS_FROM_ALL;
    if (primary)
        add(s, OPS_DRILL_PRIMARY, primary, NULL);
    open_media(in, in->keyrec ? 1 : 0, 3, false, &like, s, NULL);
    open_bucket(in, primary, s);
    const char *bucket = bucket_not_named(in);
    /* For a person without the server's repository; never in cron's mail. */
    if (s->n && bucket && !primary && !in->keyrec && !in->quiet)
        bkp_note(_("%s is a bucket, not read unless named: with the server's repository gone, "
                   "name it to read it (bkp restore --runbook NAME --from %s; a drill: --medium "
                   "%s)"),
                 bucket, bucket, bucket);
    return s->n ? 0 : none_there(in, s);
}
