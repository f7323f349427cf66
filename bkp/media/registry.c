/* registry.c — the registry of media, its entry's one codec (registry.h). */
#include "bkp/media/registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bkp/audit/reread.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/io/i18n.h"
#include "bkp/io/lock.h"
#include "bkp/io/log.h"
#include "bkp/io/json.h"
#include "bkp/io/text.h"

/* An entry holds a label, a few times, the generations a medium holds and
 * its re-read state: the re-read state's cap and room for the rest. */
#define ENTRY_MAX (BKP_REREAD_MAX + (4U << 20))
/* A probe's detail is a line or two of what was tried and seen. */
#define DETAIL_MAX 4096

/* ---- the entry's codec ---- */

void bkp_media_entry_clear(bkp_media_entry *e)
{
    free(e->path);
    free(e->held);
    free(e->probe.detail);
    bkp_reread_free(&e->reread);
    memset(e, 0, sizeof(*e));
}

void bkp_media_entries_free(bkp_media_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bkp_media_entry_clear(&v[i]);
    free(v);
}

static int held_parse(const json_t *a, bkp_media_entry *e)
{
    size_t i;
    json_t *g;
    if (!json_is_array(a))
        return -EBADMSG;
    if (json_array_size(a) && !(e->held = calloc(json_array_size(a), sizeof(*e->held))))
        return -ENOMEM;
    json_array_foreach(a, i, g)
    {
        bkp_media_held *h = &e->held[i];
        json_t *seq = json_object_get(g, "seq");
        const char *ds = json_string_value(json_object_get(g, "dataset"));
        const char *uuid = json_string_value(json_object_get(g, "uuid"));
        const char *fin = json_string_value(json_object_get(g, "finished"));
        if (!json_is_object(g) || !bkp_medium_name_ok(ds) || !json_is_integer(seq) ||
            json_integer_value(seq) < 1 || json_integer_value(seq) > UINT32_MAX || !bkp_medium_uuid_ok(uuid) || !fin || strlen(fin) >= sizeof(h->finished) ||
            bkp_iso_parse(fin) < 0)
            return -EBADMSG;
        snprintf(h->dataset, sizeof(h->dataset), "%s", ds);
        h->seq = (uint32_t)json_integer_value(seq);
        memcpy(h->uuid, uuid, 37);
        snprintf(h->finished, sizeof(h->finished), "%s", fin);
        e->n_held++;
    }
    e->held_known = true;
    return 0;
}

/* An S3 version id as the registry notes it: printable, no space, bounded
 * (it is sent URL-encoded, s3_ops.c). */
static bool version_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return n > 0 && n <= BKP_S3_VERSION_MAX;
}

/* The re-read state under "reread", by the rule of its own file
 * (reread.h); empty when out of shape. */
static int reread_parse(const json_t *v, time_t now, bkp_reread *out)
{
    const char *key;
    json_t *at;
    int rc = json_is_object(v) ? 0 : -EBADMSG;
    json_object_foreach((json_t *)(rc ? NULL : v), key, at)
    {
        rc = json_is_integer(at) ? bkp_reread_set(out, key, json_integer_value(at), now) : -EBADMSG;
        if (rc)
            break;
    }
    if (!rc)
        rc = bkp_reread_seal(out);
    if (rc)
        bkp_reread_free(out);
    return rc;
}

static int reread_put(const char *key, int64_t at, void *ctx)
{
    return json_object_set_new(ctx, key, json_integer((json_int_t)at)) ? -ENOMEM : 0;
}

/* The last rotation's attempt: printed for a person, and asked about by
 * status; out of shape, none. */
static void attempt_parse(const json_t *a, bkp_media_attempt *out)
{
    bkp_media_attempt t = {0};
    const char *host = json_string_value(json_object_get(a, "host"));
    const char *why = json_string_value(json_object_get(a, "why"));
    const char *why_ja = json_string_value(json_object_get(a, "why_ja"));
    json_t *pid = json_object_get(a, "pid"), *failed = json_object_get(a, "failed");
    if (!json_is_object(a) || !bkp_json_time(a, "began", &t.began) || t.began <= 0 ||
        !bkp_json_time(a, "ended", &t.ended) || !json_is_boolean(failed) || !host ||
        strlen(host) >= sizeof(t.host) || !json_is_integer(pid) || json_integer_value(pid) < 1 ||
        json_integer_value(pid) > INT32_MAX || (why && strlen(why) >= sizeof(t.why)) ||
        (why_ja && strlen(why_ja) >= sizeof(t.why_ja)))
        return;
    t.failed = json_is_true(failed);
    t.full = t.failed && json_is_true(json_object_get(a, "full"));
    t.pruned_first = t.full && json_is_true(json_object_get(a, "pruned_first"));
    t.pid = (long)json_integer_value(pid);
    snprintf(t.host, sizeof(t.host), "%s", host);
    snprintf(t.why, sizeof(t.why), "%s", why ? why : "");
    snprintf(t.why_ja, sizeof(t.why_ja), "%s", why_ja ? why_ja : "");
    *out = t;
}

