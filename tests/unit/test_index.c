/*
 * test_index.c — the blob index in memory and as segment files (bkp/store/index.h).
 *
 * Proves that the index finds every blob it was given (through many growths),
 * never replaces an entry on a duplicate insert (the first stored copy stays
 * the one restores read), that a segment written by one run loads into
 * another with the same entries and pack IDs, that a damaged or foreign
 * segment is refused with -EBADMSG, and that the pack registry numbers and
 * finds packs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/store/index.h"

#define MANY 100000
#define NPACKS 3

static const uint8_t repo_id[16] = "index-test-repo";

typedef struct fixture {
    bkp_keys *k;
    bkp_index *x;
    bkp_buf seg;
} fixture;

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    bkp_buf_init(&f->seg);
    if (sodium_init() < 0 || bkp_keys_generate(repo_id, &f->k) || bkp_index_new(&f->x))
        return teardown(state), -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bkp_buf_free(&f->seg);
    bkp_index_free(f->x);
    bkp_keys_free(f->k);
    free(f);
    return 0;
}

static void make_entry(bkp_index_entry *e, uint32_t i, uint32_t pack)
{
    memset(e, 0, sizeof(*e));
    uint8_t seed[randombytes_SEEDBYTES] = {0};
    memcpy(seed, &i, sizeof(i));
    randombytes_buf_deterministic(e->id, BKP_ID_LEN, seed);
    e->type = (uint8_t)(i % 2 ? BKP_BLOB_DATA : BKP_BLOB_TREE);
    e->pack = pack;
    e->offset = 8 + (uint64_t)i * 1000003ULL;
    e->len = i * 7 + 45;
    e->raw_len = i * 5 + 1;
}

static void assert_entry(const bkp_index_entry *got, const bkp_index_entry *want)
{
    assert_non_null(got);
    assert_memory_equal(got->id, want->id, BKP_ID_LEN);
    assert_int_equal(got->type, want->type);
    assert_int_equal(got->offset, want->offset);
    assert_int_equal(got->len, want->len);
    assert_int_equal(got->raw_len, want->raw_len);
}

static void test_insert_lookup_many(void **state)
{
    fixture *f = *state;
    bkp_index_entry e;
    for (uint32_t i = 0; i < MANY; i++) {
        make_entry(&e, i, i % 5);
        assert_int_equal(bkp_index_insert(f->x, &e), 0);
    }
    assert_int_equal(bkp_index_count(f->x), MANY);
    for (uint32_t i = 0; i < MANY; i++) {
        make_entry(&e, i, i % 5);
        const bkp_index_entry *got = bkp_index_lookup(f->x, e.id);
        assert_entry(got, &e);
        assert_int_equal(got->pack, i % 5);
    }
    /* IDs never inserted are not found. */
    for (uint32_t i = MANY; i < MANY + 1000; i++) {
        make_entry(&e, i, 0);
        assert_null(bkp_index_lookup(f->x, e.id));
    }
}

static void test_duplicate_keeps_first(void **state)
{
    fixture *f = *state;
    bkp_index_entry first, again;
    make_entry(&first, 42, 0);
    assert_int_equal(bkp_index_insert(f->x, &first), 0);
    again = first;
    again.pack = 9;
    again.offset = 12345;
    again.len = 99;
    assert_int_equal(bkp_index_insert(f->x, &again), 1);
    assert_int_equal(bkp_index_count(f->x), 1);
    const bkp_index_entry *got = bkp_index_lookup(f->x, first.id);
    assert_entry(got, &first);
    assert_int_equal(got->pack, 0);
}

static void count_cb(const bkp_index_entry *e, void *ctx)
{
    uint64_t *acc = ctx;
    acc[0]++;
    acc[1] += e->offset;
}

static void test_foreach_visits_each_once(void **state)
{
    fixture *f = *state;
    bkp_index_entry e;
    uint64_t want = 0, acc[2] = {0, 0};
    for (uint32_t i = 0; i < 5000; i++) {
        make_entry(&e, i, 0);
        assert_int_equal(bkp_index_insert(f->x, &e), 0);
        want += e.offset;
    }
    bkp_index_foreach(f->x, count_cb, acc);
    assert_int_equal(acc[0], 5000);
    assert_int_equal(acc[1], want);
}

/* Three packs with 100 blobs each; returns their IDs in `pids`. */
static void fill_packs(fixture *f, uint8_t pids[NPACKS][BKP_ID_LEN])
{
    for (uint32_t p = 0; p < NPACKS; p++) {
        uint32_t num;
        randombytes_buf(pids[p], BKP_ID_LEN);
        assert_int_equal(bkp_index_add_pack(f->x, pids[p], &num), 0);
        assert_int_equal(num, p);
        for (uint32_t i = 0; i < 100; i++) {
            bkp_index_entry e;
            make_entry(&e, p * 100 + i, p);
            assert_int_equal(bkp_index_insert(f->x, &e), 0);
        }
    }
}

