/* pubkey.c — the public key's fingerprint, and reading it back (pubkey.h). */
#include "bkp/keys/pubkey.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

void bkp_pubkey_fingerprint(const uint8_t pk[32], char out[BKP_FINGERPRINT_LEN])
{
    char hex[65];
    bkp_hex(hex, pk, 32);
    out[0] = '\0';
    for (int i = 0; i < 16; i++)
        bkp_strappend(out, BKP_FINGERPRINT_LEN, "%s%.4s", i ? " " : "", hex + 4 * i);
}

void bkp_pubkey_fingerprint_short(const char *fingerprint, char out[BKP_FINGERPRINT_SHORT_LEN])
{
    snprintf(out, BKP_FINGERPRINT_SHORT_LEN, "%.19s", fingerprint ? fingerprint : "");
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool blank(const char *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(l[i]))
            return false;
    return true;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Line `l` (`n` bytes) as groups of four hex digits, appended to `hex`
 * (`*got` digits so far): 1 when it is such a line and they fit in 64; 0
 * when it is another line; -1 when it is groups that do not fit. */
static int groups_of(const char *l, size_t n, char *hex, size_t *got)
{
    size_t i = 0, add = 0;
    char g[72];
    while (i < n) {
        while (i < n && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i == n)
            break;
        if (i + 4 > n || !is_hex(l[i]) || !is_hex(l[i + 1]) || !is_hex(l[i + 2]) ||
            !is_hex(l[i + 3]) || (i + 4 < n && !is_space(l[i + 4])))
            return 0;
        if (add + 4 > sizeof(g))
            return -1;
        memcpy(g + add, l + i, 4);
        add += 4;
        i += 4;
    }
    if (!add)
        return 0;
    if (*got + add > 64)
        return -1;
    memcpy(hex + *got, g, add);
    *got += add;
    return 1;
}

/* A line of nothing but hex digits and white space (with a digit): a
 * group line mistyped, never a heading to leave aside. */
static bool keyish(const char *l, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        if (!is_hex(l[i]) && !is_space(l[i]))
            return false;
        digit |= is_hex(l[i]);
    }
    return digit;
}

int bkp_pubkey_parse(const char *text, size_t len, uint8_t pk[32])
{
    char hex[65];
    size_t n = 0;
    while (len && is_space(*text)) {
        text++;
        len--;
    }
    while (len && is_space(text[len - 1]))
        len--;
    /* The key as 64 digits; or its fingerprint as printed, in groups of
     * four — on one line, or on the lines `bkp key fingerprint` prints, with
     * the lines around them that are words (its heading, its short form)
     * left aside. Exactly sixteen groups, each of four digits, and no line
     * of digits besides: a mistyped, truncated or doubled key never passes
     * for another one's shape, to be blamed on the repository. */
    if (len == 64) {
        memcpy(hex, text, 64);
        n = 64;
    } else {
        const char *l = text, *end = text + len;
        while (l < end) {
            const char *nl = memchr(l, '\n', (size_t)(end - l));
            size_t ll = nl ? (size_t)(nl - l) : (size_t)(end - l);
            if (ll && l[ll - 1] == '\r')
                ll--;
            int g = groups_of(l, ll, hex, &n);
            if (g < 0 || (g == 0 && (keyish(l, ll) || (n > 0 && n < 64 && !blank(l, ll)))))
                return -EINVAL;
            l = nl ? nl + 1 : end;
        }
        if (n != 64)
            return -EINVAL;
    }
    hex[n] = '\0';
    uint8_t k[32];
    if (bkp_unhex(k, 32, hex) != 0) /* a NUL among the digits fails here too */
        return -EINVAL;
    memcpy(pk, k, 32);
    return 0;
}

int bkp_pubkey_from_arg(const char *option, const char *arg, uint8_t pk[32])
{
    if (bkp_pubkey_parse(arg, strlen(arg), pk) == 0)
        return 0;
    bkp_buf data;
    bkp_buf_init(&data);
    int rc = bkp_read_file(arg, &data, BKP_PUBKEY_FILE_MAX);
    if (rc == -ENOENT) {
        bkp_error(
            _("%s %s: neither a public key (64 hex digits, as `bkp key fingerprint` "
              "prints them) nor a file; give the key you pinned, or the file you keep it in"),
            option, arg);
    } else if (rc) {
        bkp_error(_("%s %s: %s; give a file of one line holding the 64 hex digits of the "
                    "key"),
                  option, arg,
                  rc == -EFBIG     ? _("too large for a key file")
                  : rc == -EBADMSG ? _("not a regular file")
                                   : bkp_strerror(rc));
        rc = rc == -ENOMEM ? rc : -EINVAL;
    } else if (bkp_pubkey_parse((const char *)data.data, data.len, pk) != 0) {
        bkp_error(_("%s %s: the file does not hold a public key: 64 hex digits, or the "
                    "fingerprint as `bkp key fingerprint` prints it (sixteen groups of four "
                    "digits), is expected"),
                  option, arg);
        rc = -EINVAL;
    }
    bkp_buf_free(&data);
    return rc;
}
