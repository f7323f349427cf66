#include "bkp/keys/key_slots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <uuid/uuid.h>

#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"
#include "bkp/keys/envelope.h"
#include "bkp/io/log.h"

#define KEY_FORMAT "bkp-key-file"
#define KEY_VERSION 2

/* ---- reading ---- */

/* A format-1 file is one sealed secret: its slot's id is the first 8 bytes
 * of its hash, so it stays the same id when the list is first written. */
static int read_v1(const uint8_t *data, size_t len, bkp_key_slots *out)
{
    uint8_t h[16];
    int rc = bkp_keys_sealed_ok(data, len, false);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->version = 1;
    out->n = 1;
    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    bkp_hex(out->slot[0].id, h, 8);
    memcpy(out->slot[0].sealed, data, len);
    return 0;
}

static bool id_ok(const char *id)
{
    uint8_t raw[8];
    if (strlen(id) != 16 || bkp_unhex(raw, 8, id))
        return false;
    for (const char *p = id; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            return false; /* one spelling of each id */
    return true;
}

/* Code points a label may not hold: controls, and what reorders or breaks
 * the line a terminal shows (a label is printed by key list and audit show). */
static bool label_char_ok(uint32_t c)
{
    return !(c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e ||
             c == 0x200f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069));
}

int bkp_key_label_ok(const char *label)
{
    json_t *j = json_string(label); /* NULL for text that is not UTF-8 */
    bool ok = j && strlen(label) <= BKP_KEY_LABEL_MAX;
    json_decref(j);
    /* Valid UTF-8 from here on (jansson checked it): decode each code point. */
    for (const unsigned char *p = (const unsigned char *)label; ok && *p;) {
        size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
        uint32_t c = n == 1 ? *p : (uint32_t)(*p & (0x7f >> n));
        for (size_t i = 1; i < n; i++)
            c = c << 6 | (p[i] & 0x3f);
        ok = label_char_ok(c);
        p += n;
    }
    return ok ? 0 : -EINVAL;
}

/* A time, or null for one unknown (a slot first read from a format-1 file). */
static int get_time(json_t *v, time_t *t)
{
    if (json_is_null(v)) {
        *t = 0;
        return 0;
    }
    if (!json_is_string(v) || (*t = bkp_iso_parse(json_string_value(v))) <= 0)
        return -EBADMSG;
    return 0;
}

static int parse_slot(json_t *e, bkp_key_slot *s)
{
    const char *id, *label, *sealed;
    json_t *created, *changed;
    if (json_unpack(e, "{s:s, s:s, s:o, s:o, s:s !}", "id", &id, "label", &label, "created",
                    &created, "changed", &changed, "sealed", &sealed) != 0 ||
        !id_ok(id) || bkp_key_label_ok(label) || get_time(created, &s->created) ||
        get_time(changed, &s->changed) || strlen(sealed) != 2 * BKP_KEY_SEALED_LEN ||
        bkp_unhex(s->sealed, BKP_KEY_SEALED_LEN, sealed))
        return -EBADMSG;
    memcpy(s->id, id, 17);
    memcpy(s->label, label, strlen(label) + 1);
    /* Costs outside the bounds are refused here, before anyone tries the
     * slot: -EPROTO, as for a key file of format 1. */
    return bkp_keys_sealed_ok(s->sealed, BKP_KEY_SEALED_LEN, true);
}

int bkp_key_slots_parse(const uint8_t *json, size_t len, const uint8_t *repo_id,
                        bkp_key_slots *out)
{
    const char *fmt, *repo;
    json_int_t version, serial;
    json_t *slots, *e;
    size_t i;
    uuid_t rid;
    int rc = -EBADMSG;
    json_t *j = len <= BKP_KEY_FILE_MAX
                    ? json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, NULL)
                    : NULL;
    memset(out, 0, sizeof(*out));
    if (!j || json_unpack(j, "{s:s, s:I, s:s, s:I, s:o !}", "format", &fmt, "version", &version,
                          "repository", &repo, "serial", &serial, "slots", &slots) != 0)
        goto out;
    if (strcmp(fmt, KEY_FORMAT) || version != KEY_VERSION || serial < 1 ||
        serial > (json_int_t)1 << 53 || strlen(repo) != 36 ||
        uuid_parse(repo, rid) || (repo_id && memcmp(rid, repo_id, 16)) || !json_is_array(slots) ||
        json_array_size(slots) < 1 || json_array_size(slots) > BKP_KEY_SLOTS_MAX)
        goto out;
    json_array_foreach(slots, i, e) {
        if ((rc = parse_slot(e, &out->slot[i])))
            goto out;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(out->slot[k].id, out->slot[i].id)) {
                rc = -EBADMSG; /* one id, one slot */
                goto out;
            }
    }
    out->n = (unsigned)json_array_size(slots);
    out->version = KEY_VERSION;
    out->serial = (uint64_t)serial;
    rc = 0;
out:
    json_decref(j);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

