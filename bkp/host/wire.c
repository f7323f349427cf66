/*
 * wire.c — the agent's frames and their typed payloads (wire.h).
 */
#include "bkp/host/wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <lz4.h>

#include "bkp/capture/walk.h"
#include "bkp/io/bytes.h"
#include "bkp/io/fdio.h"
#include "bkp/io/text.h"
#include "bkp/store/layout.h"

static bool type_ok(int t)
{
    return t == BKP_WIRE_HELLO || t == BKP_WIRE_DATA_FRAME || t == BKP_WIRE_DATA_LZ4 ||
           t == BKP_WIRE_END || t == BKP_WIRE_REFUSED || t == BKP_WIRE_STAMPS;
}

int bkp_wire_header(const uint8_t h[BKP_WIRE_HEADER], int *type, uint32_t *len)
{
    uint32_t n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    if (!type_ok(h[0]) || n > BKP_WIRE_MAX)
        return -EPROTO;
    *type = h[0];
    *len = n;
    return 0;
}

int bkp_wire_head(uint8_t h[BKP_WIRE_HEADER], int type, size_t len)
{
    if (!type_ok(type) || len > BKP_WIRE_MAX)
        return -EINVAL;
    h[0] = (uint8_t)type;
    h[1] = (uint8_t)(len >> 24);
    h[2] = (uint8_t)(len >> 16);
    h[3] = (uint8_t)(len >> 8);
    h[4] = (uint8_t)len;
    return 0;
}

int bkp_wire_send(int fd, int type, const void *payload, size_t len)
{
    uint8_t h[BKP_WIRE_HEADER];
    int rc = bkp_wire_head(h, type, len);
    if (rc)
        return rc;
    rc = bkp_write_full(fd, h, sizeof(h));
    return rc || !len ? rc : bkp_write_full(fd, payload, len);
}

/* Read exactly `len` bytes: 0, 1 at the end before any, -EPIPE at the end
 * after some, -ETIME when nothing came for `idle_ms` (> 0), or a negative
 * errno. */
static int read_exact(int fd, uint8_t *buf, size_t len, int idle_ms)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = idle_ms > 0 ? poll(&p, 1, idle_ms) : 1;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            return -ETIME;
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return got ? -EPIPE : 1;
        got += (size_t)n;
    }
    return 0;
}

int bkp_wire_recv(int fd, bkp_wire_frame *f)
{
    return bkp_wire_recv_within(fd, f, 0);
}

int bkp_wire_recv_within(int fd, bkp_wire_frame *f, int idle_ms)
{
    int rc = read_exact(fd, f->head, sizeof(f->head), idle_ms);
    if (rc)
        return rc;
    if ((rc = bkp_wire_header(f->head, &f->type, &f->len)))
        return rc;
    if (!f->data && !(f->data = malloc(BKP_WIRE_MAX)))
        return -ENOMEM;
    rc = read_exact(fd, f->data, f->len, idle_ms);
    return rc == 1 ? -EPIPE : rc;
}

void bkp_wire_frame_clear(bkp_wire_frame *f)
{
    free(f->data);
    memset(f, 0, sizeof(*f));
}