/* Collects the segments an encode emits. */
typedef struct segments {
    bkp_buf seg[8];
    int n;
} segments;

static int keep_segment(const bkp_buf *seg, void *ctx)
{
    segments *s = ctx;
    if (s->n == 8)
        return -E2BIG;
    bkp_buf_init(&s->seg[s->n]);
    bkp_buf_put(&s->seg[s->n], seg->data, seg->len);
    s->n++;
    return 0;
}

/* One segment for packs [first, last) into f->seg. */
static int encode_one(fixture *f, uint32_t first, uint32_t last)
{
    segments s = {.n = 0};
    int r = bkp_index_segments_encode(f->x, first, last, f->k, 1U << 20, keep_segment, &s);
    if (!r && s.n != 1)
        r = -EINVAL;
    if (!r) {
        bkp_buf_reset(&f->seg);
        bkp_buf_put(&f->seg, s.seg[0].data, s.seg[0].len);
    }
    for (int i = 0; i < s.n; i++)
        bkp_buf_free(&s.seg[i]);
    return r;
}

static void test_segments_split(void **state)
{
    fixture *f = *state;
    uint8_t pids[NPACKS][BKP_ID_LEN];
    segments s = {.n = 0};
    bkp_index *y = NULL;
    fill_packs(f, pids);
    /* At most 150 entries a segment, 100 a pack: one pack per segment. */
    assert_int_equal(bkp_index_segments_encode(f->x, 0, NPACKS, f->k, 150, keep_segment, &s), 0);
    assert_int_equal(s.n, NPACKS);
    assert_int_equal(bkp_index_new(&y), 0);
    for (int i = 0; i < s.n; i++)
        assert_int_equal(bkp_index_segment_load(y, s.seg[i].data, s.seg[i].len, f->k), 0);
    assert_int_equal(bkp_index_count(y), NPACKS * 100);
    assert_int_equal(bkp_index_pack_count(y), NPACKS);
    for (int i = 0; i < s.n; i++)
        bkp_buf_free(&s.seg[i]);
    bkp_index_free(y);
}

static void test_segment_round_trip(void **state)
{
    fixture *f = *state;
    uint8_t pids[NPACKS][BKP_ID_LEN];
    bkp_index *y = NULL, *z = NULL;
    fill_packs(f, pids);
    assert_int_equal(encode_one(f, 0, NPACKS), 0);
    assert_memory_equal(f->seg.data, "BKPIDX01", 8);

    assert_int_equal(bkp_index_new(&y), 0);
    assert_int_equal(bkp_index_segment_load(y, f->seg.data, f->seg.len, f->k), 0);
    assert_int_equal(bkp_index_count(y), NPACKS * 100);
    assert_int_equal(bkp_index_pack_count(y), NPACKS);
    for (uint32_t i = 0; i < NPACKS * 100; i++) {
        bkp_index_entry e;
        make_entry(&e, i, i / 100);
        const bkp_index_entry *got = bkp_index_lookup(y, e.id);
        assert_entry(got, &e);
        /* The loaded entry points at the same pack, by ID. */
        assert_memory_equal(bkp_index_pack_id(y, got->pack), pids[i / 100], BKP_ID_LEN);
    }
    /* Loading the same segment again adds nothing. */
    assert_int_equal(bkp_index_segment_load(y, f->seg.data, f->seg.len, f->k), 0);
    assert_int_equal(bkp_index_count(y), NPACKS * 100);
    assert_int_equal(bkp_index_pack_count(y), NPACKS);

    /* A segment of packs [1, 3) carries only their blobs. */
    assert_int_equal(encode_one(f, 1, NPACKS), 0);
    assert_int_equal(bkp_index_new(&z), 0);
    assert_int_equal(bkp_index_segment_load(z, f->seg.data, f->seg.len, f->k), 0);
    assert_int_equal(bkp_index_count(z), (NPACKS - 1) * 100);
    assert_int_equal(bkp_index_pack_count(z), NPACKS - 1);
    bkp_index_entry e;
    make_entry(&e, 5, 0);
    assert_null(bkp_index_lookup(z, e.id));
    make_entry(&e, 150, 1);
    assert_entry(bkp_index_lookup(z, e.id), &e);
    bkp_index_free(y);
    bkp_index_free(z);
}

