/* Fuzz target: a policy (YAML), through the strict loader and everything a
 * valid one is turned into (the JSON of `policy check`, the compliance
 * warnings). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bkp/io/log.h"
#include "policies/policy.h"

static void quiet(enum bkp_log_level level, const char *msg, void *ctx)
{
    (void)level;
    (void)msg;
    (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pol_policy *p = NULL;
    bkp_log_set_sink(quiet, NULL);
    if (pol_load_buffer("fuzz.yaml", data, size, &p) == 0) {
        json_t *j = pol_to_json(p);
        char *s = json_dumps(j, 0);
        free(s);
        json_decref(j);
        (void)pol_warn_compliance(p);
        pol_free(p);
    }
    return 0;
}
