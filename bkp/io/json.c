/* json.c — see json.h. */
#include "bkp/io/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bkp/io/clock.h"
#include "bkp/io/text.h"

bool bkp_jin_bad(bkp_jin *in, int rc)
{
    if (!in->rc)
        in->rc = rc;
    return false;
}

json_t *bkp_jin_member(bkp_jin *in, const json_t *j, const char *k, json_type t)
{
    json_t *v = in->rc ? NULL : json_object_get(j, k);
    if (!v || json_is_null(v))
        return NULL;
    if (json_typeof(v) != t && !(t == JSON_REAL && json_is_integer(v)) &&
        !(t == JSON_TRUE && json_is_boolean(v)))
        return bkp_jin_bad(in, -EBADMSG), NULL;
    return v;
}

char *bkp_jin_str(bkp_jin *in, const json_t *j, const char *k)
{
    json_t *v = bkp_jin_member(in, j, k, JSON_STRING);
    char *s = v ? strdup(json_string_value(v)) : NULL;
    if (v && !s)
        bkp_jin_bad(in, -ENOMEM);
    return s;
}

void bkp_jin_text(bkp_jin *in, const json_t *j, const char *k, char *buf, size_t n)
{
    json_t *v = bkp_jin_member(in, j, k, JSON_STRING);
    if (v && json_string_length(v) >= n)
        bkp_jin_bad(in, -EBADMSG);
    else if (v)
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
}

bool bkp_jin_flag(bkp_jin *in, const json_t *j, const char *k)
{
    return json_is_true(bkp_jin_member(in, j, k, JSON_TRUE));
}

int bkp_jin_tri(bkp_jin *in, const json_t *j, const char *k)
{
    json_t *v = bkp_jin_member(in, j, k, JSON_TRUE);
    return !v ? -1 : json_is_true(v) ? 1 : 0;
}

int64_t bkp_jin_integer(bkp_jin *in, const json_t *j, const char *k, int64_t lo, int64_t hi,
                        int64_t none)
{
    json_t *v = bkp_jin_member(in, j, k, JSON_INTEGER);
    if (!v)
        return none;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return bkp_jin_bad(in, -EBADMSG), none;
    return x;
}

double bkp_jin_number(bkp_jin *in, const json_t *j, const char *k, double lo, double hi,
                      double none)
{
    json_t *v = bkp_jin_member(in, j, k, JSON_REAL);
    if (!v)
        return none;
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) /* NaN too */
        return bkp_jin_bad(in, -EBADMSG), none;
    return x;
}

time_t bkp_jin_time(bkp_jin *in, const json_t *j, const char *k)
{
    time_t t = 0;
    if (!in->rc && (!bkp_json_time(j, k, &t) || (json_is_string(json_object_get(j, k)) && !t)))
        bkp_jin_bad(in, -EBADMSG);
    return in->rc ? 0 : t;
}

time_t bkp_jin_time_given(bkp_jin *in, const json_t *j, const char *k)
{
    time_t t = bkp_jin_time(in, j, k);
    if (!t)
        bkp_jin_bad(in, -EBADMSG);
    return t;
}

json_t *bkp_jin_objects(bkp_jin *in, const json_t *j, const char *k, void **v, size_t size)
{
    json_t *a = bkp_jin_member(in, j, k, JSON_ARRAY), *o;
    size_t i;
    if (!a || !json_array_size(a))
        return NULL;
    json_array_foreach(a, i, o) if (!json_is_object(o)) return bkp_jin_bad(in, -EBADMSG), NULL;
    if (!(*v = calloc(json_array_size(a), size)))
        return bkp_jin_bad(in, -ENOMEM), NULL;
    return a;
}

json_t *bkp_json_bytes(const char *s)
{
    char *t = bkp_bytes_text(s);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j;
}

json_t *bkp_json_strlist(const bkp_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, bkp_json_bytes(l->v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

bool bkp_json_time(const json_t *j, const char *key, time_t *t)
{
    json_t *v = json_object_get(j, key);
    char canon[32];
    *t = 0;
    if (!v || json_is_null(v))
        return true;
    *t = json_is_string(v) ? bkp_iso_parse(json_string_value(v)) : -1;
    if (*t < 0)
        return false;
    bkp_iso_time(canon, sizeof(canon), *t);
    return !strcmp(canon, json_string_value(v));
}

json_t *bkp_json_when(time_t t)
{
    char buf[32];
    if (!t)
        return json_null();
    bkp_iso_time(buf, sizeof(buf), t);
    return json_string(buf);
}

void bkp_json_value_text(char *out, size_t n, const json_t *v)
{
    size_t i;
    json_t *x;
    out[0] = '\0';
    if (json_is_string(v))
        bkp_strappend(out, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        bkp_strappend(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        bkp_strappend(out, n, "%.1f", json_real_value(v));
    else if (json_is_boolean(v))
        bkp_strappend(out, n, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_array(v))
        json_array_foreach(v, i, x)
        {
            size_t at = strlen(out);
            if (i)
                bkp_strappend(out, n, ",");
            at = strlen(out);
            if (at + 1 < n) /* the element in place: as long as the room left */
                bkp_json_value_text(out + at, n - at, x);
        }
}
