/*
 * json.h — JSON at the edges: the values bkp writes (below), and reading a
 * typed record from the JSON bkp wrote it as, the one way each codec does
 * (status_doc.c, evidence_doc.c): a reader keeps the first fault, and every
 * later read on it answers "none", so a codec reads its members in a row
 * and asks once at the end.
 *
 * Each member is optional: absent or null reads as "none" (NULL, 0, the
 * value given). A member of the wrong type, a number out of its range, a
 * string longer than its buffer or a time not written as bkp writes one
 * (bkp_json_time) is -EBADMSG; a string that cannot be copied, -ENOMEM.
 */
#ifndef BKP_JSON_H
#define BKP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "bkp/io/bytes.h"

/* Bytes that may not be UTF-8 as a JSON string (bkp_bytes_text). */
json_t *bkp_json_bytes(const char *s);
/* A list as a JSON array of such strings (a new reference; NULL without
 * memory). */
json_t *bkp_json_strlist(const bkp_strlist *l);

/* The time in member `key` of object `j` into `*t`, 0 when absent or
 * null: false when it is there but not a time exactly as bkp writes one
 * (bkp_iso_time), for what is written back must read back — a leap second
 * of 9999 would be written as a year that cannot be read. */
bool bkp_json_time(const json_t *j, const char *key, time_t *t);
/* Time `t` as bkp writes one in JSON (bkp_iso_time), null for 0 ("none"):
 * what bkp_json_time reads back. A new reference; NULL without memory. */
json_t *bkp_json_when(time_t t);

/* A JSON value for people, into `buf` (cut to fit): a string as it is, a
 * number, true or false, a list of those joined with ","; "" for null and
 * for an object. */
void bkp_json_value_text(char *buf, size_t n, const json_t *v);

typedef struct bkp_jin {
    int rc; /* 0, or the first fault (negative errno) */
} bkp_jin;

/* Record fault `rc` when none is yet; false, for `return bkp_jin_bad(...)`. */
bool bkp_jin_bad(bkp_jin *in, int rc);

/* Member `k` of `j` when there and not null, NULL otherwise; of another type
 * than `t` it is a fault (an integer reads as JSON_REAL, false as JSON_TRUE). */
json_t *bkp_jin_member(bkp_jin *in, const json_t *j, const char *k, json_type t);
/* A string copied (malloc'd), NULL when none. */
char *bkp_jin_str(bkp_jin *in, const json_t *j, const char *k);
/* A string into `buf` of `n` bytes, left as it is when none. */
void bkp_jin_text(bkp_jin *in, const json_t *j, const char *k, char *buf, size_t n);
/* A boolean, false when none. */
bool bkp_jin_flag(bkp_jin *in, const json_t *j, const char *k);
/* A boolean or none: 1, 0, or -1 when unsaid. */
int bkp_jin_tri(bkp_jin *in, const json_t *j, const char *k);
/* An integer in lo..hi, `none` when absent. */
int64_t bkp_jin_integer(bkp_jin *in, const json_t *j, const char *k, int64_t lo, int64_t hi,
                        int64_t none);
/* A number in lo..hi, `none` when absent. */
double bkp_jin_number(bkp_jin *in, const json_t *j, const char *k, double lo, double hi,
                      double none);
/* A time as bkp writes one, 0 when none (the epoch itself, written as a
 * string, is a fault: 0 means none and would be written back as null). */
time_t bkp_jin_time(bkp_jin *in, const json_t *j, const char *k);
/* The same, which must be there. */
time_t bkp_jin_time_given(bkp_jin *in, const json_t *j, const char *k);
/* An array member of objects, with `*v` calloc'd room for each of `size`
 * bytes; NULL (and `*v` untouched) when absent or empty. */
json_t *bkp_jin_objects(bkp_jin *in, const json_t *j, const char *k, void **v, size_t size);

#endif
