/* reread.c — the state of the rolling re-read, checked before use and kept,
 * and the plan of a sample (reread.h). */
#include "bkp/audit/reread.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/store/blob.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

static int cmp_pack(const void *a, const void *b)
{
    return memcmp(((const bkp_reread_pack *)a)->id, ((const bkp_reread_pack *)b)->id, BKP_ID_LEN);
}

static int add(bkp_reread *s, const uint8_t id[BKP_ID_LEN], time_t at)
{
    if (bkp_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 64))
        return -ENOMEM;
    memcpy(s->v[s->n].id, id, BKP_ID_LEN);
    s->v[s->n++].at = at;
    return 0;
}

int bkp_reread_set(bkp_reread *s, const char *key, int64_t at, time_t now)
{
    uint8_t id[BKP_ID_LEN];
    bool run = !strcmp(key, "last_run");
    /* A pack's name as bkp writes it: lower case, so one pack has one key. */
    bool name = strlen(key) == 2 * BKP_ID_LEN && strspn(key, "0123456789abcdef") == strlen(key);
    if ((!run && (!name || bkp_unhex(id, BKP_ID_LEN, key))) || at < 0 ||
        at > (int64_t)now + 86400)
        return -EBADMSG;
    if (run)
        s->last_run = (time_t)at;
    return run ? 0 : add(s, id, (time_t)at);
}

int bkp_reread_seal(bkp_reread *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof(*s->v), cmp_pack);
    for (size_t i = 1; i < s->n; i++)
        if (!cmp_pack(&s->v[i - 1], &s->v[i]))
            return -EBADMSG;
    return 0;
}

int bkp_reread_each(const bkp_reread *s, int (*fn)(const char *key, int64_t at, void *ctx),
                    void *ctx)
{
    char hex[2 * BKP_ID_LEN + 1];
    int rc = s->last_run ? fn("last_run", (int64_t)s->last_run, ctx) : 0;
    for (size_t i = 0; !rc && i < s->n; i++) {
        bkp_hex(hex, s->v[i].id, BKP_ID_LEN);
        rc = fn(hex, (int64_t)s->v[i].at, ctx);
    }
    return rc;
}

static const bkp_reread_pack *find(const bkp_reread *s, const uint8_t id[BKP_ID_LEN])
{
    bkp_reread_pack key;
    memcpy(key.id, id, BKP_ID_LEN);
    return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_pack) : NULL;
}

time_t bkp_reread_at(const bkp_reread *s, const uint8_t id[BKP_ID_LEN])
{
    const bkp_reread_pack *p = find(s, id);
    return p ? p->at : 0;
}

int bkp_reread_mark(bkp_reread *s, char *const *hex, size_t n, time_t now)
{
    bkp_reread next;
    uint8_t id[BKP_ID_LEN];
    int rc = bkp_reread_copy(s, &next);
    size_t sorted = next.n;
    for (size_t i = 0; !rc && i < n; i++) {
        if (bkp_unhex(id, BKP_ID_LEN, hex[i]))
            continue; /* a plan names packs by their names */
        bkp_reread_pack key, *p;
        memcpy(key.id, id, BKP_ID_LEN);
        p = sorted ? bsearch(&key, next.v, sorted, sizeof(*next.v), cmp_pack) : NULL;
        if (p)
            p->at = now;
        else
            rc = add(&next, id, now);
    }
    /* A plan names each pack once: what was added is new, and once. */
    if (!rc && bkp_reread_seal(&next))
        rc = -EINVAL;
    if (rc) {
        bkp_reread_free(&next);
        return rc;
    }
    next.last_run = now;
    bkp_reread_free(s);
    *s = next;
    return 0;
}

int bkp_reread_copy(const bkp_reread *s, bkp_reread *out)
{
    *out = (bkp_reread){.last_run = s->last_run};
    if (!s->n)
        return 0;
    if (!(out->v = malloc(s->n * sizeof(*s->v))))
        return -ENOMEM;
    memcpy(out->v, s->v, s->n * sizeof(*s->v));
    out->n = out->cap = s->n;
    return 0;
}

