/*
 * sheet.c — a secret as typed text and back (sheet.h, FORMAT §9d).
 *
 * Why the line check is a sum and not only a hash: two characters of a hash
 * would miss one typing mistake in a thousand, and a sheet is typed back after
 * a disaster, when a missed mistake costs the recovery. The first check
 * character is the line number plus the sum of the line's character values,
 * modulo 32: any one substituted character changes it, always, and so does a
 * line moved to another place (the sheet has fewer than 32 lines). The second
 * is five bits of BLAKE2b over the line number and the characters, which
 * catches most other mistakes (two characters swapped, two changed); the
 * sheet's checksum in the header catches what is left.
 */
#include "bkp/keys/sheet.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/io/bytes.h"

/* Crockford's base32 alphabet: no I, L, O, U. */
static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
#define CHARS ((BKP_SHEET_SECRET_LEN * 8 + 4) / 5) /* 52 */
#define PER_LINE 16
#define GROUP 4
#define LINES ((CHARS + PER_LINE - 1) / PER_LINE) /* 4 */
#define SUM_CHARS 8

/* A typed character's value. As Crockford's decoding has it, the letters
 * the sheet never prints read as the digits they are mistaken for: O as
 * 0, I and L as 1 (the line's check characters still catch a wrong one). */
static int value_of(int ch)
{
    int up = toupper((unsigned char)ch);
    if (up == 'O')
        return 0;
    if (up == 'I' || up == 'L')
        return 1;
    const char *p = ch ? strchr(ALPHABET, up) : NULL;
    return p ? (int)(p - ALPHABET) : -1;
}

static void encode(const uint8_t *in, size_t n, char *out, size_t chars)
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8 | in[i]) & 0xffff;
        bits += 8;
        while (bits >= 5 && o < chars) {
            bits -= 5;
            out[o++] = ALPHABET[(acc >> bits) & 31];
        }
    }
    if (bits > 0 && o < chars)
        out[o++] = ALPHABET[(acc << (5 - bits)) & 31];
}

/* Decode `chars` values into `n` bytes; -EBADMSG when the padding bits are not 0. */
static int decode(const uint8_t *vals, size_t chars, uint8_t *out, size_t n)
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < chars; i++) {
        acc = (acc << 5 | vals[i]) & 0xffff;
        bits += 5;
        if (bits >= 8 && o < n) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o == n && (acc & ((1u << bits) - 1)) == 0 ? 0 : -EBADMSG;
}

/* The two check characters of line `line` (1..) with character values `v`. */
static void line_check(int line, const uint8_t *v, size_t nv, uint8_t check[2])
{
    unsigned sum = (unsigned)line;
    for (size_t i = 0; i < nv; i++)
        sum += v[i];
    uint8_t h[16], l = (uint8_t)line;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const uint8_t *)"bkp-sheet-line", 14);
    crypto_generichash_update(&st, &l, 1);
    crypto_generichash_update(&st, v, nv);
    crypto_generichash_final(&st, h, sizeof(h));
    check[0] = (uint8_t)(sum & 31);
    check[1] = h[0] & 31;
}

/* The checksum of the whole sheet: what the header names and the secret. */
static void sheet_sum(const bkp_sheet *s, char out[SUM_CHARS])
{
    uint8_t h[32], meta[4] = {(uint8_t)s->kind, s->index, s->n, s->k};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const uint8_t *)"bkp-sheet-v1", 12);
    crypto_generichash_update(&st, meta, sizeof(meta));
    crypto_generichash_update(&st, s->repo_id, sizeof(s->repo_id));
    crypto_generichash_update(&st, s->secret, sizeof(s->secret));
    crypto_generichash_final(&st, h, sizeof(h));
    encode(h, 5, out, SUM_CHARS);
    sodium_memzero(h, sizeof(h));
}

void bkp_sheet_sum_text(const bkp_sheet *s, char out[BKP_SHEET_SUM_LEN])
{
    sheet_sum(s, out);
    out[SUM_CHARS] = '\0';
}

static int valid_numbers(const bkp_sheet *s)
{
    if (s->kind == BKP_SHEET_PAPER)
        return s->index == 0 && s->n == 0 && s->k == 0;
    return s->kind == BKP_SHEET_SHARE && s->k >= 2 && s->k <= s->n && s->index >= 1 &&
           s->index <= s->n;
}

