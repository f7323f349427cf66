/*
 * test_keyslots.c — the key file as a signed list of slots (bkp/keys/key_slots.h).
 *
 * Proves that each slot opens with its own passphrase only and gives the
 * same keys; that the list survives a round trip through its signed file;
 * that every flipped byte of that file, a list signed by another key or
 * naming another repository, is refused before any slot is tried; that a
 * key file of format 1 reads as one slot whose id does not change when the
 * list is first written; that passwd leaves the old passphrase nothing to
 * open; that the last slot cannot be removed; that ids are found by unique
 * prefixes; that keys/used is read strictly and kept to the list; and that a
 * machine slot is sealed cheaply only under a secret bkp drew, survives the
 * signed file, opens first, and becomes a passphrase slot when resealed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/io/durable.h"
#include "bkp/keys/key_slots.h"

#define P1 "correct horse battery staple"
#define P2 "a second passphrase, for the deputy"
#define P3 "the new one, after the incident"

static const uint8_t rid[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

typedef struct fixture {
    bkp_keys *k;
    bkp_key_slots s;
    bkp_buf file;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || sodium_init() < 0 || bkp_keys_generate(rid, &f->k))
        return -1;
    bkp_buf_init(&f->file);
    if (bkp_key_slots_add(&f->s, f->k, P1, strlen(P1), "", 1000) != 0 ||
        bkp_key_slots_add(&f->s, f->k, P2, strlen(P2), "deputy 副院長", 2000) != 1 ||
        bkp_key_slots_render(&f->s, f->k, &f->file))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_keys_free(f->k);
    bkp_buf_free(&f->file);
    free(f);
    return 0;
}

static void assert_same_keys(const bkp_keys *a, const bkp_keys *b)
{
    assert_memory_equal(bkp_keys_sign_pk(a), bkp_keys_sign_pk(b), 32);
    assert_memory_equal(bkp_keys_blob_key(a), bkp_keys_blob_key(b), 32);
    assert_memory_equal(bkp_keys_repo_id(a), bkp_keys_repo_id(b), 16);
}

static void test_round_trip_and_open(void **state)
{
    fixture *f = *state;
    bkp_key_slots r;
    bkp_keys *k = NULL;
    unsigned which = 99;
    assert_int_equal(bkp_key_slots_read(f->file.data, f->file.len, bkp_keys_sign_pk(f->k), rid, &r),
                     0);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.serial, 2); /* two slots added */
    assert_int_equal(r.n, 2);
    assert_string_equal(r.slot[1].label, "deputy 副院長");
    assert_int_equal(r.slot[0].created, 1000);
    assert_int_equal(r.slot[1].changed, 2000);
    assert_string_equal(r.slot[0].id, f->s.slot[0].id);
    assert_int_equal(bkp_key_slots_open(&r, P2, strlen(P2), &k, &which), 0);
    assert_int_equal(which, 1);
    assert_same_keys(k, f->k);
    bkp_keys_free(k);
    assert_int_equal(bkp_key_slots_open(&r, P3, strlen(P3), &k, &which), -EKEYREJECTED);
}

static void test_every_flipped_byte_refused(void **state)
{
    fixture *f = *state;
    bkp_key_slots r;
    const uint8_t *pk = bkp_keys_sign_pk(f->k);
    for (size_t i = 0; i < f->file.len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            f->file.data[i] ^= (uint8_t)(1u << bit);
            int rc = bkp_key_slots_read(f->file.data, f->file.len, pk, rid, &r);
            f->file.data[i] ^= (uint8_t)(1u << bit);
            if (rc != -EBADMSG && rc != -EPROTO)
                fail_msg("byte %zu bit %d: %d", i, bit, rc);
        }
    }
    /* Cut short, or one byte more. */
    assert_int_equal(bkp_key_slots_read(f->file.data, f->file.len - 1, pk, rid, &r), -EBADMSG);
    bkp_buf_put(&f->file, "x", 1);
    assert_int_equal(bkp_key_slots_read(f->file.data, f->file.len, pk, rid, &r), -EBADMSG);
}

