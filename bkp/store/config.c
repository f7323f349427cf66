/* config.c — the repository config: parsed with every field checked, bound
 * to the key by a MAC over its exact bytes. */
#include "bkp/store/config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/io/bytes.h"
#include "bkp/store/chunker.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"

#define CONFIG_FORMAT "bkp-repository"
#define MAC_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

static bool uuid_text_ok(const char *s)
{
    uuid_t u;
    char canon[37];
    if (strlen(s) != 36 || uuid_parse(s, u))
        return false;
    uuid_unparse_lower(u, canon);
    return !strcmp(canon, s);
}

static bool chunker_ok(json_int_t mn, json_int_t avg, json_int_t mx)
{
    /* The chunker's own rule (min < avg < max, avg a power of two) within
     * sizes a blob can hold: a forged config must not make chunks of a few
     * bytes (an index of billions) or larger than a blob may be. */
    return mn >= 4096 && mn < avg && avg < mx && mx <= 4 * (json_int_t)BKP_CHUNK_MAX &&
           (avg & (avg - 1)) == 0;
}

/* Where the MAC's hex digits are in the bytes: the one place they occur. */
static int find_mac(const uint8_t *buf, size_t len, const char *hex, size_t *at)
{
    const uint8_t *p = buf, *hit = NULL;
    size_t left = len;
    while (left >= 64) {
        const uint8_t *q = memmem(p, left, hex, 64);
        if (!q)
            break;
        if (hit)
            return -EBADMSG; /* twice: which bytes would the MAC cover? */
        hit = q;
        left -= (size_t)(q + 1 - p);
        p = q + 1;
    }
    if (!hit)
        return -EBADMSG;
    *at = (size_t)(hit - buf);
    return 0;
}

int bkp_config_parse(const uint8_t *buf, size_t len, bkp_config *out, const char **why)
{
    const char *format = NULL, *id = NULL, *pkhex = NULL, *created = NULL, *machex = NULL;
    json_int_t version = 0, mn = 0, avg = 0, mx = 0;
    const char *whynot = NULL;
    bkp_config c = {0};
    int rc = -EBADMSG;
    json_t *cfg = len <= BKP_CONFIG_MAX
                      ? json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL)
                      : NULL;
    if (!cfg) {
        whynot = len > BKP_CONFIG_MAX ? "too large" : "not valid JSON";
        goto out;
    }
    if (json_unpack(cfg, "{s:s, s:I}", "format", &format, "version", &version) ||
        strcmp(format, CONFIG_FORMAT)) {
        whynot = "not a bkp repository config";
        goto out;
    }
    if (version < 2 || version > BKP_CONFIG_VERSION) {
        whynot = version > BKP_CONFIG_VERSION ? "written by a newer bkp"
                                              : "written by an earlier bkp (format 1)";
        rc = -EPROTO;
        goto out;
    }
    if (json_unpack(cfg, "{s:s, s:s, s:s, s:{s:I, s:I, s:I !}}", "id", &id, "created", &created,
                    "sign_public", &pkhex, "chunker", "min", &mn, "avg", &avg, "max", &mx) ||
        !uuid_text_ok(id) || bkp_iso_parse(created) < 0 || strlen(created) != 20 ||
        bkp_unhex(c.sign_pk, 32, pkhex)) {
        whynot = "fields missing or of the wrong form";
        goto out;
    }
    if (!chunker_ok(mn, avg, mx) ||
        (version == 2 && (mn != BKP_CHUNK_MIN || avg != BKP_CHUNK_AVG || mx != BKP_CHUNK_MAX))) {
        whynot = "chunker sizes outside their range";
        goto out;
    }
    /* Format 4 names its chunk IDs' function; the earlier ones use keyed
     * BLAKE2b and must not name one: an earlier bkp ignores a field it does
     * not know, and would compute every ID with the wrong function. */
    json_t *idh = json_object_get(cfg, "chunk_id");
    bkp_id_hash named = BKP_ID_BLAKE2B;
    if (version == 4
            ? !json_is_string(idh) || bkp_id_hash_from_name(json_string_value(idh), &named) ||
                  named != BKP_ID_HMAC_SHA256
            : idh != NULL) {
        whynot = "chunk_id missing, unknown or out of place";
        goto out;
    }
    machex = json_string_value(json_object_get(cfg, "mac"));
    if (version == 2
            ? json_object_get(cfg, "mac") != NULL
            : !machex || bkp_unhex(c.mac, 32, machex) || find_mac(buf, len, machex, &c.mac_at)) {
        whynot = "its MAC is missing or malformed";
        goto out;
    }
    c.version = (int)version;
    c.id_hash = named;
    memcpy(c.id, id, 37);
    memcpy(c.created, created, 21);
    c.chunk[0] = (uint32_t)mn;
    c.chunk[1] = (uint32_t)avg;
    c.chunk[2] = (uint32_t)mx;
    *out = c;
    rc = 0;
out:
    if (why)
        *why = whynot;
    json_decref(cfg);
    return rc;
}

int bkp_config_check(const bkp_config *c, const uint8_t *buf, size_t len, const bkp_keys *k)
{
    uint8_t mac[32];
    if (c->version < 3)
        return -ENOKEY;
    if (c->mac_at + 64 > len)
        return -EBADMSG;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, buf, len);
    memcpy(copy + c->mac_at, MAC_ZERO, 64);
    bkp_keys_config_mac(k, mac, copy, len);
    free(copy);
    return sodium_memcmp(mac, c->mac, 32) == 0 ? 0 : -EBADMSG;
}

char *bkp_config_render(const char *id, const char *created, const uint32_t chunk[3],
                        bkp_id_hash id_hash, const bkp_keys *k, size_t *len)
{
    char pkhex[65], machex[65];
    uint8_t mac[32];
    bkp_hex(pkhex, bkp_keys_sign_pk(k), 32);
    bool hmac = id_hash == BKP_ID_HMAC_SHA256;
    json_t *cfg = json_pack("{s:s, s:i, s:s, s:s, s:{s:I, s:I, s:I}, s:s, s:s}", "format",
                            CONFIG_FORMAT, "version", hmac ? 4 : 3, "id", id, "created", created,
                            "chunker", "min", (json_int_t)chunk[0], "avg", (json_int_t)chunk[1],
                            "max", (json_int_t)chunk[2], "sign_public", pkhex, "mac", MAC_ZERO);
    if (cfg && hmac &&
        json_object_set_new(cfg, "chunk_id", json_string(bkp_id_hash_name(id_hash)))) {
        json_decref(cfg);
        cfg = NULL;
    }
    char *text = cfg ? json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(cfg);
    if (!text)
        return NULL;
    /* The MAC's place; the MAC of the bytes with zeros there goes into it. */
    char *at = strstr(text, "\"mac\": \"" MAC_ZERO);
    size_t tl = strlen(text);
    if (!at) {
        free(text);
        return NULL;
    }
    at += 8;
    text[tl] = '\n'; /* json_dumps leaves room only for the NUL: rewrite it */
    bkp_keys_config_mac(k, mac, text, tl + 1);
    bkp_hex(machex, mac, 32);
    memcpy(at, machex, 64);
    *len = tl + 1;
    return text;
}