/* What the entry notes besides, each dropped alone when out of shape: it
 * only says where to look first, or is printed for a person. */
static int extras_parse(const json_t *j, time_t now, bkp_media_entry *e)
{
    json_t *v = json_object_get(j, "reread"), *p = json_object_get(j, "probe");
    /* The re-read state only orders a sample, and its times are judged by
     * the clock. */
    int rc = v ? reread_parse(v, now, &e->reread) : 0;
    if (rc == -ENOMEM)
        return rc;
    /* The label's version id is a hint where to look first (bucket.h). */
    const char *ver = json_string_value(json_object_get(j, "label_version"));
    if (version_ok(ver))
        snprintf(e->label_version, sizeof(e->label_version), "%s", ver);
    /* The kit's fingerprint is printed for a person to compare. */
    const char *kit = json_string_value(json_object_get(j, "kit_sha256"));
    if (kit && strlen(kit) == 64 && strspn(kit, "0123456789abcdef") == 64)
        memcpy(e->kit_sha256, kit, 65);
    /* The bytes it held, printed for a person. */
    json_t *bytes = json_object_get(j, "bytes");
    if (json_is_integer(bytes) && json_integer_value(bytes) > 0)
        e->bytes = (uint64_t)json_integer_value(bytes);
    /* And the room left beside what the rotation wrote, for a warning. */
    json_t *free_after = json_object_get(j, "free_after"), *wrote = json_object_get(j, "wrote");
    if (json_is_integer(free_after) && json_integer_value(free_after) >= 0 &&
        json_is_integer(wrote) && json_integer_value(wrote) >= 0) {
        e->has_free = true;
        e->free_after = (uint64_t)json_integer_value(free_after);
        e->wrote = (uint64_t)json_integer_value(wrote);
    }
    /* How its sealed files were left, shown to an inspector. */
    const char *sealed = json_string_value(json_object_get(j, "sealed"));
    e->sealed = !sealed                      ? BKP_SEALED_UNKNOWN
                : !strcmp(sealed, "immutable") ? BKP_SEALED_IMMUTABLE
                : !strcmp(sealed, "mode")      ? BKP_SEALED_MODE
                                               : BKP_SEALED_UNKNOWN;
    attempt_parse(json_object_get(j, "attempt"), &e->attempt);
    const char *detail = json_string_value(json_object_get(p, "detail"));
    time_t when;
    if (json_is_object(p) && bkp_json_time(p, "when", &when) && when > 0 &&
        json_is_boolean(json_object_get(p, "proven")) && (!detail || strlen(detail) < DETAIL_MAX)) {
        e->probe.when = when;
        e->probe.proven = json_is_true(json_object_get(p, "proven"));
        if (detail && !(e->probe.detail = strdup(detail)))
            return -ENOMEM;
    }
    return 0;
}

int bkp_media_entry_parse(const void *buf, size_t len, const char *name, time_t now,
                          bkp_media_entry *out)
{
    memset(out, 0, sizeof(*out));
    if (len > ENTRY_MAX || !bkp_medium_name_ok(name))
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL), *v;
    const char *path = json_string_value(json_object_get(j, "path"));
    bkp_media_entry e = {0};
    int rc = json_is_object(j) && !bkp_label_from_json(json_object_get(j, "label"), &e.label) &&
                     !strcmp(e.label.name, name) &&
                     (!json_object_get(j, "path") || (path && path[0] == '/' && strlen(path) < 4096)) &&
                     bkp_json_time(j, "labelled", &e.labelled) && bkp_json_time(j, "last_seen", &e.last_seen) &&
                     bkp_json_time(j, "last_write", &e.last_write) &&
                     bkp_json_time(j, "last_verify", &e.last_verify)
                 ? 0
                 : -EBADMSG;
    if (!rc && (v = json_object_get(j, "verify_ok")))
        rc = json_is_boolean(v) ? 0 : -EBADMSG;
    if (!rc && v)
        e.verify = json_is_true(v) ? BKP_MEDIA_VERIFIED : BKP_MEDIA_FAILED;
    if (!rc && (v = json_object_get(j, "held")))
        rc = held_parse(v, &e);
    if (!rc && path && !(e.path = strdup(path)))
        rc = -ENOMEM;
    if (!rc)
        rc = extras_parse(j, now, &e);
    json_decref(j);
    if (rc)
        bkp_media_entry_clear(&e);
    else
        *out = e;
    return rc;
}

