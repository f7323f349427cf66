/* pins.c — see pins.h. */
#include "bkp/ops/pins.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/media/registry.h"
#include "bkp/media/pin.h"
#include "bkp/ops/medium_check.h"
#include "bkp/audit/verify.h"

/* The pin of medium `name`: from the medium at `path` when it is there and
 * names this medium (two disks may take turns at one mount point), else
 * the primary's copy. The pin of a disk of another repository there (an
 * old one, or another server's: bkp status says so) is not ours, and not
 * called forged. NULL when there is none yet. */
static bkp_pin *load_pin(const bkp_repo *r, const char *name, const char *path, bool *on_medium)
{
    bkp_pin *p = NULL;
    char kept[96], other[37];
    char *file = path ? bkp_path_join(path, BKP_PIN_FILE) : NULL;
    int rc = file ? bkp_pin_read(r, file, &p) : -ENOENT;
    *on_medium = false;
    /* Not this repository's pin: of a disk of another repository (its
     * label says so, and bkp status), not a forgery of ours. */
    if (rc == -EBADMSG && ops_label_foreign(r, path, other))
        rc = -ENOENT;
    if (rc == -EBADMSG)
        bkp_warn(_("%s: damaged, forged or of another repository; it is not used (the primary's "
                   "copy of %s's pin is)"),
                 file, name);
    if (!rc && strcmp(p->medium, name)) {
        bkp_pin_free(p);
        p = NULL;
        rc = -ENOENT;
    }
    free(file);
    if (!rc) {
        *on_medium = true;
        return p;
    }
    snprintf(kept, sizeof(kept), "media/%s.pin", name);
    char *kpath = bkp_repo_subpath(r, kept);
    rc = kpath ? bkp_pin_read(r, kpath, &p) : -ENOMEM;
    if (rc == -EBADMSG)
        bkp_warn(_("%s is damaged or forged; %s is compared with the primary only when it is "
                   "plugged in"),
                 kpath, name);
    free(kpath);
    if (!rc && strcmp(p->medium, name)) {
        bkp_pin_free(p);
        return NULL;
    }
    return rc ? NULL : p;
}

/* The pins to compare: one per medium, each with where it was read from. */
typedef struct pinned {
    char name[65];
    bkp_pin *pin; /* NULL: none yet */
    bool on_medium;
} pinned;

static int add_pin(const bkp_repo *r, const char *name, const char *path, pinned **v, size_t *n)
{
    pinned *nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    pinned *x = &nv[(*n)++];
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->pin = load_pin(r, name, path, &x->on_medium);
    return 0;
}

/* Add to `out` what the primary lacks of pin `x`, against the log as read
 * at its position. */
static int check_pin(const pinned *x, bkp_gen *const *v, size_t n, const bkp_pin_log *lg,
                     ops_pin_findings *out)
{
    bkp_pin_finding *f = NULL;
    int nf = bkp_pin_compare(x->pin, v, n, lg, &f);
    ops_pin_found *grown = nf > 0 ? realloc(out->v, (out->n + (size_t)nf) * sizeof(*grown)) : NULL;
    if (nf > 0 && !grown)
        nf = -ENOMEM;
    else if (nf > 0)
        out->v = grown;
    for (int i = 0; i < nf; i++) {
        ops_pin_found *o = &out->v[out->n++];
        snprintf(o->medium, sizeof(o->medium), "%s", x->name);
        o->on_medium = x->on_medium;
        o->f = f[i];
    }
    free(f);
    if (nf < 0)
        bkp_error(_("cannot compare the primary with the pin of %s: %s"), x->name,
                  bkp_strerror(nf));
    return nf < 0 ? nf : 0;
}

/* Every pin against the primary's list `v` and its log `log`, read once
 * for all of them (bkp_pin_log_read_many). */
static int check_all(const pinned *pv, size_t np, bkp_gen *const *v, size_t n, const char *log,
                     ops_pin_findings *out)
{
    uint64_t *at = calloc(np + 1, sizeof(*at));
    bkp_pin_log *lg = calloc(np + 1, sizeof(*lg));
    size_t k = 0;
    int rc = at && lg ? 0 : -ENOMEM;
    for (size_t i = 0; !rc && i < np; i++)
        if (pv[i].pin)
            at[k++] = pv[i].pin->audit_records;
    if (!rc && k)
        rc = bkp_pin_log_read_many(log, at, k, lg);
    if (rc == -ENOENT) { /* a log deleted is a log of no records: the pins say what is missing */
        memset(lg, 0, (np + 1) * sizeof(*lg));
        rc = 0;
    }
    for (size_t i = 0; rc && i < np; i++)
        if (pv[i].pin)
            bkp_error(_("cannot compare the primary with the pin of %s: %s"), pv[i].name,
                      bkp_strerror(rc));
    for (size_t i = 0, j = 0; !rc && i < np; i++)
        if (pv[i].pin)
            rc = check_pin(&pv[i], v, n, &lg[j++], out);
    free(at);
    free(lg);
    return rc;
}

