/* medium.c — labels on media and the registry of media. */
#include "bkp/media/medium.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/keys/keys.h"
#include "bkp/store/layout.h"
#include "bkp/io/lock.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"
#include "bkp/keys/pubkey.h"
#include "bkp/audit/reread.h"
#include "bkp/s3/s3.h"

#define LABEL_FORMAT "bkp-label"
/* An entry holds a label, a few times, the generations a medium holds and
 * its re-read state: the re-read state's cap and room for the rest. */
#define ENTRY_MAX (BKP_REREAD_MAX + (4U << 20))

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

static bool uuid_ok(const char *s)
{
    uuid_t u;
    char canon[37];
    /* The exact text bkp writes: lower case, so that comparisons by string hold. */
    if (!s || strlen(s) != 36 || uuid_parse(s, u))
        return false;
    uuid_unparse_lower(u, canon);
    return !strcmp(canon, s);
}

json_t *bkp_label_new(const bkp_repo *r, const char *name, const char *type, const char *location)
{
    uuid_t u;
    char uuid[37], created[32], fp[BKP_FINGERPRINT_LEN];
    uuid_generate_random(u);
    uuid_unparse_lower(u, uuid);
    bkp_iso_time(created, sizeof(created), bkp_now());
    /* The key's fingerprint goes with the disk, so that it is written down
     * somewhere the host cannot reach (pubkey.h). */
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(r), fp);
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", LABEL_FORMAT,
                     "version", 1, "uuid", uuid, "name", name, "type", type, "location", location,
                     "repository", bkp_repo_uuid(r), "fingerprint", fp, "created", created);
}

/* Does the registry of `r` hold `uuid` as the label of the medium `name`,
 * and of no other medium? */
static bool registered_as(bkp_repo *r, const char *uuid, const char *name)
{
    json_t *all = bkp_media_list(r), *e;
    size_t i;
    bool mine = false, other = false;
    json_array_foreach(all, i, e)
    {
        json_t *lab = json_object_get(e, "label");
        const char *u = json_string_value(json_object_get(lab, "uuid"));
        const char *n = json_string_value(json_object_get(lab, "name"));
        if (!u || strcmp(u, uuid))
            continue;
        if (n && !strcmp(n, name))
            mine = true;
        else
            other = true;
    }
    json_decref(all);
    return mine && !other;
}

json_t *bkp_label_renew(bkp_repo *r, const json_t *old, const char *name, const char *type,
                        const char *location)
{
    json_t *lab = bkp_label_new(r, name, type, location);
    const char *uuid = json_string_value(json_object_get(old, "uuid"));
    const char *repo = json_string_value(json_object_get(old, "repository"));
    const char *oname = json_string_value(json_object_get(old, "name"));
    /* Only the identity the registry gave this very disk: a label copied
     * from another disk (a dd clone, or planted) names an identity that is
     * registered under another name, or not at all. */
    if (lab && uuid_ok(uuid) && repo && !strcmp(repo, bkp_repo_uuid(r)) && oname &&
        registered_as(r, uuid, oname) && json_object_set_new(lab, "uuid", json_string(uuid))) {
        json_decref(lab);
        return NULL;
    }
    return lab;
}

/* An S3 version id as the registry notes it: printable, no space, bounded
 * (it is sent URL-encoded, s3_ops.c). */
static bool version_ok(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return n > 0 && n <= BKP_S3_VERSION_MAX;
}

static bool iso_ok(const json_t *v)
{
    return json_is_string(v) && bkp_iso_parse(json_string_value(v)) >= 0;
}

/* Absent (a label written before labels carried it), or the exact text bkp
 * writes: callers print it and compare it by string. */
static bool fingerprint_ok(const json_t *v)
{
    const char *s = json_string_value(v);
    char canon[BKP_FINGERPRINT_LEN];
    uint8_t pk[32];
    if (!v)
        return true;
    if (!s || bkp_pubkey_parse(s, strlen(s), pk) != 0)
        return false;
    bkp_pubkey_fingerprint(pk, canon);
    return !strcmp(canon, s);
}

