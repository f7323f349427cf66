/* label.c — the label of a medium, its one codec (label.h). */
#include "bkp/media/label.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uuid/uuid.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/store/layout.h"

#define LABEL_FORMAT "bkp-label"

bool bkp_medium_name_ok(const char *name)
{
    return name && bkp_dataset_name_ok(name);
}

bool bkp_medium_type_ok(const char *type)
{
    return type && (!strcmp(type, "disk") || !strcmp(type, "removable") ||
                    !strcmp(type, "archive") || !strcmp(type, "object"));
}

bool bkp_medium_location_ok(const char *location)
{
    return location && (!strcmp(location, "onsite") || !strcmp(location, "offsite"));
}

bool bkp_medium_uuid_ok(const char *s)
{
    uuid_t u;
    char canon[37];
    if (!s || strlen(s) != 36 || uuid_parse(s, u))
        return false;
    uuid_unparse_lower(u, canon);
    return !strcmp(canon, s);
}

int bkp_label_make(bkp_label *l, const char *repository, const uint8_t pk[32], const char *name,
                   const char *type, const char *location)
{
    uuid_t u;
    memset(l, 0, sizeof(*l));
    if (!bkp_medium_name_ok(name) || !bkp_medium_type_ok(type) ||
        !bkp_medium_location_ok(location) || !bkp_medium_uuid_ok(repository))
        return -EINVAL;
    l->version = 1;
    uuid_generate_random(u);
    uuid_unparse_lower(u, l->uuid);
    snprintf(l->name, sizeof(l->name), "%s", name);
    snprintf(l->type, sizeof(l->type), "%s", type);
    snprintf(l->location, sizeof(l->location), "%s", location);
    snprintf(l->repository, sizeof(l->repository), "%s", repository);
    /* The key's fingerprint goes with the disk, so that it is written down
     * somewhere the host cannot reach (pubkey.h). */
    bkp_pubkey_fingerprint(pk, l->fingerprint);
    l->created = bkp_now();
    return 0;
}

/* Copy string `key` of `j` into `out` (size n) if `ok` takes it. */
static bool take(const json_t *j, const char *key, char *out, size_t n, bool (*ok)(const char *))
{
    const char *s = json_string_value(json_object_get(j, key));
    if (!s || strlen(s) >= n || !ok(s))
        return false;
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* Absent (a label written before labels carried it), or the exact text bkp
 * writes: callers print it and compare it by string. */
static bool fingerprint_ok(const char *s)
{
    char canon[BKP_FINGERPRINT_LEN];
    uint8_t pk[32];
    if (bkp_pubkey_parse(s, strlen(s), pk) != 0)
        return false;
    bkp_pubkey_fingerprint(pk, canon);
    return !strcmp(canon, s);
}

static bool signature_ok(const char *s)
{
    uint8_t raw[64];
    return strlen(s) == 128 && strspn(s, "0123456789abcdef") == 128 &&
           !bkp_unhex(raw, sizeof(raw), s);
}

/* The time, in exactly the form bkp writes it (the signature covers it). */
static bool created_ok(const char *s, time_t *t)
{
    char canon[32];
    *t = bkp_iso_parse(s);
    if (*t < 0)
        return false;
    bkp_iso_time(canon, sizeof(canon), *t);
    return !strcmp(canon, s);
}

int bkp_label_from_json(const json_t *j, bkp_label *out)
{
    static const char *const keys[] = {"format",     "version",     "uuid",    "name",
                                       "type",       "location",    "repository",
                                       "fingerprint", "created",    "signature"};
    const char *fmt = json_string_value(json_object_get(j, "format"));
    const char *created = json_string_value(json_object_get(j, "created"));
    json_t *version = json_object_get(j, "version");
    const char *key;
    json_t *v;
    bkp_label l = {0};
    if (!json_is_object(j) || !fmt || strcmp(fmt, LABEL_FORMAT) || !json_is_integer(version))
        return -EBADMSG;
    json_object_foreach((json_t *)j, key, v)
    {
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(*keys) && strcmp(keys[k], key))
            k++;
        if (k == sizeof(keys) / sizeof(*keys))
            return -EBADMSG; /* not ours: the signature would cover what we drop */
    }
    l.version = json_integer_value(version) == 1 ? 1 : json_integer_value(version) == 2 ? 2 : 0;
    bool has_fp = json_object_get(j, "fingerprint") != NULL;
    bool has_sig = json_object_get(j, "signature") != NULL;
    if (!l.version || !take(j, "uuid", l.uuid, sizeof(l.uuid), bkp_medium_uuid_ok) ||
        !take(j, "name", l.name, sizeof(l.name), bkp_medium_name_ok) ||
        !take(j, "type", l.type, sizeof(l.type), bkp_medium_type_ok) ||
        !take(j, "location", l.location, sizeof(l.location), bkp_medium_location_ok) ||
        !take(j, "repository", l.repository, sizeof(l.repository), bkp_medium_uuid_ok) ||
        (has_fp && !take(j, "fingerprint", l.fingerprint, sizeof(l.fingerprint), fingerprint_ok)) ||
        !created || !created_ok(created, &l.created))
        return -EBADMSG;
    /* Version 2 is signed: 128 hex digits, and the key that signed it named. */
    if (l.version == 1 ? has_sig
                       : !has_fp || !take(j, "signature", l.signature, sizeof(l.signature),
                                          signature_ok))
        return -EBADMSG;
    *out = l;
    return 0;
}

