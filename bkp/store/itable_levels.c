/* The index's tables and their manifest: itable_levels.h says what and why. */
#include "bkp/store/itable_levels.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/io/bytes.h"

#define MAGIC "BKPILV01"
#define REC 24

void bkp_itable_name(const uint8_t tid[16], char out[BKP_ITABLE_NAME_LEN])
{
    memcpy(out, BKP_ITABLE_PREFIX, 12);
    bkp_hex(out + 12, tid, 16);
}

int bkp_itable_name_parse(const char *name, uint8_t tid[16])
{
    if (strncmp(name, BKP_ITABLE_PREFIX, 12) || strlen(name) != 12 + 32)
        return 0;
    for (const char *p = name + 12; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return bkp_unhex(tid, 16, name + 12) == 0;
}

static void manifest_mac(const uint8_t key[32], const uint8_t *data, size_t len, uint8_t out[32])
{
    static const char label[] = "bkp index levels"; /* and its terminator */
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, 32);
}

size_t bkp_itable_manifest_size(uint32_t n)
{
    return 8 + 4 + (size_t)n * REC + 32;
}

void bkp_itable_manifest_encode(const uint8_t key[32], const bkp_itable_level *v, uint32_t n,
                                uint8_t *out)
{
    memcpy(out, MAGIC, 8);
    bkp_le32(out + 8, n);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(out + 12 + (size_t)i * REC, v[i].tid, 16);
        bkp_le64(out + 12 + (size_t)i * REC + 16, v[i].count);
    }
    size_t len = bkp_itable_manifest_size(n) - 32;
    manifest_mac(key, out, len, out + len);
}

int bkp_itable_manifest_decode(const uint8_t *data, size_t len, const uint8_t key[32],
                               bkp_itable_level **v, uint32_t *n)
{
    uint8_t m[32];
    if (len < bkp_itable_manifest_size(0) || memcmp(data, MAGIC, 8))
        return -EBADMSG;
    uint32_t k = bkp_get_le32(data + 8);
    if (k > BKP_ITABLE_LEVELS_MAX || len != bkp_itable_manifest_size(k))
        return -EBADMSG;
    manifest_mac(key, data, len - 32, m);
    if (sodium_memcmp(m, data + len - 32, 32))
        return -EBADMSG;
    bkp_itable_level *out = calloc((size_t)k + 1, sizeof(*out));
    if (!out)
        return -ENOMEM;
    for (uint32_t i = 0; i < k; i++) {
        memcpy(out[i].tid, data + 12 + (size_t)i * REC, 16);
        out[i].count = bkp_get_le64(data + 12 + (size_t)i * REC + 16);
        for (uint32_t j = 0; j < i; j++)
            if (!memcmp(out[j].tid, out[i].tid, 16)) { /* one table listed twice */
                free(out);
                return -EBADMSG;
            }
    }
    *v = out;
    *n = k;
    return 0;
}

int bkp_itable_manifest_load(const char *dir, const uint8_t key[32], bkp_itable_level **v,
                             uint32_t *n)
{
    bkp_buf b;
    char *p = bkp_path_join(dir, BKP_ITABLE_MANIFEST);
    bkp_buf_init(&b);
    int rc = p ? bkp_read_file(p, &b, bkp_itable_manifest_size(BKP_ITABLE_LEVELS_MAX)) : -ENOMEM;
    if (rc == -EFBIG)
        rc = -EBADMSG;
    if (!rc)
        rc = bkp_itable_manifest_decode(b.data, b.len, key, v, n);
    bkp_buf_free(&b);
    free(p);
    return rc;
}

int bkp_itable_manifest_save(const char *dir, const uint8_t key[32], const bkp_itable_level *v,
                             uint32_t n)
{
    uint8_t buf[8 + 4 + BKP_ITABLE_LEVELS_MAX * REC + 32];
    if (n > BKP_ITABLE_LEVELS_MAX)
        return -EINVAL;
    bkp_itable_manifest_encode(key, v, n, buf);
    return bkp_durable_write(dir, BKP_ITABLE_MANIFEST, buf, bkp_itable_manifest_size(n),
                             BKP_DURABLE_PRIVATE);
}

/* Class k: fewer than unit × FANOUT^(k+1) entries. */
static unsigned size_class(uint64_t count, uint64_t unit)
{
    unsigned k = 0;
    for (uint64_t top = unit * BKP_ITABLE_LEVELS_FANOUT; count >= top && k < 40; k++)
        top = top > UINT64_MAX / BKP_ITABLE_LEVELS_FANOUT ? UINT64_MAX
                                                          : top * BKP_ITABLE_LEVELS_FANOUT;
    return k;
}

/*
 * Merge the newest run of tables of the young table's class or below while,
 * with it, they are FANOUT or more; the merged table may then make a run of
 * the next class, merged in the same write (no table is written twice in a
 * row). Classes never increase from the oldest table to the newest, since
 * FANOUT tables of class k hold fewer than unit × FANOUT^(k+2) entries.
 */
uint32_t bkp_itable_levels_plan(const uint64_t *counts, uint32_t n, uint64_t add, uint64_t unit)
{
    uint32_t k = 0; /* tables taken, from the newest */
    uint64_t sum = add;
    if (!unit)
        unit = 1;
    for (;;) {
        unsigned cls = size_class(sum, unit);
        uint32_t j = k;
        while (j < n && size_class(counts[n - 1 - j], unit) <= cls)
            j++;
        if (j - k + 1 < BKP_ITABLE_LEVELS_FANOUT || j == k)
            break;
        for (; k < j; k++)
            sum += counts[n - 1 - k];
    }
    /* A bound on the tables (and on the manifest) whatever the counts. */
    if (n - k + 1 > BKP_ITABLE_LEVELS_MAX - 1)
        k = n;
    return k;
}