/* Version 2 is signed: 128 hex digits, and the key that signed it named. */
static bool signature_ok(const json_t *j, json_int_t version)
{
    const char *sig = json_string_value(json_object_get(j, "signature"));
    uint8_t raw[64];
    if (version == 1)
        return !json_object_get(j, "signature");
    return json_object_get(j, "fingerprint") && sig && strlen(sig) == 128 &&
           !bkp_unhex(raw, sizeof(raw), sig);
}

bool bkp_label_valid(const json_t *j)
{
    json_t *version = json_object_get(j, "version");
    const char *fmt = json_string_value(json_object_get(j, "format"));
    json_int_t v = json_integer_value(version);
    return json_is_object(j) && fmt && !strcmp(fmt, LABEL_FORMAT) && json_is_integer(version) &&
           (v == 1 || v == 2) && signature_ok(j, v) &&
           uuid_ok(json_string_value(json_object_get(j, "uuid"))) &&
           bkp_medium_name_ok(json_string_value(json_object_get(j, "name"))) &&
           bkp_medium_type_ok(json_string_value(json_object_get(j, "type"))) &&
           bkp_medium_location_ok(json_string_value(json_object_get(j, "location"))) &&
           uuid_ok(json_string_value(json_object_get(j, "repository"))) &&
           fingerprint_ok(json_object_get(j, "fingerprint")) &&
           iso_ok(json_object_get(j, "created"));
}

/* What a label's signature covers: a tag, then the label without its
 * signature, compact, keys sorted, ASCII only (each side renders it alike,
 * whatever spaces the file has). malloc'd, or NULL. */
static char *signed_text(const json_t *label, size_t *len)
{
    json_t *c = json_copy((json_t *)label);
    char *body = NULL, *text = NULL;
    if (c) {
        json_object_del(c, "signature"); /* absent in one being signed */
        body = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    }
    json_decref(c);
    if (body && asprintf(&text, "bkp-label-2\n%s", body) < 0)
        text = NULL;
    free(body);
    *len = text ? strlen(text) : 0;
    return text;
}

json_t *bkp_label_signed(const json_t *label, const bkp_keys *k)
{
    char fp[BKP_FINGERPRINT_LEN], hex[129];
    uint8_t sig[64];
    size_t len;
    json_t *l = json_copy((json_t *)label);
    bkp_pubkey_fingerprint(bkp_keys_sign_pk(k), fp);
    if (!l || json_object_set_new(l, "version", json_integer(2)) ||
        json_object_set_new(l, "fingerprint", json_string(fp)))
        goto fail;
    json_object_del(l, "signature");
    char *text = signed_text(l, &len);
    if (!text)
        goto fail;
    bkp_keys_sign(k, sig, text, len);
    free(text);
    bkp_hex(hex, sig, sizeof(sig));
    if (!json_object_set_new(l, "signature", json_string(hex)))
        return l;
fail:
    json_decref(l);
    return NULL;
}

bool bkp_label_signed_by(const json_t *label, const uint8_t pk[32])
{
    const char *fp = json_string_value(json_object_get(label, "fingerprint"));
    const char *sig = json_string_value(json_object_get(label, "signature"));
    uint8_t named[32], raw[64];
    size_t len;
    if (json_integer_value(json_object_get(label, "version")) != 2 || !fp || !sig ||
        bkp_pubkey_parse(fp, strlen(fp), named) || memcmp(named, pk, 32) ||
        bkp_unhex(raw, sizeof(raw), sig))
        return false;
    char *text = signed_text(label, &len);
    bool ok = text && bkp_sig_verify(pk, raw, text, len) == 0;
    free(text);
    return ok;
}

