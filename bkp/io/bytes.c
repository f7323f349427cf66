#include "bkp/io/bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bkp_buf_init(bkp_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void bkp_buf_free(bkp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void bkp_buf_reset(bkp_buf *b)
{
    b->len = 0;
    b->failed = false;
}

uint8_t *bkp_buf_reserve(bkp_buf *b, size_t n)
{
    if (b->failed)
        return NULL;
    /* An empty buffer gets memory even for n == 0: callers may use the pointer. */
    if (b->cap - b->len < n || !b->data) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return NULL;
            }
            cap *= 2;
        }
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return NULL;
        }
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void bkp_buf_put(bkp_buf *b, const void *p, size_t n)
{
    uint8_t *d = bkp_buf_reserve(b, n);
    if (!d)
        return;
    if (n)
        memcpy(d, p, n);
    b->len += n;
}

void bkp_buf_u8(bkp_buf *b, uint8_t v)
{
    bkp_buf_put(b, &v, 1);
}

void bkp_buf_u32(bkp_buf *b, uint32_t v)
{
    uint8_t p[4];
    bkp_le32(p, v);
    bkp_buf_put(b, p, 4);
}

void bkp_buf_u64(bkp_buf *b, uint64_t v)
{
    uint8_t p[8];
    bkp_le64(p, v);
    bkp_buf_put(b, p, 8);
}

void bkp_buf_bytes32(bkp_buf *b, const void *p, size_t n)
{
    bkp_buf_u32(b, (uint32_t)n);
    bkp_buf_put(b, p, n);
}

void bkp_buf_consume(bkp_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void bkp_rd_init(bkp_rd *r, const void *p, size_t n)
{
    r->p = p;
    r->left = n;
    r->bad = false;
}

bool bkp_rd_ok(const bkp_rd *r)
{
    return !r->bad;
}

const uint8_t *bkp_rd_take(bkp_rd *r, size_t n)
{
    const uint8_t *p;
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint8_t bkp_rd_u8(bkp_rd *r)
{
    const uint8_t *p = bkp_rd_take(r, 1);
    return p ? p[0] : 0;
}

uint32_t bkp_rd_u32(bkp_rd *r)
{
    const uint8_t *p = bkp_rd_take(r, 4);
    return p ? bkp_get_le32(p) : 0;
}

uint64_t bkp_rd_u64(bkp_rd *r)
{
    const uint8_t *p = bkp_rd_take(r, 8);
    return p ? bkp_get_le64(p) : 0;
}

const uint8_t *bkp_rd_bytes32(bkp_rd *r, uint32_t *len, uint32_t max)
{
    uint32_t n = bkp_rd_u32(r);
    if (n > max)
        r->bad = true;
    *len = r->bad ? 0 : n;
    return bkp_rd_take(r, r->bad ? 0 : n);
}

void bkp_hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int bkp_unhex(uint8_t *out, size_t n, const char *hex)
{
    if (strlen(hex) != 2 * n)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void bkp_strappend(char *buf, size_t n, const char *fmt, ...)
{
    size_t at = strnlen(buf, n);
    va_list ap;
    if (at + 1 >= n)
        return;
    va_start(ap, fmt);
    int w = vsnprintf(buf + at, n - at, fmt, ap);
    va_end(ap);
    if (w < 0) {
        buf[at] = '\0';
    } else if ((size_t)w >= n - at) {
        /* Cut: never in the middle of a UTF-8 character. */
        size_t end = n - 1;
        while (end > at && ((unsigned char)buf[end - 1] & 0xC0) == 0x80)
            end--;
        if (end > at && ((unsigned char)buf[end - 1] & 0xC0) == 0xC0)
            end--;
        buf[end] = '\0';
    }
}

int bkp_grow(void *arrayp, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : first ? first : 1;
    if (c <= n || c > SIZE_MAX / elem)
        return -ENOMEM;
    void *old, *v;
    memcpy(&old, arrayp, sizeof(old)); /* any T *, as it is stored */
    if (!(v = realloc(old, c * elem)))
        return -ENOMEM;
    memcpy(arrayp, &v, sizeof(v));
    *cap = c;
    return 0;
}

void bkp_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

int bkp_strlist_add(bkp_strlist *l, const char *s)
{
    char *c = strdup(s), **v = c ? realloc(l->v, (l->n + 1) * sizeof(*v)) : NULL;
    if (!v) {
        free(c);
        return -ENOMEM;
    }
    l->v = v;
    l->v[l->n++] = c;
    return 0;
}

void bkp_strlist_clear(bkp_strlist *l)
{
    bkp_strv_free(l->v, l->n);
    l->v = NULL;
    l->n = 0;
}

char *bkp_strdup_or(const char *s, bool *nomem)
{
    char *d = s ? strdup(s) : NULL;
    *nomem |= s && !d;
    return d;
}