int bkp_label_parse(const void *buf, size_t len, bkp_label *out)
{
    if (len > BKP_LABEL_MAX)
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = j ? bkp_label_from_json(j, out) : -EBADMSG;
    json_decref(j);
    return rc;
}

/* The label as JSON, with its signature or without. */
static json_t *to_json(const bkp_label *l, bool signature)
{
    char created[32];
    bkp_iso_time(created, sizeof(created), l->created);
    json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "format", LABEL_FORMAT,
                          "version", l->version, "uuid", l->uuid, "name", l->name, "type",
                          l->type, "location", l->location, "repository", l->repository,
                          "created", created);
    if (j && l->fingerprint[0] && json_object_set_new(j, "fingerprint", json_string(l->fingerprint)))
        goto fail;
    if (j && signature && l->signature[0] &&
        json_object_set_new(j, "signature", json_string(l->signature)))
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}

json_t *bkp_label_json(const bkp_label *l)
{
    return to_json(l, true);
}

bool bkp_label_same(const bkp_label *a, const bkp_label *b)
{
    return a->version == b->version && a->created == b->created && !strcmp(a->uuid, b->uuid) &&
           !strcmp(a->name, b->name) && !strcmp(a->type, b->type) &&
           !strcmp(a->location, b->location) && !strcmp(a->repository, b->repository) &&
           !strcmp(a->fingerprint, b->fingerprint) && !strcmp(a->signature, b->signature);
}

/* What a label's signature covers: a tag, then the label without its
 * signature, compact, keys sorted, ASCII only (each side renders it alike,
 * whatever spaces the file has). malloc'd, or NULL. */
static char *signed_text(const bkp_label *l, size_t *len)
{
    json_t *c = to_json(l, false);
    char *body = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    char *text = NULL;
    json_decref(c);
    if (body && asprintf(&text, "bkp-label-2\n%s", body) < 0)
        text = NULL;
    free(body);
    *len = text ? strlen(text) : 0;
    return text;
}

int bkp_label_sign(bkp_label *l, const bkp_keys *k)
{
    uint8_t sig[64];
    size_t len;
    l->version = 2;
    bkp_pubkey_fingerprint(bkp_keys_sign_pk(k), l->fingerprint);
    l->signature[0] = '\0';
    char *text = signed_text(l, &len);
    if (!text)
        return -ENOMEM;
    bkp_keys_sign(k, sig, text, len);
    free(text);
    bkp_hex(l->signature, sig, sizeof(sig));
    return 0;
}