int bkp_sheet_format(const bkp_sheet *s, char out[BKP_SHEET_TEXT_MAX])
{
    if (!valid_numbers(s))
        return -EINVAL;
    char uuid[37], sum[SUM_CHARS], chars[CHARS];
    uint8_t vals[CHARS];
    uuid_unparse_lower(s->repo_id, uuid);
    sheet_sum(s, sum);
    out[0] = '\0';
    if (s->kind == BKP_SHEET_PAPER)
        bkp_strappend(out, BKP_SHEET_TEXT_MAX, "BKP-SHEET 1 PAPER");
    else
        bkp_strappend(out, BKP_SHEET_TEXT_MAX, "BKP-SHEET 1 SHARE %u OF %u NEED %u", s->index,
                      s->n, s->k);
    bkp_strappend(out, BKP_SHEET_TEXT_MAX, " REPO %s SUM %.4s %.4s\n", uuid, sum, sum + 4);
    encode(s->secret, sizeof(s->secret), chars, CHARS);
    for (size_t i = 0; i < CHARS; i++)
        vals[i] = (uint8_t)value_of(chars[i]);
    for (int line = 1; line <= LINES; line++) {
        size_t at = (size_t)(line - 1) * PER_LINE;
        size_t nv = CHARS - at < PER_LINE ? CHARS - at : PER_LINE;
        uint8_t check[2];
        bkp_strappend(out, BKP_SHEET_TEXT_MAX, "%d:", line);
        for (size_t g = 0; g < nv; g += GROUP)
            bkp_strappend(out, BKP_SHEET_TEXT_MAX, " %.*s", (int)(nv - g < GROUP ? nv - g : GROUP),
                          chars + at + g);
        line_check(line, vals + at, nv, check);
        bkp_strappend(out, BKP_SHEET_TEXT_MAX, "  %c%c\n", ALPHABET[check[0]], ALPHABET[check[1]]);
    }
    sodium_memzero(chars, sizeof(chars));
    sodium_memzero(vals, sizeof(vals));
    return 0;
}

/* One line of characters: "[N:] XXXX XXXX ... CC" with `expect` characters
 * before the two check characters; their values into `vals`. 0, or what is
 * wrong in `*why` (its fault; non-zero). */
static int parse_line(const char *p, size_t n, int line, uint8_t *vals, size_t expect,
                      bkp_sheet_why *why)
{
    *why = (bkp_sheet_why){.line = line, .want = (int)expect + 2};
    const char *colon = memchr(p, ':', n);
    if (colon) {
        int label = 0, digits = 0;
        for (const char *q = p; q < colon; q++) {
            if (isdigit((unsigned char)*q) && digits < 3) {
                label = label * 10 + (*q - '0');
                digits++;
            } else if (!isspace((unsigned char)*q)) {
                return why->fault = BKP_SHEET_FAULT_LABEL;
            }
        }
        if (label != line)
            return why->fault = BKP_SHEET_FAULT_LABEL;
        n -= (size_t)(colon + 1 - p);
        p = colon + 1;
    }
    uint8_t got[PER_LINE + 2];
    size_t ng = 0;
    size_t count = 0; /* every character typed, to say how many */
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)p[i]))
            continue;
        int v = value_of(p[i]);
        if (v < 0) {
            why->ch = p[i];
            return why->fault = BKP_SHEET_FAULT_CHAR;
        }
        if (ng < expect + 2)
            got[ng++] = (uint8_t)v;
        count++;
    }
    uint8_t check[2];
    why->got = (int)count;
    if (count != expect + 2)
        return why->fault = count < expect + 2 ? BKP_SHEET_FAULT_SHORT : BKP_SHEET_FAULT_LONG;
    line_check(line, got, expect, check);
    if (check[0] != got[expect] || check[1] != got[expect + 1])
        return why->fault = BKP_SHEET_FAULT_CHECK;
    memcpy(vals, got, expect);
    sodium_memzero(got, sizeof(got));
    return 0;
}

static int parse_number(const char *tok, uint8_t *out)
{
    char *end;
    unsigned long v = tok ? strtoul(tok, &end, 10) : 0;
    if (!tok || !isdigit((unsigned char)*tok) || *end || v < 1 || v > BKP_SHEET_SHARES_MAX)
        return -EBADMSG;
    *out = (uint8_t)v;
    return 0;
}

