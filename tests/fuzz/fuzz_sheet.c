/* Fuzz target: a typed or scanned paper or share sheet (bkp/keys/sheet.h). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "bkp/keys/sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bkp_sheet s;
    int line;
    char text[BKP_SHEET_TEXT_MAX];
    if (sodium_init() < 0)
        return 0;
    if (bkp_sheet_parse((const char *)data, size, &s, &line) == 0) {
        /* What parses formats back to a sheet that parses to the same. */
        bkp_sheet again;
        if (bkp_sheet_format(&s, text) != 0 ||
            bkp_sheet_parse(text, strlen(text), &again, &line) != 0 ||
            memcmp(&s, &again, sizeof(s)) != 0)
            __builtin_trap();
    } else if (line < 0 || line > 5) {
        __builtin_trap();
    }
    return 0;
}
