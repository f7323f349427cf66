/*
 * strmap.h — a map from byte-string keys to owned values, for path lookups
 * (hard links on capture and restore).
 */
#ifndef BKP_STRMAP_H
#define BKP_STRMAP_H

#include <stddef.h>

typedef struct bkp_strmap bkp_strmap;

/* `free_value` (may be NULL) is called on values when they are replaced or the map is freed. */
int bkp_strmap_new(void (*free_value)(void *), bkp_strmap **out);
void bkp_strmap_free(bkp_strmap *m);
/* Insert or replace; the key is copied, the value owned. -ENOMEM on failure (value not taken). */
int bkp_strmap_put(bkp_strmap *m, const char *key, void *value);
/* The value for `key`, or NULL. */
void *bkp_strmap_get(const bkp_strmap *m, const char *key);
/* Remove `key` (freeing its value); nothing happens if it is absent. */
void bkp_strmap_del(bkp_strmap *m, const char *key);
size_t bkp_strmap_count(const bkp_strmap *m);

#endif