int bkp_key_slots_read(const uint8_t *data, size_t len, const uint8_t pk[32],
                       const uint8_t repo_id[16], bkp_key_slots *out)
{
    const uint8_t *text;
    size_t tlen;
    if (len >= 8 && !memcmp(data, BKP_KEY_FILE_MAGIC, 8))
        return read_v1(data, len, out);
    if (len < 8 || memcmp(data, BKP_KEY_FILE_MAGIC2, 8))
        return -EPROTO;
    /* The slots are parsed only once the signature over all of them holds. */
    if (len > BKP_KEY_FILE_MAX ||
        bkp_envelope_open(pk, BKP_KEY_FILE_MAGIC2, data, len, &text, &tlen))
        return -EBADMSG;
    return bkp_key_slots_parse(text, tlen, repo_id, out);
}

int bkp_key_slots_open(const bkp_key_slots *s, const char *pass, size_t passlen, bkp_keys **out,
                       unsigned *which)
{
    int rc = -EKEYREJECTED;
    /* Machine slots first: a wrong try there costs microseconds, where a
     * passphrase slot costs an Argon2id run, so an unattended run opens at
     * once and a person's passphrase waits no longer than before. Every
     * slot is tried, even after a damaged one: the others may open. */
    for (int pass_no = 0; pass_no < 2; pass_no++)
        for (unsigned i = 0; i < s->n; i++) {
            bool machine = bkp_keys_sealed_kind(s->slot[i].sealed) == BKP_KEY_MACHINE;
            if (machine != (pass_no == 0))
                continue;
            int r = bkp_keys_open(s->slot[i].sealed, BKP_KEY_SEALED_LEN, pass, passlen, out);
            if (r == 0) {
                *which = i;
                return 0;
            }
            if (r != -EKEYREJECTED)
                rc = r;
        }
    return rc;
}

/* ---- changing ---- */

static int slot_add(bkp_key_slots *s, const bkp_keys *k, const char *pass, size_t passlen,
                    bkp_key_kind kind, const char *label, time_t now)
{
    bkp_buf sealed;
    uint8_t raw[8];
    if (s->n >= BKP_KEY_SLOTS_MAX)
        return -ENOSPC;
    if (bkp_key_label_ok(label))
        return -EINVAL;
    bkp_key_slot *x = &s->slot[s->n];
    memset(x, 0, sizeof(*x));
    do {
        randombytes_buf(raw, sizeof(raw));
        bkp_hex(x->id, raw, sizeof(raw));
    } while (bkp_key_slots_find(s, x->id) != -ENOENT); /* 2^-64: but never two alike */
    bkp_buf_init(&sealed);
    int rc = bkp_keys_seal(k, pass, passlen, kind, &sealed);
    if (!rc && sealed.len != BKP_KEY_SEALED_LEN)
        rc = -EPROTO;
    if (!rc) {
        memcpy(x->sealed, sealed.data, BKP_KEY_SEALED_LEN);
        memcpy(x->label, label, strlen(label) + 1);
        x->created = x->changed = now;
        s->serial++;
        rc = (int)s->n++;
    }
    bkp_buf_free(&sealed);
    return rc;
}

int bkp_key_slots_add(bkp_key_slots *s, const bkp_keys *k, const char *pass, size_t passlen,
                      const char *label, time_t now)
{
    return slot_add(s, k, pass, passlen, BKP_KEY_PASSPHRASE, label, now);
}

int bkp_key_slots_add_machine(bkp_key_slots *s, const bkp_keys *k,
                              char secret[BKP_MACHINE_SECRET_LEN + 1], const char *label,
                              time_t now)
{
    bkp_machine_secret_new(secret);
    int rc = slot_add(s, k, secret, BKP_MACHINE_SECRET_LEN, BKP_KEY_MACHINE, label, now);
    if (rc < 0)
        sodium_memzero(secret, BKP_MACHINE_SECRET_LEN + 1);
    return rc;
}

int bkp_key_slots_reseal(bkp_key_slots *s, unsigned i, const bkp_keys *k, const char *pass,
                         size_t passlen, time_t now)
{
    bkp_buf sealed;
    if (i >= s->n)
        return -ENOENT;
    bkp_buf_init(&sealed);
    int rc = bkp_keys_seal(k, pass, passlen, BKP_KEY_PASSPHRASE, &sealed);
    if (!rc && sealed.len != BKP_KEY_SEALED_LEN)
        rc = -EPROTO;
    if (!rc) {
        /* A new salt and nonce: nothing of the old sealing is left. */
        memcpy(s->slot[i].sealed, sealed.data, BKP_KEY_SEALED_LEN);
        s->slot[i].changed = now;
        s->serial++;
    }
    bkp_buf_free(&sealed);
    return rc;
}

int bkp_key_slots_remove(bkp_key_slots *s, unsigned i)
{
    if (i >= s->n)
        return -ENOENT;
    if (s->n == 1)
        return -EPERM;
    memmove(&s->slot[i], &s->slot[i + 1], (s->n - i - 1) * sizeof(s->slot[0]));
    s->n--;
    s->serial++;
    memset(&s->slot[s->n], 0, sizeof(s->slot[0]));
    return 0;
}

