/* Fuzz target: the rolling re-read state, cache/reread.json, through its
 * one codec (reread.h): what is accepted is in order, and written back it
 * parses to the same state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/audit/reread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const time_t now = 1800000000;
    bkp_reread s, again;
    if (bkp_reread_parse((const char *)data, size, now, &s))
        return 0;
    for (size_t i = 1; i < s.n; i++)
        if (memcmp(s.v[i - 1].id, s.v[i].id, sizeof(s.v[i].id)) >= 0)
            abort();
    char *text = bkp_reread_text(&s);
    if (text) {
        if (bkp_reread_parse(text, strlen(text), now, &again) || again.n != s.n ||
            again.last_run != s.last_run || (s.n && memcmp(again.v, s.v, s.n * sizeof(*s.v))))
            abort();
        bkp_reread_free(&again);
    }
    free(text);
    bkp_reread_free(&s);
    return 0;
}
