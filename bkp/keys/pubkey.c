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
    /* Only two shapes: the key as 64 digits, or exactly as printed. Anything
     * looser (any spacing, a prefix) would let a mistyped or truncated key
     * pass for another one's shape and be blamed on the repository. */
    if (len == 64) {
        memcpy(hex, text, 64);
        n = 64;
    } else if (len == BKP_FINGERPRINT_LEN - 1) {
        for (size_t i = 0; i < len; i++) {
            if (i % 5 == 4) {
                if (text[i] != ' ')
                    return -EINVAL;
            } else {
                hex[n++] = text[i];
            }
        }
    } else {
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
        bkp_error(_("%s %s: the file does not hold a public key: one line of 64 hex "
                    "digits (or the fingerprint as `bkp key fingerprint` prints it, on one line) "
                    "is expected"),
                  option, arg);
        rc = -EINVAL;
    }
    bkp_buf_free(&data);
    return rc;
}