static int set_time(json_t *j, const char *key, time_t t)
{
    char iso[32];
    if (!t)
        return 0;
    bkp_iso_time(iso, sizeof(iso), t);
    return json_object_set_new(j, key, json_string(iso));
}

json_t *bkp_media_held_json(const bkp_media_held *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const bkp_media_held *h = &v[i];
        if (json_array_append_new(a, json_pack("{s:s, s:I, s:s, s:s}", "dataset", h->dataset,
                                               "seq", (json_int_t)h->seq, "uuid", h->uuid,
                                               "finished", h->finished))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *bkp_media_entry_json(const bkp_media_entry *e)
{
    json_t *j = json_object();
    int bad = !j || json_object_set_new(j, "label", bkp_label_json(&e->label));
    if (!bad && e->path)
        bad = json_object_set_new(j, "path", json_string(e->path));
    bad = bad || set_time(j, "labelled", e->labelled) || set_time(j, "last_seen", e->last_seen) ||
          set_time(j, "last_write", e->last_write) || set_time(j, "last_verify", e->last_verify);
    if (!bad && e->verify)
        bad = json_object_set_new(j, "verify_ok", json_boolean(e->verify == BKP_MEDIA_VERIFIED));
    if (!bad && e->held_known)
        bad = json_object_set_new(j, "held", bkp_media_held_json(e->held, e->n_held));
    if (!bad && e->probe.when) {
        char when[32];
        bkp_iso_time(when, sizeof(when), e->probe.when);
        bad = json_object_set_new(j, "probe", json_pack("{s:s, s:b, s:s}", "when", when, "proven",
                                                        e->probe.proven, "detail",
                                                        e->probe.detail ? e->probe.detail : ""));
    }
    if (!bad && e->label_version[0])
        bad = json_object_set_new(j, "label_version", json_string(e->label_version));
    if (!bad && e->kit_sha256[0])
        bad = json_object_set_new(j, "kit_sha256", json_string(e->kit_sha256));
    if (!bad && e->bytes)
        bad = json_object_set_new(j, "bytes", json_integer((json_int_t)e->bytes));
    if (!bad && e->has_free)
        bad = json_object_set_new(j, "free_after",
                                  json_integer(e->free_after > INT64_MAX ? INT64_MAX
                                                                         : (json_int_t)e->free_after)) ||
              json_object_set_new(j, "wrote", json_integer(e->wrote > INT64_MAX
                                                               ? INT64_MAX
                                                               : (json_int_t)e->wrote));
    if (!bad && e->sealed)
        bad = json_object_set_new(
            j, "sealed", json_string(e->sealed == BKP_SEALED_IMMUTABLE ? "immutable" : "mode"));
    if (!bad && e->attempt.began) {
        const bkp_media_attempt *t = &e->attempt;
        json_t *a = json_pack("{s:b, s:s, s:I}", "failed", t->failed, "host", t->host, "pid",
                              (json_int_t)t->pid);
        if (!a || set_time(a, "began", t->began) || set_time(a, "ended", t->ended) ||
            (t->why[0] && json_object_set_new(a, "why", json_string(t->why))) ||
            (t->why_ja[0] && json_object_set_new(a, "why_ja", json_string(t->why_ja))) ||
            (t->full && json_object_set_new(a, "full", json_true())) ||
            (t->pruned_first && json_object_set_new(a, "pruned_first", json_true()))) {
            json_decref(a);
            bad = 1;
        } else {
            bad = json_object_set_new(j, "attempt", a);
        }
    }
    if (!bad && (e->reread.last_run || e->reread.n)) {
        json_t *rr = json_object();
        bad = !rr || bkp_reread_each(&e->reread, reread_put, rr) ||
              json_object_set_new(j, "reread", rr);
    }
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int held_copy(bkp_media_held **to, size_t *nto, const bkp_media_held *v, size_t n)
{
    bkp_media_held *c = n ? malloc(n * sizeof(*c)) : NULL;
    if (n && !c)
        return -ENOMEM;
    if (n)
        memcpy(c, v, n * sizeof(*c));
    free(*to);
    *to = c;
    *nto = n;
    return 0;
}

int bkp_media_entry_set_held(bkp_media_entry *e, const bkp_media_held *v, size_t n)
{
    e->held_known = true;
    return held_copy(&e->held, &e->n_held, v, n);
}

int bkp_media_entry_add_held(bkp_media_entry *e, const bkp_media_held *v, size_t n)
{
    bkp_media_held *all = malloc((e->n_held + n + 1) * sizeof(*all));
    size_t k = e->n_held;
    if (!all)
        return -ENOMEM;
    if (e->n_held)
        memcpy(all, e->held, e->n_held * sizeof(*all));
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < k && !(all[j].seq == v[i].seq && !strcmp(all[j].dataset, v[i].dataset)))
            j++;
        all[j == k ? k++ : j] = v[i]; /* what it took now says it */
    }
    free(e->held);
    e->held = all;
    e->n_held = k;
    e->held_known = true;
    return 0;
}

/* ---- the registry's files ---- */

static char *media_dir(const bkp_repo *r)
{
    return bkp_repo_subpath(r, "media");
}

int bkp_media_read(const bkp_repo *r, const char *name, bkp_media_entry *out)
{
    char file[96];
    char *dir = NULL, *path = NULL;
    bkp_buf data;
    int rc;
    memset(out, 0, sizeof(*out));
    if (!bkp_medium_name_ok(name))
        return -EINVAL;
    bkp_buf_init(&data);
    snprintf(file, sizeof(file), "%s.json", name);
    dir = media_dir(r);
    path = dir ? bkp_path_join(dir, file) : NULL;
    rc = path ? bkp_read_file(path, &data, ENTRY_MAX) : -ENOMEM;
    if (!rc)
        rc = bkp_media_entry_parse(data.data, data.len, name, bkp_now(), out);
    /* A catalog entry out of shape is not used: the medium's own label and
     * copy are checked whenever it is written or verified. */
    if (rc && rc != -ENOENT && rc != -ENOMEM)
        bkp_warn(_("%s is not a valid registry entry (%s): ignored; label the medium again with "
                   "`bkp media label PATH --name %s --force` to register it anew"),
                 path ? path : file, rc == -EFBIG ? "too large" : bkp_strerror(rc), name);
    bkp_buf_free(&data);
    free(path);
    free(dir);
    return rc;
}

bkp_media_entry *bkp_media_get(const bkp_repo *r, const char *name)
{
    bkp_media_entry *e = malloc(sizeof(*e));
    if (e && bkp_media_read(r, name, e)) { /* absent, invalid or unreadable: nothing known */
        free(e);
        e = NULL;
    }
    return e;
}

void bkp_media_free(bkp_media_entry *e)
{
    if (e)
        bkp_media_entry_clear(e);
    free(e);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the registry's entries, sorted, into `*out` (`*n`): 0 or
 * -ENOMEM. */
static int entry_names(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    *n = 0;
    if (!d && errno != ENOENT) {
        rc = -errno; /* not "no media": the pins check would pass */
        bkp_error(_("cannot read the media registry %s: %s"), dir, bkp_strerror(rc));
    }
    while (!rc && d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if ((rc = bkp_grow(&names, &cap, *n, sizeof(*names), 16)))
            break;
        if (!(names[*n] = strndup(e->d_name, l - 5))) {
            rc = -ENOMEM;
            break;
        }
        if (!bkp_medium_name_ok(names[*n])) {
            bkp_warn(_("%s/%s is not named as a registry entry (NAME.json, NAME a medium name): "
                       "ignored"),
                     dir, e->d_name);
            free(names[*n]);
            continue;
        }
        (*n)++;
    }
    if (d)
        closedir(d);
    if (*n)
        qsort(names, *n, sizeof(*names), cmp_name);
    *out = names;
    return rc;
}

int bkp_media_list(const bkp_repo *r, bkp_media_entry **out, size_t *n)
{
    char *dir = media_dir(r), **names = NULL;
    size_t nn = 0;
    int rc = dir ? entry_names(dir, &names, &nn) : -ENOMEM;
    bkp_media_entry *v = !rc && nn ? calloc(nn, sizeof(*v)) : NULL;
    *out = NULL;
    *n = 0;
    if (!rc && nn && !v)
        rc = -ENOMEM;
    for (size_t i = 0; !rc && i < nn; i++) {
        int e = bkp_media_read(r, names[i], &v[*n]);
        if (!e)
            (*n)++;
        else if (e == -ENOMEM)
            rc = e; /* else: not registered any more, or not valid (warned) */
    }
    bkp_strv_free(names, nn);
    free(dir);
    if (rc || !*n) {
        bkp_media_entries_free(v, *n);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}

static int write_entry(const char *dir, const char *name, const bkp_media_entry *e)
{
    char file[96];
    json_t *j = bkp_media_entry_json(e);
    char *body = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL, *text = NULL;
    int n = body ? asprintf(&text, "%s\n", body) : -1;
    json_decref(j);
    free(body);
    if (n < 0)
        return -ENOMEM;
    snprintf(file, sizeof(file), "%s.json", name);
    int rc = bkp_durable_write(dir, file, text, (size_t)n, 0);
    free(text);
    return rc;
}

static int media_update(const bkp_repo *r, const char *name, bkp_media_update_fn fn, void *ctx)
{
    char *dir = media_dir(r), *lockp = dir ? bkp_path_join(dir, ".lock") : NULL;
    int fd = -1, rc;
    bkp_media_entry e = {0};
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
    rc = bkp_media_read(r, name, &e);
    if (rc == -ENOENT || rc == -EBADMSG || rc == -EFBIG)
        rc = 0;
    if (rc || (rc = fn(&e, ctx)))
        goto out;
    /* Every entry holds a valid label of its name (the codec's rule): a
     * note on a medium never labelled has no entry to go in. */
    if (!e.label.version)
        bkp_debug("%s is not registered: nothing noted", name);
    else if (strcmp(e.label.name, name))
        rc = -EINVAL;
    else
        rc = write_entry(dir, name, &e);
out:
    if (rc < 0)
        bkp_error(_("cannot update the media registry of %s in %s: %s"), name, dir ? dir : "?",
                  bkp_strerror(rc));
    if (fd >= 0)
        close(fd);
    bkp_media_entry_clear(&e);
    free(lockp);
    free(dir);
    return rc;
}

int bkp_media_update(bkp_repo *r, const char *name, bkp_media_update_fn fn, void *ctx)
{
    return media_update(r, name, fn, ctx);
}

int bkp_media_update_ro(const bkp_repo *r, const char *name, bkp_media_update_fn fn, void *ctx)
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

/* ---- labels held against the registry ---- */

/* Does the registry of `r` hold `uuid` as the label of the medium `name`,
 * and of no other medium? */
static bool registered_as(bkp_repo *r, const char *uuid, const char *name)
{
    size_t n;
    bkp_media_entry *all;
    bool mine = false, other = false;
    if (bkp_media_list(r, &all, &n))
        return false; /* a fresh identity */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].label.uuid, uuid))
            continue;
        if (!strcmp(all[i].label.name, name))
            mine = true;
        else
            other = true;
    }
    bkp_media_entries_free(all, n);
    return mine && !other;
}