static void test_other_key_or_repository(void **state)
{
    fixture *f = *state;
    bkp_key_slots r;
    bkp_keys *other = NULL;
    bkp_buf file;
    uint8_t rid2[16];
    memcpy(rid2, rid, 16);
    rid2[15] ^= 1;
    /* Signed by the right key, for another repository id. */
    assert_int_equal(bkp_key_slots_read(f->file.data, f->file.len, bkp_keys_sign_pk(f->k), rid2, &r),
                     -EBADMSG);
    /* The same slots, signed by another repository's key. */
    assert_int_equal(bkp_keys_generate(rid, &other), 0);
    bkp_buf_init(&file);
    assert_int_equal(bkp_key_slots_render(&f->s, other, &file), 0);
    assert_int_equal(bkp_key_slots_read(file.data, file.len, bkp_keys_sign_pk(f->k), rid, &r),
                     -EBADMSG);
    bkp_buf_free(&file);
    bkp_keys_free(other);
}

static void test_format_1(void **state)
{
    fixture *f = *state;
    bkp_key_slots r, again;
    bkp_keys *k = NULL;
    bkp_buf file;
    unsigned which;
    const uint8_t *pk = bkp_keys_sign_pk(f->k);
    assert_int_equal(bkp_key_slots_read(f->s.slot[0].sealed, BKP_KEY_SEALED_LEN, pk, rid, &r), 0);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.slot[0].created, 0);
    assert_int_equal(bkp_key_slots_open(&r, P1, strlen(P1), &k, &which), 0);
    bkp_keys_free(k);
    /* Written as format 2 (by a change, which raises the serial from 0), the
     * slot keeps its id. */
    r.serial++;
    bkp_buf_init(&file);
    assert_int_equal(bkp_key_slots_render(&r, f->k, &file), 0);
    assert_int_equal(bkp_key_slots_read(file.data, file.len, pk, rid, &again), 0);
    assert_string_equal(again.slot[0].id, r.slot[0].id);
    assert_int_equal(again.version, 2);
    bkp_buf_free(&file);
    /* A format-1 file asking for 4 GiB is refused before any work. */
    uint8_t big[BKP_KEY_SEALED_LEN];
    memcpy(big, f->s.slot[0].sealed, sizeof(big));
    big[20 + 4] = 1;
    assert_int_equal(bkp_key_slots_read(big, sizeof(big), pk, rid, &r), -EPROTO);
    assert_int_equal(bkp_key_slots_read((const uint8_t *)"BKPKEY03xxxx", 12, pk, rid, &r), -EPROTO);
}

static void test_passwd_and_remove(void **state)
{
    fixture *f = *state;
    bkp_key_slots s = f->s;
    bkp_keys *k = NULL;
    unsigned which;
    char id0[17];
    memcpy(id0, s.slot[0].id, 17);
    assert_int_equal(bkp_key_slots_reseal(&s, 0, f->k, P3, strlen(P3), 3000), 0);
    assert_int_equal(s.serial, 3);
    assert_string_equal(s.slot[0].id, id0);
    assert_int_equal(s.slot[0].changed, 3000);
    assert_int_equal(s.slot[0].created, 1000);
    assert_int_equal(bkp_key_slots_open(&s, P1, strlen(P1), &k, &which), -EKEYREJECTED);
    assert_int_equal(bkp_key_slots_open(&s, P3, strlen(P3), &k, &which), 0);
    assert_int_equal(which, 0);
    bkp_keys_free(k);
    assert_int_equal(bkp_key_slots_remove(&s, 0), 0);
    assert_int_equal(s.serial, 4);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.slot[0].label, "deputy 副院長");
    assert_int_equal(bkp_key_slots_remove(&s, 0), -EPERM);
    assert_int_equal(bkp_key_slots_remove(&s, 5), -ENOENT);
}