int ops_pins_check_of(const bkp_repo *r, const pol_policy *p, bkp_gen *const *v, size_t n,
                      const char *only, const char *only_path, ops_pin_findings *out)
{
    ops_pin_findings found = {0};
    bkp_media_entry *reg = NULL;
    pinned *pv = NULL;
    size_t np = 0, nreg = 0, i;
    char *log = bkp_audit_path(r);
    int rc = !log ? -ENOMEM : only ? 0 : bkp_media_list(r, &reg, &nreg);
    if (!rc && only)
        rc = add_pin(r, only, only_path, &pv, &np);
    for (i = 0; !rc && i < nreg; i++) {
        const char *name = reg[i].label.name;
        const pol_medium *pm = p ? pol_medium_find(p, name) : NULL;
        rc = add_pin(r, name, pm && pm->path ? pm->path : reg[i].path, &pv, &np);
    }
    if (!rc)
        rc = check_all(pv, np, v, n, log, &found);
    for (i = 0; i < np; i++)
        bkp_pin_free(pv[i].pin);
    free(pv);
    bkp_media_entries_free(reg, nreg);
    free(log);
    if (rc) {
        ops_pin_findings_clear(&found);
        return rc;
    }
    *out = found;
    return (int)found.n;
}

void ops_pin_findings_clear(ops_pin_findings *f)
{
    free(f->v);
    memset(f, 0, sizeof(*f));
}

int ops_pins_check(const bkp_repo *r, const pol_policy *p, const char *only, const char *only_path,
                   ops_pin_findings *out)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    int rc = bkp_gen_list(r, NULL, &v, &n);
    if (!rc)
        rc = ops_pins_check_of(r, p, v, n, only, only_path, out);
    bkp_gen_list_free(v, n);
    return rc;
}

void ops_pins_refuse(const ops_pin_findings *found, const char *doing)
{
    bool beside = false;
    const char *medium = NULL;
    for (size_t i = 0; i < found->n; i++) {
        const ops_pin_found *f = &found->v[i];
        beside |= f->f.beside;
        medium = f->medium;
        if (f->f.beside)
            bkp_error(_("the primary is beside %s (history rewritten): %s"), medium, f->f.what);
        else
            bkp_error(_("the primary is behind %s: %s"), medium, f->f.what);
    }
    if (!medium)
        return;
    if (beside)
        bkp_error(_("%s: the primary may have been rewritten (another record under a pinned "
                    "number, or the log changed) since %s was last written. %s is left as it is: "
                    "do not overwrite it, it may hold the only good history. Investigate (`bkp "
                    "verify`, `bkp audit verify`) and, if the primary was rolled back, restore it "
                    "from %s"),
                  doing, medium, medium, medium);
    else
        bkp_error(_("%s: the primary may have been rolled back (an older copy put in its place, "
                    "records deleted, the log cut) since %s was last written. %s is left as it "
                    "is: do not overwrite it, it may hold the only good history. Investigate (`bkp "
                    "verify`, `bkp audit verify`) and, if the primary was rolled back, restore it "
                    "from %s"),
                  doing, medium, medium, medium);
}

int ops_pins_write(bkp_repo *r, const char *name, const char *path)
{
    return ops_pins_write_of(r, name, path, NULL, 0);
}

/* Does data set `ds`'s folder `dir` name exactly the records and
 * tombstones of v[*at, ...) of that data set? Names only: no record is
 * opened. `*at` moves past them. */
