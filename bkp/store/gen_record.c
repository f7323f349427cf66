/*
 * gen_record.c — a generation record's one codec (generation.h): the JSON
 * that is signed into DATASET/SEQ.gen, read into a bkp_gen and written from
 * one (FORMAT.md §7).
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/store/generation_internal.h"

/* The figures of "stats", by key. */
static const struct {
    const char *key;
    size_t at;
} stats_keys[] = {
#define K(f) {#f, offsetof(bkp_gen_stats, f)}
    K(files),      K(dirs),       K(hardlinks),  K(other),       K(bytes),
    K(bytes_read), K(files_unchanged), K(chunks), K(chunks_new), K(bytes_new),
    K(stored_new), K(files_added), K(files_changed), K(files_touched), K(files_deleted),
#undef K
};
#define NSTATS (sizeof(stats_keys) / sizeof(stats_keys[0]))

static uint64_t *stat_at(bkp_gen_stats *s, size_t i)
{
    return (uint64_t *)((char *)s + stats_keys[i].at);
}

/* A figure of the record: a count, 0 when absent or not one (an earlier
 * bkp wrote fewer). */
static uint64_t count_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* A time of the record, 0 unless exactly as bkp writes one (a leap second
 * of 9999 would read as a year that cannot be written back). */
static time_t parse_iso(const char *s)
{
    char canon[32];
    time_t t = bkp_iso_parse(s);
    if (t <= 0)
        return 0;
    bkp_iso_time(canon, sizeof(canon), t);
    return strcmp(canon, s) ? 0 : t;
}

/* A string of the record, or NULL when absent, empty or not one. */
static int dup_of(json_t *o, const char *key, char **out)
{
    const char *s = json_string_value(json_object_get(o, key));
    *out = s && *s ? strdup(s) : NULL;
    return s && *s && !*out ? -ENOMEM : 0;
}

static int errors_parse(json_t *a, bkp_gen *g)
{
    size_t n = json_array_size(a);
    if (n && !(g->errors = calloc(n, sizeof(*g->errors))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        const char *p = json_string_value(json_object_get(e, "path"));
        const char *m = json_string_value(json_object_get(e, "error"));
        bkp_gen_error *x = &g->errors[g->nerrors++];
        if (!(x->path = strdup(p ? p : "")) || !(x->message = strdup(m ? m : "")))
            return -ENOMEM;
    }
    return 0;
}

/* What a record says of its capture, beyond its identity and chain. */
static int capture_parse(json_t *j, bkp_gen *g)
{
    json_t *paths = json_object_get(j, "paths"), *tree = json_object_get(j, "tree");
    json_t *stats = json_object_get(j, "stats"), *guard = json_object_get(j, "guard");
    for (size_t i = 0; i < NSTATS; i++)
        *stat_at(&g->stats, i) = count_of(stats, stats_keys[i].key);
    g->items = count_of(tree, "items");
    g->tree_bytes = count_of(tree, "bytes");
    g->tree_version = (uint32_t)count_of(tree, "version");
    json_t *uid = json_object_get(j, "uid");
    g->uid = json_is_integer(uid) ? (int64_t)json_integer_value(uid) : -1;
    g->guarded = json_is_object(guard);
    g->suspicious = json_is_true(json_object_get(guard, "suspicious"));
    g->judged = json_is_number(json_object_get(guard, "change"));
    g->change = json_number_value(json_object_get(guard, "change"));
    int rc = dup_of(j, "host", &g->host);
    rc = rc ? rc : dup_of(j, "user", &g->user);
    rc = rc ? rc : dup_of(guard, "reason", &g->guard_reason);
    rc = rc ? rc : dup_of(guard, "time", &g->guard_time);
    rc = rc ? rc : errors_parse(json_object_get(j, "errors"), g);
    size_t n = json_array_size(paths);
    if (!rc && n && !(g->paths = calloc(n, sizeof(*g->paths))))
        return -ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        const char *p = json_string_value(json_array_get(paths, i));
        if (!p)
            return -EBADMSG;
        if (!(g->paths[g->npaths++] = strdup(p)))
            return -ENOMEM;
    }
    return rc;
}

