/*
 * test_chunker_exact.c — the cut points of bkp_chunker_cut and of
 * bkp_chunker_cut_more, however the bytes arrive, are those of the chunker's
 * definition, written out again here as the simplest loop (gear table from
 * the seed, harder mask below avg, nothing cut before min, a cut at max).
 *
 * A repository deduplicates only while every version of bkp cuts the same
 * bytes at the same points, so each input is cut four ways and compared
 * with that oracle: whole (bkp_chunker_cut), streamed in pieces of every
 * awkward size (1, 63, 64, 65 bytes, just under and over min, avg and max),
 * streamed through small slabs whose uncut tail moves to the next one (as a
 * backup reads), and at every length from 0 to past two maximal chunks.
 * Inputs: random bytes, zeros (a constant hash), short and long repeated
 * patterns, and random bytes broken by runs of zeros; with a small, a
 * middling and the default chunker.
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

#include "bkp/store/chunker.h"

static const uint8_t seed[32] = {9, 9, 9, 1, 2, 3};

typedef struct oracle {
    uint64_t gear[256];
    uint64_t mask_s, mask_l;
    size_t min, avg, max;
} oracle;

static void oracle_init(oracle *o, size_t min, size_t avg, size_t max)
{
    unsigned bits = 0;
    while (((size_t)1 << bits) < avg)
        bits++;
    randombytes_buf_deterministic(o->gear, sizeof(o->gear), seed);
    o->mask_s = ~0ULL << (64 - (bits + 2));
    o->mask_l = ~0ULL << (64 - (bits - 2));
    o->min = min;
    o->avg = avg;
    o->max = max;
}

/* The length of the chunk at the start of `len` bytes, the rest of the
 * stream following them: the definition, one byte at a time. */
static size_t oracle_cut(const oracle *o, const uint8_t *d, size_t len)
{
    size_t n = len < o->max ? len : o->max;
    uint64_t fp = 0;
    for (size_t i = o->min; i < n; i++) {
        fp = (fp << 1) + o->gear[d[i]];
        if (!(fp & (i < o->avg ? o->mask_s : o->mask_l)))
            return i + 1;
    }
    return n;
}

typedef struct cuts {
    size_t *len;
    size_t n, cap;
} cuts;

static void push(cuts *x, size_t n)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 64;
        x->len = realloc(x->len, x->cap * sizeof(*x->len));
        assert_non_null(x->len);
    }
    x->len[x->n++] = n;
}

static void oracle_all(const oracle *o, const uint8_t *d, size_t len, cuts *x)
{
    memset(x, 0, sizeof(*x));
    for (size_t off = 0; off < len;) {
        size_t n = oracle_cut(o, d + off, len - off);
        push(x, n);
        off += n;
    }
}

static void whole_all(const bkp_chunker *c, const uint8_t *d, size_t len, cuts *x)
{
    memset(x, 0, sizeof(*x));
    for (size_t off = 0; off < len;) {
        size_t avail = len - off, n = bkp_chunker_cut(c, d + off, avail, true);
        /* Offered max bytes without eof, it must give the same answer. */
        if (avail > bkp_chunker_max(c))
            assert_int_equal(bkp_chunker_cut(c, d + off, avail, false), n);
        push(x, n);
        off += n;
    }
}

/* As a backup reads: `piece` bytes at a time into slabs of `slab` bytes,
 * cut after every piece; a full slab's uncut tail is copied to a fresh one
 * (another address) and its search goes on from where it stood. */
static void slab_all(const bkp_chunker *c, const uint8_t *d, size_t len, size_t piece, size_t slab,
                     cuts *x)
{
    uint8_t *buf = malloc(slab);
    size_t fill = 0, pos = 0, off = 0;
    bkp_cut_state st = {0, 0};
    assert_non_null(buf);
    memset(x, 0, sizeof(*x));
    for (;;) {
        bool eof = off == len;
        size_t n;
        while (fill > pos && (n = bkp_chunker_cut_more(c, &st, buf + pos, fill - pos, eof))) {
            push(x, n);
            pos += n;
            st = (bkp_cut_state){0, 0};
        }
        if (eof)
            break;
        if (fill == slab) {
            assert_true(fill - pos < bkp_chunker_max(c)); /* the tail fits */
            uint8_t *next = malloc(slab);
            assert_non_null(next);
            memcpy(next, buf + pos, fill - pos);
            free(buf);
            buf = next;
            fill -= pos;
            pos = 0;
        }
        size_t want = len - off < piece ? len - off : piece;
        want = want < slab - fill ? want : slab - fill;
        memcpy(buf + fill, d + off, want);
        fill += want;
        off += want;
    }
    assert_int_equal(pos, fill);
    free(buf);
}

static void assert_same(const cuts *a, const cuts *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_int_equal(a->len[i], b->len[i]);
}