int bkp_wire_data(const bkp_wire_frame *f, uint8_t *out)
{
    if (f->type == BKP_WIRE_DATA_FRAME) {
        if (f->len > BKP_WIRE_DATA)
            return -EBADMSG;
        memcpy(out, f->data, f->len);
        return (int)f->len;
    }
    if (f->type != BKP_WIRE_DATA_LZ4 || f->len < 4)
        return -EBADMSG;
    uint32_t raw = (uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
                   (uint32_t)f->data[2] << 8 | f->data[3];
    if (raw > BKP_WIRE_DATA)
        return -EBADMSG;
    int n =
        LZ4_decompress_safe((const char *)f->data + 4, (char *)out, (int)(f->len - 4), (int)raw);
    return n == (int)raw ? n : -EBADMSG;
}

int bkp_wire_send_data(int fd, const void *buf, size_t len)
{
    static _Thread_local char z[4 + LZ4_COMPRESSBOUND(BKP_WIRE_DATA)];
    if (len > BKP_WIRE_DATA)
        return -EINVAL;
    int c = LZ4_compress_default(buf, z + 4, (int)len, LZ4_COMPRESSBOUND(BKP_WIRE_DATA));
    if (c <= 0 || (size_t)c + 4 > len - len / 10)
        return bkp_wire_send(fd, BKP_WIRE_DATA_FRAME, buf, len);
    z[0] = (char)(len >> 24);
    z[1] = (char)(len >> 16);
    z[2] = (char)(len >> 8);
    z[3] = (char)len;
    return bkp_wire_send(fd, BKP_WIRE_DATA_LZ4, z, (size_t)c + 4);
}

static json_t *load(const void *buf, size_t len)
{
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

bool bkp_wire_path_ok(const char *s)
{
    if (!s || s[0] != '/' || strlen(s) > 4095)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A list of strings each `ok`, into a NULL-terminated array. */
static bool list(const json_t *a, bool (*ok)(const char *), char ***out, size_t *n)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) > BKP_WIRE_LIST)
        return false;
    if (!(*out = calloc(json_array_size(a) + 1, sizeof(char *))))
        return false;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !ok(s) || !((*out)[i] = strdup(s)))
            return false;
        *n = i + 1;
    }
    return true;
}

int bkp_wire_hello_parse(const void *buf, size_t len, bkp_wire_hello *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j = load(buf, len);
    const char *version = json_string_value(json_object_get(j, "version"));
    json_t *proto = json_object_get(j, "protocol");
    bool ok = j && json_is_integer(proto) && json_integer_value(proto) >= 1 &&
              json_integer_value(proto) <= 1000 && version &&
              strlen(version) < sizeof(out->version);
    for (const char *p = version; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    if (ok) {
        out->protocol = (int)json_integer_value(proto);
        strcpy(out->version, version);
        json_t *unreadable = json_object_get(j, "unreadable"), *missing = json_object_get(j, "missing");
        ok = list(json_object_get(j, "read"), bkp_wire_path_ok, &out->read, &out->nread) &&
             list(json_object_get(j, "commands"), bkp_dataset_name_ok, &out->commands,
                  &out->ncommands) &&
             (!unreadable ||
              list(unreadable, bkp_wire_path_ok, &out->unreadable, &out->nunreadable)) &&
             (!missing || list(missing, bkp_wire_path_ok, &out->missing, &out->nmissing));
        out->checked = unreadable || missing;
    }
    json_decref(j);
    if (!ok) {
        bkp_wire_hello_clear(out);
        return -EBADMSG;
    }
    return 0;
}

static char *emit(json_t *j, size_t *len)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (s)
        *len = strlen(s);
    return s;
}

static json_t *strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

