/*
 * bytes.h — growable byte buffers and bounded little-endian readers.
 *
 * The one way this code serialises: append to a bkp_buf, parse with a bkp_rd.
 * A reader latches its first error: after a short read every further get
 * returns zeros and bkp_rd_ok() is false, so parsers check once at the end.
 */
#ifndef BKP_BYTES_H
#define BKP_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bkp_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the content is incomplete */
} bkp_buf;

void bkp_buf_init(bkp_buf *b);
void bkp_buf_free(bkp_buf *b);
void bkp_buf_reset(bkp_buf *b);
/* Make room for `n` more bytes; returns a pointer to them or NULL (and latches). */
uint8_t *bkp_buf_reserve(bkp_buf *b, size_t n);
void bkp_buf_put(bkp_buf *b, const void *p, size_t n);
void bkp_buf_u8(bkp_buf *b, uint8_t v);
void bkp_buf_u32(bkp_buf *b, uint32_t v);
void bkp_buf_u64(bkp_buf *b, uint64_t v);
/* A u32 length followed by the bytes. */
void bkp_buf_bytes32(bkp_buf *b, const void *p, size_t n);
/* Remove the first `n` bytes. */
void bkp_buf_consume(bkp_buf *b, size_t n);

typedef struct bkp_rd {
    const uint8_t *p;
    size_t left;
    bool bad;
} bkp_rd;

void bkp_rd_init(bkp_rd *r, const void *p, size_t n);
bool bkp_rd_ok(const bkp_rd *r);
uint8_t bkp_rd_u8(bkp_rd *r);
uint32_t bkp_rd_u32(bkp_rd *r);
uint64_t bkp_rd_u64(bkp_rd *r);
/* Borrow `n` bytes (valid as long as the underlying memory); NULL once bad. */
const uint8_t *bkp_rd_take(bkp_rd *r, size_t n);
/* A u32 length then bytes, at most `max` long. */
const uint8_t *bkp_rd_bytes32(bkp_rd *r, uint32_t *len, uint32_t max);

static inline void bkp_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void bkp_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t bkp_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t bkp_get_le64(const uint8_t *p)
{
    return (uint64_t)bkp_get_le32(p) | (uint64_t)bkp_get_le32(p + 4) << 32;
}

/* Lower-case hex of `n` bytes into `out` (2n+1 bytes). */
void bkp_hex(char *out, const uint8_t *p, size_t n);
/* Parse exactly 2n hex digits; 0 or -EINVAL. */
int bkp_unhex(uint8_t *out, size_t n, const char *hex);

/* Append formatted text to the NUL-terminated text in `buf` (of `n` bytes),
 * never overrun: text that does not fit is cut, at a UTF-8 character boundary. */
void bkp_strappend(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A copy of `s` (malloc'd), NULL for NULL; `*nomem` set when it could not
 * be made, so that a record filled field by field is checked once. */
char *bkp_strdup_or(const char *s, bool *nomem);

/* Room in the array at `*(T **)arrayp` (of `*cap` elements of `elem`
 * bytes, `n` in use) for one more: doubled when full, `first` to begin
 * with. 0, or -ENOMEM (an allocation, or a size that would overflow) with
 * the array as it was. The one way this code grows an array:
 *     if (bkp_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 64)) return -ENOMEM; */
int bkp_grow(void *arrayp, size_t *cap, size_t n, size_t elem, size_t first);

/* Free `n` malloc'd strings and the array holding them (NULL: nothing). */
void bkp_strv_free(char **v, size_t n);

/* A list of strings, each malloc'd; zeroed, it is empty. */
typedef struct bkp_strlist {
    char **v;
    size_t n;
} bkp_strlist;
/* Append a copy of `s`: 0 or -ENOMEM. */
int bkp_strlist_add(bkp_strlist *l, const char *s) __attribute__((warn_unused_result));
void bkp_strlist_clear(bkp_strlist *l);

#endif
