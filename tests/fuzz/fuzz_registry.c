/* Fuzz target: a registry entry REPO/media/NAME.json. What is accepted has a
 * valid label of that name and a list of held generations of the right
 * shape, which status and runbooks walk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/media/medium.h"
#include "bkp/audit/reread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL, *g;
    size_t i;
    const time_t now = 1800000000;
    if (bkp_media_entry_parse(data, size, "usb-a", now, &j) == 0) {
        json_t *label = json_object_get(j, "label");
        if (!bkp_label_valid(label) ||
            strcmp(json_string_value(json_object_get(label, "name")), "usb-a"))
            abort();
        json_array_foreach(json_object_get(j, "held"), i, g)
        {
            if (!json_string_value(json_object_get(g, "dataset")) ||
                !json_string_value(json_object_get(g, "finished")))
                abort();
        }
        json_t *rr = json_object_get(j, "reread");
        if (rr && !bkp_reread_valid(rr, now))
            abort();
        /* The label's version id is sent to the bucket: printable, bounded. */
        json_t *lv = json_object_get(j, "label_version");
        const char *v = json_string_value(lv);
        if (lv && (!v || !*v || strlen(v) > 256))
            abort();
        for (const char *c = v; c && *c; c++)
            if (*c <= ' ' || *c > '~')
                abort();
        json_decref(j);
    }
    return 0;
}
