#include "bkp/io/strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct node {
    char *key;
    void *value;
    struct node *next;
} node;

struct bkp_strmap {
    node **buckets;
    size_t nbuckets, count;
    void (*free_value)(void *);
};

static uint64_t hash(const char *p)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h;
}

int bkp_strmap_new(void (*free_value)(void *), bkp_strmap **out)
{
    bkp_strmap *m = calloc(1, sizeof(*m));
    if (!m || !(m->buckets = calloc(256, sizeof(*m->buckets)))) {
        free(m);
        return -ENOMEM;
    }
    m->nbuckets = 256;
    m->free_value = free_value;
    *out = m;
    return 0;
}

void bkp_strmap_free(bkp_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (node *n = m->buckets[i], *next; n; n = next) {
            next = n->next;
            if (m->free_value)
                m->free_value(n->value);
            free(n->key);
            free(n);
        }
    free(m->buckets);
    free(m);
}

static void grow(bkp_strmap *m)
{
    size_t nb = m->nbuckets * 4;
    node **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < m->nbuckets; i++)
        for (node *n = m->buckets[i], *next; n; n = next) {
            next = n->next;
            size_t s = hash(n->key) & (nb - 1);
            n->next = b[s];
            b[s] = n;
        }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

int bkp_strmap_put(bkp_strmap *m, const char *key, void *value)
{
    size_t s = hash(key) & (m->nbuckets - 1);
    for (node *n = m->buckets[s]; n; n = n->next)
        if (strcmp(n->key, key) == 0) {
            if (m->free_value && n->value != value)
                m->free_value(n->value);
            n->value = value;
            return 0;
        }
    node *n = malloc(sizeof(*n));
    if (!n || !(n->key = strdup(key))) {
        free(n);
        return -ENOMEM;
    }
    n->value = value;
    n->next = m->buckets[s];
    m->buckets[s] = n;
    if (++m->count > m->nbuckets)
        grow(m);
    return 0;
}

void *bkp_strmap_get(const bkp_strmap *m, const char *key)
{
    for (node *n = m->buckets[hash(key) & (m->nbuckets - 1)]; n; n = n->next)
        if (strcmp(n->key, key) == 0)
            return n->value;
    return NULL;
}

void bkp_strmap_del(bkp_strmap *m, const char *key)
{
    for (node **pp = &m->buckets[hash(key) & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        node *n = *pp;
        if (strcmp(n->key, key) != 0)
            continue;
        *pp = n->next;
        if (m->free_value)
            m->free_value(n->value);
        free(n->key);
        free(n);
        m->count--;
        return;
    }
}

size_t bkp_strmap_count(const bkp_strmap *m)
{
    return m->count;
}
