/* text.c — outside text made safe for a terminal and a log (text.h). */
#include "bkp/io/text.h"

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"

/* The length of the valid UTF-8 sequence at `p` (1 to 4), its code point in
 * `*cp`; 0 when the bytes there are not one (overlong, a surrogate, past
 * U+10FFFF, cut short). */
static size_t utf8_at(const unsigned char *p, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0)
        n = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0; /* the NUL that ends the string included */
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* A code point shown escaped: C1 controls, those that reorder text or mark
 * its direction, the line and paragraph separators, the byte order mark. */
static bool steers(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0x061c ||
           cp == 0x2028 || cp == 0x2029 || cp == 0xfeff;
}

/* What the byte(s) at `p` become: `out` (NUL-terminated, at most 11 bytes)
 * and how many bytes of `p` they stand for. */
static size_t one(const unsigned char *p, int how, char out[12])
{
    uint32_t cp;
    size_t n = utf8_at(p, &cp);
    if (!n) {
        snprintf(out, 12, "\\x%02x", p[0]);
        return 1;
    }
    if (n == 1) {
        if ((cp == '\n' || cp == '\t') && how == BKP_TEXT_LINES) {
            out[0] = (char)cp, out[1] = '\0';
        } else if (cp == '\n' || cp == '\t' || cp == '\r') {
            snprintf(out, 12, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
        } else if (cp < 0x20 || cp == 0x7f) {
            snprintf(out, 12, "\\x%02x", (unsigned)cp);
        } else if (cp == '\\' && how == BKP_TEXT_FIELD) {
            strcpy(out, "\\\\");
        } else {
            out[0] = (char)cp, out[1] = '\0';
        }
        return 1;
    }
    if (steers(cp))
        snprintf(out, 12, "\\u{%04x}", (unsigned)cp);
    else
        memcpy(out, p, n), out[n] = '\0';
    return n;
}

bool bkp_text_is_safe(const char *s, int how)
{
    char out[12];
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p >= 0x20 && *p < 0x7f && !(*p == '\\' && how == BKP_TEXT_FIELD)) {
            p++;
            continue;
        }
        size_t n = one(p, how, out);
        if (strlen(out) != n || memcmp(out, p, n))
            return false;
        p += n;
    }
    return true;
}

char *bkp_text_safe(const char *s, int how)
{
    size_t len = strlen(s), cap = len + 1, used = 0;
    char *r = malloc(cap), out[12];
    for (const unsigned char *p = (const unsigned char *)s; r && *p;) {
        size_t n = one(p, how, out), k = strlen(out);
        if (used + k + 1 > cap) {
            cap = 2 * cap + k;
            char *g = realloc(r, cap);
            if (!g) {
                free(r);
                return NULL;
            }
            r = g;
        }
        memcpy(r + used, out, k);
        used += k;
        p += n;
    }
    if (r)
        r[used] = '\0';
    return r;
}

void bkp_text_put(FILE *f, const char *s, int how)
{
    char out[12];
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = one(p, how, out);
        fputs(out, f);
        p += n;
    }
}

char *bkp_bytes_text(const char *s)
{
    bkp_buf b;
    bkp_buf_init(&b);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_at(p, &cp);
        if (n && !(n == 1 && *p == '\\')) {
            bkp_buf_put(&b, p, n);
            p += n;
        } else {
            char esc[5];
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            bkp_buf_put(&b, *p == '\\' ? "\\\\" : esc, *p == '\\' ? 2 : 4);
            p++;
        }
    }
    bkp_buf_put(&b, "", 1);
    if (b.failed) {
        bkp_buf_free(&b);
        return NULL;
    }
    return (char *)b.data; /* the buffer's, handed over */
}

static int hex_digit(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *bkp_text_bytes(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    for (const char *p = s; out && *p; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        int hi = p[1] == 'x' ? hex_digit((unsigned char)p[2]) : -1;
        int lo = hi >= 0 ? hex_digit((unsigned char)p[3]) : -1;
        if (p[1] == '\\') {
            *o++ = '\\';
            p++;
        } else if (lo >= 0 && (hi || lo)) {
            *o++ = (char)(hi * 16 + lo);
            p += 3;
        } else {
            free(out);
            errno = EINVAL;
            return NULL;
        }
    }
    if (out)
        *o = '\0';
    return out;
}

const char *bkp_user_name(char *buf, size_t n)
{
    struct passwd pw, *found = NULL;
    char tmp[1024];
    if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &found) || !found ||
        (size_t)snprintf(buf, n, "%s", pw.pw_name) >= n)
        snprintf(buf, n, "?");
    return buf;
}

const char *bkp_size_text(char *buf, size_t n, uint64_t bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, n, "%.1f %s", v, unit[u]);
    return buf;
}

size_t bkp_halfwidth(char *s)
{
    size_t turned = 0;
    unsigned char *r = (unsigned char *)s, *w = r;
    while (*r) {
        unsigned cp = 0;
        if (r[0] == 0xEF && (r[1] == 0xBC || r[1] == 0xBD) && r[2] >= 0x80 && r[2] <= 0xBF)
            cp = 0xFF00u + (r[1] == 0xBD ? 0x40u : 0) + (r[2] - 0x80u);
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            *w++ = (unsigned char)(cp - 0xFEE0u);
            r += 3;
            turned++;
        } else if (r[0] == 0xE3 && r[1] == 0x80 && r[2] == 0x80) {
            *w++ = ' ';
            r += 3;
            turned++;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return turned;
}

const char *bkp_names_join(char *buf, size_t n, const char *const *names, size_t k, bool more)
{
    size_t used = 0;
    if (!n)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        size_t need = strlen(names[i]) + (used ? 2 : 0);
        if (used + need + sizeof(", ...") >= n) { /* room for ", ..." is kept */
            more = true;
            break;
        }
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "", names[i]);
    }
    if (more)
        snprintf(buf + used, n - used, "%s", used ? ", ..." : "...");
    return buf;
}

void bkp_name_typed(char *s)
{
    (void)bkp_halfwidth(s);
    size_t lead = strspn(s, " "), l = strlen(s);
    while (l > lead && s[l - 1] == ' ')
        l--;
    memmove(s, s + lead, l - lead);
    s[l - lead] = '\0';
}

const char *bkp_shell_word(char *buf, size_t n, const char *s)
{
    size_t l = strlen(s);
    if (l &&
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%=,") ==
            l) {
        snprintf(buf, n, "%s", s);
        return buf;
    }
    size_t o = 0;
    if (n < 3) {
        if (n)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '\'';
    for (; *s && o + 5 < n; s++) {
        if (*s == '\'') {
            memcpy(buf + o, "'\\''", 4);
            o += 4;
        } else {
            buf[o++] = *s;
        }
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}
