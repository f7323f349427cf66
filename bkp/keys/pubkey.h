/*
 * pubkey.h — the repository's public key as people handle it: the
 * fingerprint that `bkp key fingerprint` prints and that every medium label,
 * printed procedure and evidence report carries, and the key an auditor
 * gives back with --public-key.
 *
 * The fingerprint is the Ed25519 public key itself, not a hash of it: its 64
 * hex digits in 16 groups of four. What is printed can be typed back, and an
 * auditor who pinned it off the machine needs nothing else to check every
 * signature the repository's key made — and to notice a host whose config and
 * key file were swapped for another pair.
 */
#ifndef BKP_PUBKEY_H
#define BKP_PUBKEY_H

#include <stddef.h>
#include <stdint.h>

#define BKP_FINGERPRINT_LEN 80   /* 16 groups of four digits, 15 spaces, NUL */
#define BKP_PUBKEY_FILE_MAX 4096 /* a key file holds one line: read no further */

/* The fingerprint of `pk` ("0123 4567 ... cdef", lower case) into `out`. */
void bkp_pubkey_fingerprint(const uint8_t pk[32], char out[BKP_FINGERPRINT_LEN]);

/* Its first four groups ("0123 4567 89ab cdef"), from a fingerprint as
 * above: what a person compares by eye on a medium's paper label (64 bits:
 * the machine compares the whole one, kept in the label on the medium). */
#define BKP_FINGERPRINT_SHORT_LEN 20
void bkp_pubkey_fingerprint_short(const char *fingerprint, char out[BKP_FINGERPRINT_SHORT_LEN]);

/* Parse the `len` bytes at `text` (not NUL-terminated) into `pk`: leading
 * and trailing white space is trimmed, then what is left must be exactly 64
 * hex digits, or the fingerprint as printed: 16 groups of four digits
 * separated by white space, on one line or over several (as `bkp key
 * fingerprint` prints it), lines that hold something else before or after
 * them left aside, none between them. 0, or -EINVAL (nothing logged); `pk`
 * is written only on success. */
int bkp_pubkey_parse(const char *text, size_t len, uint8_t pk[32]);

/* The key option `option` (for messages: "--public-key") names: `arg` itself when it is a key
 * (bkp_pubkey_parse), else the file `arg` names — a regular file of at most BKP_PUBKEY_FILE_MAX
 * bytes holding one key on one line. 0; -ENOENT when `arg` is not a key and
 * no such file exists; -EINVAL when the file does not hold a key (too large,
 * not a regular file, two lines, a wrong digit). Problems are logged with
 * what to give instead. */
int bkp_pubkey_from_arg(const char *option, const char *arg, uint8_t pk[32]);

#endif