bool bkp_label_ours(const json_t *label, const json_t *registered, const uint8_t pk[32],
                    const char *repository)
{
    const char *u = json_string_value(json_object_get(label, "uuid"));
    const char *ru = json_string_value(json_object_get(registered, "uuid"));
    const char *r = json_string_value(json_object_get(label, "repository"));
    const char *fp = json_string_value(json_object_get(label, "fingerprint"));
    uint8_t named[32];
    /* Of this repository and its key, whatever else: a label naming
     * another, even one the registry took for ours once, is never ours. */
    if (!u || !r || strcmp(r, repository) ||
        (fp && (bkp_pubkey_parse(fp, strlen(fp), named) || memcmp(named, pk, 32))))
        return false;
    if (registered && json_equal((json_t *)label, (json_t *)registered))
        return true;
    return (!registered || (ru && !strcmp(u, ru))) && bkp_label_signed_by(label, pk);
}

int bkp_label_parse(const void *buf, size_t len, json_t **out)
{
    if (len > BKP_LABEL_MAX)
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!bkp_label_valid(j)) {
        json_decref(j);
        return -EBADMSG;
    }
    *out = j;
    return 0;
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

int bkp_label_read(const char *path, json_t **out)
{
    char *file = bkp_path_join(path, BKP_LABEL_FILE);
    bkp_buf data;
    bkp_buf_init(&data);
    *out = NULL;
    struct stat st;
    int rc = !file ? -ENOMEM : lstat(file, &st) < 0 ? -errno : 0;
    /* A label is a regular file: a FIFO would hang the read, a link lead
     * elsewhere than the medium. */
    if (!rc)
        rc = S_ISREG(st.st_mode) ? bkp_read_file(file, &data, BKP_LABEL_MAX) : -EFBIG;
    if (rc == -EFBIG)
        rc = -EBADMSG; /* read no further: a label is a few hundred bytes */
    else if (rc) {
        if (rc != -ENOENT)
            bkp_error(_("cannot read the label %s: %s"), file ? file : path, bkp_strerror(rc));
        goto out;
    }
    /* Every field is checked here, once: the callers compare names and
     * UUIDs and print them, and a label is whatever the medium says. */
    if (rc || (rc = bkp_label_parse(data.data, data.len, out))) {
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

void bkp_label_fields_of(const json_t *label, const json_t *entry, bkp_label_fields *f)
{
    f->name = json_string_value(json_object_get(label, "name"));
    f->uuid = json_string_value(json_object_get(label, "uuid"));
    f->repository = json_string_value(json_object_get(label, "repository"));
    f->fingerprint = json_string_value(json_object_get(label, "fingerprint"));
    f->registered_uuid =
        json_string_value(json_object_get(json_object_get(entry, "label"), "uuid"));
}

bkp_label_verdict bkp_label_judge(const bkp_repo *r, const json_t *label, const char *name,
                                  const json_t *entry)
{
    bkp_label_fields l;
    bkp_label_fields_of(label, entry, &l);
    const char *lname = l.name, *luuid = l.uuid, *lrepo = l.repository, *lfp = l.fingerprint;
    const char *ruuid = l.registered_uuid;
    char fp[BKP_FINGERPRINT_LEN];
    if (!lrepo || strcmp(lrepo, bkp_repo_uuid(r)))
        return BKP_LABEL_OTHER_REPO;
    /* Same repository id, another key: the medium, or the primary's config
     * and key file, were replaced; neither is written over the other. A
     * label from before labels carried the key has no fingerprint. */
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(r), fp);
    if (lfp && strcmp(lfp, fp))
        return BKP_LABEL_OTHER_KEY;
    if (!lname || strcmp(lname, name))
        return BKP_LABEL_OTHER_NAME;
    if (ruuid && (!luuid || strcmp(ruuid, luuid)))
        return BKP_LABEL_OTHER_DISK;
    return entry ? BKP_LABEL_OURS : BKP_LABEL_UNREGISTERED;
}

static int write_json(const char *dir, const char *name, const json_t *j, unsigned flags)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text[len] = '\n'; /* json_dumps leaves room for the NUL only: rewrite it */
    int rc = bkp_durable_write(dir, name, text, len + 1, flags);
    free(text);
    return rc;
}

