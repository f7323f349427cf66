/*
 * A medium's label (bkp/media/label.h, registry.h): a new label is valid and
 * has an identity of its own; a disk labelled again keeps the identity of the label found on
 * it when that label is of the same repository (the tombstones on its copy
 * are bound to it), and gets a fresh one when the label found is another
 * repository's, or absent. Written and read back, it is the same, and the
 * codec refuses any field out of its form, or one it does not know.
 * A label found on a medium is judged (bkp_label_judge) in order: the
 * repository, its key, the name, the disk registered under it.
 * A label signed (version 2, a bucket's) verifies under the repository's key
 * after a round trip through its file, and not once any field is changed or
 * under another key; bkp_label_ours takes the registered label, or its uuid
 * signed, and nothing else.
 */
#include <errno.h>
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

static bkp_label mk(const ops_repo *f, const char *name, const char *type, const char *loc)
{
    bkp_label l;
    assert_int_equal(ops_label_new(f->r, name, type, loc, &l), 0);
    return l;
}

static void renew(ops_repo *f, const bkp_label *old, const char *name, const char *type,
                  const char *loc, bkp_label *out)
{
    assert_int_equal(bkp_label_renew(f->r, old, name, type, loc, out), 0);
}

static void test_new_labels_differ(void **state)
{
    ops_repo *f = *state;
    bkp_label a = mk(f, "usb-a", "removable", "offsite"), b;
    renew(f, NULL, "usb-b", "removable", "offsite", &b);
    assert_int_equal(a.version, 1);
    assert_string_not_equal(a.uuid, b.uuid);
    assert_string_equal(b.name, "usb-b");
    assert_true(bkp_medium_uuid_ok(a.uuid));
    /* Nothing no label may carry. */
    bkp_label x;
    assert_int_equal(bkp_label_make(&x, bkp_repo_uuid(f->r), bkp_repo_sign_pk(f->r), "../x",
                                    "disk", "onsite"),
                     -EINVAL);
    assert_int_equal(bkp_label_make(&x, bkp_repo_uuid(f->r), bkp_repo_sign_pk(f->r), "x", "tape",
                                    "onsite"),
                     -EINVAL);
}

/* The codec: what it writes it reads back the same; a field out of its
 * form, a field it does not know, a key twice, or a time not as bkp writes
 * it, is no label. */
