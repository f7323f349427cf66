/* Fuzz target: the state of notifications (the repository's
 * cache/notify.json), as pol_notify_state_parse reads it, then judged
 * against a few conditions by pol_notify_decide. */
#include <stddef.h>
#include <stdint.h>

#include "policies/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pol_condition v[] = {
        {"verdict:emr", "AT RISK", "emr is AT RISK", 1, NULL},
        {"backup:emr", NULL, "the backup of emr succeeded again", 0, NULL},
        {"due:usb", "overdue", "usb is overdue", 1, NULL},
        {NULL, "suspicious", "emr:3 is suspicious", 2, NULL},
    };
    json_t *state = pol_notify_state_parse(data, size), *events = json_array();
    bool told[4];
    (void)pol_notify_decide(state, v, 4, 1767571200, 86400, events, told);
    json_decref(events);
    json_decref(state);
    return 0;
}
