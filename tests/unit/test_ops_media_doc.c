/*
 * One medium as `media list` and `media show` give it
 * (bkp/ops/media_doc.h): the registry entry with the policy's description
 * and the next due time; a medium never labelled or never written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bkp/ops/media_doc.h"

static void test_labelled(void **state)
{
    (void)state;
    pol_medium pm = {.name = "usb-a", .rotate_every = 7 * 86400};
    bkp_media_held held[] = {{.dataset = "emr", .seq = 1}, {.dataset = "pacs", .seq = 1}};
    bkp_media_entry entry = {.label = {.version = 1, .uuid = "u-1", .name = "usb-a"},
                             .held = held,
                             .n_held = 2,
                             .held_known = true,
                             .last_write = 1795168800 /* 2026-11-20T10:00:00Z */};
    ops_medium_facts f = {"usb-a", "removable", "offsite", true, "/mnt/usb-a", &pm, &entry};
    json_t *d = ops_medium_doc(&f, 1764064800 /* 2025-11-25T10:00:00Z */, 0);
    assert_string_equal(json_string_value(json_object_get(d, "name")), "usb-a");
    assert_string_equal(json_string_value(json_object_get(d, "type")), "removable");
    assert_true(json_is_true(json_object_get(d, "offline")));
    assert_true(json_is_true(json_object_get(d, "in_policy")));
    assert_true(json_is_true(json_object_get(d, "labelled")));
    assert_int_equal(json_integer_value(json_object_get(d, "generations")), 2);
    assert_string_equal(json_string_value(json_object_get(d, "next_due")), "2025-11-25T10:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(d, "rotate_every")), 7 * 86400);
    assert_string_equal(json_string_value(json_object_get(d, "last_write")),
                        "2026-11-20T10:00:00Z"); /* the entry's own fields kept */
    assert_null(json_object_get(d, "bucket"));
    json_decref(d);
}

static void test_never_labelled(void **state)
{
    (void)state;
    ops_medium_facts f = {"nas", "disk", NULL, false, NULL, NULL, NULL};
    json_t *d = ops_medium_doc(&f, 0, 0);
    assert_string_equal(json_string_value(json_object_get(d, "location")), "?");
    assert_true(json_is_null(json_object_get(d, "path")));
    assert_true(json_is_false(json_object_get(d, "labelled")));
    assert_true(json_is_false(json_object_get(d, "in_policy")));
    assert_true(json_is_null(json_object_get(d, "next_due")));
    assert_int_equal(json_integer_value(json_object_get(d, "generations")), 0);
    json_decref(d);
    /* Never written: due now. */
    d = ops_medium_doc(&f, 1, 1764064800);
    assert_string_equal(json_string_value(json_object_get(d, "next_due")), "2025-11-25T10:00:00Z");
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labelled),
        cmocka_unit_test(test_never_labelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
