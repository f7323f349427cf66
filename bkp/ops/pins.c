/* pins.c — see pins.h. */
#include "bkp/ops/pins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit.h"
#include "bkp/durable.h"
#include "bkp/i18n.h"
#include "bkp/log.h"
#include "bkp/medium.h"
#include "bkp/pin.h"
#include "bkp/verify.h"

/* The pin of medium `name`: from the medium at `path` when it is there and
 * names this medium (two disks may take turns at one mount point), else
 * the primary's copy. NULL when there is none yet. */
static bkp_pin *load_pin(const bkp_repo *r, const char *name, const char *path, bool *on_medium)
{
    bkp_pin *p = NULL;
    char kept[96];
    char *file = path ? bkp_path_join(path, BKP_PIN_FILE) : NULL;
    int rc = file ? bkp_pin_read(r, file, &p) : -ENOENT;
    *on_medium = false;
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

/* Add to `out` what the primary lacks of the pin of medium `name`. */
static int check_medium(const bkp_repo *r, const char *name, const char *path, bkp_gen **v,
                        size_t n, const char *log, json_t *out)
{
    bool on_medium;
    bkp_pin *p = load_pin(r, name, path, &on_medium);
    bkp_pin_finding *f = NULL;
    bkp_pin_log lg = {0};
    if (!p)
        return 0;
    int rc = bkp_pin_log_read(log, p->audit_records, &lg);
    if (rc == -ENOENT) /* a log deleted is a log of no records: the pin says what is missing */
        rc = 0;
    int nf = rc ? rc : bkp_pin_compare(p, v, n, &lg, &f);
    for (int i = 0; i < nf; i++)
        json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:s, s:b}", "medium", name,
                                             "dataset", f[i].dataset, "beside", f[i].beside,
                                             "what", f[i].what, "on_medium", on_medium));
    free(f);
    bkp_pin_free(p);
    if (nf < 0)
        bkp_error(_("cannot compare the primary with the pin of %s: %s"), name, bkp_strerror(nf));
    return nf < 0 ? nf : 0;
}

int ops_pins_check(const bkp_repo *r, const pol_policy *p, const char *only, const char *only_path,
                   json_t **out)
{
    json_t *reg = only ? NULL : bkp_media_list(r), *found = json_array(), *e;
    bkp_gen **v = NULL;
    size_t n = 0, i;
    char *log = bkp_audit_path(r);
    int rc = !found || !log || (!only && !reg) ? -ENOMEM : bkp_gen_list(r, NULL, &v, &n);
    if (!rc && only)
        rc = check_medium(r, only, only_path, v, n, log, found);
    json_array_foreach(reg, i, e)
    {
        const char *name = json_string_value(json_object_get(json_object_get(e, "label"), "name"));
        const pol_medium *pm = p && name ? pol_medium_find(p, name) : NULL;
        const char *path = pm && pm->path ? pm->path : json_string_value(json_object_get(e, "path"));
        if (!rc && name && bkp_medium_name_ok(name))
            rc = check_medium(r, name, path, v, n, log, found);
    }
    bkp_gen_list_free(v, n);
    json_decref(reg);
    free(log);
    if (rc) {
        json_decref(found);
        return rc;
    }
    *out = found;
    return (int)json_array_size(found);
}

void ops_pins_refuse(json_t *found, const char *doing)
{
    size_t i;
    json_t *f;
    bool beside = false;
    const char *medium = NULL;
    json_array_foreach(found, i, f)
    {
        beside |= json_is_true(json_object_get(f, "beside"));
        medium = json_string_value(json_object_get(f, "medium"));
        if (json_is_true(json_object_get(f, "beside")))
            bkp_error(_("the primary is beside %s (history rewritten): %s"), medium,
                      json_string_value(json_object_get(f, "what")));
        else
            bkp_error(_("the primary is behind %s: %s"), medium,
                      json_string_value(json_object_get(f, "what")));
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
    bkp_pin *p = NULL;
    char kept[96];
    char *mdir = bkp_repo_subpath(r, "media");
    int rc = bkp_pin_make(r, name, &p);
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

int ops_pins_guard(bkp_repo *r, const pol_policy *p, const char *doing)
{
    json_t *found = NULL;
    int nf = ops_pins_check(r, p, NULL, NULL, &found);
    if (nf > 0)
        ops_pins_refuse(found, doing);
    json_decref(found);
    if (nf)
        return nf > 0 ? -EPERM : nf;
    /* A medium that pinned nothing newer cannot tell that the primary lost
     * its newest records; the primary's own audit log can: a generation it
     * says was sealed and that is gone without a prune would make "the
     * newest" an older one, and a key file older than the last key change
     * it records would carry a retired passphrase onto the medium. */
    bkp_verify_result res = {0};
    int rc = bkp_verify_log(r, &res);
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