int bkp_label_renew(bkp_repo *r, const bkp_label *old, const char *name, const char *type,
                    const char *location, bkp_label *out)
{
    int rc = bkp_label_make(out, bkp_repo_uuid(r), bkp_repo_sign_pk(r), name, type, location);
    /* Only the identity the registry gave this very disk: a label copied
     * from another disk (a dd clone, or planted) names an identity that is
     * registered under another name, or not at all. */
    if (!rc && old && !strcmp(old->repository, bkp_repo_uuid(r)) &&
        registered_as(r, old->uuid, old->name))
        memcpy(out->uuid, old->uuid, sizeof(out->uuid));
    return rc;
}

bkp_label_verdict bkp_label_judge(const bkp_repo *r, const bkp_label *l, const char *name,
                                  const bkp_media_entry *entry)
{
    char fp[BKP_FINGERPRINT_LEN];
    if (strcmp(l->repository, bkp_repo_uuid(r)))
        return BKP_LABEL_OTHER_REPO;
    /* Same repository id, another key: the medium, or the primary's config
     * and key file, were replaced; neither is written over the other. A
     * label from before labels carried the key has no fingerprint. */
    bkp_pubkey_fingerprint(bkp_repo_sign_pk(r), fp);
    if (l->fingerprint[0] && strcmp(l->fingerprint, fp))
        return BKP_LABEL_OTHER_KEY;
    if (strcmp(l->name, name))
        return BKP_LABEL_OTHER_NAME;
    if (entry && strcmp(entry->label.uuid, l->uuid))
        return BKP_LABEL_OTHER_DISK;
    return entry ? BKP_LABEL_OURS : BKP_LABEL_UNREGISTERED;
}