int bkp_label_write(const char *path, const json_t *label, bool replace)
{
    return write_json(path, BKP_LABEL_FILE, label, replace ? 0 : BKP_DURABLE_NOREPLACE);
}

static char *media_dir(const bkp_repo *r)
{
    return bkp_repo_subpath(r, "media");
}

static bool held_ok(const json_t *held)
{
    size_t i;
    json_t *g;
    if (!json_is_array(held))
        return false;
    json_array_foreach(held, i, g)
    {
        json_t *seq = json_object_get(g, "seq");
        if (!json_is_object(g) ||
            !bkp_medium_name_ok(json_string_value(json_object_get(g, "dataset"))) ||
            !json_is_integer(seq) || json_integer_value(seq) < 1 ||
            json_integer_value(seq) > UINT32_MAX ||
            !uuid_ok(json_string_value(json_object_get(g, "uuid"))) ||
            !iso_ok(json_object_get(g, "finished")))
            return false;
    }
    return true;
}

int bkp_media_entry_parse(const void *buf, size_t len, const char *name, time_t now, json_t **out)
{
    static const char *const times[] = {"labelled", "last_seen", "last_write", "last_verify"};
    if (len > ENTRY_MAX || !bkp_medium_name_ok(name))
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL), *v;
    json_t *label = json_object_get(j, "label");
    const char *path = json_string_value(json_object_get(j, "path"));
    bool ok = json_is_object(j) && bkp_label_valid(label) &&
              !strcmp(json_string_value(json_object_get(label, "name")), name) &&
              (!json_object_get(j, "path") || (path && path[0] == '/' && strlen(path) < 4096));
    for (size_t i = 0; ok && i < sizeof(times) / sizeof(*times); i++)
        ok = !(v = json_object_get(j, times[i])) || iso_ok(v);
    if (ok && (v = json_object_get(j, "verify_ok")))
        ok = json_is_boolean(v);
    if (ok && (v = json_object_get(j, "held")))
        ok = held_ok(v);
    if (!ok) {
        json_decref(j);
        return -EBADMSG;
    }
    /* The re-read state only orders a sample, and its times are judged by
     * the clock: one out of shape is dropped alone, the entry stays. */
    if ((v = json_object_get(j, "reread")) && !bkp_reread_valid(v, now))
        json_object_del(j, "reread");
    /* The label's version id is a hint where to look first (bucket.h): one
     * out of shape is dropped alone too. */
    if ((v = json_object_get(j, "label_version")) && !version_ok(v))
        json_object_del(j, "label_version");
    /* The kit's fingerprint is printed for a person to compare: 64 hex
     * digits, or dropped alone. */
    const char *kit = json_string_value(json_object_get(j, "kit_sha256"));
    if (json_object_get(j, "kit_sha256") &&
        !(kit && strlen(kit) == 64 && strspn(kit, "0123456789abcdef") == 64))
        json_object_del(j, "kit_sha256");
    *out = j;
    return 0;
}

int bkp_media_read(const bkp_repo *r, const char *name, json_t **out)
{
    char file[96];
    char *dir = NULL, *path = NULL;
    bkp_buf data;
    json_t *j = NULL;
    int rc;
    *out = NULL;
    if (!bkp_medium_name_ok(name))
        return -EINVAL;
    bkp_buf_init(&data);
    snprintf(file, sizeof(file), "%s.json", name);
    dir = media_dir(r);
    path = dir ? bkp_path_join(dir, file) : NULL;
    rc = path ? bkp_read_file(path, &data, ENTRY_MAX) : -ENOMEM;
    if (!rc)
        rc = bkp_media_entry_parse(data.data, data.len, name, bkp_now(), &j);
    /* A catalog entry out of shape is not used: the medium's own label and
     * copy are checked whenever it is written or verified. */
    if (rc && rc != -ENOENT)
        bkp_warn(_("%s is not a valid registry entry (%s): ignored; label the medium again with "
                   "`bkp media label PATH --name %s --force` to register it anew"),
                 path ? path : file, rc == -EFBIG ? "too large" : bkp_strerror(rc), name);
    bkp_buf_free(&data);
    free(path);
    free(dir);
    *out = j;
    return rc;
}

