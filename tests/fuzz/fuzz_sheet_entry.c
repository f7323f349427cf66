/* Fuzz target: a sheet typed line by line (bkp_sheet_entry, bkp/keys/sheet.h) —
 * what `--key-from -` reads from a terminal. Each line of the input is one
 * line typed. A sheet the entry completes must be one the whole-text parser
 * reads to the same, and what to type next is always the header or a line. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "bkp/keys/sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        return 0;
    bkp_sheet_entry *e = bkp_sheet_entry_new();
    if (!e)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        bkp_sheet s, again;
        char text[BKP_SHEET_TEXT_MAX];
        int line;
        int rc = bkp_sheet_entry_add(e, p, n, &s);
        if (rc == 0 && (bkp_sheet_format(&s, text) != 0 ||
                        bkp_sheet_parse(text, strlen(text), &again, &line) != 0 ||
                        memcmp(&s, &again, sizeof(s)) != 0))
            __builtin_trap();
        if (rc != 0 && rc != 1 && rc != -22 && rc != -74) /* -EINVAL, -EBADMSG */
            __builtin_trap();
        int next = bkp_sheet_entry_next(e);
        if (next < 0 || next > BKP_SHEET_LINES)
            __builtin_trap();
        p = nl ? nl + 1 : end;
    }
    bkp_sheet_entry_free(e);
    return 0;
}