static void test_codec(void **state)
{
    ops_repo *f = *state;
    bkp_label a = mk(f, "usb-a", "removable", "offsite"), back;
    size_t len;
    char *text = bkp_label_text(&a, &len);
    assert_non_null(text);
    assert_int_equal(text[len - 1], '\n');
    assert_int_equal(bkp_label_parse(text, len, &back), 0);
    assert_true(bkp_label_same(&a, &back));
    json_t *j = bkp_label_json(&a);
    static const char *const bad[][2] = {
        {"extra", "\"x\""},          {"created", "\"2026-1-2T03:04:05Z\""},
        {"uuid", "\"ABC\""},         {"name", "\"a b\""},
        {"type", "\"tape\""},        {"location", "\"moon\""},
        {"version", "3"},            {"version", "1.0"},
        {"fingerprint", "\"AAAA\""}, {"signature", "\"00\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *c = json_deep_copy(j);
        json_object_set_new(c, bad[i][0], json_loads(bad[i][1], JSON_DECODE_ANY, NULL));
        char *t = json_dumps(c, 0);
        assert_int_equal(bkp_label_parse(t, strlen(t), &back), -EBADMSG);
        free(t);
        json_decref(c);
    }
    const char *twice = "{\"format\": \"bkp-label\", \"format\": \"bkp-label\"}";
    assert_int_equal(bkp_label_parse(twice, strlen(twice), &back), -EBADMSG);
    /* Without the key's fingerprint: a label written before it, still read. */
    json_object_del(j, "fingerprint");
    char *old = json_dumps(j, 0);
    assert_int_equal(bkp_label_parse(old, strlen(old), &back), 0);
    assert_string_equal(back.fingerprint, "");
    free(old);
    json_decref(j);
    free(text);
}

static int set_label(bkp_media_entry *e, void *ctx)
{
    e->label = *(const bkp_label *)ctx;
    return 0;
}

static void test_relabel_keeps_identity(void **state)
{
    ops_repo *f = *state;
    bkp_label old = mk(f, "usb-a", "removable", "offsite"), found, lab;
    assert_int_equal(bkp_media_update(f->r, "usb-a", set_label, &old), 0);
    assert_int_equal(bkp_label_write(f->top, &old, true), 0);
    assert_int_equal(bkp_label_read(f->top, &found), 0);
    assert_true(bkp_label_same(&found, &old));
    renew(f, &found, "spare", "disk", "onsite", &lab);
    assert_string_equal(lab.uuid, old.uuid);
    assert_string_equal(lab.name, "spare");
    assert_string_equal(lab.type, "disk");
    assert_string_equal(lab.location, "onsite");
    /* A note on a medium never labelled writes no entry. */
    bkp_label none = {0};
    assert_int_equal(bkp_media_update(f->r, "never", set_label, &none), 0);
    bkp_media_entry e;
    assert_int_equal(bkp_media_read(f->r, "never", &e), -ENOENT);
    /* A label of another name is not filed under this one. */
    assert_int_not_equal(bkp_media_update(f->r, "other", set_label, &old), 0);
}

/* Another repository's disk starts afresh. */
static void test_foreign_gets_fresh(void **state)
{
    ops_repo *f = *state;
    bkp_label old = mk(f, "usb-a", "removable", "offsite"), lab;
    assert_int_equal(bkp_media_update(f->r, "usb-a", set_label, &old), 0);
    snprintf(old.repository, sizeof(old.repository), "00000000-0000-4000-8000-000000000000");
    renew(f, &old, "usb-a", "removable", "offsite", &lab);
    assert_string_not_equal(lab.uuid, old.uuid);
    assert_string_equal(lab.repository, bkp_repo_uuid(f->r));
}

/* Only the identity the registry holds for the name on the label: a label
 * never registered, one naming another medium than the one registered
 * with its identity (copied or planted), or an identity registered under
 * two names, starts afresh. */
static void test_unregistered_identity_gets_fresh(void **state)
{
    ops_repo *f = *state;
    bkp_label a = mk(f, "usb-a", "removable", "offsite"), lab;
    renew(f, &a, "spare", "removable", "offsite", &lab);
    assert_string_not_equal(lab.uuid, a.uuid); /* not registered */
    assert_int_equal(bkp_media_update(f->r, "usb-a", set_label, &a), 0);
    bkp_label planted = a;
    snprintf(planted.name, sizeof(planted.name), "usb-x");
    renew(f, &planted, "spare", "removable", "offsite", &lab);
    assert_string_not_equal(lab.uuid, a.uuid); /* another name's identity */
    renew(f, &a, "spare", "removable", "offsite", &lab);
    assert_string_equal(lab.uuid, a.uuid); /* registered: kept */
    bkp_label b = a;
    snprintf(b.name, sizeof(b.name), "usb-b");
    assert_int_equal(bkp_media_update(f->r, "usb-b", set_label, &b), 0);
    renew(f, &a, "spare", "removable", "offsite", &lab);
    assert_string_not_equal(lab.uuid, a.uuid); /* held by two media */
}

static void test_judge(void **state)
{
    ops_repo *f = *state;
    bkp_media_entry entry = {.label = mk(f, "usb-a", "removable", "offsite")};
    const bkp_label *lab = &entry.label;
    assert_int_equal(bkp_label_judge(f->r, lab, "usb-a", &entry), BKP_LABEL_OURS);
    assert_int_equal(bkp_label_judge(f->r, lab, "usb-a", NULL), BKP_LABEL_UNREGISTERED);
    assert_int_equal(bkp_label_judge(f->r, lab, "usb-b", &entry), BKP_LABEL_OTHER_NAME);
    /* A second disk under the registered name. */
    bkp_label twin = mk(f, "usb-a", "removable", "offsite");
    assert_int_equal(bkp_label_judge(f->r, &twin, "usb-a", &entry), BKP_LABEL_OTHER_DISK);
    /* A label from before labels carried the key's fingerprint still counts. */
    twin.fingerprint[0] = '\0';
    memcpy(twin.uuid, lab->uuid, sizeof(twin.uuid));
    assert_int_equal(bkp_label_judge(f->r, &twin, "usb-a", &entry), BKP_LABEL_OURS);
    /* Another key's fingerprint comes before the name; the repository first. */
    snprintf(twin.fingerprint, sizeof(twin.fingerprint), "AAAA-BBBB");
    assert_int_equal(bkp_label_judge(f->r, &twin, "usb-b", &entry), BKP_LABEL_OTHER_KEY);
    snprintf(twin.repository, sizeof(twin.repository), "00000000-0000-4000-8000-000000000000");
    assert_int_equal(bkp_label_judge(f->r, &twin, "usb-b", &entry), BKP_LABEL_OTHER_REPO);
}

static void test_signed(void **state)
{
    ops_repo *f = *state;
    const uint8_t *pk = bkp_repo_sign_pk(f->r);
    const char *id = bkp_repo_uuid(f->r);
    uint8_t other[32];
    bkp_label plain = mk(f, "cloud", "object", "offsite"), lab = plain, back;
    assert_int_equal(bkp_label_sign(&lab, bkp_repo_keys(f->r)), 0);
    assert_int_equal(lab.version, 2);
    assert_true(bkp_label_signed_by(&lab, pk));
    assert_false(bkp_label_signed_by(&plain, pk)); /* version 1: not signed */
    /* Through the file as the bucket holds it, and back. */
    size_t len;
    char *text = bkp_label_text(&lab, &len);
    assert_int_equal(bkp_label_parse(text, len, &back), 0);
    assert_true(bkp_label_signed_by(&back, pk));
    memcpy(other, pk, 32);
    other[0] ^= 1;
    assert_false(bkp_label_signed_by(&back, other));
    /* Our uuid and repository, another name: not ours. */
    snprintf(back.name, sizeof(back.name), "cloud2");
    assert_false(bkp_label_signed_by(&back, pk));
    assert_false(bkp_label_ours(&back, &lab, pk, id));
    assert_false(bkp_label_ours(&back, NULL, pk, id));
    /* The registered label itself, signed or not; its uuid signed. */
    assert_true(bkp_label_ours(&lab, NULL, pk, id));
    assert_true(bkp_label_ours(&plain, &plain, pk, id));
    assert_true(bkp_label_ours(&lab, &plain, pk, id));
    bkp_label fresh = mk(f, "cloud", "object", "offsite");
    assert_int_equal(bkp_label_sign(&fresh, bkp_repo_keys(f->r)), 0);
    assert_false(bkp_label_ours(&fresh, &lab, pk, id)); /* another uuid */
    /* A version 2 without a signature, or one not hex, is no label. */
    json_t *j = bkp_label_json(&lab);
    json_object_set_new(j, "signature", json_string("zz"));
    char *t = json_dumps(j, 0);
    assert_int_equal(bkp_label_parse(t, strlen(t), &back), -EBADMSG);
    free(t);
    json_object_del(j, "signature");
    t = json_dumps(j, 0);
    assert_int_equal(bkp_label_parse(t, strlen(t), &back), -EBADMSG);
    free(t);
    json_decref(j);
    /* The registered label itself, naming another repository (a copy put
     * in front that an earlier bkp took for ours), or another key: never. */
    bkp_label elsewhere = plain;
    snprintf(elsewhere.repository, sizeof(elsewhere.repository),
             "00000000-0000-4000-8000-000000000000");
    assert_false(bkp_label_ours(&elsewhere, &elsewhere, pk, id));
    assert_false(bkp_label_ours(&plain, &plain, other, id));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_labels_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relabel_keeps_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_identity_gets_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_gets_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