json_t *bkp_media_get(const bkp_repo *r, const char *name)
{
    json_t *j = NULL;
    (void)bkp_media_read(r, name, &j); /* absent, invalid or unreadable: nothing known */
    return j;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *bkp_media_list(const bkp_repo *r)
{
    json_t *out = json_array();
    char *dir = media_dir(r);
    DIR *d = dir ? opendir(dir) : NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strndup(e->d_name, l - 5)))
            continue;
        if (!bkp_medium_name_ok(names[n])) {
            bkp_warn(_("%s/%s is not named as a registry entry (NAME.json, NAME a medium name): "
                       "ignored"),
                     dir, e->d_name);
            free(names[n]);
            continue;
        }
        n++;
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        json_t *j = bkp_media_get(r, names[i]);
        if (j)
            json_array_append_new(out, j);
    }
    bkp_strv_free(names, n);
    free(dir);
    return out;
}

static int media_update(const bkp_repo *r, const char *name, int (*fn)(json_t *entry, void *ctx),
                        void *ctx)
{
    char file[96];
    char *dir = media_dir(r), *lockp = dir ? bkp_path_join(dir, ".lock") : NULL;
    int fd = -1, rc;
    json_t *j = NULL;
    if (!lockp || !bkp_medium_name_ok(name)) {
        rc = lockp ? -EINVAL : -ENOMEM;
        goto out;
    }
    if ((rc = bkp_mkdir_p(dir, 0700)))
        goto out;
    /* One update of the registry at a time (lock.h). */
    if ((fd = bkp_lock_file(lockp)) < 0) {
        rc = fd;
        goto out;
    }
    /* Absent, or not valid (warned): a new entry replaces it. One that
     * cannot be read (any other error) is not overwritten: its history
     * would be lost. */
    rc = bkp_media_read(r, name, &j);
    if (rc == -ENOENT || rc == -EBADMSG || rc == -EFBIG)
        rc = (j = json_object()) ? 0 : -ENOMEM;
    if (rc || (rc = fn(j, ctx)))
        goto out;
    snprintf(file, sizeof(file), "%s.json", name);
    rc = write_json(dir, file, j, 0);
out:
    if (rc < 0)
        bkp_error(_("cannot update the media registry of %s in %s: %s"), name, dir ? dir : "?",
                  bkp_strerror(rc));
    if (fd >= 0)
        close(fd);
    json_decref(j);
    free(lockp);
    free(dir);
    return rc;
}

int bkp_media_update(bkp_repo *r, const char *name, int (*fn)(json_t *entry, void *ctx), void *ctx)
{
    return media_update(r, name, fn, ctx);
}

int bkp_media_update_ro(const bkp_repo *r, const char *name, int (*fn)(json_t *entry, void *ctx),
                        void *ctx)
{
    return media_update(r, name, fn, ctx);
}

int bkp_media_forget(bkp_repo *r, const char *name)
{
    char file[96];
    char *dir = media_dir(r), *lockp = dir ? bkp_path_join(dir, ".lock") : NULL, *path = NULL;
    int fd = -1, rc = 0;
    snprintf(file, sizeof(file), "%s.json", name);
    if (!lockp || !bkp_medium_name_ok(name) || !(path = bkp_path_join(dir, file))) {
        rc = -EINVAL;
        goto out;
    }
    if ((fd = bkp_lock_file(lockp)) < 0)
        rc = fd;
    else
        rc = bkp_durable_unlink(path);
out:
    if (fd >= 0)
        close(fd);
    free(path);
    free(lockp);
    free(dir);
    return rc;
}