void bkp_reread_free(bkp_reread *s)
{
    free(s->v);
    *s = (bkp_reread){0};
}

int bkp_reread_parse(const char *buf, size_t len, time_t now, bkp_reread *out)
{
    *out = (bkp_reread){0};
    if (len > BKP_REREAD_MAX)
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL), *v;
    const char *key;
    int rc = json_is_object(j) ? 0 : -EBADMSG;
    json_object_foreach(rc ? NULL : j, key, v)
    {
        rc = json_is_integer(v) ? bkp_reread_set(out, key, json_integer_value(v), now) : -EBADMSG;
        if (rc)
            break;
    }
    json_decref(j);
    if (!rc)
        rc = bkp_reread_seal(out);
    if (rc)
        bkp_reread_free(out);
    return rc;
}

static int put_json(const char *key, int64_t at, void *ctx)
{
    return json_object_set_new(ctx, key, json_integer((json_int_t)at)) ? -ENOMEM : 0;
}

char *bkp_reread_text(const bkp_reread *s)
{
    json_t *j = json_object();
    char *text = j && !bkp_reread_each(s, put_json, j) ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)
                                                       : NULL;
    json_decref(j);
    return text;
}

typedef struct aged {
    char hex[2 * BKP_ID_LEN + 1];
    time_t last;
} aged;

static int cmp_aged(const void *a, const void *b)
{
    const aged *x = a, *y = b;
    return x->last != y->last ? (x->last > y->last) - (x->last < y->last) : strcmp(x->hex, y->hex);
}

char **bkp_reread_plan(const bkp_index *x, const bkp_reread *state, double pct, time_t due,
                       size_t *n)
{
    uint32_t np = bkp_index_pack_count(x);
    aged *a = calloc(np + 1, sizeof(*a));
    char **out = calloc(np + 1, sizeof(*out));
    *n = 0;
    if (!a || !out) {
        free(a);
        free(out);
        return NULL;
    }
    for (uint32_t i = 0; i < np; i++) {
        bkp_hex(a[i].hex, bkp_index_pack_id(x, i), BKP_ID_LEN);
        a[i].last = bkp_reread_at(state, bkp_index_pack_id(x, i));
    }
    qsort(a, np, sizeof(*a), cmp_aged);
    double exact = (double)np * pct / 100.0;
    size_t want = (size_t)exact + ((double)(size_t)exact < exact); /* rounded up */
    for (size_t i = 0; i < np && (i < want || a[i].last < due); i++)
        if ((out[*n] = strdup(a[i].hex)))
            (*n)++;
    free(a);
    return out;
}

int bkp_reread_load(const bkp_repo *r, bkp_reread *out)
{
    char *p = bkp_repo_subpath(r, "cache/reread.json");
    bkp_buf data;
    bkp_buf_init(&data);
    *out = (bkp_reread){0};
    int rc = p ? bkp_read_file(p, &data, BKP_REREAD_MAX) : -ENOMEM;
    if (!rc)
        rc = bkp_reread_parse((const char *)data.data, data.len, bkp_now(), out);
    if (rc && rc != -ENOENT && rc != -ENOMEM)
        bkp_warn(_("%s is not a valid re-read state (%s): discarded, the next sample starts "
                   "with the packs it does not name"),
                 p ? p : "cache/reread.json", rc == -EFBIG ? "too large" : bkp_strerror(rc));
    bkp_buf_free(&data);
    free(p);
    return rc == -ENOMEM ? rc : 0;
}

int bkp_reread_save_ro(const bkp_repo *r, const bkp_reread *state)
{
    /* A read never writes the copy it reads (audit.h, bkp_audit_append_ro):
     * a sample of a copy on a medium by its path keeps no state there. */
    char *medium = bkp_gen_copy_medium(r);
    if (medium) {
        free(medium);
        return -EROFS;
    }
    char *dir = bkp_repo_subpath(r, "cache"), *text = bkp_reread_text(state);
    int rc = dir && text
                 ? bkp_durable_write(dir, "reread.json", text, strlen(text), BKP_DURABLE_PRIVATE)
                 : -ENOMEM;
    free(dir);
    free(text);
    return rc;
}