char *bkp_wire_hello_emit(const bkp_wire_hello *h, size_t *len)
{
    return emit(json_pack("{s:i, s:s, s:o*, s:o*, s:o*, s:o*}", "protocol", h->protocol,
                          "version", h->version, "read", strings(h->read, h->nread), "commands",
                          strings(h->commands, h->ncommands), "unreadable",
                          h->checked ? strings(h->unreadable, h->nunreadable) : NULL, "missing",
                          h->checked ? strings(h->missing, h->nmissing) : NULL),
                len);
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void bkp_wire_hello_clear(bkp_wire_hello *h)
{
    free_list(h->read, h->nread);
    free_list(h->commands, h->ncommands);
    free_list(h->unreadable, h->nunreadable);
    free_list(h->missing, h->nmissing);
    memset(h, 0, sizeof(*h));
}

int bkp_wire_end_parse(const void *buf, size_t len, bkp_wire_end *out)
{
    json_t *j = load(buf, len);
    json_t *ex = json_object_get(j, "exit_code"), *sig = json_object_get(j, "signal");
    static const char *const flags[] = {"timed_out", "left_running", "held_open"};
    bool *to[] = {&out->timed_out, &out->left_running, &out->held_open};
    bool ok = j && json_is_integer(ex) && json_integer_value(ex) >= -1 &&
              json_integer_value(ex) <= 255 && json_is_integer(sig) &&
              json_integer_value(sig) >= 0 && json_integer_value(sig) <= 128;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; ok && i < 3; i++) {
        json_t *b = json_object_get(j, flags[i]);
        ok = json_is_boolean(b);
        *to[i] = ok && json_is_true(b);
    }
    /* A walk's paths left out: absent in a run's end. */
    json_t *un = json_object_get(j, "unreadable"), *left = json_object_get(j, "left_out"), *v;
    if (ok && un)
        ok = json_is_integer(un) && json_integer_value(un) >= 0 &&
             json_integer_value(un) <= (json_int_t)1 << 53;
    if (ok) {
        out->exit_code = (int)json_integer_value(ex);
        out->signal = (int)json_integer_value(sig);
        out->unreadable = un ? (uint64_t)json_integer_value(un) : 0;
    }
    /* Named, no more than counted: each a path of at most 4095 bytes (each
     * escaped into at most four) and a short reason. */
    if (ok && left)
        ok = json_is_array(left) && json_array_size(left) <= BKP_WIRE_LEFT_MAX &&
             json_array_size(left) <= out->unreadable &&
             (out->left = calloc(json_array_size(left) + 1, sizeof(*out->left)));
    size_t i;
    json_array_foreach(ok ? left : NULL, i, v)
    {
        const char *path = json_string_value(json_object_get(v, "path")),
                   *error = json_string_value(json_object_get(v, "error"));
        /* A path as its bytes, absolute; a reason of one line (the agent
         * says its own English sentences, never a control byte). */
        ok = ok && path && path[0] == '/' && strlen(path) <= 4 * 4095 && error && *error &&
             strlen(error) <= 512;
        for (const unsigned char *p = (const unsigned char *)error; ok && *p; p++)
            ok = *p >= 0x20 && *p != 0x7f;                  /* one line */
        ok = ok && bkp_text_is_safe(error, BKP_TEXT_LINES); /* no C1 or bidi control either */
        if (ok && !(out->left[i].path = bkp_text_bytes(path)))
            ok = false;
        if (ok && !(out->left[i].error = strdup(error)))
            ok = false;
        out->nleft = i + (out->left[i].path != NULL);
    }
    json_decref(j);
    if (!ok)
        bkp_wire_end_clear(out);
    return ok ? 0 : -EBADMSG;
}

/* The bytes `s` takes in a JSON string: six for a control byte, two for
 * a quote or a backslash. */
static size_t json_size(const char *s)
{
    size_t n = 2;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += *p < 0x20 || *p == 0x7f ? 6 : *p == '"' || *p == '\\' ? 2 : 1;
    return n;
}

int bkp_wire_end_left(bkp_wire_end *e, const char *path, const char *error)
{
    if (e->nleft >= BKP_WIRE_LEFT_MAX)
        return 0;
    if (!e->left && !(e->left = calloc(BKP_WIRE_LEFT_MAX, sizeof(*e->left))))
        return -ENOMEM;
    bkp_wire_left *l = &e->left[e->nleft];
    l->path = strdup(path);
    l->error = bkp_text_safe(error, BKP_TEXT_FIELD);
    char *text = l->path ? bkp_bytes_text(l->path) : NULL;
    /* The frame holds them: half of its most, as JSON writes them; the
     * rest are counted only. */
    size_t bytes = text && l->error ? json_size(text) + json_size(l->error) + 24 : 0;
    free(text);
    if (!bytes || e->left_bytes + bytes > BKP_WIRE_MAX / 2) {
        free(l->path);
        free(l->error);
        *l = (bkp_wire_left){0};
        return bytes ? 0 : -ENOMEM;
    }
    e->left_bytes += bytes;
    e->nleft++;
    return 0;
}

void bkp_wire_end_clear(bkp_wire_end *e)
{
    for (size_t i = 0; e->left && i < e->nleft; i++) {
        free(e->left[i].path);
        free(e->left[i].error);
    }
    free(e->left);
    e->left = NULL;
    e->nleft = e->left_bytes = 0;
}

