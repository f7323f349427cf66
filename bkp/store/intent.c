#include "bkp/store/intent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uuid/uuid.h>

#define FORMAT "bkp-prune-intent"
#define VERSION 1
#define SIG_HEX 128
/* The signed message is this context, its NUL, then the body: a signature
 * made for another purpose (a generation record, whose bytes start with
 * '{') can never pass for an intent's. */
#define CONTEXT "bkp-prune-intent"

/* `n` lowercase hex digits: the one spelling bkp writes, so the one it reads. */
static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool bkp_is_object_name(const char *s)
{
    return s && strnlen(s, 2 * BKP_ID_LEN + 1) == 2 * BKP_ID_LEN && lower_hex(s, 2 * BKP_ID_LEN);
}

/* A list of `n` names has room for 16, or the power of two at or above n:
 * the count alone tells the capacity. */
static size_t room(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

int bkp_intent_add(uint8_t (**list)[BKP_ID_LEN], size_t *n, const uint8_t id[BKP_ID_LEN])
{
    if (*n == 0 || *n == room(*n)) {
        size_t want = *n ? 2 * *n : 16;
        uint8_t (*p)[BKP_ID_LEN] = realloc(*list, want * BKP_ID_LEN);
        if (!p)
            return -ENOMEM;
        *list = p;
    }
    memcpy((*list)[(*n)++], id, BKP_ID_LEN);
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, BKP_ID_LEN);
}

bool bkp_intent_lists(const uint8_t (*list)[BKP_ID_LEN], size_t n, const uint8_t id[BKP_ID_LEN])
{
    return n && bsearch(id, list, n, BKP_ID_LEN, cmp_id) != NULL;
}

void bkp_intent_free(bkp_intent *in)
{
    free(in->packs);
    free(in->old_segs);
    free(in->new_segs);
    memset(in, 0, sizeof(*in));
}

static json_t *names_json(const uint8_t (*list)[BKP_ID_LEN], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        char hex[2 * BKP_ID_LEN + 1];
        bkp_hex(hex, list[i], BKP_ID_LEN);
        if (json_array_append_new(a, json_string(hex))) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

int bkp_intent_encode(const bkp_intent *in, const bkp_keys *k, bkp_buf *out)
{
    char uuid[37], sig_hex[SIG_HEX + 1];
    uint8_t sig[64];
    if (in->npacks > BKP_INTENT_MAX_PACKS || in->nold > BKP_INTENT_MAX_SEGMENTS ||
        in->nnew > BKP_INTENT_MAX_SEGMENTS)
        return -E2BIG;
    uuid_unparse_lower(bkp_keys_repo_id(k), uuid);
    json_t *j = json_pack("{s:s, s:i, s:s, s:b, s:o*, s:o*, s:o*}", "format", FORMAT, "version",
                          VERSION, "repository", uuid, "index_written", in->index_written,
                          "packs", names_json(in->packs, in->npacks), "old_segments",
                          names_json(in->old_segs, in->nold), "new_segments",
                          names_json(in->new_segs, in->nnew));
    char *body = j && json_object_size(j) == 7 ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)
                                               : NULL;
    json_decref(j);
    if (!body)
        return -ENOMEM;
    bkp_buf_reset(out);
    bkp_buf_put(out, CONTEXT, sizeof(CONTEXT)); /* with its NUL, signed, not written */
    bkp_buf_put(out, body, strlen(body));
    bkp_buf_put(out, "\n", 1);
    free(body);
    if (out->failed)
        return -ENOMEM;
    bkp_keys_sign(k, sig, out->data, out->len);
    bkp_buf_consume(out, sizeof(CONTEXT));
    bkp_hex(sig_hex, sig, sizeof(sig));
    bkp_buf_put(out, sig_hex, SIG_HEX);
    bkp_buf_put(out, "\n", 1);
    return out->failed ? -ENOMEM : 0;
}