/* The header's words (lower-cased, in `buf`); the sum's characters into `sum`. */
static int parse_header(char *buf, bkp_sheet *s, char sum[SUM_CHARS])
{
    char *save = NULL, *t[16];
    int nt = 0;
    for (char *w = strtok_r(buf, " \t\r\v\f", &save); w;
         w = strtok_r(NULL, " \t\r\v\f", &save)) {
        if (nt == 16)
            return -EBADMSG;
        t[nt++] = w;
    }
    int i = 3;
    if (nt < 7 || strcmp(t[0], "bkp-sheet") || strcmp(t[1], "1"))
        return -EBADMSG;
    if (strcmp(t[2], "paper") == 0) {
        s->kind = BKP_SHEET_PAPER;
    } else if (strcmp(t[2], "share") == 0 && nt >= 13 && !strcmp(t[4], "of") &&
               !strcmp(t[6], "need") && !parse_number(t[3], &s->index) &&
               !parse_number(t[5], &s->n) && !parse_number(t[7], &s->k)) {
        s->kind = BKP_SHEET_SHARE;
        i = 8;
    } else {
        return -EBADMSG;
    }
    if (!valid_numbers(s) || strcmp(t[i], "repo") || uuid_parse(t[i + 1], s->repo_id) ||
        strcmp(t[i + 2], "sum"))
        return -EBADMSG;
    size_t ns = 0;
    for (int j = i + 3; j < nt; j++)
        for (const char *c = t[j]; *c; c++) {
            if (ns == SUM_CHARS || value_of(*c) < 0)
                return -EBADMSG;
            sum[ns++] = ALPHABET[value_of(*c)];
        }
    return ns == SUM_CHARS ? 0 : -EBADMSG;
}

/* The next line of `text` that is not blank: [*p, *p + *n). 0 at the end. */
static int next_line(const char **at, const char *end, const char **p, size_t *n)
{
    while (*at < end) {
        const char *nl = memchr(*at, '\n', (size_t)(end - *at));
        const char *e = nl ? nl : end;
        *p = *at;
        *n = (size_t)(e - *at);
        *at = nl ? nl + 1 : end;
        for (size_t i = 0; i < *n; i++)
            if (!isspace((unsigned char)(*p)[i]))
                return 1;
    }
    return 0;
}

static int parse_body(const char *at, const char *end, uint8_t vals[CHARS], bkp_sheet_why *why)
{
    const char *p;
    size_t n;
    int line = 0;
    while (next_line(&at, end, &p, &n)) {
        line++;
        size_t done = (size_t)(line - 1) * PER_LINE;
        if (line > LINES) {
            *why = (bkp_sheet_why){.fault = BKP_SHEET_FAULT_EXTRA, .line = line};
            return -EBADMSG;
        }
        if (parse_line(p, n, line, vals + done, CHARS - done < PER_LINE ? CHARS - done : PER_LINE,
                       why))
            return -EBADMSG;
    }
    if (line < LINES) {
        *why = (bkp_sheet_why){.fault = BKP_SHEET_FAULT_MISSING, .line = line + 1};
        return -EBADMSG;
    }
    *why = (bkp_sheet_why){0};
    return 0;
}

int bkp_sheet_parse(const char *text, size_t len, bkp_sheet *out, int *bad_line)
{
    bkp_sheet_why why;
    int rc = bkp_sheet_parse_why(text, len, out, &why);
    *bad_line = why.line;
    return rc;
}

int bkp_sheet_parse_why(const char *text, size_t len, bkp_sheet *out, bkp_sheet_why *why)
{
    memset(out, 0, sizeof(*out));
    *why = (bkp_sheet_why){.fault = BKP_SHEET_FAULT_HEADER};
    if (len > 4 * BKP_SHEET_TEXT_MAX)
        return -EINVAL;
    const char *at = text, *end = text + len, *p;
    size_t n;
    char head[160], sum[SUM_CHARS], want[SUM_CHARS];
    uint8_t vals[CHARS];
    if (!next_line(&at, end, &p, &n) || n >= sizeof(head) || memchr(p, '\0', n))
        return -EBADMSG;
    for (size_t i = 0; i < n; i++)
        head[i] = (char)tolower((unsigned char)p[i]);
    head[n] = '\0';
    int rc = parse_header(head, out, sum);
    if (rc == 0)
        rc = parse_body(at, end, vals, why);
    if (rc == 0 && decode(vals, CHARS, out->secret, sizeof(out->secret)) != 0) {
        *why = (bkp_sheet_why){.fault = BKP_SHEET_FAULT_CHECK, .line = LINES};
        rc = -EBADMSG;
    }
    if (rc == 0) {
        sheet_sum(out, want);
        if (memcmp(want, sum, SUM_CHARS) != 0) { /* the sheet as a whole: line 0 */
            *why = (bkp_sheet_why){.fault = BKP_SHEET_FAULT_HEADER};
            rc = -EBADMSG;
        }
    }
    sodium_memzero(vals, sizeof(vals));
    if (rc)
        sodium_memzero(out, sizeof(*out));
    return rc;
}