char *bkp_wire_end_emit(const bkp_wire_end *e, size_t *len)
{
    json_t *j = json_pack("{s:i, s:i, s:b, s:b, s:b}", "exit_code", e->exit_code, "signal",
                          e->signal, "timed_out", e->timed_out, "left_running", e->left_running,
                          "held_open", e->held_open);
    json_t *left = e->nleft ? json_array() : NULL;
    for (size_t i = 0; left && i < e->nleft; i++) {
        char *text = bkp_bytes_text(e->left[i].path);
        json_t *one =
            text ? json_pack("{s:s, s:s}", "path", text, "error", e->left[i].error) : NULL;
        free(text);
        if (json_array_append_new(left, one)) {
            json_decref(left);
            left = NULL;
        }
    }
    if (j && ((e->unreadable &&
               json_object_set_new(j, "unreadable", json_integer((json_int_t)e->unreadable))) ||
              (e->nleft && (!left || json_object_set_new(j, "left_out", left))))) {
        json_decref(j);
        return NULL;
    }
    if (!j)
        json_decref(left);
    return emit(j, len);
}

/* ---- the tree request ---- */

static bool word_byte_plain(unsigned char b)
{
    return b > 0x20 && b < 0x7f && b != '%';
}

/* `s` as one word of the request, appended to `b`. */
static bool put_word(bkp_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*s)
        return false;
    bkp_buf_put(b, " ", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if (word_byte_plain(*p))
            bkp_buf_put(b, p, 1);
        else
            bkp_buf_put(b, esc, 3);
    }
    return !b->failed;
}

