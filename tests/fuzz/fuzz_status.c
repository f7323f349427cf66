/* Fuzz target: the status record (bkp/report/status_doc.h) through its one
 * codec, and the page rendered from it. What is accepted holds nothing the
 * emitter would drop (a drill's figures without its time, an outcome
 * without its record), and round-trips: the record written back parses to
 * a record that is written the same; the page of any accepted record is
 * made, in both languages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/report/status_doc.h"
#include "bkp/report/status_page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rst_status s, again;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return 0;
    int rc = rst_status_parse(j, &s);
    json_decref(j);
    if (rc)
        return 0;
    for (size_t i = 0; i < s.ndatasets; i++) {
        const rst_dataset *d = &s.datasets[i];
        const rst_drill *dr = &d->last_drill;
        if (!d->name || d->en.nreasons > POL_REASONS)
            abort();
        if (!dr->when.time && (dr->when.outcome || dr->runbook || dr->read_from ||
                               dr->attested_by || dr->seconds >= 0 || dr->rto_target >= 0 ||
                               dr->rto_met != RST_UNSAID || dr->attended != RST_UNSAID))
            abort(); /* accepted, then dropped by the emitter */
        if ((!d->last_backup_run.time && d->last_backup_run.outcome) ||
            (!d->last_verify.time && d->last_verify.outcome))
            abort();
        if (dr->seconds > RST_SECONDS_MAX || dr->rto_target > RST_SECONDS_MAX)
            abort();
    }
    json_t *out = rst_status_json(&s);
    if (out) {
        if (rst_status_parse(out, &again))
            abort(); /* what it writes it refuses */
        json_t *back = rst_status_json(&again);
        if (back && !json_equal(out, back))
            abort();
        json_decref(back);
        rst_status_clear(&again);
        json_decref(out);
    }
    for (int ja = 0; ja < 2; ja++)
        free(rst_status_page(&s, ja));
    rst_status_clear(&s);
    return 0;
}
