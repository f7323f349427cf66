/* Fuzz target: the evidence record (bkp/report/evidence_doc.h) through its
 * one codec, judged and rendered. What is accepted round-trips: the record
 * written back parses to a record that is written the same; judged again,
 * its statement is written back the same; its report is made in both
 * languages and both formats. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/report/evidence.h"
#include "bkp/report/evidence_doc.h"

/* Parse `j`, which must parse, and write it back. */
static json_t *again(const json_t *j)
{
    rb_evidence ev;
    if (rb_evidence_parse(j, &ev))
        abort(); /* what it writes it refuses */
    json_t *back = rb_evidence_json(&ev);
    rb_evidence_clear(&ev);
    return back;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rb_evidence ev;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return 0;
    int rc = rb_evidence_parse(j, &ev);
    json_decref(j);
    if (rc)
        return 0;
    for (size_t i = 0; i < ev.ndatasets; i++)
        if (!ev.datasets[i].name || ev.datasets[i].en.nreasons > POL_REASONS)
            abort();
    json_t *out = rb_evidence_json(&ev);
    if (out) {
        json_t *back = again(out);
        if (back && !json_equal(out, back))
            abort();
        json_decref(back);
        json_decref(out);
    }
    /* Judged anew: a pure function of the evidence, written back the same. */
    if (rb_evidence_judge(&ev) && (out = rb_evidence_json(&ev))) {
        json_t *back = again(out);
        if (back && !json_equal(out, back))
            abort();
        json_decref(back);
        json_decref(out);
    }
    for (int ja = 0; ja < 2; ja++)
        for (int f = 0; f < 2; f++)
            free(rb_evidence_render(&ev, f ? RB_HTML : RB_MARKDOWN, ja));
    rb_evidence_clear(&ev);
    return 0;
}
