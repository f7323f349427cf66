/* Fuzz target: outside text made safe (text.h), and full-width forms
 * folded. Whatever the bytes, the
 * result is valid UTF-8 with no control character a terminal acts on (a
 * field: none at all; a message: newlines and tabs only), and the quick
 * test agrees with the escaping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *in, int how)
{
    char *out = bkp_text_safe(in, how);
    if (!out)
        return;
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        if ((*p < 0x20 && !(how == BKP_TEXT_LINES && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
            abort(); /* a control byte got through */
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            abort(); /* a C1 control got through */
        if (*p >= 0x80) { /* a whole UTF-8 sequence, or a bug */
            size_t n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
            if (!n)
                abort();
            for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xc0) != 0x80)
                    abort();
            p += n - 1;
        }
    }
    if (bkp_text_is_safe(in, how) != !strcmp(in, out))
        abort();
    free(out);
}

/* A generation's name folded to ASCII (bkp_halfwidth): never longer, two
 * bytes shorter per form turned, and nothing left to turn. */
static void check_halfwidth(const char *in)
{
    char *s = strdup(in);
    if (!s)
        return;
    size_t turned = bkp_halfwidth(s);
    if (strlen(s) + 2 * turned != strlen(in) || bkp_halfwidth(s) != 0)
        abort();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check(s, BKP_TEXT_FIELD);
    check(s, BKP_TEXT_LINES);
    check_halfwidth(s);
    free(s);
    return 0;
}
