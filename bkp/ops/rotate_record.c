/* rotate_record.c — see rotate_record.h. */
#include "bkp/ops/rotate_record.h"

#include "bkp/audit.h"
#include "bkp/i18n.h"
#include "bkp/log.h"

int ops_rotate_record(bkp_repo *primary, const char *medium, bool failed, const char *why,
                      bool refused, bkp_gen **pick, size_t np, json_t *fig)
{
    /* What the medium holds after it: the capture time of each data set's
     * newest generation (the age of the off-line copy counts from there). */
    json_t *captured = json_object();
    for (size_t i = 0; i < np; i++)
        json_object_set(captured, pick[i]->dataset, json_object_get(pick[i]->json, "finished"));
    json_object_set_new(fig, "captured", captured);
    if (failed && refused) /* stopped before it wrote: the medium is as it was */
        json_object_set_new(fig, "refused", json_true());
    bkp_audit_rec rec = {.op = "rotate",
                         .medium = medium,
                         .failed = failed,
                         .figures = fig,
                         .error = failed ? (why && *why ? why : "see the messages of bkp rotate")
                                         : NULL};
    return bkp_audit_append(primary, &rec);
}

json_t *ops_held_list(bkp_repo *dst)
{
    bkp_gen **v = NULL;
    size_t n = 0;
    json_t *held = json_array();
    if (bkp_gen_list(dst, NULL, &v, &n))
        return held;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->pruned || v[i]->status)
            continue;
        json_array_append_new(held, json_pack("{s:s, s:i, s:s, s:O}", "dataset", v[i]->dataset,
                                              "seq", (int)v[i]->seq, "uuid", v[i]->uuid, "finished",
                                              json_object_get(v[i]->json, "finished")));
    }
    bkp_gen_list_free(v, n);
    return held;
}

int ops_kit_write(const char *dir, const char *medium, const bkp_kit_doc *docs, size_t ndocs,
                  bkp_kit_result *res)
{
    int rc = bkp_kit_write(dir, docs, ndocs, res);
    if (rc)
        ops_kit_warn(medium, rc);
    return rc;
}

void ops_kit_warn(const char *medium, int rc)
{
    bkp_warn(_("%s: its recovery kit could not be written (%s); the copy is complete, but a "
               "clean machine needs bkp installed to read it"),
             medium, bkp_strerror(rc));
}