static int parse_record_json(json_t *j, const char *repo_uuid, bkp_gen *g)
{
    const char *ds = NULL, *uuid = NULL, *prev = NULL, *started = NULL, *finished = NULL;
    const char *fmt = NULL, *repo = NULL;
    json_int_t seq = 0, version = 0;
    json_t *blobs = NULL, *pv = NULL;
    if (!j ||
        json_unpack(j, "{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:{s:o}}", "format", &fmt,
                    "version", &version, "repository", &repo, "dataset", &ds, "seq", &seq, "uuid",
                    &uuid, "started", &started, "finished", &finished, "prev", &pv, "tree",
                    "blobs", &blobs) != 0)
        return -EBADMSG;
    if (strcmp(fmt, BKP_GEN_RECORD_FORMAT) != 0 || version != BKP_GEN_RECORD_VERSION || strlen(uuid) != 36 ||
        seq < 1 || seq > 4000000000LL || !json_is_array(blobs) || strcmp(repo, repo_uuid) != 0 ||
        !bkp_dataset_name_ok(ds))
        return -EBADMSG;
    prev = json_is_string(pv) ? json_string_value(pv) : NULL;
    if (prev) {
        if (bkp_unhex(g->prev, BKP_ID_LEN, prev) != 0)
            return -EBADMSG;
        g->has_prev = true;
    } else if (!json_is_null(pv)) {
        return -EBADMSG;
    }
    g->dataset = strdup(ds);
    g->seq = (uint32_t)seq;
    memcpy(g->uuid, uuid, 37);
    g->started = parse_iso(started);
    g->finished = parse_iso(finished);
    g->ntree = json_array_size(blobs);
    g->tree = malloc(g->ntree * BKP_ID_LEN + 1);
    if (!g->dataset || !g->tree)
        return -ENOMEM;
    for (size_t i = 0; i < g->ntree; i++) {
        const char *h = json_string_value(json_array_get(blobs, i));
        if (!h || bkp_unhex(g->tree + i * BKP_ID_LEN, BKP_ID_LEN, h) != 0)
            return -EBADMSG;
    }
    return capture_parse(j, g);
}

int bkp_gen_record_parse(const uint8_t *text, size_t len, const char *repo_uuid, bkp_gen *g)
{
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = parse_record_json(j, repo_uuid, g);
    json_decref(j);
    return rc ? rc : bkp_gen_keep_text(text, len, g);
}

/* ---- the emitter ---- */

static json_t *stats_json(const bkp_gen_stats *s)
{
    json_t *j = json_object();
    for (size_t i = 0; j && i < NSTATS; i++)
        if (json_object_set_new(j, stats_keys[i].key,
                                json_integer((json_int_t)*stat_at((bkp_gen_stats *)s, i)))) {
            json_decref(j);
            return NULL;
        }
    return j;
}

static json_t *errors_json(const bkp_gen *g)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < g->nerrors; i++)
        if (json_array_append_new(a, json_pack("{s:s, s:s}", "path", g->errors[i].path, "error",
                                               g->errors[i].message))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *tree_json(const bkp_gen *g)
{
    char hex[2 * BKP_ID_LEN + 1];
    json_t *blobs = json_array();
    for (size_t i = 0; blobs && i < g->ntree; i++) {
        bkp_hex(hex, g->tree + i * BKP_ID_LEN, BKP_ID_LEN);
        if (json_array_append_new(blobs, json_string(hex))) {
            json_decref(blobs);
            return NULL;
        }
    }
    return json_pack("{s:I, s:o, s:I, s:I}", "version", (json_int_t)g->tree_version, "blobs",
                     blobs, "items", (json_int_t)g->items, "bytes", (json_int_t)g->tree_bytes);
}

char *bkp_gen_record_text(const bkp_gen *g, const char *repo_uuid)
{
    char ts[32], te[32], prev[2 * BKP_ID_LEN + 1];
    bkp_iso_time(ts, sizeof(ts), g->started);
    bkp_iso_time(te, sizeof(te), g->finished);
    if (g->has_prev)
        bkp_hex(prev, g->prev, BKP_ID_LEN);
    json_t *paths = json_array();
    for (size_t i = 0; paths && i < g->npaths; i++)
        if (json_array_append_new(paths, json_string(g->paths[i]))) {
            json_decref(paths);
            paths = NULL;
        }
    json_t *j = json_pack(
        "{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:s?, s:n}",
        "format", BKP_GEN_RECORD_FORMAT, "version", BKP_GEN_RECORD_VERSION, "repository",
        repo_uuid, "dataset", g->dataset, "seq", (json_int_t)g->seq, "uuid", g->uuid, "host",
        g->host ? g->host : "", "user", g->user ? g->user : "", "uid", (json_int_t)g->uid,
        "started", ts, "finished", te, "paths", paths, "tree", tree_json(g), "stats",
        stats_json(&g->stats), "errors", errors_json(g), "prev", g->has_prev ? prev : NULL,
        "policy_digest");
    if (j && !json_object_get(j, "prev"))
        json_object_set_new(j, "prev", json_null());
    if (j && g->guarded) {
        json_t *guard = json_pack("{s:b, s:s}", "suspicious", g->suspicious, "reason",
                                  g->guard_reason ? g->guard_reason : "");
        if (guard && g->judged)
            json_object_set_new(guard, "change", json_real(g->change));
        if (guard && g->guard_time)
            json_object_set_new(guard, "time", json_string(g->guard_time));
        if (!guard || json_object_set_new(j, "guard", guard)) {
            json_decref(j);
            j = NULL;
        }
    }
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return text;
}
