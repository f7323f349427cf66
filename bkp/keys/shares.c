/*
 * shares.c — Shamir's secret sharing of the master secret (shares.h).
 *
 * libgfshare draws the random coefficients of the polynomials through its
 * global gfshare_fill_rand, which it leaves unset (its fallback is random(),
 * which is predictable): every split sets it to libsodium's generator first,
 * and so does every combination, because freeing a context overwrites its
 * copies of the secret and shares through the same function.
 * The shares' numbers are 1..n; libgfshare's calls take a position in the
 * array of numbers, not the number itself.
 */
#include "bkp/io/i18n.h"
#include "bkp/keys/shares.h"

#include <errno.h>
#include <string.h>

#include <libgfshare.h>
#include <sodium.h>

static void fill_rand(unsigned char *p, unsigned int n)
{
    randombytes_buf(p, n);
}

int bkp_shares_split(const uint8_t secret[BKP_SHEET_SECRET_LEN], const uint8_t repo_id[16],
                     unsigned k, unsigned n, bkp_sheet *out)
{
    if (k < 2 || k > n || n > BKP_SHEET_SHARES_MAX)
        return -EINVAL;
    unsigned char nrs[BKP_SHEET_SHARES_MAX], buf[BKP_SHEET_SECRET_LEN];
    for (unsigned i = 0; i < n; i++)
        nrs[i] = (unsigned char)(i + 1);
    gfshare_fill_rand = fill_rand;
    gfshare_ctx *g = gfshare_ctx_init_enc(nrs, n, (unsigned char)k, BKP_SHEET_SECRET_LEN);
    if (!g)
        return -ENOMEM;
    memcpy(buf, secret, sizeof(buf));
    gfshare_ctx_enc_setsecret(g, buf);
    sodium_memzero(buf, sizeof(buf));
    for (unsigned i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].kind = BKP_SHEET_SHARE;
        memcpy(out[i].repo_id, repo_id, 16);
        out[i].index = nrs[i];
        out[i].n = (uint8_t)n;
        out[i].k = (uint8_t)k;
        gfshare_ctx_enc_getshare(g, (unsigned char)i, out[i].secret);
    }
    gfshare_ctx_free(g); /* overwrites its copy of the secret and coefficients */
    return 0;
}

const char bkp_shares_too_few[] = N_("fewer shares than the split needs");

static const char *check_set(const bkp_sheet *const *s, size_t count)
{
    if (count == 0)
        return N_("no share sheet");
    for (size_t i = 0; i < count; i++) {
        if (s[i]->kind != BKP_SHEET_SHARE)
            return N_("a paper sheet is not a share: give either the paper sheet alone or shares");
        if (memcmp(s[i]->repo_id, s[0]->repo_id, 16) || s[i]->k != s[0]->k || s[i]->n != s[0]->n)
            return N_("the shares come from different repositories, or from splits of a "
                      "different K of N; use the sheets of the newest split only, by the date "
                      "printed on each");
        for (size_t j = 0; j < i; j++)
            if (s[j]->index == s[i]->index)
                return sodium_memcmp(s[j]->secret, s[i]->secret, BKP_SHEET_SECRET_LEN)
                           ? N_("two different sheets carry the same number: they come from "
                                "two different splits (a split made again gives new sheets, "
                                "and the old ones no longer fit with them); use the sheets of "
                                "the newest split only, by the date printed on each")
                           : N_("the same share was given twice");
    }
    if (count < s[0]->k)
        return bkp_shares_too_few;
    return NULL;
}

int bkp_shares_combine(const bkp_sheet *const *s, size_t count,
                       uint8_t secret[BKP_SHEET_SECRET_LEN], const char **why)
{
    if ((*why = check_set(s, count)))
        return -EINVAL;
    unsigned k = s[0]->k;
    gfshare_fill_rand = fill_rand;
    unsigned char nrs[BKP_SHEET_SHARES_MAX], buf[BKP_SHEET_SECRET_LEN];
    for (unsigned i = 0; i < k; i++)
        nrs[i] = s[i]->index;
    gfshare_ctx *g = gfshare_ctx_init_dec(nrs, k, BKP_SHEET_SECRET_LEN);
    if (!g) {
        *why = "out of memory";
        return -ENOMEM;
    }
    for (unsigned i = 0; i < k; i++) {
        memcpy(buf, s[i]->secret, sizeof(buf));
        gfshare_ctx_dec_giveshare(g, (unsigned char)i, buf);
    }
    sodium_memzero(buf, sizeof(buf));
    gfshare_ctx_dec_extract(g, secret);
    gfshare_ctx_free(g);
    return 0;
}