/* A list of names: an array of at most `max` strings of 64 lowercase hex
 * digits, sorted for lookups. */
static int names(json_t *a, size_t max, uint8_t (**list)[BKP_ID_LEN], size_t *n)
{
    json_t *v;
    size_t i;
    if (!json_is_array(a) || json_array_size(a) > max)
        return -EBADMSG;
    *list = malloc(room(json_array_size(a)) * BKP_ID_LEN);
    if (!*list)
        return -ENOMEM;
    json_array_foreach(a, i, v) {
        if (!bkp_is_object_name(json_string_value(v)) ||
            bkp_unhex((*list)[i], BKP_ID_LEN, json_string_value(v)))
            return -EBADMSG;
        (*n)++;
    }
    qsort(*list, *n, BKP_ID_LEN, cmp_id);
    return 0;
}

int bkp_intent_parse(const uint8_t *body, size_t len, const uint8_t repo_id[16], bkp_intent *out)
{
    const char *format = NULL, *repo = NULL;
    json_int_t version = 0;
    int written = 0;
    json_t *packs = NULL, *olds = NULL, *news = NULL;
    uuid_t u;
    memset(out, 0, sizeof(*out));
    if (len > BKP_INTENT_MAX_BYTES)
        return -EBADMSG;
    /* No duplicate keys, nothing after the object, no NUL inside. */
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = -EBADMSG;
    if (j && json_unpack(j, "{s:s, s:I, s:s, s:b, s:o, s:o, s:o !}", "format", &format, "version",
                         &version, "repository", &repo, "index_written", &written, "packs",
                         &packs, "old_segments", &olds, "new_segments", &news) == 0 &&
        !strcmp(format, FORMAT) && version == VERSION && strlen(repo) == 36 &&
        uuid_parse(repo, u) == 0 && memcmp(u, repo_id, 16) == 0) {
        out->index_written = written;
        rc = names(packs, BKP_INTENT_MAX_PACKS, &out->packs, &out->npacks);
        if (!rc)
            rc = names(olds, BKP_INTENT_MAX_SEGMENTS, &out->old_segs, &out->nold);
        if (!rc)
            rc = names(news, BKP_INTENT_MAX_SEGMENTS, &out->new_segs, &out->nnew);
    }
    json_decref(j);
    if (rc)
        bkp_intent_free(out);
    return rc;
}

int bkp_intent_decode(const uint8_t *buf, size_t len, const bkp_keys *k, bkp_intent *out)
{
    uint8_t sig[64];
    char sig_hex[SIG_HEX + 1];
    bkp_buf msg;
    memset(out, 0, sizeof(*out));
    /* body "\n" signature "\n", the body one line of JSON */
    if (len < SIG_HEX + 3 || len > BKP_INTENT_MAX_BYTES || buf[len - 1] != '\n' ||
        buf[len - SIG_HEX - 2] != '\n')
        return -EBADMSG;
    memcpy(sig_hex, buf + len - SIG_HEX - 1, SIG_HEX);
    sig_hex[SIG_HEX] = '\0';
    if (!lower_hex(sig_hex, SIG_HEX) || bkp_unhex(sig, sizeof(sig), sig_hex))
        return -EBADMSG;
    size_t body = len - SIG_HEX - 1; /* with its newline */
    bkp_buf_init(&msg);
    bkp_buf_put(&msg, CONTEXT, sizeof(CONTEXT));
    bkp_buf_put(&msg, buf, body);
    int rc = msg.failed ? -ENOMEM : bkp_sig_verify(bkp_keys_sign_pk(k), sig, msg.data, msg.len);
    bkp_buf_free(&msg);
    if (rc)
        return rc == -ENOMEM ? rc : -EBADMSG;
    if (memchr(buf, '\n', body - 1))
        return -EBADMSG;
    return bkp_intent_parse(buf, body - 1, bkp_keys_repo_id(k), out);
}