int bkp_key_slots_find(const bkp_key_slots *s, const char *id)
{
    size_t l = strlen(id);
    int found = -ENOENT;
    if (l < 4 || l > 16)
        return -ENOENT;
    for (unsigned i = 0; i < s->n; i++)
        if (!strncmp(s->slot[i].id, id, l)) {
            if (found >= 0)
                return -EEXIST;
            found = (int)i;
        }
    return found;
}

/* ---- writing ---- */

int bkp_key_slots_render(const bkp_key_slots *s, const bkp_keys *k, bkp_buf *out)
{
    char uuid[37], hex[2 * BKP_KEY_SEALED_LEN + 1];
    json_t *slots = json_array();
    uuid_unparse_lower(bkp_keys_repo_id(k), uuid);
    for (unsigned i = 0; slots && i < s->n; i++) {
        const bkp_key_slot *x = &s->slot[i];
        bkp_hex(hex, x->sealed, BKP_KEY_SEALED_LEN);
        if (json_array_append_new(slots, json_pack("{s:s, s:s, s:o, s:o, s:s}", "id", x->id,
                                                   "label", x->label, "created",
                                                   bkp_json_when(x->created), "changed",
                                                   bkp_json_when(x->changed), "sealed", hex))) {
            json_decref(slots);
            slots = NULL;
        }
    }
    json_t *j = slots ? json_pack("{s:s, s:i, s:s, s:I, s:o}", "format", KEY_FORMAT, "version",
                                  KEY_VERSION, "repository", uuid, "serial",
                                  (json_int_t)s->serial, "slots", slots)
                      : NULL;
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    int rc = text ? bkp_envelope_seal(k, BKP_KEY_FILE_MAGIC2, text, out) : -ENOMEM;
    free(text);
    if (!rc && out->len > BKP_KEY_FILE_MAX)
        rc = -EFBIG;
    return rc;
}

/* ---- keys/used ---- */

int bkp_key_used_parse(const uint8_t *json, size_t len, bkp_key_slots *s)
{
    const char *id;
    json_t *v;
    json_t *j = len <= BKP_KEY_USED_MAX
                    ? json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, NULL)
                    : NULL;
    int rc = j && json_is_object(j) ? 0 : -EBADMSG;
    json_object_foreach(j, id, v) {
        time_t t;
        if (rc || !id_ok(id) || !json_is_string(v) ||
            (t = bkp_iso_parse(json_string_value(v))) <= 0) {
            rc = -EBADMSG;
            break;
        }
        for (unsigned i = 0; i < s->n; i++)
            if (!strcmp(s->slot[i].id, id))
                s->slot[i].used = t;
    }
    json_decref(j);
    if (rc)
        for (unsigned i = 0; i < s->n; i++)
            s->slot[i].used = 0;
    return rc;
}

void bkp_key_used_load(const char *keys_dir, bkp_key_slots *s)
{
    bkp_buf data;
    char *p = bkp_path_join(keys_dir, "used");
    bkp_buf_init(&data);
    if (p && !bkp_read_file(p, &data, BKP_KEY_USED_MAX) &&
        bkp_key_used_parse(data.data, data.len, s))
        bkp_debug("%s is damaged; key list shows no last use", p);
    bkp_buf_free(&data);
    free(p);
}

void bkp_key_used_mark(const char *keys_dir, const bkp_key_slots *s, unsigned which, time_t now)
{
    bkp_key_slots cur = *s;
    char when[32];
    json_t *j;
    int rc = -ENOMEM;
    /* Only the slots of the list: a removed slot's line goes with it. Once
     * a day is enough to say which passphrases are in use, and keeps every
     * writable open from rewriting the file. */
    bkp_key_used_load(keys_dir, &cur);
    if (which >= cur.n || cur.slot[which].used / 86400 == now / 86400)
        return;
    cur.slot[which].used = now;
    j = json_object();
    for (unsigned i = 0; j && i < cur.n; i++)
        if (cur.slot[i].used > 0) {
            bkp_iso_time(when, sizeof(when), cur.slot[i].used);
            json_object_set_new(j, cur.slot[i].id, json_string(when));
        }
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (text)
        rc = bkp_durable_write(keys_dir, "used", text, strlen(text), BKP_DURABLE_PRIVATE);
    if (rc)
        bkp_debug("cannot record the key slot's use in %s: %s", keys_dir, bkp_strerror(rc));
    free(text);
    json_decref(j);
}

const char *bkp_key_kind_words(const char *kind)
{
    static const struct {
        const char *kind, *words;
    } t[] = {
        {"passphrase", N_("passphrase")},
        {"machine", N_("machine key")},
        {"paper", N_("paper sheet")},
        {"shares", N_("share sheets")},
    };
    for (size_t i = 0; kind && i < sizeof(t) / sizeof(*t); i++)
        if (!strcmp(t[i].kind, kind))
            return _(t[i].words);
    return kind;
}
