/*
 * A medium's label (bkp/media/medium.h): a new label is valid and has an identity
 * of its own; a disk labelled again keeps the identity of the label found on
 * it when that label is of the same repository (the tombstones on its copy
 * are bound to it), and gets a fresh one when the label found is another
 * repository's, invalid, or absent. Written and read back, it is the same.
 * A label found on a medium is judged (bkp_label_judge) in order: the
 * repository, its key, the name, the disk registered under it.
 * A label signed (version 2, a bucket's) verifies under the repository's key
 * after a round trip through its file, and not once any field is changed or
 * under another key; bkp_label_ours takes the registered label, or its uuid
 * signed, and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops_repo.h"

static const char policy_text[] = "repository: %1$s/repo\n"
                                  "passphrase_file: %1$s/pass\n"
                                  "datasets:\n"
                                  "  - { name: emr, paths: [%1$s/src], schedule: daily 02:00 }\n";

static int setup(void **state)
{
    ops_repo *f = calloc(1, sizeof(*f));
    if (!f || ops_repo_new(f, "label", policy_text))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ops_repo_free(*state);
    free(*state);
    return 0;
}

static const char *str(const json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static void test_new_labels_differ(void **state)
{
    ops_repo *f = *state;
    json_t *a = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    json_t *b = bkp_label_renew(f->r, NULL, "usb-b", "removable", "offsite");
    assert_true(bkp_label_valid(a) && bkp_label_valid(b));
    assert_string_not_equal(str(a, "uuid"), str(b, "uuid"));
    assert_string_equal(str(b, "name"), "usb-b");
    json_decref(a);
    json_decref(b);
}

static int set_label(json_t *e, void *ctx)
{
    return json_object_set(e, "label", ctx);
}

static void test_relabel_keeps_identity(void **state)
{
    ops_repo *f = *state;
    json_t *old = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    assert_int_equal(bkp_media_update(f->r, "usb-a", set_label, old), 0);
    assert_int_equal(bkp_label_write(f->top, old, true), 0);
    json_t *found = NULL;
    assert_int_equal(bkp_label_read(f->top, &found), 0);
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
    ops_repo *f = *state;
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

/* Only the identity the registry holds for the name on the label: a label
 * never registered, one naming another medium than the one registered
 * with its identity (copied or planted), or an identity registered under
 * two names, starts afresh. */
static void test_unregistered_identity_gets_fresh(void **state)
{
    ops_repo *f = *state;
    json_t *a = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    json_t *lab = bkp_label_renew(f->r, a, "spare", "removable", "offsite");
    assert_string_not_equal(str(lab, "uuid"), str(a, "uuid")); /* not registered */
    json_decref(lab);
    assert_int_equal(bkp_media_update(f->r, "usb-a", set_label, a), 0);
    json_t *planted = json_deep_copy(a);
    json_object_set_new(planted, "name", json_string("usb-x"));
    lab = bkp_label_renew(f->r, planted, "spare", "removable", "offsite");
    assert_string_not_equal(str(lab, "uuid"), str(a, "uuid")); /* another name's identity */
    json_decref(lab);
    lab = bkp_label_renew(f->r, a, "spare", "removable", "offsite");
    assert_string_equal(str(lab, "uuid"), str(a, "uuid")); /* registered: kept */
    json_decref(lab);
    json_t *b = json_deep_copy(a);
    json_object_set_new(b, "name", json_string("usb-b"));
    assert_int_equal(bkp_media_update(f->r, "usb-b", set_label, b), 0);
    lab = bkp_label_renew(f->r, a, "spare", "removable", "offsite");
    assert_string_not_equal(str(lab, "uuid"), str(a, "uuid")); /* held by two media */
    json_decref(lab);
    json_decref(b);
    json_decref(planted);
    json_decref(a);
}

