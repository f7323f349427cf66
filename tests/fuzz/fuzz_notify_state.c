/* Fuzz target: the state of notifications (the repository's
 * cache/notify.json), as pol_notify_state_parse reads it, judged against a
 * few conditions by pol_notify_decide, then written and read back: the
 * codec gives the same text twice. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policies/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pol_condition v[] = {
        {"verdict:emr", "AT RISK", "emr is AT RISK", 1, NULL, false, NULL},
        {"backup:emr", "failed", "the backup of emr failed", 2, NULL, false, "error:-28"},
        {"due:usb", "overdue", "usb is overdue", 1, NULL, true, NULL},
        {NULL, "suspicious", "emr:3 is suspicious", 2, NULL, false, NULL},
    };
    pol_notify_state state, again;
    pol_event events[4];
    bool told[4];
    if (pol_notify_state_parse(data, size, &state))
        return 0;
    size_t n = pol_notify_decide(&state, v, 4, 1767571200, 86400, events, told);
    pol_events_free(events, n);
    char *text = pol_notify_state_text(&state), *text2 = NULL;
    if (text && !pol_notify_state_parse((const uint8_t *)text, strlen(text), &again)) {
        if (again.n != state.n || !(text2 = pol_notify_state_text(&again)) || strcmp(text, text2))
            abort();
        pol_notify_state_free(&again);
    }
    free(text2);
    free(text);
    pol_notify_state_free(&state);
    return 0;
}
