/*
 * shares.h — split custody: the master secret as N shares of which any K
 * give it back and fewer reveal nothing (Shamir's scheme over GF(2^8), by
 * libgfshare, its randomness from libsodium). Each share travels as a share
 * sheet (sheet.h), which names its number, K, N and the repository.
 */
#ifndef BKP_SHARES_H
#define BKP_SHARES_H

#include <stddef.h>
#include <stdint.h>

#include "bkp/keys/sheet.h"

/* Split `secret` of repository `repo_id` into `n` share sheets `out[0..n-1]`
 * (numbers 1..n), any `k` of which give it back: 2 <= k <= n <= 255, else
 * -EINVAL; -ENOMEM. The caller wipes `out`. */
int bkp_shares_split(const uint8_t secret[BKP_SHEET_SECRET_LEN], const uint8_t repo_id[16],
                     unsigned k, unsigned n, bkp_sheet *out);

/* The `why` of too few shares, for a caller that says how many it has. */
extern const char bkp_shares_too_few[];

/* The secret from `count` parsed share sheets: 0, or -EINVAL with `*why`
 * (a static text, English, in the catalogue) when they are not shares, not all of one repository with
 * the same K and N, fewer than the sheets' K, or two of them carry the same
 * number. Only the first K are used. Shares of two splits with the same K and
 * N cannot be told apart and give another value: check the result against the
 * repository before use. The caller wipes `secret`. */
int bkp_shares_combine(const bkp_sheet *const *s, size_t count,
                       uint8_t secret[BKP_SHEET_SECRET_LEN], const char **why)
    __attribute__((warn_unused_result));

#endif
