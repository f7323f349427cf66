#include "bkp/io/slab.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct bkp_slab_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    size_t size;
    unsigned count, made;
    bkp_slab *free_list;
    bkp_slab *all; /* `made` of `count` */
};

int bkp_slab_pool_new(size_t size, unsigned count, bkp_slab_pool **out)
{
    if (!size || !count)
        return -EINVAL;
    bkp_slab_pool *p = calloc(1, sizeof(*p));
    if (!p || !(p->all = calloc(count, sizeof(*p->all)))) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    p->size = size;
    p->count = count;
    *out = p;
    return 0;
}

void bkp_slab_pool_free(bkp_slab_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->made; i++)
        free(p->all[i].data);
    free(p->all);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p);
}

size_t bkp_slab_size(const bkp_slab_pool *p)
{
    return p->size;
}

int bkp_slab_get(bkp_slab_pool *p, bkp_slab **out)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    /* Slabs are made only when none is free: a backup of small files
     * never needs more than a few. */
    while (!p->free_list && p->made == p->count)
        pthread_cond_wait(&p->freed, &p->lock);
    bkp_slab *s = p->free_list;
    if (s) {
        p->free_list = s->next;
    } else {
        s = &p->all[p->made];
        if ((s->data = malloc(p->size)))
            p->made++;
        else
            rc = -ENOMEM;
    }
    if (!rc) {
        s->len = 0;
        s->refs = 1;
        s->next = NULL;
        *out = s;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void bkp_slab_ref(bkp_slab_pool *p, bkp_slab *s)
{
    pthread_mutex_lock(&p->lock);
    s->refs++;
    pthread_mutex_unlock(&p->lock);
}

void bkp_slab_drop(bkp_slab_pool *p, bkp_slab *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&p->lock);
    if (--s->refs == 0) {
        s->next = p->free_list;
        p->free_list = s;
        pthread_cond_signal(&p->freed);
    }
    pthread_mutex_unlock(&p->lock);
}