size_t bkp_sheet_halfwidth(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)s + i;
        unsigned cp = n - i >= 3 && (u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 &&
                              (u[2] & 0xc0) == 0x80
                          ? (unsigned)(u[0] & 0x0f) << 12 | (unsigned)(u[1] & 0x3f) << 6 |
                                (u[2] & 0x3f)
                          : 0;
        if (cp >= 0xff01 && cp <= 0xff5e) {
            s[o++] = (char)(cp - 0xff01 + 0x21);
            i += 3;
        } else if (cp == 0x3000) {
            s[o++] = ' ';
            i += 3;
        } else {
            s[o++] = s[i++];
        }
    }
    return o;
}

/* ---- typing a sheet back line by line (bkp_sheet_entry) ---- */

struct bkp_sheet_entry {
    int next;       /* 0: the header; 1..LINES: that line */
    bkp_sheet head; /* from the header; the secret is filled in at the end */
    char sum[SUM_CHARS];
    uint8_t vals[CHARS];
    bkp_sheet_why why; /* of the line last refused */
};

bkp_sheet_entry *bkp_sheet_entry_new(void)
{
    bkp_sheet_entry *e = sodium_malloc(sizeof(*e));
    if (e)
        bkp_sheet_entry_reset(e);
    return e;
}

void bkp_sheet_entry_free(bkp_sheet_entry *e)
{
    if (e)
        sodium_free(e); /* wipes */
}

void bkp_sheet_entry_reset(bkp_sheet_entry *e)
{
    sodium_memzero(e, sizeof(*e));
}

int bkp_sheet_entry_next(const bkp_sheet_entry *e)
{
    return e->next;
}

bkp_sheet_why bkp_sheet_entry_why(const bkp_sheet_entry *e)
{
    return e->why;
}

int bkp_sheet_entry_header(const bkp_sheet_entry *e, bkp_sheet *out)
{
    if (e->next == 0)
        return -ENOENT;
    *out = e->head;
    memset(out->secret, 0, sizeof(out->secret));
    return 0;
}

int bkp_sheet_entry_add(bkp_sheet_entry *e, const char *line, size_t n, bkp_sheet *out)
{
    const char *at = line, *p;
    size_t len;
    if (!next_line(&at, line + n, &p, &len))
        return 1; /* a blank line: nothing typed yet */
    if (len >= 160 || memchr(p, '\0', len))
        return -EBADMSG;
    if (e->next == 0) {
        char head[160];
        for (size_t i = 0; i < len; i++)
            head[i] = (char)tolower((unsigned char)p[i]);
        head[len] = '\0';
        if (parse_header(head, &e->head, e->sum)) {
            bkp_sheet_entry_reset(e);
            return -EBADMSG;
        }
        e->next = 1;
        return 1;
    }
    size_t done = (size_t)(e->next - 1) * PER_LINE;
    if (parse_line(p, len, e->next, e->vals + done,
                   CHARS - done < PER_LINE ? CHARS - done : PER_LINE, &e->why))
        return -EBADMSG;
    e->why = (bkp_sheet_why){0};
    if (++e->next <= LINES)
        return 1;
    /* Every line checked: the sheet's checksum catches what the line checks
     * cannot (two mistakes that cancel out, a header of another sheet). */
    char want[SUM_CHARS];
    bkp_sheet s = e->head;
    int rc = decode(e->vals, CHARS, s.secret, sizeof(s.secret));
    if (rc == 0) {
        sheet_sum(&s, want);
        rc = memcmp(want, e->sum, SUM_CHARS) ? -EBADMSG : 0;
    }
    if (rc == 0)
        *out = s;
    sodium_memzero(&s, sizeof(s));
    bkp_sheet_entry_reset(e);
    return rc;
}