static void test_damaged_segment(void **state)
{
    fixture *f = *state;
    uint8_t pids[NPACKS][BKP_ID_LEN];
    bkp_index *y = NULL;
    bkp_keys *other = NULL;
    fill_packs(f, pids);
    assert_int_equal(encode_one(f, 0, NPACKS), 0);
    assert_int_equal(bkp_index_new(&y), 0);

    /* Every single flipped byte, magic included, is detected. */
    for (size_t i = 0; i < f->seg.len; i++) {
        f->seg.data[i] ^= 0x5a;
        int r = bkp_index_segment_load(y, f->seg.data, f->seg.len, f->k);
        f->seg.data[i] ^= 0x5a;
        if (r != -EBADMSG)
            fail_msg("flipped byte %zu of %zu: load returned %d", i, f->seg.len, r);
    }
    /* Truncated, and from another repository. */
    assert_int_equal(bkp_index_segment_load(y, f->seg.data, f->seg.len - 1, f->k), -EBADMSG);
    assert_int_equal(bkp_index_segment_load(y, f->seg.data, 4, f->k), -EBADMSG);
    assert_int_equal(bkp_keys_generate(repo_id, &other), 0);
    assert_int_equal(bkp_index_segment_load(y, f->seg.data, f->seg.len, other), -EBADMSG);
    /* A refused segment adds nothing. */
    assert_int_equal(bkp_index_count(y), 0);
    assert_int_equal(bkp_index_pack_count(y), 0);
    /* Control: intact, it loads. */
    assert_int_equal(bkp_index_segment_load(y, f->seg.data, f->seg.len, f->k), 0);
    assert_int_equal(bkp_index_count(y), NPACKS * 100);
    bkp_keys_free(other);
    bkp_index_free(y);
}

static void test_pack_registry(void **state)
{
    fixture *f = *state;
    uint8_t a[BKP_ID_LEN], b[BKP_ID_LEN], zero[BKP_ID_LEN] = {0}, unknown[BKP_ID_LEN];
    uint32_t na = 99, nb = 99, nz = 99, found = 99;
    randombytes_buf(a, sizeof(a));
    randombytes_buf(b, sizeof(b));
    randombytes_buf(unknown, sizeof(unknown));

    assert_int_equal(bkp_index_pack_count(f->x), 0);
    assert_int_equal(bkp_index_find_pack(f->x, a, &found), -ENOENT);
    assert_int_equal(found, 99); /* untouched on failure */
    assert_int_equal(bkp_index_add_pack(f->x, a, &na), 0);
    assert_int_equal(bkp_index_add_pack(f->x, zero, &nz), 0); /* a pack still being written */
    assert_int_equal(na, 0);
    assert_int_equal(nz, 1);
    assert_int_equal(bkp_index_pack_count(f->x), 2);
    assert_memory_equal(bkp_index_pack_id(f->x, na), a, BKP_ID_LEN);
    assert_memory_equal(bkp_index_pack_id(f->x, nz), zero, BKP_ID_LEN);
    assert_int_equal(bkp_index_find_pack(f->x, a, &found), 0);
    assert_int_equal(found, na);
    assert_int_equal(bkp_index_find_pack(f->x, unknown, &found), -ENOENT);

    /* The pack gets its name when finished. */
    bkp_index_set_pack_id(f->x, nz, b);
    assert_memory_equal(bkp_index_pack_id(f->x, nz), b, BKP_ID_LEN);
    assert_int_equal(bkp_index_find_pack(f->x, b, &found), 0);
    assert_int_equal(found, nz);
    assert_int_equal(bkp_index_find_pack(f->x, zero, &found), -ENOENT);

    /* Many packs: numbers stay sequential and findable through growth. */
    for (uint32_t i = 2; i < 300; i++) {
        uint8_t id[BKP_ID_LEN] = {0};
        memcpy(id, &i, sizeof(i));
        id[31] = 1;
        assert_int_equal(bkp_index_add_pack(f->x, id, &nb), 0);
        assert_int_equal(nb, i);
    }
    assert_int_equal(bkp_index_pack_count(f->x), 300);
    assert_int_equal(bkp_index_find_pack(f->x, a, &found), 0);
    assert_int_equal(found, 0);
    uint8_t id[BKP_ID_LEN] = {0};
    uint32_t i = 250;
    memcpy(id, &i, sizeof(i));
    id[31] = 1;
    assert_int_equal(bkp_index_find_pack(f->x, id, &found), 0);
    assert_int_equal(found, 250);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_insert_lookup_many), T(test_duplicate_keeps_first), T(test_foreach_visits_each_once),
        T(test_segment_round_trip),
        T(test_segments_split),
        T(test_damaged_segment),
        T(test_pack_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
