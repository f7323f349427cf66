/* reread.c — the state of the rolling re-read, checked before use and kept,
 * and the plan of a sample (reread.h). */
#include "bkp/audit/reread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/store/blob.h"
#include "bkp/io/bytes.h"
#include "bkp/io/clock.h"
#include "bkp/io/durable.h"
#include "bkp/store/generation.h"
#include "bkp/io/i18n.h"
#include "bkp/io/log.h"

bool bkp_reread_valid(const json_t *state, time_t now)
{
    const char *key;
    json_t *v;
    if (!json_is_object(state))
        return false;
    /* A time a day ahead is a clock that was set back since; further ahead
     * would keep a pack out of the sample for ever. */
    json_int_t limit = (json_int_t)now + 86400;
    json_object_foreach((json_t *)state, key, v)
    {
        uint8_t id[BKP_ID_LEN];
        if (strcmp(key, "last_run") && bkp_unhex(id, BKP_ID_LEN, key))
            return false;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > limit)
            return false;
    }
    return true;
}

int bkp_reread_parse(const char *buf, size_t len, time_t now, json_t **out)
{
    if (len > BKP_REREAD_MAX)
        return -EBADMSG;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!bkp_reread_valid(j, now)) {
        json_decref(j);
        return -EBADMSG;
    }
    *out = j;
    return 0;
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

char **bkp_reread_plan(const bkp_index *x, const json_t *state, double pct, time_t due,
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
        a[i].last = (time_t)json_integer_value(json_object_get(state, a[i].hex));
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

json_t *bkp_reread_load(const bkp_repo *r)
{
    char *p = bkp_repo_subpath(r, "cache/reread.json");
    json_t *j = NULL;
    bkp_buf data;
    bkp_buf_init(&data);
    int rc = p ? bkp_read_file(p, &data, BKP_REREAD_MAX) : -ENOMEM;
    if (!rc)
        rc = bkp_reread_parse((const char *)data.data, data.len, bkp_now(), &j);
    if (rc && rc != -ENOENT)
        bkp_warn(_("%s is not a valid re-read state (%s): discarded, the next sample starts "
                   "with the packs it does not name"),
                 p ? p : "cache/reread.json", rc == -EFBIG ? "too large" : bkp_strerror(rc));
    bkp_buf_free(&data);
    free(p);
    return j ? j : json_object();
}

static int reread_save(const bkp_repo *r, const json_t *state)
{
    char *dir = bkp_repo_subpath(r, "cache"),
         *text = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = dir && text
                 ? bkp_durable_write(dir, "reread.json", text, strlen(text), BKP_DURABLE_PRIVATE)
                 : -ENOMEM;
    free(dir);
    free(text);
    return rc;
}

int bkp_reread_save(bkp_repo *r, const json_t *state)
{
    return reread_save(r, state);
}

int bkp_reread_save_ro(const bkp_repo *r, const json_t *state)
{
    /* A read never writes the copy it reads (audit.h, bkp_audit_append_ro):
     * a sample of a copy on a medium by its path keeps no state there. */
    char *medium = bkp_gen_copy_medium(r);
    free(medium);
    return medium ? -EROFS : reread_save(r, state);
}
