/*
 * test_chunker_middling.c — the serial cutter against its definition with
 * chunk sizes between the small and the default ones (min 4 KiB, avg 32 KiB,
 * max 256 KiB): long enough chunks that an input of a few MiB crosses min,
 * avg and max a hundred times, offered whole and a few irregular pieces at a
 * time. Inputs: random bytes, zeros (a constant hash that, with this seed,
 * never ends a chunk: every cut is forced at max), a short repeated pattern (a periodic hash) and random bytes broken by
 * runs of zeros.
 *
 * Any faster or parallel search for cut points must keep these answers: a
 * repository deduplicates only while every version of bkp cuts the same
 * bytes at the same points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bkp/chunker.h"

static uint64_t gear[256];

enum { RANDOM, ZEROS, PATTERN, ZERO_RUNS, KINDS };

static void fill(uint8_t *d, size_t len, int kind, uint32_t tag)
{
    uint8_t s[randombytes_SEEDBYTES] = {(uint8_t)kind, (uint8_t)tag, (uint8_t)(tag >> 8), 0x33};
    randombytes_buf_deterministic(d, len, s);
    for (size_t i = 0; i < len; i++) {
        if (kind == ZEROS)
            d[i] = 0;
        else if (kind == PATTERN && i >= 61)
            d[i] = d[i % 61];
        else if (kind == ZERO_RUNS && (i / 700) % 3 == 1)
            d[i] = 0;
    }
}

/* The definition, one byte at a time: the length of the chunk at `d`. */
static size_t oracle_cut(const bkp_chunker *c, uint64_t ms, uint64_t ml, const uint8_t *d,
                         size_t len, size_t min, size_t avg)
{
    size_t n = len < bkp_chunker_max(c) ? len : bkp_chunker_max(c);
    uint64_t fp = 0;
    for (size_t i = min; i < n; i++) {
        fp = (fp << 1) + gear[d[i]];
        if (!(fp & (i < avg ? ms : ml)))
            return i + 1;
    }
    return n;
}

static void test_middling_chunker(void **state)
{
    (void)state;
    const size_t min = 4096, avg = 32768, max = 262144, len = 3U << 20;
    const uint64_t ms = ~0ULL << (64 - 17), ml = ~0ULL << (64 - 13);
    static const uint8_t seed[32] = {4, 4, 4};
    bkp_chunker *c = NULL;
    assert_int_equal(bkp_chunker_new(seed, min, avg, max, &c), 0);
    randombytes_buf_deterministic(gear, sizeof(gear), seed);
    uint8_t *d = malloc(len);
    assert_non_null(d);
    for (int kind = 0; kind < KINDS; kind++) {
        fill(d, len, kind, 21);
        size_t forced = 0;
        for (size_t off = 0; off < len;) {
            size_t want = oracle_cut(c, ms, ml, d + off, len - off, min, avg);
            assert_int_equal(bkp_chunker_cut(c, d + off, len - off, true), want);
            bkp_cut_state st = {0, 0};
            size_t got = 0;
            for (size_t have = 0; !got;) {
                have += 1 + (have * 7 + off) % 40000;
                have = have < len - off ? have : len - off;
                got = bkp_chunker_cut_more(c, &st, d + off, have, have == len - off);
            }
            assert_int_equal(got, want);
            forced += want == max;
            off += want;
        }
        if (kind == ZEROS)
            assert_true(forced > 0); /* the forced cut at max is crossed too */
    }
    free(d);
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
        cmocka_unit_test_setup(test_middling_chunker, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