/* Every way of cutting `d` gives the oracle's chunks. */
static void check_input(const bkp_chunker *c, const oracle *o, const uint8_t *d, size_t len)
{
    const size_t pieces[] = {
        1,          63,         64,         65,         o->min - 1,    o->min + 1,
        o->avg - 1, o->avg + 1, o->max - 1, o->max + 1, 3 * o->max + 7};
    cuts want, got;
    oracle_all(o, d, len, &want);
    whole_all(c, d, len, &got);
    assert_same(&want, &got);
    free(got.len);
    for (size_t i = 0; i < sizeof(pieces) / sizeof(*pieces); i++) {
        if ((pieces[i] < 4096 || i % 2) && len > (1U << 20))
            continue; /* every awkward size through megabytes: the small chunker does that */
        for (size_t slab = 2 * o->max; slab <= 4 * o->max; slab += o->max + 13) {
            slab_all(c, d, len, pieces[i], slab, &got);
            assert_same(&want, &got);
            free(got.len);
        }
    }
    free(want.len);
}

enum { RANDOM, ZEROS, PATTERN_SHORT, PATTERN_LONG, ZERO_RUNS, KINDS };

static uint8_t *make_input(int kind, size_t len, uint32_t tag)
{
    uint8_t s[randombytes_SEEDBYTES] = {(uint8_t)kind, (uint8_t)tag, (uint8_t)(tag >> 8), 0x5a};
    uint8_t *d = malloc(len ? len : 1);
    assert_non_null(d);
    randombytes_buf_deterministic(d, len, s);
    for (size_t i = 0; i < len; i++) {
        if (kind == ZEROS)
            d[i] = 0;
        else if (kind == PATTERN_SHORT)
            d[i] = (uint8_t)("ward 7 "[i % 7]);
        else if (kind == PATTERN_LONG && i >= 4099)
            d[i] = d[i % 4099];
    }
    for (size_t at = 0; kind == ZERO_RUNS && at < len;) {
        size_t step = 200 + d[at] * 61U, run = d[at] & 1 ? 5000 : 300;
        memset(d + at, 0, len - at < run ? len - at : run);
        at += run + step;
    }
    return d;
}

/* A small chunker (min 64, avg 256, max 1024) and one of the default sizes
 * must both agree with the oracle. */
static void run_sizes(size_t min, size_t avg, size_t max, size_t len, uint32_t tag)
{
    bkp_chunker *c = NULL;
    oracle o;
    assert_int_equal(bkp_chunker_new(seed, (uint32_t)min, (uint32_t)avg, (uint32_t)max, &c), 0);
    oracle_init(&o, min, avg, max);
    for (int kind = 0; kind < KINDS; kind++) {
        uint8_t *d = make_input(kind, len, tag);
        check_input(c, &o, d, len);
        free(d);
    }
    bkp_chunker_free(c);
}

static void test_small_chunker_matches_definition(void **state)
{
    (void)state;
    for (uint32_t tag = 0; tag < 2; tag++)
        run_sizes(64, 256, 1024, 40000 + tag * 977, tag);
}

static void test_default_chunker_matches_definition(void **state)
{
    (void)state;
    run_sizes(BKP_CHUNK_MIN, BKP_CHUNK_AVG, BKP_CHUNK_MAX, 6U << 20, 1);
}

/* Sizes in between (min 4 KiB, avg 32 KiB, max 256 KiB): a few MiB cross
 * min, avg and max a hundred times; zeros cut all at min or all at max.
 * Any faster or parallel search for cut points must keep these answers. */
static void test_middling_chunker_matches_definition(void **state)
{
    (void)state;
    run_sizes(4096, 32768, 262144, 3U << 20, 2);
}

/* Every length from nothing to past two maximal chunks, each a stream of its
 * own: the edges at min, avg, max and the slab sizes are all crossed. */
static void test_every_length(void **state)
{
    (void)state;
    bkp_chunker *c = NULL;
    oracle o;
    assert_int_equal(bkp_chunker_new(seed, 64, 256, 1024, &c), 0);
    oracle_init(&o, 64, 256, 1024);
    for (int kind = 0; kind < KINDS; kind++) {
        uint8_t *d = make_input(kind, 2 * 1024 + 300, 77);
        for (size_t len = 0; len <= 2 * 1024 + 300; len++) {
            cuts want, got;
            oracle_all(&o, d, len, &want);
            whole_all(c, d, len, &got);
            assert_same(&want, &got);
            free(got.len);
            slab_all(c, d, len, 100, 2 * 1024, &got);
            assert_same(&want, &got);
            free(got.len);
            free(want.len);
        }
        free(d);
    }
    bkp_chunker_free(c);
}

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_small_chunker_matches_definition, setup),
        cmocka_unit_test_setup(test_default_chunker_matches_definition, setup),
        cmocka_unit_test_setup(test_middling_chunker_matches_definition, setup),
        cmocka_unit_test_setup(test_every_length, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
