/* Fuzz target: the status record (bkp/report/status_doc.h) through its one
 * codec, and the page rendered from it. What is accepted round-trips: the
 * record written back parses to a record that is written the same; the page
 * of any accepted record is made, in both languages. */
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
    for (size_t i = 0; i < s.ndatasets; i++)
        if (!s.datasets[i].name || s.datasets[i].en.nreasons > POL_REASONS)
            abort();
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