static void test_find_and_labels(void **state)
{
    fixture *f = *state;
    bkp_key_slots s = f->s;
    char id[17];
    memcpy(id, s.slot[1].id, 17);
    assert_int_equal(bkp_key_slots_find(&s, id), 1);
    id[6] = '\0';
    assert_int_equal(bkp_key_slots_find(&s, id), 1);
    id[3] = '\0';
    assert_int_equal(bkp_key_slots_find(&s, id), -ENOENT); /* fewer than 4 digits */
    /* Two slots that share a prefix: ambiguous. */
    memcpy(s.slot[0].id, s.slot[1].id, 4);
    memcpy(id, s.slot[1].id, 4);
    id[4] = '\0';
    assert_int_equal(bkp_key_slots_find(&s, id), -EEXIST);
    assert_int_equal(bkp_key_label_ok("事務長 (鈴木)"), 0);
    assert_int_equal(bkp_key_label_ok("two\nlines"), -EINVAL);
    assert_int_equal(bkp_key_label_ok("\xff\xfe"), -EINVAL);
    /* What a terminal would obey or reorder: C1 CSI, a right-to-left override. */
    assert_int_equal(bkp_key_label_ok("a\xc2\x9b" "2J"), -EINVAL);
    assert_int_equal(bkp_key_label_ok("cron \xe2\x80\xae" "ecived"), -EINVAL);
    assert_int_equal(bkp_key_label_ok("\xe2\x80\xa8"), -EINVAL);
    assert_int_equal(bkp_key_label_ok("caf\xc3\xa9 \xf0\x9f\x94\x91"), 0);
    char longer[BKP_KEY_LABEL_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(bkp_key_label_ok(longer), -EINVAL);
    assert_int_equal(bkp_key_slots_add(&s, f->k, P3, strlen(P3), "bad\tlabel", 1), -EINVAL);
}

static void test_machine_slot(void **state)
{
    fixture *f = *state;
    bkp_key_slots s = f->s, r;
    bkp_keys *k = NULL;
    unsigned which = 99;
    char secret[BKP_MACHINE_SECRET_LEN + 1], again[BKP_MACHINE_SECRET_LEN + 1];
    bkp_buf file;

    assert_int_equal(bkp_key_slots_add_machine(&s, f->k, secret, "machine vm", 3000), 2);
    assert_int_equal(strlen(secret), BKP_MACHINE_SECRET_LEN);
    assert_int_equal(strspn(secret, "0123456789abcdef"), BKP_MACHINE_SECRET_LEN);
    assert_int_equal(s.serial, f->s.serial + 1);
    /* The least Argon2id cost, in the authenticated header; the others keep theirs. */
    assert_int_equal(bkp_keys_sealed_kind(s.slot[2].sealed), BKP_KEY_MACHINE);
    assert_int_equal(bkp_get_le64(s.slot[2].sealed + 12), 1);
    assert_int_equal(bkp_get_le64(s.slot[2].sealed + 20), 8192);
    assert_int_equal(bkp_keys_sealed_kind(s.slot[0].sealed), BKP_KEY_PASSPHRASE);
    assert_int_equal(bkp_keys_sealed_kind(s.slot[1].sealed), BKP_KEY_PASSPHRASE);
    /* Two machine slots never share a secret. */
    assert_int_equal(bkp_key_slots_add_machine(&s, f->k, again, "", 3001), 3);
    assert_memory_not_equal(secret, again, BKP_MACHINE_SECRET_LEN);

    /* Through the signed file: still a machine slot, and it opens with its secret only. */
    bkp_buf_init(&file);
    assert_int_equal(bkp_key_slots_render(&s, f->k, &file), 0);
    assert_int_equal(bkp_key_slots_read(file.data, file.len, bkp_keys_sign_pk(f->k), rid, &r), 0);
    bkp_buf_free(&file);
    assert_int_equal(bkp_keys_sealed_kind(r.slot[2].sealed), BKP_KEY_MACHINE);
    assert_int_equal(bkp_key_slots_open(&r, secret, BKP_MACHINE_SECRET_LEN, &k, &which), 0);
    assert_int_equal(which, 2);
    assert_same_keys(k, f->k);
    bkp_keys_free(k);
    assert_int_equal(bkp_key_slots_open(&r, again, BKP_MACHINE_SECRET_LEN, &k, &which), 0);
    assert_int_equal(which, 3);
    bkp_keys_free(k);
    /* A person's passphrase still opens its own slot past the machine slots. */
    assert_int_equal(bkp_key_slots_open(&r, P2, strlen(P2), &k, &which), 0);
    assert_int_equal(which, 1);
    bkp_keys_free(k);
    secret[0] ^= 1;
    assert_int_equal(bkp_key_slots_open(&r, secret, BKP_MACHINE_SECRET_LEN, &k, &which),
                     -EKEYREJECTED);

    /* A machine slot given a person's passphrase is stretched like any other. */
    assert_int_equal(bkp_key_slots_reseal(&r, 2, f->k, P3, strlen(P3), 4000), 0);
    assert_int_equal(bkp_keys_sealed_kind(r.slot[2].sealed), BKP_KEY_PASSPHRASE);
    assert_int_equal(bkp_key_slots_open(&r, P3, strlen(P3), &k, &which), 0);
    assert_int_equal(which, 2);
    bkp_keys_free(k);
    /* A full list takes no machine slot either, and says so with the secret wiped. */
    while (s.n < BKP_KEY_SLOTS_MAX)
        assert_true(bkp_key_slots_add_machine(&s, f->k, secret, "", 5000) >= 0);
    assert_int_equal(bkp_key_slots_add_machine(&s, f->k, secret, "", 5000), -ENOSPC);
    assert_int_equal(secret[0], 0);
}

static void test_slot_costs(void **state)
{
    fixture *f = *state;
    bkp_key_slots s = f->s, r;
    bkp_buf file;
    /* A signed list whose slot asks for more than bkp writes (4 passes):
     * sixteen such slots would make every open take a minute. */
    s.slot[1].sealed[12] = 4;
    bkp_buf_init(&file);
    assert_int_equal(bkp_key_slots_render(&s, f->k, &file), 0);
    assert_int_equal(bkp_key_slots_read(file.data, file.len, bkp_keys_sign_pk(f->k), rid, &r),
                     -EPROTO);
    bkp_buf_free(&file);
    /* The same sealed secret alone, as a file of format 1: four times is allowed there. */
    assert_int_equal(bkp_key_slots_read(s.slot[1].sealed, BKP_KEY_SEALED_LEN,
                                        bkp_keys_sign_pk(f->k), rid, &r),
                     0);
}

static void test_full_list(void **state)
{
    fixture *f = *state;
    bkp_key_slots s = f->s;
    /* Slots are copied, not sealed again: Argon2id runs only for the new one. */
    while (s.n < BKP_KEY_SLOTS_MAX) {
        s.slot[s.n] = s.slot[0];
        snprintf(s.slot[s.n].id, 17, "%016x", s.n);
        snprintf(s.slot[s.n].label, sizeof(s.slot[0].label), "%064d", 0);
        s.n++;
    }
    assert_int_equal(bkp_key_slots_add(&s, f->k, P3, strlen(P3), "", 1), -ENOSPC);
    bkp_buf file;
    bkp_key_slots r;
    bkp_buf_init(&file);
    assert_int_equal(bkp_key_slots_render(&s, f->k, &file), 0);
    assert_true(file.len <= BKP_KEY_FILE_MAX);
    assert_int_equal(bkp_key_slots_read(file.data, file.len, bkp_keys_sign_pk(f->k), rid, &r), 0);
    assert_int_equal(r.n, BKP_KEY_SLOTS_MAX);
    bkp_buf_free(&file);
}

static void test_used(void **state)
{
    fixture *f = *state;
    bkp_key_slots s = f->s;
    char dir[] = "/tmp/bkp-test-keyslots-XXXXXX", line[256];
    assert_non_null(mkdtemp(dir));
    bkp_key_used_load(dir, &s); /* none yet */
    assert_int_equal(s.slot[0].used, 0);
    bkp_key_used_mark(dir, &s, 1, 86400 * 20000 + 5);
    bkp_key_used_mark(dir, &s, 1, 86400 * 20000 + 999); /* the same day: not rewritten */
    bkp_key_used_load(dir, &s);
    assert_int_equal(s.slot[1].used, 86400 * 20000 + 5);
    assert_int_equal(s.slot[0].used, 0);
    /* Strict: another id shape, a time that is not one, trailing bytes. */
    snprintf(line, sizeof(line), "{\"%s\":\"2026-01-01T00:00:00Z\"}", s.slot[0].id);
    assert_int_equal(bkp_key_used_parse((const uint8_t *)line, strlen(line), &s), 0);
    assert_int_equal(s.slot[0].used, 1767225600);
    const char *bad[] = {"{\"ABCDEF0123456789\":\"2026-01-01T00:00:00Z\"}",
                         "{\"abcdef0123456789\":\"yesterday\"}", "[]", "{} x",
                         "{\"abcdef0123456789\":1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(bkp_key_used_parse((const uint8_t *)bad[i], strlen(bad[i]), &s), -EBADMSG);
    assert_int_equal(s.slot[0].used, 0); /* a damaged file: no last use at all */
    snprintf(line, sizeof(line), "%s/used", dir);
    unlink(line);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_flipped_byte_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_key_or_repository, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passwd_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_and_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_costs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_machine_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_used, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
