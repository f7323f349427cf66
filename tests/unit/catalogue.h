/*
 * catalogue.h — unit tests that read Japanese bind the build's message
 * catalogue (BKP_BUILD_LOCALEDIR, compiled from po/ja.po before the tests
 * are built), as bkp_i18n_init binds the installed one.
 */
#ifndef BKP_TEST_CATALOGUE_H
#define BKP_TEST_CATALOGUE_H

#include <libintl.h>

static inline void test_bind_catalogue(void)
{
    bindtextdomain("bkp", BKP_BUILD_LOCALEDIR);
    bind_textdomain_codeset("bkp", "UTF-8");
    textdomain("bkp");
}

/* A cmocka group setup doing only that. */
static inline int test_catalogue_setup(void **state)
{
    (void)state;
    test_bind_catalogue();
    return 0;
}

#endif