bool bkp_label_signed_by(const bkp_label *l, const uint8_t pk[32])
{
    uint8_t named[32], raw[64];
    size_t len;
    if (l->version != 2 || !l->fingerprint[0] || !l->signature[0] ||
        bkp_pubkey_parse(l->fingerprint, strlen(l->fingerprint), named) ||
        memcmp(named, pk, 32) || bkp_unhex(raw, sizeof(raw), l->signature))
        return false;
    char *text = signed_text(l, &len);
    bool ok = text && bkp_sig_verify(pk, raw, text, len) == 0;
    free(text);
    return ok;
}

bool bkp_label_ours(const bkp_label *l, const bkp_label *registered, const uint8_t pk[32],
                    const char *repository)
{
    uint8_t named[32];
    /* Of this repository and its key, whatever else: a label naming
     * another, even one the registry took for ours once, is never ours. */
    if (strcmp(l->repository, repository) ||
        (l->fingerprint[0] &&
         (bkp_pubkey_parse(l->fingerprint, strlen(l->fingerprint), named) ||
          memcmp(named, pk, 32))))
        return false;
    if (registered && bkp_label_same(l, registered))
        return true;
    return (!registered || !strcmp(l->uuid, registered->uuid)) && bkp_label_signed_by(l, pk);
}

bool bkp_medium_folder(const char *repo)
{
    static const char *const where[] = {"/" BKP_LABEL_FILE, "/../" BKP_LABEL_FILE};
    struct stat st;
    bool found = false;
    for (size_t i = 0; !found && i < 2; i++) {
        char *p = NULL;
        found = asprintf(&p, "%s%s", repo, where[i]) > 0 && lstat(p, &st) == 0 &&
                S_ISREG(st.st_mode);
        free(p);
    }
    return found;
}

static int read_label(const char *path, bkp_label *out, bool say);

int bkp_label_read(const char *path, bkp_label *out)
{
    return read_label(path, out, true);
}

int bkp_label_read_quiet(const char *path, bkp_label *out)
{
    return read_label(path, out, false);
}

static int read_label(const char *path, bkp_label *out, bool say)
{
    char *file = bkp_path_join(path, BKP_LABEL_FILE);
    bkp_buf data;
    bkp_buf_init(&data);
    struct stat st;
    int rc = !file ? -ENOMEM : lstat(file, &st) < 0 ? -errno : 0;
    /* A label is a regular file: a FIFO would hang the read, a link lead
     * elsewhere than the medium. */
    if (!rc)
        rc = S_ISREG(st.st_mode) ? bkp_read_file(file, &data, BKP_LABEL_MAX) : -EFBIG;
    if (rc == -EFBIG)
        rc = -EBADMSG; /* read no further: a label is a few hundred bytes */
    else if (rc) {
        if (rc != -ENOENT && say)
            bkp_error(_("cannot read the label %s: %s"), file ? file : path, bkp_strerror(rc));
        goto out;
    }
    /* Every field is checked here, once: the callers compare names and
     * UUIDs and print them, and a label is whatever the medium says. */
    if (rc || (rc = bkp_label_parse(data.data, data.len, out))) {
        if (say)
            bkp_error(_("%s is not a bkp label (damaged, or written by something else): the medium "
                    "is not used. Relabel it with `bkp media label %s --name NAME --force` if it "
                    "is yours"),
                  file, path);
        rc = -EBADMSG;
    }
out:
    bkp_buf_free(&data);
    free(file);
    return rc;
}

char *bkp_label_text(const bkp_label *l, size_t *len)
{
    json_t *j = bkp_label_json(l);
    char *body = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL, *text = NULL;
    json_decref(j);
    int n = body ? asprintf(&text, "%s\n", body) : -1;
    free(body);
    *len = n > 0 ? (size_t)n : 0;
    return n > 0 ? text : NULL;
}

int bkp_label_write(const char *path, const bkp_label *l, bool replace)
{
    size_t len;
    char *text = bkp_label_text(l, &len);
    int rc = text ? bkp_durable_write(path, BKP_LABEL_FILE, text, len,
                                      replace ? 0 : BKP_DURABLE_NOREPLACE)
                  : -ENOMEM;
    free(text);
    return rc;
}
