/*
 * sheet_read — a test tool: read the key sheets in printed documents (the
 * files `bkp key export --paper` and `bkp key split` write) and print the
 * secret they give, in hex: a paper sheet's, or the master secret combined
 * from share sheets. Exit 1 with the line of a mistake, or why the shares do
 * not combine. The end-to-end scenario compares the two on real files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/keys/shares.h"
#include "bkp/keys/sheet.h"

/* The sheet's text in a document: from "BKP-SHEET" to the end of the block. */
static int read_sheet(const char *path, bkp_sheet *s)
{
    bkp_buf b;
    bkp_buf_init(&b);
    if (bkp_read_file(path, &b, 1 << 20) != 0) {
        fprintf(stderr, "%s: cannot read\n", path);
        return -1;
    }
    bkp_buf_u8(&b, 0);
    char *start = strstr((char *)b.data, "BKP-SHEET"), *end = start ? strstr(start, "```") : NULL;
    if (start && !end)
        end = strstr(start, "</pre>");
    int line, rc = start && end ? bkp_sheet_parse(start, (size_t)(end - start), s, &line) : -1;
    if (rc)
        fprintf(stderr, "%s: %s%d\n", path, start && end ? "mistake on line " : "no sheet ",
                start && end ? line : 0);
    sodium_memzero(b.data, b.len);
    bkp_buf_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    static bkp_sheet s[BKP_SHEET_SHARES_MAX];
    const bkp_sheet *p[BKP_SHEET_SHARES_MAX];
    uint8_t secret[32];
    char hex[65];
    const char *why = NULL;
    if (sodium_init() < 0 || argc < 2 || argc - 1 > BKP_SHEET_SHARES_MAX)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (read_sheet(argv[i], &s[i - 1]))
            return 1;
        p[i - 1] = &s[i - 1];
    }
    if (argc == 2 && s[0].kind == BKP_SHEET_PAPER)
        memcpy(secret, s[0].secret, 32);
    else if (bkp_shares_combine(p, (size_t)argc - 1, secret, &why)) {
        fprintf(stderr, "the shares do not combine: %s\n", why);
        return 1;
    }
    bkp_hex(hex, secret, 32);
    printf("%s\n", hex);
    return 0;
}