static bool pattern_ok(const char *s)
{
    if (!*s || strlen(s) > 4095)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* `paths[i]` after `paths[i - 1]` as the walk reaches them, and not below it. */
static bool in_order(char *const *paths, size_t i)
{
    /* A root below an earlier one comes right after it, or after others
     * below it: the one before is enough to look at. */
    return !i ||
           (bkp_walk_cmp(paths[i - 1], paths[i]) < 0 && !bkp_walk_below(paths[i - 1], paths[i]));
}

char *bkp_wire_tree_request(const bkp_wire_tree *t)
{
    bkp_buf b;
    bool ok = t->npaths > 0 && t->npaths <= BKP_WIRE_LIST && t->nexclude <= BKP_WIRE_LIST;
    bkp_buf_init(&b);
    bkp_buf_put(&b, "tree", 4);
    if (t->stamps)
        bkp_buf_put(&b, " -c", 3);
    if (t->one_fs)
        bkp_buf_put(&b, " -x", 3);
    for (size_t i = 0; ok && i < t->nexclude; i++) {
        bkp_buf_put(&b, " -e", 3);
        ok = pattern_ok(t->exclude[i]) && put_word(&b, t->exclude[i]);
    }
    for (size_t i = 0; ok && i < t->npaths; i++)
        ok = bkp_wire_path_ok(t->paths[i]) && in_order(t->paths, i) && put_word(&b, t->paths[i]);
    bkp_buf_put(&b, "", 1);
    /* A command line ssh and the source's sshd take whole (execve's limit
     * for one argument is 128 KiB). */
    if (!ok || b.failed || b.len > BKP_WIRE_REQUEST) {
        bkp_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

static int unhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The next word of `*s` (after one space) decoded: malloc'd, NULL when
 * there is none or it is not written as put_word writes. */
static char *get_word(const char **s)
{
    const char *p = *s;
    if (*p != ' ' || !p[1] || p[1] == ' ')
        return NULL;
    size_t n = strcspn(++p, " ");
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; out && i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        int hi, lo;
        if (word_byte_plain(c))
            *o++ = (char)c;
        else if (c == '%' && i + 2 < n && (hi = unhex(p[i + 1])) >= 0 &&
                 (lo = unhex(p[i + 2])) >= 0 && (hi || lo) &&
                 !word_byte_plain((unsigned char)(hi << 4 | lo))) {
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            free(out);
            return NULL;
        }
    }
    if (out)
        *o = '\0';
    *s = p + n;
    return out;
}

static bool add_to(char ***v, size_t *n, char *s)
{
    char **m = *n < BKP_WIRE_LIST ? realloc(*v, (*n + 2) * sizeof(char *)) : NULL;
    if (!m)
        return false;
    m[(*n)++] = s;
    m[*n] = NULL;
    *v = m;
    return true;
}

int bkp_wire_tree_parse(const char *request, bkp_wire_tree *out)
{
    memset(out, 0, sizeof(*out));
    if (!request || strncmp(request, "tree ", 5))
        return -EBADMSG;
    const char *p = request + 4;
    bool ok = true;
    if (!strncmp(p, " -c ", 4)) {
        out->stamps = true;
        p += 3;
    }
    if (!strncmp(p, " -x ", 4)) {
        out->one_fs = true;
        p += 3;
    }
    while (ok && !strncmp(p, " -e ", 4)) {
        p += 3;
        char *w = get_word(&p);
        ok = w && pattern_ok(w) && add_to(&out->exclude, &out->nexclude, w);
        if (!ok)
            free(w);
    }
    while (ok && *p) {
        char *w = get_word(&p);
        ok = w && bkp_wire_path_ok(w) && add_to(&out->paths, &out->npaths, w) &&
             in_order(out->paths, out->npaths - 1);
        if (!ok && out->npaths && out->paths[out->npaths - 1] == w)
            w = NULL; /* the list's now */
        if (!ok)
            free(w);
    }
    if (!ok || !out->npaths) {
        bkp_wire_tree_clear(out);
        return -EBADMSG;
    }
    return 0;
}

void bkp_wire_stamp_put(bkp_buf *b, const bkp_wire_stamp *s)
{
    bkp_buf_u32(b, s->plen);
    bkp_buf_put(b, s->path, s->plen);
    bkp_buf_u64(b, s->size);
    bkp_buf_u64(b, (uint64_t)s->mtime);
    bkp_buf_u64(b, (uint64_t)s->ctime);
    bkp_buf_u32(b, s->mode);
}

int bkp_wire_stamp_get(bkp_rd *r, bkp_wire_stamp *s)
{
    if (!r->left)
        return 0;
    s->plen = bkp_rd_u32(r);
    s->path = s->plen >= 1 && s->plen <= 4095 ? (const char *)bkp_rd_take(r, s->plen) : NULL;
    s->size = bkp_rd_u64(r);
    s->mtime = (int64_t)bkp_rd_u64(r);
    s->ctime = (int64_t)bkp_rd_u64(r);
    s->mode = bkp_rd_u32(r);
    if (!s->path || !bkp_rd_ok(r) || s->path[0] != '/' || memchr(s->path, 0, s->plen)) {
        r->bad = true;
        r->left = 0;
        return -EBADMSG;
    }
    return 1;
}

void bkp_wire_tree_clear(bkp_wire_tree *t)
{
    free_list(t->paths, t->npaths);
    free_list(t->exclude, t->nexclude);
    memset(t, 0, sizeof(*t));
}

int bkp_wire_refused_parse(const void *buf, size_t len, bool japanese, char *why, size_t size)
{
    json_t *j = load(buf, len);
    const char *s = json_string_value(json_object_get(j, "error")),
               *ja = json_string_value(json_object_get(j, "error_ja"));
    if (s && ja && japanese)
        s = ja;
    char *safe = s ? bkp_text_safe(s, BKP_TEXT_FIELD) : NULL;
    int rc = safe && size ? 0 : -EBADMSG;
    if (!rc) {
        size_t n = strlen(safe) < size - 1 ? strlen(safe) : size - 1;
        while (n > 0 && n < strlen(safe) && ((unsigned char)safe[n] & 0xc0) == 0x80)
            n--; /* not inside a character */
        memcpy(why, safe, n);
        why[n] = '\0';
    }
    free(safe);
    json_decref(j);
    return rc;
}

char *bkp_wire_refused_emit(const char *why, const char *why_ja, size_t *len)
{
    return emit(json_pack("{s:s, s:s*}", "error", why, "error_ja", why_ja), len);
}