static void test_judge(void **state)
{
    ops_repo *f = *state;
    json_t *lab = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    json_t *entry = json_pack("{s:O}", "label", lab);
    assert_int_equal(bkp_label_judge(f->r, lab, "usb-a", entry), BKP_LABEL_OURS);
    assert_int_equal(bkp_label_judge(f->r, lab, "usb-a", NULL), BKP_LABEL_UNREGISTERED);
    assert_int_equal(bkp_label_judge(f->r, lab, "usb-b", entry), BKP_LABEL_OTHER_NAME);
    /* A second disk under the registered name. */
    json_t *twin = bkp_label_new(f->r, "usb-a", "removable", "offsite");
    assert_int_equal(bkp_label_judge(f->r, twin, "usb-a", entry), BKP_LABEL_OTHER_DISK);
    /* A label from before labels carried the key's fingerprint still counts. */
    json_object_del(twin, "fingerprint");
    json_object_set(twin, "uuid", json_object_get(lab, "uuid"));
    assert_int_equal(bkp_label_judge(f->r, twin, "usb-a", entry), BKP_LABEL_OURS);
    /* Another key's fingerprint comes before the name; the repository first. */
    json_object_set_new(twin, "fingerprint", json_string("AAAA-BBBB"));
    assert_int_equal(bkp_label_judge(f->r, twin, "usb-b", entry), BKP_LABEL_OTHER_KEY);
    json_object_set_new(twin, "repository", json_string("00000000-0000-4000-8000-000000000000"));
    assert_int_equal(bkp_label_judge(f->r, twin, "usb-b", entry), BKP_LABEL_OTHER_REPO);
    json_decref(twin);
    json_decref(entry);
    json_decref(lab);
}

static void test_signed(void **state)
{
    ops_repo *f = *state;
    const uint8_t *pk = bkp_repo_sign_pk(f->r);
    const char *id = bkp_repo_uuid(f->r);
    uint8_t other[32];
    json_t *plain = bkp_label_new(f->r, "cloud", "object", "offsite");
    json_t *lab = bkp_label_signed(plain, bkp_repo_keys(f->r));
    assert_non_null(lab);
    assert_true(bkp_label_valid(lab));
    assert_int_equal(json_integer_value(json_object_get(lab, "version")), 2);
    assert_true(bkp_label_signed_by(lab, pk));
    assert_false(bkp_label_signed_by(plain, pk)); /* version 1: not signed */
    /* Through the file as the bucket holds it, and back. */
    char *text = json_dumps(lab, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_t *back = NULL;
    assert_int_equal(bkp_label_parse(text, strlen(text), &back), 0);
    assert_true(bkp_label_signed_by(back, pk));
    memcpy(other, pk, 32);
    other[0] ^= 1;
    assert_false(bkp_label_signed_by(back, other));
    /* Our uuid and repository, another name: not ours. */
    json_object_set_new(back, "name", json_string("cloud2"));
    assert_false(bkp_label_signed_by(back, pk));
    assert_false(bkp_label_ours(back, lab, pk, id));
    assert_false(bkp_label_ours(back, NULL, pk, id));
    /* The registered label itself, signed or not; its uuid signed. */
    assert_true(bkp_label_ours(lab, NULL, pk, id));
    assert_true(bkp_label_ours(plain, plain, pk, id));
    assert_true(bkp_label_ours(lab, plain, pk, id));
    json_t *fresh = bkp_label_new(f->r, "cloud", "object", "offsite");
    json_t *fresh_signed = bkp_label_signed(fresh, bkp_repo_keys(f->r));
    assert_false(bkp_label_ours(fresh_signed, lab, pk, id)); /* another uuid */
    /* A signature that is not hex, or a version 2 without one, is no label. */
    json_object_set_new(back, "signature", json_string("zz"));
    assert_false(bkp_label_valid(back));
    json_object_del(back, "signature");
    assert_false(bkp_label_valid(back));
    /* The registered label itself, naming another repository (a copy put
     * in front that an earlier bkp took for ours), or another key: never. */
    json_t *elsewhere = json_copy(plain);
    json_object_set_new(elsewhere, "repository", json_string("00000000-0000-4000-8000-000000000000"));
    assert_false(bkp_label_ours(elsewhere, elsewhere, pk, id));
    assert_false(bkp_label_ours(plain, plain, other, id));
    json_decref(elsewhere);
    json_decref(fresh);
    json_decref(fresh_signed);
    json_decref(back);
    free(text);
    json_decref(lab);
    json_decref(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_labels_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relabel_keeps_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_identity_gets_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_or_invalid_gets_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
