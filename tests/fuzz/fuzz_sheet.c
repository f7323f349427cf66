/* Fuzz target: a typed or scanned paper or share sheet (bkp/keys/sheet.h),
 * as typed and made plain of full-width characters. What is wrong is
 * always said (a fault, a line in range); what parses formats back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/keys/sheet.h"

static void one(const char *data, size_t size)
{
    bkp_sheet s;
    bkp_sheet_why why;
    int line;
    char text[BKP_SHEET_TEXT_MAX];
    int rc = bkp_sheet_parse_why(data, size, &s, &why);
    if (rc == 0) {
        /* What parses formats back to a sheet that parses to the same. */
        bkp_sheet again;
        if (why.fault != BKP_SHEET_FAULT_NONE || bkp_sheet_format(&s, text) != 0 ||
            bkp_sheet_parse(text, strlen(text), &again, &line) != 0 ||
            memcmp(&s, &again, sizeof(s)) != 0)
            __builtin_trap();
    } else if (why.fault == BKP_SHEET_FAULT_NONE || why.line < 0 || why.line > 5 ||
               bkp_sheet_parse(data, size, &s, &line) != rc || line != why.line) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        return 0;
    one((const char *)data, size);
    char *plain = malloc(size + 1);
    if (!plain)
        return 0;
    memcpy(plain, data, size);
    size_t n = bkp_sheet_halfwidth(plain, size);
    if (n > size)
        __builtin_trap();
    one(plain, n);
    free(plain);
    return 0;
}
