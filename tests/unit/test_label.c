/*
 * A medium's label (bkp/medium.h): a new label is valid and has an identity
 * of its own; a disk labelled again keeps the identity of the label found on
 * it when that label is of the same repository (the tombstones on its copy
 * are bound to it), and gets a fresh one when the label found is another
 * repository's, invalid, or absent. Written and read back, it is the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/medium.h"
#include "bkp/repo.h"
#include "testutil.h"

#define PASS "correct horse battery staple"
#define PLEN (sizeof(PASS) - 1)

typedef struct fixture {
    char base[64], repo[96];
    bkp_repo *r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || sodium_init() < 0)
        return -1;
    strcpy(f->base, "/tmp/bkp-test-label-XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->repo, sizeof(f->repo), "%s/repo", f->base);
    if (bkp_repo_init(f->repo, PASS, PLEN) || bkp_repo_open(f->repo, PASS, PLEN, 0, &f->r))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_repo_free(f->r);
    test_rm_rf(f->base);
    free(f);
    return 0;
}

static const char *str(const json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static void test_new_labels_differ(void **state)
{
    fixture *f = *state;
    json_t *a = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    json_t *b = bkp_label_renew(f->r, NULL, "usb-b", "removable", "offsite");
    assert_true(bkp_label_valid(a) && bkp_label_valid(b));
    assert_string_not_equal(str(a, "uuid"), str(b, "uuid"));
    assert_string_equal(str(b, "name"), "usb-b");
    json_decref(a);
    json_decref(b);
}

static void test_relabel_keeps_identity(void **state)
{
    fixture *f = *state;
    json_t *old = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    assert_int_equal(bkp_label_write(f->base, old, true), 0);
    json_t *found = NULL;
    assert_int_equal(bkp_label_read(f->base, &found), 0);
    json_t *lab = bkp_label_renew(f->r, found, "spare", "disk", "onsite");
    assert_true(bkp_label_valid(lab));
    assert_string_equal(str(lab, "uuid"), str(old, "uuid"));
    assert_string_equal(str(lab, "name"), "spare");
    assert_string_equal(str(lab, "type"), "disk");
    assert_string_equal(str(lab, "location"), "onsite");
    json_decref(lab);
    json_decref(found);
    json_decref(old);
}

/* Another repository's disk, or a label whose identity is not one bkp
 * writes, starts afresh. */
static void test_foreign_or_invalid_gets_fresh(void **state)
{
    fixture *f = *state;
    json_t *old = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    json_object_set_new(old, "repository", json_string("00000000-0000-4000-8000-000000000000"));
    json_t *lab = bkp_label_renew(f->r, old, "usb-a", "removable", "offsite");
    assert_string_not_equal(str(lab, "uuid"), str(old, "uuid"));
    json_decref(lab);
    json_object_set_new(old, "repository", json_string(bkp_repo_uuid(f->r)));
    json_object_set_new(old, "uuid", json_string("0D4E2F6A-1B2C-4D3E-8F90-A1B2C3D4E5F6"));
    lab = bkp_label_renew(f->r, old, "usb-a", "removable", "offsite");
    assert_true(bkp_label_valid(lab));
    assert_string_not_equal(str(lab, "uuid"), "0D4E2F6A-1B2C-4D3E-8F90-A1B2C3D4E5F6");
    json_decref(lab);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_labels_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relabel_keeps_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_or_invalid_gets_fresh, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
