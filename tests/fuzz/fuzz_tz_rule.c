/* Fuzz target: the rule at the end of a zone file (bkp_tz_rule_parse), as
 * bkp_tz_value reads /etc/localtime for the printed procedure: what it
 * gives is printable, fits, and is found again in the bytes' last line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[72];
    for (size_t n = 1; n <= sizeof(out); n += 35) {
        memset(out, 'X', sizeof(out));
        if (!bkp_tz_rule_parse((const char *)data, size, out, n))
            continue;
        size_t len = strnlen(out, n);
        if (len == n || len == 0 || len > 64)
            abort();
        for (size_t i = 0; i < len; i++)
            if (out[i] <= ' ' || out[i] > '~')
                abort();
        if (size < len + 2 || memcmp(data + size - 1 - len, out, len) ||
            data[size - 2 - len] != '\n')
            abort();
    }
    return 0;
}