static bool same_dataset(const char *dir, const char *ds, bkp_gen *const *v, size_t n, size_t *at)
{
    size_t from = *at, k = 0;
    while (*at < n && !strcmp(v[*at]->dataset, ds))
        (*at)++;
    DIR *d = opendir(dir);
    struct dirent *e;
    bool same = d != NULL;
    while (same && (e = readdir(d))) {
        char *end;
        unsigned long seq = strtoul(e->d_name, &end, 10);
        if (end != e->d_name + 10 || (strcmp(end, ".gen") && strcmp(end, ".pruned")))
            continue;
        const bkp_gen *g = NULL;
        for (size_t i = from; i < *at && !g; i++)
            g = v[i]->seq == seq ? v[i] : NULL;
        same = g && g->pruned == !strcmp(end, ".pruned");
        k++;
    }
    if (d)
        closedir(d);
    return same && k == *at - from;
}

/*
 * Are the generations of `r` still those of `v` (bkp_gen_list, sorted)?
 * A rotation holds a writer lock on the primary, which keeps prune out but
 * not a backup (writers do not exclude one another, lock.h): one may have
 * sealed a record since `v` was read. The pin must name the primary's heads
 * as they are when it is written, as it did when it listed them itself, so
 * a new name (or one gone) sends the pin back to a full listing. The same
 * names with other bytes are not looked for: `v` is what the guard judged
 * and the copy took (bkp_copy_generations_of refuses a record whose bytes
 * changed), and the pin names exactly that.
 */
static bool still_listed(bkp_repo *r, bkp_gen *const *v, size_t n)
{
    char *gdir = bkp_repo_subpath(r, "generations");
    DIR *d = gdir ? opendir(gdir) : NULL;
    struct dirent *e;
    size_t seen = 0;
    bool same = d != NULL;
    while (same && (e = readdir(d))) {
        if (!bkp_dataset_name_ok(e->d_name))
            continue;
        char *dir = bkp_path_join(gdir, e->d_name);
        size_t i = 0;
        while (i < n && strcmp(v[i]->dataset, e->d_name))
            i++;
        size_t from = i;
        same = dir && same_dataset(dir, e->d_name, v, n, &i);
        seen += i - from;
        free(dir);
    }
    if (d)
        closedir(d);
    free(gdir);
    return same && seen == n;
}

int ops_pins_write_of(bkp_repo *r, const char *name, const char *path, bkp_gen *const *v,
                      size_t n)
{
    bkp_pin *p = NULL;
    char kept[96];
    char *mdir = bkp_repo_subpath(r, "media");
    int rc = v && still_listed(r, v, n) ? bkp_pin_make_of(r, name, v, n, &p)
                                        : bkp_pin_make(r, name, &p);
    snprintf(kept, sizeof(kept), "%s.pin", name);
    /* The medium's own pin first: it is the one that matters when the
     * primary is rolled back; the primary's copy serves while it is away. */
    if (!rc)
        rc = bkp_pin_write(r, p, path, BKP_PIN_FILE);
    if (!rc)
        rc = mdir ? bkp_mkdir_p(mdir, 0700) : -ENOMEM;
    if (!rc)
        rc = bkp_pin_write(r, p, mdir, kept);
    if (rc)
        bkp_error(_("%s: cannot write the pin of the primary's heads (%s): %s; the next rotation "
                    "writes it"),
                  name, path, bkp_strerror(rc));
    bkp_pin_free(p);
    free(mdir);
    return rc;
}

int ops_pins_guard_of(bkp_repo *r, const pol_policy *p, bkp_gen *const *v, size_t n,
                      const char *doing)
{
    ops_pin_findings found = {0};
    int nf = ops_pins_check_of(r, p, v, n, NULL, NULL, &found);
    if (nf > 0)
        ops_pins_refuse(&found, doing);
    ops_pin_findings_clear(&found);
    if (nf)
        return nf > 0 ? -EPERM : nf;
    /* A medium that pinned nothing newer cannot tell that the primary lost
     * its newest records; the primary's own audit log can: a generation it
     * says was sealed and that is gone without a prune would make "the
     * newest" an older one, and a key file older than the last key change
     * it records would carry a retired passphrase onto the medium. */
    bkp_verify_result res = {0};
    int rc = bkp_verify_log_of(r, v, n, &res);
    bool bad = rc < 0 || res.problems;
    bkp_verify_result_clear(&res);
    if (bad)
        bkp_error(_("%s: the primary's audit log and what the primary holds disagree (above): "
                    "generations or key changes it records are missing; the medium is left as it "
                    "is. Find out what happened (`bkp verify`, `bkp audit verify`), and restore "
                    "what is missing from a medium that holds it"),
                  doing);
    return rc < 0 ? rc : bad ? -EBADMSG : 0;
}
