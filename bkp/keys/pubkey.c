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

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The groups of four hex digits of line `l` (`n` bytes) appended to `hex`
 * (`*got` digits so far, at most 64): false, adding nothing, when the line
 * is anything else (a heading, a short fingerprint with its words, a group
 * mistyped). */
static bool groups_of(const char *l, size_t n, char *hex, size_t *got)
{
    size_t i = 0, add = 0;
    char g[64];
    while (i < n) {
        while (i < n && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i == n)
            break;
        if (i + 4 > n || !is_hex(l[i]) || !is_hex(l[i + 1]) || !is_hex(l[i + 2]) ||
            !is_hex(l[i + 3]) || (i + 4 < n && !is_space(l[i + 4])) || add + 4 > sizeof(g))
            return false;
        memcpy(g + add, l + i, 4);
        add += 4;
        i += 4;
    }
    if (!add || *got + add > 64)
        return false;
    memcpy(hex + *got, g, add);
    *got += add;
    return true;
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
     * the lines around them that are not groups left aside. Exactly sixteen
     * groups, each of four digits: a mistyped or truncated key never passes
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
            if (!groups_of(l, ll, hex, &n) && n > 0 && n < 64) {
                /* a line that is not groups between groups: a broken key */
                bool any = false;
                for (size_t i = 0; i < ll; i++)
                    any |= !is_space(l[i]);
                if (any)
                    return -EINVAL;
            }
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
                  rc == -EFBIG     ? "too large for a key file"
                  : rc == -EBADMSG ? "not a regular file"
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
