/*
 * test_slab.c — the read slabs of a capture (bkp/io/slab.h).
 *
 * Proves that a slab comes back empty with the caller's reference, that it is
 * reused only after its last reference is dropped (a chunk still with a
 * worker keeps its bytes), that no more than `count` slabs are ever made, and
 * that a reader waiting for one is woken when a worker drops the last
 * reference of another.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bkp/io/slab.h"

static void test_reuse_after_last_reference(void **state)
{
    (void)state;
    bkp_slab_pool *p = NULL;
    bkp_slab *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(bkp_slab_pool_new(4096, 2, &p), 0);
    assert_int_equal(bkp_slab_size(p), 4096);
    assert_int_equal(bkp_slab_get(p, &a), 0);
    assert_int_equal(a->len, 0);
    memset(a->data, 'x', 4096);
    a->len = 4096;
    bkp_slab_ref(p, a);  /* a chunk handed out */
    bkp_slab_drop(p, a); /* the reader moves on */
    assert_int_equal(bkp_slab_get(p, &b), 0);
    assert_ptr_not_equal(a, b); /* a is still a worker's */
    assert_int_equal(a->data[4095], 'x');
    bkp_slab_drop(p, a); /* the chunk is stored */
    bkp_slab_drop(p, b);
    assert_int_equal(bkp_slab_get(p, &c), 0);
    assert_true(c == a || c == b); /* no third slab was made */
    assert_int_equal(c->len, 0);
    bkp_slab_drop(p, c);
    bkp_slab_drop(p, NULL);
    bkp_slab_pool_free(p);
    bkp_slab_pool_free(NULL);
}

typedef struct dropper {
    bkp_slab_pool *p;
    bkp_slab *s;
} dropper;

static void *drop_later(void *arg)
{
    dropper *d = arg;
    usleep(50000);
    bkp_slab_drop(d->p, d->s);
    return NULL;
}

static void test_waits_for_a_free_slab(void **state)
{
    (void)state;
    bkp_slab_pool *p = NULL;
    bkp_slab *a = NULL, *b = NULL;
    pthread_t t;
    assert_int_equal(bkp_slab_pool_new(1024, 1, &p), 0);
    assert_int_equal(bkp_slab_get(p, &a), 0);
    dropper d = {p, a};
    assert_int_equal(pthread_create(&t, NULL, drop_later, &d), 0);
    assert_int_equal(bkp_slab_get(p, &b), 0); /* waits for the worker */
    assert_ptr_equal(a, b);
    pthread_join(t, NULL);
    bkp_slab_drop(p, b);
    bkp_slab_pool_free(p);
}

static void test_invalid(void **state)
{
    (void)state;
    bkp_slab_pool *p = NULL;
    assert_int_equal(bkp_slab_pool_new(0, 2, &p), -EINVAL);
    assert_int_equal(bkp_slab_pool_new(4096, 0, &p), -EINVAL);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_after_last_reference),
        cmocka_unit_test(test_waits_for_a_free_slab),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
