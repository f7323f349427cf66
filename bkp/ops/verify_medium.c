/*
 * A medium's recovery kit and registry entry after `verify --media`
 * (verify_medium.h).
 */
#include "bkp/ops/verify_medium.h"

#include <errno.h>
#include <string.h>

#include "bkp/audit/audit.h"
#include "bkp/io/clock.h"
#include "bkp/io/i18n.h"
#include "bkp/media/kit.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/media/registry.h"
#include "bkp/audit/reread_sample.h"

int ops_verify_check(const bkp_repo *r, const bkp_repo *target, const char *medium, double sample,
                     bool read_data, int workers, const bkp_bucket_fetch *bucket,
                     bkp_verify_result *res)
{
    int rc;
    if (sample != 0) {
        /* A copy whose key file would not open it alone is a problem of
         * the sample too: bkp_verify_packs counts it with the metadata. */
        rc = bkp_reread_sample(r, target, medium, sample, 0, workers, res);
    } else {
        rc = bkp_verify(target, read_data, workers, res);
    }
    size_t nbad = bucket ? bucket->nstale + bucket->ndamaged + bucket->nhidden : 0;
    if (rc >= 0 && nbad)
        res->problems += nbad;
    return rc;
}

typedef struct kit_ctx {
    const char *what;
    bkp_verify_result *res;
} kit_ctx;

static void kit_found(const char *name, int why, void *ctx)
{
    kit_ctx *k = ctx;
    if (!strcmp(name, "SHA256SUMS") && why != -EEXIST)
        bkp_verify_add_problem(
            k->res,
            N_("%s: the recovery kit's SHA256SUMS is missing or damaged, so its files "
               "cannot be checked; run `bkp rotate %s` to write the kit again"),
            k->what, k->what);
    else if (why == -ENOENT)
        bkp_verify_add_problem(
            k->res,
            N_("%s: the recovery kit's file %s is missing; run `bkp rotate %s` to write "
               "the kit again"),
            k->what, name, k->what);
    else if (why == -EBADMSG)
        bkp_verify_add_problem(
            k->res,
            N_("%s: the recovery kit's file %s is not the one its SHA256SUMS lists "
               "(changed or damaged); run `bkp rotate %s` to write the kit again"),
            k->what, name, k->what);
    else
        bkp_verify_add_problem(
            k->res,
            N_("%s: the recovery kit holds %s, which its SHA256SUMS does not list (put "
               "there since, or a link); run `bkp rotate %s` to write the kit again"),
            k->what, name, k->what);
}

int ops_verify_kit(const char *what, const char *path, bool optional, int rc,
                   bkp_verify_result *res)
{
    kit_ctx ctx = {what, res};
    int k = bkp_kit_check(path, kit_found, &ctx);
    if ((k == -ENOENT || k == -ENOTDIR) && optional) /* a tape, or a folder without one */
        k = 0;
    else if (k == -ENOENT)
        bkp_verify_add_problem(
            res, N_("%s has no recovery kit (%s/%s); run `bkp rotate %s` to write one"), what, path,
            BKP_KIT_DIR, what);
    else if (k < 0)
        bkp_verify_add_problem(res,
                               N_("%s: the recovery kit cannot be checked (%s); run `bkp rotate "
                                  "%s` to write it again"),
                               what, bkp_strerror_en(k), what);
    return rc;
}

static int note(bkp_media_entry *e, void *ctx)
{
    const bool *ok = ctx;
    e->last_seen = e->last_verify = bkp_now();
    e->verify = *ok ? BKP_MEDIA_VERIFIED : BKP_MEDIA_FAILED;
    return 0;
}

int ops_verify_record(const bkp_repo *r, bkp_repo *w, const char *medium, const char *mode, int rc,
                      bool behind, const bkp_verify_result *res, const bkp_strlist *fixed,
                      int (*append)(void *ctx, const bkp_audit_rec *rec), void *ctx)
{
    int failed = 0;
    json_t *fig = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o?}", "mode", mode, "generations",
                            (json_int_t)res->generations, "packs_read", (json_int_t)res->packs_read,
                            "blobs_read", (json_int_t)res->blobs_read, "bytes_read",
                            (json_int_t)res->bytes_read, "problems", (json_int_t)res->problems,
                            "repaired", fixed ? bkp_json_strlist(fixed) : NULL);
    bool bad = rc < 0 || res->problems;
    /* Problems with no message of their own: the archives that did not
     * verify, a bucket's objects that did not check (the figures count them). */
    const char *why = rc < 0 ? bkp_strerror_en(rc) : "problems found";
    bkp_audit_rec rec = {.op = fixed ? "repair" : "verify",
                         .medium = medium,
                         .failed = bad || behind,
                         .figures = fig,
                         .error = bad ? (res->nmessages ? res->messages[0] : why) : NULL};
    if (append ? append(ctx, &rec) : w ? bkp_audit_append(w, &rec) : bkp_audit_append_ro(r, &rec))
        failed = -EIO;
    json_decref(fig);
    bool ok = !bad;
    if (medium && rc >= 0 && (w ? bkp_media_update(w, medium, note, &ok) : bkp_media_update_ro(r, medium, note, &ok)))
        failed = -EIO;
    return failed;
}
